/*
 * Scenario files (YAML, through libyaml) and command-line overrides into
 * one validated sp_plan (see sp_scenario.h for the order of calls).
 *
 * The file goes through libyaml's document loader: the whole file becomes
 * a node graph first, so that every error can name the line and column of
 * the node that is wrong, and so that keys are handled in the order
 * validation needs (the data file before the templates that name its
 * columns) rather than the order they were written in.
 *
 * A file key and the command-line option of the same name share one value
 * parser (sp_load_key), which writes why a value is wrong into a buffer;
 * the caller prefixes it with "FILE:LINE:COL: key" or "--option".
 *
 * Memory: every block behind the plan comes from sp_mem_alloc, a list kept
 * in the plan's private state (sp_run_plan_of(pl)->priv), so sp_scenario_free releases a
 * plan in any state, including one whose load failed halfway. Nothing is
 * allocated after sp_scenario_finish.
 *
 * The loader is split by subject (see sp_scenario_int.h); nothing in it
 * includes DPDK: the unit test and the fuzz target build its files alone.
 */

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sp_scenario_int.h"
#include "sp_threshold.h"
#include "sp_values.h"

/* ---- memory ---- */

struct sp_priv *
sp_priv(struct sp_plan *pl)
{
	if (sp_run_plan_of(pl)->priv == NULL)
		sp_run_plan_of(pl)->priv = calloc(1, sizeof(struct sp_priv));
	return sp_run_plan_of(pl)->priv;
}

static struct sp_mem *
sp_mem_hdr(void *p)
{
	return (struct sp_mem *)(void *)((char *)p -
					 offsetof(struct sp_mem, data));
}

/* Zeroed, owned by the plan. */
static void *
sp_mem_realloc(struct sp_plan *pl, void *p, size_t size)
{
	struct sp_priv *pv = sp_priv(pl);
	struct sp_mem *h = p != NULL ? sp_mem_hdr(p) : NULL;
	size_t old = h != NULL ? h->size : 0;
	struct sp_mem *nh;

	if (pv == NULL || size > SP_MAX_MEM - pv->mem_bytes + old)
		return NULL;
	nh = realloc(h, sizeof(*nh) + size);
	if (nh == NULL)
		return NULL;
	if (h == NULL) {
		nh->prev = NULL;
		nh->next = pv->mem;
	}
	if (nh->prev != NULL)
		nh->prev->next = nh;
	else
		pv->mem = nh;
	if (nh->next != NULL)
		nh->next->prev = nh;
	if (size > old)
		memset((char *)nh->data + old, 0, size - old);
	nh->size = size;
	pv->mem_bytes = pv->mem_bytes - old + size;
	return nh->data;
}

void *
sp_mem_alloc(struct sp_plan *pl, size_t size)
{
	return sp_mem_realloc(pl, NULL, size);
}

/* Room for @need elements in @arr (capacity @cap), doubling. */
void *
sp_mem_grow(struct sp_plan *pl, void *arr, uint32_t *cap, uint32_t need,
	    size_t elem)
{
	uint32_t ncap;
	void *n;

	if (need <= *cap)
		return arr;
	ncap = *cap < 8 ? 8 : *cap;
	while (ncap < need)
		ncap *= 2;
	n = sp_mem_realloc(pl, arr, (size_t)ncap * elem);
	if (n != NULL)
		*cap = ncap;
	return n;
}

void *
sp_mem_grow_cb(void *pl, void *arr, uint32_t *cap, uint32_t need, size_t elem)
{
	return sp_mem_grow(pl, arr, cap, need, elem);
}

char *
sp_mem_strndup(struct sp_plan *pl, const char *s, size_t n)
{
	char *d = sp_mem_alloc(pl, n + 1);

	if (d != NULL)
		memcpy(d, s, n);
	return d;
}

char *
sp_mem_strdup(struct sp_plan *pl, const char *s)
{
	return sp_mem_strndup(pl, s, strlen(s));
}

/* ---- errors ---- */

int
sp_why(char *why, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, SP_WHY, fmt, ap);
	va_end(ap);
	return -1;
}

/* The message is one line whatever the file held: a quoted YAML string
 * may carry a newline into it. */
static void
sp_err_oneline(struct sp_scenario_err *e)
{
	for (char *p = e->msg; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
}

int
sp_err_set(struct sp_scenario_err *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	sp_err_oneline(e);
	return -1;
}

/* "FILE:LINE:COL: ..." at node @n (libyaml marks are 0-based). */
int
sp_node_error(struct sp_loader *ld, const yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;
	int k;

	k = snprintf(ld->e->msg, sizeof(ld->e->msg), "%s:%zu:%zu: ", ld->name,
		     n->start_mark.line + 1, n->start_mark.column + 1);
	if (k < 0 || (size_t)k >= sizeof(ld->e->msg))
		k = 0;
	va_start(ap, fmt);
	vsnprintf(ld->e->msg + k, sizeof(ld->e->msg) - (size_t)k, fmt, ap);
	va_end(ap);
	sp_err_oneline(ld->e);
	return -1;
}

/* ---- YAML helpers ---- */

yaml_node_t *
sp_yaml_node(struct sp_loader *ld, int id)
{
	return yaml_document_get_node(&ld->doc, id);
}

const char *
sp_yaml_kind(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_SCALAR_NODE:
		return "a scalar";
	case YAML_SEQUENCE_NODE:
		return "a list";
	case YAML_MAPPING_NODE:
		return "a mapping";
	case YAML_NO_NODE:
		break;
	}
	return "nothing";
}

/* A scalar without NUL bytes (a double-quoted "\0" would cut it short
 * everywhere it is used as a C string). */
int
sp_yaml_str(struct sp_loader *ld, const yaml_node_t *n, const char *key,
	    const char **s)
{
	if (n->type != YAML_SCALAR_NODE)
		return sp_node_error(ld, n, "%s: expected a scalar, got %s",
				     key, sp_yaml_kind(n));
	if (strlen((const char *)n->data.scalar.value) != n->data.scalar.length)
		return sp_node_error(ld, n, "%s: holds a NUL byte", key);
	*s = (const char *)n->data.scalar.value;
	return 0;
}

int
sp_yaml_u64(struct sp_loader *ld, const yaml_node_t *n, const char *key,
	    uint64_t min, uint64_t max, uint64_t *v)
{
	const char *s;

	if (sp_yaml_str(ld, n, key, &s) < 0)
		return -1;
	if (sp_val_u64(s, min, max, v, ld->why) < 0)
		return sp_node_error(ld, n, "%s: %s", key, ld->why);
	return 0;
}

int
sp_yaml_dur(struct sp_loader *ld, const yaml_node_t *n, const char *key,
	    uint64_t *us)
{
	const char *s;

	if (sp_yaml_str(ld, n, key, &s) < 0)
		return -1;
	if (sp_val_duration(s, us, ld->why) < 0)
		return sp_node_error(ld, n, "%s: %s", key, ld->why);
	return 0;
}

/* A mapping whose keys are all scalars from @keys (NULL-terminated), each
 * at most once. */
int
sp_yaml_map(struct sp_loader *ld, const yaml_node_t *n, const char *what,
	    const char *const *keys)
{
	yaml_node_pair_t *p, *q;

	if (n->type != YAML_MAPPING_NODE)
		return sp_node_error(ld, n, "%s: expected a mapping, got %s",
				     what, sp_yaml_kind(n));
	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = sp_yaml_node(ld, p->key);
		const char *ks;
		size_t i;

		if (k->type != YAML_SCALAR_NODE)
			return sp_node_error(
				ld, k, "%s: a key must be a scalar", what);
		ks = (const char *)k->data.scalar.value;
		for (i = 0; keys[i] != NULL; i++)
			if (strcmp(ks, keys[i]) == 0)
				break;
		if (keys[i] == NULL)
			return sp_node_error(ld, k, "unknown key '%s' in %s",
					     ks, what);
		for (q = n->data.mapping.pairs.start; q < p; q++)
			if (strcmp((const char *)sp_yaml_node(ld, q->key)
					   ->data.scalar.value,
				   ks) == 0)
				return sp_node_error(ld, k,
						     "%s: duplicate key '%s'",
						     what, ks);
	}
	return 0;
}

/* The value of @key in mapping @n (checked by sp_yaml_map), or NULL. */
yaml_node_t *
sp_yaml_get(struct sp_loader *ld, const yaml_node_t *n, const char *key)
{
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
	     p < n->data.mapping.pairs.top; p++)
		if (strcmp((const char *)sp_yaml_node(ld, p->key)
				   ->data.scalar.value,
			   key) == 0)
			return sp_yaml_node(ld, p->value);
	return NULL;
}

int
sp_yaml_seq(struct sp_loader *ld, const yaml_node_t *n, const char *key)
{
	if (n->type != YAML_SEQUENCE_NODE)
		return sp_node_error(ld, n, "%s: expected a list, got %s", key,
				     sp_yaml_kind(n));
	if (n->data.sequence.items.top == n->data.sequence.items.start)
		return sp_node_error(ld, n, "%s: empty list", key);
	return 0;
}

/* ---- target, network, load ---- */

static int
sp_file_target(struct sp_loader *ld, const yaml_node_t *n)
{
	struct sp_url u;
	const char *s;

	if (sp_yaml_str(ld, n, "target", &s) < 0)
		return -1;
	if (sp_val_url(s, 0, &u, ld->why) < 0 ||
	    sp_set_target(ld->pl, &u, ld->why) < 0)
		return sp_node_error(ld, n, "target: %s", ld->why);
	return 0;
}

/* tls: { verify: false, ca: FILE, resume: none, engine: openssl, ... }
 * (sp_tls_key) */
static int
sp_file_tls(struct sp_loader *ld, const yaml_node_t *n)
{
	const char *slash = strrchr(ld->name, '/');
	size_t dirlen = slash != NULL ? (size_t)(slash - ld->name) : 0;

	if (n->type != YAML_MAPPING_NODE)
		return sp_node_error(ld, n,
				     "tls: expected a mapping (verify, "
				     "ca, cert, key, ciphers, curves, engine, psk, "
				     "resume, server_name), got %s",
				     sp_yaml_kind(n));
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
	     p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *k = sp_yaml_node(ld, p->key);
		yaml_node_t *v = sp_yaml_node(ld, p->value);
		const char *key, *val;

		if (sp_yaml_str(ld, k, "tls", &key) < 0 ||
		    sp_yaml_str(ld, v, key, &val) < 0)
			return -1;
		if (sp_tls_key(ld->pl, key, val, ld->name, dirlen, ld->why) < 0)
			return sp_node_error(ld, k, "%s", ld->why);
	}
	return 0;
}

/* resolve: { NAME: ADDR, "NAME:PORT": ADDR } */
static int
sp_file_resolve(struct sp_loader *ld, const yaml_node_t *n)
{
	if (n->type != YAML_MAPPING_NODE)
		return sp_node_error(ld, n,
				     "resolve: expected a mapping of names to "
				     "addresses, got %s",
				     sp_yaml_kind(n));
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
	     p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *k = sp_yaml_node(ld, p->key),
			    *v = sp_yaml_node(ld, p->value);
		const char *name, *addr;

		if (sp_yaml_str(ld, k, "resolve", &name) < 0 ||
		    sp_yaml_str(ld, v, name, &addr) < 0)
			return -1;
		if (sp_add_resolve(ld->pl, name, addr, ld->why) < 0)
			return sp_node_error(ld, k, "resolve: %s", ld->why);
	}
	return 0;
}

static int
sp_file_network(struct sp_loader *ld, const yaml_node_t *n)
{
	static const char *const keys[] = {
		"port", "ip",        "gateway",      "prefix_len", "cores",
		"eal",  "placement", "kernel_blind", NULL,
	};
	struct sp_run_net *net = &sp_run_plan_of(ld->pl)->net;
	const char **dst[] = {
		&net->port,  &net->ip,  &net->gateway,   &net->prefix_len,
		&net->cores, &net->eal, &net->placement, &net->kernel_blind,
	};
	uint64_t x;
	uint32_t ip, cnt;
	int want, on;

	if (sp_yaml_map(ld, n, "network", keys) < 0)
		return -1;
	for (size_t i = 0; keys[i] != NULL; i++) {
		yaml_node_t *v = sp_yaml_get(ld, n, keys[i]);
		const char *s;

		if (v == NULL)
			continue;
		if (sp_yaml_str(ld, v, keys[i], &s) < 0)
			return -1;
		/* The app parses these again with its own rules; catch here
		 * what has a position to show. */
		if (i == 1 && sp_val_ip_range(s, &ip, &cnt, ld->why) < 0)
			return sp_node_error(ld, v, "%s: %s", keys[i], ld->why);
		if (i == 2 && sp_ipv4_peer(s, &ip, ld->why) < 0)
			return sp_node_error(ld, v, "%s: %s", keys[i], ld->why);
		if (i == 3 && sp_val_u64(s, 1, 30, &x, ld->why) < 0)
			return sp_node_error(ld, v, "%s: %s", keys[i], ld->why);
		/* sp_app.h's SP_MAX_CORES */
		if (i == 4 && sp_val_u64(s, 1, 16, &x, ld->why) < 0)
			return sp_node_error(ld, v, "%s: %s", keys[i], ld->why);
		if (i == 0 && *s == '\0')
			return sp_node_error(ld, v, "port: empty");
		if (i == 6 && sp_val_placement(s, &want, ld->why) < 0)
			return sp_node_error(ld, v, "%s: %s", keys[i], ld->why);
		if (i == 7) {
			if (sp_val_bool(s, &on, ld->why) < 0)
				return sp_node_error(ld, v, "%s: %s", keys[i],
						     ld->why);
			s = on ? "true" : "false";
		}
		*dst[i] = sp_mem_strdup(ld->pl, s);
		if (*dst[i] == NULL)
			return sp_node_error(ld, v, "out of memory");
	}
	return 0;
}

/* A stages: list into @stages (room for SP_PLAN_MAX_STAGES), @nstages:
 * the top-level load's or a scenario's. */
int
sp_stage_list(struct sp_loader *ld, const yaml_node_t *n,
	      struct sp_stage *stages, uint32_t *nstages)
{
	static const char *const keys[] = { "duration", "target", NULL };
	uint32_t k = 0;

	if (sp_yaml_seq(ld, n, "stages") < 0)
		return -1;
	for (yaml_node_item_t *it = n->data.sequence.items.start;
	     it < n->data.sequence.items.top; it++, k++) {
		yaml_node_t *st = sp_yaml_node(ld, *it), *d, *t;
		const char *s;

		if (k == SP_PLAN_MAX_STAGES)
			return sp_node_error(ld, st,
					     "stages: more than %d stages",
					     SP_PLAN_MAX_STAGES);
		if (sp_yaml_map(ld, st, "stage", keys) < 0)
			return -1;
		d = sp_yaml_get(ld, st, "duration");
		t = sp_yaml_get(ld, st, "target");
		if (d == NULL)
			return sp_node_error(ld, st, "stage %u has no duration",
					     k + 1);
		if (t == NULL)
			return sp_node_error(ld, st, "stage %u has no target",
					     k + 1);
		if (sp_yaml_dur(ld, d, "duration", &stages[k].duration_us) <
			    0 ||
		    sp_yaml_str(ld, t, "target", &s) < 0)
			return -1;
		if (sp_val_num(s, &stages[k].target, ld->why) < 0)
			return sp_node_error(ld, t, "target: %s", ld->why);
	}
	*nstages = k;
	return 0;
}

static int
sp_file_load(struct sp_loader *ld, const yaml_node_t *n)
{
	static const char *const keys[] = {
		"model",
		"vus",
		"rate",
		"max_vus",
		"duration",
		"stages",
		"connect_timeout",
		"response_timeout",
		"vu_offset",
		NULL,
	};
	yaml_node_t *dur = NULL, *model, *vus, *rate, *max;
	unsigned bit;

	/* A capacity hunt has knobs of its own (scenario_bp.c). */
	model = n->type == YAML_MAPPING_NODE ? sp_yaml_get(ld, n, "model") :
					       NULL;
	if (model != NULL && model->type == YAML_SCALAR_NODE &&
	    strcmp((const char *)model->data.scalar.value, "breakpoint") == 0)
		return sp_file_bp(ld, n);
	if (sp_yaml_map(ld, n, "load", keys) < 0)
		return -1;
	for (size_t i = 0; keys[i] != NULL; i++) {
		yaml_node_t *v = sp_yaml_get(ld, n, keys[i]);
		const char *s;

		if (v == NULL)
			continue;
		if (strcmp(keys[i], "duration") == 0)
			dur = v;
		if (strcmp(keys[i], "stages") == 0 &&
		    v->type == YAML_SEQUENCE_NODE) {
			if (sp_stage_list(ld, v, ld->pl->stages,
					  &ld->pl->nstages) < 0)
				return -1;
			ld->pv->file_keys |= SP_K_STAGES;
			continue;
		}
		if (sp_yaml_str(ld, v, keys[i], &s) < 0)
			return -1;
		if (sp_load_key(ld->pl, keys[i], s, &bit, ld->why) < 0)
			return sp_node_error(ld, v, "%s: %s", keys[i], ld->why);
		ld->pv->file_keys |= bit;
	}
	/* The stages' sum is the run's length: a duration beside them would
	 * say something else. */
	if ((ld->pv->file_keys & SP_K_STAGES) && dur != NULL)
		return sp_node_error(ld, dur,
				     "duration: give either duration or "
				     "stages, not both");
	/* A key the model does not read is a mistake, not a no-op. A rate
	 * without a model means the open one, as --rate does. */
	model = sp_yaml_get(ld, n, "model");
	vus = sp_yaml_get(ld, n, "vus");
	rate = sp_yaml_get(ld, n, "rate");
	max = sp_yaml_get(ld, n, "max_vus");
	if (vus != NULL && rate != NULL)
		return sp_node_error(ld, rate,
				     "rate: give vus (closed model) or rate "
				     "(open model), not both");
	if (model == NULL && rate != NULL)
		ld->pl->model = SP_MODEL_OPEN;
	if (ld->pl->model == SP_MODEL_OPEN && vus != NULL)
		return sp_node_error(
			ld, vus,
			"vus: the open model starts iterations "
			"at rate (max_vus bounds them); vus is for the "
			"closed model");
	if (ld->pl->model == SP_MODEL_CLOSED && rate != NULL)
		return sp_node_error(ld, rate,
				     "rate: the closed model has no arrival "
				     "rate (its VUs loop); give model: open");
	if (ld->pl->model == SP_MODEL_CLOSED && max != NULL)
		return sp_node_error(
			ld, max,
			"max_vus: only the open model has it (the "
			"closed model runs vus VUs, or the stages' peak)");
	return 0;
}

/* ---- data file ---- */

/* data: FILE, or {file, per: vu | iteration, order: sequential | random,
 * unique: BOOL} (sp_data). */
static int
sp_file_data(struct sp_loader *ld, const yaml_node_t *n)
{
	static const char *const keys[] = { "file", "per", "order", "unique",
					    NULL };
	const yaml_node_t *fn = n, *v;
	const char *s, *slash;
	uint8_t per = SP_DATA_PER_ITERATION, order = SP_DATA_SEQUENTIAL;
	int unique = 0;
	struct sp_data *d;
	char path[4096];
	size_t len;
	char *buf;
	int rc;

	if (n->type == YAML_MAPPING_NODE) {
		if (sp_yaml_map(ld, n, "data", keys) < 0)
			return -1;
		fn = sp_yaml_get(ld, n, "file");
		if (fn == NULL)
			return sp_node_error(ld, n, "data: file is missing");
		if ((v = sp_yaml_get(ld, n, "per")) != NULL) {
			if (sp_yaml_str(ld, v, "per", &s) < 0)
				return -1;
			if (strcmp(s, "vu") == 0)
				per = SP_DATA_PER_VU;
			else if (strcmp(s, "iteration") != 0)
				return sp_node_error(ld, v,
						     "per: '%s': vu or "
						     "iteration",
						     s);
		}
		if ((v = sp_yaml_get(ld, n, "order")) != NULL) {
			if (sp_yaml_str(ld, v, "order", &s) < 0)
				return -1;
			if (strcmp(s, "random") == 0)
				order = SP_DATA_RANDOM;
			else if (strcmp(s, "sequential") != 0)
				return sp_node_error(ld, v,
						     "order: '%s': sequential "
						     "or random",
						     s);
		}
		if ((v = sp_yaml_get(ld, n, "unique")) != NULL) {
			if (sp_yaml_str(ld, v, "unique", &s) < 0)
				return -1;
			if (sp_val_bool(s, &unique, ld->why) < 0)
				return sp_node_error(ld, v, "unique: %s",
						     ld->why);
		}
	}
	if (sp_yaml_str(ld, fn, "data", &s) < 0)
		return -1;
	if (*s == '\0')
		return sp_node_error(ld, fn, "data: empty file name");
	slash = strrchr(ld->name, '/');
	/* Relative to the YAML file's directory, not to where we run. */
	if (s[0] == '/' || slash == NULL)
		rc = snprintf(path, sizeof(path), "%s", s);
	else
		rc = snprintf(path, sizeof(path), "%.*s/%s",
			      (int)(slash - ld->name), ld->name, s);
	if (rc < 0 || (size_t)rc >= sizeof(path))
		return sp_node_error(ld, fn, "data: path too long");
	buf = sp_read_file(path, s, SP_MAX_DATA, &len, ld->why);
	if (buf == NULL)
		return sp_node_error(ld, fn, "data: %s", ld->why);
	rc = sp_csv_parse(ld->pl, path, buf, len, ld->why);
	free(buf);
	/* The CSV's own FILE:LINE first: that is where the fix goes. */
	if (rc < 0)
		return sp_err_set(ld->e, "%s (data: of %s:%zu:%zu)", ld->why,
				  ld->name, fn->start_mark.line + 1,
				  fn->start_mark.column + 1);
	/* sp_csv_parse's block: the loader's own until the plan is done. */
	d = (struct sp_data *)ld->pl->data;
	d->per = per;
	d->order = order;
	d->unique = (uint8_t)unique;
	d->file = sp_mem_strdup(ld->pl, s);
	if (d->file == NULL)
		return sp_node_error(ld, fn, "out of memory");
	return 0;
}

int
sp_th_add(struct sp_plan *pl, const char *expr, char *why)
{
	struct sp_priv *pv = sp_run_plan_of(pl)->priv;
	struct sp_threshold t, *arr;
	const char *copy = sp_mem_strdup(pl, expr);

	if (copy == NULL)
		return sp_why(why, "out of memory");
	if (sp_threshold_parse(copy, &t, why, SP_WHY) < 0)
		return -1;
	arr = sp_mem_grow(pl, pv->th, &pv->th_cap,
			  sp_run_plan_of(pl)->nthresholds + 1, sizeof(*arr));
	if (arr == NULL)
		return sp_why(why, "out of memory");
	pv->th = arr;
	arr[sp_run_plan_of(pl)->nthresholds++] = t;
	sp_run_plan_of(pl)->thresholds = arr;
	return 0;
}

/* A scope's name must be a scenario's or a request's. */
int
sp_th_resolve(const struct sp_plan *pl, struct sp_threshold *t, char *why)
{
	const char *name = t->expr + t->name_off;

	if (t->scope == SP_TH_GLOBAL)
		return 0;
	if (t->scope == SP_TH_SCENARIO) {
		for (uint32_t i = 0; i < pl->nscenarios; i++) {
			if (strlen(pl->scenarios[i].name) != t->name_len ||
			    strncmp(pl->scenarios[i].name, name, t->name_len) !=
				    0)
				continue;
			/* Its figures are the lifecycle's, not the load's. */
			if (pl->scenarios[i].kind != SP_SCEN_LOAD)
				return sp_why(why,
					      "'%.*s' is the lifecycle's, not "
					      "a scenario of the load (scope "
					      "a threshold to one of its "
					      "requests instead)",
					      (int)t->name_len, name);
			t->idx = i;
			return 0;
		}
		return sp_why(why, "no scenario is named '%.*s'",
			      (int)t->name_len, name);
	}
	for (uint32_t i = 0; i < pl->nrequests; i++)
		if (strlen(pl->requests[i].name) == t->name_len &&
		    strncmp(pl->requests[i].name, name, t->name_len) == 0) {
			t->idx = i;
			return 0;
		}
	return sp_why(why, "no request is named '%.*s'", (int)t->name_len,
		      name);
}

/* thresholds: a list of expressions, or of { expr, abort_on_fail, grace }. */
static int
sp_file_thresholds(struct sp_loader *ld, const yaml_node_t *n)
{
	static const char *const keys[] = { "expr", "abort_on_fail", "grace",
					    NULL };

	if (sp_yaml_seq(ld, n, "thresholds") < 0)
		return -1;
	for (yaml_node_item_t *it = n->data.sequence.items.start;
	     it < n->data.sequence.items.top; it++) {
		yaml_node_t *t = sp_yaml_node(ld, *it), *v, *ev = t;
		struct sp_threshold *th;
		const char *s;

		if (t->type == YAML_MAPPING_NODE) {
			if (sp_yaml_map(ld, t, "a threshold", keys) < 0)
				return -1;
			ev = sp_yaml_get(ld, t, "expr");
			if (ev == NULL)
				return sp_node_error(
					ld, t, "thresholds: expr is missing");
		}
		if (sp_yaml_str(ld, ev, "thresholds", &s) < 0)
			return -1;
		if (sp_th_add(ld->pl, s, ld->why) < 0 ||
		    sp_th_resolve(
			    ld->pl,
			    &ld->pv->th[sp_run_plan_of(ld->pl)->nthresholds -
					1],
			    ld->why) < 0)
			return sp_node_error(ld, ev, "thresholds: '%s': %s", s,
					     ld->why);
		th = &ld->pv->th[sp_run_plan_of(ld->pl)->nthresholds - 1];
		if (t->type != YAML_MAPPING_NODE)
			continue;
		if ((v = sp_yaml_get(ld, t, "abort_on_fail")) != NULL) {
			if (sp_yaml_str(ld, v, "abort_on_fail", &s) < 0)
				return -1;
			if (sp_val_bool(s, &th->abort, ld->why) < 0)
				return sp_node_error(ld, v, "abort_on_fail: %s",
						     ld->why);
		}
		if ((v = sp_yaml_get(ld, t, "grace")) != NULL &&
		    sp_yaml_dur(ld, v, "grace", &th->grace_us) < 0)
			return -1;
	}
	return 0;
}

/* A size key (capture_max, capture_window, cookies.max_bytes) within
 * [@min, @max]. */
static int
sp_yaml_size(struct sp_loader *ld, const yaml_node_t *n, const char *key,
	     uint64_t min, uint64_t max, uint32_t *out)
{
	const char *s;
	uint64_t x;

	if (sp_yaml_str(ld, n, key, &s) < 0)
		return -1;
	if (sp_val_size(s, max, &x, ld->why) < 0)
		return sp_node_error(ld, n, "%s: %s", key, ld->why);
	if (x < min)
		return sp_node_error(ld, n, "%s: '%s': at least %llu byte%s",
				     key, s, (unsigned long long)min,
				     min == 1 ? "" : "s");
	*out = (uint32_t)x;
	return 0;
}

/* cookies: true | false | {max_bytes: SIZE}: each VU's jar. */
static int
sp_file_cookies(struct sp_loader *ld, const yaml_node_t *n)
{
	static const char *const keys[] = { "max_bytes", NULL };
	yaml_node_t *v;
	const char *s;
	int on;

	if (n->type == YAML_MAPPING_NODE) {
		if (sp_yaml_map(ld, n, "cookies", keys) < 0)
			return -1;
		if ((v = sp_yaml_get(ld, n, "max_bytes")) != NULL &&
		    sp_yaml_size(ld, v, "max_bytes", SP_JAR_MIN, SP_JAR_MAX,
				 &ld->pl->jar_bytes) < 0)
			return -1;
		return 0;
	}
	if (sp_yaml_str(ld, n, "cookies", &s) < 0)
		return -1;
	if (sp_val_bool(s, &on, ld->why) < 0)
		return sp_node_error(ld, n,
				     "cookies: %s (or {max_bytes: SIZE})",
				     ld->why);
	ld->pl->jar_bytes = on ? SP_JAR_DEFAULT : 0;
	return 0;
}

static int
sp_file(struct sp_loader *ld, const yaml_node_t *root)
{
	static const char *const keys[] = {
		"target",      "resolve",        "tls",
		"ws",          "network",        "load",
		"seed",        "data",           "scenarios",
		"thresholds",  "expect_status",  "cookies",
		"capture_max", "capture_window", "setup",
		"teardown",    "vu_setup",       "vu_teardown",
		NULL,
	};
	yaml_node_t *v;
	const char *s;
	unsigned bit;

	if (sp_yaml_map(ld, root, "the file", keys) < 0)
		return -1;
	if ((v = sp_yaml_get(ld, root, "target")) != NULL &&
	    sp_file_target(ld, v) < 0)
		return -1;
	if ((v = sp_yaml_get(ld, root, "resolve")) != NULL &&
	    sp_file_resolve(ld, v) < 0)
		return -1;
	if ((v = sp_yaml_get(ld, root, "tls")) != NULL &&
	    sp_file_tls(ld, v) < 0)
		return -1;
	if ((v = sp_yaml_get(ld, root, "ws")) != NULL && sp_file_ws(ld, v) < 0)
		return -1;
	if ((v = sp_yaml_get(ld, root, "network")) != NULL &&
	    sp_file_network(ld, v) < 0)
		return -1;
	if ((v = sp_yaml_get(ld, root, "load")) != NULL &&
	    sp_file_load(ld, v) < 0)
		return -1;
	if ((v = sp_yaml_get(ld, root, "seed")) != NULL) {
		if (sp_yaml_str(ld, v, "seed", &s) < 0)
			return -1;
		if (sp_load_key(ld->pl, "seed", s, &bit, ld->why) < 0)
			return sp_node_error(ld, v, "seed: %s", ld->why);
	}
	if ((v = sp_yaml_get(ld, root, "expect_status")) != NULL &&
	    sp_expect(ld, v, ld->pv->file_expect) < 0)
		return -1;
	if ((v = sp_yaml_get(ld, root, "cookies")) != NULL &&
	    sp_file_cookies(ld, v) < 0)
		return -1;
	/* Before the scenarios: a ping's payload bound counts a variable
	 * at its largest. */
	if ((v = sp_yaml_get(ld, root, "capture_max")) != NULL &&
	    sp_yaml_size(ld, v, "capture_max", 1, SP_VAR_MAX_MAX,
			 &ld->pl->var_max) < 0)
		return -1;
	if ((v = sp_yaml_get(ld, root, "capture_window")) != NULL &&
	    sp_yaml_size(ld, v, "capture_window", SP_CAP_WINDOW_MIN,
			 SP_CAP_WINDOW_MAX, &ld->pl->capture_window) < 0)
		return -1;
	/* Before the scenarios: their templates name its columns. */
	if ((v = sp_yaml_get(ld, root, "data")) != NULL &&
	    sp_file_data(ld, v) < 0)
		return -1;
	if ((v = sp_yaml_get(ld, root, "scenarios")) != NULL &&
	    sp_file_scenarios(ld, v) < 0)
		return -1;
	if (sp_file_lifecycle(ld, root) < 0)
		return -1;
	/* Every scenario read: each variable used has its capture. */
	if (sp_vars_check(ld->pl, ld->name, ld->e->msg, sizeof(ld->e->msg)) <
	    0)
		return -1;
	/* After the scenarios: their names are the scopes. */
	if ((v = sp_yaml_get(ld, root, "thresholds")) != NULL &&
	    sp_file_thresholds(ld, v) < 0)
		return -1;
	return 0;
}

/* ---- API ---- */

void
sp_scenario_init(struct sp_run_plan *rp)
{
	struct sp_plan *pl = &rp->eng;

	memset(rp, 0, sizeof(*rp));
	sp_run_plan_of(pl)->source = "command line";
	pl->model = SP_MODEL_CLOSED;
	pl->vus = 1;
	pl->duration_us = 10 * SP_US_PER_S;
	sp_run_plan_of(pl)->connect_timeout_us = 3 * SP_US_PER_S;
	pl->response_timeout_us = 10 * SP_US_PER_S;
	/* A cookie jar per VU, as a browser has (cookies: false drops it);
	 * a captured value up to 256 bytes (a token, an id); captures read
	 * the first 64 KiB of a body. */
	pl->jar_bytes = SP_JAR_DEFAULT;
	pl->var_max = SP_VAR_MAX_DEFAULT;
	pl->capture_window = SP_CAP_WINDOW_DEFAULT;
}

int
sp_scenario_load_buf(struct sp_run_plan *rp, const char *name, const char *buf,
		     size_t len, struct sp_scenario_err *e)
{
	struct sp_plan *pl = &rp->eng;
	struct sp_loader ld = { .pl = pl, .e = e, .name = name };
	yaml_parser_t parser;
	yaml_node_t *root;
	int rc;

	ld.pv = sp_priv(pl);
	if (ld.pv == NULL)
		return sp_err_set(e, "%s: out of memory", name);
	if (ld.pv->loaded)
		return sp_err_set(e, "%s: a plan takes one scenario file",
				  name);
	ld.pv->loaded = 1;
	sp_run_plan_of(pl)->source = sp_mem_strdup(pl, name);
	if (sp_run_plan_of(pl)->source == NULL)
		return sp_err_set(e, "%s: out of memory", name);
	if (!yaml_parser_initialize(&parser))
		return sp_err_set(e, "%s: out of memory", name);
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	if (!yaml_parser_load(&parser, &ld.doc)) {
		sp_err_set(e, "%s:%zu:%zu: %s%s%s", name,
			   parser.problem_mark.line + 1,
			   parser.problem_mark.column + 1,
			   parser.problem != NULL ? parser.problem : "bad YAML",
			   parser.context != NULL ? " " : "",
			   parser.context != NULL ? parser.context : "");
		yaml_parser_delete(&parser);
		return -1;
	}
	root = yaml_document_get_root_node(&ld.doc);
	if (root == NULL)
		rc = sp_err_set(e, "%s:1:1: empty file", name);
	else
		rc = sp_file(&ld, root);
	yaml_document_delete(&ld.doc);
	yaml_parser_delete(&parser);
	free(ld.steps);
	return rc;
}

int
sp_scenario_load(struct sp_run_plan *rp, const char *path,
		 struct sp_scenario_err *e)
{
	char why[SP_WHY];
	size_t len;
	char *buf;
	int rc;

	buf = sp_read_file(path, "the scenario file", SP_MAX_FILE, &len, why);
	if (buf == NULL)
		return sp_err_set(e, "%s: %s", path, why);
	rc = sp_scenario_load_buf(rp, path, buf, len, e);
	free(buf);
	return rc;
}

/* --url: the target, and a one-request scenario when there is none. */

const struct sp_resolve *
sp_lookup(const struct sp_run_plan *rp, const char *name, uint16_t port)
{
	for (uint32_t i = rp->nresolve; i-- > 0;) {
		const struct sp_resolve *r = &rp->resolve[i];

		if (strcasecmp(r->name, name) == 0 &&
		    (r->port == 0 || r->port == port))
			return r;
	}
	return NULL;
}

int
sp_scenario_resolve(struct sp_run_plan *rp, sp_resolver_fn fn,
		    struct sp_scenario_err *e)
{
	struct sp_plan *pl = &rp->eng;
	const struct sp_resolve *r;
	const char *bad;
	char why[SP_WHY];
	uint32_t ip;

	if (rp->target_name == NULL)
		return 0;
	r = sp_lookup(rp, rp->target_name, pl->dst_port);
	if (r != NULL) {
		pl->dst_ip = r->ip;
		return 0;
	}
	if (fn(rp->target_name, &ip, why, sizeof(why)) < 0)
		return sp_err_set(e,
				  "target: cannot resolve '%s': %s (--resolve "
				  "%s:ADDR gives its address)",
				  rp->target_name, why, rp->target_name);
	if ((bad = sp_val_ipv4_unusable(ip)) != NULL)
		return sp_err_set(e,
				  "target: '%s' resolves to %u.%u.%u.%u, which "
				  "%s",
				  rp->target_name, ip >> 24, (ip >> 16) & 0xff,
				  (ip >> 8) & 0xff, ip & 0xff, bad);
	pl->dst_ip = ip;
	return 0;
}

/* Whether comma-separated @list names one of @sc's tags. */
int
sp_has_tag(const struct sp_scenario *sc, const char *list)
{
	for (const char *p = list; *p != '\0';) {
		size_t n = strcspn(p, ",");

		for (uint32_t i = 0; i < sc->ntags; i++)
			if (strlen(sc->tags[i]) == n &&
			    strncmp(sc->tags[i], p, n) == 0)
				return 1;
		p += n + (p[n] == ',');
	}
	return 0;
}

/* ---- variables ---- */

int
sp_var_index(struct sp_plan *pl, const char *name, uint32_t *idx, char *why)
{
	struct sp_priv *pv = sp_run_plan_of(pl)->priv;
	char *copy;

	for (uint32_t i = 0; i < pl->nvars; i++)
		if (strcmp(pv->vars[i], name) == 0) {
			*idx = i;
			return 0;
		}
	if (pl->nvars == SP_MAX_VARS)
		return sp_why(why, "more than %u variables", SP_MAX_VARS);
	pv->vars = sp_mem_grow(pl, pv->vars, &pv->vars_cap, pl->nvars + 1,
			       sizeof(*pv->vars));
	if (pv->vars == NULL)
		return sp_why(why, "out of memory");
	pl->vars = pv->vars;
	pv->vinfo = sp_mem_grow(pl, pv->vinfo, &pv->vinfo_cap, pl->nvars + 1,
				sizeof(*pv->vinfo));
	copy = sp_mem_strdup(pl, name);
	if (pv->vinfo == NULL || copy == NULL)
		return sp_why(why, "out of memory");
	pv->vars[pl->nvars] = copy;
	*idx = pl->nvars++;
	return 0;
}

/* The template compiler's hook (sp_tpl_env.var): a use, where pv->use_*
 * says, kept for sp_vars_check. */
int
sp_var_cb(void *ctx, const char *name, int setup, uint32_t *idx, char *why,
	  size_t whylen)
{
	struct sp_plan *pl = ctx;
	struct sp_priv *pv = sp_run_plan_of(pl)->priv;
	struct sp_var_info *vi;
	char w[SP_WHY];

	if (sp_var_index(pl, name, idx, w) < 0) {
		snprintf(why, whylen, "%s", w);
		return -1;
	}
	vi = &pv->vinfo[*idx];
	if (setup ? vi->setup_used : vi->used)
		return 0;
	if (setup) {
		vi->setup_used = 1;
		vi->sline = pv->use_line;
		vi->scol = pv->use_col;
		snprintf(vi->skey, sizeof(vi->skey), "%s",
			 pv->use_key != NULL ? pv->use_key : "");
	} else {
		vi->used = 1;
		vi->line = pv->use_line;
		vi->col = pv->use_col;
		snprintf(vi->key, sizeof(vi->key), "%s",
			 pv->use_key != NULL ? pv->use_key : "");
	}
	return 0;
}

/* The names some request (@setup: some setup step) captures, for an
 * error: "token, item", or "none". */
static void
sp_vars_captured(struct sp_plan *pl, int setup, char *buf, size_t n)
{
	const struct sp_priv *pv = sp_run_plan_of(pl)->priv;
	size_t k = 0;

	buf[0] = '\0';
	for (uint32_t i = 0; i < pl->nvars && k < n; i++) {
		if (!(setup ? pv->vinfo[i].setup_captured :
			      pv->vinfo[i].captured))
			continue;
		k += (size_t)snprintf(buf + k, n - k, "%s%s", k ? ", " : "",
				      pv->vars[i]);
	}
}

int
sp_vars_check(struct sp_plan *pl, const char *file, char *why, size_t whylen)
{
	const struct sp_priv *pv = sp_run_plan_of(pl)->priv;
	char where[SP_WHY], list[200];

	for (uint32_t i = 0; i < pl->nvars; i++) {
		const struct sp_var_info *vi = &pv->vinfo[i];
		int setup = vi->setup_used && !vi->setup_captured;
		uint32_t line = setup ? vi->sline : vi->line;

		if (!setup && !(vi->used && !vi->captured))
			continue;
		where[0] = '\0';
		if (line != 0 && file != NULL)
			snprintf(where, sizeof(where), "%s:%u:%u: %s: ", file,
				 line, setup ? vi->scol : vi->col,
				 setup ? vi->skey : vi->key);
		sp_vars_captured(pl, setup, list, sizeof(list));
		if (setup && list[0] == '\0')
			snprintf(why, whylen,
				 "%s{{setup.%s}} is never captured (no "
				 "setup: step has a capture:)",
				 where, pv->vars[i]);
		else if (setup)
			snprintf(why, whylen,
				 "%s{{setup.%s}} is never captured by a "
				 "setup: step (setup captures: %s)",
				 where, pv->vars[i], list);
		else if (list[0] == '\0')
			snprintf(why, whylen,
				 "%s{{%s}} is never captured (no request "
				 "has a capture:)",
				 where, pv->vars[i]);
		else
			snprintf(why, whylen,
				 "%s{{%s}} is never captured (captures: %s)",
				 where, pv->vars[i], list);
		return -1;
	}
	return 0;
}

void
sp_scenario_free(struct sp_run_plan *rp)
{
	struct sp_plan *pl = &rp->eng;
	struct sp_priv *pv = rp->priv;

	if (pv != NULL) {
		for (struct sp_mem *m = pv->mem, *next; m != NULL; m = next) {
			next = m->next;
			free(m);
		}
		free(pv);
	}
	memset(pl, 0, sizeof(*pl));
}
