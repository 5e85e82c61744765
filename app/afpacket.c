/*
 * Before DPDK opens an af_packet port: the checks that let a failure name
 * its real cause, and the kernel fanout group the driver will need.
 *
 * DPDK 22.11's net_af_packet probes the interface inside rte_eal_init and,
 * when anything goes wrong, leaves only "port not found": we look first.
 * The interface must exist and be up (a socket bound to a down interface
 * cannot join a fanout group), and opening an AF_PACKET socket needs
 * CAP_NET_RAW.
 *
 * Fanout: the driver puts its sockets in the PACKET_FANOUT group numbered
 * (getpid() ^ ifindex) & 0xffff (rte_eth_af_packet.c, rte_pmd_init_internals).
 * Groups are per network namespace: a group of that number held by another
 * process on another interface (or of another kind) makes the driver's
 * setsockopt fail with EINVAL. Two runs started together have neighbouring
 * pids, and veth pairs neighbouring ifindexes, so p ^ i == (p + 1) ^ j
 * happens far more often than 1 in 65536. So we create the group ourselves
 * first, with the driver's own type and flags on the same interface; the
 * driver's sockets then join it, and nobody can take it in between. Our
 * socket receives nothing (a BPF filter that drops all) and is closed once
 * the driver's sockets are in. If the number is taken already, the only
 * way to another number is another pid: the process forks, the parent
 * waits for the child and passes on its exit status and the signals it
 * gets, the child tries its own pid's number; after a few tries the
 * message names the cause.
 */
#include <errno.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>

#include "sp_app.h"

#define SP_AFP_TRIES 6

/* The driver's fanout argument, less the group number. */
#define SP_AFP_FANOUT_FLAGS                                                    \
	((unsigned int)(PACKET_FANOUT_HASH | PACKET_FANOUT_FLAG_DEFRAG |       \
			PACKET_FANOUT_FLAG_ROLLOVER)                           \
	 << 16)

static volatile pid_t sp_afp_child;

static void
sp_afp_forward(int sig)
{
	if (sp_afp_child > 0)
		kill(sp_afp_child, sig);
}

/*
 * Go on in a child: the parent stays only to wait for it, forward
 * SIGINT/SIGTERM/SIGHUP (a Ctrl-C from the terminal reaches both: the
 * child takes the two as one, control.c's debounce) and exit with its
 * status. The child dies with the parent (kill -9 of the pid the user
 * knows). Returns in the child (0), or -1 if fork failed.
 */
static int
sp_afp_respawn(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	sigset_t block, old;
	struct sigaction sa;
	pid_t parent = getpid(), c;
	int st;

	sigemptyset(&block);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaddset(&block, sigs[i]);
	fflush(NULL); /* or the child would write the parent's buffers again */
	sigprocmask(SIG_BLOCK, &block, &old);
	c = fork();
	if (c < 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		fprintf(stderr, "stampede: fork: %s\n", strerror(errno));
		return -1;
	}
	if (c == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(SP_EXIT_NORUN);
		sigprocmask(SIG_SETMASK, &old, NULL);
		return 0;
	}
	sp_afp_child = c;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = sp_afp_forward;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	sigprocmask(SIG_SETMASK, &old, NULL);
	while (waitpid(c, &st, 0) < 0 && errno == EINTR)
		;
	/* _exit: the child wrote the reports; our copies of its FILEs hold
	 * nothing and must not be flushed or removed. */
	_exit(WIFEXITED(st)   ? WEXITSTATUS(st) :
	      WIFSIGNALED(st) ? 128 + WTERMSIG(st) :
				SP_EXIT_NORUN);
}

/* Our socket in group (pid ^ @ifindex): 0 (*fd set), or -errno. */
static int
sp_afp_hold(unsigned int ifindex, int *fd)
{
	struct sock_filter drop = BPF_STMT(BPF_RET | BPF_K, 0);
	struct sock_fprog prog = { .len = 1, .filter = &drop };
	struct sockaddr_ll sll;
	/* the flags are the int's top bits: built unsigned (a left shift
	 * into an int's sign bit is undefined), then converted */
	int arg = (int)((((unsigned int)getpid() ^ ifindex) & 0xffff) |
			SP_AFP_FANOUT_FLAGS);
	int s, err;

	/* Protocol 0: no frame reaches it before the filter is on. */
	s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = (int)ifindex;
	if (setsockopt(s, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) <
		    0 ||
	    bind(s, (struct sockaddr *)&sll, sizeof(sll)) < 0 ||
	    setsockopt(s, SOL_PACKET, PACKET_FANOUT, &arg, sizeof(arg)) < 0) {
		err = errno;
		close(s);
		return -err;
	}
	*fd = s;
	return 0;
}

int
sp_afp_prepare(const char *iface, int *hold_fd)
{
	unsigned int ifindex = if_nametoindex(iface);
	struct ifreq ifr;
	int s, rc;

	*hold_fd = -1;
	if (ifindex == 0) {
		fprintf(stderr,
			"stampede: --port af_packet:%s: no such "
			"interface in this network namespace\n",
			iface);
		return -1;
	}
	s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (s < 0) {
		int e = errno;

		fprintf(stderr,
			"stampede: cannot open an AF_PACKET socket on "
			"%s: %s%s\n",
			iface, strerror(e),
			e == EPERM || e == EACCES ?
				": run as root (or with CAP_NET_RAW and CAP_NET_ADMIN)" :
				"");
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", iface);
	rc = ioctl(s, SIOCGIFFLAGS, &ifr);
	close(s);
	if (rc == 0 && !(ifr.ifr_flags & IFF_UP)) {
		fprintf(stderr,
			"stampede: interface %s is down (ip link set %s "
			"up)\n",
			iface, iface);
		return -1;
	}
	for (int tries = 1;; tries++) {
		rc = sp_afp_hold(ifindex, hold_fd);
		if (rc == 0)
			return 0;
		if (rc != -EINVAL) {
			fprintf(stderr, "stampede: af_packet on %s: %s\n",
				iface, strerror(-rc));
			return -1;
		}
		if (tries == SP_AFP_TRIES) {
			fprintf(stderr,
				"stampede: af_packet on %s: the kernel's "
				"packet fanout group DPDK's driver would use "
				"(pid ^ ifindex = %u ^ %u -> %u) is held by "
				"another process on another interface, here "
				"and in %d new processes: too many af_packet "
				"programs (other stampede runs, DPDK apps) in "
				"this network namespace\n",
				iface, (unsigned int)getpid(), ifindex,
				((unsigned int)getpid() ^ ifindex) & 0xffff,
				SP_AFP_TRIES - 1);
			return -1;
		}
		fprintf(stderr,
			"stampede: af_packet on %s: packet fanout group "
			"%u (pid %u ^ ifindex %u) is held by another process "
			"(another af_packet run on another interface); going "
			"on as a new process\n",
			iface, ((unsigned int)getpid() ^ ifindex) & 0xffff,
			(unsigned int)getpid(), ifindex);
		if (sp_afp_respawn() < 0)
			return -1;
	}
}

void
sp_afp_release(int *hold_fd)
{
	/* 0 is a zeroed sp_port's (stdin), never a socket of ours. */
	if (*hold_fd > 0)
		close(*hold_fd);
	*hold_fd = -1;
}
