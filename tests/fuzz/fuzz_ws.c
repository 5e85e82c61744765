/*
 * The WebSocket client's frame input path (lib/proto/vu_ws.c through the
 * engine): the input's first byte chooses the ws block (listen, expect by
 * contains, expect by regex, send then listen) and whether the server
 * sends a FIN after its bytes; the rest is what the server sends right
 * after its 101. Delivered whole, in pieces of a size the first byte
 * chooses, and cut in two at every point of it, the engine must count exactly
 * the same, keep its accounting identities and close every connection.
 * The fake server is tests/unit/vu_wsfake.h.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define SP_CHECK_ABORT
#include "sp_check.h"
#include "vu_wsfake.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The engine's WebSocket counters, and its requests' outcome. */
struct outcome {
	uint8_t ws[offsetof(struct sp_vu_stats, latency) -
		   offsetof(struct sp_vu_stats, ws_started)];
	uint64_t responses, failed;
};

static void
run_one(uint8_t variant, const uint8_t *in, uint32_t n, uint32_t piece,
	uint32_t split, struct outcome *o)
{
	const struct sp_vu_stats *s;
	struct sp_vu_engine *e;
	struct sp_ws_step *w;

	plan_base();
	plan.ws_max_message = 200;
	plan.duration_us = 12000; /* past the 5 ms steps: short runs */
	srv.echo = ECHO_PLAIN;
	srv.after_hs = in;
	srv.nafter_hs = n;
	fs.piece = piece;
	fs.split = split;
	srv.fin_after_hs = variant & 1;
	switch ((variant >> 1) & 3) {
	case 0:
		w = add_ws(SP_STEP_WS_LISTEN);
		w->listen_us = 5000;
		break;
	case 1:
		add_expect("hello", kmp_hello, 5000);
		wss[nws - 1].expect_count = 2;
		break;
	case 2:
		add_expect(NULL, NULL, 5000);
		wss[nws - 1].regex = "^h.l+o";
		break;
	default:
		add_send_text("hello", 1);
		w = add_ws(SP_STEP_WS_LISTEN);
		w->listen_us = 5000;
		break;
	}
	plan_end();
	e = run();
	s = sp_vu_stats(e);
	check_accounting(s);
	memset(o, 0, sizeof(*o));
	memcpy(o->ws, &s->ws_started, sizeof(o->ws));
	o->responses = s->responses;
	o->failed = s->failed;
	sp_vu_destroy(e);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct outcome whole, part;
	uint32_t n;

	if (size < 1 || size > 1024)
		return 0;
	n = (uint32_t)size - 1;
	run_one(data[0], data + 1, n, 100000, 0, &whole);
	run_one(data[0], data + 1, n, 1 + (data[0] >> 3) % 13, 0, &part);
	CHECK(memcmp(&whole, &part, sizeof(whole)) == 0);
	/* Cut at every point of the input, and at the 101's last bytes
	 * (test_vu_ws cuts the head at every point). */
	for (uint32_t k = srv.head_len - 2; k <= srv.head_len + n; k++) {
		run_one(data[0], data + 1, n, 100000, k, &part);
		CHECK(memcmp(&whole, &part, sizeof(whole)) == 0);
	}
	return 0;
}
