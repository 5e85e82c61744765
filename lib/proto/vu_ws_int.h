/*
 * The WebSocket client's own types, shared by its files (private to
 * lib/proto; see vu_ws.c's head for the design):
 *   vu_ws.c       the session: frames in and out, steps, timers
 *   vu_ws_hs.c    the upgrade's 101, checked as its fields pass
 *   vu_ws_life.c  the pools: made at the engine's creation, and freed
 */
#ifndef SP_VU_WS_INT_H
#define SP_VU_WS_INT_H

#include <stdint.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <wslay/wslay.h>

#include "sp_ws.h"
#include "vu_int.h"

#define SP_VU_WS_WINDOW 4096u /* bytes of a message a regex sees */
#define SP_VU_WS_CTL_MAX 125u /* a control frame's payload (RFC 6455 5.5) */
#define SP_VU_WS_HDR_MAX 14u  /* 2 + 8 (length) + 4 (mask) */
#define SP_VU_WS_NONE UINT32_MAX
/* A rendered contains whose room (pattern and KMP table) is at most this
 * many bytes has one per VU: an expect always finds its room. A larger
 * one comes from a pool sized as the frame contexts' (ws_pool_size). */
#define SP_VU_WS_PAT_PER_VU 256u

enum { WS_OP_CONT = 0, WS_OP_TEXT = 1, WS_OP_BIN = 2 };
enum { WS_OP_CLOSE = 8, WS_OP_PING = 9, WS_OP_PONG = 10 };

/* A session's state: st. */
enum {
	WS_GONE = 0, /* no session (ended, or never started) */
	WS_OPEN,     /* open both ways */
	WS_CLOSING,  /* our close frame sent, the server's awaited */
};

/* The upgrade's checks: from sp_vu_ws_offer to the 101's end. */
enum { HF_OTHER, HF_UPGRADE, HF_CONNECTION, HF_ACCEPT, HF_PROTOCOL, HF_EXT };

struct sp_vu_ws_hs {
	struct sp_vu_checks *chk; /* the request's own checks */
	const char *offer;        /* subprotocols offered, or NULL */
	char accept[SP_WS_ACCEPT_LEN];
	uint8_t name[24]; /* the field's name so far, lower-case */
	uint8_t nlen;     /* its length, or 0xff: longer than ours */
	uint8_t field;    /* HF_*, known at the name's end */
	uint8_t fknown;   /* field is set */
	uint8_t vpos;     /* value bytes seen (accept, protocol) */
	uint8_t tpos;     /* token bytes matched, or 0xff: not the token */
	uint8_t val[32];  /* the subprotocol chosen */
	uint8_t ok_upgrade, ok_conn, ok_accept, bad;
};

/* Per VU: the upgrade's checks, then the session's state. */
struct sp_vu_ws {
	union {
		struct sp_vu_ws_hs hs;
		struct {
			uint8_t st;        /* WS_* */
			uint8_t kind;      /* the step on (enum sp_step_kind) */
			uint8_t owe_pong;  /* a pong (of ctl) waits for room */
			uint8_t owe_close; /* the step's close waits for room */
			uint8_t step_done; /* the step ended in an event */
			uint8_t jump;      /* the session ended in an event: the
					  * VU skips the rest of its block */
			uint8_t tx_on;     /* a message is being queued */
			uint8_t measure_any; /* the RTT ends at any message */
			uint8_t hn, hlen;    /* header bytes read, needed */
			uint8_t op, fin;     /* the frame being read */
			uint8_t msg_op;      /* the data message on, 0: none */
			uint8_t msg_match;   /* the expect on judges it */
			uint8_t ctl_n;       /* control payload bytes */
			uint16_t pat_len;    /* the rendered contains' length */
			uint8_t hb[SP_VU_WS_HDR_MAX];
			uint32_t ws;   /* the step's plan->ws_steps index */
			uint32_t done; /* messages the step sent, matched */
			uint32_t fctx; /* frame context held, or NONE */
			uint32_t win;  /* regex window held, or NONE */
			uint32_t win_len;
			uint32_t pat; /* rendered contains held, or NONE */
			uint32_t kmp;
			uint32_t utf8;
			uint64_t rx_left;   /* payload not yet out of wslay */
			uint64_t feed_left; /* payload not yet into wslay */
			uint64_t msg_len;
			uint64_t t_measure; /* a measured message queued at */
			uint64_t tx_off, tx_len; /* the message being queued */
			uint64_t seed;           /* its {{random}} draws */
			uint8_t ctl[SP_VU_WS_CTL_MAX];
		};
	};
};

/*
 * The goal of issue 15: at most 1 KiB per idle WebSocket beyond the TCP
 * connection's. On x86-64 this is 248 bytes per VU (any VU of a plan with
 * a ws block), the HTTP client's per-VU state grows by its 25-byte key,
 * and the pool's share is a 4,264-byte wslay context per 8 VUs beyond
 * 256 (~533 bytes): ~810 bytes an idle WebSocket.
 */
_Static_assert(sizeof(struct sp_vu_ws) <= 256,
	       "the per-VU WebSocket state must stay small");

struct sp_vu_ws_pool {
	struct sp_vu_ws *vu;
	/* Frame contexts for receiving, lent per frame. */
	wslay_frame_context_ptr *ctx;
	uint32_t *ctx_free;
	uint32_t nctx, ctx_avail;
	/* Regex windows, lent per message. */
	uint8_t *wins;
	uint32_t *win_free;
	uint32_t nwin, win_avail;
	/* Rendered contains of templated expects, lent per expect step:
	 * each pat_size bytes, the pattern (pat_max bytes, rounded up to
	 * 8) then its KMP table (pat_max uint32_t). */
	uint8_t *pats;
	uint32_t *pat_free;
	uint32_t npat, pat_avail, pat_max, pat_size;
	struct sp_vu_engine *e;
	/* The bytes wslay may read now: the header, then payload. */
	const uint8_t *f_hdr, *f_p;
	uint32_t f_hdr_n, f_p_n;
	/* PCRE2: per ws step (NULL: no regex), one match data, made with
	 * our allocator (ws_re_alloc). */
	pcre2_code **re;
	pcre2_match_data *md;
	pcre2_general_context *re_gctx;
	uint8_t *scratch; /* a message's bytes (SP_VU_REQ_MAX) */
	/* The message scratch holds, rendered: VU and seed (0: other). A
	 * message is rendered once to learn its length and sent from that
	 * render when it fits. */
	uint32_t scratch_vu;
	uint64_t scratch_seed;
	uint8_t *body_scratch;
};

static inline struct sp_vu_ws_pool *
ws_pool(const struct sp_vu_engine *e)
{
	return e->client_pool[SP_VU_PROTO_WS];
}

static inline struct sp_vu_ws *
ws_of(const struct sp_vu_engine *e, const struct sp_vu *v)
{
	return &ws_pool(e)->vu[v->idx];
}

/* wslay's callbacks for the receiving contexts (vu_ws.c). */
extern const struct wslay_frame_callbacks sp_vu_ws_cbs;

/* The client table's init and fini (vu_ws_life.c). */
int sp_vu_ws_init(struct sp_vu_engine *e, char *err, size_t errlen);
void sp_vu_ws_fini(struct sp_vu_engine *e);

#endif /* SP_VU_WS_INT_H */
