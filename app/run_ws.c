/*
 * `stampede run`: the WebSocket parts of the text, JSON and CSV reports
 * (run_report.c calls them for a plan with a ws: step only): sessions
 * (started = completed + failed + interrupted + open), failures by kind,
 * data messages and payload bytes each way, what the expect steps took,
 * control frames, close codes received by bucket, and the three
 * histograms (upgrade, measured round trip, session).
 */

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "sp_app.h"
#include "sp_run.h"
#include "sp_vu.h"

int
sp_run_has_ws(const struct sp_plan *pl)
{
	for (uint32_t i = 0; i < pl->nrequests; i++)
		if (pl->requests[i].ws_upgrade)
			return 1;
	return 0;
}

/* A close-code bucket's name (sp_vu_ws_close_bucket): "1000".."1015",
 * "none" (a close frame without a code), "3xxx", "4xxx", "other". */
static const char *
sp_run_ws_close_name(unsigned b, char *buf, size_t len)
{
	if (b < SP_VU_WS_CLOSE_NONE) {
		snprintf(buf, len, "%u", 1000 + b);
		return buf;
	}
	return b == SP_VU_WS_CLOSE_NONE ? "none" :
	       b == SP_VU_WS_CLOSE_3XXX ? "3xxx" :
	       b == SP_VU_WS_CLOSE_4XXX ? "4xxx" :
					  "other";
}

/* The WebSocket memory of the run: per connection, the largest of the
 * cores' (each core's pools are sized for its own VUs); pools summed. */
static void
sp_run_ws_mem(const struct sp_run *r, struct sp_vu_ws_mem *m)
{
	memset(m, 0, sizeof(*m));
	for (uint32_t i = 0; i < r->ncores; i++) {
		struct sp_vu_ws_mem c;

		if (r->core[i].eng == NULL)
			continue;
		sp_vu_ws_mem(r->core[i].eng, &c);
		m->vus += c.vus;
		m->contexts += c.contexts;
		m->windows += c.windows;
		if (c.per_conn > m->per_conn)
			m->per_conn = c.per_conn;
		if (c.vu_bytes > m->vu_bytes)
			m->vu_bytes = c.vu_bytes;
		if (c.context_bytes > m->context_bytes)
			m->context_bytes = c.context_bytes;
		if (c.window_bytes > m->window_bytes)
			m->window_bytes = c.window_bytes;
	}
}

void
sp_run_ws_print(const struct sp_run *r, const struct sp_report *rep, FILE *out)
{
	const struct sp_vu_stats *s = r->tot;
	double load = sp_run_load_s(r, rep);
	char sent[32], recv[32], nm[8];
	struct sp_vu_ws_mem m;
	int any = 0;

	fprintf(out,
		"  ws sessions     started %" PRIu64 "  completed %" PRIu64
		"  failed %" PRIu64 "  interrupted %" PRIu64
		"  open at end %" PRIu64 "\n",
		s->ws_started, s->ws_completed, s->ws_failed, s->ws_interrupted,
		s->ws_open);
	fprintf(out, "  ws failures    ");
	for (int k = 0; k < SP_VU_WS_E_N; k++)
		if (s->ws_err[k] != 0) {
			fprintf(out, " %s %" PRIu64,
				sp_vu_ws_err_name((enum sp_vu_ws_err)k),
				s->ws_err[k]);
			any = 1;
		}
	fprintf(out, "%s\n", any ? "" : " none");
	sp_fmt_bytes(s->ws_bytes_sent, sent, sizeof(sent));
	sp_fmt_bytes(s->ws_bytes_received, recv, sizeof(recv));
	fprintf(out,
		"  ws messages     sent %" PRIu64
		" (%.1f/s, %s)  received %" PRIu64
		" (%.1f/s, %s)  matched %" PRIu64 "  unmatched %" PRIu64 "\n",
		s->ws_msgs_sent, sp_rate((double)s->ws_msgs_sent, load), sent,
		s->ws_msgs_received, sp_rate((double)s->ws_msgs_received, load),
		recv, s->ws_matched, s->ws_unmatched);
	fprintf(out,
		"  ws control      pings sent %" PRIu64
		"  pongs received %" PRIu64 "  pings received %" PRIu64
		"  closes sent %" PRIu64 "\n",
		s->ws_pings_sent, s->ws_pongs_received, s->ws_pings_received,
		s->ws_closes_sent);
	any = 0;
	fprintf(out, "  ws close codes ");
	for (unsigned b = 0; b < SP_VU_WS_CLOSE_N; b++)
		if (s->ws_close_codes[b] != 0) {
			fprintf(out, " %s: %" PRIu64,
				sp_run_ws_close_name(b, nm, sizeof(nm)),
				s->ws_close_codes[b]);
			any = 1;
		}
	fprintf(out, "%s\n", any ? " (received)" : " none received");
	fprintf(out, "  ws latency ms   (upgrade queued to its 101; a measured "
		     "message to its answer; whole sessions)\n");
	sp_run_lat_line(out, "  ws connect", &s->ws_connect);
	sp_run_lat_line(out, "  ws rtt", &s->ws_rtt);
	sp_run_lat_line(out, "  ws session", &s->ws_session);
	sp_run_ws_mem(r, &m);
	fprintf(out,
		"  ws memory       %" PRIu32 " B per connection beyond TCP's "
		"(state %" PRIu32 " B per VU; pools: %" PRIu32
		" frame contexts of %" PRIu32 " B, %" PRIu32
		" regex windows, for %" PRIu32 " VUs)\n",
		m.per_conn, m.vu_bytes, m.contexts, m.context_bytes, m.windows,
		m.vus);
}

void
sp_run_ws_json(const struct sp_run *r, const struct sp_report *rep, FILE *f,
	       int hist)
{
	const struct sp_vu_stats *s = r->tot;
	double load = sp_run_load_s(r, rep);
	const char *sep = "";
	struct sp_vu_ws_mem m;
	char nm[8];

	fprintf(f,
		" \"ws\":{\"sessions\":{\"started\":%" PRIu64
		",\"completed\":%" PRIu64 ",\"failed\":%" PRIu64
		",\"interrupted\":%" PRIu64 ",\"open_at_end\":%" PRIu64
		"},\"errors_by_kind\":{",
		s->ws_started, s->ws_completed, s->ws_failed, s->ws_interrupted,
		s->ws_open);
	for (int k = 0; k < SP_VU_WS_E_N; k++)
		fprintf(f, "%s\"%s\":%" PRIu64, k ? "," : "",
			sp_vu_ws_err_name((enum sp_vu_ws_err)k), s->ws_err[k]);
	fprintf(f,
		"},\"messages\":{\"sent\":%" PRIu64 ",\"received\":%" PRIu64
		",\"matched\":%" PRIu64 ",\"unmatched\":%" PRIu64
		",\"sent_per_s\":%.3f,\"received_per_s\":%.3f}"
		",\"bytes\":{\"sent\":%" PRIu64 ",\"received\":%" PRIu64 "}"
		",\"pings_sent\":%" PRIu64 ",\"pongs_received\":%" PRIu64
		",\"pings_received\":%" PRIu64 ",\"closes_sent\":%" PRIu64
		",\"close_codes\":{",
		s->ws_msgs_sent, s->ws_msgs_received, s->ws_matched,
		s->ws_unmatched, sp_rate((double)s->ws_msgs_sent, load),
		sp_rate((double)s->ws_msgs_received, load), s->ws_bytes_sent,
		s->ws_bytes_received, s->ws_pings_sent, s->ws_pongs_received,
		s->ws_pings_received, s->ws_closes_sent);
	for (unsigned b = 0; b < SP_VU_WS_CLOSE_N; b++)
		if (s->ws_close_codes[b] != 0) {
			fprintf(f, "%s\"%s\":%" PRIu64, sep,
				sp_run_ws_close_name(b, nm, sizeof(nm)),
				s->ws_close_codes[b]);
			sep = ",";
		}
	fprintf(f, "},\"connect_ms\":");
	sp_run_lat_json(f, &s->ws_connect, hist);
	fprintf(f, ",\"rtt_ms\":");
	sp_run_lat_json(f, &s->ws_rtt, hist);
	fprintf(f, ",\"session_ms\":");
	sp_run_lat_json(f, &s->ws_session, hist);
	sp_run_ws_mem(r, &m);
	fprintf(f,
		",\"max_message\":%" PRIu64 ",\"ping_every_s\":%.6f"
		",\"bytes_per_connection\":%" PRIu32
		",\"memory\":{\"vu_state_bytes\":%" PRIu32
		",\"frame_contexts\":%" PRIu32
		",\"frame_context_bytes\":%" PRIu32
		",\"regex_windows\":%" PRIu32 ",\"regex_window_bytes\":%" PRIu32
		",\"vus\":%" PRIu32 "}},\n",
		r->rp.eng.ws_max_message,
		(double)r->rp.eng.ws_ping_every_us / 1e6, m.per_conn,
		m.vu_bytes, m.contexts, m.context_bytes, m.windows,
		m.window_bytes, m.vus);
}

/* A timeline point's WebSocket figures (after its other keys). */
void
sp_run_ws_json_point(const struct sp_run_point *p, FILE *f)
{
	fprintf(f,
		",\"ws_sent\":%" PRIu64 ",\"ws_received\":%" PRIu64
		",\"ws_bytes_sent\":%" PRIu64 ",\"ws_bytes_received\":%" PRIu64
		",\"ws_open\":%" PRIu64,
		p->ws_sent, p->ws_received, p->ws_bytes_sent,
		p->ws_bytes_received, p->ws_open);
}

/* PREFIX_stats.csv rows: sessions (with the session times), upgrades
 * (101s received) and measured round trips. */
void
sp_run_ws_csv_stats(const struct sp_run *r, FILE *f)
{
	const struct sp_vu_stats *s = r->tot;

	fprintf(f,
		"ws,\"session\",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64,
		s->ws_started, s->ws_completed, s->ws_failed,
		s->ws_interrupted);
	sp_run_csv_lat(f, &s->ws_session);
	fprintf(f, "ws,\"connect\",%" PRIu64 ",%" PRIu64 ",0,0",
		s->ws_connect.count, s->ws_connect.count);
	sp_run_csv_lat(f, &s->ws_connect);
	fprintf(f, "ws,\"rtt\",%" PRIu64 ",%" PRIu64 ",0,0", s->ws_rtt.count,
		s->ws_rtt.count);
	sp_run_csv_lat(f, &s->ws_rtt);
}
