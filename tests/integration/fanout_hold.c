/*
 * fanout_hold IFACE PID COUNT XOR: hold the packet fanout groups numbered
 * ((PID + k) ^ XOR) & 0xffff, k < COUNT, each with a socket bound to IFACE,
 * until a signal; "ready" on stdout once they are all held.
 *
 * For test_fanout.sh: DPDK 22.11's af_packet driver numbers its group
 * (getpid() ^ ifindex) & 0xffff; a group of that number held on another
 * interface is the collision two concurrent runs can meet. With XOR the
 * ifindex of stampede's interface and PID stampede's pid, this makes the
 * collision certain instead of 1 in a few hundred.
 *
 * On SIGTERM or SIGINT it closes its sockets and exits. The kernel waits
 * for an RCU grace period in each packet socket's release
 * (synchronize_net), some 13 ms: an exit closing 4096 of them one after
 * the other took 52 s. Closed from SP_CLOSERS threads at once, the waits
 * overlap (concurrent synchronize_net calls share grace periods).
 */
#include <errno.h>
#include <net/if.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>

#define SP_CLOSERS 64

static int *socks;
static unsigned int nsocks;

/* Closes every SP_CLOSERS-th socket from the one at index @arg. */
static void *
closer(void *arg)
{
	for (unsigned int i = (unsigned int)(uintptr_t)arg; i < nsocks;
	     i += SP_CLOSERS)
		close(socks[i]);
	return NULL;
}

int
main(int argc, char **argv)
{
	struct sock_filter drop = BPF_STMT(BPF_RET | BPF_K, 0);
	struct sock_fprog prog = { .len = 1, .filter = &drop };
	struct sockaddr_ll sll;
	struct rlimit rl;
	pthread_t th[SP_CLOSERS];
	int started[SP_CLOSERS];
	sigset_t stop;
	unsigned int ifindex, pid, count, xr, held = 0;
	int sig;

	if (argc != 5) {
		fprintf(stderr, "usage: fanout_hold IFACE PID COUNT XOR\n");
		return 2;
	}
	ifindex = if_nametoindex(argv[1]);
	pid = (unsigned int)strtoul(argv[2], NULL, 10);
	count = (unsigned int)strtoul(argv[3], NULL, 10);
	xr = (unsigned int)strtoul(argv[4], NULL, 10);
	if (ifindex == 0 || count == 0 || count > 60000) {
		fprintf(stderr, "fanout_hold: bad arguments\n");
		return 2;
	}
	socks = calloc(count, sizeof(*socks));
	if (socks == NULL) {
		perror("fanout_hold: calloc");
		return 1;
	}
	/* The signals that stop it wait for sigwait (blocked in the
	 * threads too). */
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	sigprocmask(SIG_BLOCK, &stop, NULL);
	rl.rlim_cur = rl.rlim_max = count + 64;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
		perror("setrlimit");
		return 1;
	}
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = (int)ifindex;
	for (unsigned int k = 0; k < count; k++) {
		int arg = (int)(((pid + k) ^ xr) & 0xffff) |
			  (PACKET_FANOUT_HASH << 16);
		int s = socket(AF_PACKET, SOCK_RAW, 0);

		if (s < 0 ||
		    setsockopt(s, SOL_SOCKET, SO_ATTACH_FILTER, &prog,
			       sizeof(prog)) < 0 ||
		    bind(s, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
			perror("fanout_hold: socket");
			return 1;
		}
		/* EINVAL: that number is held already (two k alike). */
		if (setsockopt(s, SOL_PACKET, PACKET_FANOUT, &arg,
			       sizeof(arg)) < 0) {
			if (errno != EINVAL) {
				perror("fanout_hold: PACKET_FANOUT");
				return 1;
			}
			close(s);
			continue;
		}
		socks[nsocks++] = s;
		held++;
	}
	printf("ready %u\n", held);
	fflush(stdout);
	sigwait(&stop, &sig);
	for (unsigned int t = 0; t < SP_CLOSERS; t++)
		started[t] = pthread_create(&th[t], NULL, closer,
					    (void *)(uintptr_t)t) == 0;
	/* A slice no thread could take is closed here. */
	for (unsigned int t = 0; t < SP_CLOSERS; t++)
		if (!started[t])
			closer((void *)(uintptr_t)t);
	for (unsigned int t = 0; t < SP_CLOSERS; t++)
		if (started[t])
			pthread_join(th[t], NULL);
	return 0;
}
