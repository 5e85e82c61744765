/*
 * stampede serve's own types (servemode.c: the responder; serve_report.c:
 * its text and JSON reports).
 */
#ifndef SP_SERVE_H
#define SP_SERVE_H

#include <stdio.h>

#include "sp_app.h"
#include "sp_http1_req.h"
#include "sp_stream_tcp.h"
#include "sp_tls.h"

/* Error responses, by what the parser said. */
enum {
	SP_ERESP_NONE,
	SP_ERESP_400,
	SP_ERESP_431,
	SP_ERESP_501,
	SP_ERESP_505,
	SP_ERESP_N
};

/* Errors by kind: the parser's, then ours. */
enum { SP_SRV_E_PIPELINE = SP_HTTP1_REQ_NERRORS, SP_SRV_NERR };

struct sp_srv_slot {
	struct sp_stream *conn; /* TCP's, or TLS's over it; NULL: free */
	struct sp_http1_req req;
	uint64_t off;       /* bytes of the oldest owed response queued */
	uint64_t head_mask; /* bit i: owed response i answers a HEAD */
	uint32_t pending;   /* responses owed, oldest first */
	uint8_t eresp;      /* an error response owed after them */
	uint8_t reading;    /* 0: requests are no longer read */
	uint8_t closing;    /* close called */
	uint8_t cur_close;  /* the response being queued is the close one */
};

/* One prepared response: head, then up to SP_SRV_BODY_BUF body bytes. */
struct sp_srv_resp {
	char *buf;
	size_t head_len, buf_len;
	uint64_t total; /* head + the whole body */
};

/* The serve mode's counters, one writer: the worker. Every one is in
 * SP_SRV_COUNTERS, what is added up across cores. */
#define SP_SRV_COUNTERS(X, A)                                                  \
	X(requests)                                                            \
	X(responses)                                                           \
	X(unanswered) X(connections) X(closed) X(open) X(rejected)             \
		A(closed_by, SP_STREAM_END_NKINDS) X(bytes_received)           \
			X(bytes_sent) X(body_received) A(errors, SP_SRV_NERR)  \
				A(eresp, SP_ERESP_N)

struct sp_srv_counts {
	uint64_t requests, responses, unanswered;
	uint64_t connections, closed, open, rejected;
	uint64_t closed_by[SP_STREAM_END_NKINDS];
	uint64_t bytes_received, bytes_sent, body_received;
	uint64_t errors[SP_SRV_NERR];
	uint64_t eresp[SP_ERESP_N];
};
_Static_assert((0 SP_SRV_COUNTERS(SP_LIST_COUNT1, SP_LIST_COUNTN)) *
			       sizeof(uint64_t) ==
		       sizeof(struct sp_srv_counts),
	       "SP_SRV_COUNTERS must list every counter of sp_srv_counts");

extern const char *const sp_eresp_text[SP_ERESP_N];
extern const char *const sp_eresp_code[SP_ERESP_N];
/* How a connection ended, by sp_stream_end: TCP's kinds first (named as
 * the stack names them: the report's keys did not change), then TLS's. */
extern const char *const sp_srv_end_name[SP_STREAM_END_NKINDS];
#define SP_SRV_TCP_ENDS (SP_STREAM_END_ABORTED + 1)

/* --tls: what every core's instance is made from. */
struct sp_srv_tls {
	int on;
	const char *cert, *key, *ciphers, *curves;
	const char *psk; /* --tls-psk ID:HEXKEY: a certificate is optional */
	int no_resume;  /* --tls-no-resume: neither cache nor tickets */
	uint32_t cache; /* session-ID cache entries per core */
};

struct sp_servemode {
	/* Plan. */
	uint16_t port;
	int status;
	uint64_t body_size;
	int close_each;
	uint32_t max_conns; /* over all cores */
	struct sp_srv_tls tlsc;

	/* This core's: its worker, its share of the connections. */
	struct sp_worker *w;
	struct sp_servemode *all; /* every core's, all[0] .. all[ncores-1] */
	uint32_t ncores;
	struct sp_srv_resp keep, close; /* Connection: keep-alive / close;
					 * the buffers are all[0]'s */
	/* The stream the slots ride on: the TCP adapter, or TLS over it. */
	const struct sp_stream_ops *ops;
	void *impl;
	struct sp_stream_tcp tcp;
	struct sp_tls *tls; /* --tls: this core's server instance */
	struct sp_srv_slot *slots;
	uint32_t nslots;
	uint32_t *free_idx;
	uint32_t nfree;
	int stopped;
	/* The last request head seen whole, for every connection: the same
	 * head again is not parsed again (clients mostly repeat theirs). */
	struct sp_http1_req_memo memo;

	struct sp_srv_counts n; /* one writer: the worker */
};

/* serve_report.c */
void sp_serve_print(const struct sp_servemode *m, const struct sp_srv_counts *n,
		    const struct sp_report *r, FILE *out);
int sp_serve_json(const struct sp_servemode *m, const struct sp_srv_counts *n,
		  const struct sp_report *r, FILE *f, const char *path);
/* The cores' TLS counters added up into @t (zeros without --tls). */
int sp_srv_tls_sum(const struct sp_servemode *m, struct sp_tls_counters *t);

#endif /* SP_SERVE_H */
