/*
 * Unit test for app/prom_fmt.c (the Prometheus text format's pieces) and
 * app/httpd.c (the control side's HTTP server), on loopback only:
 * - the histogram's edges are sp_hist bucket edges, increasing, 16 us to
 *   2^27 us; a histogram of known values renders cumulative buckets equal
 *   to a count by brute force at every le, +Inf = _count = the values,
 *   _sum exact;
 * - label values escaped, and refused when they do not fit;
 * - addresses: HOST:PORT and [IPV6]:PORT parsed, bad ones refused;
 * - the server: nothing served before start (a client waits), a GET gets
 *   the latest publication with its type, 404 and 405 otherwise; served
 *   counts only complete GETs, the latest only for the latest body; the
 *   wait ends on a scrape, on its timeout, or when told to stop; a port
 *   in use is refused with the system's reason.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sp_hist.h"
#include "sp_httpd.h"
#include "sp_prom.h"

#include "sp_check.h"

static void
test_edges(void)
{
	CHECK_EQ(sp_prom_edge(0), 16);
	CHECK_EQ(sp_prom_edge(1), 20);
	CHECK_EQ(sp_prom_edge(4), 32);
	CHECK_EQ(sp_prom_edge(SP_PROM_EDGES - 1), UINT64_C(1) << 27);
	for (unsigned k = 0; k < SP_PROM_EDGES; k++) {
		uint64_t e = sp_prom_edge(k);

		CHECK(sp_hist_lowest(sp_hist_index(e)) == e,
		      "edge %" PRIu64 " is a bucket's lowest value", e);
		CHECK(k == 0 || e > sp_prom_edge(k - 1));
		/* At most a quarter of the lower edge wide. */
		CHECK(k == 0 ||
		      (e - sp_prom_edge(k - 1)) * 4 <= sp_prom_edge(k - 1));
	}
}

static uint64_t sp_rng = 88172645463325252ull;

static uint64_t
rng(void)
{
	sp_rng ^= sp_rng << 13;
	sp_rng ^= sp_rng >> 7;
	sp_rng ^= sp_rng << 17;
	return sp_rng;
}

enum { NV = 20000 };

static void
test_hist(void)
{
	static uint64_t v[NV];
	struct sp_hist *h = malloc(sizeof(*h));
	char *buf = NULL, *line, *save;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	uint64_t sum = 0;
	unsigned nbuckets = 0, ok = 0, inf = 0, cnt = 0, sm = 0;

	sp_hist_init(h);
	for (int i = 0; i < NV; i++) {
		/* Across the whole range: 1 us to hours, and the edges. */
		switch (i % 4) {
		case 0:
			v[i] = rng() % 300;
			break;
		case 1:
			v[i] = rng() % (UINT64_C(1) << (rng() % 36));
			break;
		case 2:
			v[i] = sp_prom_edge((unsigned)(rng() % SP_PROM_EDGES)) -
			       (rng() % 2);
			break;
		default:
			v[i] = rng() % 200000;
			break;
		}
		sp_hist_record(h, v[i]);
		sum += v[i];
	}
	sp_prom_hist(f, "x_seconds", "a=\"b\"", h);
	fclose(f);
	for (line = strtok_r(buf, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		unsigned long long whole, frac, n;
		char tail[8];

		if (sscanf(line,
			   "x_seconds_bucket{a=\"b\",le=\"%llu.%6llu\"} %llu",
			   &whole, &frac, &n) == 3) {
			uint64_t le = whole * 1000000 + frac, want = 0;

			for (int i = 0; i < NV; i++)
				want += v[i] <= le;
			CHECK(n == want,
			      "le %" PRIu64 ": %llu, counted %" PRIu64, le, n,
			      want);
			/* The le is an edge less one microsecond. */
			CHECK(sp_prom_edge(nbuckets) == le + 1);
			ok += n == want;
			nbuckets++;
		} else if (sscanf(line,
				  "x_seconds_bucket{a=\"b\",le=\"+Inf\"} %llu",
				  &n) == 1) {
			CHECK_EQ(n, NV);
			inf++;
		} else if (sscanf(line, "x_seconds_count{a=\"b\"} %llu", &n) ==
			   1) {
			CHECK_EQ(n, NV);
			cnt++;
		} else if (sscanf(line, "x_seconds_sum{a=\"b\"} %llu.%6llu%7s",
				  &whole, &frac, tail) == 2) {
			CHECK_EQ(whole * 1000000 + frac, sum);
			sm++;
		} else {
			CHECK(0, "unexpected line: %s", line);
		}
	}
	CHECK_EQ(nbuckets, SP_PROM_EDGES);
	CHECK_EQ(ok, SP_PROM_EDGES);
	CHECK_EQ(inf + cnt + sm, 3);
	free(buf);

	/* Without labels: no braces but le's. */
	buf = NULL;
	f = open_memstream(&buf, &len);
	sp_hist_init(h);
	sp_hist_record(h, 5);
	sp_prom_hist(f, "y", NULL, h);
	fclose(f);
	CHECK(strstr(buf, "y_bucket{le=\"0.000015\"} 1\n") != NULL);
	CHECK(strstr(buf, "y_sum 0.000005\ny_count 1\n") != NULL);
	free(buf);

	/* A shard's label goes first on every sample, with or without the
	 * series' own labels. */
	buf = NULL;
	f = open_memstream(&buf, &len);
	sp_prom_set_base_labels("shard=\"2\"");
	sp_prom_hist(f, "y", NULL, h);
	sp_prom_hist(f, "z", "a=\"b\"", h);
	sp_prom_u64(f, "w", NULL, 7);
	sp_prom_u64(f, "v", "a=\"b\"", 8);
	sp_prom_set_base_labels(NULL);
	sp_prom_u64(f, "u", NULL, 9);
	fclose(f);
	CHECK(strstr(buf, "y_bucket{shard=\"2\",le=\"0.000015\"} 1\n") !=
	      NULL);
	CHECK(strstr(buf, "y_sum{shard=\"2\"} 0.000005\n"
			  "y_count{shard=\"2\"} 1\n") != NULL);
	CHECK(strstr(buf, "z_bucket{shard=\"2\",a=\"b\",le=\"+Inf\"} 1\n") !=
	      NULL);
	CHECK(strstr(buf, "z_count{shard=\"2\",a=\"b\"} 1\n") != NULL);
	CHECK(strstr(buf, "w{shard=\"2\"} 7\nv{shard=\"2\",a=\"b\"} 8\n"
			  "u 9\n") != NULL);
	free(buf);
	free(h);
}

static void
test_escape(void)
{
	char out[32];

	CHECK(sp_prom_escape(out, sizeof(out), "a\"b\\c\nd") == 0 &&
	      strcmp(out, "a\\\"b\\\\c\\nd") == 0);
	CHECK(sp_prom_escape(out, sizeof(out), "GET /") == 0 &&
	      strcmp(out, "GET /") == 0);
	CHECK(sp_prom_escape(out, 5, "abcd") == 0);
	CHECK(sp_prom_escape(out, 4, "abcd") < 0);
	CHECK(sp_prom_escape(out, 3, "a\"") < 0);
}

static void
test_parse(void)
{
	static const char *const bad[] = {
		"127.0.0.1",    "127.0.0.1:",
		"127.0.0.1:0",  "127.0.0.1:65536",
		"127.0.0.1:8x", "127.0.0.1:-1",
		":9464",        "::1:9464",
		"[::1]9464",    "[::1",
		"[]:9464",      "[127.0.0.1]:9464",
		"[zz]:9464",    "127.0.0.1:+80",
	};
	struct sockaddr_storage sa;
	socklen_t len;
	char err[256];

	CHECK(sp_httpd_parse("127.0.0.1:9464", &sa, &len, err, sizeof(err)) ==
		      0 &&
	      sa.ss_family == AF_INET &&
	      ntohs(((struct sockaddr_in *)&sa)->sin_port) == 9464 &&
	      ntohl(((struct sockaddr_in *)&sa)->sin_addr.s_addr) ==
		      0x7f000001);
	CHECK(sp_httpd_parse("[::1]:65535", &sa, &len, err, sizeof(err)) == 0 &&
	      sa.ss_family == AF_INET6 &&
	      ntohs(((struct sockaddr_in6 *)&sa)->sin6_port) == 65535 &&
	      len == sizeof(struct sockaddr_in6));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		CHECK(sp_httpd_parse(bad[i], &sa, &len, err, sizeof(err)) < 0 &&
			      strstr(err, bad[i]) != NULL,
		      "'%s' refused, and named: %s", bad[i], err);
	}
}

/* A port free on loopback now (the kernel's pick). */
static unsigned
free_port(void)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	unsigned port;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
		perror("free_port");
		exit(1);
	}
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

/* One HTTP/1.1 exchange on a fresh connection: the whole answer. */
static char *
http(unsigned port, const char *method, const char *path)
{
	struct sockaddr_in a;
	char req[256], *out = calloc(1, 65536);
	size_t n = 0;
	ssize_t k;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		close(fd);
		return out;
	}
	snprintf(req, sizeof(req),
		 "%s %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
		 method, path);
	if (write(fd, req, strlen(req)) != (ssize_t)strlen(req)) {
		close(fd);
		return out;
	}
	while (n < 65535 && (k = read(fd, out + n, 65535 - n)) > 0)
		n += (size_t)k;
	close(fd);
	return out;
}

struct getter {
	unsigned port;
	char *got;
};

static void *
get_thread(void *arg)
{
	struct getter *g = arg;

	g->got = http(g->port, "GET", "/metrics");
	return NULL;
}

static int
stop_now(void)
{
	return 1;
}

static void
test_server(void)
{
	unsigned port = free_port();
	char spec[64], err[256], *got;
	struct sp_httpd *h, *h2;
	struct getter g;
	pthread_t th;
	uint64_t all, latest;

	snprintf(spec, sizeof(spec), "127.0.0.1:%u", port);
	h = sp_httpd_listen(spec, err, sizeof(err));
	CHECK(h != NULL, "listen: %s", err);
	if (h == NULL)
		return;
	CHECK(strcmp(sp_httpd_addr(h), spec) == 0, "addr %s", sp_httpd_addr(h));
	/* The port is taken from now on, before the server runs. */
	h2 = sp_httpd_listen(spec, err, sizeof(err));
	CHECK(h2 == NULL && strstr(err, "in use") != NULL, "in use: %s", err);
	sp_httpd_close(h2);

	/* A client before the start waits in the backlog, then gets the
	 * first publication. */
	g.port = port;
	g.got = NULL;
	pthread_create(&th, NULL, get_thread, &g);
	CHECK(sp_httpd_publish(h, "/metrics", "text/plain; version=0.0.4",
			       "a 1\n", 4) == 0);
	CHECK(sp_httpd_start(h, err, sizeof(err)) == 0, "start: %s", err);
	pthread_join(th, NULL);
	CHECK(strncmp(g.got, "HTTP/1.1 200", 12) == 0, "got: %s", g.got);
	CHECK(strstr(g.got, "\r\n\r\na 1\n") != NULL);
	CHECK(strstr(g.got, "text/plain; version=0.0.4") != NULL);
	free(g.got);
	CHECK(sp_httpd_wait_latest(h, "/metrics", 2000000, NULL) == 1);
	sp_httpd_served(h, "/metrics", &all, &latest);
	CHECK(all == 1 && latest == 1, "%" PRIu64 " %" PRIu64, all, latest);

	/* A new body: the latest is not served until a GET takes it. */
	CHECK(sp_httpd_publish(h, "/metrics", "text/plain", "a 2\n", 4) == 0);
	sp_httpd_served(h, "/metrics", &all, &latest);
	CHECK(all == 1 && latest == 0);
	CHECK(sp_httpd_wait_latest(h, "/metrics", 100000, NULL) == 0);
	CHECK(sp_httpd_wait_latest(h, "/metrics", 5000000, stop_now) == 0);
	got = http(port, "HEAD", "/metrics");
	CHECK(strncmp(got, "HTTP/1.1 200", 12) == 0 &&
	      strstr(got, "a 2") == NULL);
	free(got);
	got = http(port, "GET", "/nope");
	CHECK(strncmp(got, "HTTP/1.1 404", 12) == 0, "got: %s", got);
	free(got);
	got = http(port, "POST", "/metrics");
	CHECK(strncmp(got, "HTTP/1.1 405", 12) == 0 &&
		      strstr(got, "Allow: GET, HEAD") != NULL,
	      "got: %s", got);
	free(got);
	sp_httpd_served(h, "/metrics", &all, &latest);
	CHECK(all == 1 && latest == 0, "HEAD, 404, 405 are no scrapes");
	got = http(port, "GET", "/metrics");
	CHECK(strstr(got, "\r\n\r\na 2\n") != NULL);
	free(got);
	CHECK(sp_httpd_wait_latest(h, "/metrics", 2000000, NULL) == 1);
	sp_httpd_served(h, "/metrics", &all, &latest);
	CHECK(all == 2 && latest == 1);
	sp_httpd_close(h);
	/* Closed: the port is free again. */
	h = sp_httpd_listen(spec, err, sizeof(err));
	CHECK(h != NULL, "listen again: %s", err);
	sp_httpd_close(h);

	/* IPv6 loopback, where the machine has it: named in brackets. */
	snprintf(spec, sizeof(spec), "[::1]:%u", port);
	h = sp_httpd_listen(spec, err, sizeof(err));
	if (h == NULL && strstr(err, "Cannot assign") != NULL) {
		printf("no IPv6 loopback here: %s\n", err);
		return;
	}
	CHECK(h != NULL && strcmp(sp_httpd_addr(h), spec) == 0, "%s: %s", spec,
	      h != NULL ? sp_httpd_addr(h) : err);
	CHECK(h == NULL || sp_httpd_start(h, err, sizeof(err)) == 0);
	sp_httpd_close(h);
}

int
main(void)
{
	test_edges();
	test_hist();
	test_escape();
	test_parse();
	test_server();
	printf("%d checks, %d failed\n", sp_tests, sp_failed);
	return sp_failed != 0;
}
