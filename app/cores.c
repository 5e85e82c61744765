/*
 * The worker cores of a run-like mode (tcp, serve, run, net): EAL and the
 * port, how the cores share its flows (placement), each core's worker and
 * stack, the run and the teardown. A mode keeps only what is its own: its
 * state on each core, its stack settings beyond the common ones, and what
 * it does once a core's stack exists (listen, attach a stream).
 *
 * Placement: with one core every frame is its own. With several, active
 * opens take source (address, port) pairs whose replies the NIC's RSS hash
 * sends to their core, or else a slice of the ephemeral ports each (a
 * frame on the wrong queue is passed to the owner); passive flows stay
 * where RSS puts them, or go to the core a hash of the peer names.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_app.h"

/* --placement auto: RSS where the port gives its key and table, else
 * redirects; rss: RSS or fail; redirect: never RSS. 0, or -1 after
 * printing why (rss asked for and not possible). */
static int
sp_placement_init(struct sp_placement *pl, const struct sp_port *p,
		  const struct sp_netopt *no, unsigned int n)
{
	memset(pl, 0, sizeof(*pl));
	pl->n = n;
	if (n < 2 || no->placement == SP_WANT_REDIRECT)
		return 0;
	if (sp_port_rss(p, pl->key, pl->reta, &pl->reta_size) < 0) {
		if (no->placement != SP_WANT_RSS)
			return 0;
		fprintf(stderr,
			"stampede: --placement rss: the port gives no "
			"RSS key and redirection table for IPv4 TCP (an "
			"af_packet port never does); --placement redirect "
			"works on any port\n");
		return -1;
	}
	pl->rss = 1;
	return 0;
}

static void
sp_placement_free(struct sp_placement *pl)
{
	free(pl->pairs);
	free(pl->owner);
	pl->pairs = NULL;
	pl->owner = NULL;
}

/* Core @i opens connections to @dst_ip:@dst_port: the (address, port)
 * pairs its stack may use (@cfg: those whose replies the NIC's hash sends
 * to queue @i, or slice @i of the ports) and how frames find it (@w).
 * Before sp_worker_create_stack. 0, or -1 after printing why (out of
 * memory). */
static int
sp_placement_active(struct sp_placement *pl, struct sp_worker *w,
		    unsigned int i, const struct sp_netopt *no, uint32_t dst_ip,
		    uint16_t dst_port, struct sp_stack_config *cfg)
{
	uint32_t span = SP_EPH_COUNT / pl->n;
	uint32_t nip = no->ip_count ? no->ip_count : 1;

	w->queue = (uint16_t)i;
	w->ncores = (uint16_t)pl->n;
	if (pl->n < 2) {
		w->place = SP_PLACE_SINGLE;
		return 0;
	}
	if (pl->rss) {
		/* The NIC's hash decides: this core's pairs of all ports,
		 * from one hash per pair for all cores (the first core's
		 * call makes the table; every core has the same target). */
		if (pl->owner == NULL) {
			size_t np = (size_t)SP_EPH_COUNT * nip;

			pl->pairs = calloc(np, sizeof(*pl->pairs));
			pl->owner = malloc(np);
			if (pl->pairs == NULL || pl->owner == NULL) {
				fprintf(stderr, "stampede: out of memory for "
						"RSS placement\n");
				return -1;
			}
			sp_rss_owners(pl->key, pl->reta, pl->reta_size, no->ip,
				      nip, SP_EPH_FIRST, SP_EPH_LAST, dst_ip,
				      dst_port, pl->owner);
		}
		cfg->port_min = SP_EPH_FIRST;
		cfg->port_max = SP_EPH_LAST;
		cfg->npairs = sp_rss_pairs(pl->owner, nip, SP_EPH_COUNT,
					   (uint16_t)i, pl->pairs);
		cfg->pairs = pl->pairs; /* the stack copies them */
		w->place = SP_PLACE_RSS;
		w->rss_owner = pl->owner;
		w->rss_ip = no->ip;
		w->rss_ip_count = nip;
		return 0;
	}
	cfg->port_min = (uint16_t)(SP_EPH_FIRST + i * span);
	cfg->port_max = (uint16_t)(SP_EPH_FIRST + (i + 1) * span - 1);
	w->place = SP_PLACE_PORTS;
	w->port_span = (uint16_t)span;
	return 0;
}

/* Core @i accepts connections: with RSS a flow stays on the queue it came
 * in on; without (af_packet's fanout may roll a flow over to another
 * socket under load) a hash of the peer's address and port decides. */
static void
sp_placement_passive(const struct sp_placement *pl, struct sp_worker *w,
		     unsigned int i)
{
	w->queue = (uint16_t)i;
	w->ncores = (uint16_t)pl->n;
	w->place = pl->n < 2 ? SP_PLACE_SINGLE :
		   pl->rss   ? SP_PLACE_RSS :
			       SP_PLACE_PEER;
}

int
sp_cores_open(struct sp_cores *c, const struct sp_netopt *no)
{
	c->n = no->cores;
	sp_signals_install();
	if (sp_port_open(&c->port, no) < 0)
		return -1;
	sp_clock_init();
	return sp_placement_init(&c->place, &c->port, no, c->n);
}

void
sp_cores_stack_config(const struct sp_cores *c, struct sp_stack_config *cfg,
		      uint32_t pool, uint64_t concurrency)
{
	sp_stack_config_defaults(cfg, pool);
	/* Each queue has its own ring: its connections share it. */
	if (concurrency != 0)
		sp_worker_size_window(&c->port, concurrency, cfg);
}

int
sp_cores_add(struct sp_cores *c, unsigned int i, const struct sp_netopt *no,
	     struct sp_stack_config *cfg, const struct sp_core_mode *m)
{
	struct sp_worker *w = &c->ws[i];

	if (m->dst_ip != 0) {
		if (sp_placement_active(&c->place, w, i, no, m->dst_ip,
					m->dst_port, cfg) < 0)
			return -1;
		w->nexthop = sp_netopt_nexthop(no, m->dst_ip);
		w->nexthop_is_gateway = w->nexthop != m->dst_ip;
	} else {
		sp_placement_passive(&c->place, w, i);
		/* Peers come to us: nothing to resolve first, unless a
		 * gateway was given (then it is checked, as the other
		 * modes do). */
		w->nexthop = no->gateway;
		w->nexthop_is_gateway = 1;
	}
	w->mode = m->mode;
	w->mode_ctx = m->mode_ctx;
	w->drain_us = m->drain_us;
	w->impair = m->impair;
	return sp_worker_create_stack(w, &c->port, no, cfg, m->ops, m->app);
}

int
sp_cores_run(struct sp_cores *c, uint64_t duration_us)
{
	return sp_workers_run(c->ws, c->n, duration_us);
}

void
sp_cores_close(struct sp_cores *c)
{
	sp_workers_destroy(c->ws);
	sp_placement_free(&c->place);
	sp_port_close(&c->port);
}
