/*
 * sp_httpd: a small HTTP server on the control side (libmicrohttpd on a
 * polling thread of its own), for what a run shows while it goes: the
 * Prometheus endpoint (obs_prom.c), later a dashboard.
 *
 * The server serves documents: a path, a content type and a body that
 * the control thread publishes (say once a second) and the server's
 * thread copies out under a mutex for each GET. The server's thread never
 * sees the run's state, only these copies, and the workers never see the
 * server. Other kinds of route (a stream of events, a POST) are room for
 * later beside the documents; the listening, the thread and the counting
 * are here once.
 *
 * The socket is bound in sp_httpd_listen, before anything runs, so that a
 * bad address or a port in use is the user's error at once; the thread
 * starts in sp_httpd_start, from the thread whose CPU affinity it should
 * inherit (the control lcore's, after DPDK pinned it: never a worker's).
 */
#ifndef SP_HTTPD_H
#define SP_HTTPD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct sp_httpd;

/* "HOST:PORT" or "[IPV6]:PORT" (HOST an address or a name, PORT 1 to
 * 65535) into @sa. 0, or -1 with why in @err. */
int sp_httpd_parse(const char *spec, struct sockaddr_storage *sa,
		   socklen_t *len, char *err, size_t errlen);
/* Listen on @spec now; nothing is served before sp_httpd_start (a
 * client waits in the backlog). NULL with why in @err. */
struct sp_httpd *sp_httpd_listen(const char *spec, char *err, size_t errlen);
/* Where it listens: "127.0.0.1:9464", "[::1]:9464". */
const char *sp_httpd_addr(const struct sp_httpd *h);
/* Serve, on a thread of the server's own (SIGINT and SIGTERM blocked
 * there: they stay the control thread's). 0, or -1 with why in @err. */
int sp_httpd_start(struct sp_httpd *h, char *err, size_t errlen);
/* @body (a copy is kept) is from now on what a GET of @path gets, with
 * Content-Type @type. 0, or -1: out of memory, or too many paths. */
int sp_httpd_publish(struct sp_httpd *h, const char *path, const char *type,
		     const char *body, size_t len);
/* GETs of @path answered in full: all of them, and those that carried
 * the latest publication. */
void sp_httpd_served(struct sp_httpd *h, const char *path, uint64_t *all,
		     uint64_t *latest);
/* Wait until a GET of @path has carried its latest publication in full,
 * at most @timeout_us, and only while @stop (if given) says 0. 1 if it
 * did, else 0. */
int sp_httpd_wait_latest(struct sp_httpd *h, const char *path,
			 uint64_t timeout_us, int (*stop)(void));
/* Server-sent events at @path (one stream a server): a client gets a
 * "reset" event, then every kept event in order, then each newer latest
 * named event, as they come. 0, or -1: too long a path. */
int sp_httpd_stream(struct sp_httpd *h, const char *path);
/* An event of the stream, @data one line (JSON): kept (@keep: every
 * client gets it, a new client too) or the latest of its name (a client
 * gets the newest it has not had). 0, or -1: out of memory, a newline in
 * @data, too many names. */
int sp_httpd_event(struct sp_httpd *h, const char *name, const char *data,
		   size_t len, int keep);
/* Streams opened so far, open now; POSTs taken. */
void sp_httpd_streams(struct sp_httpd *h, uint64_t *opened, unsigned *open,
		      uint64_t *posts);
/* Wait until every open stream has been given every event, at most
 * @timeout_us, and only while @stop (if given) says 0. 1 if so. */
int sp_httpd_wait_streams(struct sp_httpd *h, uint64_t timeout_us,
			  int (*stop)(void));
/* A POST of @path that carries the header @header (a literal that stays)
 * calls @cb(@ctx) on the server's thread; without it: 403. */
int sp_httpd_post(struct sp_httpd *h, const char *path, const char *header,
		  void (*cb)(void *), void *ctx);
/* Stop serving and close. NULL is fine. */
void sp_httpd_close(struct sp_httpd *h);

#endif /* SP_HTTPD_H */
