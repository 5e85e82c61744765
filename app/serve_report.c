/*
 * stampede serve's report: the text summary and the JSON file, from the
 * cores' counters added up (and their TLS instances', with --tls).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "sp_serve.h"

static uint64_t
sp_srv_errors(const struct sp_srv_counts *n)
{
	uint64_t t = 0;

	for (int i = 0; i < SP_SRV_NERR; i++)
		t += n->errors[i];
	return t;
}

static const char *
sp_srv_error_name(int i)
{
	return i == SP_SRV_E_PIPELINE ? "pipeline_overflow" :
					sp_http1_req_error_name(-i - 1);
}

/* --tls: every core's instance's counters added up. 0: no TLS. */
int
sp_srv_tls_sum(const struct sp_servemode *m, struct sp_tls_counters *t)
{
	memset(t, 0, sizeof(*t));
	if (m->tls == NULL)
		return 0;
	for (uint32_t c = 0; c < m->ncores; c++)
		sp_report_tls_add(t, m->all[c].tls);
	return 1;
}

/* Bytes a connection holds over TLS: the engine's and the glue's, and
 * the responder's slot (the stack's are in "pools"). */
static size_t
sp_srv_tls_conn_bytes(const struct sp_servemode *m, int idle)
{
	return (idle ? sp_tls_conn_bytes_idle(m->tls) :
		       sp_tls_conn_bytes(m->tls)) +
	       sizeof(struct sp_srv_slot);
}

static void
sp_srv_print_tls(const struct sp_servemode *m, FILE *out)
{
	struct sp_tls_counters c;

	if (!sp_srv_tls_sum(m, &c))
		return;
	if (m->tlsc.no_resume)
		fprintf(out,
			"  tls             %s, TLS 1.2, no resumption "
			"(--tls-no-resume); a pool of %u connections per core\n",
			sp_tls_engine_name(m->tlsc.engine), m->nslots);
	else
		fprintf(out,
			"  tls             %s, TLS 1.2, session IDs (cache of "
			"%u per core) and tickets; a pool of %u connections per "
			"core\n",
			sp_tls_engine_name(m->tlsc.engine), m->tlsc.cache,
			m->nslots);
	fprintf(out,
		"  tls handshakes  full %" PRIu64 "  resumed %" PRIu64
		"  failed %" PRIu64,
		c.hs_full, c.hs_resumed, c.hs_failed);
	for (int i = SP_SRV_TCP_ENDS; i < SP_STREAM_END_NKINDS; i++)
		if (c.ended[i] != 0)
			fprintf(out, "  %s %" PRIu64, sp_srv_end_name[i],
				c.ended[i]);
	fputc('\n', out);
	sp_report_tls_text(out, &c, m->tlsc.engine, sp_srv_tls_conn_bytes(m, 0),
			   sp_srv_tls_conn_bytes(m, 1), NULL);
}

static void
sp_srv_json_tls(const struct sp_servemode *m, FILE *f)
{
	struct sp_tls_counters c;

	if (!sp_srv_tls_sum(m, &c))
		return;
	fprintf(f,
		" \"tls\":{\"engine\":\"%s\",\"version\":\"TLS 1.2\","
		"\"session_cache\":%u,\"tickets\":%s,\"pool\":%u,"
		"\"handshakes\":{\"full\":%" PRIu64 ",\"resumed\":%" PRIu64
		",\"failed\":%" PRIu64 "},\"failed_by\":{",
		sp_tls_engine_name(m->tlsc.engine), m->tlsc.cache,
		m->tlsc.no_resume ? "false" : "true", m->nslots, c.hs_full,
		c.hs_resumed, c.hs_failed);
	for (int i = SP_SRV_TCP_ENDS; i < SP_STREAM_END_NKINDS; i++)
		fprintf(f, "%s\"%s\":%" PRIu64, i > SP_SRV_TCP_ENDS ? "," : "",
			sp_srv_end_name[i], c.ended[i]);
	fputc('}', f);
	sp_report_tls_json(f, &c, m->tlsc.engine, sp_srv_tls_conn_bytes(m, 0),
			   sp_srv_tls_conn_bytes(m, 1));
}

static uint64_t
sp_srv_ws_errors(const struct sp_srv_counts *n)
{
	uint64_t t = 0;

	for (int i = 0; i < SP_SRV_WS_E_N; i++)
		t += n->ws_errors[i];
	return t;
}

static uint64_t
sp_srv_ws_refused(const struct sp_srv_counts *n)
{
	uint64_t t = 0;

	for (int i = 0; i < SP_SRV_WS_R_N; i++)
		t += n->ws_refused[i];
	return t;
}

/* A close-code bucket's name: the code, "none" (1005), "3xxx", "4xxx",
 * "other". */
static const char *
sp_srv_close_name(int b, char *buf, size_t len)
{
	if (b < SP_VU_WS_CLOSE_NONE) {
		snprintf(buf, len, "%d", 1000 + b);
		return buf;
	}
	return b == SP_VU_WS_CLOSE_NONE ? "none" :
	       b == SP_VU_WS_CLOSE_3XXX ? "3xxx" :
	       b == SP_VU_WS_CLOSE_4XXX ? "4xxx" :
					  "other";
}

static void
sp_srv_print_closes(FILE *out, const char *what, const uint64_t *c)
{
	char name[16];

	fprintf(out, "  %-16s", what);
	for (int b = 0; b < SP_VU_WS_CLOSE_N; b++)
		if (c[b] != 0)
			fprintf(out, " %s:%" PRIu64,
				sp_srv_close_name(b, name, sizeof(name)), c[b]);
	fputc('\n', out);
}

/* Bytes an idle WebSocket holds beyond its TCP connection: its slot (the
 * same as an HTTP connection's: the WebSocket's state takes the request
 * parser's place). Frame contexts and broadcast buffers are the core's. */
static size_t
sp_srv_ws_frame_bytes(void)
{
	/* wslay's context: its 4 KB input buffer and its state */
	return sizeof(struct sp_srv_wsf) + 4096 + 160;
}

static void
sp_srv_print_ws(const struct sp_servemode *m, const struct sp_srv_counts *n,
		const struct sp_report *r, FILE *out)
{
	if (m->ws_mode == SP_SRV_WS_OFF)
		return;
	fprintf(out,
		"  websocket       %s; upgrades %" PRIu64 "  refused %" PRIu64,
		m->ws_mode == SP_SRV_WS_ECHO ? "echo" :
					       "broadcast (one room per core)",
		n->ws_upgrades, sp_srv_ws_refused(n));
	for (int i = 0; i < SP_SRV_WS_R_N; i++)
		if (n->ws_refused[i] != 0)
			fprintf(out, " %s %" PRIu64, sp_srv_ws_refuse_name[i],
				n->ws_refused[i]);
	fprintf(out,
		"  open %" PRIu64 "  ended open %" PRIu64
		"  after a close %" PRIu64 "\n",
		n->ws_open, n->ws_ended_open, n->ws_ended_closed);
	fprintf(out,
		"  ws messages     received %" PRIu64 " (%" PRIu64
		" B, %" PRIu64 " frames)  sent %" PRIu64 " (%" PRIu64
		" B)  (%.1f/s in, %.1f/s out)\n",
		n->ws_msgs_received, n->ws_bytes_received,
		n->ws_frames_received, n->ws_msgs_sent, n->ws_bytes_sent,
		sp_rate((double)n->ws_msgs_received, r->elapsed_s),
		sp_rate((double)n->ws_msgs_sent, r->elapsed_s));
	fprintf(out,
		"  ws control      pings %" PRIu64 "  pongs sent %" PRIu64
		"  pongs received %" PRIu64 "\n",
		n->ws_pings, n->ws_pongs_sent, n->ws_pongs_received);
	sp_srv_print_closes(out, "ws close recv", n->ws_close_received);
	sp_srv_print_closes(out, "ws close sent", n->ws_close_sent);
	fprintf(out, "  ws errors       %" PRIu64, sp_srv_ws_errors(n));
	for (int i = 0; i < SP_SRV_WS_E_N; i++)
		if (n->ws_errors[i] != 0)
			fprintf(out, "  %s %" PRIu64, sp_srv_ws_err_name[i],
				n->ws_errors[i]);
	fputc('\n', out);
	if (m->ws_mode == SP_SRV_WS_BROADCAST)
		fprintf(out,
			"  ws broadcast    queued %" PRIu64
			"  sent to all %" PRIu64
			"  dropped (receiver full) %" PRIu64
			"  not queued (no buffer) %" PRIu64 "\n",
			n->ws_bcast_queued, n->ws_bcast_done,
			n->ws_bcast_dropped, n->ws_bcast_nobuf);
	fprintf(out,
		"  ws memory       %zu B per connection (its slot, HTTP's "
		"too); per core %u frame contexts of %zu B",
		sizeof(struct sp_srv_slot), m->wsc.nframes,
		sp_srv_ws_frame_bytes());
	if (m->ws_mode == SP_SRV_WS_BROADCAST)
		fprintf(out, ", %u buffers of %" PRIu64 " B", m->ws_queue,
			m->ws_max_message + SP_SRV_WS_HEAD);
	fprintf(out, "; max message %" PRIu64 " B\n", m->ws_max_message);
}

static void
sp_srv_json_closes(FILE *f, const char *key, const uint64_t *c)
{
	char name[16];

	fprintf(f, "\"%s\":{", key);
	for (int b = 0; b < SP_VU_WS_CLOSE_N; b++)
		fprintf(f, "%s\"%s\":%" PRIu64, b ? "," : "",
			sp_srv_close_name(b, name, sizeof(name)), c[b]);
	fputc('}', f);
}

static void
sp_srv_json_ws(const struct sp_servemode *m, const struct sp_srv_counts *n,
	       const struct sp_report *r, FILE *f)
{
	if (m->ws_mode == SP_SRV_WS_OFF)
		return;
	fprintf(f,
		" \"ws\":{\"mode\":\"%s\",\"max_message\":%" PRIu64
		",\"upgrades\":%" PRIu64 ",\"refused_total\":%" PRIu64
		",\"refused\":{",
		m->ws_mode == SP_SRV_WS_ECHO ? "echo" : "broadcast",
		m->ws_max_message, n->ws_upgrades, sp_srv_ws_refused(n));
	for (int i = 0; i < SP_SRV_WS_R_N; i++)
		fprintf(f, "%s\"%s\":%" PRIu64, i ? "," : "",
			sp_srv_ws_refuse_name[i], n->ws_refused[i]);
	fprintf(f,
		"},\"open\":%" PRIu64 ",\"ended_open\":%" PRIu64
		",\"ended_closed\":%" PRIu64 ",\n  \"frames_received\":%" PRIu64
		",\"msgs_received\":%" PRIu64 ",\"msgs_sent\":%" PRIu64
		",\"bytes_received\":%" PRIu64 ",\"bytes_sent\":%" PRIu64
		",\"msgs_received_per_s\":%.3f,\"msgs_sent_per_s\":%.3f"
		",\"pings\":%" PRIu64 ",\"pongs_sent\":%" PRIu64
		",\"pongs_received\":%" PRIu64 ",\n  ",
		n->ws_open, n->ws_ended_open, n->ws_ended_closed,
		n->ws_frames_received, n->ws_msgs_received, n->ws_msgs_sent,
		n->ws_bytes_received, n->ws_bytes_sent,
		sp_rate((double)n->ws_msgs_received, r->elapsed_s),
		sp_rate((double)n->ws_msgs_sent, r->elapsed_s), n->ws_pings,
		n->ws_pongs_sent, n->ws_pongs_received);
	sp_srv_json_closes(f, "close_received", n->ws_close_received);
	fputc(',', f);
	sp_srv_json_closes(f, "close_sent", n->ws_close_sent);
	fprintf(f, ",\n  \"errors_total\":%" PRIu64 ",\"errors\":{",
		sp_srv_ws_errors(n));
	for (int i = 0; i < SP_SRV_WS_E_N; i++)
		fprintf(f, "%s\"%s\":%" PRIu64, i ? "," : "",
			sp_srv_ws_err_name[i], n->ws_errors[i]);
	fprintf(f,
		"},\"broadcast\":{\"queued\":%" PRIu64 ",\"done\":%" PRIu64
		",\"dropped\":%" PRIu64 ",\"no_buffer\":%" PRIu64
		"},\n  \"bytes_per_connection\":%zu,\"frame_contexts\":%u"
		",\"frame_context_bytes\":%zu,\"buffers\":%u},\n",
		n->ws_bcast_queued, n->ws_bcast_done, n->ws_bcast_dropped,
		n->ws_bcast_nobuf, sizeof(struct sp_srv_slot), m->wsc.nframes,
		sp_srv_ws_frame_bytes(),
		m->ws_mode == SP_SRV_WS_BROADCAST ? m->ws_queue : 0);
}

void
sp_serve_print(const struct sp_servemode *m, const struct sp_srv_counts *n,
	       const struct sp_report *r, FILE *out)
{
	uint64_t errors = sp_srv_errors(n);

	fprintf(out, "stampede serve on %s: %.3f s\n", r->target, r->elapsed_s);
	fprintf(out, "  response        %d, body %" PRIu64 " B, %s\n",
		m->status, m->body_size,
		m->close_each ? "Connection: close" : "keep-alive");
	fprintf(out,
		"  requests        %" PRIu64 "  responses %" PRIu64
		"  unanswered %" PRIu64 "  (%.1f req/s)\n",
		n->requests, n->responses, n->unanswered,
		sp_rate((double)n->responses, r->elapsed_s));
	fprintf(out,
		"  connections     accepted %" PRIu64 "  closed %" PRIu64
		"  open %" PRIu64 "  rejected %" PRIu64 "  (SYNs %" PRIu64
		", handshake not completed %" PRIu64 ")\n",
		n->connections, n->closed, n->open, n->rejected,
		r->stats.conn_passive,
		r->stats.conn_passive - n->connections - n->rejected);
	fprintf(out, "  closed by       ");
	for (int i = 0; i < SP_STREAM_END_NKINDS; i++)
		if (i != SP_STREAM_END_REFUSED &&
		    i != SP_STREAM_END_CONNECT_TIMEOUT &&
		    (i < SP_SRV_TCP_ENDS || m->tls != NULL))
			fprintf(out, " %s %" PRIu64, sp_srv_end_name[i],
				n->closed_by[i]);
	fputc('\n', out);
	fprintf(out, "  errors          %" PRIu64, errors);
	for (int i = 0; i < SP_SRV_NERR; i++)
		if (n->errors[i] != 0)
			fprintf(out, "  %s %" PRIu64, sp_srv_error_name(i),
				n->errors[i]);
	fputc('\n', out);
	fprintf(out, "  error responses");
	for (int i = 1; i < SP_ERESP_N; i++)
		fprintf(out, "  %s %" PRIu64, sp_eresp_code[i], n->eresp[i]);
	fputc('\n', out);
	fprintf(out,
		"  bytes           received %" PRIu64 " (bodies %" PRIu64
		")  sent %" PRIu64 "\n",
		n->bytes_received, n->body_received, n->bytes_sent);
	sp_srv_print_ws(m, n, r, out);
	sp_srv_print_tls(m, out);
	sp_print_stack(r, out);
	for (uint32_t c = 0; m->ncores > 1 && c < m->ncores; c++) {
		const struct sp_srv_counts *cn = &m->all[c].n;
		char what[128];
		int k;

		k = snprintf(what, sizeof(what),
			     "connections %" PRIu64 "  requests %" PRIu64,
			     sp_ctr_read(cn->connections),
			     sp_ctr_read(cn->requests));
		if (m->ws_mode != SP_SRV_WS_OFF)
			snprintf(what + k, sizeof(what) - (size_t)k,
				 "  ws messages in %" PRIu64 " out %" PRIu64,
				 sp_ctr_read(cn->ws_msgs_received),
				 sp_ctr_read(cn->ws_msgs_sent));
		sp_print_core(out, c, m->all[c].w, what);
	}
	fflush(out);
}

int
sp_serve_json(const struct sp_servemode *m, const struct sp_srv_counts *n,
	      const struct sp_report *r, FILE *f, const char *path)
{
	fprintf(f, "{\"version\":1,\"mode\":\"serve\",\"target\":");
	sp_json_str(f, r->target);
	fprintf(f, ",\"elapsed_s\":%.6f,\n", r->elapsed_s);
	fprintf(f,
		" \"serve\":{\"status\":%d,\"body_size\":%" PRIu64
		",\"close\":%s,\"requests\":%" PRIu64 ",\"responses\":%" PRIu64
		",\"unanswered\":%" PRIu64 ",\"req_per_s\":%.3f,\n",
		m->status, m->body_size, m->close_each ? "true" : "false",
		n->requests, n->responses, n->unanswered,
		sp_rate((double)n->responses, r->elapsed_s));
	/* syns: SYNs that made a connection in the stack; those the client
	 * gave up before the handshake completed never reach connections */
	fprintf(f,
		"  \"connections\":%" PRIu64 ",\"closed\":%" PRIu64
		",\"open\":%" PRIu64 ",\"rejected\":%" PRIu64
		",\"syns\":%" PRIu64 ",\"handshake_incomplete\":%" PRIu64
		",\"closed_by\":{",
		n->connections, n->closed, n->open, n->rejected,
		r->stats.conn_passive,
		r->stats.conn_passive - n->connections - n->rejected);
	for (int i = 0; i < SP_STREAM_END_NKINDS; i++) {
		if (i >= SP_SRV_TCP_ENDS && m->tls == NULL)
			break;
		if (i > 0)
			fputc(',', f);
		sp_json_str(f, sp_srv_end_name[i]);
		fprintf(f, ":%" PRIu64, n->closed_by[i]);
	}
	fprintf(f,
		"},\"resets\":%" PRIu64 ",\n  \"bytes\":{\"received\":%" PRIu64
		",\"body_received\":%" PRIu64 ",\"sent\":%" PRIu64 "},\n",
		n->closed_by[SP_CLOSE_RESET], n->bytes_received,
		n->body_received, n->bytes_sent);
	fprintf(f, "  \"errors_total\":%" PRIu64 ",\"errors\":{",
		sp_srv_errors(n));
	for (int i = 0; i < SP_SRV_NERR; i++) {
		if (i > 0)
			fputc(',', f);
		sp_json_str(f, sp_srv_error_name(i));
		fprintf(f, ":%" PRIu64, n->errors[i]);
	}
	fprintf(f, "},\"error_responses\":{");
	for (int i = 1; i < SP_ERESP_N; i++)
		fprintf(f, "%s\"%s\":%" PRIu64, i > 1 ? "," : "",
			sp_eresp_code[i], n->eresp[i]);
	fprintf(f, "}},\n");
	sp_srv_json_ws(m, n, r, f);
	sp_srv_json_tls(m, f);
	fprintf(f, " \"cores\":[");
	for (uint32_t c = 0; c < m->ncores; c++) {
		const struct sp_srv_counts *cn = &m->all[c].n;
		char fields[256];
		int k;

		k = snprintf(fields, sizeof(fields),
			     "\"connections\":%" PRIu64 ",\"requests\":%" PRIu64
			     ",\"responses\":%" PRIu64 ",\"rejected\":%" PRIu64,
			     sp_ctr_read(cn->connections),
			     sp_ctr_read(cn->requests),
			     sp_ctr_read(cn->responses),
			     sp_ctr_read(cn->rejected));
		if (m->ws_mode != SP_SRV_WS_OFF)
			snprintf(fields + k, sizeof(fields) - (size_t)k,
				 ",\"ws_msgs_received\":%" PRIu64
				 ",\"ws_msgs_sent\":%" PRIu64,
				 sp_ctr_read(cn->ws_msgs_received),
				 sp_ctr_read(cn->ws_msgs_sent));
		sp_json_core(f, c, m->all[c].w, fields);
	}
	fprintf(f, "],\n");
	sp_report_json_stack(r, f, 0);
	return sp_report_json_close(f, path);
}
