/*
 * Internal interfaces of the stampede binary.
 *
 * The binary is split so that each subcommand (tcpmode.c, netmode.c) only
 * parses its own options and supplies a "mode": a few callbacks that the
 * generic worker loop (worker.c) runs on the worker lcore. Everything else is
 * shared: network option parsing (netopt.c), EAL and port bring-up (port.c),
 * the worker cores of a run: placement, worker and stack per core (cores.c),
 * the control loop on the main lcore (control.c) and the report (report.c).
 */
#ifndef SP_APP_H
#define SP_APP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <rte_cycles.h>
#include <rte_mbuf.h>

#include "sp_counter.h"
#include "sp_tcpstack.h"

/* Exit codes, documented in --help and the README. */
enum {
	SP_EXIT_OK = 0,
	SP_EXIT_FAILED = 1, /* the run completed but some work failed */
	SP_EXIT_USAGE = 2,
	SP_EXIT_NORUN = 3, /* EAL, port, ARP or stack set-up failed */
};

#define SP_US_PER_S 1000000ull
#define SP_MAX_CORES 16 /* worker lcores, one RX/TX queue pair each */

/* Counter lists: an X-macro names every counter of a struct once, and
 * that list drives summing across cores and, where their order allows,
 * the reports. X(f) is one uint64_t, A(f, n) an array of n; a
 * _Static_assert beside each list checks it against the struct's layout
 * with these. */
#define SP_LIST_COUNT1(f) +1
#define SP_LIST_COUNTN(f, n) +(n)

/* ---- netopt.c: option values shared by the run-like subcommands ---- */

/* Long options all run-like subcommands accept; their getopt codes start at
 * SP_NETOPT_BASE so that subcommands can number theirs from SP_OPT_BASE. */
enum {
	SP_NETOPT_BASE = 0x100,
	SP_NETOPT_PORT = SP_NETOPT_BASE,
	SP_NETOPT_IP,
	SP_NETOPT_PREFIX_LEN,
	SP_NETOPT_GATEWAY,
	SP_NETOPT_EAL,
	SP_NETOPT_CORES,
	SP_NETOPT_PLACEMENT,
	SP_NETOPT_NO_KERNEL_BLIND,
	SP_NETOPT_VERSION,
	SP_NETOPT_END,
	SP_OPT_BASE = 0x200,
};

#define SP_NETOPT_LONGOPTS                                                     \
	{ "port", required_argument, NULL, SP_NETOPT_PORT },                   \
		{ "ip", required_argument, NULL, SP_NETOPT_IP },               \
		{ "prefix-len", required_argument, NULL,                       \
		  SP_NETOPT_PREFIX_LEN },                                      \
		{ "gateway", required_argument, NULL, SP_NETOPT_GATEWAY },     \
		{ "eal", required_argument, NULL, SP_NETOPT_EAL },             \
		{ "cores", required_argument, NULL, SP_NETOPT_CORES },         \
		{ "placement", required_argument, NULL, SP_NETOPT_PLACEMENT }, \
		{ "no-kernel-blind", no_argument, NULL,                        \
		  SP_NETOPT_NO_KERNEL_BLIND },                                 \
	{                                                                      \
		"version", no_argument, NULL, SP_NETOPT_VERSION                \
	}

#define SP_NETOPT_HELP                                                            \
	"network options:\n"                                                      \
	"  --port af_packet:IFACE | PCI   the NIC port (af_packet vdev or a\n"    \
	"                                 PCI address such as 0000:01:00.0)\n"    \
	"  --ip A.B.C.D[-E.F.G.H]         our address, or a range of them\n"      \
	"  --prefix-len N                 on-link prefix length (default 24)\n"   \
	"  --gateway A.B.C.D              next hop for off-link targets\n"        \
	"                                 (none: ARP for the target itself)\n"    \
	"  --eal 'ARGS'                   extra EAL arguments (expert)\n"         \
	"  --cores N                      worker cores, one queue pair each\n"    \
	"                                 (run, tcp, serve; net uses 1)\n"        \
	"  --placement auto|rss|redirect  how several cores share the port:\n"    \
	"                                 rss: connections whose replies the\n"   \
	"                                 NIC hashes to their core's queue\n"     \
	"                                 (exit 3 where the NIC cannot);\n"       \
	"                                 redirect: pass segments between\n"      \
	"                                 cores; auto: rss where possible\n"      \
	"  --no-kernel-blind              af_packet: leave the kernel's stack\n"  \
	"                                 seeing the port's frames (default:\n"   \
	"                                 an nftables ingress drop on IFACE\n"    \
	"                                 for the run: table stampede_<pid>_*)\n" \
	"\n"                                                                      \
	"  -h, --help                     this text\n"                            \
	"  --version                      stampede's and DPDK's versions\n"

struct sp_netopt {
	char iface[64];    /* af_packet interface, or "" */
	char pci[64];      /* PCI address, or "" */
	uint32_t ip;       /* host order; the first of ip_count */
	uint32_t ip_count; /* --ip A-B: addresses A to B */
	uint8_t prefix_len;
	uint32_t gateway; /* 0: none */
	const char *eal_extra;
	unsigned int cores;
	int placement;    /* enum sp_place_want */
	int kernel_blind; /* af_packet: drop the port's frames at ingress */
};

/* --placement: what the user asks for; enum sp_place is what a core got. */
enum sp_place_want {
	SP_WANT_AUTO = 0,
	SP_WANT_RSS,
	SP_WANT_REDIRECT,
};

void sp_netopt_init(struct sp_netopt *no);
/* Handle one getopt code. Returns 1 if it was a network option, 0 if not,
 * -1 after printing an error (the caller exits with SP_EXIT_USAGE). */
int sp_netopt_parse(struct sp_netopt *no, int code, const char *arg);
/* Checks that need all options (required ones, gateway on-link). */
int sp_netopt_finish(const struct sp_netopt *no);
/* Whether @ip is one of --ip's addresses. */
int sp_netopt_ours(const struct sp_netopt *no, uint32_t ip);
/* Next hop for @dst: @dst itself if on-link or without a gateway, else
 * the gateway. */
uint32_t sp_netopt_nexthop(const struct sp_netopt *no, uint32_t dst);
/* Whether @dst can be @what's target (option or key name, for the
 * message; @name: the host name it came from, or NULL): 0, or -1 after
 * saying why not (exit with SP_EXIT_USAGE). An off-link target without a
 * gateway gets a note on stderr: it is asked for by ARP itself. */
int sp_netopt_check_target(const struct sp_netopt *no, const char *what,
			   const char *name, uint32_t dst);

/* Value parsers: 0 on success, -1 after printing "OPTION: why". */
int sp_parse_ipv4(const char *opt, const char *s, uint32_t *ip);
/* An address of a peer: not one sp_val_ipv4_unusable refuses. */
int sp_parse_peer_ipv4(const char *opt, const char *s, uint32_t *ip);
int sp_parse_u64(const char *opt, const char *s, uint64_t min, uint64_t max,
		 uint64_t *v);
int sp_parse_size(const char *opt, const char *s, uint64_t *v);
int sp_parse_duration(const char *opt, const char *s, uint64_t *us);

/* Receive-side impairment (--impair): in basis points (1/100 of a percent). */
struct sp_impair {
	uint32_t drop_bp, reorder_bp, dup_bp;
};
int sp_parse_impair(const char *opt, const char *s, struct sp_impair *im);
void sp_ipv4_str(uint32_t ip, char *buf, size_t len);
/* One-line usage error: "stampede: MSG" on stderr. */
void sp_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The getopt_long results every subcommand @cmd treats alike (with
 * optstring ":"): ':' a missing value, anything else an unknown option.
 * Says so; returns -1. */
int sp_opt_bad(const char *cmd, int code, char *const *argv);
/* After the options: 0, or -1 (said so) if an argument is left. */
int sp_opt_no_args(const char *cmd, int argc, char *const *argv);

/* ---- version.c ---- */

/* "stampede VERSION" and DPDK's rte_version(), one a line. */
void sp_print_version(FILE *out);

/* ---- output.c: report files ---- */

int sp_out_is_stdout(const char *path);
/* A report file for @opt: "-" is stdout. NULL after saying why. */
FILE *sp_out_open(const char *opt, const char *path);
/* Nothing was written (the run could not run): close and remove the
 * file, leave stdout alone. */
void sp_out_discard(FILE *f, const char *path);
/* Where the summary goes: stderr when --json (@json_path) is stdout. */
FILE *sp_out_summary(const char *json_path);
/* What each file is: an option's report, or an input (@input: a file
 * stampede reads, such as the scenario, named by @opt). */
struct sp_out_name {
	const char *opt, *path;
	int input;
};
/* 0, or -1 after saying which two of @n name the same file. */
int sp_out_distinct(const struct sp_out_name *o, unsigned int n);
/* A CSV field: quoted, with quotes doubled (names are the user's). */
void sp_out_csv_str(FILE *f, const char *s);

/* ---- afpacket.c: before DPDK opens an af_packet port ---- */

/* The interface exists and is up, we may open AF_PACKET sockets, and the
 * fanout group DPDK's driver will use is ours (*hold_fd, until
 * sp_afp_release once the driver's sockets are in it): may go on in a
 * forked child when another process holds that group. 0, or -1 after
 * printing why. */
int sp_afp_prepare(const char *iface, int *hold_fd);
void sp_afp_release(int *hold_fd);

/* ---- kblind.c: the kernel's stack kept off an af_packet port ---- */

struct sp_kblind {
	char table[48]; /* netdev stampede_<pid>_<start time> */
	int installed;
};
/* Remove tables left by dead runs, then drop every frame of @iface at
 * ingress, after packet sockets. Failure is a warning (said). */
void sp_kblind_install(struct sp_kblind *kb, const char *iface);
/* Idempotent. */
void sp_kblind_remove(struct sp_kblind *kb);

/* ---- port.c: EAL and one port with one RX/TX queue pair ---- */

struct sp_port {
	uint16_t port_id;
	uint16_t nb_queues;        /* = worker cores */
	unsigned int worker_lcore; /* the first worker's */
	unsigned int worker_lcores[SP_MAX_CORES];
	struct rte_mempool *pool;
	uint8_t mac[6];
	uint32_t rx_frames; /* frames the RX queue can hold */
	int eal_up, port_found, port_started;
	/* More worker lcores than CPUs for them: a worker with nothing to do
	 * yields its CPU, or a frame passed to a sibling on the same CPU
	 * waits out a whole time slice. */
	int cpus_shared;
	/* The control lcore on a worker's CPU (one CPU for both): see
	 * sp_control_run_n, which then gives way to the worker. */
	int ctl_shared;
	/* af_packet: the driver's packet sockets on the interface (found
	 * after start), and the frames their rings dropped, as the kernel
	 * counts them (PACKET_STATISTICS, which resets on each read: added
	 * up here); see sp_port_stats. */
	int afp;
	unsigned int afp_ifindex;
	unsigned int afp_n;
	int afp_fd[SP_MAX_CORES];
	uint64_t afp_drops;
	/* af_packet: the fanout group held until the driver joined it, the
	 * ingress drop of the run; the port as the user named it. */
	int afp_hold_fd;
	struct sp_kblind kblind;
	char name[80];
	/* Checksums the NIC makes on transmit (SP_OFFLOAD_*, for the
	 * stacks); its receive verdicts come in each frame's flags. */
	uint32_t offload;
};

/* 0, or -1 after printing why (exit with SP_EXIT_NORUN). */
int sp_port_open(struct sp_port *p, const struct sp_netopt *no);
/* NIC counters, the port's own idea of what it received and sent. */
struct sp_nic_stats {
	uint64_t ipackets, opackets, imissed, ierrors, oerrors, rx_nombuf;
	int valid;
};
void sp_port_stats(struct sp_port *p, struct sp_nic_stats *s);
/* The port's RSS key and redirection table, when it spreads flows by a
 * Toeplitz hash we can compute (a NIC with several queues; af_packet's
 * fanout is the kernel's own): 0, or -1 when placement is not possible. */
#define SP_RSS_KEY_MAX 64
#define SP_RETA_MAX 512
int sp_port_rss(const struct sp_port *p, uint8_t *key, uint16_t *reta,
		uint32_t *reta_size);
/* Stop and close the port, free the pool, clean up EAL. Idempotent. */
void sp_port_close(struct sp_port *p);

/* ---- worker.c: the per-lcore poll loop ---- */

/* Microseconds from the TSC: (tsc * mult) >> 32, multiplier precomputed so
 * the loop never divides. */
extern uint64_t sp_tsc_mult;
void sp_clock_init(void);
static inline uint64_t
sp_tsc_to_us(uint64_t tsc)
{
	return (uint64_t)(((unsigned __int128)tsc * sp_tsc_mult) >> 32);
}

/* The same, rounded up: for a time that must not read early. */
static inline uint64_t
sp_tsc_to_us_ceil(uint64_t tsc)
{
	return (uint64_t)(((unsigned __int128)tsc * sp_tsc_mult +
			   0xffffffffu) >>
			  32);
}

static inline uint64_t
sp_now_us(void)
{
	return sp_tsc_to_us(rte_rdtsc());
}

/* What a subcommand runs on the worker lcore. All callbacks run there. */
struct sp_mode {
	const char *name;
	/* The load starts (ARP resolved). */
	void (*start)(void *ctx, uint64_t now_us);
	/* Once per loop iteration: open connections, expire holds. Returns
	 * nonzero when the mode has nothing more to do. NULL: run until
	 * stopped. */
	int (*step)(void *ctx, uint64_t now_us);
	/* Stop requested (duration or signal): start no new work. */
	void (*stop)(void *ctx, uint64_t now_us);
	/* After stop, once per loop iteration: finish what is in flight,
	 * nonzero when done; @hurry: end now with what there is. NULL: the
	 * stop itself ends the mode. */
	int (*drain)(void *ctx, uint64_t now_us, int hurry);
	/* Mode part of the live line (control lcore: reads counters only). */
	void (*live)(const void *ctx, char *buf, size_t len);
	/* Instead of live: once a second on the control lcore, take a
	 * timeline point and write the whole live line. Returns nonzero to
	 * stop the run (a threshold asked to abort). */
	int (*tick)(void *ctx, uint64_t now_us, char *buf, size_t len);
	/* Every control tick (10 ms), on the control lcore: drain what the
	 * workers pass it (the request log). NULL: nothing. */
	void (*poll)(void *ctx);
	/* Worker: the frames queued so far are being handed to the port,
	 * at @now_us (read just before). NULL: nothing to time. */
	void (*flushed)(void *ctx, uint64_t now_us);
	/* The lifecycle around the load (NULL: none). setup: once per loop
	 * iteration after ARP, before start, until it returns
	 * SP_MODE_SETUP_DONE (start the load) or SP_MODE_SETUP_FAILED (no
	 * load: teardown still runs); @stop: the worker's stop flag, so a
	 * Ctrl-C ends it. teardown: once per loop iteration after the
	 * load's drain (or in its place), nonzero when over; @hurry: cut it
	 * short (a second Ctrl-C). */
	int (*setup)(void *ctx, uint64_t now_us, int stop);
	int (*teardown)(void *ctx, uint64_t now_us, int hurry);
	/* While a worker is in setup or teardown, once a second on the
	 * control lcore: what it has done so far, for the live line. */
	void (*life)(const void *ctx, int teardown, char *buf, size_t len);
};

/* What sp_mode.setup returns (the values of sp_vu.h's
 * enum sp_vu_setup_state). */
enum sp_mode_setup {
	SP_MODE_SETUP_RUNNING = 0,
	SP_MODE_SETUP_DONE,
	SP_MODE_SETUP_FAILED,
};

/* In the order a worker goes through them (the control lcore compares
 * them: the run is as far as its slowest worker). */
enum sp_phase {
	SP_PHASE_INIT = 0,
	SP_PHASE_ARP, /* resolving the next hop */
	SP_PHASE_ARP_FAILED,
	SP_PHASE_SETUP,        /* the mode's setup, before the load */
	SP_PHASE_SETUP_FAILED, /* setup failed: no load, on to teardown */
	SP_PHASE_WAIT,         /* waiting for --start-at */
	SP_PHASE_RUN,
	SP_PHASE_TEARDOWN, /* the load drained: the mode's teardown */
	SP_PHASE_DRAIN,    /* mode done: waiting for TIME_WAIT to empty */
	SP_PHASE_DONE,
};

#define SP_TX_BURST 64
#define SP_RX_BURST 32

struct sp_worker {
	/* Set before launch, read-only afterwards. */
	struct sp_port *port;
	uint16_t queue; /* its RX/TX queue pair, = its core index */
	uint16_t ncores;
	/* With several cores, a frame for a connection another core owns
	 * (af_packet fanout, or RSS that does not match) goes to the owner
	 * through a single-producer ring; ARP goes to every core. How the
	 * owner of a TCP segment is known: enum sp_place (sp_place_*). */
	uint8_t place;
	uint16_t port_span; /* SP_PLACE_PORTS: core i's slice of the ports */
	/* SP_PLACE_RSS with active opens: the core that owns each of our
	 * (address, port) pairs, indexed as the stack's pairs are (address
	 * index * 64512 + port - 1024). Shared, read-only. A
	 * segment the NIC put on the wrong queue is still passed on, and
	 * counted (rss_misplaced): the NIC hashes other than we think. */
	const uint8_t *rss_owner;
	uint32_t rss_ip, rss_ip_count;
	struct rte_ring *ring_out[SP_MAX_CORES]; /* we produce, core j reads */
	struct rte_ring *ring_in[SP_MAX_CORES];  /* core j produces, we read */
	struct sp_stack *st;
	const struct sp_mode *mode;
	void *mode_ctx;
	uint32_t nexthop;        /* resolve by ARP before the load; 0: none */
	int nexthop_is_gateway;  /* for the error message */
	uint64_t drain_us;       /* upper bound of the drain phase */
	struct sp_impair impair; /* all zero: frames go straight in */
	/* --start-at on this clock: after setup, the load waits for it
	 * (0: no wait). */
	uint64_t start_at_us;

	/* Control → worker: 1 stop the mode (the drain has its own bound);
	 * 2 also cut the drain short (a second Ctrl-C). quit: every worker
	 * is done, stop polling. */
	int stop;
	int quit;

	/* Worker → control: one writer each, the worker (written with
	 * sp_ctr_*, read elsewhere with sp_ctr_read: sp_counter.h). */
	int phase;
	int setup_failed; /* the mode's setup failed: the load did not run */
	uint64_t run_start_us, run_end_us;
	uint64_t now_us; /* time of the current iteration */
	uint64_t iterations, idle_iterations;
	uint64_t busy_tsc; /* TSC ticks of iterations that did work */
	uint64_t rx_pkts, rx_multiseg;
	uint64_t tx_pkts, tx_dropped; /* tx_dropped: the TX ring was full */
	uint64_t imp_dropped, imp_reordered, imp_duplicated;
	uint64_t redirect_out, redirect_in; /* frames passed between cores */
	uint64_t redirect_full;             /* a ring was full: frame dropped */
	uint64_t redirect_stranded; /* still in our rings when all stopped */
	uint64_t rss_misplaced; /* RSS: TCP segments on another core's queue */
	uint64_t arp_copies;    /* ARP frames copied to the other cores */

	uint16_t tx_n;
	struct rte_mbuf *tx_buf[SP_TX_BURST];

	/* Impairment state (worker only). */
	int impair_on;
	uint64_t rng;
	struct rte_mbuf *held; /* a frame kept back to arrive late */
	uint64_t held_until;
};

/* The worker's counters, every one, in order (iterations through
 * arp_copies): what sp_report_collect_n adds up across cores. */
// clang-format off
#define SP_WORKER_COUNTERS(X)                                           \
	X(iterations) X(idle_iterations) X(busy_tsc) X(rx_pkts)         \
	X(rx_multiseg) X(tx_pkts) X(tx_dropped) X(imp_dropped)          \
	X(imp_reordered) X(imp_duplicated) X(redirect_out)              \
	X(redirect_in) X(redirect_full) X(redirect_stranded)            \
	X(rss_misplaced) X(arp_copies)
// clang-format on
_Static_assert((0 SP_WORKER_COUNTERS(SP_LIST_COUNT1)) * sizeof(uint64_t) ==
		       offsetof(struct sp_worker, tx_n) -
			       offsetof(struct sp_worker, iterations),
	       "SP_WORKER_COUNTERS must list every counter of sp_worker");

/* alloccount.c: count heap calls made by this thread while @on (the load
 * phase of a worker); the process-wide total, or -1 where not counted. */
void sp_alloc_hot(int on);
int64_t sp_alloc_hot_count(void);

/* Any mode: cap each connection's receive window so that @concurrency of
 * them together fit half the port's RX queue. */
void sp_worker_size_window(const struct sp_port *p, uint64_t concurrency,
			   struct sp_stack_config *cfg);
/* Create the stack with the worker's I/O callbacks, our MAC and addresses.
 * @cfg holds the mode's sizing and timers. 0, or -1 after printing why. */
int sp_worker_create_stack(struct sp_worker *w, struct sp_port *p,
			   const struct sp_netopt *no,
			   struct sp_stack_config *cfg,
			   const struct sp_tcp_ops *ops, void *app);
int sp_worker_main(void *arg);

/* How several cores share the flows of one port. */
enum sp_place {
	SP_PLACE_SINGLE = 0, /* one core: every frame is its own */
	SP_PLACE_RSS,        /* the NIC's hash sends each flow to its owner */
	SP_PLACE_PORTS,      /* active opens: the slice of ephemeral ports
			      * holding our port names the owner */
	SP_PLACE_PEER,       /* passive opens: a hash of the peer's address
			      * and port names the owner */
};

/* Placement over @n cores, worked out once before the cores are set up. */
struct sp_placement {
	unsigned int n;
	int rss; /* the port's Toeplitz key and table are known */
	uint8_t key[SP_RSS_KEY_MAX];
	uint16_t reta[SP_RETA_MAX];
	uint32_t reta_size;
	/* Active opens under RSS, made by the first core's set-up (passive
	 * flows need neither): */
	uint32_t *pairs; /* scratch: one core's (address, port) pairs */
	uint8_t *owner;  /* every pair's core (sp_worker.rss_owner) */
};

/* The source ports our active opens take, on every source address. */
#define SP_EPH_FIRST 1024u
#define SP_EPH_LAST 65535u
#define SP_EPH_COUNT (SP_EPH_LAST - SP_EPH_FIRST + 1u)

/* ---- cores.c: the worker cores of a run-like mode ---- */

/* What every run-like mode runs on: EAL and the port, how the cores share
 * its flows, each core's worker and stack. Static in the mode's command:
 * the control lcore reads the workers while they run. */
struct sp_cores {
	struct sp_port port;
	struct sp_placement place;
	struct sp_worker ws[SP_MAX_CORES];
	unsigned int n;
};

/* A mode on one core, for sp_cores_add. */
struct sp_core_mode {
	const struct sp_mode *mode;
	void *mode_ctx;               /* the mode's state on this core */
	const struct sp_tcp_ops *ops; /* the stack's callbacks... */
	void *app;                    /* ... and their context */
	/* Active opens toward @dst_ip:@dst_port (its next hop is resolved
	 * before the load); 0: passive (the gateway, if any, is). */
	uint32_t dst_ip;
	uint16_t dst_port;
	uint64_t drain_us; /* upper bound of the drain phase */
	struct sp_impair impair;
};

/* Signals, EAL and the port, the clock, the placement over --cores. 0,
 * or -1 after printing why (exit with SP_EXIT_NORUN); sp_cores_close
 * either way. */
int sp_cores_open(struct sp_cores *c, const struct sp_netopt *no);
/* A core's stack settings: the stack's defaults for @pool connection
 * slots, the receive window cut so that @concurrency connections share
 * the port's RX queue (0: the default window). The mode adds its own. */
void sp_cores_stack_config(const struct sp_cores *c,
			   struct sp_stack_config *cfg, uint32_t pool,
			   uint64_t concurrency);
/* Core @i: its placement (source pairs into @cfg for active opens), its
 * worker running @m, its stack. 0, or -1 after printing why. */
int sp_cores_add(struct sp_cores *c, unsigned int i, const struct sp_netopt *no,
		 struct sp_stack_config *cfg, const struct sp_core_mode *m);
/* sp_workers_run over the cores added (its return value). */
int sp_cores_run(struct sp_cores *c, uint64_t duration_us);
/* Stacks, rings, placement, port, EAL. Idempotent. */
void sp_cores_close(struct sp_cores *c);

/* ---- control.c: the main lcore while the worker runs ---- */

void sp_signals_install(void);
/* What sp_control_run_n returns when a worker's setup failed: the load
 * did not run (every worker was stopped; the mode says why). */
#define SP_CONTROL_SETUP_FAILED 1
/* Launch the @n workers, print a live line each second (ws[0]'s mode
 * writes it), stop them at @duration_us of the load (setup does not
 * count) or on a signal, wait for them. 0, SP_CONTROL_SETUP_FAILED, or -1
 * when a next hop did not answer ARP (message printed). */
int sp_control_run_n(struct sp_worker *ws, unsigned int n,
		     uint64_t duration_us);
/* Run the @n workers set up in @ws for @duration_us, as sp_control_run_n,
 * with rings between them when there are several (frames still in them
 * at the end are counted as stranded on their owner: passed on after the
 * owner quit). 0, SP_CONTROL_SETUP_FAILED, or -1 (said why). */
int sp_workers_run(struct sp_worker *ws, unsigned int n, uint64_t duration_us);
/* Free the rings and stacks of ws[0 .. SP_MAX_CORES). Idempotent. */
void sp_workers_destroy(struct sp_worker *ws);
/* A signal asked us to stop; the number of requests so far. */
int sp_interrupted(void);

/* ---- report.c ---- */

/* Connection outcomes of the tcp mode, one writer: the worker. Its
 * counters come first, every one in SP_TCPMODE_COUNTERS; the failures
 * among them, by kind, are SP_TCPMODE_FAILURES. */
#define SP_TCPMODE_FAILURES(X)                                                 \
	X(refused) X(connect_timeout) X(reset) X(timeout) X(mismatch)
// clang-format off
#define SP_TCPMODE_COUNTERS(X)                                          \
	X(planned) X(started) X(ok) SP_TCPMODE_FAILURES(X)              \
	X(incomplete) X(open) X(held) X(bytes_sent) X(bytes_received)   \
	X(bytes_verified) X(connect_nobufs) X(connect_noports)          \
	X(sha256_differ)
// clang-format on

struct sp_tcpmode_counts {
	uint64_t planned, started, ok;
	uint64_t refused, connect_timeout, reset, timeout, mismatch;
	uint64_t incomplete;
	uint64_t open;
	uint64_t held; /* exchange over, in --hold now */
	uint64_t bytes_sent, bytes_received, bytes_verified;
	uint64_t connect_nobufs, connect_noports; /* retried later */
	/* --sha256: how many echo connections received other bytes than
	 * they sent, and the digests of the first connection's two
	 * streams. */
	uint64_t sha256_differ;
	int sha256;
	char sha256_sent[65], sha256_received[65];
};
_Static_assert((0 SP_TCPMODE_COUNTERS(SP_LIST_COUNT1)) * sizeof(uint64_t) ==
		       offsetof(struct sp_tcpmode_counts, sha256),
	       "SP_TCPMODE_COUNTERS must list every counter of "
	       "sp_tcpmode_counts");

struct sp_report {
	const char *mode; /* "echo", "sink", "net" */
	char target[32];
	double elapsed_s;
	const struct sp_tcpmode_counts *tcp; /* NULL for net */
	struct sp_stack_stats stats;
	uint32_t conns_in_use, chunks_in_use;
	size_t bytes_per_conn, mem_bytes;
	struct sp_nic_stats nic;
	const struct sp_worker *w;
	struct sp_worker wsum; /* several cores: their counters added up */
	/* Each core: its worker, and (tcp mode) its connection outcomes. */
	unsigned int ncores;
	const struct sp_worker *ws;
	const struct sp_tcpmode_counts *tcp_core[SP_MAX_CORES];
	/* https: the TLS engine's allocations inside handshakes (part of
	 * the allocations after start); -1: no TLS. */
	int64_t tls_hs_allocs;
};

/* When the last of @n workers ended its load (run_end_us). */
uint64_t sp_workers_end_us(const struct sp_worker *ws, unsigned int n);

/* Connections that failed: refused, timed out, reset or with bad data. */
uint64_t sp_tcpmode_failed(const struct sp_tcpmode_counts *n);

void sp_report_collect(struct sp_report *r, const struct sp_worker *w,
		       struct sp_port *p);
/* The same over @n workers: stack and generator counters added up (the
 * loop's busy share averaged), elapsed from the first start to the last
 * end. */
void sp_report_collect_n(struct sp_report *r, const struct sp_worker *ws,
			 unsigned int n, struct sp_port *p);
void sp_report_print(const struct sp_report *r, FILE *out);
/* 0, or -1 if writing failed (message printed). */
int sp_report_json(const struct sp_report *r, FILE *f, const char *path);
/* Pieces for the modes' own reports. sp_report_json_stack writes the
 * stack, NIC and generator members (after the mode's, no closing brace);
 * sp_report_json_close ends the object and closes @f (0, or -1 after
 * printing why). */
void sp_print_stack(const struct sp_report *r, FILE *out);
/* One core's line of a summary over several: @what (the mode's figures)
 * and the frames passed between the cores. */
void sp_print_core(FILE *out, unsigned int core, const struct sp_worker *w,
		   const char *what);
/* The same core's entry of the JSON "cores" array: {"core":N, @fields
 * (the mode's, as JSON members), then the frames passed between the cores
 * and the packets}, after a comma for every core but the first. */
void sp_json_core(FILE *f, unsigned int core, const struct sp_worker *w,
		  const char *fields);
void sp_report_json_stack(const struct sp_report *r, FILE *f,
			  uint64_t connect_retries);
int sp_report_json_close(FILE *f, const char *path);
void sp_json_str(FILE *f, const char *s);

/* The CSV reports' header lines: `run --csv` and `merge --csv` write
 * the same columns. */
#define SP_CSV_STATS_HEAD                                                      \
	"type,name,started,completed,failed,interrupted,min_ms,mean_ms,"       \
	"p50_ms,p90_ms,p95_ms,p99_ms,p999_ms,max_ms\n"
#define SP_CSV_TIMELINE_HEAD                                                   \
	"t,requests,responses,errors,dropped,vus,conns,p50_ms,p95_ms,p99_ms,"  \
	"bytes_sent,bytes_received,length_s"
#define SP_CSV_TIMELINE_WS                                                     \
	",ws_sent,ws_received,ws_bytes_sent,ws_bytes_received,ws_open"
double sp_rate(double x, double s);
/* TLS (run and serve): instance @t's counters added to @sum (its
 * engine's error codes are not: they do not add), read with
 * sp_ctr_read; worker CPU microseconds per handshake from the TSC ticks
 * counted for @n of them (0 when none). */
struct sp_tls;
struct sp_tls_counters;
struct sp_tls_engine;
void sp_report_tls_add(struct sp_tls_counters *sum, const struct sp_tls *t);
double sp_report_tls_us(uint64_t ticks, uint64_t n);
/* The TLS lines both run and serve print, from "tls cpu" to "tls allocs":
 * @e the engine that ran (it names its verify flags and error codes),
 * the bytes an established connection holds moving records and idle
 * (@pool: how the pool was sized, for the bytes line; may be NULL). */
void sp_report_tls_text(FILE *out, const struct sp_tls_counters *c,
			const struct sp_tls_engine *e, size_t conn_bytes,
			size_t idle_bytes, const char *pool);
/* The same as the tail of a JSON "tls" object: from "cpu_us_per_full" to
 * its closing brace (the caller wrote the head, a member before). */
void sp_report_tls_json(FILE *f, const struct sp_tls_counters *c,
			const struct sp_tls_engine *e, size_t conn_bytes,
			size_t idle_bytes);
/* A field of /proc/meminfo ("MemAvailable"), in its unit (KiB, or a
 * count); 0 when absent. */
uint64_t sp_meminfo_kb(const char *field);
/* Human-readable byte count ("1.5 MiB") for live lines. */
void sp_fmt_bytes(uint64_t b, char *buf, size_t len);

/* ---- subcommands ---- */
int sp_cmd_tcp(int argc, char **argv);
int sp_cmd_net(int argc, char **argv);
int sp_cmd_run(int argc, char **argv);
int sp_cmd_serve(int argc, char **argv);
/* merge.c: `stampede merge`, the shards' JSON reports added up (no EAL). */
int sp_cmd_merge(int argc, char **argv);

#endif /* SP_APP_H */
