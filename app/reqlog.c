/*
 * The per-request log (--log-requests FILE), k6's "--out csv" in spirit: a
 * row per finished request, so that any figure of the report can be
 * checked request by request (the packet-capture test does).
 *
 * Times are µs of the run's clock (the TSC) from the start of the run, so
 * two rows compare exactly: latency_us = done_us - intended_us is the
 * value the latency histogram recorded for that request, lag_us =
 * sent_us - intended_us the one the generator-lag histogram recorded.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "sp_app.h"
#include "sp_reqlog_out.h"
#include "sp_vu.h"

int
sp_reqlog_out_open(struct sp_reqlog_out *o, const char *path)
{
	memset(o, 0, sizeof(*o));
	o->path = path;
	if (path == NULL)
		return 0;
	o->f = fopen(path, "w");
	if (o->f == NULL) {
		sp_usage_error("--log-requests: cannot write %s: %s", path,
			       strerror(errno));
		return -1;
	}
	fprintf(o->f, "core,vu,iteration,request,status,error,new_connection,"
		      "intended_us,sent_us,done_us,latency_us,lag_us\n");
	return 0;
}

int
sp_reqlog_out_start(struct sp_reqlog_out *o, const struct sp_plan *pl,
		    unsigned ncores, uint64_t base_us)
{
	if (o->f == NULL)
		return 0;
	o->plan = pl;
	o->ncores = ncores;
	o->base_us = base_us;
	for (unsigned i = 0; i < ncores; i++) {
		o->log[i].recs = calloc(SP_REQLOG_RECS,
					sizeof(*o->log[i].recs));
		if (o->log[i].recs == NULL) {
			fprintf(stderr, "stampede: out of memory for "
					"--log-requests\n");
			return -1;
		}
		o->log[i].mask = SP_REQLOG_RECS - 1;
	}
	return 0;
}

static void
sp_reqlog_row(struct sp_reqlog_out *o, unsigned core,
	      const struct sp_reqlog_rec *r)
{
	FILE *f = o->f;
	uint64_t b = o->base_us;

	fprintf(f, "%u,%" PRIu32 ",%" PRIu32 ",", core, r->vu, r->iter);
	sp_out_csv_str(f, r->req < o->plan->nrequests ?
				  o->plan->requests[r->req].name :
				  "?");
	fprintf(f, ",%u,%s,%u,%" PRId64 ",", r->status,
		r->err ? sp_vu_err_name((enum sp_vu_err)(r->err - 1)) : "",
		r->new_conn, (int64_t)(r->intended - b));
	if (r->sent != 0)
		fprintf(f, "%" PRId64, (int64_t)(r->sent - b));
	fprintf(f, ",%" PRId64 ",%" PRIu64 ",", (int64_t)(r->done - b),
		r->done > r->intended ? r->done - r->intended : 0);
	if (r->sent != 0)
		fprintf(f, "%" PRIu64,
			r->sent > r->intended ? r->sent - r->intended : 0);
	fputc('\n', f);
	o->written++;
}

void
sp_reqlog_out_drain(struct sp_reqlog_out *o)
{
	if (o->f == NULL)
		return;
	for (unsigned c = 0; c < o->ncores; c++) {
		const struct sp_reqlog_rec *r;
		uint32_t n;

		/* Twice: the ready records may wrap round the ring's end. */
		for (int k = 0; k < 2; k++) {
			n = sp_reqlog_peek(&o->log[c], &r);
			for (uint32_t i = 0; i < n; i++)
				sp_reqlog_row(o, c, &r[i]);
			sp_reqlog_release(&o->log[c], n);
		}
	}
}

uint64_t
sp_reqlog_out_dropped(const struct sp_reqlog_out *o)
{
	uint64_t d = 0;

	for (unsigned c = 0; c < o->ncores; c++)
		d += sp_ctr_read(o->log[c].dropped);
	return d;
}

int
sp_reqlog_out_close(struct sp_reqlog_out *o)
{
	int bad = 0;

	if (o->f != NULL) {
		if (o->plan != NULL)
			sp_reqlog_out_drain(o);
		bad = ferror(o->f) != 0;
		if (fclose(o->f) != 0 || bad) {
			fprintf(stderr,
				"stampede: --log-requests: writing %s "
				"failed\n",
				o->path);
			bad = 1;
		}
		o->f = NULL;
	}
	for (unsigned c = 0; c < SP_MAX_CORES; c++) {
		free(o->log[c].recs);
		o->log[c].recs = NULL;
	}
	return bad ? -1 : 0;
}
