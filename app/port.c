/*
 * EAL and port bring-up from our own options.
 *
 * The EAL command line is built here, never taken from the user wholesale:
 * two lcores (main = control, one worker), an allow-list of exactly the
 * device we drive (--no-pci plus an af_packet vdev, or -a PCI), our own
 * --file-prefix so that two instances can run at once, and --no-huge when
 * the machine has no hugepages to give (never with --in-memory: that pair
 * breaks EAL's memory init in 22.11). --eal appends raw arguments for the
 * expert who needs something else.
 *
 * The port gets one RX and one TX queue (one worker), clamped to what the
 * driver accepts, and one mbuf pool on the port's socket.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/socket.h>
#include <linux/if_packet.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "sp_app.h"

#define SP_NB_DESC 1024
#define SP_NB_MBUF 8191 /* 2^n - 1: the mempool ring's best size */
#define SP_MBUF_CACHE 256
#define SP_NOHUGE_MB "512"
/* Below this much free hugepage memory the pool would not fit: use
 * --no-huge rather than fail half-way. */
#define SP_HUGE_MIN_KB (64u * 1024)
/* af_packet ring: 2 KiB frames hold a full 1514-byte frame plus the
 * tpacket header; 4096 of them absorb bursts on the veth. Frames leave
 * with PACKET_QDISC_BYPASS: straight to the driver, about 10 % more
 * requests per second on a veth, but packet taps on this interface
 * (tcpdump) no longer see what we send. */
#define SP_AFP_FRAMES 4096
#define SP_AFP_ARGS                                                            \
	"blocksz=4096,framesz=2048,framecnt=" RTE_STR(                         \
		SP_AFP_FRAMES) ",qdisc_bypass=1"
#define SP_EAL_ARGC_MAX 64

uint64_t
sp_meminfo_kb(const char *field)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[128];
	size_t n = strlen(field);
	uint64_t v = 0;

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, field, n) == 0 && line[n] == ':' &&
		    sscanf(line + n + 1, "%" SCNu64, &v) == 1)
			break;
	fclose(f);
	return v;
}

/* Free hugepage memory in KiB. */
static uint64_t
sp_huge_free_kb(void)
{
	return sp_meminfo_kb("HugePages_Free") * sp_meminfo_kb("Hugepagesize");
}

/* The main lcore on the first CPU we may run on, worker lcore i on the
 * (i+1)-th, wrapping around when there are more workers than CPUs (they
 * then share: slower, still correct; tests on small machines do this).
 * Returns how many CPUs the workers have; @ctl_shared says whether the
 * control lcore shares its CPU with a worker (we may run on one CPU only:
 * taskset, a cpuset). */
static int
sp_lcore_map(unsigned int workers, char *buf, size_t len, int *ctl_shared)
{
	cpu_set_t set;
	int cpus[CPU_SETSIZE], n = 0;
	size_t off;

	if (sched_getaffinity(0, sizeof(set), &set) == 0) {
		for (int c = 0; c < CPU_SETSIZE; c++)
			if (CPU_ISSET(c, &set))
				cpus[n++] = c;
	}
	if (n == 0)
		cpus[n++] = 0;
	*ctl_shared = n == 1;
	off = (size_t)snprintf(buf, len, "0@%d", cpus[0]);
	for (unsigned int i = 1; i <= workers && off < len; i++)
		off += (size_t)snprintf(
			buf + off, len - off, ",%u@%d", i,
			cpus[n > 1 ? 1 + (i - 1) % (unsigned)(n - 1) : 0]);
	return n > 1 ? n - 1 : 1;
}

/*
 * EAL 22.11 leaves its runtime directory (/var/run/dpdk/<prefix>: config and
 * fbarray files, several MiB on a tmpfs with --no-huge) behind after
 * rte_eal_cleanup. The prefix is ours alone (it carries our pid), so remove
 * it: a test suite running stampede hundreds of times must not fill /run.
 */
static void
sp_remove_runtime_dir(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			unlinkat(dirfd(d), e->d_name, 0);
	}
	closedir(d);
	rmdir(path);
}

/*
 * Runs that died without cleaning up (a second SIGINT, kill -9, a crash)
 * leave their runtime directory behind. Their prefix names a pid: remove the
 * directories of stampede processes that no longer exist.
 */
static void
sp_reap_stale_runtime_dirs(void)
{
	char base[PATH_MAX - 64], path[PATH_MAX];
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	DIR *d;
	struct dirent *e;

	/* EAL's own choice of base directory (eal_create_runtime_dir). */
	if (getuid() == 0)
		snprintf(base, sizeof(base), "/var/run/dpdk");
	else
		snprintf(base, sizeof(base), "%s/dpdk",
			 xdg != NULL ? xdg : "/tmp");
	d = opendir(base);
	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		char *end;
		long pid;

		if (strncmp(e->d_name, "stampede-", 9) != 0)
			continue;
		pid = strtol(e->d_name + 9, &end, 10);
		if (*end != '\0' || pid <= 0 || pid == (long)getpid())
			continue;
		if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", base, e->d_name) >=
		    (int)sizeof(path))
			continue;
		sp_remove_runtime_dir(path);
	}
	closedir(d);
}

static int
sp_eal_init(const struct sp_netopt *no, int *shared, int *ctl_shared)
{
	static char prefix[64], lcores[256], vdev[192], *extra;
	static char *argv[SP_EAL_ARGC_MAX];
	int argc = 0, ret, ncpu;

	sp_reap_stale_runtime_dirs();
	snprintf(prefix, sizeof(prefix), "stampede-%d", (int)getpid());
	ncpu = sp_lcore_map(no->cores, lcores, sizeof(lcores), ctl_shared);
	*shared = no->cores > 1 && no->cores > (unsigned int)ncpu;
	if (*shared)
		fprintf(stderr,
			"stampede: %u worker cores but %d CPU%s for "
			"them: workers take turns on a CPU (each yields it "
			"when it has nothing to do); expect less than from %d "
			"core%s\n",
			no->cores, ncpu, ncpu == 1 ? "" : "s", ncpu,
			ncpu == 1 ? "" : "s");
	argv[argc++] = "stampede";
	argv[argc++] = "--lcores";
	argv[argc++] = lcores;
	argv[argc++] = "--file-prefix";
	argv[argc++] = prefix;
	argv[argc++] = "--log-level=lib.eal:error";
	argv[argc++] = "--log-level=pmd:error";
	/* Nothing reads telemetry from a load run; its socket is one more
	 * file to leave behind. */
	argv[argc++] = "--no-telemetry";
	if (sp_huge_free_kb() < SP_HUGE_MIN_KB) {
		argv[argc++] = "--no-huge";
		argv[argc++] = "-m";
		argv[argc++] = SP_NOHUGE_MB;
	}
	if (no->iface[0] != '\0') {
		/* qpairs > 1: the kernel spreads flows over the sockets
		 * (PACKET_FANOUT hash); the workers redirect what lands on
		 * the wrong one. */
		snprintf(vdev, sizeof(vdev),
			 "net_af_packet0,iface=%s,qpairs=%u," SP_AFP_ARGS,
			 no->iface, no->cores);
		argv[argc++] = "--no-pci";
		argv[argc++] = "--vdev";
		argv[argc++] = vdev;
	} else {
		argv[argc++] = "-a";
		argv[argc++] = (char *)no->pci;
	}
	if (no->eal_extra != NULL) {
		extra = strdup(no->eal_extra);
		if (extra == NULL)
			return -ENOMEM;
		for (char *save = NULL, *tok = strtok_r(extra, " \t", &save);
		     tok != NULL; tok = strtok_r(NULL, " \t", &save)) {
			if (argc >= SP_EAL_ARGC_MAX - 1) {
				fprintf(stderr, "stampede: --eal: too many "
						"arguments\n");
				return -E2BIG;
			}
			argv[argc++] = tok;
		}
	}
	argv[argc] = NULL;
	/* EAL reorders argv and keeps pointers into it: static storage. */
	ret = rte_eal_init(argc, argv);
	if (ret < 0) {
		fprintf(stderr, "stampede: EAL initialisation failed: %s\n",
			rte_strerror(rte_errno));
		if (rte_eal_get_runtime_dir()[0] != '\0')
			sp_remove_runtime_dir(rte_eal_get_runtime_dir());
		return -1;
	}
	optind = 1; /* EAL ran its own getopt: reset for anyone after us */
	return 0;
}

static int
sp_port_find(const struct sp_netopt *no, uint16_t *port_id)
{
	const char *name = no->iface[0] != '\0' ? "net_af_packet0" : no->pci;
	uint16_t pid, n = 0;

	/* net_af_packet0 is EAL's name for the vdev; messages say the
	 * user's interface. */
	if (rte_eth_dev_get_port_by_name(name, port_id) == 0)
		return 0;
	/* A short PCI address is normalised by EAL ("01:00.0" becomes
	 * "0000:01:00.0"): fall back to the only port there is. */
	RTE_ETH_FOREACH_DEV(pid)
	{
		*port_id = pid;
		n++;
	}
	if (n == 1)
		return 0;
	if (no->iface[0] != '\0')
		fprintf(stderr,
			"stampede: DPDK's af_packet driver could not "
			"open %s (its message is above)\n",
			no->iface);
	else
		fprintf(stderr,
			"stampede: port %s not found (%u ports "
			"probed): is it bound to vfio-pci or uio?\n",
			name, n);
	return -1;
}

/* The driver's packet sockets on the interface: every AF_PACKET socket of
 * this process bound to it (sp_afp_release closed ours). Their drop
 * counters are zeroed on the way: the run counts from here. */
static void
sp_afp_find(struct sp_port *p)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;

	p->afp_n = 0;
	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL && p->afp_n < SP_MAX_CORES) {
		struct sockaddr_ll sll;
		struct tpacket_stats ts;
		socklen_t len = sizeof(sll);
		socklen_t tl = sizeof(ts);
		char *end;
		long fd = strtol(de->d_name, &end, 10);

		if (*end != '\0' || end == de->d_name || fd == dirfd(d))
			continue;
		memset(&sll, 0, sizeof(sll));
		if (getsockname((int)fd, (struct sockaddr *)&sll, &len) != 0 ||
		    sll.sll_family != AF_PACKET ||
		    (unsigned int)sll.sll_ifindex != p->afp_ifindex ||
		    getsockopt((int)fd, SOL_PACKET, PACKET_STATISTICS, &ts,
			       &tl) != 0)
			continue;
		p->afp_fd[p->afp_n++] = (int)fd;
	}
	closedir(d);
}

/* What the rings dropped since the last call, added up. */
static void
sp_afp_drops(struct sp_port *p)
{
	for (unsigned int i = 0; i < p->afp_n; i++) {
		struct tpacket_stats ts;
		socklen_t tl = sizeof(ts);

		if (getsockopt(p->afp_fd[i], SOL_PACKET, PACKET_STATISTICS,
			       &ts, &tl) == 0)
			p->afp_drops += ts.tp_drops;
	}
}

/*
 * Checksums the NIC can make and check for the stack: the IPv4 header's
 * and TCP's, each where the port offers it (virtio: TCP only; af_packet:
 * none, every checksum stays in software). Never segmentation (TSO, LRO)
 * nor scatter: the stack builds and takes frames up to the MTU, one mbuf
 * each (a chained mbuf is counted, rx_multiseg, and dropped).
 */
static void
sp_port_offloads(struct sp_port *p, const struct rte_eth_dev_info *info,
		 struct rte_eth_conf *conf)
{
	uint64_t tx = info->tx_offload_capa, rx = info->rx_offload_capa;

	p->offload = 0;
	if (tx & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM) {
		conf->txmode.offloads |= RTE_ETH_TX_OFFLOAD_IPV4_CKSUM;
		p->offload |= SP_OFFLOAD_TX_IPV4_CKSUM;
	}
	if (tx & RTE_ETH_TX_OFFLOAD_TCP_CKSUM) {
		conf->txmode.offloads |= RTE_ETH_TX_OFFLOAD_TCP_CKSUM;
		p->offload |= SP_OFFLOAD_TX_TCP_CKSUM;
	}
	/* Receive: each frame's flags then carry the NIC's verdict, which
	 * the stack takes instead of checking (a frame without one is
	 * checked in software). */
	conf->rxmode.offloads |= rx & (RTE_ETH_RX_OFFLOAD_IPV4_CKSUM |
				       RTE_ETH_RX_OFFLOAD_TCP_CKSUM);
}

static int
sp_port_setup(struct sp_port *p)
{
	struct rte_eth_conf conf;
	struct rte_eth_dev_info info;
	struct rte_ether_addr mac;
	uint16_t nrx = SP_NB_DESC, ntx = SP_NB_DESC;
	int socket = rte_eth_dev_socket_id(p->port_id);
	int ret;

	if (socket < 0)
		socket = (int)rte_socket_id();
	ret = rte_eth_dev_info_get(p->port_id, &info);
	if (ret != 0) {
		fprintf(stderr, "stampede: port %s: info: %s\n", p->name,
			rte_strerror(-ret));
		return -1;
	}
	if (info.max_rx_queues < p->nb_queues ||
	    info.max_tx_queues < p->nb_queues) {
		fprintf(stderr,
			"stampede: port %s has %u RX and %u TX queues, "
			"%u needed (--cores)\n",
			p->name, info.max_rx_queues, info.max_tx_queues,
			p->nb_queues);
		return -1;
	}
	p->pool = rte_pktmbuf_pool_create("sp_mbufs",
					  (SP_NB_MBUF + 1) * p->nb_queues - 1,
					  SP_MBUF_CACHE, 0,
					  RTE_MBUF_DEFAULT_BUF_SIZE, socket);
	if (p->pool == NULL) {
		fprintf(stderr, "stampede: mbuf pool: %s\n",
			rte_strerror(rte_errno));
		return -1;
	}
	memset(&conf, 0, sizeof(conf));
	sp_port_offloads(p, &info, &conf);
	/* Several queues on a NIC: spread flows by RSS on addresses and
	 * ports, where the NIC can (af_packet spreads by itself). */
	if (p->nb_queues > 1 && info.flow_type_rss_offloads != 0) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf = info.flow_type_rss_offloads &
						   (RTE_ETH_RSS_IP |
						    RTE_ETH_RSS_TCP);
	}
	ret = rte_eth_dev_configure(p->port_id, p->nb_queues, p->nb_queues,
				    &conf);
	if (ret == 0)
		ret = rte_eth_dev_adjust_nb_rx_tx_desc(p->port_id, &nrx, &ntx);
	/* What the port holds of a burst toward us: the af_packet ring
	 * (afp), or the descriptors. */
	p->rx_frames = p->afp ? SP_AFP_FRAMES : nrx;
	for (uint16_t q = 0; q < p->nb_queues && ret == 0; q++) {
		ret = rte_eth_rx_queue_setup(p->port_id, q, nrx,
					     (unsigned int)socket, NULL,
					     p->pool);
		if (ret == 0)
			ret = rte_eth_tx_queue_setup(
				p->port_id, q, ntx, (unsigned int)socket, NULL);
	}
	if (ret != 0) {
		fprintf(stderr, "stampede: port %s: configuration: %s\n",
			p->name, rte_strerror(-ret));
		return -1;
	}
	ret = rte_eth_dev_start(p->port_id);
	if (ret != 0) {
		fprintf(stderr, "stampede: port %s: start: %s\n", p->name,
			rte_strerror(-ret));
		return -1;
	}
	p->port_started = 1;
	if (p->afp)
		sp_afp_find(p);
	ret = rte_eth_macaddr_get(p->port_id, &mac);
	if (ret != 0) {
		fprintf(stderr, "stampede: port %s: MAC address: %s\n", p->name,
			rte_strerror(-ret));
		return -1;
	}
	memcpy(p->mac, mac.addr_bytes, sizeof(p->mac));
	return 0;
}

int
sp_port_open(struct sp_port *p, const struct sp_netopt *no)
{
	memset(p, 0, sizeof(*p));
	p->afp_hold_fd = -1;
	p->nb_queues = (uint16_t)no->cores;
	snprintf(p->name, sizeof(p->name), "%s",
		 no->iface[0] != '\0' ? no->iface : no->pci);
	if (no->iface[0] != '\0') {
		p->afp = 1;
		p->afp_ifindex = if_nametoindex(no->iface);
		/* Before EAL: may go on in a new process (afpacket.c). */
		if (sp_afp_prepare(no->iface, &p->afp_hold_fd) < 0)
			return -1;
		if (no->kernel_blind)
			sp_kblind_install(&p->kblind, no->iface);
	}
	if (sp_eal_init(no, &p->cpus_shared, &p->ctl_shared) < 0)
		return -1;
	p->eal_up = 1;
	/* The driver's sockets are in the fanout group (or never will be). */
	sp_afp_release(&p->afp_hold_fd);
	if (rte_lcore_count() < 1u + p->nb_queues) {
		fprintf(stderr,
			"stampede: EAL gave %u lcore(s), need %u (control "
			"and %u worker%s)\n",
			rte_lcore_count(), 1u + p->nb_queues, p->nb_queues,
			p->nb_queues > 1 ? "s" : "");
		return -1;
	}
	{
		unsigned int lc = (unsigned int)-1;

		for (uint16_t i = 0; i < p->nb_queues; i++) {
			lc = rte_get_next_lcore(lc, 1, 0);
			p->worker_lcores[i] = lc;
		}
	}
	p->worker_lcore = p->worker_lcores[0];
	if (sp_port_find(no, &p->port_id) < 0)
		return -1;
	p->port_found = 1;
	return sp_port_setup(p);
}

int
sp_port_rss(const struct sp_port *p, uint8_t *key, uint16_t *reta,
	    uint32_t *reta_size)
{
	struct rte_eth_rss_reta_entry64
		conf[SP_RETA_MAX / RTE_ETH_RETA_GROUP_SIZE];
	struct rte_eth_rss_conf rss;
	struct rte_eth_dev_info info;

	if (p->afp || p->nb_queues < 2 ||
	    rte_eth_dev_info_get(p->port_id, &info) != 0 ||
	    info.reta_size == 0 || info.reta_size > SP_RETA_MAX ||
	    info.hash_key_size < 40 || info.hash_key_size > SP_RSS_KEY_MAX)
		return -1;
	memset(&rss, 0, sizeof(rss));
	rss.rss_key = key;
	rss.rss_key_len = info.hash_key_size;
	if (rte_eth_dev_rss_hash_conf_get(p->port_id, &rss) != 0 ||
	    !(rss.rss_hf & RTE_ETH_RSS_NONFRAG_IPV4_TCP))
		return -1;
	memset(conf, 0, sizeof(conf));
	for (uint32_t i = 0; i < info.reta_size / RTE_ETH_RETA_GROUP_SIZE; i++)
		conf[i].mask = ~0ull;
	if (rte_eth_dev_rss_reta_query(p->port_id, conf, info.reta_size) != 0)
		return -1;
	for (uint32_t i = 0; i < info.reta_size; i++)
		reta[i] = conf[i / RTE_ETH_RETA_GROUP_SIZE]
				  .reta[i % RTE_ETH_RETA_GROUP_SIZE];
	*reta_size = info.reta_size;
	return 0;
}

void
sp_port_stats(struct sp_port *p, struct sp_nic_stats *s)
{
	struct rte_eth_stats es;

	memset(s, 0, sizeof(*s));
	if (!p->port_started || rte_eth_stats_get(p->port_id, &es) != 0)
		return;
	s->ipackets = es.ipackets;
	s->opackets = es.opackets;
	/* DPDK 22.11's af_packet driver does not count what its rings
	 * dropped: the kernel does, per socket. */
	sp_afp_drops(p);
	s->imissed = es.imissed + p->afp_drops;
	s->ierrors = es.ierrors;
	s->oerrors = es.oerrors;
	s->rx_nombuf = es.rx_nombuf;
	s->valid = 1;
}

void
sp_port_close(struct sp_port *p)
{
	sp_afp_release(&p->afp_hold_fd);
	if (p->port_started) {
		rte_eth_dev_stop(p->port_id);
		p->port_started = 0;
	}
	if (p->port_found) {
		rte_eth_dev_close(p->port_id);
		p->port_found = 0;
	}
	if (p->pool != NULL) {
		rte_mempool_free(p->pool);
		p->pool = NULL;
	}
	if (p->eal_up) {
		char dir[PATH_MAX];

		snprintf(dir, sizeof(dir), "%s", rte_eal_get_runtime_dir());
		rte_eal_cleanup();
		sp_remove_runtime_dir(dir);
		p->eal_up = 0;
	}
	/* Last: the kernel stays blind until the port no longer receives. */
	sp_kblind_remove(&p->kblind);
}
