/*
 * sp_scenario_finish: the checks that need the whole plan (file and
 * command line merged), and `stampede validate`.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_scenario_int.h"
#include "sp_values.h"

/* Finish-time errors: prefixed by the file when there is one. */
static int sp_finish_error(struct sp_plan *pl, struct sp_scenario_err *e,
			   const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
sp_finish_error(struct sp_plan *pl, struct sp_scenario_err *e, const char *fmt,
		...)
{
	const struct sp_priv *pv = sp_run_plan_of(pl)->priv;
	char why[SP_WHY];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (pv != NULL && pv->loaded)
		return sp_err_set(e, "%s: %s", sp_run_plan_of(pl)->source, why);
	return sp_err_set(e, "%s", why);
}

static int
sp_set_empty(const uint64_t *set)
{
	for (unsigned i = 0; i < (SP_PLAN_MAX_STATUS + 63) / 64; i++)
		if (set[i] != 0)
			return 0;
	return 1;
}

/*
 * Each request's expected statuses: its own expect_status, else
 * --expect-status, else the file's, else 100-399. A status check can only
 * judge a response whose status was expected (an unexpected one fails as
 * http_status first), so a checked status outside the set is a mistake.
 */
static int
sp_finish_expect(struct sp_plan *pl, struct sp_scenario_err *e)
{
	struct sp_priv *pv = sp_run_plan_of(pl)->priv;
	const uint64_t *dflt = !sp_set_empty(pv->cli_expect) ? pv->cli_expect :
			       !sp_set_empty(pv->file_expect) ?
							       pv->file_expect :
							       NULL;

	for (uint32_t i = 0; i < pl->nrequests; i++) {
		struct sp_request *r = &pv->req[i];

		if (sp_set_empty(r->expect_set) && dflt != NULL)
			memcpy(r->expect_set, dflt, sizeof(r->expect_set));
		else if (sp_set_empty(r->expect_set))
			sp_status_set_range(r->expect_set, SP_EXPECT_DEFAULT_LO,
					    SP_EXPECT_DEFAULT_HI);
		if (!r->check.has_status)
			continue;
		for (unsigned c = 0; c < SP_PLAN_MAX_STATUS; c++)
			if ((r->check.status_set[c / 64] >> (c % 64) & 1) &&
			    !(r->expect_set[c / 64] >> (c % 64) & 1))
				return sp_finish_error(
					pl, e,
					"request '%s': its check "
					"of status %u can never pass: a "
					"%u fails the request as http_status "
					"before checks run (add %u to "
					"expect_status)",
					r->name, c, c, c);
	}
	return 0;
}

/* The tls: keys against the target: they mean something for https://
 * only, a client certificate needs its key; the name the stream is told
 * (SNI, the certificate's name). */
static int
sp_finish_tls(struct sp_run_plan *rp, struct sp_scenario_err *e)
{
	const struct sp_run_tls *t = &rp->tls;
	struct sp_plan *pl = &rp->eng;

	int ws = rp->scheme != NULL && rp->scheme[0] == 'w';

	if (!t->on && (t->insecure || t->ca || t->cert || t->key ||
		       t->ciphers || t->curves || t->psk || t->server_name ||
		       t->engine || t->resume != SP_RUN_RESUME_SESSION))
		return sp_finish_error(pl, e,
				       "tls settings are given but the "
				       "target is %s://, not %s://",
				       ws ? "ws" : "http",
				       ws ? "wss" : "https");
	if ((t->cert == NULL) != (t->key == NULL))
		return sp_finish_error(pl, e,
				       "tls: a client certificate needs "
				       "both cert and key");
	pl->peer_name = t->server_name != NULL ? t->server_name :
						 rp->target_name;
	return 0;
}

/*
 * data: {per: vu, unique: true}: VU number N keeps row N - 1 (vu_offset
 * included), so every VU the run can have needs a row of its own: the
 * plan's most VUs (vus, the stages' peak, the open model's max_vus) from
 * vu_offset + 1. Per iteration, running out is the run's business
 * (it_data_exhausted), not an error.
 */
static int
sp_finish_data(struct sp_run_plan *rp, struct sp_scenario_err *e)
{
	struct sp_plan *pl = &rp->eng;
	const struct sp_data *d = pl->data;
	uint64_t need;

	if (d == NULL || !d->unique || d->per != SP_DATA_PER_VU)
		return 0;
	need = pl->vu_offset + rp->max_vus;
	if (need <= d->nrows)
		return 0;
	if (pl->vu_offset != 0)
		return sp_finish_error(
			pl, e,
			"data: unique: %s has %u rows, the run can have "
			"%u VUs numbered from %llu (vu_offset %llu): "
			"%llu rows are needed",
			d->file != NULL ? d->file : "the data file", d->nrows,
			rp->max_vus, (unsigned long long)pl->vu_offset + 1,
			(unsigned long long)pl->vu_offset,
			(unsigned long long)need);
	return sp_finish_error(pl, e,
			       "data: unique: %s has %u rows, the run can "
			       "have %u VUs",
			       d->file != NULL ? d->file : "the data file",
			       d->nrows, rp->max_vus);
}

int
sp_scenario_finish(struct sp_run_plan *rp, struct sp_scenario_err *e)
{
	struct sp_plan *pl = &rp->eng;
	struct sp_priv *pv = sp_priv(pl);
	uint64_t sum = 0, top;
	uint32_t on = 0, i;
	double peak;

	if (pv == NULL)
		return sp_err_set(e, "out of memory");
	if (pl->host == NULL)
		return sp_finish_error(pl, e,
				       "no target: give target: in the file or "
				       "--url");
	if (pl->nscenarios == 0)
		return sp_finish_error(
			pl, e,
			"no scenario: give scenarios: in the file "
			"or --url");
	if (sp_finish_tls(rp, e) < 0)
		return -1;
	/* The lifecycle's scenarios are never picked: --tags does not
	 * choose them, and they are not the load's. */
	for (i = 0; i < pl->nscenarios; i++) {
		struct sp_scenario *sc = &pv->scn[i];

		sc->enabled = sc->kind == SP_SCEN_LOAD &&
			      (pv->tags == NULL || sp_has_tag(sc, pv->tags)) &&
			      (pv->exclude_tags == NULL ||
			       !sp_has_tag(sc, pv->exclude_tags));
		on += (uint32_t)sc->enabled;
	}
	if (on == 0) {
		if (pv->tags != NULL && pv->exclude_tags != NULL)
			return sp_err_set(e,
					  "--tags %s --exclude-tags %s left no "
					  "scenario to run",
					  pv->tags, pv->exclude_tags);
		if (pv->tags != NULL)
			return sp_err_set(e,
					  "--tags %s left no scenario to run",
					  pv->tags);
		return sp_err_set(e,
				  "--exclude-tags %s left no scenario to run",
				  pv->exclude_tags);
	}

	/* Own loads: whether the top-level one is needed, the run's length
	 * when it is not. */
	if (sp_loads_pre(rp, e) < 0)
		return -1;
	/*
	 * The command line wins over the file, key by key, but stages and a
	 * constant load are two ways to say one thing: --stages replaces
	 * the file's vus/rate, --vus or --rate alone replaces the file's
	 * stages (the run keeps their length unless --duration says
	 * otherwise). Within one source, stages and a duration conflict.
	 */
	if (pl->nstages > 0)
		for (i = 0; i < pl->nstages; i++)
			sum += pl->stages[i].duration_us;
	if (pv->cli_keys & SP_K_STAGES) {
		if (pv->cli_keys & SP_K_DURATION)
			return sp_err_set(e,
					  "--duration: give either --duration "
					  "or --stages, not both");
	} else if (pv->cli_keys & (SP_K_VUS | SP_K_RATE)) {
		if (pl->nstages > 0) {
			pl->nstages = 0;
			if (!(pv->cli_keys & SP_K_DURATION))
				pl->duration_us = sum;
		}
	} else if (pl->nstages > 0 && (pv->cli_keys & SP_K_DURATION)) {
		return sp_err_set(
			e, "--duration: the file's stages set the run's "
			   "length; give --stages, or --vus/--rate with it");
	}
	if (pl->nstages > 0) {
		pl->duration_us = sum;
		peak = 0;
		for (i = 0; i < pl->nstages; i++) {
			if (pl->model == SP_MODEL_CLOSED &&
			    pl->stages[i].target !=
				    (double)(uint64_t)pl->stages[i].target)
				return sp_finish_error(
					pl, e,
					"stages: a closed model's "
					"targets are VU counts (stage "
					"%u: %g)",
					i + 1, pl->stages[i].target);
			if (pl->stages[i].target > peak)
				peak = pl->stages[i].target;
		}
		if (pl->model == SP_MODEL_CLOSED && peak < 1)
			return sp_finish_error(pl, e,
					       "stages: no stage has a VU");
		if (pl->model == SP_MODEL_OPEN && peak <= 0)
			return sp_finish_error(pl, e,
					       "stages: no stage has a rate");
	} else if (pl->model == SP_MODEL_CLOSED) {
		if (pl->vus == 0)
			return sp_finish_error(pl, e,
					       "the closed model needs vus or "
					       "stages");
		peak = pl->vus;
	} else {
		if (pl->rate <= 0)
			return sp_finish_error(pl, e,
					       "the open model needs rate or "
					       "stages");
		peak = pl->rate;
	}
	if (pl->duration_us == 0)
		return sp_finish_error(pl, e, "the run's duration is 0");
	/* Options the model would not read: said, not ignored. */
	if ((pv->cli_keys & (SP_K_VUS | SP_K_RATE)) == (SP_K_VUS | SP_K_RATE))
		return sp_err_set(e,
				  "--vus: give --vus (closed model) or --rate "
				  "(open model), not both");
	if ((pv->cli_keys & SP_K_VUS) && pl->model == SP_MODEL_OPEN)
		return sp_err_set(
			e, "--vus: the model is open (iterations start "
			   "at a rate); give --model closed, or --rate and "
			   "--max-vus");
	if ((pv->cli_keys & SP_K_RATE) && pl->model == SP_MODEL_CLOSED)
		return sp_err_set(
			e, "--rate: the closed model has no arrival rate "
			   "(its VUs loop); leave out --model closed");
	if ((pv->cli_keys & SP_K_MAX_VUS) && pl->model == SP_MODEL_CLOSED)
		return sp_err_set(e,
				  "--max-vus: only the open model has it (the "
				  "closed model runs --vus VUs, or the stages' "
				  "peak)");
	if (pv->cli_grace_set && !pv->cli_abort)
		return sp_err_set(e, "--abort-grace: only with --abort-on-fail "
				     "(it delays the command line's aborts)");
	/* Each stage is within the bound, their sum may not be. */
	if (pl->duration_us > SP_VAL_MAX_DURATION_US)
		return sp_finish_error(
			pl, e,
			"stages: together %llus, longer than " SP_VAL_MAX_DURATION_STR
			" (a week), the longest "
			"stampede takes",
			(unsigned long long)(pl->duration_us / SP_US_PER_S));
	/* The command line's thresholds: names known only now (--url may
	 * have made the scenario), --abort-on-fail wherever it was given. */
	for (i = pv->th_cli_set ? pv->th_cli : rp->nthresholds;
	     i < rp->nthresholds; i++) {
		char why[SP_WHY];

		if (sp_th_resolve(pl, &pv->th[i], why) < 0)
			return sp_err_set(e, "--threshold: '%s': %s",
					  pv->th[i].expr, why);
		if (pv->cli_abort) {
			pv->th[i].abort = 1;
			pv->th[i].grace_us = pv->cli_grace_us;
		}
	}
	{
		char why[SP_WHY];

		if (sp_ws_finish(pl, why) < 0)
			return sp_finish_error(pl, e, "%s", why);
	}
	if (sp_finish_expect(pl, e) < 0)
		return -1;
	/* The command line's templates (--url's path) name variables too;
	 * the file's were checked where they stand. */
	{
		char why[SP_WHY];

		if (sp_vars_check(pl, NULL, why, sizeof(why)) < 0)
			return sp_finish_error(pl, e, "%s", why);
	}
	/* A capacity hunt judges its steps by the thresholds, the global
	 * ones: without one it would have nothing to find. */
	if (rp->bp.on) {
		uint32_t nglobal = 0;

		for (uint32_t k = 0; k < rp->nthresholds; k++)
			nglobal += rp->thresholds[k].scope == SP_TH_GLOBAL;
		if (nglobal == 0)
			return sp_err_set(
				e,
				"%s: load: model breakpoint: give its "
				"SLOs as thresholds (for example "
				"'p(99) < 200ms', 'errors < 0.5%%'); "
				"a scenario's or a request's are "
				"not judged step by step",
				rp->source);
		if (pl->nstages != 0)
			return sp_err_set(
				e,
				"%s: load: model breakpoint moves the "
				"load itself: no stages",
				rp->source);
	}
	/* peak <= SP_MAX_RATE: it fits, and rounds up to whole VUs. */
	top = (uint64_t)peak + ((double)(uint64_t)peak < peak);
	if (pl->model == SP_MODEL_CLOSED)
		sp_run_plan_of(pl)->max_vus = (uint32_t)top;
	else if (sp_run_plan_of(pl)->max_vus == 0)
		sp_run_plan_of(pl)->max_vus = (uint32_t)(top > 100 ? top : 100);
	/* Each own load within the run; rp->max_vus the shared load's. */
	if (sp_loads_post(rp, e) < 0)
		return -1;
	return sp_finish_data(rp, e);
}

/* ---- stampede validate ---- */

static const char sp_validate_help[] =
	"usage: stampede validate FILE\n"
	"\n"
	"Load a scenario file and check everything a run would check, without\n"
	"touching the network. Prints one summary line on success, or\n"
	"FILE:LINE:COL: what is wrong.\n"
	"\n"
	"  -h, --help   this text\n"
	"  --version    stampede's and DPDK's versions\n"
	"\n"
	"exit codes: 0 valid, 2 not valid (or usage)\n";

/* Go-style: 1h2m3s, 1m0s, 30s, 1.5s, 500ms. */
static void
sp_fmt_dur(uint64_t us, char *buf, size_t n)
{
	uint64_t s = us / SP_US_PER_S, ms = us % SP_US_PER_S / 1000;
	char frac[8] = "";

	if (us < SP_US_PER_S) {
		snprintf(buf, n, "%llums", (unsigned long long)(us / 1000));
		return;
	}
	if (ms != 0) {
		snprintf(frac, sizeof(frac), ".%03u", (unsigned)ms);
		for (size_t i = strlen(frac) - 1; frac[i] == '0'; i--)
			frac[i] = '\0';
	}
	if (s >= 3600)
		snprintf(buf, n, "%lluh%llum%llu%ss",
			 (unsigned long long)(s / 3600),
			 (unsigned long long)(s % 3600 / 60),
			 (unsigned long long)(s % 60), frac);
	else if (s >= 60)
		snprintf(buf, n, "%llum%llu%ss", (unsigned long long)(s / 60),
			 (unsigned long long)(s % 60), frac);
	else
		snprintf(buf, n, "%llu%ss", (unsigned long long)s, frac);
}

int
sp_cmd_validate(int argc, char **argv)
{
	struct sp_scenario_err e = { { 0 } };
	struct sp_run_plan rp;
	const struct sp_plan *pl = &rp.eng;
	char dur[48], load[160], ws[48] = "", life[48] = "";
	const char *file = NULL;
	unsigned nws = 0, nlife = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			fputs(sp_validate_help, stdout);
			return SP_VALIDATE_OK;
		}
		if (argv[i][0] == '-' || file != NULL) {
			fprintf(stderr,
				"stampede validate: unexpected '%s' "
				"(see stampede validate --help)\n",
				argv[i]);
			return SP_VALIDATE_USAGE;
		}
		file = argv[i];
	}
	if (file == NULL) {
		fputs(sp_validate_help, stderr);
		return SP_VALIDATE_USAGE;
	}
	sp_scenario_init(&rp);
	if (sp_scenario_load(&rp, file, &e) < 0 ||
	    sp_scenario_finish(&rp, &e) < 0) {
		fprintf(stderr, "%s\n", e.msg);
		sp_scenario_free(&rp);
		return SP_VALIDATE_USAGE;
	}
	sp_fmt_dur(pl->duration_us, dur, sizeof(dur));
	if (rp.bp.on && rp.bp.control == SP_BP_VUS)
		snprintf(load, sizeof(load),
			 "capacity hunt over VUs from %g, at most %g",
			 rp.bp.start > 0 ? rp.bp.start : 1, rp.bp.max);
	else if (rp.bp.on)
		snprintf(
			load, sizeof(load),
			"capacity hunt over the arrival rate from %g/s, at most "
			"%u VUs",
			rp.bp.start > 0 ? rp.bp.start : 100, rp.max_vus);
	else if (pl->model == SP_MODEL_CLOSED && pl->nstages == 0)
		snprintf(load, sizeof(load), "closed model, %u VU%s", pl->vus,
			 pl->vus == 1 ? "" : "s");
	else if (pl->model == SP_MODEL_CLOSED)
		snprintf(load, sizeof(load),
			 "closed model, %u stage%s up to %u "
			 "VUs",
			 pl->nstages, pl->nstages == 1 ? "" : "s", rp.max_vus);
	else if (pl->nstages == 0)
		snprintf(load, sizeof(load),
			 "open model, %g iterations/s, at "
			 "most %u VUs",
			 pl->rate, rp.max_vus);
	else
		snprintf(load, sizeof(load),
			 "open model, %u stage%s, at most %u "
			 "VUs",
			 pl->nstages, pl->nstages == 1 ? "" : "s", rp.max_vus);
	{
		uint32_t own = 0;

		for (uint32_t i = 0; i < pl->nscenarios; i++)
			own += pl->scenarios[i].enabled &&
			       pl->scenarios[i].load != NULL;
		if (own != 0 && rp.max_vus == 0)
			snprintf(load, sizeof(load),
				 "%u scenario%s with a load of %s own", own,
				 own == 1 ? "" : "s",
				 own == 1 ? "its" : "their");
		else if (own != 0)
			snprintf(load + strlen(load),
				 sizeof(load) - strlen(load),
				 ", and %u scenario%s with a load of %s own",
				 own, own == 1 ? "" : "s",
				 own == 1 ? "its" : "their");
	}
	for (uint32_t i = 0; i < pl->nrequests; i++)
		nws += pl->requests[i].ws_upgrade;
	if (nws != 0)
		snprintf(ws, sizeof(ws), " (%u WebSocket upgrade%s)", nws,
			 nws == 1 ? "" : "s");
	for (uint32_t i = 0; i < pl->nscenarios; i++)
		nlife += pl->scenarios[i].kind != SP_SCEN_LOAD;
	if (nlife != 0)
		snprintf(life, sizeof(life), " (and %u lifecycle step list%s)",
			 nlife, nlife == 1 ? "" : "s");
	printf("%s: ok: %u scenario%s%s, %u request%s%s, %s, %s\n", file,
	       pl->nscenarios - nlife, pl->nscenarios - nlife == 1 ? "" : "s",
	       life, pl->nrequests, pl->nrequests == 1 ? "" : "s", ws, load,
	       dur);
	/* A name is only looked up in the file's own resolve: map:
	 * validate touches no network, DNS included. */
	if (rp.target_name != NULL) {
		const struct sp_resolve *r = sp_lookup(&rp, rp.target_name,
						       pl->dst_port);

		if (r != NULL)
			printf("%s: target %s is %u.%u.%u.%u (resolve:)\n",
			       file, rp.target_name, r->ip >> 24,
			       (r->ip >> 16) & 0xff, (r->ip >> 8) & 0xff,
			       r->ip & 0xff);
		else
			printf("%s: target %s: resolved when the run starts "
			       "(validate does no DNS lookup)\n",
			       file, rp.target_name);
	}
	sp_scenario_free(&rp);
	return SP_VALIDATE_OK;
}
