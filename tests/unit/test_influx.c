/*
 * Unit test for app/influx.c (--out influxdb='s URL, queue and pusher),
 * against a small HTTP server of its own on 127.0.0.1 that records what
 * it got and answers 204, 500, or never:
 * - the URL: v1 and v2 forms taken apart (where the lines go, what the
 *   report shows, credentials percent-decoded), every refusal;
 * - the queue without a pusher: full means dropped and counted, a batch
 *   too big too, the end drops what is left;
 * - 204: every batch arrives, bytes as put, on the v1 path with basic
 *   auth, on the v2 path with the token;
 * - 500: a failed request, its status and body kept as the error;
 * - no answer: the end abandons the request within its bound, whatever
 *   the request timeout; refused: failed at once, nothing hangs;
 * - libcurl itself held up (connect() and getaddrinfo() of this program
 *   stall for the test's port and name): the end still returns within
 *   its bound; a pusher held inside libcurl is left behind, counted, and
 *   frees what it shares when it leaves (ASan build: nothing used after
 *   free).
 * Always: put = points + failed_points + dropped after the end.
 */
#include <dlfcn.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sp_influx.h"

#include "sp_check.h"

/* --- libcurl held up: this program's connect() and getaddrinfo() come
 * before libc's for libcurl too. A connect() to stall_port, and a
 * resolution of STALL_NAME, take STALL_MS first, as a blocking step
 * inside libcurl would (a resolver to join, a slow system call). */

#define STALL_NAME "influx-stall.invalid"
#define STALL_MS 2500
static int stall_port;
static int stalls; /* entered, atomic */

static void
stall(void)
{
	__atomic_add_fetch(&stalls, 1, __ATOMIC_ACQ_REL);
	usleep(STALL_MS * 1000);
}

int
connect(int fd, const struct sockaddr *a, socklen_t len)
{
	static int (*real)(int, const struct sockaddr *, socklen_t);

	if (real == NULL)
		real = (int (*)(int, const struct sockaddr *,
				socklen_t))dlsym(RTLD_NEXT, "connect");
	if (a != NULL && a->sa_family == AF_INET && stall_port != 0 &&
	    ntohs(((const struct sockaddr_in *)a)->sin_port) == stall_port)
		stall();
	return real(fd, a, len);
}

int
getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
	    struct addrinfo **res)
{
	static int (*real)(const char *, const char *, const struct addrinfo *,
			   struct addrinfo **);

	if (real == NULL)
		real = (int (*)(
			const char *, const char *, const struct addrinfo *,
			struct addrinfo **))dlsym(RTLD_NEXT, "getaddrinfo");
	if (node != NULL && strcmp(node, STALL_NAME) == 0) {
		stall();
		return EAI_NONAME;
	}
	return real(node, service, hints, res);
}

/* --- the URL */

struct url_case {
	const char *spec;
	const char *post, *shown, *user, *pass; /* post NULL: refused */
	int v2;
	const char *err; /* refused: words the error has */
};

static const struct url_case url_cases[] = {
	{ "http://127.0.0.1:8086/db",
	  "http://127.0.0.1:8086/write?db=db&precision=ms",
	  "http://127.0.0.1:8086/db", NULL, NULL, 0, NULL },
	{ "https://u%40x:p%3aw@localhost/pre/fix/db?rp=week",
	  "https://localhost/pre/fix/write?db=db&rp=week&precision=ms",
	  "https://localhost/pre/fix/db?rp=week", "u@x", "p:w", 0, NULL },
	{ "http://u@[::1]:8086/db",
	  "http://[::1]:8086/write?db=db&precision=ms", "http://[::1]:8086/db",
	  "u", "", 0, NULL },
	{ "http://h:8086/api/v2/write?org=o&bucket=b",
	  "http://h:8086/api/v2/write?org=o&bucket=b&precision=ms",
	  "http://h:8086/api/v2/write?org=o&bucket=b", NULL, NULL, 1, NULL },
	{ "http://h/x/api/v2/write?bucket=b&orgID=1&precision=ms",
	  "http://h/x/api/v2/write?bucket=b&orgID=1&precision=ms",
	  "http://h/x/api/v2/write?bucket=b&orgID=1&precision=ms", NULL, NULL,
	  1, NULL },
	{ "ftp://h/db", NULL, NULL, NULL, NULL, 0, "http:// or https://" },
	{ "h:8086/db", NULL, NULL, NULL, NULL, 0, "http:// or https://" },
	{ "http:///db", NULL, NULL, NULL, NULL, 0, "no host" },
	{ "http://:8086/db", NULL, NULL, NULL, NULL, 0, "no host" },
	{ "http://h:/db", NULL, NULL, NULL, NULL, 0, "bad port" },
	{ "http://h:0/db", NULL, NULL, NULL, NULL, 0, "bad port" },
	{ "http://h:65536/db", NULL, NULL, NULL, NULL, 0, "bad port" },
	{ "http://h:80x/db", NULL, NULL, NULL, NULL, 0, "bad port" },
	{ "http://[::1/db", NULL, NULL, NULL, NULL, 0, "IPv6" },
	{ "http://[::1]x/db", NULL, NULL, NULL, NULL, 0, "IPv6" },
	{ "http://h:8086", NULL, NULL, NULL, NULL, 0, "no database" },
	{ "http://h:8086/", NULL, NULL, NULL, NULL, 0, "no database" },
	{ "http://h:8086/db/", NULL, NULL, NULL, NULL, 0, "no database" },
	{ "http://h/db?db=x", NULL, NULL, NULL, NULL, 0, "not a parameter" },
	{ "http://h/db?rp", NULL, NULL, NULL, NULL, 0, "KEY=VALUE" },
	{ "http://h/db?rp=", NULL, NULL, NULL, NULL, 0, "KEY=VALUE" },
	{ "http://h/db?rp=a&rp=b", NULL, NULL, NULL, NULL, 0, "twice" },
	{ "http://h/d b", NULL, NULL, NULL, NULL, 0, "space" },
	{ "http://h/db#x", NULL, NULL, NULL, NULL, 0, "'#'" },
	{ "http://:p@h/db", NULL, NULL, NULL, NULL, 0, "without a user" },
	{ "http://u:%4@h/db", NULL, NULL, NULL, NULL, 0, "%XX" },
	{ "http://u:%zz@h/db", NULL, NULL, NULL, NULL, 0, "%XX" },
	{ "http://h/api/v2/write?org=o", NULL, NULL, NULL, NULL, 1, "bucket=" },
	{ "http://h/api/v2/write?bucket=b", NULL, NULL, NULL, NULL, 1, "org=" },
	{ "http://h/api/v2/write?org=o&bucket=b&precision=ns", NULL, NULL, NULL,
	  NULL, 1, "precision=ns" },
	{ "http://h/api/v2/write?org=o&bucket=b&db=x", NULL, NULL, NULL, NULL,
	  1, "not a parameter" },
	{ "http://u:p@h/api/v2/write?org=o&bucket=b", NULL, NULL, NULL, NULL, 1,
	  "token" },
};

static int
streq(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
	       (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static void
test_url(void)
{
	for (size_t i = 0; i < sizeof(url_cases) / sizeof(url_cases[0]); i++) {
		const struct url_case *c = &url_cases[i];
		struct sp_influx_url u;
		char err[256] = "";
		int rc = sp_influx_url_parse(&u, c->spec, err, sizeof(err));

		if (c->post == NULL) {
			CHECK(rc == -1 && strstr(err, c->err) != NULL,
			      "%s: refused (%d) saying '%s': '%s'", c->spec, rc,
			      c->err, err);
			CHECK(u.post == NULL && u.user == NULL);
			continue;
		}
		CHECK(rc == 0, "%s: %s", c->spec, err);
		if (rc != 0)
			continue;
		CHECK(streq(u.post, c->post), "%s: post %s", c->spec, u.post);
		CHECK(streq(u.shown, c->shown), "%s: shown %s", c->spec,
		      u.shown);
		CHECK(streq(u.user, c->user) && streq(u.pass, c->pass),
		      "%s: user %s pass %s", c->spec, u.user, u.pass);
		CHECK(u.v2 == c->v2, "%s: v2 %d", c->spec, u.v2);
		sp_influx_url_free(&u);
	}
}

/* --- a recording HTTP server on 127.0.0.1 */

enum srv_mode { SRV_204, SRV_500, SRV_HANG };

struct srv {
	int lfd, port;
	enum srv_mode mode;
	int quit;
	pthread_t th;
	pthread_mutex_t mu;
	int requests; /* read whole */
	char bodies[65536];
	size_t blen;
	char target[256], auth[256]; /* the last request's */
};

/* One request from @fd into @s. 1 read, 0 the peer closed, -1 quit. */
static int
srv_read(struct srv *s, int fd)
{
	char buf[32768], *eoh = NULL;
	size_t len = 0, clen = 0;

	while (eoh == NULL || len < (size_t)(eoh + 4 - buf) + clen) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (__atomic_load_n(&s->quit, __ATOMIC_ACQUIRE))
			return -1;
		if (poll(&p, 1, 50) <= 0)
			continue;
		n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n <= 0)
			return 0;
		len += (size_t)n;
		buf[len] = '\0';
		if (eoh == NULL && (eoh = strstr(buf, "\r\n\r\n")) != NULL) {
			for (char *l = strstr(buf, "\r\n") + 2; l < eoh;
			     l = strstr(l, "\r\n") + 2) {
				if (strncasecmp(l, "content-length:", 15) == 0)
					clen = strtoul(l + 15, NULL, 10);
				if (strncasecmp(l, "authorization:", 14) == 0)
					snprintf(s->auth, sizeof(s->auth),
						 "%.*s",
						 (int)strcspn(l + 15, "\r"),
						 l + 15);
			}
		}
	}
	pthread_mutex_lock(&s->mu);
	snprintf(s->target, sizeof(s->target), "%.*s", (int)strcspn(buf, "\r"),
		 buf);
	if (s->blen + clen <= sizeof(s->bodies)) {
		memcpy(s->bodies + s->blen, eoh + 4, clen);
		s->blen += clen;
	}
	s->requests++;
	pthread_mutex_unlock(&s->mu);
	return 1;
}

static void *
srv_main(void *arg)
{
	static const char ok[] = "HTTP/1.1 204 No Content\r\n\r\n";
	static const char bad[] = "HTTP/1.1 500 Internal Server Error\r\n"
				  "Content-Length: 17\r\n\r\n"
				  "{\"error\":\"boom\"}\n";
	struct srv *s = arg;

	while (!__atomic_load_n(&s->quit, __ATOMIC_ACQUIRE)) {
		struct pollfd p = { .fd = s->lfd, .events = POLLIN };
		int fd, rc;

		if (poll(&p, 1, 50) <= 0)
			continue;
		fd = accept(s->lfd, NULL, NULL);
		if (fd < 0)
			continue;
		while ((rc = srv_read(s, fd)) == 1) {
			if (s->mode == SRV_HANG)
				continue; /* read on, answer never */
			if (write(fd, s->mode == SRV_204 ? ok : bad,
				  s->mode == SRV_204 ? sizeof(ok) - 1 :
						       sizeof(bad) - 1) < 0)
				break;
		}
		close(fd);
	}
	return NULL;
}

static void
srv_start(struct srv *s, enum srv_mode mode)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);

	memset(s, 0, sizeof(*s));
	s->mode = mode;
	pthread_mutex_init(&s->mu, NULL);
	s->lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (s->lfd < 0 || bind(s->lfd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(s->lfd, 8) < 0 ||
	    getsockname(s->lfd, (struct sockaddr *)&a, &al) < 0 ||
	    pthread_create(&s->th, NULL, srv_main, s) != 0) {
		perror("test server");
		exit(1);
	}
	s->port = ntohs(a.sin_port);
}

static void
srv_stop(struct srv *s)
{
	__atomic_store_n(&s->quit, 1, __ATOMIC_RELEASE);
	pthread_join(s->th, NULL);
	close(s->lfd);
	pthread_mutex_destroy(&s->mu);
}

static int
srv_requests(struct srv *s)
{
	int n;

	pthread_mutex_lock(&s->mu);
	n = s->requests;
	pthread_mutex_unlock(&s->mu);
	return n;
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Until the stats say @points points went (written or failed), 5 s at
 * most. */
static void
wait_points(struct sp_influx *ix, uint64_t points)
{
	struct sp_influx_stats st;
	uint64_t end = now_ms() + 5000;

	do {
		sp_influx_stats(ix, &st);
		if (st.points + st.failed_points >= points)
			return;
		usleep(10000);
	} while (now_ms() < end);
}

static struct sp_influx *
make(const char *url, const char *token, uint32_t slots, uint32_t timeout_ms)
{
	struct sp_influx_conf c = {
		.url = url,
		.token = token,
		.slots = slots,
		.slot_bytes = 64,
		.connect_timeout_ms = 2000,
		.timeout_ms = timeout_ms,
	};
	char err[256];
	struct sp_influx *ix = sp_influx_create(&c, err, sizeof(err));

	if (ix == NULL) {
		fprintf(stderr, "sp_influx_create(%s): %s\n", url, err);
		exit(1);
	}
	return ix;
}

static void
check_sum(struct sp_influx *ix, const char *what)
{
	struct sp_influx_stats st;

	sp_influx_stats(ix, &st);
	CHECK(st.put == st.points + st.failed_points + st.dropped,
	      "%s: put %llu = points %llu + failed %llu + dropped %llu", what,
	      (unsigned long long)st.put, (unsigned long long)st.points,
	      (unsigned long long)st.failed_points,
	      (unsigned long long)st.dropped);
}

static void
test_queue_alone(void)
{
	struct sp_influx *ix = make("http://127.0.0.1:9/db", NULL, 2, 1000);
	struct sp_influx_stats st;
	char big[65];

	memset(big, 'x', sizeof(big));
	CHECK(sp_influx_put(ix, "a v=1i 1\n", 9, 1) == 0);
	CHECK(sp_influx_put(ix, "a v=2i 2\na v=3i 3\n", 18, 2) == 0);
	CHECK(sp_influx_put(ix, "a v=4i 4\n", 9, 1) == -1, "full: dropped");
	CHECK(sp_influx_put(ix, big, sizeof(big), 1) == -1, "too big: dropped");
	sp_influx_stats(ix, &st);
	CHECK(st.put == 5 && st.dropped == 2 && st.points == 0,
	      "put %llu dropped %llu", (unsigned long long)st.put,
	      (unsigned long long)st.dropped);
	sp_influx_end(ix, 100);
	sp_influx_stats(ix, &st);
	CHECK(st.dropped == 5 && st.failed == 0,
	      "never started: all dropped at the end (%llu)",
	      (unsigned long long)st.dropped);
	CHECK(sp_influx_put(ix, "a v=5i 5\n", 9, 1) == -1, "after the end");
	check_sum(ix, "alone");
	sp_influx_destroy(ix);
}

static void
test_written(int v2)
{
	struct srv s;
	struct sp_influx *ix;
	struct sp_influx_stats st;
	char url[128], want[256] = "";
	size_t wl = 0;

	srv_start(&s, SRV_204);
	if (v2)
		snprintf(url, sizeof(url),
			 "http://127.0.0.1:%d/api/v2/write?org=o&bucket=b",
			 s.port);
	else
		snprintf(url, sizeof(url), "http://u:p%%20w@127.0.0.1:%d/db",
			 s.port);
	ix = make(url, v2 ? "s3cret" : NULL, 4, 5000);
	CHECK(sp_influx_start(ix) == 0);
	for (int i = 0; i < 6; i++) {
		char line[32];
		int n = snprintf(line, sizeof(line), "m v=%di %d\n", i, i);

		CHECK(sp_influx_put(ix, line, (size_t)n, 1) == 0);
		memcpy(want + wl, line, (size_t)n);
		wl += (size_t)n;
		if (i % 2)
			wait_points(ix, (uint64_t)i + 1);
	}
	sp_influx_end(ix, 2000);
	sp_influx_stats(ix, &st);
	CHECK(st.points == 6 && st.dropped == 0 && st.failed == 0,
	      "v2 %d: points %llu dropped %llu failed %llu (%s)", v2,
	      (unsigned long long)st.points, (unsigned long long)st.dropped,
	      (unsigned long long)st.failed, st.first_error);
	CHECK(st.batches >= 3 && st.batches <= 6 &&
		      st.batches == (uint64_t)srv_requests(&s),
	      "batches %llu, the server's %d", (unsigned long long)st.batches,
	      srv_requests(&s));
	CHECK(s.blen == wl && memcmp(s.bodies, want, wl) == 0,
	      "the bodies are the lines, in order: '%.*s'", (int)s.blen,
	      s.bodies);
	if (v2) {
		CHECK(strcmp(s.target, "POST /api/v2/write?org=o&bucket=b&"
				       "precision=ms HTTP/1.1") == 0,
		      "%s", s.target);
		CHECK(strcmp(s.auth, "Token s3cret") == 0, "%s", s.auth);
	} else {
		CHECK(strcmp(s.target,
			     "POST /write?db=db&precision=ms HTTP/1.1") == 0,
		      "%s", s.target);
		/* base64("u:p w") */
		CHECK(strcmp(s.auth, "Basic dTpwIHc=") == 0, "%s", s.auth);
	}
	if (!v2) {
		char shown[128];

		snprintf(shown, sizeof(shown), "http://127.0.0.1:%d/db",
			 s.port);
		CHECK(strcmp(sp_influx_shown(ix), shown) == 0,
		      "shown without credentials: %s", sp_influx_shown(ix));
	}
	check_sum(ix, "written");
	sp_influx_destroy(ix);
	srv_stop(&s);
}

static void
test_500(void)
{
	struct srv s;
	struct sp_influx *ix;
	struct sp_influx_stats st;
	char url[128];

	srv_start(&s, SRV_500);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/db", s.port);
	ix = make(url, NULL, 4, 5000);
	sp_influx_start(ix);
	sp_influx_put(ix, "m v=1i 1\n", 9, 1);
	wait_points(ix, 1);
	sp_influx_put(ix, "m v=2i 2\n", 9, 1);
	sp_influx_end(ix, 2000);
	sp_influx_stats(ix, &st);
	CHECK(st.failed == 2 && st.failed_points == 2 && st.points == 0,
	      "failed %llu", (unsigned long long)st.failed);
	CHECK(strstr(st.first_error, "HTTP 500") != NULL &&
		      strstr(st.first_error, "boom") != NULL,
	      "first error: %s", st.first_error);
	check_sum(ix, "500");
	sp_influx_destroy(ix);
	srv_stop(&s);
}

static void
test_hang(void)
{
	struct srv s;
	struct sp_influx *ix;
	struct sp_influx_stats st;
	char url[128];
	uint64_t t0, took, end;
	int queued = 0;

	srv_start(&s, SRV_HANG);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/db", s.port);
	/* A request timeout far past the end's bound. */
	ix = make(url, NULL, 2, 60000);
	sp_influx_start(ix);
	sp_influx_put(ix, "m v=1i 1\n", 9, 1);
	end = now_ms() + 5000;
	while (srv_requests(&s) == 0 && now_ms() < end)
		usleep(10000);
	CHECK(srv_requests(&s) == 1, "the request arrived");
	/* In flight and unanswered: the queue fills, then drops. */
	for (int i = 0; i < 4; i++)
		queued += sp_influx_put(ix, "m v=2i 2\n", 9, 1) == 0;
	CHECK(queued == 2, "two slots, %d queued", queued);
	t0 = now_ms();
	sp_influx_end(ix, 300);
	took = now_ms() - t0;
	CHECK(took >= 250 && took < 1500, "the end took %llu ms for 300",
	      (unsigned long long)took);
	sp_influx_stats(ix, &st);
	CHECK(st.failed == 1 && st.failed_points == 1 && st.dropped == 4 &&
		      st.points == 0,
	      "failed %llu (%llu points), dropped %llu",
	      (unsigned long long)st.failed,
	      (unsigned long long)st.failed_points,
	      (unsigned long long)st.dropped);
	CHECK(strstr(st.first_error, "abandoned") != NULL, "%s",
	      st.first_error);
	check_sum(ix, "hang");
	sp_influx_destroy(ix);
	srv_stop(&s);
}

static void
test_refused(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sp_influx *ix;
	struct sp_influx_stats st;
	char url[128];
	uint64_t t0;

	/* A port just bound and closed: nobody listens there. */
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &al) < 0) {
		perror("socket");
		exit(1);
	}
	close(fd);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/db", ntohs(a.sin_port));
	ix = make(url, NULL, 4, 60000);
	sp_influx_start(ix);
	t0 = now_ms();
	sp_influx_put(ix, "m v=1i 1\n", 9, 1);
	wait_points(ix, 1);
	sp_influx_put(ix, "m v=2i 2\n", 9, 1);
	wait_points(ix, 2);
	sp_influx_end(ix, 2000);
	sp_influx_stats(ix, &st);
	CHECK(st.failed == 2 && st.failed_points == 2,
	      "refused: failed %llu (%s)", (unsigned long long)st.failed,
	      st.first_error);
	CHECK(now_ms() - t0 < 2000, "refused at once");
	CHECK(st.first_error[0] != '\0' &&
	      strcmp(st.first_error, st.last_error) == 0);
	check_sum(ix, "refused");
	sp_influx_destroy(ix);
}

static void
test_create_refusals(void)
{
	struct sp_influx_conf c = {
		.url = "http://127.0.0.1:8086/api/v2/write?org=o&bucket=b",
		.slots = 2,
		.slot_bytes = 64,
		.timeout_ms = 1000,
	};
	char err[256] = "";

	CHECK(sp_influx_create(&c, err, sizeof(err)) == NULL &&
		      strstr(err, "STAMPEDE_INFLUXDB_TOKEN") != NULL,
	      "v2 without a token: %s", err);
	c.token = "";
	CHECK(sp_influx_create(&c, err, sizeof(err)) == NULL);
	c.token = "a\r\nX-Evil: 1";
	CHECK(sp_influx_create(&c, err, sizeof(err)) == NULL &&
		      strstr(err, "line break") != NULL,
	      "%s", err);
	c.url = "http://127.0.0.1:8086";
	CHECK(sp_influx_create(&c, err, sizeof(err)) == NULL &&
		      strstr(err, "no database") != NULL,
	      "%s", err);
}

/* The pusher inside libcurl's connect() when the end comes: the end
 * returns within its bound and leaves it behind. Whichever of the owner
 * and the pusher lets go last frees: the owner first (the pusher frees
 * when it leaves), or the pusher first (@owner_last). */

/* Until the pusher is inside the stalled call (5 s at most). */
static void
wait_stall(void)
{
	uint64_t end = now_ms() + 5000;

	while (__atomic_load_n(&stalls, __ATOMIC_ACQUIRE) == 0 &&
	       now_ms() < end)
		usleep(1000);
}
static void
test_stall_connect(int owner_last)
{
	struct srv s;
	struct sp_influx *ix;
	struct sp_influx_stats st;
	char url[128];
	uint64_t t0, took;

	srv_start(&s, SRV_HANG);
	stall_port = s.port;
	__atomic_store_n(&stalls, 0, __ATOMIC_RELEASE);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/db", s.port);
	ix = make(url, NULL, 4, 60000);
	sp_influx_start(ix);
	sp_influx_put(ix, "m v=1i 1\n", 9, 1);
	wait_stall();
	CHECK(__atomic_load_n(&stalls, __ATOMIC_ACQUIRE) == 1,
	      "the pusher is inside connect()");
	sp_influx_put(ix, "m v=2i 2\n", 9, 1);
	t0 = now_ms();
	sp_influx_end(ix, 300);
	took = now_ms() - t0;
	CHECK(took >= 250 && took < 300 + 250 + 200,
	      "stalled connect: the end took %llu ms for 300 (+250)",
	      (unsigned long long)took);
	sp_influx_stats(ix, &st);
	CHECK(st.end_left_behind == 1 && st.end_wait_ms >= 250 &&
		      st.end_stop_ms >= 200 && st.end_stop_ms < 450,
	      "left behind %d, wait %llu, stop %llu ms", st.end_left_behind,
	      (unsigned long long)st.end_wait_ms,
	      (unsigned long long)st.end_stop_ms);
	CHECK(st.failed == 1 && st.failed_points == 1 && st.dropped == 1 &&
		      strstr(st.first_error, "left behind") != NULL,
	      "failed %llu (%llu points), dropped %llu: %s",
	      (unsigned long long)st.failed,
	      (unsigned long long)st.failed_points,
	      (unsigned long long)st.dropped, st.first_error);
	check_sum(ix, "stalled connect");
	CHECK(sp_influx_put(ix, "m v=3i 3\n", 9, 1) == -1, "after the end");
	/* The pusher leaves libcurl, then frees if the owner has let go:
	 * ASan sees it all. */
	if (owner_last)
		usleep((STALL_MS + 500) * 1000);
	sp_influx_destroy(ix);
	if (!owner_last)
		usleep((STALL_MS + 500) * 1000);
	stall_port = 0;
	srv_stop(&s);
}

/* The name resolving when the end comes (libcurl's resolver thread):
 * the request is abandoned and the pusher leaves at once. */
static void
test_stall_resolve(void)
{
	struct sp_influx *ix;
	struct sp_influx_stats st;
	uint64_t t0, took;

	__atomic_store_n(&stalls, 0, __ATOMIC_RELEASE);
	ix = make("http://" STALL_NAME ":8086/db", NULL, 4, 60000);
	sp_influx_start(ix);
	sp_influx_put(ix, "m v=1i 1\n", 9, 1);
	wait_stall();
	CHECK(__atomic_load_n(&stalls, __ATOMIC_ACQUIRE) == 1,
	      "the name is resolving");
	t0 = now_ms();
	sp_influx_end(ix, 300);
	took = now_ms() - t0;
	CHECK(took >= 250 && took < 300 + 250 + 200,
	      "stalled resolver: the end took %llu ms for 300 (+250)",
	      (unsigned long long)took);
	sp_influx_stats(ix, &st);
	CHECK(st.failed == 1 && st.failed_points == 1 &&
		      strstr(st.first_error, "abandoned") != NULL,
	      "failed %llu: %s", (unsigned long long)st.failed, st.first_error);
	check_sum(ix, "stalled resolver");
	sp_influx_destroy(ix);
	/* libcurl's resolver thread ends on its own. */
	usleep((STALL_MS + 500) * 1000);
}

int
main(void)
{
	test_url();
	test_create_refusals();
	test_queue_alone();
	test_written(0);
	test_written(1);
	test_500();
	test_hang();
	test_refused();
	test_stall_connect(0);
	test_stall_connect(1);
	test_stall_resolve();
	printf("%d checks, %d failed\n", sp_tests, sp_failed);
	return sp_failed != 0;
}
