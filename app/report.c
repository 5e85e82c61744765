/*
 * The end-of-run report: a human summary on stdout and, on request, the
 * same figures as JSON (schema "version":1; key names are a contract with
 * scripts and tests, so they only ever get added, never renamed).
 *
 * Everything the run did is accounted for: attempted = ok + failed +
 * incomplete, failures by kind, drops by reason, pools at the end (zero when
 * nothing leaked), allocations after start-up (zero by design), and the
 * generator's own limits (TX ring full, no mbufs, loop busy) so that a
 * bottleneck in stampede is not mistaken for one in the target.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "sp_app.h"
#include "sp_tls.h"

void
sp_fmt_bytes(uint64_t b, char *buf, size_t len)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)b;
	unsigned int u = 0;

	while (v >= 1024.0 && u < 4) {
		v /= 1024.0;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%" PRIu64 " B", b);
	else
		snprintf(buf, len, "%.1f %s", v, unit[u]);
}

/* The process's peak resident memory (VmHWM), in bytes; 0 if unknown. */
static uint64_t
sp_rss_peak(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[128];
	uint64_t kb = 0;

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmHWM: %" SCNu64, &kb) == 1)
			break;
	fclose(f);
	return kb * 1024;
}

/* A worker's counters added into @t, read as sp_counter.h says. */
#define SP_REPORT_ADD(f) t->f += sp_ctr_read(w->f);

static void
sp_report_add_worker(struct sp_worker *t, const struct sp_worker *w)
{
	SP_WORKER_COUNTERS(SP_REPORT_ADD)
}

/* The stack's counters added into @t, by its header's list of them. */
static void
sp_report_add_stack(struct sp_stack_stats *t, const struct sp_stack_stats *s)
{
#define SP_STACK_ADD(f) t->f += sp_ctr_read(s->f);
#define SP_STACK_ADDN(f, n)                                                    \
	for (size_t k = 0; k < (n); k++)                                       \
		t->f[k] += sp_ctr_read(s->f[k]);
	SP_STACK_STATS_COUNTERS(SP_STACK_ADD, SP_STACK_ADDN)
#undef SP_STACK_ADD
#undef SP_STACK_ADDN
}

void
sp_report_collect(struct sp_report *r, const struct sp_worker *w,
		  struct sp_port *p)
{
	uint64_t start = sp_ctr_read(w->run_start_us);
	uint64_t end = sp_ctr_read(w->run_end_us);

	memset(r, 0, sizeof(*r));
	r->tls_hs_allocs = -1;
	r->elapsed_s = end > start ? (double)(end - start) / 1e6 : 0.0;
	sp_report_add_stack(&r->stats, sp_stack_stats(w->st));
	r->conns_in_use = sp_stack_conns_in_use(w->st);
	r->chunks_in_use = sp_stack_chunks_in_use(w->st);
	r->bytes_per_conn = sp_stack_bytes_per_conn(w->st);
	r->mem_bytes = sp_stack_mem_bytes(w->st);
	sp_port_stats(p, &r->nic);
	/* The report reads the workers' counters from its own sum, and
	 * beside them only what was set before launch. */
	r->wsum.ncores = w->ncores;
	r->wsum.place = w->place;
	r->wsum.impair = w->impair;
	sp_report_add_worker(&r->wsum, w);
	r->w = &r->wsum;
	r->ws = w;
	r->ncores = 1;
}

uint64_t
sp_workers_end_us(const struct sp_worker *ws, unsigned int n)
{
	uint64_t end = sp_ctr_read(ws[0].run_end_us);

	for (unsigned int i = 1; i < n; i++)
		if (sp_ctr_read(ws[i].run_end_us) > end)
			end = sp_ctr_read(ws[i].run_end_us);
	return end;
}

void
sp_report_collect_n(struct sp_report *r, const struct sp_worker *ws,
		    unsigned int n, struct sp_port *p)
{
	uint64_t start = sp_ctr_read(ws[0].run_start_us);
	uint64_t end = sp_workers_end_us(ws, n);

	sp_report_collect(r, &ws[0], p);
	r->ncores = n;
	if (n == 1)
		return;
	for (unsigned int i = 1; i < n; i++) {
		const struct sp_worker *w = &ws[i];

		sp_report_add_stack(&r->stats, sp_stack_stats(w->st));
		r->conns_in_use += sp_stack_conns_in_use(w->st);
		r->chunks_in_use += sp_stack_chunks_in_use(w->st);
		r->mem_bytes += sp_stack_mem_bytes(w->st);
		sp_report_add_worker(&r->wsum, w);
	}
	/* The busy share is per core: report the cores' mean. */
	r->wsum.busy_tsc /= n;
	if (end > start)
		r->elapsed_s = (double)(end - start) / 1e6;
}

#define SP_REPORT_PLUS(f) +sp_ctr_read(n->f)

uint64_t
sp_tcpmode_failed(const struct sp_tcpmode_counts *n)
{
	return 0 SP_TCPMODE_FAILURES(SP_REPORT_PLUS);
}

void
sp_report_tls_add(struct sp_tls_counters *sum, const struct sp_tls *t)
{
	const struct sp_tls_counters *c = sp_tls_counters(t);

	// clang-format off
#define SP_TLS_ADD(f) sum->f += sp_ctr_read(c->f);
#define SP_TLS_ADDN(f, n)                  \
	for (size_t k = 0; k < (n); k++)   \
		sum->f[k] += sp_ctr_read(c->f[k]);
	SP_TLS_ADD(connects) SP_TLS_ADD(pool_empty)
	SP_TLS_ADD(hs_full) SP_TLS_ADD(hs_resumed)
	SP_TLS_ADD(hs_failed) SP_TLS_ADD(hs_offered)
	SP_TLS_ADDN(ended, SP_STREAM_END_NKINDS)
	SP_TLS_ADD(hs_ticks_full) SP_TLS_ADD(hs_ticks_resumed)
	SP_TLS_ADDN(alerts_rx, SP_TLS_NALERTS)
	SP_TLS_ADDN(alerts_tx, SP_TLS_NALERTS)
	SP_TLS_ADD(verify_fail)
	SP_TLS_ADDN(verify_reason, SP_TLS_NVERIFY)
	SP_TLS_ADD(errs_other)
	SP_TLS_ADD(rec_bytes_in) SP_TLS_ADD(rec_bytes_out)
	SP_TLS_ADD(app_bytes_in) SP_TLS_ADD(app_bytes_out)
	SP_TLS_ADD(close_notify_rx) SP_TLS_ADD(unclean_close)
	SP_TLS_ADD(allocs_setup)
	SP_TLS_ADD(allocs_hs) SP_TLS_ADD(allocs_steady)
	SP_TLS_ADD(open)
	SP_TLS_ADD(hs_deferred) SP_TLS_ADD(hs_defer_ticks)
	SP_TLS_ADD(hs_over_budget)
#undef SP_TLS_ADD
#undef SP_TLS_ADDN
		// clang-format on
		/* The engine's error codes, merged by code; the first
	 * SP_TLS_NERRS distinct ones, the rest in errs_other. */
		for (unsigned k = 0; k < SP_TLS_NERRS; k++)
	{
		uint64_t n = sp_ctr_read(c->err_count[k]);
		unsigned j = 0;

		if (n == 0)
			continue;
		while (j < SP_TLS_NERRS && sum->err_count[j] != 0 &&
		       sum->err_code[j] != c->err_code[k])
			j++;
		if (j == SP_TLS_NERRS) {
			sum->errs_other += n;
			continue;
		}
		sum->err_code[j] = c->err_code[k];
		sum->err_count[j] += n;
	}
}

/* Alerts of one direction as " received NAME N" (text) or a JSON map. */
static int
sp_report_alerts(FILE *out, const uint64_t *n, const char *dir, int json)
{
	const char *sep = "";
	int any = 0;

	for (unsigned k = 0; k < SP_TLS_NALERTS; k++) {
		if (n[k] == 0)
			continue;
		if (json)
			fprintf(out, "%s\"%s\":%" PRIu64, sep,
				sp_tls_alert_name(k), n[k]);
		else
			fprintf(out, " %s %s %" PRIu64, dir,
				sp_tls_alert_name(k), n[k]);
		sep = ",";
		any = 1;
	}
	return any;
}

void
sp_report_tls_text(FILE *out, const struct sp_tls_counters *c,
		   const struct sp_tls_engine *e, size_t conn_bytes,
		   size_t idle_bytes, const char *pool)
{
	int any;

	fprintf(out,
		"  tls cpu         %.0f us per full handshake, %.0f us "
		"per resumed (worker CPU in the TLS engine)\n",
		sp_report_tls_us(c->hs_ticks_full, c->hs_full),
		sp_report_tls_us(c->hs_ticks_resumed, c->hs_resumed));
	if (c->hs_deferred != 0 || c->hs_over_budget != 0)
		fprintf(out,
			"  tls budget      %" PRIu64 " handshake inputs waited "
			"for the next loop iteration (%.0f us each on "
			"average: ours), %" PRIu64 " taken over budget\n",
			c->hs_deferred,
			sp_report_tls_us(c->hs_defer_ticks, c->hs_deferred),
			c->hs_over_budget);
	fprintf(out, "  tls alerts     ");
	any = sp_report_alerts(out, c->alerts_rx, "received", 0);
	any |= sp_report_alerts(out, c->alerts_tx, "sent", 0);
	fprintf(out, "%s\n", any ? "" : " none");
	any = 0;
	fprintf(out, "  tls verify      failed %" PRIu64, c->verify_fail);
	for (unsigned k = 0; k < SP_TLS_NVERIFY; k++)
		if (c->verify_reason[k] != 0) {
			fprintf(out, "%s%s %" PRIu64, any ? ", " : ": ",
				sp_tls_verify_name(e, k), c->verify_reason[k]);
			any = 1;
		}
	fputc('\n', out);
	any = 0;
	for (unsigned k = 0; k < SP_TLS_NERRS; k++) {
		char name[160];

		if (c->err_count[k] == 0)
			continue;
		fprintf(out, "%s%s (-0x%04x) %" PRIu64,
			any ? ", " : "  tls causes      ",
			sp_tls_error_name(e, c->err_code[k], name,
					  sizeof(name)),
			(unsigned)-c->err_code[k], c->err_count[k]);
		any = 1;
	}
	if (c->errs_other != 0)
		fprintf(out, "%sothers %" PRIu64,
			any ? ", " : "  tls causes      ", c->errs_other);
	if (any || c->errs_other != 0)
		fputc('\n', out);
	fprintf(out,
		"  tls bytes       records in %" PRIu64 "  out %" PRIu64
		"  per connection %zu, idle %zu%s%s%s  closes with "
		"close_notify %" PRIu64 "  without %" PRIu64 "\n",
		c->rec_bytes_in, c->rec_bytes_out, conn_bytes, idle_bytes,
		pool != NULL ? " (pool of " : "", pool != NULL ? pool : "",
		pool != NULL ? ")" : "", c->close_notify_rx, c->unclean_close);
	fprintf(out,
		"  tls allocs      in handshakes %" PRIu64
		"  after them %" PRIu64 "\n",
		c->allocs_hs, c->allocs_steady);
}

void
sp_report_tls_json(FILE *f, const struct sp_tls_counters *c,
		   const struct sp_tls_engine *e, size_t conn_bytes,
		   size_t idle_bytes)
{
	const char *sep = "";

	fprintf(f, ",\"cpu_us_per_full\":%.1f,\"cpu_us_per_resumed\":%.1f",
		sp_report_tls_us(c->hs_ticks_full, c->hs_full),
		sp_report_tls_us(c->hs_ticks_resumed, c->hs_resumed));
	fprintf(f,
		",\"handshake_inputs_deferred\":%" PRIu64
		",\"deferred_wait_us\":%.1f,\"handshake_inputs_over_budget\":%" PRIu64,
		c->hs_deferred,
		sp_report_tls_us(c->hs_defer_ticks, c->hs_deferred),
		c->hs_over_budget);
	fprintf(f, ",\"alerts_received\":{");
	sp_report_alerts(f, c->alerts_rx, NULL, 1);
	fprintf(f, "},\"alerts_sent\":{");
	sp_report_alerts(f, c->alerts_tx, NULL, 1);
	fprintf(f, "},\"verify_failed\":%" PRIu64 ",\"verify_reasons\":{",
		c->verify_fail);
	for (unsigned k = 0; k < SP_TLS_NVERIFY; k++)
		if (c->verify_reason[k] != 0) {
			fprintf(f, "%s\"%s\":%" PRIu64, sep,
				sp_tls_verify_name(e, k), c->verify_reason[k]);
			sep = ",";
		}
	sep = "";
	fprintf(f, "},\"causes\":{");
	for (unsigned k = 0; k < SP_TLS_NERRS; k++) {
		char name[160];

		if (c->err_count[k] == 0)
			continue;
		fputs(sep, f);
		sp_json_str(f, sp_tls_error_name(e, c->err_code[k], name,
						 sizeof(name)));
		fprintf(f, ":%" PRIu64, c->err_count[k]);
		sep = ",";
	}
	if (c->errs_other != 0)
		fprintf(f, "%s\"others\":%" PRIu64, sep, c->errs_other);
	fprintf(f,
		"},\"record_bytes_in\":%" PRIu64
		",\"record_bytes_out\":%" PRIu64
		",\"close_notify_received\":%" PRIu64
		",\"closes_without_close_notify\":%" PRIu64
		",\"bytes_per_connection\":%zu"
		",\"bytes_per_idle_connection\":%zu"
		",\"allocs_in_handshakes\":%" PRIu64
		",\"allocs_after_handshakes\":%" PRIu64 "},\n",
		c->rec_bytes_in, c->rec_bytes_out, c->close_notify_rx,
		c->unclean_close, conn_bytes, idle_bytes, c->allocs_hs,
		c->allocs_steady);
}

double
sp_report_tls_us(uint64_t ticks, uint64_t n)
{
	return n ? (double)ticks * 1e6 / (double)rte_get_tsc_hz() / (double)n :
		   0.0;
}

double
sp_rate(double x, double s)
{
	return s > 0.0 ? x / s : 0.0;
}

static double
sp_mbit_per_s(const struct sp_report *r)
{
	const struct sp_tcpmode_counts *n = r->tcp;

	if (n == NULL)
		return 0.0;
	/* Payload both ways: an echo moves every byte twice. */
	return sp_rate((double)(n->bytes_sent + n->bytes_received) * 8.0 / 1e6,
		       r->elapsed_s);
}

/* Share of the load phase the worker spent in iterations that did work. */
static double
sp_busy_pct(const struct sp_report *r)
{
	return sp_rate(100.0 * (double)sp_tsc_to_us(r->w->busy_tsc) / 1e6,
		       r->elapsed_s);
}

/* How segments reach their core: one core; the NIC's hash (RSS-chosen
 * source pairs, or passive flows where they land); or passed on between
 * cores to their owner. */
static const char *
sp_place_name(const struct sp_worker *w)
{
	return w->place == SP_PLACE_SINGLE ? "single" :
	       w->place == SP_PLACE_RSS    ? "rss" :
					     "redirect";
}

static int
sp_impaired(const struct sp_worker *w)
{
	return w->impair.drop_bp != 0 || w->impair.reorder_bp != 0 ||
	       w->impair.dup_bp != 0;
}

static void
sp_print_tcp(const struct sp_report *r, FILE *out)
{
	const struct sp_tcpmode_counts *n = r->tcp;
	uint64_t failed = sp_tcpmode_failed(n);
	uint64_t attempted = n->ok + failed + n->incomplete;
	const struct {
		const char *name;
		uint64_t v;
	} kinds[] = {
#define SP_REPORT_KIND(f) { #f, n->f },
		SP_TCPMODE_FAILURES(SP_REPORT_KIND)
#undef SP_REPORT_KIND
	};

	fprintf(out, "stampede tcp %s -> %s\n", r->mode, r->target);
	fprintf(out, "  elapsed         %.3f s\n", r->elapsed_s);
	fprintf(out,
		"  connections     attempted %" PRIu64 "  ok %" PRIu64
		"  failed %" PRIu64 "  incomplete %" PRIu64,
		attempted, n->ok, failed, n->incomplete);
	if (n->planned > n->started)
		fprintf(out, "  (not started %" PRIu64 " of %" PRIu64 ")",
			n->planned - n->started, n->planned);
	fputc('\n', out);
	if (failed != 0) {
		fprintf(out, "  failed by kind ");
		for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
			if (kinds[i].v != 0)
				fprintf(out, " %s %" PRIu64, kinds[i].name,
					kinds[i].v);
		fputc('\n', out);
	}
	fprintf(out, "  rate            %.1f ok conn/s  %.2f Mbit/s\n",
		sp_rate((double)n->ok, r->elapsed_s), sp_mbit_per_s(r));
	fprintf(out,
		"  bytes           sent %" PRIu64 "  received %" PRIu64
		"  verified %" PRIu64 "\n",
		n->bytes_sent, n->bytes_received, n->bytes_verified);
	if (n->sha256)
		fprintf(out,
			"  sha256 sent     %s (first connection)\n"
			"  sha256 recv     %s  echoes differing %" PRIu64 "\n",
			n->sha256_sent, n->sha256_received, n->sha256_differ);
	if (sp_impaired(r->w))
		fprintf(out,
			"  impaired rx     dropped %" PRIu64
			"  reordered %" PRIu64 "  duplicated %" PRIu64 "\n",
			r->w->imp_dropped, r->w->imp_reordered,
			r->w->imp_duplicated);
	if (n->connect_nobufs + n->connect_noports != 0)
		fprintf(out,
			"  connect retries pool full %" PRIu64
			"  no free port %" PRIu64 " (TIME_WAIT)\n",
			n->connect_nobufs, n->connect_noports);
}

void
sp_print_stack(const struct sp_report *r, FILE *out)
{
	const struct sp_stack_stats *s = &r->stats;
	const struct sp_worker *w = r->w;
	char mem[32];
	int any = 0;

	fprintf(out,
		"  tcp             retrans %" PRIu64 " (fast %" PRIu64
		", rto %" PRIu64 ", syn %" PRIu64 ")  dup_acks %" PRIu64
		"  ooo %" PRIu64 "  dsack %" PRIu64 "\n",
		s->tcp_retrans_segs, s->tcp_fast_retrans, s->tcp_rto,
		s->tcp_syn_retrans, s->tcp_dup_acks, s->tcp_ooo_segs,
		s->tcp_dsack);
	fprintf(out,
		"                  rst rx %" PRIu64 " tx %" PRIu64
		"  challenge_acks %" PRIu64 "  zwnd_probes %" PRIu64
		"  snd_nochunk %" PRIu64 "  wnd_shrunk %" PRIu64 "\n",
		s->tcp_rst_rx, s->tcp_rst_tx, s->tcp_challenge_acks,
		s->tcp_zwnd_probes, s->tcp_snd_nochunk, s->tcp_wnd_shrunk);
	if (s->tcp_linger_fin != 0 || s->tcp_linger_timeout != 0)
		fprintf(out,
			"                  closed after the server: %" PRIu64
			"  server did not close in time: %" PRIu64 "\n",
			s->tcp_linger_fin, s->tcp_linger_timeout);
	fprintf(out, "  drops          ");
	for (int i = 0; i < SP_DROP_NREASONS; i++) {
		if (s->drop[i] == 0)
			continue;
		fprintf(out, " %s %" PRIu64,
			sp_drop_reason_name((enum sp_drop_reason)i),
			s->drop[i]);
		any = 1;
	}
	fprintf(out, "%s\n", any ? "" : " none");
	sp_fmt_bytes(r->mem_bytes, mem, sizeof(mem));
	fprintf(out,
		"  pools at end    conns %" PRIu32 "  chunks %" PRIu32
		"  (%zu B per conn, %s stack memory)\n",
		r->conns_in_use, r->chunks_in_use, r->bytes_per_conn, mem);
	sp_fmt_bytes(sp_rss_peak(), mem, sizeof(mem));
	fprintf(out,
		"  memory          peak %" PRIu64 " connections at once, "
		"process RSS peak %s\n",
		r->stats.conns_peak, mem);
	fprintf(out, "  allocs after start %" PRId64 "%s", sp_alloc_hot_count(),
		sp_alloc_hot_count() < 0 ?
			" (not counted in sanitizer builds)" :
			"");
	if (r->tls_hs_allocs >= 0 && sp_alloc_hot_count() >= 0)
		fprintf(out,
			" (in TLS handshakes %" PRId64 ", the rest %" PRId64
			")",
			r->tls_hs_allocs,
			sp_alloc_hot_count() - r->tls_hs_allocs);
	fputc('\n', out);
	fprintf(out,
		"  arp             rx request %" PRIu64 " reply %" PRIu64
		"  tx request %" PRIu64 " reply %" PRIu64
		"  learnt from a SYN %" PRIu64 "\n",
		s->arp_rx_request, s->arp_rx_reply, s->arp_tx_request,
		s->arp_tx_reply, s->arp_from_syn);
	fprintf(out, "  icmp echo       %" PRIu64 " answered\n", s->icmp_echo);
	fprintf(out,
		"  checksums       tx ip sw %" PRIu64 " nic %" PRIu64
		"  tcp sw %" PRIu64 " nic %" PRIu64 "  rx ip sw %" PRIu64
		" nic %" PRIu64 "  tcp sw %" PRIu64 " nic %" PRIu64 "\n",
		s->cksum_tx_ip_sw, s->cksum_tx_ip_nic, s->cksum_tx_tcp_sw,
		s->cksum_tx_tcp_nic, s->cksum_rx_ip_sw, s->cksum_rx_ip_nic,
		s->cksum_rx_tcp_sw, s->cksum_rx_tcp_nic);
	fprintf(out, "  frames          rx %" PRIu64 "  tx %" PRIu64 "\n",
		s->rx_frames, s->tx_frames);
	if (r->nic.valid)
		fprintf(out,
			"  nic             ipackets %" PRIu64
			"  opackets %" PRIu64 "  imissed %" PRIu64
			"  ierrors %" PRIu64 "  oerrors %" PRIu64
			"  rx_nombuf %" PRIu64 "\n",
			r->nic.ipackets, r->nic.opackets, r->nic.imissed,
			r->nic.ierrors, r->nic.oerrors, r->nic.rx_nombuf);
	/* The generator's own limits: non-zero means it was the bottleneck. */
	fprintf(out,
		"  generator       tx ring full %" PRIu64 "  no mbuf %" PRIu64
		"  no arp %" PRIu64 "  rx multiseg %" PRIu64
		"  loop busy %.0f%%\n",
		w->tx_dropped, s->tx_nobuf, s->tx_noarp, w->rx_multiseg,
		sp_busy_pct(r));
	if (w->ncores > 1)
		fprintf(out,
			"  cores           %u  placement %s  segments passed "
			"to their owner core %" PRIu64 "  (ring full: %" PRIu64
			" dropped)  on a wrong queue under RSS %" PRIu64
			"  ARP copies %" PRIu64 "\n",
			w->ncores, sp_place_name(w), w->redirect_out,
			w->redirect_full, w->rss_misplaced, w->arp_copies);
}

void
sp_print_core(FILE *out, unsigned int core, const struct sp_worker *w,
	      const char *what)
{
	fprintf(out,
		"  core %-2u         %s  frames passed out %" PRIu64
		" in %" PRIu64 "\n",
		core, what, sp_ctr_read(w->redirect_out),
		sp_ctr_read(w->redirect_in));
}

void
sp_json_core(FILE *f, unsigned int core, const struct sp_worker *w,
	     const char *fields)
{
	fprintf(f,
		"%s\n  {\"core\":%u,%s,\"redirect_out\":%" PRIu64
		",\"redirect_in\":%" PRIu64 ",\"redirect_full\":%" PRIu64
		",\"rx_pkts\":%" PRIu64 ",\"tx_pkts\":%" PRIu64 "}",
		core ? "," : "", core, fields, sp_ctr_read(w->redirect_out),
		sp_ctr_read(w->redirect_in), sp_ctr_read(w->redirect_full),
		sp_ctr_read(w->rx_pkts), sp_ctr_read(w->tx_pkts));
}

void
sp_report_print(const struct sp_report *r, FILE *out)
{
	if (r->tcp != NULL)
		sp_print_tcp(r, out);
	else
		fprintf(out, "stampede net on %s: %.3f s\n", r->target,
			r->elapsed_s);
	sp_print_stack(r, out);
	for (unsigned int c = 0; r->ncores > 1 && c < r->ncores; c++) {
		const struct sp_tcpmode_counts *n = r->tcp_core[c];
		char what[96];

		if (n == NULL)
			break;
		snprintf(what, sizeof(what),
			 "started %" PRIu64 "  ok %" PRIu64 "  failed %" PRIu64,
			 sp_ctr_read(n->started), sp_ctr_read(n->ok),
			 sp_tcpmode_failed(n));
		sp_print_core(out, c, &r->ws[c], what);
	}
	fflush(out);
}

/* Names and addresses we print are plain ASCII, but a JSON string must stay
 * valid whatever a future reason name contains. */
void
sp_json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

/* The stack's, the port's and the generator's part of every JSON report:
 * members after the mode's own, without the closing brace. */
void
sp_report_json_stack(const struct sp_report *r, FILE *f,
		     uint64_t connect_retries)
{
	const struct sp_stack_stats *s = &r->stats;
	const struct sp_worker *w = r->w;

	fprintf(f,
		" \"tcp\":{\"retrans_segs\":%" PRIu64
		",\"fast_retrans\":%" PRIu64 ",\"rto\":%" PRIu64
		",\"syn_retrans\":%" PRIu64 ",\"dup_acks\":%" PRIu64
		",\"ooo_segs\":%" PRIu64 ",\"dsack\":%" PRIu64
		",\"rst_rx\":%" PRIu64 ",\"rst_tx\":%" PRIu64
		",\"challenge_acks\":%" PRIu64 ",\"zwnd_probes\":%" PRIu64
		",\"snd_nochunk\":%" PRIu64 ",\"wnd_shrunk\":%" PRIu64
		",\"linger_fin\":%" PRIu64 ",\"linger_timeout\":%" PRIu64
		"},\n",
		s->tcp_retrans_segs, s->tcp_fast_retrans, s->tcp_rto,
		s->tcp_syn_retrans, s->tcp_dup_acks, s->tcp_ooo_segs,
		s->tcp_dsack, s->tcp_rst_rx, s->tcp_rst_tx,
		s->tcp_challenge_acks, s->tcp_zwnd_probes, s->tcp_snd_nochunk,
		s->tcp_wnd_shrunk, s->tcp_linger_fin, s->tcp_linger_timeout);
	fprintf(f, " \"drops\":{");
	for (int i = 0; i < SP_DROP_NREASONS; i++) {
		if (i > 0)
			fputc(',', f);
		sp_json_str(f, sp_drop_reason_name((enum sp_drop_reason)i));
		fprintf(f, ":%" PRIu64, s->drop[i]);
	}
	fprintf(f, "},\n");
	fprintf(f,
		" \"pools\":{\"conns_in_use\":%" PRIu32
		",\"chunks_in_use\":%" PRIu32
		",\"bytes_per_conn\":%zu,\"mem_bytes\":%zu,"
		"\"conns_peak\":%" PRIu64 ",\"rss_peak_bytes\":%" PRIu64 "},\n",
		r->conns_in_use, r->chunks_in_use, r->bytes_per_conn,
		r->mem_bytes, s->conns_peak, sp_rss_peak());
	fprintf(f,
		" \"allocs_after_start\":%" PRId64
		", \"arp\":{\"rx_request\":%" PRIu64 ",\"rx_reply\":%" PRIu64
		",\"tx_request\":%" PRIu64 ",\"tx_reply\":%" PRIu64
		",\"from_syn\":%" PRIu64 "}, \"icmp_echo\":%" PRIu64 ",\n",
		sp_alloc_hot_count(), s->arp_rx_request, s->arp_rx_reply,
		s->arp_tx_request, s->arp_tx_reply, s->arp_from_syn,
		s->icmp_echo);
	/* Who made and checked the checksums: the stack (sw) or the NIC. */
	fprintf(f,
		" \"cksum\":{\"tx_ip_sw\":%" PRIu64 ",\"tx_ip_nic\":%" PRIu64
		",\"tx_tcp_sw\":%" PRIu64 ",\"tx_tcp_nic\":%" PRIu64
		",\"rx_ip_sw\":%" PRIu64 ",\"rx_ip_nic\":%" PRIu64
		",\"rx_tcp_sw\":%" PRIu64 ",\"rx_tcp_nic\":%" PRIu64 "},\n",
		s->cksum_tx_ip_sw, s->cksum_tx_ip_nic, s->cksum_tx_tcp_sw,
		s->cksum_tx_tcp_nic, s->cksum_rx_ip_sw, s->cksum_rx_ip_nic,
		s->cksum_rx_tcp_sw, s->cksum_rx_tcp_nic);
	fprintf(f,
		" \"nic\":{\"ipackets\":%" PRIu64 ",\"opackets\":%" PRIu64
		",\"imissed\":%" PRIu64 ",\"ierrors\":%" PRIu64
		",\"oerrors\":%" PRIu64 ",\"rx_nombuf\":%" PRIu64 "},\n",
		r->nic.ipackets, r->nic.opackets, r->nic.imissed,
		r->nic.ierrors, r->nic.oerrors, r->nic.rx_nombuf);
	/* Added to the contract: the generator's own limits. */
	fprintf(f,
		" \"generator\":{\"tx_ring_full\":%" PRIu64
		",\"tx_nobuf\":%" PRIu64 ",\"tx_noarp\":%" PRIu64
		",\"rx_multiseg\":%" PRIu64 ",\"connect_retries\":%" PRIu64
		",\"iterations\":%" PRIu64 ",\"idle_iterations\":%" PRIu64
		",\"busy_pct\":%.1f,"
		"\"cores\":%u,\"placement\":\"%s\",\"redirect_out\":%" PRIu64
		",\"redirect_in\":%" PRIu64 ",\"redirect_full\":%" PRIu64
		",\"redirect_stranded\":%" PRIu64 ",\"rss_misplaced\":%" PRIu64
		",\"arp_copies\":%" PRIu64 "}",
		w->tx_dropped, s->tx_nobuf, s->tx_noarp, w->rx_multiseg,
		connect_retries, w->iterations, w->idle_iterations,
		sp_busy_pct(r), w->ncores ? w->ncores : 1u, sp_place_name(w),
		w->redirect_out, w->redirect_in, w->redirect_full,
		w->redirect_stranded, w->rss_misplaced, w->arp_copies);
	if (sp_impaired(w))
		fprintf(f,
			",\n \"impair\":{\"dropped\":%" PRIu64
			",\"reordered\":%" PRIu64 ",\"duplicated\":%" PRIu64
			"}",
			w->imp_dropped, w->imp_reordered, w->imp_duplicated);
}

int
sp_report_json_close(FILE *f, const char *path)
{
	int err;

	fprintf(f, "}\n");
	err = ferror(f);
	if (fclose(f) != 0 || err) {
		fprintf(stderr, "stampede: --json: writing %s failed\n", path);
		return -1;
	}
	return 0;
}

int
sp_report_json(const struct sp_report *r, FILE *f, const char *path)
{
	/* `net` has no connections: same shape, zero counts, one schema. */
	static const struct sp_tcpmode_counts none;
	const struct sp_tcpmode_counts *n = r->tcp != NULL ? r->tcp : &none;
	uint64_t failed = sp_tcpmode_failed(n);

	fprintf(f, "{\"version\":1,\"mode\":");
	sp_json_str(f, r->mode);
	fprintf(f, ",\"target\":");
	sp_json_str(f, r->target);
	fprintf(f, ",\"elapsed_s\":%.6f,\n", r->elapsed_s);
	fprintf(f,
		" \"connections\":{\"attempted\":%" PRIu64 ",\"ok\":%" PRIu64
		",\"failed\":%" PRIu64,
		n->ok + failed + n->incomplete, n->ok, failed);
#define SP_REPORT_JSON(c) fprintf(f, ",\"" #c "\":%" PRIu64, n->c);
	SP_TCPMODE_FAILURES(SP_REPORT_JSON)
#undef SP_REPORT_JSON
	fprintf(f, ",\"incomplete\":%" PRIu64 "},\n", n->incomplete);
	fprintf(f,
		" \"conn_per_s\":%.3f, \"bytes\":{\"sent\":%" PRIu64
		",\"received\":%" PRIu64 ",\"verified\":%" PRIu64
		"}, \"mbit_per_s\":%.3f,\n",
		sp_rate((double)n->ok, r->elapsed_s), n->bytes_sent,
		n->bytes_received, n->bytes_verified, sp_mbit_per_s(r));
	sp_report_json_stack(r, f, n->connect_nobufs + n->connect_noports);
	fprintf(f, ",\n \"cores\":[");
	for (unsigned int c = 0; c < r->ncores && r->tcp_core[c] != NULL; c++) {
		const struct sp_tcpmode_counts *cn = r->tcp_core[c];
		char fields[192];

		snprintf(fields, sizeof(fields),
			 "\"started\":%" PRIu64 ",\"ok\":%" PRIu64
			 ",\"failed\":%" PRIu64 ",\"incomplete\":%" PRIu64
			 ",\"bytes_sent\":%" PRIu64,
			 sp_ctr_read(cn->started), sp_ctr_read(cn->ok),
			 sp_tcpmode_failed(cn), sp_ctr_read(cn->incomplete),
			 sp_ctr_read(cn->bytes_sent));
		sp_json_core(f, c, &r->ws[c], fields);
	}
	fprintf(f, "]");
	if (n->sha256) {
		fprintf(f,
			",\n \"sha256\":{\"sent\":\"%s\",\"received\":\"%s\",\"echo_differ\":%" PRIu64
			"}",
			n->sha256_sent, n->sha256_received, n->sha256_differ);
	}
	return sp_report_json_close(f, path);
}
