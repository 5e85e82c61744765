/*
 * --web [HOST:]PORT: a live dashboard in a browser, served by sp_httpd on
 * the control side (loopback unless the user names another address).
 *
 * "/" is one self-contained page (app/html/live.*: the HTML report's own
 * renderer, report.js, fed the run so far each second; nothing fetched
 * from elsewhere). "/events" is a stream of server-sent events: "reset"
 * first on each connection, then every timeline point so far ("point",
 * the --out json= line), then the newest "report" (the JSON report of the
 * run so far, without its timeline: the page has the points) and
 * "progress"; at the end "end", the final report whole, as the --json
 * file has it. A reload or a second tab gets the same from the start.
 * POST "/stop" with the header X-Stampede-Stop stops the run as Ctrl-C
 * does (a page of another origin cannot send that header).
 *
 * Each second the control lcore merges the engines' counters and renders
 * the report once for every client; the workers do not change. At the end
 * the server waits until every open page has the final report, at most
 * SP_WEB_LINGER_US (a second Ctrl-C: no wait).
 */
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sp_httpd.h"
#include "sp_live_page.h"
#include "sp_obs.h"
#include "sp_run.h"

#define SP_WEB_LINGER_US (5 * SP_US_PER_S)
#define SP_WEB_STOP_HEADER "X-Stampede-Stop"

struct sp_web {
	struct sp_httpd *h;
	int started, bad, final_synced;
	int stopped; /* the Stop button: set on the server's thread */
	uint32_t sent; /* timeline points sent as events */
	uint64_t events;
	char spec[300];
};

static int sp_web_sigs0;

/* The Stop button: the run stops as on Ctrl-C (the same signal, so the
 * same drain, teardown and reports). */
static void
sp_web_stop(void *ctx)
{
	struct sp_web *w = ctx;

	__atomic_store_n(&w->stopped, 1, __ATOMIC_RELEASE);
	kill(getpid(), SIGINT);
}

int
sp_obs_web_open(struct sp_obs *ob)
{
	const char *spec = ob->o.web;
	struct sp_web *w;
	char err[512];
	size_t i;

	if (spec == NULL)
		return 0;
	w = calloc(1, sizeof(*w));
	if (w == NULL) {
		sp_usage_error("--web: out of memory");
		return -1;
	}
	ob->web = w;
	/* A port alone: loopback. */
	for (i = 0; spec[i] >= '0' && spec[i] <= '9'; i++)
		;
	snprintf(w->spec, sizeof(w->spec), "%s%s",
		 i != 0 && spec[i] == '\0' ? "127.0.0.1:" : "", spec);
	w->h = sp_httpd_listen(w->spec, err, sizeof(err));
	if (w->h == NULL) {
		sp_usage_error("--web %s", err);
		return -1;
	}
	if (sp_httpd_publish(w->h, "/", "text/html; charset=utf-8",
			     sp_live_page_head, sizeof(sp_live_page_head) - 1) <
		    0 ||
	    sp_httpd_stream(w->h, "/events") < 0 ||
	    sp_httpd_post(w->h, "/stop", SP_WEB_STOP_HEADER, sp_web_stop, w) <
		    0) {
		sp_usage_error("--web: out of memory");
		return -1;
	}
	return 0;
}

/* @buf's newlines (whitespace between JSON tokens: strings have theirs
 * escaped) as spaces: an event's data is one line. */
static void
sp_web_one_line(char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (buf[i] == '\n')
			buf[i] = ' ';
}

static void
sp_web_event(struct sp_web *w, const char *name, char *buf, size_t len,
	     int keep)
{
	while (len > 0 && buf[len - 1] == '\n')
		len--;
	sp_web_one_line(buf, len);
	if (sp_httpd_event(w->h, name, buf, len, keep) < 0) {
		fprintf(stderr, "stampede: --web: out of memory for an event; "
				"the dashboard stops, the run goes on\n");
		w->bad = 1;
		return;
	}
	w->events++;
}

/* The run so far as a report, without its timeline. */
static void
sp_web_report(struct sp_web *w, struct sp_run *r)
{
	uint64_t start = sp_ctr_read(r->w->run_start_us);
	double el = r->prev_us > start ? (double)(r->prev_us - start) / 1e6 :
					 0;
	struct sp_report rep;
	char *buf = NULL, prog[256];
	size_t len = 0;
	int n;

	sp_run_merge_life(r); /* r merged by sp_obs_tick */
	/* The thresholds as they stand now (the end judges them again). */
	sp_run_th_final(r, el);
	sp_report_collect_n(&rep, r->w, r->ncores, r->w[0].port);
	rep.mode = "http";
	rep.elapsed_s = el;
	rep.tls_hs_allocs = sp_run_tls_hs_allocs(r);
	if (sp_run_json_mem(r, &rep, &buf, &len) < 0) {
		fprintf(stderr, "stampede: --web: out of memory for the "
				"report; the dashboard stops, the run goes "
				"on\n");
		w->bad = 1;
		return;
	}
	sp_web_event(w, "report", buf, len, 0);
	free(buf);
	n = snprintf(prog, sizeof(prog),
		     "{\"elapsed_s\":%.3f,\"duration_s\":%.3f,"
		     "\"stopping\":%s}",
		     el, (double)r->rp.eng.duration_us / 1e6,
		     sp_interrupted() ? "true" : "false");
	if (!w->bad)
		sp_web_event(w, "progress", prog, (size_t)n, 0);
}

void
sp_obs_web_tick(struct sp_obs *ob, struct sp_run *r)
{
	struct sp_web *w = ob->web;
	char err[512];

	if (w == NULL || w->bad)
		return;
	for (uint32_t i = w->sent; i < r->ntl && !w->bad; i++) {
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);

		if (f == NULL) {
			w->bad = 1;
			break;
		}
		sp_obs_point_line(f, r, &r->tl[i], i + 1 == r->ntl);
		if (fclose(f) == 0)
			sp_web_event(w, "point", buf, len, 1);
		else
			w->bad = 1;
		free(buf);
	}
	w->sent = r->ntl;
	if (!w->bad)
		sp_web_report(w, r);
	if (!w->started && !w->bad) {
		/* On the control lcore, after DPDK pinned it (as
		 * --metrics). */
		if (sp_httpd_start(w->h, err, sizeof(err)) < 0) {
			fprintf(stderr,
				"stampede: --web %s; the run goes on "
				"without it\n",
				err);
			w->bad = 1;
			return;
		}
		w->started = 1;
		fprintf(stderr, "stampede: live dashboard on http://%s/\n",
			sp_httpd_addr(w->h));
	}
}

/* A second Ctrl-C ends the wait for the pages. */
static int
sp_web_hurry(void)
{
	return sp_interrupted() > sp_web_sigs0;
}

void
sp_obs_web_final(struct sp_obs *ob, const char *json, size_t len)
{
	struct sp_web *w = ob->web;
	char *copy;

	if (w == NULL || w->bad || !w->started)
		return;
	copy = malloc(len);
	if (copy == NULL)
		return;
	memcpy(copy, json, len);
	sp_web_event(w, "end", copy, len, 0);
	free(copy);
	sp_web_sigs0 = sp_interrupted();
	w->final_synced =
		!w->bad && sp_httpd_wait_streams(w->h, SP_WEB_LINGER_US,
						  sp_web_hurry);
}

void
sp_obs_web_json(const struct sp_obs *ob, FILE *f)
{
	const struct sp_web *w = ob->web;
	uint64_t opened = 0, posts = 0;
	unsigned open = 0;

	sp_httpd_streams(w->h, &opened, &open, &posts);
	fprintf(f, "\"web\":{\"address\":");
	sp_json_str(f, sp_httpd_addr(w->h));
	fprintf(f,
		",\"pages_opened\":%" PRIu64 ",\"events\":%" PRIu64
		",\"stops\":%" PRIu64 ",\"failed\":%s}",
		opened, w->events, posts, w->bad ? "true" : "false");
}

int
sp_obs_stopped(const struct sp_obs *ob)
{
	return ob->web != NULL &&
	       __atomic_load_n(&ob->web->stopped, __ATOMIC_ACQUIRE);
}

void
sp_obs_web_close(struct sp_obs *ob)
{
	struct sp_web *w = ob->web;

	if (w == NULL)
		return;
	sp_httpd_close(w->h);
	free(w);
	ob->web = NULL;
}
