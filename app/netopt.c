/*
 * Option parsing shared by the run-like subcommands: the network options
 * (--port, --ip, --prefix-len, --gateway, --eal, --cores, --placement) and the value
 * parsers for addresses, sizes and durations.
 *
 * Any address the user gives is theirs to choose (they test their own
 * servers on their own networks); only what cannot work is refused, with
 * the reason (sp_values.h: sp_val_ipv4_unusable, sp_val_target).
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include "sp_app.h"
#include "sp_values.h"

void
sp_usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("stampede: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int
sp_opt_bad(const char *cmd, int code, char *const *argv)
{
	if (code == ':')
		sp_usage_error("%s: missing value", argv[optind - 1]);
	else
		sp_usage_error("%s: unknown option '%s' (see stampede %s "
			       "--help)",
			       cmd, argv[optind - 1], cmd);
	return -1;
}

int
sp_opt_no_args(const char *cmd, int argc, char *const *argv)
{
	if (optind >= argc)
		return 0;
	sp_usage_error("%s: unexpected argument '%s'", cmd, argv[optind]);
	return -1;
}

void
sp_ipv4_str(uint32_t ip, char *buf, size_t len)
{
	snprintf(buf, len, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xff,
		 (ip >> 8) & 0xff, ip & 0xff);
}

int
sp_parse_ipv4(const char *opt, const char *s, uint32_t *ip)
{
	struct in_addr a;

	/* inet_pton accepts only the dotted quad: no octal, no short forms. */
	if (inet_pton(AF_INET, s, &a) != 1) {
		sp_usage_error("%s: '%s' is not an IPv4 address", opt, s);
		return -1;
	}
	*ip = ntohl(a.s_addr);
	return 0;
}

int
sp_parse_peer_ipv4(const char *opt, const char *s, uint32_t *ip)
{
	const char *why;

	if (sp_parse_ipv4(opt, s, ip) < 0)
		return -1;
	if ((why = sp_val_ipv4_unusable(*ip)) != NULL) {
		sp_usage_error("%s: %s %s", opt, s, why);
		return -1;
	}
	return 0;
}

int
sp_parse_u64(const char *opt, const char *s, uint64_t min, uint64_t max,
	     uint64_t *v)
{
	const char *end;

	if (sp_val_digits(s, &end, v) < 0 || *end != '\0') {
		sp_usage_error("%s: '%s' is not a number", opt, s);
		return -1;
	}
	if (*v < min || *v > max) {
		sp_usage_error("%s: %s is out of range [%" PRIu64 ", %" PRIu64
			       "]",
			       opt, s, min, max);
		return -1;
	}
	return 0;
}

/* Sizes: a byte count with an optional k/m/g suffix (KiB, MiB, GiB). */
int
sp_parse_size(const char *opt, const char *s, uint64_t *v)
{
	const char *end;
	uint64_t x, mult = 1;

	if (sp_val_digits(s, &end, &x) < 0)
		goto bad;
	switch (tolower((unsigned char)*end)) {
	case '\0':
		break;
	case 'k':
		mult = 1ull << 10;
		end++;
		break;
	case 'm':
		mult = 1ull << 20;
		end++;
		break;
	case 'g':
		mult = 1ull << 30;
		end++;
		break;
	default:
		goto bad;
	}
	if (*end != '\0')
		goto bad;
	if (x > UINT64_MAX / mult) {
		sp_usage_error("%s: %s is too large", opt, s);
		return -1;
	}
	*v = x * mult;
	return 0;
bad:
	sp_usage_error("%s: '%s' is not a size (e.g. 1024, 64k, 16m, 1g)", opt,
		       s);
	return -1;
}

/* Durations: sp_values.h's grammar, as in scenario files. */
int
sp_parse_duration(const char *opt, const char *s, uint64_t *us)
{
	char why[SP_VAL_WHY];

	if (sp_val_duration(s, us, why) == 0)
		return 0;
	sp_usage_error("%s: %s", opt, why);
	return -1;
}

void
sp_netopt_init(struct sp_netopt *no)
{
	memset(no, 0, sizeof(*no));
	no->prefix_len = 24;
	no->cores = 1;
	no->kernel_blind = 1;
}

/* DDDD:BB:DD.F or BB:DD.F, hex digits: what EAL's -a accepts for PCI. */
static int
sp_is_pci_addr(const char *s)
{
	const char *fmt = strlen(s) > 7 ? "xxxx:xx:xx.x" : "xx:xx.x";

	if (strlen(s) != strlen(fmt))
		return 0;
	for (size_t i = 0; fmt[i] != '\0'; i++) {
		if (fmt[i] == 'x' ? !isxdigit((unsigned char)s[i]) :
				    s[i] != fmt[i])
			return 0;
	}
	return 1;
}

static int
sp_netopt_port(struct sp_netopt *no, const char *arg)
{
	static const char pfx[] = "af_packet:";

	no->iface[0] = no->pci[0] = '\0';
	if (strncmp(arg, pfx, sizeof(pfx) - 1) == 0) {
		const char *ifname = arg + sizeof(pfx) - 1;
		size_t n = strlen(ifname);

		/* The name goes into EAL devargs: a ',' or '=' would smuggle
		 * in other arguments. 15 is the kernel's IFNAMSIZ - 1. */
		if (n == 0 || n > 15 || strpbrk(ifname, ",= \t/") != NULL) {
			sp_usage_error("--port: '%s' is not an interface name",
				       ifname);
			return -1;
		}
		memcpy(no->iface, ifname, n + 1);
		return 1;
	}
	if (sp_is_pci_addr(arg)) {
		snprintf(no->pci, sizeof(no->pci), "%s", arg);
		return 1;
	}
	sp_usage_error("--port: '%s' is neither af_packet:IFACE nor a PCI "
		       "address like 0000:01:00.0",
		       arg);
	return -1;
}

int
sp_netopt_parse(struct sp_netopt *no, int code, const char *arg)
{
	char why[SP_VAL_WHY];
	uint64_t v;

	switch (code) {
	case SP_NETOPT_PORT:
		return sp_netopt_port(no, arg);
	case SP_NETOPT_IP:
		if (sp_val_ip_range(arg, &no->ip, &no->ip_count, why) < 0) {
			sp_usage_error("--ip: %s", why);
			return -1;
		}
		return 1;
	case SP_NETOPT_PREFIX_LEN:
		if (sp_parse_u64("--prefix-len", arg, 1, 30, &v) < 0)
			return -1;
		no->prefix_len = (uint8_t)v;
		return 1;
	case SP_NETOPT_GATEWAY:
		return sp_parse_peer_ipv4("--gateway", arg, &no->gateway) < 0 ?
			       -1 :
			       1;
	case SP_NETOPT_EAL:
		no->eal_extra = arg;
		return 1;
	case SP_NETOPT_CORES:
		if (sp_parse_u64("--cores", arg, 1, SP_MAX_CORES, &v) < 0)
			return -1;
		no->cores = (unsigned int)v;
		return 1;
	case SP_NETOPT_PLACEMENT:
		if (sp_val_placement(arg, &no->placement, why) < 0) {
			sp_usage_error("--placement: %s", why);
			return -1;
		}
		return 1;
	case SP_NETOPT_NO_KERNEL_BLIND:
		/* --no-kernel-blind has no value; the file's kernel_blind: has
		 * true or false (checked by the loader). */
		no->kernel_blind = arg != NULL && strcmp(arg, "true") == 0;
		return 1;
	case SP_NETOPT_VERSION:
		sp_print_version(stdout);
		exit(SP_EXIT_OK);
	default:
		return 0;
	}
}

int
sp_netopt_finish(const struct sp_netopt *no)
{
	char a[16];

	if (no->iface[0] == '\0' && no->pci[0] == '\0') {
		sp_usage_error("--port is required (af_packet:IFACE or a PCI "
			       "address)");
		return -1;
	}
	if (no->ip == 0) {
		sp_usage_error("--ip is required");
		return -1;
	}
	{
		uint32_t m = sp_val_mask(no->prefix_len);
		uint32_t bcast = no->ip | ~m;

		/* Our range may not hold our network's broadcast address: a
		 * reply to it would reach every host of the network. */
		if (bcast - no->ip < no->ip_count) {
			sp_ipv4_str(bcast, a, sizeof(a));
			sp_usage_error(
				"--ip: the range holds %s, the broadcast "
				"address of its /%u network (--prefix-len)",
				a, no->prefix_len);
			return -1;
		}
	}
	if (no->gateway != 0) {
		uint32_t m = sp_val_mask(no->prefix_len);

		if ((no->gateway | m) == 0xffffffffu &&
		    (no->gateway & m) == (no->ip & m)) {
			sp_ipv4_str(no->gateway, a, sizeof(a));
			sp_usage_error("--gateway: %s is the broadcast address "
				       "of --ip/--prefix-len",
				       a);
			return -1;
		}
		if ((no->gateway & m) != (no->ip & m)) {
			sp_ipv4_str(no->gateway, a, sizeof(a));
			sp_usage_error(
				"--gateway: %s is not inside --ip/--prefix-len",
				a);
			return -1;
		}
		if (sp_netopt_ours(no, no->gateway)) {
			sp_usage_error("--gateway: must not be one of --ip");
			return -1;
		}
	}
	return 0;
}

int
sp_netopt_ours(const struct sp_netopt *no, uint32_t ip)
{
	return ip - no->ip < (no->ip_count ? no->ip_count : 1);
}

uint32_t
sp_netopt_nexthop(const struct sp_netopt *no, uint32_t dst)
{
	uint32_t m = sp_val_mask(no->prefix_len);

	if ((dst & m) == (no->ip & m) || no->gateway == 0)
		return dst;
	return no->gateway;
}

int
sp_netopt_check_target(const struct sp_netopt *no, const char *what,
		       const char *name, uint32_t dst)
{
	const char *why = sp_val_target(dst, no->ip, no->ip_count,
					no->prefix_len);
	uint32_t m = sp_val_mask(no->prefix_len);
	char a[16], ours[16];

	sp_ipv4_str(dst, a, sizeof(a));
	if (why != NULL) {
		if (name != NULL && strcmp(name, a) != 0)
			sp_usage_error("%s: %s (%s) %s", what, name, a, why);
		else
			sp_usage_error("%s: %s %s", what, a, why);
		return -1;
	}
	/* The off-link rule: with no gateway, the target itself is asked
	 * for by ARP whatever the prefix. It answers when it has our
	 * addresses on-link (as a test bed with a wider route does), or a
	 * router answers for it by proxy ARP; else ARP fails, exit 3. */
	if ((dst & m) != (no->ip & m) && no->gateway == 0) {
		sp_ipv4_str(no->ip, ours, sizeof(ours));
		fprintf(stderr,
			"stampede: note: %s is outside %s/%u and no "
			"--gateway is given: asking for %s itself by ARP (give "
			"--gateway or --prefix-len if it sits behind a "
			"router)\n",
			a, ours, no->prefix_len, a);
	}
	return 0;
}

/* "2%", "0.5%", "12.25" (percent, at most two decimals) to basis points. */
static int
sp_parse_percent_bp(const char *s, uint32_t *bp)
{
	const char *end;
	uint64_t whole, frac = 0;
	int digits = 0;

	if (sp_val_digits(s, &end, &whole) < 0 || whole > 100)
		return -1;
	if (*end == '.') {
		for (end++; isdigit((unsigned char)*end) && digits < 2; end++) {
			frac = frac * 10 + (uint64_t)(*end - '0');
			digits++;
		}
		if (digits == 0)
			return -1;
		if (digits == 1)
			frac *= 10;
	}
	if (*end == '%')
		end++;
	if (*end != '\0' || whole * 100 + frac > 10000)
		return -1;
	*bp = (uint32_t)(whole * 100 + frac);
	return 0;
}

int
sp_parse_impair(const char *opt, const char *s, struct sp_impair *im)
{
	char buf[128], *save = NULL;

	if (strlen(s) >= sizeof(buf))
		goto bad;
	memcpy(buf, s, strlen(s) + 1);
	memset(im, 0, sizeof(*im));
	for (char *tok = strtok_r(buf, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		uint32_t *dst;

		if (eq == NULL)
			goto bad;
		*eq = '\0';
		if (strcmp(tok, "drop") == 0)
			dst = &im->drop_bp;
		else if (strcmp(tok, "reorder") == 0)
			dst = &im->reorder_bp;
		else if (strcmp(tok, "dup") == 0)
			dst = &im->dup_bp;
		else
			goto bad;
		if (sp_parse_percent_bp(eq + 1, dst) < 0)
			goto bad;
	}
	/* Past 50% a "reordered" or lost frame is the norm, not the
	 * exception, and the run measures the impairment, not the stack. */
	if (im->drop_bp > 5000 || im->reorder_bp > 5000 || im->dup_bp > 5000) {
		sp_usage_error("%s: each rate must be at most 50%%", opt);
		return -1;
	}
	return 0;
bad:
	sp_usage_error(
		"%s: '%s' is not a list like reorder=2%%,dup=1%%,drop=0.5%%",
		opt, s);
	return -1;
}
