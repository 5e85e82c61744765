/*
 * The virtual users' request builder (private to lib/proto): renders a
 * request's templates and writes the whole HTTP/1.1 request. A render is
 * a pure function of what struct sp_vu_render holds, so the engine can
 * render a request again, identically, when send space frees up.
 *
 * The arrow runs one way: the engine calls this; this calls nothing of
 * the engine's.
 */
#ifndef SP_VU_RENDER_H
#define SP_VU_RENDER_H

#include <stdint.h>

#include "sp_plan.h"

#define SP_VU_REQ_MAX (64u * 1024u) /* a rendered request, head and body */

/* What one render reads. */
struct sp_vu_render {
	const struct sp_plan *pl;
	uint64_t vu;           /* {{vu}}: the VU's number in the run, from 1 */
	uint32_t iter;         /* {{iteration}} */
	uint32_t row;          /* the iteration's data row */
	uint64_t seed;         /* {{random}} draws of this request */
	uint8_t *body_scratch; /* room for the body (SP_VU_REQ_MAX) */
	/* {{NAME}} and {{setup.NAME}}: the VU's variable slots and setup's
	 * (each slot a uint32_t length, then the bytes), @var_slot bytes
	 * apart; every variable the request uses is set (checked before). */
	const uint8_t *vars, *setup_vars;
	uint32_t var_slot;
	/* The jar's Cookie value for this request (@cookie_len bytes, 0:
	 * none): sent as a Cookie field unless the request has its own. */
	const uint8_t *cookie;
	uint32_t cookie_len;
};

/* The whole request at @out (room for sp_vu_tpl_max of its templates plus
 * the fixed parts, checked at creation): request line, Host and User-Agent
 * unless the request has its own, the request's headers, the jar's
 * Cookie, Connection,
 * Content-Length, blank line, body. Returns its length. */
uint32_t sp_vu_build(const struct sp_vu_render *rd, const struct sp_request *rq,
		     int keep_alive, uint8_t *out);

/* The same for a WebSocket upgrade (rq->ws_upgrade): GET's fields, then
 * Upgrade, Connection: Upgrade, Sec-WebSocket-Key @key (NUL-ended),
 * Sec-WebSocket-Version and, if the request offers any,
 * Sec-WebSocket-Protocol. At most SP_VU_UPGRADE_EXTRA bytes more than
 * the plain request, plus the subprotocols' length. */
#define SP_VU_UPGRADE_EXTRA 128u
uint32_t sp_vu_build_upgrade(const struct sp_vu_render *rd,
			     const struct sp_request *rq, const char *key,
			     uint8_t *out);

/* One template alone (a WebSocket message, a ping's payload) at @out
 * (room: sp_vu_tpl_max), its {{random}} draws from rd->seed; returns its
 * length. */
uint32_t sp_vu_render_tpl(const struct sp_vu_render *rd, const struct sp_tpl *t,
			  uint8_t *out);

/* Whether a data value of @t, for data row @row, would come out of its
 * filter with a byte the template's context forbids (a CR or LF in a
 * header, a space in the path). Checked before a request starts, so
 * nothing unsafe is ever rendered. */
int sp_vu_tpl_unsafe(const struct sp_plan *pl, uint32_t row,
		     const struct sp_tpl *t);

/* Upper bound of a template's rendering. */
uint64_t sp_vu_tpl_max(const struct sp_plan *pl, const struct sp_tpl *t);

/* The request has no variables: built once, at creation. */
int sp_vu_req_static(const struct sp_request *rq);

/* The target of a built request (@req, @n bytes): *@path and its length. */
uint32_t sp_vu_path_of(const uint8_t *req, uint32_t n, const uint8_t **path);

#endif /* SP_VU_RENDER_H */
