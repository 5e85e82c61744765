/*
 * The control loop on the main lcore: it never touches a packet or the
 * stack's state, only reads counters (each with one writer, the worker) and
 * tells the worker when to stop.
 *
 * Signals: the first SIGINT/SIGTERM asks for a graceful stop (requests in
 * flight may finish, the mode's teardown runs; the report is written); a
 * second one (half a second later or more) cuts that short and reports
 * what there is; a third exits at once, for a run that hangs. Once the
 * load is over (teardown, drain), one signal more than had come by then
 * is enough to cut short: there is no load left to stop gracefully.
 *
 * The control thread must never take the worker's CPU from it. Where the
 * two share one CPU (a process confined to one: taskset, a cpuset) or run
 * one at a time (valgrind serialises threads, whatever the CPUs), each of
 * its wake-ups is time in which the worker does not poll. So it only ever
 * sleeps between ticks (never spins), a tick's work is bounded and small
 * (counters read; once a second a line, a timeline point), during the
 * load it wakes only when something is due (the next line, the stop;
 * SP_CONTROL_LOAD_TICK_US apart at most) rather than every 10 ms, and on a
 * shared CPU it runs at a lower priority than the worker.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include <rte_launch.h>

#include "sp_app.h"

/* Outside the load (ARP, setup, teardown, drain): phases change quickly. */
#define SP_CONTROL_TICK_US (10 * 1000)
/* During the load, at most this long asleep: a phase change, a signal
 * delivered to the worker rather than to us, are seen this late at worst;
 * and --log-requests' ring (65,536 records a core) must hold what the
 * worker logs meanwhile (1.3 million requests/s). */
#define SP_CONTROL_LOAD_TICK_US (50 * 1000)
/* The control thread's nice where it shares the worker's CPU: the kernel
 * then gives it about a tenth of that CPU at most when both want it (it
 * needs far less), and the worker the rest. */
#define SP_CONTROL_NICE 10

/* A signal within this long of the first is the same request: coreutils
 * timeout(1), for one, signals both its child and the child's group. */
#define SP_SIG_DEBOUNCE_NS (500 * 1000 * 1000ll)

static volatile sig_atomic_t sp_sig_count;
static struct timespec sp_sig_first;

static void
sp_on_signal(int sig)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now); /* async-signal-safe */
	if (sp_sig_count != 0 &&
	    (now.tv_sec - sp_sig_first.tv_sec) * 1000000000ll +
			    (now.tv_nsec - sp_sig_first.tv_nsec) <
		    SP_SIG_DEBOUNCE_NS)
		return;
	sp_sig_first = now;
	if (++sp_sig_count >= 3)
		_exit(128 + sig);
}

void
sp_signals_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = sp_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

int
sp_interrupted(void)
{
	return sp_sig_count;
}

/* A signal ends the sleep early (EINTR): it is looked at at once. */
static void
sp_sleep_tick(uint64_t us)
{
	struct timespec ts = { (time_t)(us / SP_US_PER_S),
			       (long)(us % SP_US_PER_S) * 1000 };

	nanosleep(&ts, NULL);
}

/*
 * How long to sleep before the next tick: during the load, until the next
 * line or the stop (whichever is first), between SP_CONTROL_TICK_US (no
 * later than the fixed tick was) and SP_CONTROL_LOAD_TICK_US; otherwise
 * the fixed tick.
 */
static uint64_t
sp_tick_us(int phase, int stopped, uint64_t now, uint64_t next_live,
	   uint64_t stop_at)
{
	uint64_t due;

	if (phase != SP_PHASE_RUN || stopped || stop_at == 0)
		return SP_CONTROL_TICK_US;
	due = next_live < stop_at ? next_live : stop_at;
	if (due <= now + SP_CONTROL_TICK_US)
		return SP_CONTROL_TICK_US;
	if (due - now > SP_CONTROL_LOAD_TICK_US)
		return SP_CONTROL_LOAD_TICK_US;
	return due - now;
}

static void
sp_live_line(const struct sp_worker *w, uint64_t now)
{
	const struct sp_stack_stats *s = sp_stack_stats(w->st);
	uint64_t start = sp_ctr_read(w->run_start_us);
	char mode_part[160] = "";
	const char *phase = sp_ctr_read(w->phase) == SP_PHASE_DRAIN ?
				    " (draining)" :
				    "";

	if (w->mode->live != NULL)
		w->mode->live(w->mode_ctx, mode_part, sizeof(mode_part));
	fprintf(stderr,
		"[%6.1fs]%s rx %" PRIu64 " tx %" PRIu64 " retrans %" PRIu64
		" conns %" PRIu32 "%s\n",
		(double)(now - start) / 1e6, mode_part,
		sp_ctr_read(s->rx_frames), sp_ctr_read(s->tx_frames),
		sp_ctr_read(s->tcp_retrans_segs), sp_stack_conns_in_use(w->st),
		phase);
}

/* The mode's own line (tick): rewritten in place on a terminal, one line
 * a second otherwise (a log, a pipe). */
static void
sp_tick_line(struct sp_worker *w, uint64_t now, int tty, int *abort_run)
{
	char line[512];

	line[0] = '\0';
	if (w->mode->tick(w->mode_ctx, now, line, sizeof(line)) != 0)
		*abort_run = 1;
	if (line[0] == '\0') /* not due (a log's --live-interval) */
		return;
	if (tty)
		fprintf(stderr, "\r\033[K%s", line);
	else
		fprintf(stderr, "%s\n", line);
}

/* Every worker's stop flag. */
static void
sp_stop_all(struct sp_worker *ws, unsigned int n, int how)
{
	for (unsigned int i = 0; i < n; i++)
		__atomic_store_n(&ws[i].stop, how, __ATOMIC_RELAXED);
}

/*
 * The lowest phase among the workers, or ARP_FAILED if one failed: the run
 * is as far as its slowest core. Workers that are done keep polling their
 * queue (flows of the others may land on it) until all are done. A failed
 * setup is not a phase a worker stays in (it goes on to teardown): see
 * sp_setup_failed.
 */
static int
sp_phase_all(const struct sp_worker *ws, unsigned int n)
{
	int low = SP_PHASE_DONE;

	for (unsigned int i = 0; i < n; i++) {
		int ph = __atomic_load_n(&ws[i].phase, __ATOMIC_ACQUIRE);

		if (ph == SP_PHASE_ARP_FAILED)
			return ph;
		if (ph < low)
			low = ph;
	}
	return low;
}

/* A worker's setup failed: the load will not run. */
static int
sp_setup_failed(const struct sp_worker *ws, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		if (__atomic_load_n(&ws[i].setup_failed, __ATOMIC_ACQUIRE))
			return 1;
	return 0;
}

/* The lifecycle's own line, once a second while a worker is in setup or
 * teardown (no timeline point is taken then: the load is not running). */
static void
sp_life_line(const struct sp_worker *w, int teardown, int *inplace)
{
	char line[256];

	if (w->mode->life == NULL)
		return;
	w->mode->life(w->mode_ctx, teardown, line, sizeof(line));
	if (*inplace)
		fputc('\n', stderr);
	*inplace = 0;
	fprintf(stderr, "%s\n", line);
}

int
sp_control_run_n(struct sp_worker *ws, unsigned int n, uint64_t duration_us)
{
	struct sp_worker *w = &ws[0];
	uint64_t now, next_live = 0, stop_at = 0, next_life = 0;
	int phase, stopped = 0, hurried = 0, abort_run = 0, setup_bad = 0;
	int tty = isatty(STDERR_FILENO) && w->mode->tick != NULL;
	int inplace = 0, sigs_at_end = -1, life_phase = -1;
	unsigned int launched = 0;
	uint64_t tick_us = SP_CONTROL_TICK_US;
	char ip[16];

	/* Linux: setpriority on a thread id sets that thread's nice alone
	 * (the workers, started by EAL already, keep theirs). A failure
	 * leaves the default: no worse than before. */
	if (w->port->ctl_shared)
		setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid),
			    SP_CONTROL_NICE);

	for (; launched < n; launched++)
		if (rte_eal_remote_launch(sp_worker_main, &ws[launched],
					  w->port->worker_lcores[launched]) !=
		    0) {
			fprintf(stderr,
				"stampede: could not launch worker "
				"lcore %u\n",
				launched);
			sp_stop_all(ws, launched, 2);
			phase = SP_PHASE_ARP_FAILED;
			goto wait;
		}
	for (;;) {
		sp_sleep_tick(tick_us);
		if (w->mode->poll != NULL)
			w->mode->poll(w->mode_ctx);
		now = sp_now_us();
		phase = sp_phase_all(ws, n);
		if (phase == SP_PHASE_DONE || phase == SP_PHASE_ARP_FAILED)
			break;
		/* The duration counts from the start of the load: ARP has its
		 * own bound (3 s) in the worker, which also sees a stop, and
		 * setup runs for as long as it takes (a stop ends it too).
		 * Every worker is past setup when the slowest is. */
		if (phase >= SP_PHASE_RUN && stop_at == 0) {
			stop_at = sp_ctr_read(w->run_start_us) + duration_us;
			next_live = sp_ctr_read(w->run_start_us) + SP_US_PER_S;
		}
		/* A failed setup on one worker: the others stop too (their
		 * engines see it as well; a mode's may not). */
		if (!setup_bad && sp_setup_failed(ws, n)) {
			setup_bad = 1;
			stopped = 1;
			sp_stop_all(ws, n, 1);
		}
		if (!stopped && (sp_interrupted() || abort_run ||
				 (stop_at != 0 && now >= stop_at))) {
			stopped = 1;
			sp_stop_all(ws, n, 1);
		}
		if (phase >= SP_PHASE_TEARDOWN && sigs_at_end < 0)
			sigs_at_end = sp_interrupted();
		if (stopped && !hurried &&
		    (sp_interrupted() >= 2 ||
		     (sigs_at_end >= 0 && sp_interrupted() > sigs_at_end))) {
			hurried = 1;
			sp_stop_all(ws, n, 2);
		}
		/* Setup and teardown: a line of their own a second, the
		 * first a second into the phase (a quick one says nothing). */
		if (phase != life_phase) {
			life_phase = phase;
			next_life = now + SP_US_PER_S;
		}
		if (phase == SP_PHASE_WAIT && now >= next_life &&
		    w->start_at_us > now) {
			if (inplace)
				fputc('\n', stderr);
			inplace = 0;
			fprintf(stderr, "waiting for --start-at: %.0f s\n",
				(double)(w->start_at_us - now) / 1e6);
			next_life = now + 10 * SP_US_PER_S;
		}
		if ((phase == SP_PHASE_SETUP || phase == SP_PHASE_TEARDOWN) &&
		    now >= next_life) {
			sp_life_line(w, phase == SP_PHASE_TEARDOWN, &inplace);
			next_life = now + SP_US_PER_S;
		}
		/* A line a second. A mode's tick (a timeline point) only
		 * while the load runs: nothing is measured while TIME_WAIT
		 * empties. After a late line the next is due at the next
		 * whole second of the run: no second twice. */
		if (stop_at != 0 && now >= next_live &&
		    (phase == SP_PHASE_RUN || w->mode->tick == NULL)) {
			uint64_t start = sp_ctr_read(w->run_start_us);

			if (w->mode->tick != NULL) {
				sp_tick_line(w, now, tty, &abort_run);
				inplace = tty;
			} else {
				sp_live_line(w, now);
			}
			next_live = start + ((now - start) / SP_US_PER_S + 1) *
						    SP_US_PER_S;
		}
		tick_us = sp_tick_us(phase, stopped, now, next_live, stop_at);
	}
	/* One core failed ARP: the others stop too. */
	if (phase == SP_PHASE_ARP_FAILED)
		sp_stop_all(ws, n, 2);
wait:
	for (unsigned int i = 0; i < launched; i++)
		__atomic_store_n(&ws[i].quit, 1, __ATOMIC_RELEASE);
	for (unsigned int i = 0; i < launched; i++)
		rte_eal_wait_lcore(w->port->worker_lcores[i]);
	if (inplace)
		fputc('\n', stderr);
	if (phase == SP_PHASE_ARP_FAILED) {
		sp_ipv4_str(w->nexthop, ip, sizeof(ip));
		if (launched < n)
			return -1;
		if (sp_interrupted())
			fprintf(stderr,
				"stampede: interrupted while resolving "
				"%s by ARP\n",
				ip);
		else
			fprintf(stderr, "stampede: %s %s did not answer ARP\n",
				w->nexthop_is_gateway ? "gateway" : "target",
				ip);
		return -1;
	}
	return setup_bad || sp_setup_failed(ws, n) ? SP_CONTROL_SETUP_FAILED :
						     0;
}
