/*
 * Unit test for the scenario loader (app/scenario.c): a full file must give
 * exactly the expected plan (target, load, stages, flattened loops,
 * template parts and literals, compiled checks, data cells); each bad
 * file must fail with the expected message at the expected LINE:COL;
 * command-line overrides must win over the file and name the option in
 * their errors; every ready file under config/ must validate. Fixtures
 * are written to a temporary directory, which is removed at the end.
 */
#include <dirent.h>
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sp_scenario.h"
#include "sp_values.h"

#include "sp_check.h"

static char tmpdir[] = "/tmp/sp_test_scenario.XXXXXX";
static char path[512];

static void
write_file(const char *name, const char *text)
{
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

/* Write @yaml as f.yaml, load it and, when that works, finish. */
static int
load(struct sp_run_plan *pl, const char *yaml, struct sp_scenario_err *e)
{
	write_file("f.yaml", yaml);
	sp_scenario_init(pl);
	if (sp_scenario_load(pl, path, e) < 0)
		return -1;
	return sp_scenario_finish(pl, e);
}

static int
tpl_is(const struct sp_tpl *t, const char *text, uint32_t nparts)
{
	return t->text_len == strlen(text) &&
	       memcmp(t->text, text, t->text_len) == 0 &&
	       t->text[t->text_len] == '\0' && t->nparts == nparts;
}

static int
lit_is(const struct sp_tpl *t, uint32_t i, uint32_t off, uint32_t len)
{
	return t->parts[i].var == SP_VAR_LITERAL && t->parts[i].off == off &&
	       t->parts[i].len == len;
}

static int
status_has(const struct sp_check *c, unsigned code)
{
	return (c->status_set[code / 64] >> (code % 64)) & 1;
}

static const char full_yaml[] =
	"target: http://198.18.0.2:8080\n"
	"network:\n"
	"  port: af_packet:sp-gen0\n"
	"  ip: 198.18.0.1\n"
	"  gateway: 198.18.0.2\n"
	"  prefix_len: 24\n"
	"  cores: 1\n"
	"  placement: rss\n"
	"  eal: \"--log-level=5\"\n"
	"load:\n"
	"  model: open\n"
	"  rate: 2.5\n"
	"  max_vus: 7\n"
	"  stages: \"10s:5,1m30s:20.5\"\n"
	"  connect_timeout: 500ms\n"
	"  response_timeout: 2s\n"
	"seed: 42\n"
	"data: users.csv\n"
	"scenarios:\n"
	"  - name: browse\n"
	"    weight: 70\n"
	"    tags: [read, health]\n"
	"    keep_alive: false\n"
	"    max_requests_per_connection: 100\n"
	"    steps:\n"
	"      - request:\n"
	"          path: /items?id={{random -3 100}}&u={{ data.user }}\n"
	"          headers:\n"
	"            Accept: application/json\n"
	"            X-Env: \"{{env SP_TEST_ENV}}\"\n"
	"            X-VU: \"{{vu}}-{{iteration}}\"\n"
	"          check:\n"
	"            status: [200, 304]\n"
	"            header: Content-Type\n"
	"            body_contains: abab\n"
	"            body_size: 1024\n"
	"      - think: 100ms\n"
	"      - loop:\n"
	"          count: 3\n"
	"          steps:\n"
	"            - request: {method: POST, path: /1k, name: post,\n"
	"                        body: '{\"p\": \"{{data.pass}}\"}'}\n"
	"            - loop:\n"
	"                count: 2\n"
	"                steps:\n"
	"                  - think: {min: 50ms, max: 200ms}\n"
	"                  - request: {method: HEAD, path: /0}\n"
	"      - request: {path: /64k, body: \"\"}\n"
	"  - name: other\n"
	"    steps:\n"
	"      - request: {method: DELETE, path: /}\n";

static const char users_csv[] = "user,pass\r\n"
				"alice,\"x, y\"\r\n"
				"\n"
				"bob,\"say \"\"hi\"\"\"\n";

static void
test_full(void)
{
	static const uint32_t want_kmp[] = { 0, 0, 1, 2 };
	static const char hdr1[] =
		"Accept: application/json\r\nX-Env: hello\r\n"
		"X-VU: ";
	struct sp_scenario_err e = { { 0 } };
	const struct sp_scenario *sc;
	const struct sp_request *r;
	const struct sp_step *st;
	const struct sp_data *d;
	struct sp_run_plan pl;
	int rc;

	write_file("users.csv", users_csv);
	rc = load(&pl, full_yaml, &e);
	CHECK(rc == 0, "full file: %s", e.msg);
	if (rc != 0) {
		sp_scenario_free(&pl);
		return;
	}
	CHECK(pl.eng.dst_ip == 0xc6120002u && pl.eng.dst_port == 8080,
	      "target");
	CHECK(strcmp(pl.eng.host, "198.18.0.2:8080") == 0, "host %s",
	      pl.eng.host);
	CHECK(strcmp(pl.net.port, "af_packet:sp-gen0") == 0 &&
		      strcmp(pl.net.ip, "198.18.0.1") == 0 &&
		      strcmp(pl.net.gateway, "198.18.0.2") == 0 &&
		      strcmp(pl.net.prefix_len, "24") == 0 &&
		      strcmp(pl.net.cores, "1") == 0 &&
		      strcmp(pl.net.placement, "rss") == 0 &&
		      strcmp(pl.net.eal, "--log-level=5") == 0,
	      "network strings");
	CHECK(pl.eng.model == SP_MODEL_OPEN && pl.eng.rate == 2.5 &&
		      pl.max_vus == 7,
	      "load: model %u rate %g max_vus %u", pl.eng.model, pl.eng.rate,
	      pl.max_vus);
	CHECK(pl.eng.nstages == 2 && pl.eng.stages[0].duration_us == 10000000 &&
		      pl.eng.stages[0].target == 5 &&
		      pl.eng.stages[1].duration_us == 90000000 &&
		      pl.eng.stages[1].target == 20.5,
	      "stages");
	CHECK(pl.eng.duration_us == 100000000, "duration = sum of stages: %llu",
	      (unsigned long long)pl.eng.duration_us);
	CHECK(pl.connect_timeout_us == 500000 &&
		      pl.eng.response_timeout_us == 2000000 && pl.seed == 42,
	      "timeouts and seed");

	d = pl.eng.data;
	CHECK(d != NULL && d->ncols == 2 && d->nrows == 2, "data shape");
	if (d != NULL && d->ncols == 2 && d->nrows == 2) {
		CHECK(strcmp(d->cols[0], "user") == 0 &&
			      strcmp(d->cols[1], "pass") == 0,
		      "columns");
		CHECK(strcmp(d->cells[0], "alice") == 0 &&
			      strcmp(d->cells[1], "x, y") == 0 &&
			      d->cell_len[1] == 4 &&
			      strcmp(d->cells[2], "bob") == 0 &&
			      strcmp(d->cells[3], "say \"hi\"") == 0 &&
			      d->cell_len[3] == 8 && d->max_cell_len == 8,
		      "cells: '%s' '%s' '%s' '%s'", d->cells[0], d->cells[1],
		      d->cells[2], d->cells[3]);
	}

	CHECK(pl.eng.nscenarios == 2 && pl.eng.nrequests == 5, "counts %u %u",
	      pl.eng.nscenarios, pl.eng.nrequests);
	sc = &pl.eng.scenarios[0];
	CHECK(strcmp(sc->name, "browse") == 0 && sc->weight == 70 &&
		      sc->ntags == 2 && strcmp(sc->tags[0], "read") == 0 &&
		      strcmp(sc->tags[1], "health") == 0 && sc->enabled &&
		      !sc->keep_alive && sc->max_requests_per_conn == 100,
	      "scenario browse");
	CHECK(sc->nsteps == 10, "browse has %u steps", sc->nsteps);
	if (sc->nsteps == 10) {
		st = sc->steps;
		CHECK(st[0].kind == SP_STEP_REQUEST && st[0].req == 0,
		      "step 0");
		CHECK(st[1].kind == SP_STEP_THINK &&
			      st[1].think_min_us == 100000 &&
			      st[1].think_max_us == 100000,
		      "step 1");
		CHECK(st[2].kind == SP_STEP_LOOP && st[2].depth == 0 &&
			      st[2].count == 3 && st[2].end == 8,
		      "step 2");
		CHECK(st[3].kind == SP_STEP_REQUEST && st[3].req == 1,
		      "step 3");
		CHECK(st[4].kind == SP_STEP_LOOP && st[4].depth == 1 &&
			      st[4].count == 2 && st[4].end == 7,
		      "step 4");
		CHECK(st[5].kind == SP_STEP_THINK &&
			      st[5].think_min_us == 50000 &&
			      st[5].think_max_us == 200000,
		      "step 5");
		CHECK(st[6].kind == SP_STEP_REQUEST && st[6].req == 2,
		      "step 6");
		CHECK(st[7].kind == SP_STEP_LOOP_END && st[7].depth == 1 &&
			      st[7].count == 2 && st[7].begin == 4,
		      "step 7");
		CHECK(st[8].kind == SP_STEP_LOOP_END && st[8].depth == 0 &&
			      st[8].count == 3 && st[8].begin == 2,
		      "step 8");
		CHECK(st[9].kind == SP_STEP_REQUEST && st[9].req == 3,
		      "step 9");
	}
	sc = &pl.eng.scenarios[1];
	CHECK(strcmp(sc->name, "other") == 0 && sc->weight == 1 &&
		      sc->ntags == 0 && sc->keep_alive && sc->nsteps == 1 &&
		      sc->steps[0].req == 4,
	      "scenario other");

	r = &pl.eng.requests[0];
	CHECK(strcmp(r->name,
		     "GET /items?id={{random -3 100}}&u={{ data.user }}") ==
			      0 &&
		      r->method == SP_METHOD_GET && !r->has_body,
	      "request 0 name '%s'", r->name);
	CHECK(tpl_is(&r->path, "/items?id=&u=", 4) &&
		      !sp_tpl_is_static(&r->path) &&
		      lit_is(&r->path, 0, 0, 10) &&
		      r->path.parts[1].var == SP_VAR_RANDOM &&
		      r->path.parts[1].lo == -3 && r->path.parts[1].hi == 100 &&
		      lit_is(&r->path, 2, 10, 3) &&
		      r->path.parts[3].var == SP_VAR_DATA &&
		      r->path.parts[3].col == 0,
	      "request 0 path");
	CHECK(r->headers.nparts == 5 &&
		      r->headers.text_len == strlen(hdr1) + 3 &&
		      memcmp(r->headers.text, hdr1, strlen(hdr1)) == 0 &&
		      memcmp(r->headers.text + strlen(hdr1), "-\r\n", 3) == 0,
	      "request 0 headers text '%s'", r->headers.text);
	if (r->headers.nparts == 5)
		CHECK(lit_is(&r->headers, 0, 0, (uint32_t)strlen(hdr1)) &&
			      r->headers.parts[1].var == SP_VAR_VU &&
			      lit_is(&r->headers, 2, (uint32_t)strlen(hdr1),
				     1) &&
			      r->headers.parts[3].var == SP_VAR_ITERATION &&
			      lit_is(&r->headers, 4, (uint32_t)strlen(hdr1) + 1,
				     2) &&
			      !sp_tpl_is_static(&r->headers),
		      "request 0 header parts");
	CHECK(r->check.has_status && status_has(&r->check, 200) &&
		      status_has(&r->check, 304) &&
		      !status_has(&r->check, 201) &&
		      !status_has(&r->check, 303),
	      "status set");
	CHECK(r->check.header_len == 12 &&
		      strcmp(r->check.header, "Content-Type") == 0,
	      "check header");
	CHECK(r->check.body_contains_len == 4 &&
		      memcmp(r->check.body_contains, "abab", 4) == 0 &&
		      memcmp(r->check.body_contains_kmp, want_kmp,
			     sizeof(want_kmp)) == 0,
	      "KMP table");
	CHECK(r->check.body_size == 1024, "body_size");

	r = &pl.eng.requests[1];
	CHECK(strcmp(r->name, "post") == 0 && r->method == SP_METHOD_POST &&
		      r->has_body && tpl_is(&r->path, "/1k", 1) &&
		      sp_tpl_is_static(&r->path) && lit_is(&r->path, 0, 0, 3) &&
		      r->headers.nparts == 0 && !r->check.has_status &&
		      r->check.body_size == -1 &&
		      r->check.body_contains == NULL,
	      "request 1");
	CHECK(tpl_is(&r->body, "{\"p\": \"\"}", 3) &&
		      lit_is(&r->body, 0, 0, 7) &&
		      r->body.parts[1].var == SP_VAR_DATA &&
		      r->body.parts[1].col == 1 && lit_is(&r->body, 2, 7, 2),
	      "request 1 body");
	r = &pl.eng.requests[2];
	CHECK(strcmp(r->name, "HEAD /0") == 0 && r->method == SP_METHOD_HEAD,
	      "request 2");
	r = &pl.eng.requests[3];
	CHECK(r->has_body && r->body.nparts == 0 && r->body.text_len == 0 &&
		      sp_tpl_is_static(&r->body),
	      "request 3: empty body is still a body");
	r = &pl.eng.requests[4];
	CHECK(strcmp(r->name, "DELETE /") == 0 && r->method == SP_METHOD_DELETE,
	      "request 4");
	sp_scenario_free(&pl);
}

#define T "target: http://198.18.0.2\n"
/* Scenario header: the first step is on line 5 (with T on line 1). */
#define S "scenarios:\n  - name: a\n    steps:\n"
#define OK_STEP "      - request: {path: /}\n"
/* A ws: block whose first step is on line 8 (with T and S). */
#define W "      - ws:\n          path: /\n          steps:\n"

static const struct {
	const char *yaml;
	const char *msg; /* after "DIR/f.yaml:" */
} bad[] = {
	{ T "foo: 1\n" S OK_STEP, "2:1: unknown key 'foo' in the file" },
	{ T "load:\n  vuz: 3\n" S OK_STEP, "3:3: unknown key 'vuz' in load" },
	{ T S "      - request: {path: /, chek: {}}\n",
	  "5:28: unknown key 'chek' in request" },
	{ T "load:\n  vus: [1]\n" S OK_STEP,
	  "3:8: vus: expected a scalar, got a list" },
	{ T "load: 5\n" S OK_STEP,
	  "2:7: load: expected a mapping, got a scalar" },
	{ T "load:\n  rate: -5\n" S OK_STEP,
	  "3:9: rate: '-5' is not a number" },
	{ T "load:\n  rate: 0\n" S OK_STEP,
	  "3:9: rate: 0: the rate must be more than 0" },
	{ T "load:\n  duration: 0s\n" S OK_STEP,
	  "3:13: duration: 0s: the duration must be more than 0" },
	{ T "load:\n  duration: 100000h\n" S OK_STEP,
	  "3:13: duration: '100000h' is longer than 168h (a week), the "
	  "longest stampede takes" },
	{ T "load:\n  duration: 18446744073709551616s\n" S OK_STEP,
	  "3:13: duration: '18446744073709551616s' is not a duration" },
	{ T "load:\n  duration: 168h1us\n" S OK_STEP,
	  "3:13: duration: '168h1us' is longer than 168h" },
	{ T "load:\n  stages: \"100h:1,68h:2,1s:0\"\n" S OK_STEP,
	  "stages: together 604801s, longer than 168h (a week)" },
	{ T "load:\n  connect_timeout: 4295s\n" S OK_STEP,
	  "3:20: connect_timeout: 4295s is longer than 4294s, the longest "
	  "connect timeout" },
	{ T S OK_STEP "      - think: 169h\n",
	  "6:16: think: '169h' is longer than 168h" },
	{ T "load:\n  duration: 10x\n" S OK_STEP,
	  "3:13: duration: '10x' is not a duration" },
	{ T "load:\n  stages:\n    - {duration: 10s}\n" S OK_STEP,
	  "4:7: stage 1 has no target" },
	{ T "load:\n  stages: \"10s:5,20s\"\n" S OK_STEP,
	  "3:11: stages: stage 2 ('20s') has no target" },
	{ T "load:\n  stages: \"10s:5\"\n  duration: 1m\n" S OK_STEP,
	  "4:13: duration: give either duration or stages" },
	{ T "load:\n  model: half\n" S OK_STEP,
	  "3:10: model: 'half' is not closed or open" },
	{ T "seed: -1\n" S OK_STEP, "2:7: seed: '-1' is not a whole number" },
	{ T "data: nope.csv\n" S OK_STEP,
	  "2:7: data: cannot open nope.csv: No such file or directory" },
	{ T "data: ragged.csv\n" S OK_STEP,
	  "ragged.csv:3: 3 fields, expected 2 (as the first line) (data: of " },
	{ T "data: users.csv\n" S
	    "      - request: {path: \"/{{data.nope}}\"}\n",
	  "6:25: path: '{{data.nope}}': the data file has no column 'nope'" },
	{ T S "      - request: {path: \"/{{data.user}}\"}\n",
	  "5:25: path: '{{data.user}}': no data file" },
	{ T S "      - request: {path: \"/{{env SP_TEST_UNSET}}\"}\n",
	  "5:25: path: '{{env SP_TEST_UNSET}}': environment variable "
	  "SP_TEST_UNSET is not set" },
	{ T S "      - request: {path: \"/{{vu\"}\n",
	  "5:25: path: unclosed '{{'" },
	{ T S "      - request: {path: \"/{{user}}\"}\n",
	  "5:25: path: {{user}} is never captured (no request has a "
	  "capture:)" },
	{ T S "      - request: {path: \"/{{random 5 1}}\"}\n",
	  "5:25: path: '{{random 5 1}}': random A B needs A <= B" },
	{ T S "      - request: {path: \"/{{random_string 0}}\"}\n",
	  "5:25: path: '{{random_string 0}}': random_string takes a length "
	  "N, 1 <= N <= 256" },
	{ T S "      - request: {path: \"/{{random_string 257}}\"}\n",
	  "5:25: path: '{{random_string 257}}': random_string takes" },
	{ T S "      - request: {path: \"/{{random_string 4 5}}\"}\n",
	  "5:25: path: '{{random_string 4 5}}': random_string takes" },
	{ T S "      - request: {path: \"/{{uuid 4}}\"}\n",
	  "5:25: path: unknown template variable '{{uuid 4}}'" },
	{ T "data: {per: vu}\n" S OK_STEP, "2:7: data: file is missing" },
	{ T "data: {file: users.csv, per: user}\n" S OK_STEP,
	  "2:30: per: 'user': vu or iteration" },
	{ T "data: {file: users.csv, order: shuffled}\n" S OK_STEP,
	  "2:32: order: 'shuffled': sequential or random" },
	{ T "data: {file: users.csv, unique: maybe}\n" S OK_STEP,
	  "2:33: unique: 'maybe' is not true or false" },
	{ T "data: {file: users.csv, each: vu}\n" S OK_STEP,
	  "2:25: unknown key 'each' in data" },
	{ T "load: {vus: 3}\ndata: {file: users.csv, per: vu, unique: true}\n"
	    S OK_STEP,
	  "data: unique: users.csv has 2 rows, the run can have 3 VUs" },
	{ T "load: {vus: 2, vu_offset: 1}\n"
	    "data: {file: users.csv, per: vu, unique: true}\n" S OK_STEP,
	  "data: unique: users.csv has 2 rows, the run can have 2 VUs "
	  "numbered from 2 (vu_offset 1): 3 rows are needed" },
	{ T "load: {stages: \"1s:1,1s:3,1s:0\"}\n"
	    "data: {file: users.csv, per: vu, unique: true}\n" S OK_STEP,
	  "data: unique: users.csv has 2 rows, the run can have 3 VUs" },
	{ T "load: {rate: 5}\n"
	    "data: {file: users.csv, per: vu, unique: true}\n" S OK_STEP,
	  "data: unique: users.csv has 2 rows, the run can have 100 VUs" },
	{ T S "      - request: {path: \"/a b\"}\n",
	  "5:25: path: byte 0x20 is not allowed" },
	{ T S "      - request: {path: x}\n",
	  "5:25: path: 'x' does not start with '/'" },
	{ T S "      - request: {name: x}\n", "5:18: request: no path" },
	{ "target: http://127.0.0.1\n" S OK_STEP,
	  "1:9: target: 'http://127.0.0.1': 127.0.0.1 is a loopback address" },
	{ "target: http://0.1.2.3\n" S OK_STEP, /* addr-ok: refused */
	  "1:9: target: 'http://0.1.2.3': 0.1.2.3 is in 0.0.0.0/8" }, /* addr-ok */
	{ "target: http://239.1.1.1:80\n" S OK_STEP, /* addr-ok: refused */
	  "1:9: target: 'http://239.1.1.1:80': 239.1.1.1 is a multicast" }, /* addr-ok */
	{ "target: http://255.255.255.255\n" S OK_STEP, /* addr-ok: refused */
	  "1:9: target: 'http://255.255.255.255': 255.255.255.255 is the " /* addr-ok */
	  "limited broadcast" },
	{ "target: http://240.0.0.1\n" S OK_STEP, /* addr-ok: refused */
	  "1:9: target: 'http://240.0.0.1': 240.0.0.1 is in the reserved" }, /* addr-ok */
	{ "target: http://10.1\n" S OK_STEP,
	  "1:9: target: '10.1' is not an IPv4 address (A.B.C.D)" },
	{ "target: http://app..internal\n" S OK_STEP,
	  "1:9: target: 'app..internal': an empty label" },
	{ "target: http://app_x!y\n" S OK_STEP,
	  "1:9: target: 'app_x!y' is neither an IPv4 address nor a host name" },
	{ "target: http://u@app\n" S OK_STEP,
	  "1:9: target: 'http://u@app': user credentials" },
	{ "target: http://[2001:2::1]\n" S OK_STEP,
	  "1:9: target: 'http://[2001:2::1]': IPv6 is not supported yet" },
	{ T "resolve: [a]\n" S OK_STEP,
	  "2:10: resolve: expected a mapping of names to addresses" },
	{ T "resolve: {app: 198.18.0.300}\n" S OK_STEP,
	  "2:11: resolve: '198.18.0.300' is not an IPv4 address" },
	{ T "resolve: {\"app:0\": 198.18.0.2}\n" S OK_STEP,
	  "2:11: resolve: 'app:0': the port must be 1..65535" },
	{ T "resolve: {app: 127.0.0.1}\n" S OK_STEP,
	  "2:11: resolve: 127.0.0.1 is a loopback address" },
	{ "target: ftp://198.18.0.2\n" S OK_STEP,
	  "1:9: target: 'ftp://198.18.0.2' is not an http:// or https:// URL" },
	{ "target: https://198.18.0.2/x\n" S OK_STEP,
	  "1:9: target: 'https://198.18.0.2/x': a target has no path" },
	{ "target: https://app.test\ntls: [a]\n" S OK_STEP,
	  "2:6: tls: expected a mapping" },
	{ "target: https://app.test\ntls: {verify: maybe}\n" S OK_STEP,
	  "2:7: tls.verify: 'maybe' is not true or false" },
	{ "target: https://app.test\ntls: {resume: often}\n" S OK_STEP,
	  "2:7: tls.resume: 'often' is not none, session or ticket" },
	{ "target: https://app.test\ntls: {engine: gnutls}\n" S OK_STEP,
	  "2:7: tls.engine: 'gnutls' is not mbedtls or openssl" },
	{ "target: https://app.test\ntls: {bogus: 1}\n" S OK_STEP,
	  "2:7: unknown key tls.bogus" },
	{ "target: https://app.test\ntls: {ca: no-such-ca.pem}\n" S OK_STEP,
	  "2:7: tls.ca: cannot read '" },
	{ "target: https://app.test\ntls: {server_name: a..b}\n" S OK_STEP,
	  "2:7: 'a..b': an empty label" },
	{ "target: http://198.18.0.2/x\n" S OK_STEP,
	  "1:9: target: 'http://198.18.0.2/x': a target has no path" },
	{ "target: http://198.18.0.2:0\n" S OK_STEP,
	  "1:9: target: 'http://198.18.0.2:0': the port must be 1..65535" },
	{ T "network:\n  ip: 127.0.0.1\n" S OK_STEP,
	  "3:7: ip: '127.0.0.1' is a loopback address" },
	{ T "network:\n  gateway: 127.0.0.1\n" S OK_STEP,
	  "3:12: gateway: 127.0.0.1 is a loopback address" },
	{ T "network:\n  ip: 198.18.1.9-198.18.1.2\n" S OK_STEP,
	  "3:7: ip: '198.18.1.9-198.18.1.2' ends before it starts" },
	{ T
	  "network:\n  ip: 126.255.255.254-127.0.0.9\n" S OK_STEP, /* addr-ok */
	  "3:7: ip: '126.255.255.254-127.0.0.9' holds 127.0.0.0, which is " /* addr-ok */
	  "a loopback address" },
	{ T "network:\n  placement: toeplitz\n" S OK_STEP,
	  "3:14: placement: 'toeplitz' is not auto, rss or redirect" },
	{ T S OK_STEP "  - name: a\n    steps:\n" OK_STEP,
	  "6:11: name: a scenario named 'a' already exists" },
	{ T "scenarios:\n  - name: a\n    steps: []\n",
	  "4:12: steps: empty list" },
	{ T "scenarios: []\n", "2:12: scenarios: empty list" },
	{ T S "      - think: 1s\n",
	  "5:7: steps: scenario a makes no request" },
	{ T S
	  "      - loop: {count: 1, steps: [\n"
	  "          loop: {count: 1, steps: [\n"
	  "          loop: {count: 1, steps: [\n"
	  "          loop: {count: 1, steps: [\n"
	  "          loop: {count: 1, steps: [request: {path: /}]}]}]}]}]}\n",
	  "9:17: loop: loops nest at most 4 deep" },
	{ T S "      - loop: {count: 0, steps: [request: {path: /}]}\n",
	  "5:23: count: 0 is out of range" },
	{ T S "      - request: {path: /, headers: {X-A: \"a\\rb\"}}\n",
	  "5:43: X-A: a header value may not hold CR, LF" },
	{ T S "      - request: {path: /, headers: {Content-Length: 1}}\n",
	  "5:38: headers: Content-Length is written by stampede itself" },
	{ T S "      - request: {path: /, headers: {connection: close}}\n",
	  "5:38: headers: Connection is written by stampede itself" },
	{ T S "      - request: {path: /, headers: {host: \"\"}}\n",
	  "5:44: Host: empty" },
	{ T S "      - request: {path: /, headers: {host: a, Host: b}}\n",
	  "5:47: headers: Host given twice" },
	{ T S
	  "      - request: {path: /, headers: {User-Agent: a, user-agent: \"\"}}\n",
	  "5:53: headers: user-agent given twice" },
	{ T S "      - request: {path: /, headers: {Transfer-Encoding: x}}\n",
	  "5:38: headers: Transfer-Encoding is written by stampede itself" },
	{ T S "      - request: {path: /, headers: {\"X A\": x}}\n",
	  "5:38: headers: 'X A' is not a header name" },
	{ T S "      - request: {path: /, method: get}\n",
	  "5:36: method: 'get' is not one of GET" },
	{ T S "      - request: {path: /, check: {status: [200, 99]}}\n",
	  "5:50: status: 99 is not an HTTP status (100..599)" },
	{ T S "      - request: {path: /, check: {status: 1000}}\n",
	  "5:44: status: 1000 is not an HTTP status" },
	{ T S "      - request: {path: /, check: {status: [200, 999]}}\n",
	  "5:50: status: 999 is not an HTTP status (100..599)" },
	{ T S "      - request: {path: /, check: {status: 600}}\n",
	  "5:44: status: 600 is not an HTTP status (100..599)" },
	{ T "load:\n  vus: 2\n  rate: 5\n" S OK_STEP,
	  "4:9: rate: give vus (closed model) or rate (open model), not both" },
	{ T "load:\n  model: open\n  vus: 2\n" S OK_STEP,
	  "4:8: vus: the open model starts iterations at rate" },
	{ T "load:\n  model: closed\n  rate: 5\n" S OK_STEP,
	  "4:9: rate: the closed model has no arrival rate" },
	{ T "load:\n  vus: 3\n  max_vus: 10\n" S OK_STEP,
	  "4:12: max_vus: only the open model has it" },
	{ T S "      - request: {path: /, check: {body_contains: \"\"}}\n",
	  "5:51: body_contains: empty" },
	{ T S OK_STEP "      - think: {min: 2s, max: 1s}\n",
	  "6:31: think: max is less than min" },
	{ T S "      - request: {path: /}\n        think: 1s\n",
	  "5:9: a step is a mapping with exactly one of request, think, loop" },
	{ T S "      - sleep: 1s\n", "5:9: unknown step 'sleep'" },
	{ T "scenarios:\n  - name: a\n    weight: 0\n    steps:\n" OK_STEP,
	  "4:13: weight: 0 is out of range" },
	{ T
	  "scenarios:\n  - name: a\n    keep_alive: maybe\n    steps:\n" OK_STEP,
	  "4:17: keep_alive: 'maybe' is not true or false" },
	{ T "seed: 1\nseed: 2\n" S OK_STEP,
	  "3:1: the file: duplicate key 'seed'" },
	{ T "load: {vus: 1\n", "3:1: did not find expected ',' or '}'" },
	{ "", "1:1: empty file" },
	{ "- 1\n", "1:1: the file: expected a mapping, got a list" },
	{ S OK_STEP, "no target: give target: in the file or --url" },
	{ T "tls: {verify: false}\n" S OK_STEP,
	  "tls settings are given but the target is http://, not https://" },
	{ T "tls: {engine: openssl}\n" S OK_STEP,
	  "tls settings are given but the target is http://, not https://" },
	{ "target: https://app.test\ntls: {cert: f.yaml}\n" S OK_STEP,
	  "tls: a client certificate needs both cert and key" },
	{ T, "no scenario: give scenarios: in the file or --url" },
	{ T "load:\n  model: open\n" S OK_STEP,
	  "the open model needs rate or stages" },
	{ T S "      - send: {text: hi}\n",
	  "5:9: send: a WebSocket step goes in the steps of a ws: block" },
	{ T S "      - ws: {path: /, steps: [ws: {path: /}]}\n",
	  "5:31: ws: a ws: block cannot hold another (a VU has one connection); put it after this block" },
	{ T S "      - ws: {path: /, steps: [request: {path: /}]}\n",
	  "5:31: request: inside a ws: block the connection speaks WebSocket; put requests before or after the block" },
	{ T S "      - ws: {path: /, steps: [sleep: 1s]}\n",
	  "5:31: unknown step 'sleep' in a ws: block (send, expect, listen, ping, close, think or loop)" },
	{ T S "      - ws: {steps: [close: ]}\n", "5:13: ws: no path" },
	{ T S "      - ws: {path: chat}\n",
	  "5:20: path: 'chat' does not start with '/'" },
	{ T S "      - ws: {path: /, bogus: 1}\n",
	  "5:23: unknown key 'bogus' in ws" },
	{ T S "      - ws: {path: /, headers: {upgrade: x}}\n",
	  "5:33: headers: Upgrade is written by stampede itself" },
	{ T S "      - ws: {path: /, headers: {Sec-WebSocket-Protocol: x}}\n",
	  "5:33: headers: Sec-WebSocket-Protocol is written by stampede itself (give subprotocols:)" },
	{ T S "      - ws: {path: /, subprotocols: [\"a b\"]}\n",
	  "5:38: subprotocols: 'a b' is not a subprotocol name (RFC 6455 4.1: a token)" },
	{ T S "      - ws: {path: /, subprotocols: []}\n",
	  "5:37: subprotocols: empty list" },
	{ T S W "            - send: {}\n",
	  "8:21: send: give text or binary (one of them)" },
	{ T S W "            - send: {text: a, binary: b}\n",
	  "8:21: send: give text or binary (one of them)" },
	{ T S W "            - send: {text: a, every: 1s}\n",
	  "8:38: every: paces count messages: give count: N (more than 1)" },
	{ T S W "            - send: {text: a, count: 0}\n",
	  "8:38: count: 0 is out of range [1, 4294967295]" },
	{ T S W "            - send: {text: a, every: 0s, count: 2}\n",
	  "8:38: every: 0 (leave every out to send back to back)" },
	{ T S W "            - send: {binary: {size: 0}}\n",
	  "8:37: size: 0 (an empty message is binary: '')" },
	{ T S W "            - send: {binary: {size: 1x}}\n",
	  "8:37: size: '1x' is not a size (e.g. 125, 4k, 64KiB, 1MiB)" },
	{ T S W "            - send: {binary: {bytes: 4}}\n",
	  "8:31: unknown key 'bytes' in binary" },
	{ T S W "            - send: {binary: {size: 128m}}\n",
	  "8:37: size: '128m' is larger than 67108864 bytes" },
	{ T S W "            - send: {text: a, measure: maybe}\n",
	  "8:40: measure: 'maybe' is not true or false" },
	{ T S W "            - send: {text: \"{{nope}}\"}\n",
	  "8:28: text: {{nope}} is never captured" },
	{ T S W "            - send: {text: a, name: \"\"}\n",
	  "8:37: name: empty" },
	{ T S W "            - expect: {count: 0}\n",
	  "8:31: count: 0 is out of range [1, 4294967295]" },
	{ T S W "            - expect: {timeout: 0s}\n",
	  "8:33: timeout: must be more than 0" },
	{ T S W "            - expect: {regex: \"\"}\n",
	  "8:31: regex: empty (leave it out to take any message)" },
	{ T S W "            - expect: {contains: \"\"}\n",
	  "8:34: contains: empty" },
	{ T S W "            - expect: {contains: \"{{env SP_TEST_EMPTY}}\"}\n",
	  "8:34: contains: empty" },
	{ T "capture_max: 4KiB\n" S W
	  "            - expect: {contains: \"x{{tok}}\"}\n",
	  "9:34: contains: may render to 4097 bytes, at most 4096 (each VU "
	  "waiting on it holds room for its longest value: lower capture_max, "
	  "or shorten the data column)" },
	{ T S W "            - expect: {contains: \"{{tok | json}}{{tok | json}}{{tok | json}}\"}\n",
	  "8:34: contains: may render to 4608 bytes, at most 4096" },
	{ T S W "            - expect: {contains: \"{{nope}}\"}\n",
	  "8:34: contains: {{nope}} is never captured" },
	{ T S W "            - expect: {contains: \"{{vu\"}\n",
	  "8:34: contains: unclosed '{{'" },
	{ T S W "            - expect: [a]\n",
	  "8:23: expect: expected a mapping (contains, regex, count, timeout, name) or nothing, got a list" },
	{ T S W "            - expect: {within: 1s}\n",
	  "8:24: unknown key 'within' in expect" },
	{ T S W "            - listen: 0s\n",
	  "8:23: listen: must be more than 0" },
	{ T S W "            - listen: {name: x}\n",
	  "8:23: listen: no duration" },
	{ T S W "            - listen: forever\n",
	  "8:23: listen: 'forever' is not a duration (e.g. 500ms, 10s, 1m30s)" },
	{ T S W
	  "            - ping: \"0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456\"\n",
	  "8:21: ping: the payload can be 127 bytes, a control frame holds at most 125 (RFC 6455 5.5)" },
	{ T S W
	  "            - ping: {payload: \"0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345{{vu}}\"}\n",
	  "8:31: ping: the payload can be 127 bytes, a control frame holds at most 125 (RFC 6455 5.5)" },
	{ T S W "            - close: {code: 1005}\n",
	  "8:29: code: 1005 may not be sent (RFC 6455 7.4: 1000-1003, 1007-1014, 3000-4999)" },
	{ T S W "            - close: {code: 999}\n",
	  "8:29: code: 999 may not be sent (RFC 6455 7.4: 1000-1003, 1007-1014, 3000-4999)" },
	{ T S W "            - close: {code: 70000}\n",
	  "8:29: code: 70000 is out of range [0, 65535]" },
	{ T S W
	  "            - close: {reason: \"0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123\"}\n",
	  "8:31: reason: 124 bytes, at most 123 fit a close frame (RFC 6455 5.5)" },
	{ T S W "            - close: bye\n",
	  "8:22: close: expected a mapping (code, reason, name) or nothing, got a scalar" },
	{ T S W "            - close:\n            - send: {text: a}\n",
	  "9:15: send: comes after close, which ends the session (close can only be the ws: block's last step)" },
	{ T S W "            - close:\n            - think: 1s\n",
	  "9:15: think: comes after close" },
	{ T S W "            - loop: {count: 2, steps: [close: ]}\n",
	  "8:21: loop: its close ends the session in the first round (close can only be the ws: block's last step)" },
	{ T S W "            - {send: {text: a}, expect: }\n",
	  "8:15: a step of a ws: block is a mapping with exactly one of send, expect, listen, ping, close, think, loop" },
	{ T "ws: {max_message: 1x}\n" S OK_STEP,
	  "2:19: max_message: '1x' is not a size (e.g. 125, 4k, 64KiB, 1MiB)" },
	{ T "ws: {bogus: 1}\n" S OK_STEP,
	  "2:6: unknown key ws.bogus (max_message, ping_every)" },
	{ T "ws: [a]\n" S OK_STEP,
	  "2:5: ws: expected a mapping (max_message, ping_every), got a list" },
	{ T "load: {vu_offset: -1}\n" S OK_STEP,
	  "2:19: vu_offset: '-1' is not a whole number" },
	{ T "ws: {ping_every: 1s}\n" S OK_STEP,
	  "ws.ping_every is given but no scenario has a ws: step" },
	{ "target: ws://198.18.0.2\ntls: {verify: false}\n" S OK_STEP,
	  "tls settings are given but the target is ws://, not wss://" },
	{ "target: ws://198.18.0.2/chat\n" S OK_STEP,
	  "1:9: target: 'ws://198.18.0.2/chat': a target has no path (paths go in requests)" },
	{ T S W "            - close: {code: 1000, bogus: 1}\n",
	  "8:35: unknown key 'bogus' in close" },
	{ T S "      - ws: {path: /, name: \"\"}\n", "5:29: name: empty" },
	{ T S "      - ws: {path: \"/a b\"}\n",
	  "5:20: path: byte 0x20 is not allowed in a request path (encode it as %20)" },
	{ T S W "            - ping: {payload: \"{{random 1 2\"}\n",
	  "8:31: ping: unclosed '{{'" },
	/* captures (issue 16) */
	{ T S "      - request: {path: /, capture: {t: {jsn: $.a}}}\n",
	  "5:42: unknown key 'jsn' in capture" },
	{ T S "      - request: {path: /, capture: {t: {json: data.a}}}\n",
	  "5:48: json: 'data.a' is not a JSON path (it starts with $" },
	{ T S "      - request: {path: /, capture: {t: {json: \"$.a[x]\"}}}\n",
	  "5:48: json: expected a quoted name or an index at 4 (in '$.a[x]')" },
	{ T S "      - request: {path: /, capture: {t: {json: $.a, cookie: c}}}\n",
	  "5:61: capture: cookie: one source per capture (json, header, "
	  "regex, cookie or status), json is given" },
	{ T S "      - request: {path: /, capture: {t: {}}}\n",
	  "5:41: capture: no source (json, header, regex, cookie or status)" },
	{ T S "      - request: {path: /, capture: {t: {json: $.a, regex: x}}}\n",
	  "5:60: regex: reads the body alone, or a header's value beside "
	  "header:; not beside json:" },
	{ T S "      - request: {path: /, capture: {t: {regex: \"a(\"}}}\n",
	  "5:49: regex: 'a(': missing closing parenthesis (at offset 2)" },
	{ T S "      - request: {path: /, capture: {t: {header: \"a b\"}}}\n",
	  "5:50: header: 'a b' is not a header name (RFC 9110 token)" },
	{ T S "      - request: {path: /, capture: {t: {cookie: \"a;b\"}}}\n",
	  "5:50: cookie: 'a;b' is not a cookie name" },
	{ T S "      - request: {path: /, capture: {t: {status: false}}}\n",
	  "5:50: status: 'false': only true" },
	{ T S "      - request: {path: /, capture: {1t: {status: true}}}\n",
	  "5:38: capture: '1t' is not a variable name (letters, digits and "
	  "'_', not starting with a digit)" },
	{ T S "      - request: {path: /, capture: {uuid: {status: true}}}\n",
	  "5:38: capture: 'uuid' is a built-in template variable's name" },
	{ T S "      - request: {path: /, capture: [{status: true}]}\n",
	  "5:38: capture: no as: (the variable's name)" },
	{ T S "      - request:\n          path: /\n          capture:\n"
	      "            - {status: true, as: a}\n"
	      "            - {status: true, as: a}\n",
	  "9:34: capture: 'a' is captured twice by this request" },
	{ T S "      - request: {path: /, capture: x}\n",
	  "5:37: capture: expected a mapping (NAME: {json: ...}) or a list, "
	  "got a scalar" },
	{ T S "      - request: {path: /, capture: {}}\n", "5:37: capture: empty" },
	{ T S "      - request: {path: /, capture: {a: {status: true}}, "
	      "on_capture_fail: maybe}\n",
	  "5:75: on_capture_fail: 'maybe' is not continue or end" },
	{ T S "      - request: {path: /, on_capture_fail: end}\n",
	  "5:45: on_capture_fail: the request has no capture:" },
	{ T S "      - request: {path: /, capture: {token: {status: true}}}\n"
	      "      - request: {path: \"/{{tokn}}\"}\n",
	  "6:25: path: {{tokn}} is never captured (captures: token)" },
	{ T S "      - request: {path: /, capture: {a: {status: true}, "
	      "b: {status: true}}}\n"
	      "      - request: {path: /, headers: {X-T: \"{{c | url}}\"}}\n",
	  "6:43: X-T: {{c}} is never captured (captures: a, b)" },
	{ T S "      - request: {path: /, capture: {x: {status: true}}}\n"
	      "      - request: {path: \"/{{setup.x}}\"}\n",
	  "6:25: path: {{setup.x}} is never captured (no setup: step has a "
	  "capture:)" },
	{ T "setup:\n  - request: {path: /, capture: {y: {status: true}}}\n"
	  S "      - request: {path: \"/{{setup.x}}\", capture: {x: {status: "
	    "true}}}\n",
	  "7:25: path: {{setup.x}} is never captured by a setup: step (setup "
	  "captures: y)" },
	{ T S "      - request: {path: \"/{{setup.1x}}\"}\n",
	  "5:25: path: '1x' is not a variable name" },
	{ T S "      - request: {path: \"/{{random}}\"}\n",
	  "5:25: path: unknown template variable '{{random}}'" },
	/* if: steps */
	{ T S OK_STEP "      - if: {var: a, set: true}\n",
	  "6:9: if: no steps: beside it" },
	{ T S "      - request: {path: /, capture: {a: {status: true}}}\n"
	      "      - if: {var: a, equals: x, matches: y}\n"
	      "        steps: [request: {path: /}]\n",
	  "6:42: if: matches: give one of equals, matches or set" },
	{ T S OK_STEP "      - if: {var: a}\n        steps: [think: 1s]\n",
	  "6:13: if: give one of equals, matches or set" },
	{ T S OK_STEP "      - if: {equals: a}\n        steps: [think: 1s]\n",
	  "6:13: if: no var (the variable to test)" },
	{ T S OK_STEP "      - if: {var: a, eq: b}\n        steps: [think: 1s]\n",
	  "6:22: unknown key 'eq' in if" },
	{ T S OK_STEP "      - if: {var: a, set: true}\n        step: []\n",
	  "7:9: unknown key 'step' in if" },
	{ T S OK_STEP "      - if: {var: \"a-b\", set: true}\n"
	      "        steps: [think: 1s]\n",
	  "6:19: var: 'a-b' is not a variable name" },
	{ T S "      - request: {path: /, capture: {a: {status: true}}}\n"
	      "      - if: {var: a, matches: \"(\"}\n"
	      "        steps: [think: 1s]\n",
	  "6:31: matches: '(': missing closing parenthesis" },
	{ T S "      - request: {path: /, capture: {a: {status: true}}}\n"
	      "      - if: {var: a, set: maybe}\n"
	      "        steps: [think: 1s]\n",
	  "6:27: set: 'maybe' is not true or false" },
	{ T S OK_STEP "      - if: {var: tokn, set: true}\n"
	      "        steps: [think: 1s]\n",
	  "6:19: if: {{tokn}} is never captured (no request has a capture:)" },
	{ T S "      - request: {path: /, capture: {a: {status: true}}}\n"
	      "      - if: {var: a, set: true}\n"
	      "        steps: []\n",
	  "7:16: steps: empty list" },
	{ T S W "            - if: {var: a, set: true}\n"
	        "              steps: [think: 1s]\n",
	  "8:15: if: not inside a ws: block" },
	/* cookies, capture_max, capture_window */
	{ T "cookies: maybe\n" S OK_STEP,
	  "2:10: cookies: 'maybe' is not true or false (or {max_bytes: SIZE})" },
	{ T "cookies: {max_bytes: 10}\n" S OK_STEP,
	  "2:22: max_bytes: '10': at least 64 bytes" },
	{ T "cookies: {max_bytes: 1MiB}\n" S OK_STEP,
	  "2:22: max_bytes: '1MiB' is larger than 65536 bytes" },
	{ T "cookies: {size: 1k}\n" S OK_STEP,
	  "2:11: unknown key 'size' in cookies" },
	{ T "capture_max: 0\n" S OK_STEP,
	  "2:14: capture_max: '0': at least 1 byte" },
	{ T "capture_max: 5k\n" S OK_STEP,
	  "2:14: capture_max: '5k' is larger than 4096 bytes" },
	{ T "capture_window: 100\n" S OK_STEP,
	  "2:17: capture_window: '100': at least 1024 bytes" },
	{ T "capture_window: 17MiB\n" S OK_STEP,
	  "2:17: capture_window: '17MiB' is larger than 16777216 bytes" },
	/* the lifecycle */
	{ T "setup:\n  request: {path: /}\n" S OK_STEP,
	  "3:3: setup: expected a list of steps, got a mapping" },
	{ T "teardown:\n  - request: {path: /}\n",
	  "3:3: teardown: the file has no scenarios: for it to run around" },
	{ T "vu_setup:\n  - think: 1s\n" S OK_STEP,
	  "3:3: steps: scenario vu_setup makes no request" },
	{ T "vu_teardown:\n  - sleep: 1s\n" S OK_STEP,
	  "3:5: unknown step 'sleep'" },
	{ T "setup:\n  - request: {path: /}\n"
	    "scenarios:\n  - name: setup\n    steps:\n" OK_STEP,
	  "3:3: setup: its steps are reported as 'setup', which a scenario is "
	  "already named" },
	{ T "scenarios:\n  - name: a\n    vu_setup: {path: /}\n"
	    "    steps:\n" OK_STEP,
	  "4:15: vu_setup: expected a list of steps, got a mapping" },
	{ T "scenarios:\n  - name: a\n    vu_teardown: [think: 1s]\n"
	    "    steps:\n" OK_STEP,
	  "4:18: steps: scenario a.vu_teardown makes no request" },
	{ T "setup:\n  - request: {path: /}\n" S OK_STEP
	    "thresholds: ['scenario:setup iterations > 0']\n",
	  "'scenario:setup iterations > 0': 'setup' is the lifecycle's, not a "
	  "scenario of the load" },
};

/* Data files as spreadsheets write them: a UTF-8 byte order mark, CRLF
 * line ends (after bare and quoted fields alike), a blank CRLF line. */
static void
test_csv(void)
{
	static const char csv[] = "\xef\xbb\xbfid,name\r\n"
				  "1,\"a, b\"\r\n"
				  "\r\n"
				  "2,c\r\n"
				  "\"3\",\"d\"\"e\"\r\n";
	static const struct {
		const char *file, *text, *msg; /* msg: after "DIR/" */
	} bad_csv[] = {
		{ "r.csv", "a,b\r\n1,2\r\n1,2,3\r\n",
		  "r.csv:3: 3 fields, expected 2 (as the first line)" },
		{ "q.csv", "a,b\r\n1,2\r\n\r\n3,\"4\r\n",
		  "q.csv:4: unclosed quote" },
		{ "t.csv",
		  "\xef\xbb\xbf"
		  "a,b\r\n\"1\"x,2\r\n",
		  "t.csv:2: text after a closing quote" },
		{ "c.csv", "a,b\n1,2\n3,x\ty\x01\n",
		  "c.csv:3: field 2 holds a line break or control byte" },
		{ "n.csv", "a,\r\n1,2\r\n", "n.csv:1: column 2 has no name" },
		{ "h.csv",
		  "\xef\xbb\xbf"
		  "a,b\r\n",
		  "h.csv:1: no data rows after the column names" },
	};
	struct sp_scenario_err e = { { 0 } };
	const struct sp_data *d;
	struct sp_run_plan pl;
	char want[600];
	int rc;

	write_file("bom.csv", csv);
	rc = load(&pl, T "data: bom.csv\n" S OK_STEP, &e);
	d = pl.eng.data;
	CHECK(rc == 0 && d != NULL, "BOM and CRLF: loads: %s", e.msg);
	if (rc == 0 && d != NULL) {
		CHECK(d->ncols == 2 && d->nrows == 3,
		      "BOM and CRLF: shape %ux%u", d->nrows, d->ncols);
		CHECK(strcmp(d->cols[0], "id") == 0 && d->cell_len[0] == 1,
		      "BOM: not part of the first column's name ('%s')",
		      d->cols[0]);
		CHECK(strcmp(d->cols[1], "name") == 0, "CRLF: no CR in 'name'");
		CHECK(strcmp(d->cells[1], "a, b") == 0 &&
			      strcmp(d->cells[3], "c") == 0 &&
			      d->cell_len[3] == 1 &&
			      strcmp(d->cells[4], "3") == 0 &&
			      strcmp(d->cells[5], "d\"e") == 0 &&
			      d->cell_len[5] == 3,
		      "CRLF: cells without CR");
	}
	sp_scenario_free(&pl);
	for (size_t i = 0; i < sizeof(bad_csv) / sizeof(bad_csv[0]); i++) {
		char yaml[128];

		write_file(bad_csv[i].file, bad_csv[i].text);
		snprintf(yaml, sizeof(yaml), T "data: %s\n" S OK_STEP,
			 bad_csv[i].file);
		rc = load(&pl, yaml, &e);
		/* FILE:LINE of the CSV first, then where the YAML named it. */
		snprintf(want, sizeof(want), "%s/%s", tmpdir, bad_csv[i].msg);
		CHECK(rc < 0 && strncmp(e.msg, want, strlen(want)) == 0 &&
			      strstr(e.msg, "f.yaml:2:7)") != NULL,
		      "bad_csv[%zu]: got '%s', want '%s...'", i, e.msg, want);
		sp_scenario_free(&pl);
	}
}

static void
test_bad(void)
{
	char want[600];

	write_file("users.csv", users_csv);
	write_file("ragged.csv", "a,b\n1,2\n1,2,3\n");
	setenv("SP_TEST_EMPTY", "", 1);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct sp_scenario_err e = { { 0 } };
		struct sp_run_plan pl;
		int rc = load(&pl, bad[i].yaml, &e);

		snprintf(want, sizeof(want), "%s/f.yaml:%s", tmpdir,
			 bad[i].msg);
		/* Messages from the cross-key checks have no position. */
		if (strchr(bad[i].msg, ':') == bad[i].msg + 1 ||
		    strchr(bad[i].msg, ':') == bad[i].msg + 2)
			CHECK(rc < 0 && strncmp(e.msg, want, strlen(want)) == 0,
			      "bad[%zu]: got '%s', want '%s...'", i, e.msg,
			      want);
		else
			CHECK(rc < 0 && strstr(e.msg, bad[i].msg) != NULL &&
				      strchr(e.msg, '\n') == NULL,
			      "bad[%zu]: got '%s', want '...%s'", i, e.msg,
			      bad[i].msg);
		sp_scenario_free(&pl);
	}
}

/* Load @yaml, apply @n key/value pairs, finish: the result code. */
static int
over(struct sp_run_plan *pl, const char *yaml, const char *const *kv, int n,
     struct sp_scenario_err *e)
{
	sp_scenario_init(pl);
	if (yaml != NULL) {
		write_file("o.yaml", yaml);
		if (sp_scenario_load(pl, path, e) < 0)
			return -1;
	}
	for (int i = 0; i < n; i++)
		if (sp_scenario_set(pl, kv[2 * i], kv[2 * i + 1], e) < 0)
			return -1;
	return sp_scenario_finish(pl, e);
}

static const char two_yaml[] = T
	"load:\n  vus: 5\n  duration: 30s\n"
	"scenarios:\n"
	"  - {name: r, tags: [read], steps: [request: {path: /r}]}\n"
	"  - {name: w, tags: [write], steps: [request: {path: /w}]}\n";
static const char staged_yaml[] = T
	"load:\n  stages: \"10s:5,20s:10\"\n" S OK_STEP;

/* Issue 16's keys: captures, variables, conditions, the lifecycle's
 * scenarios and the jar's and captures' sizes, laid out as sp_plan.h
 * says. */
static const char flows_yaml[] =
	T
	"cookies: {max_bytes: 2KiB}\n"
	"capture_max: 512\n"
	"capture_window: 1MiB\n"
	"setup:\n"
	"  - request:\n"
	"      method: POST\n"
	"      path: /login\n"
	"      capture: {admin: {json: \"$.token\"}}\n"
	"teardown:\n"
	"  - request: {method: DELETE, path: \"/users/{{setup.admin}}\"}\n"
	"vu_setup:\n"
	"  - request:\n"
	"      path: /login\n"
	"      headers: {cookie: \"a=b\"}\n"
	"      capture:\n"
	"        - {cookie: csrftoken, as: csrf}\n"
	"        - {status: true, as: code}\n"
	"vu_teardown:\n"
	"  - request: {path: /logout}\n"
	"scenarios:\n"
	"  - name: api\n"
	"    steps:\n"
	"      - request:\n"
	"          method: POST\n"
	"          path: /items\n"
	"          headers:\n"
	"            X-CSRF: \"{{csrf}}\"\n"
	"            Authorization: \"Bearer {{ setup.admin | raw }}\"\n"
	"          capture:\n"
	"            item: {header: Location, regex: \"/items/(\\\\d+)\"}\n"
	"            title: {regex: \"<title>([^<]*)</title>\"}\n"
	"          on_capture_fail: continue\n"
	"      - if: {var: item, matches: \"^[0-9]+$\"}\n"
	"        steps:\n"
	"          - request: {method: DELETE, path: \"/items/{{item}}\"}\n"
	"          - if: {var: title, equals: x, not: true}\n"
	"            steps:\n"
	"              - think: 1ms\n"
	"      - if: {var: code, set: false}\n"
	"        steps:\n"
	"          - request: {path: /nocode}\n"
	"  - name: web\n"
	"    vu_setup:\n"
	"      - request: {path: /web-login}\n"
	"    vu_teardown: []\n"
	"    steps:\n"
	"      - request: {path: \"/{{code}}\", capture: {t: {status: true}},\n"
	"                  on_capture_fail: end}\n";

static void
test_flows(void)
{
	static const char *const names[] = {
		"api",	    "web",	   "web.vu_setup", "setup",
		"teardown", "vu_setup", "vu_teardown",
	};
	static const uint8_t kinds[] = {
		SP_SCEN_LOAD,	  SP_SCEN_LOAD,	    SP_SCEN_VU_SETUP,
		SP_SCEN_SETUP,	  SP_SCEN_TEARDOWN, SP_SCEN_VU_SETUP,
		SP_SCEN_VU_TEARDOWN,
	};
	static const char *const vars[] = { "csrf", "admin", "item", "title",
					    "code", "t" };
	struct sp_scenario_err e = { { 0 } };
	const struct sp_request *r;
	const struct sp_step *st;
	const struct sp_cond *c;
	struct sp_run_plan pl;
	const struct sp_plan *p = &pl.eng;
	int rc;

	rc = load(&pl, flows_yaml, &e);
	CHECK(rc == 0, "flows: %s", e.msg);
	if (rc < 0) {
		sp_scenario_free(&pl);
		return;
	}
	CHECK(p->jar_bytes == 2048 && p->var_max == 512 &&
		      p->capture_window == (1u << 20),
	      "flows: sizes %u %u %u", p->jar_bytes, p->var_max,
	      p->capture_window);
	CHECK(p->nscenarios == 7, "flows: %u scenarios", p->nscenarios);
	for (uint32_t i = 0; i < 7 && i < p->nscenarios; i++) {
		const struct sp_scenario *sc = &p->scenarios[i];

		CHECK(strcmp(sc->name, names[i]) == 0 && sc->kind == kinds[i] &&
			      sc->enabled == (i < 2) && sc->weight == 1 &&
			      sc->keep_alive,
		      "flows: scenario %u '%s' kind %u enabled %u", i,
		      sc->name, sc->kind, sc->enabled);
	}
	CHECK(p->scenarios[0].vu_setup == 6 && p->scenarios[0].vu_teardown == 7 &&
		      p->scenarios[1].vu_setup == 3 &&
		      p->scenarios[1].vu_teardown == 0 && /* [] */
		      p->scenarios[3].vu_setup == 0 &&
		      p->setup_scen == 4 && p->teardown_scen == 5,
	      "flows: lifecycle indices");
	CHECK(p->nvars == 6, "flows: %u vars", p->nvars);
	for (uint32_t i = 0; i < 6 && i < p->nvars; i++)
		CHECK(strcmp(p->vars[i], vars[i]) == 0, "flows: var %u '%s'", i,
		      p->vars[i]);

	/* api: POST /items, IF, DELETE, IF, THINK, IF, /nocode */
	st = p->scenarios[0].steps;
	CHECK(p->scenarios[0].nsteps == 7 && st[0].kind == SP_STEP_REQUEST &&
		      st[1].kind == SP_STEP_IF && st[1].ws == 0 &&
		      st[1].end == 5 && st[2].kind == SP_STEP_REQUEST &&
		      st[2].req == 1 && st[3].kind == SP_STEP_IF &&
		      st[3].ws == 1 && st[3].end == 5 &&
		      st[4].kind == SP_STEP_THINK && st[5].kind == SP_STEP_IF &&
		      st[5].ws == 2 && st[5].end == 7 &&
		      st[6].kind == SP_STEP_REQUEST && st[6].req == 2,
	      "flows: api's steps flattened");
	CHECK(p->nconds == 3, "flows: %u conds", p->nconds);
	c = p->conds;
	CHECK(c[0].var == 2 && c[0].op == SP_COND_MATCHES && !c[0].negate &&
		      strcmp(c[0].value, "^[0-9]+$") == 0 &&
		      c[0].value_len == 8,
	      "flows: cond 0");
	CHECK(c[1].var == 3 && c[1].op == SP_COND_EQUALS && c[1].negate &&
		      strcmp(c[1].value, "x") == 0 && c[1].value_len == 1,
	      "flows: cond 1");
	CHECK(c[2].var == 4 && c[2].op == SP_COND_SET && c[2].negate &&
		      c[2].value == NULL,
	      "flows: cond 2");

	r = &p->requests[0];
	CHECK(r->ncaptures == 2 && r->capture_continue && !r->own_cookie &&
		      r->captures[0].kind == SP_CAP_HEADER &&
		      r->captures[0].var == 2 &&
		      strcmp(r->captures[0].name, "Location") == 0 &&
		      strcmp(r->captures[0].regex, "/items/(\\d+)") == 0 &&
		      r->captures[1].kind == SP_CAP_BODY &&
		      r->captures[1].var == 3 && r->captures[1].name == NULL &&
		      strcmp(r->captures[1].regex, "<title>([^<]*)</title>") ==
			      0,
	      "flows: POST /items's captures");
	/* X-CSRF: {{csrf}} raw; Authorization: Bearer {{setup.admin}} */
	CHECK(r->headers.nparts == 5 &&
		      r->headers.parts[1].var == SP_VAR_CAPTURE &&
		      r->headers.parts[1].col == 0 &&
		      r->headers.parts[1].enc == SP_ENC_RAW &&
		      r->headers.parts[3].var == SP_VAR_SETUP &&
		      r->headers.parts[3].col == 1 &&
		      r->headers.parts[3].enc == SP_ENC_RAW,
	      "flows: header variables");
	r = &p->requests[1];
	CHECK(r->path.nparts == 2 && lit_is(&r->path, 0, 0, 7) &&
		      r->path.parts[1].var == SP_VAR_CAPTURE &&
		      r->path.parts[1].col == 2 &&
		      r->path.parts[1].enc == SP_ENC_URL && r->ncaptures == 0,
	      "flows: {{item}} in a path, | url by default");
	r = &p->requests[3];
	CHECK(strcmp(r->name, "GET /{{code}}") == 0 && r->ncaptures == 1 &&
		      !r->capture_continue &&
		      r->captures[0].kind == SP_CAP_STATUS,
	      "flows: web's request");
	r = &p->requests[5];
	CHECK(strcmp(r->name, "POST /login") == 0 && r->ncaptures == 1 &&
		      r->captures[0].kind == SP_CAP_JSON &&
		      strcmp(r->captures[0].name, "$.token") == 0 &&
		      r->captures[0].var == 1,
	      "flows: setup's capture");
	r = &p->requests[7];
	CHECK(r->own_cookie && r->ncaptures == 2 &&
		      r->captures[0].kind == SP_CAP_COOKIE &&
		      strcmp(r->captures[0].name, "csrftoken") == 0 &&
		      r->captures[0].var == 0 &&
		      r->captures[1].kind == SP_CAP_STATUS &&
		      r->captures[1].var == 4,
	      "flows: vu_setup's captures, its own Cookie");
	CHECK(p->nrequests == 9 &&
		      p->scenarios[2].steps[0].req == 4 &&
		      p->scenarios[3].steps[0].req == 5 &&
		      p->scenarios[4].steps[0].req == 6 &&
		      p->scenarios[6].steps[0].req == 8,
	      "flows: lifecycle requests");
	sp_scenario_free(&pl);

	/* The defaults, and cookies: false. */
	rc = load(&pl, T S OK_STEP, &e);
	CHECK(rc == 0 && p->jar_bytes == 1024 && p->var_max == 256 &&
		      p->capture_window == 65536 && p->nvars == 0 &&
		      p->nconds == 0 && p->setup_scen == 0 &&
		      p->teardown_scen == 0 && p->scenarios[0].vu_setup == 0 &&
		      p->scenarios[0].kind == SP_SCEN_LOAD &&
		      p->requests[0].ncaptures == 0,
	      "flows: defaults: %s", e.msg);
	sp_scenario_free(&pl);
	rc = load(&pl, T "cookies: false\n" S OK_STEP, &e);
	CHECK(rc == 0 && p->jar_bytes == 0, "flows: cookies: false: %s",
	      e.msg);
	sp_scenario_free(&pl);
	rc = load(&pl, T "cookies: {}\n" S OK_STEP, &e);
	CHECK(rc == 0 && p->jar_bytes == 1024, "flows: cookies: {}: %s",
	      e.msg);
	sp_scenario_free(&pl);
	{
		const char *kv[] = { "url", "http://198.18.0.2/x" };

		rc = over(&pl, NULL, kv, 1, &e);
		CHECK(rc == 0 && p->jar_bytes == 1024 && p->var_max == 256 &&
			      p->capture_window == 65536 &&
			      p->setup_scen == 0,
		      "flows: a URL run's defaults: %s", e.msg);
		sp_scenario_free(&pl);
	}
	/* --tags picks among the load's scenarios only; the lifecycle's
	 * stay out of it, and are no scenario to run. */
	{
		static const char tagged[] = T
			"setup:\n  - request: {path: /s}\n"
			"scenarios:\n"
			"  - {name: r, tags: [read], steps: [request: {path: "
			"/r}]}\n";
		const char *kv[] = { "tags", "read" };
		const char *kx[] = { "exclude-tags", "read" };

		rc = over(&pl, tagged, kv, 1, &e);
		CHECK(rc == 0 && p->scenarios[0].enabled &&
			      !p->scenarios[1].enabled,
		      "flows: --tags with a setup: %s", e.msg);
		sp_scenario_free(&pl);
		rc = over(&pl, tagged, kx, 1, &e);
		CHECK(rc < 0 && strcmp(e.msg, "--exclude-tags read left no "
					      "scenario to run") == 0,
		      "flows: --exclude-tags with a setup: %s", e.msg);
		sp_scenario_free(&pl);
	}
}

/* Options the run would not read are errors, not silence. */
static void
test_ignored(void)
{
	static const char open_yaml[] = T
		"load:\n  model: open\n  rate: 5\n" S OK_STEP;
	static const struct {
		const char *yaml;
		const char *kv[6];
		int n;
		const char *msg;
	} errs[] = {
		{ NULL,
		  { "url", "http://198.18.0.2/", "vus", "2", "rate", "5" },
		  3,
		  "--vus: give --vus (closed model) or --rate (open model), not "
		  "both" },
		{ NULL,
		  { "url", "http://198.18.0.2/", "vus", "2", "max-vus", "9" },
		  3,
		  "--max-vus: only the open model has it" },
		{ two_yaml,
		  { "max-vus", "9" },
		  1,
		  "--max-vus: only the open model has it" },
		{ open_yaml, { "vus", "2" }, 1, "--vus: the model is open" },
		{ NULL,
		  { "url", "http://198.18.0.2/", "rate", "5", "model",
		    "closed" },
		  3,
		  "--rate: the closed model has no arrival rate" },
		{ NULL,
		  { "url", "http://198.18.0.2/", "abort-grace", "5s" },
		  2,
		  "--abort-grace: only with --abort-on-fail" },
		{ two_yaml,
		  { "url", "http://198.18.0.2:8080/x" },
		  1,
		  "--url: 'http://198.18.0.2:8080/x': the scenario file has the "
		  "requests, so its path /x would not be used" },
	};
	struct sp_scenario_err e = { { 0 } };
	struct sp_run_plan pl;
	int rc;

	for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		rc = over(&pl, errs[i].yaml, errs[i].kv, errs[i].n, &e);
		CHECK(rc < 0 && strncmp(e.msg, errs[i].msg,
					strlen(errs[i].msg)) == 0,
		      "ignored[%zu]: got '%s', want '%s...'", i, e.msg,
		      errs[i].msg);
		sp_scenario_free(&pl);
	}
	{
		/* What stays allowed: --url retargets a file without a path,
		 * --rate switches a closed file to open, --max-vus with it,
		 * --abort-grace with --abort-on-fail, a file's rate alone
		 * means the open model. */
		const char *kv[] = { "url",     "http://198.18.0.3:8080/",
				     "rate",    "5",
				     "max-vus", "9" };

		rc = over(&pl, two_yaml, kv, 3, &e);
		CHECK(rc == 0 && pl.eng.model == SP_MODEL_OPEN &&
			      pl.max_vus == 9 && pl.eng.dst_port == 8080,
		      "--url, --rate, --max-vus over a "
		      "closed file: %s",
		      e.msg);
		sp_scenario_free(&pl);
	}
	{
		const char *kv[] = { "url",           "http://198.18.0.2/",
				     "abort-on-fail", "1",
				     "abort-grace",   "2s" };

		rc = over(&pl, NULL, kv, 3, &e);
		CHECK(rc == 0, "--abort-grace with --abort-on-fail: %s", e.msg);
		sp_scenario_free(&pl);
	}
	rc = over(&pl, T "load:\n  rate: 5\n" S OK_STEP, NULL, 0, &e);
	CHECK(rc == 0 && pl.eng.model == SP_MODEL_OPEN && pl.eng.rate == 5,
	      "a file's rate alone: the open model: %s", e.msg);
	sp_scenario_free(&pl);
}

static void
test_overrides(void)
{
	struct sp_scenario_err e = { { 0 } };
	struct sp_run_plan pl;
	int rc;

	/* --breakpoint: the knobs of load: {model: breakpoint}, a rate
	 * given after it where the hunt starts, its SLOs required. */
	{
		const char *kv[] = { "url",	    "http://198.18.0.2/",
				     "breakpoint",  "factor=1.5,step=5s,max=9000",
				     "rate",	    "300",
				     "threshold",   "p(99) < 50ms" };

		rc = over(&pl, NULL, kv, 4, &e);
		CHECK(rc == 0 && pl.bp.on && pl.bp.factor == 1.5 &&
			      pl.bp.step_us == 5000000 && pl.bp.max == 9000 &&
			      pl.bp.start == 300 &&
			      pl.bp.control == SP_BP_RATE &&
			      pl.eng.model == SP_MODEL_OPEN &&
			      pl.eng.duration_us == 300000000 &&
			      pl.max_vus == 1000,
		      "--breakpoint with knobs: %s", e.msg);
		sp_scenario_free(&pl);
	}
	{
		const char *kv[] = { "url", "http://198.18.0.2/", "breakpoint",
				     "control=vus,max=40,duration=1m",
				     "threshold", "errors < 1%" };

		rc = over(&pl, NULL, kv, 3, &e);
		CHECK(rc == 0 && pl.bp.control == SP_BP_VUS &&
			      pl.eng.model == SP_MODEL_CLOSED &&
			      pl.eng.vus == 40 &&
			      pl.eng.duration_us == 60000000,
		      "--breakpoint over VUs: %s", e.msg);
		sp_scenario_free(&pl);
	}
	{
		const char *kv[] = { "url", "http://198.18.0.2/", "breakpoint",
				     "factor=x" };

		rc = over(&pl, NULL, kv, 2, &e);
		CHECK(rc < 0 && strncmp(e.msg, "--breakpoint: ", 14) == 0,
		      "--breakpoint=factor=x: %s", e.msg);
		sp_scenario_free(&pl);
	}
	{
		const char *kv[] = { "url", "http://198.18.0.2/", "breakpoint",
				     "1" };

		rc = over(&pl, NULL, kv, 2, &e);
		CHECK(rc < 0 && strstr(e.msg, "give its SLOs as thresholds") !=
					NULL,
		      "--breakpoint without a threshold: %s", e.msg);
		sp_scenario_free(&pl);
	}

	{
		const char *kv[] = { "url",  "http://198.18.0.2/", "duration",
				     "168h", "connect-timeout",    "4294s" };

		rc = over(&pl, NULL, kv, 3, &e);
		CHECK(rc == 0 && pl.eng.duration_us == 168ull * 3600000000 &&
			      pl.connect_timeout_us == 4294000000ull,
		      "the longest duration and connect timeout: %s", e.msg);
		sp_scenario_free(&pl);
	}
	{
		const char *kv[] = { "url", "http://198.18.0.2/", "duration",
				     "169h" };

		rc = over(&pl, NULL, kv, 2, &e);
		CHECK(rc < 0 && strcmp(e.msg, "--duration: '169h' is longer "
					      "than 168h (a week), the longest "
					      "stampede takes") == 0,
		      "--duration 169h: %s", e.msg);
		sp_scenario_free(&pl);
	}
	{
		const char *kv[] = { "vus", "3" };

		rc = over(&pl, staged_yaml, kv, 1, &e);
		CHECK(rc == 0 && pl.eng.nstages == 0 && pl.eng.vus == 3 &&
			      pl.eng.duration_us == 30000000 && pl.max_vus == 3,
		      "--vus replaces file stages, keeps their length: %s",
		      e.msg);
		sp_scenario_free(&pl);
	}
	{
		const char *kv[] = { "vus", "3", "duration", "5s" };

		rc = over(&pl, staged_yaml, kv, 2, &e);
		CHECK(rc == 0 && pl.eng.nstages == 0 &&
			      pl.eng.duration_us == 5000000,
		      "--vus --duration: %s", e.msg);
		sp_scenario_free(&pl);
	}
	{
		const char *kv[] = { "stages", "5s:1,5s:2" };

		rc = over(&pl, two_yaml, kv, 1, &e);
		CHECK(rc == 0 && pl.eng.nstages == 2 &&
			      pl.eng.duration_us == 10000000 && pl.max_vus == 2,
		      "--stages replaces vus: %s", e.msg);
		sp_scenario_free(&pl);
	}
	{
		const char *kv[] = { "rate", "1000.5",          "seed",
				     "7",    "connect-timeout", "1s" };

		rc = over(&pl, two_yaml, kv, 3, &e);
		CHECK(rc == 0 && pl.eng.model == SP_MODEL_OPEN &&
			      pl.eng.rate == 1000.5 && pl.max_vus == 1001 &&
			      pl.eng.duration_us == 30000000 && pl.seed == 7 &&
			      pl.connect_timeout_us == 1000000,
		      "--rate: open, max_vus rounds up: %s", e.msg);
		sp_scenario_free(&pl);
	}
	{
		const char *kv[] = { "model", "open",    "rate",
				     "5",     "max-vus", "9" };

		rc = over(&pl, NULL, kv, 3, &e);
		CHECK(rc < 0 && strcmp(e.msg, "no target: give target: in the "
					      "file or --url") == 0,
		      "no target: %s", e.msg);
		sp_scenario_free(&pl);
	}
	{
		const char *kv[] = { "url", "http://198.18.0.3:81/x?{{vu}}",
				     "rate", "5" };

		rc = over(&pl, NULL, kv, 2, &e);
		CHECK(rc == 0 && pl.eng.dst_ip == 0xc6120003u &&
			      pl.eng.dst_port == 81 &&
			      strcmp(pl.eng.host, "198.18.0.3:81") == 0 &&
			      pl.eng.nscenarios == 1 && pl.eng.nrequests == 1 &&
			      strcmp(pl.eng.scenarios[0].name, "default") ==
				      0 &&
			      pl.eng.scenarios[0].weight == 1 &&
			      pl.eng.scenarios[0].nsteps == 1 &&
			      strcmp(pl.eng.requests[0].name,
				     "GET /x?{{vu}}") == 0 &&
			      pl.eng.requests[0].path.nparts == 2 &&
			      pl.max_vus == 100 &&
			      pl.eng.duration_us == 10000000,
		      "--url alone: %s", e.msg);
		sp_scenario_free(&pl);
	}
	{
		const char *kv[] = { "url", "http://198.18.0.9" };

		rc = over(&pl, two_yaml, kv, 1, &e);
		CHECK(rc == 0 && pl.eng.dst_ip == 0xc6120009u &&
			      pl.eng.dst_port == 80 &&
			      strcmp(pl.eng.host, "198.18.0.9") == 0 &&
			      pl.eng.nscenarios == 2 &&
			      strcmp(pl.eng.requests[0].name, "GET /r") == 0,
		      "--url with a file: only the target: %s", e.msg);
		sp_scenario_free(&pl);
	}
	{
		const char *kv[] = { "tags", "read,other" };

		rc = over(&pl, two_yaml, kv, 1, &e);
		CHECK(rc == 0 && pl.eng.scenarios[0].enabled &&
			      !pl.eng.scenarios[1].enabled,
		      "--tags: %s", e.msg);
		sp_scenario_free(&pl);
	}
	{
		const char *kv[] = { "exclude-tags", "read" };

		rc = over(&pl, two_yaml, kv, 1, &e);
		CHECK(rc == 0 && !pl.eng.scenarios[0].enabled &&
			      pl.eng.scenarios[1].enabled,
		      "--exclude-tags: %s", e.msg);
		sp_scenario_free(&pl);
	}

	/* Errors name the option. */
	static const struct {
		const char *key, *val, *msg;
	} errs[] = {
		{ "vus", "abc", "--vus: 'abc' is not a whole number" },
		{ "vus", "0", "--vus: 0 is out of range" },
		{ "rate", "-1", "--rate: '-1' is not a number" },
		{ "duration", "0", "--duration: 0: the duration must be more" },
		{ "stages", "10s", "--stages: stage 1 ('10s') has no target" },
		{ "model", "x", "--model: 'x' is not closed or open" },
		{ "url", "http://127.0.0.3/",
		  "--url: 'http://127.0.0.3/': "
		  "127.0.0.3 is a loopback address" },
		{ "url", "http://a b/", "--url: 'a b' is neither" },
		{ "resolve", "app", "--resolve: 'app' is not NAME:ADDR" },
		{ "resolve", "app:198.18.0.2:1",
		  "--resolve: 'app:198.18.0.2': "
		  "the port must be 1..65535" },
		{ "resolve", "app:99999:198.18.0.2",
		  "--resolve: 'app:99999': the "
		  "port must be" },
		{ "url", "ftp://198.18.0.2/",
		  "--url: 'ftp://198.18.0.2/' is not "
		  "an http:// or https:// URL" },
		{ "tls-resume", "sometimes",
		  "--tls-resume: tls.resume: "
		  "'sometimes' is not" },
		{ "tls-engine", "OpenSSL",
		  "--tls-engine: tls.engine: 'OpenSSL' is not mbedtls or "
		  "openssl" },
		{ "tls-ca", "/nonexistent/ca.pem",
		  "--tls-ca: tls.ca: cannot read "
		  "'/nonexistent/ca.pem'" },
		{ "tags", "a,,b", "--tags: 'a,,b' has an empty tag" },
		{ "bogus", "1", "--bogus: not a scenario option" },
		{ "tags", "nope", "--tags nope left no scenario to run" },
		{ "exclude-tags", "read,write",
		  "--exclude-tags read,write left no scenario to run" },
	};
	for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		const char *kv[] = { errs[i].key, errs[i].val };

		rc = over(&pl, two_yaml, kv, 1, &e);
		CHECK(rc < 0 && strncmp(e.msg, errs[i].msg,
					strlen(errs[i].msg)) == 0,
		      "override %s=%s: got '%s'", errs[i].key, errs[i].val,
		      e.msg);
		sp_scenario_free(&pl);
	}
	{
		/* No scenario yet: the URL's path becomes a request. */
		const char *kv[] = { "url", "http://198.18.0.2/{{nope}}" };

		rc = over(&pl, NULL, kv, 1, &e);
		CHECK(rc < 0 &&
			      strcmp(e.msg, "--url: '{{nope}}': no variables "
					    "here (they come from a "
					    "scenario's captures)") == 0,
		      "--url template: %s", e.msg);
		sp_scenario_free(&pl);
	}
	{
		const char *kv[] = { "stages", "5s:1", "duration", "5s" };

		rc = over(&pl, two_yaml, kv, 2, &e);
		CHECK(rc < 0 &&
			      strstr(e.msg, "--duration: give either") == e.msg,
		      "--stages with --duration: %s", e.msg);
		sp_scenario_free(&pl);
	}
	{
		const char *kv[] = { "duration", "5s" };

		rc = over(&pl, staged_yaml, kv, 1, &e);
		CHECK(rc < 0 &&
			      strstr(e.msg, "--duration: the file's stages") ==
				      e.msg,
		      "--duration over file stages: %s", e.msg);
		sp_scenario_free(&pl);
	}
	test_ignored();
}

static int
set_has(const uint64_t *set, unsigned code)
{
	return (set[code / 64] >> (code % 64)) & 1;
}

/* Whether @set holds exactly the codes @lo..@hi of 100..999. */
static int
set_is(const uint64_t *set, unsigned lo, unsigned hi)
{
	for (unsigned c = 100; c < 1000; c++)
		if (set_has(set, c) != (c >= lo && c <= hi))
			return 0;
	return 1;
}

/*
 * expect_status: the default (100-399), the file's top-level list, a
 * request's own, --expect-status between them; the list syntax; a status
 * check that could never pass is refused.
 */
static void
test_expect(void)
{
	struct sp_scenario_err e = { { 0 } };
	struct sp_run_plan pl;
	int rc;

	rc = load(&pl, T S OK_STEP, &e);
	CHECK(rc == 0 && set_is(pl.eng.requests[0].expect_set, 100, 399),
	      "default expect_status is 100-399: %s", e.msg);
	sp_scenario_free(&pl);

	rc = load(&pl,
		  T "expect_status: \"2xx, 304,404-405\"\n" S
		    "      - request: {path: /a}\n"
		    "      - request: {path: /b, expect_status: [500, 5xx]}\n",
		  &e);
	CHECK(rc == 0 && set_has(pl.eng.requests[0].expect_set, 200) &&
		      set_has(pl.eng.requests[0].expect_set, 299) &&
		      !set_has(pl.eng.requests[0].expect_set, 300) &&
		      set_has(pl.eng.requests[0].expect_set, 304) &&
		      set_has(pl.eng.requests[0].expect_set, 404) &&
		      set_has(pl.eng.requests[0].expect_set, 405) &&
		      !set_has(pl.eng.requests[0].expect_set, 406) &&
		      set_is(pl.eng.requests[1].expect_set, 500, 599),
	      "file and request expect_status: %s", e.msg);
	sp_scenario_free(&pl);
	{
		const char *kv[] = { "expect-status", "200-201" };

		rc = over(&pl,
			  T "expect_status: 2xx\n" S
			    "      - request: {path: /a}\n"
			    "      - request: {path: /b, expect_status: 404}\n",
			  kv, 1, &e);
		CHECK(rc == 0 &&
			      set_is(pl.eng.requests[0].expect_set, 200, 201) &&
			      set_is(pl.eng.requests[1].expect_set, 404, 404),
		      "--expect-status wins over the file's, not a request's: %s",
		      e.msg);
		sp_scenario_free(&pl);
	}
	{
		const char *kv[] = { "url", "http://198.18.0.2/x",
				     "expect-status", "4xx" };

		rc = over(&pl, NULL, kv, 2, &e);
		CHECK(rc == 0 &&
			      set_is(pl.eng.requests[0].expect_set, 400, 499),
		      "--url with --expect-status: %s", e.msg);
		sp_scenario_free(&pl);
	}
	{
		static const char *const bad_lists[] = {
			"",          "2x",      "2xxx", "0xx",  "99",
			"1000",      "299-200", "abc",  "200,", ",200",
			"200 - 299", "+200",    "-200",
		};

		for (size_t i = 0; i < sizeof(bad_lists) / sizeof(bad_lists[0]);
		     i++) {
			const char *kv[] = { "url", "http://198.18.0.2/",
					     "expect-status", bad_lists[i] };

			rc = over(&pl, NULL, kv, 2, &e);
			CHECK(rc < 0 && strncmp(e.msg,
						"--expect-status: ", 17) == 0,
			      "--expect-status '%s' refused: %s", bad_lists[i],
			      e.msg);
			sp_scenario_free(&pl);
		}
	}
	rc = load(&pl,
		  T S
		  "      - request: {path: /, check: {status: [200, 404]}}\n",
		  &e);
	CHECK(rc < 0 &&
		      strstr(e.msg, "its check of status 404 can never "
				    "pass") != NULL &&
		      strstr(e.msg, "expect_status") != NULL,
	      "a checked status outside expect_status: %s", e.msg);
	sp_scenario_free(&pl);
	rc = load(&pl,
		  T S "      - request: {path: /, expect_status: 404, "
		      "check: {status: 404}}\n",
		  &e);
	CHECK(rc == 0, "a checked status inside expect_status: %s", e.msg);
	sp_scenario_free(&pl);
	rc = load(&pl,
		  T S "      - request: {path: /, expect_status: [2xx, 9]}\n",
		  &e);
	CHECK(rc < 0 && strstr(e.msg, ":5:49:") != NULL &&
		      strstr(e.msg, "expect_status: '9'") != NULL,
	      "a bad expect_status item, with its position: %s", e.msg);
	sp_scenario_free(&pl);
}

/* The filter of each variable part, in order. */
static int
encs_are(const struct sp_tpl *t, const char *want)
{
	size_t k = 0;

	for (uint32_t i = 0; i < t->nparts; i++) {
		if (t->parts[i].var == SP_VAR_LITERAL)
			continue;
		if (want[k] == '\0' ||
		    t->parts[i].enc != (want[k] == 'u' ? SP_ENC_URL :
					want[k] == 'j' ? SP_ENC_JSON :
							 SP_ENC_RAW))
			return 0;
		k++;
	}
	return want[k] == '\0';
}

/* Filters: the defaults per context, explicit ones, {{env}} encoded when
 * loaded, unknown filters and raw CR/LF refused. */
static void
test_filters(void)
{
	struct sp_scenario_err e = { { 0 } };
	struct sp_run_plan pl;
	int rc;

	write_file("users.csv", users_csv);
	setenv("SP_TEST_ENC", "a b/\"c\"", 1);
	rc = load(
		&pl,
		T
		"data: users.csv\n" S "      - request:\n"
		"          path: \"/p?u={{data.user}}&v={{data.user | raw}}&"
		"w={{ data.user|json }}&n={{vu | url}}&e={{env SP_TEST_ENC}}\"\n"
		"          headers: {X-A: \"{{data.user}}\", X-B: \"{{data.pass | url}}\"}\n"
		"          body: '{\"u\": \"{{data.user | json}}\", \"v\": \"{{data.pass}}\", "
		"\"e\": \"{{env SP_TEST_ENC | json}}\"}'\n",
		&e);
	CHECK(rc == 0, "filters load: %s", e.msg);
	if (rc == 0) {
		const struct sp_request *r = &pl.eng.requests[0];

		CHECK(r->path.ctx == SP_TPL_PATH &&
			      r->headers.ctx == SP_TPL_HEADER &&
			      r->body.ctx == SP_TPL_BODY,
		      "template contexts");
		CHECK(encs_are(&r->path, "urju"),
		      "path filters: url by default");
		CHECK(encs_are(&r->headers, "ru"),
		      "header filters: raw by default");
		CHECK(encs_are(&r->body, "jr"), "body filters: raw by default");
		CHECK(strstr(r->path.text, "&e=a%20b%2F%22c%22") != NULL,
		      "{{env}} in a path percent-encoded when loaded: %s",
		      r->path.text);
		CHECK(strstr(r->body.text, "\"e\": \"a b/\\\"c\\\"\"") != NULL,
		      "{{env | json}} escaped when loaded: %s", r->body.text);
	}
	sp_scenario_free(&pl);
	rc = load(&pl, T S "      - request: {path: \"/{{vu | html}}\"}\n", &e);
	CHECK(rc < 0 &&
		      strstr(e.msg, "unknown filter 'html' (json, url or raw)"),
	      "unknown filter: %s", e.msg);
	sp_scenario_free(&pl);
	rc = load(&pl,
		  T S
		  "      - request: {path: \"/{{env SP_TEST_ENC | raw}}\"}\n",
		  &e);
	CHECK(rc < 0 && strstr(e.msg, "byte 0x20 is not allowed"),
	      "{{env | raw}} with a space in a path: %s", e.msg);
	sp_scenario_free(&pl);
	setenv("SP_TEST_ENC", "x\r\nInjected: 1", 1);
	rc = load(
		&pl,
		T S
		"      - request: {path: /, headers: {X-A: \"{{env SP_TEST_ENC}}\"}}\n",
		&e);
	CHECK(rc < 0 && strstr(e.msg, "may not hold CR, LF"),
	      "{{env}} with CR LF in a header refused: %s", e.msg);
	sp_scenario_free(&pl);
	rc = load(
		&pl,
		T S
		"      - request: {path: /, headers: {X-A: \"{{env SP_TEST_ENC | json}}\"}}\n",
		&e);
	CHECK(rc == 0 && strstr(pl.eng.requests[0].headers.text,
				"X-A: x\\r\\nInjected: 1\r\n"),
	      "{{env | json}} in a header escapes CR LF: %s", e.msg);
	sp_scenario_free(&pl);
	rc = load(
		&pl,
		T S
		"      - request: {path: /, headers: {X-A: \"a\\r\\nB: c\"}}\n",
		&e);
	CHECK(rc < 0 && strstr(e.msg, "may not hold CR, LF"),
	      "a literal CR LF in a header refused: %s", e.msg);
	sp_scenario_free(&pl);
	unsetenv("SP_TEST_ENC");
}

/* In the test bed's block, 198.18.0.0/15 (host order). */
static int
bed_ip(uint32_t ip)
{
	return (ip & 0xfffe0000u) == 0xc6120000u;
}

/* An address the file wrote as a string (network: ip, gateway): in the
 * bed's block, or absent. */
static int
bed_ip_str(const char *s)
{
	unsigned a, b, c, d;
	char end;

	if (s == NULL)
		return 1;
	if (sscanf(s, "%u.%u.%u.%u%c", &a, &b, &c, &d, &end) != 4 || a > 255 ||
	    b > 255 || c > 255 || d > 255)
		return 0;
	return bed_ip((uint32_t)a << 24 | (uint32_t)b << 16 | (uint32_t)c << 8 |
		      d);
}

/*
 * Every ready file under @dir must validate, run at most @max_us, and
 * point only at the test bed: its target, every resolve: entry, its own
 * address and its gateway in 198.18.0.0/15. config/ is bounded to 2
 * minutes (the test bed's rule); config/seeds/ keeps the seeds' real
 * durations (2 hours for seed 003's endurance test), so its bound is
 * theirs. Returns the number of files.
 */
static int
test_config_dir(const char *dir, uint64_t max_us)
{
	struct dirent *de;
	int n = 0;
	DIR *d;

	if ((d = opendir(dir)) == NULL) {
		CHECK(0, "%s: cannot open", dir);
		return 0;
	}
	while ((de = readdir(d)) != NULL) {
		struct sp_scenario_err e = { { 0 } };
		size_t len = strlen(de->d_name);
		struct sp_run_plan pl;
		char p[1024];
		int rc;

		if (len < 6 || strcmp(de->d_name + len - 5, ".yaml") != 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		sp_scenario_init(&pl);
		rc = sp_scenario_load(&pl, p, &e);
		if (rc == 0)
			rc = sp_scenario_finish(&pl, &e);
		CHECK(rc == 0, "%s", e.msg);
		CHECK(rc < 0 || pl.eng.duration_us <= max_us,
		      "%s runs %llu us, more than %llu", p,
		      (unsigned long long)pl.eng.duration_us,
		      (unsigned long long)max_us);
		CHECK(rc < 0 || bed_ip(pl.eng.dst_ip), "%s: target %08x", p,
		      pl.eng.dst_ip);
		for (uint32_t i = 0; rc == 0 && i < pl.nresolve; i++)
			CHECK(bed_ip(pl.resolve[i].ip), "%s: resolve %s", p,
			      pl.resolve[i].name);
		CHECK(rc < 0 || (bed_ip_str(pl.net.ip) &&
				 bed_ip_str(pl.net.gateway)),
		      "%s: network ip %s gateway %s", p,
		      pl.net.ip ? pl.net.ip : "-",
		      pl.net.gateway ? pl.net.gateway : "-");
		sp_scenario_free(&pl);
		n++;
	}
	closedir(d);
	printf("%d config files in %s\n", n, dir);
	return n;
}

static void
test_config(void)
{
	const char *dir = getenv("SP_CONFIG_DIR");
	char seeds[1024];

	if (dir == NULL)
		return;
	CHECK(test_config_dir(dir, 120ull * 1000000) > 0, "no file in %s",
	      dir);
	snprintf(seeds, sizeof(seeds), "%s/seeds", dir);
	/* seed 000's and seed 003's five */
	CHECK(test_config_dir(seeds, 2ull * 3600 * 1000000) >= 6,
	      "too few files in %s", seeds);
	/* The CI recipe's scenario (docs/ci.md): the bed's rule too. */
	dir = getenv("SP_EXAMPLES_DIR");
	if (dir != NULL) {
		char ci[1024];

		snprintf(ci, sizeof(ci), "%s/ci", dir);
		CHECK(test_config_dir(ci, 120ull * 1000000) >= 1,
		      "no file in %s", ci);
	}
}

/* An address from its four bytes: the refused ones below are built, not
 * written, so that tests/unit/addr_scan.py finds no literal of them. */
static uint32_t
ip4(unsigned a, unsigned b, unsigned c, unsigned d)
{
	return (uint32_t)a << 24 | (uint32_t)b << 16 | (uint32_t)c << 8 | d;
}

static void
ip4_str(uint32_t ip, char *buf, size_t len)
{
	snprintf(buf, len, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xff,
		 (ip >> 8) & 0xff, ip & 0xff);
}

/* sp_values.h's address rules: only what cannot work is refused, each
 * for its reason; any other address is the user's. */
static void
test_addresses(void)
{
	static const struct {
		uint32_t ip;
		const char *why; /* NULL: usable */
	} peers[] = {
		{ 0x00000000u, "is in 0.0.0.0/8" },
		{ 0x00fffffeu, "is in 0.0.0.0/8" },
		{ 0x7f000001u, "is a loopback address" },
		{ 0x7fffffffu, "is a loopback address" },
		{ 0xe0000000u, "is a multicast address" },
		{ 0xeffffffau, "is a multicast address" },
		{ 0xf0000001u, "is in the reserved block 240.0.0.0/4" },
		{ 0xfffffffeu, "is in the reserved block 240.0.0.0/4" },
		{ 0xffffffffu, "is the limited broadcast address" },
		{ 0x01000000u, NULL }, /* just above 0/8 */
		{ 0x0a000001u, NULL }, /* a private one */
		{ 0x7effffffu, NULL }, /* just below loopback */
		{ 0x80000000u, NULL }, /* just above */
		{ 0xc6120002u, NULL }, /* the test bed's server */
		{ 0xdfffffffu, NULL }, /* just below multicast */
	};
	char a[16], b[40], first[128], msg[SP_VAL_WHY];
	uint32_t ip, cnt;
	const char *why;
	int rc;

	for (size_t i = 0; i < sizeof(peers) / sizeof(peers[0]); i++) {
		why = sp_val_ipv4_unusable(peers[i].ip);
		ip4_str(peers[i].ip, a, sizeof(a));
		CHECK(peers[i].why == NULL ?
			      why == NULL :
			      why != NULL && strncmp(why, peers[i].why,
						     strlen(peers[i].why)) == 0,
		      "%s: got '%s', want '%s'", a, why ? why : "(usable)",
		      peers[i].why ? peers[i].why : "(usable)");
		/* A target refused for itself, wherever we are. */
		why = sp_val_target(peers[i].ip, ip4(198, 18, 0, 1), 1, 24);
		CHECK((why == NULL) == (peers[i].why == NULL), "target %s: %s",
		      a, why ? why : "(usable)");
		/* Our own address: the same rules, as --ip A. */
		rc = sp_val_ip_range(a, &ip, &cnt, msg);
		CHECK((rc == 0) == (peers[i].why == NULL) &&
			      (rc < 0 || (ip == peers[i].ip && cnt == 1)),
		      "--ip %s: %s", a, rc < 0 ? msg : "(usable)");
	}

	/* Refused for where we are: ours, and our network's broadcast. */
	why = sp_val_target(ip4(198, 18, 1, 7), ip4(198, 18, 1, 1), 64, 24);
	CHECK(why != NULL && strstr(why, "one of our own addresses") != NULL,
	      "target inside --ip's range: %s", why ? why : "(usable)");
	why = sp_val_target(ip4(198, 18, 1, 65), ip4(198, 18, 1, 1), 64, 24);
	CHECK(why == NULL, "target just past --ip's range: %s", why);
	why = sp_val_target(ip4(198, 18, 1, 255), ip4(198, 18, 1, 1), 1, 24);
	CHECK(why != NULL && strstr(why, "broadcast address of our network"),
	      "our /24's broadcast: %s", why ? why : "(usable)");
	why = sp_val_target(ip4(198, 18, 1, 255), ip4(198, 18, 1, 1), 1, 16);
	CHECK(why == NULL, "the same address under a /16 is a host: %s", why);
	why = sp_val_target(ip4(198, 18, 255, 255), ip4(198, 18, 1, 1), 1, 16);
	CHECK(why != NULL, "our /16's broadcast");
	why = sp_val_target(ip4(198, 19, 1, 255), ip4(198, 18, 1, 1), 1, 24);
	CHECK(why == NULL, "another network's .255 is not ours to refuse: %s",
	      why);

	/* Ranges: a block anywhere inside refuses the range, naming the
	 * first address in it. */
	ip4_str(ip4(126, 255, 255, 200), a, sizeof(a));
	snprintf(b, sizeof(b), "%s-127.0.0.3", a);
	ip4_str(ip4(127, 0, 0, 0), a, sizeof(a));
	snprintf(first, sizeof(first), "'%s' holds %s, which is a loopback", b,
		 a);
	rc = sp_val_ip_range(b, &ip, &cnt, msg);
	CHECK(rc < 0 && strncmp(msg, first, strlen(first)) == 0, "%s: %s", b,
	      rc < 0 ? msg : "(usable)");
	ip4_str(ip4(223, 255, 255, 255), a, sizeof(a));
	snprintf(b, sizeof(b), "%s-", a);
	ip4_str(ip4(224, 0, 0, 1), a, sizeof(a));
	strcat(b, a);
	ip4_str(ip4(224, 0, 0, 0), a, sizeof(a));
	snprintf(first, sizeof(first), "holds %s, which is a multicast", a);
	rc = sp_val_ip_range(b, &ip, &cnt, msg);
	CHECK(rc < 0 && strstr(msg, first) != NULL, "%s: %s", b,
	      rc < 0 ? msg : "(usable)");
	rc = sp_val_ip_range("198.18.1.1-198.18.1.64", &ip, &cnt, msg);
	CHECK(rc == 0 && ip == ip4(198, 18, 1, 1) && cnt == 64,
	      "a range of 64: %s", rc < 0 ? msg : "");
	ip4_str(ip4(10, 0, 0, 1), a, sizeof(a));
	rc = sp_val_ip_range(a, &ip, &cnt, msg);
	CHECK(rc == 0 && ip == ip4(10, 0, 0, 1), "a private address: %s",
	      rc < 0 ? msg : "");
}

/* --shard I/N and --start-at's instants. */
static void
test_shard_values(void)
{
	static const char *const bad_shards[] = {
		"", "1", "/3", "1/", "3/3", "4/3", "0/0", "-1/3", "1/-3",
		"1/3x", " 1/3", "1 /3", "1/ 3", "0x1/3", "1/65537", "a/b",
	};
	static const struct {
		const char *s;
		uint64_t ms;
	} good[] = {
		{ "1970-01-01T00:00:00Z", 0 },
		{ "2000-01-01T00:00:00Z", UINT64_C(946684800000) },
		{ "2026-12-07T15:00:00Z", UINT64_C(1796655600000) },
		{ "2026-12-07t15:00:00z", UINT64_C(1796655600000) },
		{ "2026-12-07 15:00:00Z", UINT64_C(1796655600000) },
		{ "2026-12-07T16:00:00+01:00", UINT64_C(1796655600000) },
		{ "2026-12-07T14:30:00-00:30", UINT64_C(1796655600000) },
		{ "2026-12-07T15:00:00.25Z", UINT64_C(1796655600250) },
		{ "2026-12-07T15:00:00.123456789Z", UINT64_C(1796655600123) },
		{ "1796655600", UINT64_C(1796655600000) },
		{ "@1796655600", UINT64_C(1796655600000) },
		{ "1796655600.5", UINT64_C(1796655600500) },
	};
	static const char *const bad_times[] = {
		"", "now", "2026-12-07T15:00:00", "2026-12-07", "2026-13-07T15:00:00Z",
		"2026-12-07T24:00:00Z", "2026-12-07T15:60:00Z",
		"2026-12-07T15:00:00+1:00", "2026-12-07T15:00:00Zx",
		"2026-12-07T15:00:00.Z", "1796655600.", "1796655600s",
		"-1796655600", "1e9", "1796655600.5.5", "12345678901234",
		"1969-12-31T23:59:59Z",
	};
	char msg[SP_VAL_WHY];
	uint32_t i, n;
	uint64_t ms;

	CHECK(sp_val_shard("0/1", &i, &n, msg) == 0 && i == 0 && n == 1);
	CHECK(sp_val_shard("2/3", &i, &n, msg) == 0 && i == 2 && n == 3);
	CHECK(sp_val_shard("65535/65536", &i, &n, msg) == 0 && i == 65535 &&
	      n == 65536);
	for (size_t k = 0; k < sizeof(bad_shards) / sizeof(bad_shards[0]);
	     k++)
		CHECK(sp_val_shard(bad_shards[k], &i, &n, msg) < 0 &&
			      strstr(msg, "'") != NULL,
		      "--shard '%s' taken", bad_shards[k]);
	for (size_t k = 0; k < sizeof(good) / sizeof(good[0]); k++) {
		int rc = sp_val_instant_ms(good[k].s, &ms, msg);

		CHECK(rc == 0 && ms == good[k].ms,
		      "'%s': %s %" PRIu64 " want %" PRIu64, good[k].s,
		      rc < 0 ? msg : "", rc < 0 ? 0 : ms, good[k].ms);
	}
	for (size_t k = 0; k < sizeof(bad_times) / sizeof(bad_times[0]); k++)
		CHECK(sp_val_instant_ms(bad_times[k], &ms, msg) < 0,
		      "'%s' taken as %" PRIu64, bad_times[k], ms);
	CHECK(sp_val_instant_ms("2026-12-07T15:00:00", &ms, msg) < 0 &&
	      strstr(msg, "no time zone") != NULL);
}

/* The fake system resolver: knows one name, counts its calls. */
static int fake_calls;

static int
fake_resolver(const char *name, uint32_t *ip, char *why, size_t len)
{
	fake_calls++;
	if (strcmp(name, "known.test") == 0) {
		*ip = ip4(198, 18, 0, 9);
		return 0;
	}
	if (strcmp(name, "lo.test") == 0) {
		*ip = ip4(127, 0, 0, 1);
		return 0;
	}
	snprintf(why, len, "Name or service not known");
	return -1;
}

/* Host names in targets: the Host header as written, resolve entries
 * before the system resolver, the last entry winning, errors naming the
 * name. */
static void
test_names(void)
{
	struct sp_scenario_err e = { { 0 } };
	struct sp_run_plan pl;
	int rc;

	{
		const char *kv[] = { "url", "http://App.Internal:8080/x" };

		rc = over(&pl, NULL, kv, 1, &e);
		CHECK(rc == 0 &&
			      strcmp(pl.eng.host, "App.Internal:8080") == 0 &&
			      strcmp(pl.target_name, "App.Internal") == 0 &&
			      pl.eng.dst_ip == 0 && pl.eng.dst_port == 8080,
		      "a name: host '%s': %s", rc == 0 ? pl.eng.host : "",
		      e.msg);
		fake_calls = 0;
		rc = sp_scenario_resolve(&pl, fake_resolver, &e);
		CHECK(rc < 0 && fake_calls == 1 &&
			      strcmp(e.msg,
				     "target: cannot resolve 'App.Internal': Name "
				     "or service not known (--resolve App.Internal:ADDR "
				     "gives its address)") == 0,
		      "unresolvable: %s", e.msg);
		sp_scenario_free(&pl);
	}
	{
		const char *kv[] = { "url", "http://app.internal:80/",
				     "resolve", "APP.internal:198.18.0.3" };

		rc = over(&pl, NULL, kv, 2, &e);
		CHECK(rc == 0 && strcmp(pl.eng.host, "app.internal") == 0,
		      "port 80 is left out of Host: '%s'",
		      rc == 0 ? pl.eng.host : e.msg);
		fake_calls = 0;
		rc = sp_scenario_resolve(&pl, fake_resolver, &e);
		CHECK(rc == 0 && fake_calls == 0 &&
			      pl.eng.dst_ip == ip4(198, 18, 0, 3),
		      "--resolve, any case, no system lookup: %x %s",
		      pl.eng.dst_ip, e.msg);
		sp_scenario_free(&pl);
	}
	{
		/* The file's map, then the command line's entries: the last
		 * that matches the name and the port wins. */
		static const char yaml[] =
			"target: http://app.internal:8080\n"
			"resolve:\n"
			"  app.internal: 198.18.0.4\n"
			"  \"app.internal:9999\": 198.18.0.5\n"
			"  other: 198.18.0.6\n"
			"load: {vus: 1, duration: 1s}\n"
			"scenarios: [{name: a, steps: [request: {path: /}]}]\n";
		const char *kv1[] = { "vus", "1" };
		const char *kv2[] = { "resolve", "app.internal:8080:198.18.0.7",
				      "resolve", "app.internal:7:198.18.0.8" };

		rc = over(&pl, yaml, kv1, 1, &e);
		fake_calls = 0;
		CHECK(rc == 0 &&
			      sp_scenario_resolve(&pl, fake_resolver, &e) ==
				      0 &&
			      fake_calls == 0 &&
			      pl.eng.dst_ip == ip4(198, 18, 0, 4),
		      "the file's resolve: map: %x %s", pl.eng.dst_ip, e.msg);
		sp_scenario_free(&pl);
		rc = over(&pl, yaml, kv2, 2, &e);
		CHECK(rc == 0 &&
			      sp_scenario_resolve(&pl, fake_resolver, &e) ==
				      0 &&
			      pl.eng.dst_ip == ip4(198, 18, 0, 7),
		      "--resolve NAME:PORT:ADDR wins over the file: %x %s",
		      pl.eng.dst_ip, e.msg);
		sp_scenario_free(&pl);
	}
	{
		const char *kv[] = { "url", "http://known.test/" };

		rc = over(&pl, NULL, kv, 1, &e);
		fake_calls = 0;
		CHECK(rc == 0 &&
			      sp_scenario_resolve(&pl, fake_resolver, &e) ==
				      0 &&
			      fake_calls == 1 &&
			      pl.eng.dst_ip == ip4(198, 18, 0, 9),
		      "the system resolver, once: %d calls, %s", fake_calls,
		      e.msg);
		sp_scenario_free(&pl);
	}
	{
		const char *kv[] = { "url", "http://lo.test/" };

		rc = over(&pl, NULL, kv, 1, &e);
		CHECK(rc == 0 &&
			      sp_scenario_resolve(&pl, fake_resolver, &e) < 0 &&
			      strcmp(e.msg,
				     "target: 'lo.test' resolves to 127.0.0.1, "
				     "which is a loopback address (127.0.0.0/8): stampede "
				     "sends through its own port, which never reaches "
				     "the kernel's loopback") == 0,
		      "a name of a loopback address: %s", e.msg);
		sp_scenario_free(&pl);
	}
	{
		/* An address target never asks the resolver. */
		const char *kv[] = { "url", "http://198.18.0.2:81/", "resolve",
				     "198.18.0.2:198.18.0.3" };

		rc = over(&pl, NULL, kv, 1, &e);
		fake_calls = 0;
		CHECK(rc == 0 &&
			      sp_scenario_resolve(&pl, fake_resolver, &e) ==
				      0 &&
			      fake_calls == 0 &&
			      pl.eng.dst_ip == ip4(198, 18, 0, 2) &&
			      pl.target_name == NULL &&
			      strcmp(pl.eng.host, "198.18.0.2:81") == 0,
		      "an address: %s", e.msg);
		sp_scenario_free(&pl);
		rc = over(&pl, NULL, kv, 2, &e);
		CHECK(rc < 0 &&
			      strstr(e.msg, "is not an IPv4 address (A.B.C.D)"),
		      "--resolve of an address: %s", e.msg);
		sp_scenario_free(&pl);
	}
}

/* Host and User-Agent from a request's headers: Host goes first and
 * replaces the target's; User-Agent replaces the default, empty removes
 * it. */
static void
test_host_ua(void)
{
	static const char yaml[] = T
		"load: {vus: 1, duration: 1s}\n"
		"scenarios:\n"
		"  - name: a\n"
		"    steps:\n"
		"      - request: {path: /1, headers: {X-A: x, host: \"v{{vu}}.test\"}}\n"
		"      - request: {path: /2, headers: {User-Agent: curl/8, X-B: y}}\n"
		"      - request: {path: /3, headers: {user-agent: \"\"}}\n"
		"      - request: {path: /4}\n";
	struct sp_scenario_err e = { { 0 } };
	const struct sp_request *r;
	struct sp_run_plan pl;
	int rc = load(&pl, yaml, &e);

	CHECK(rc == 0 && pl.eng.nrequests == 4, "load: %s", e.msg);
	if (rc == 0 && pl.eng.nrequests == 4) {
		r = &pl.eng.requests[0];
		CHECK(r->own_host && !r->own_ua &&
			      tpl_is(&r->headers, "host: v.test\r\nX-A: x\r\n",
				     3),
		      "Host first, templated: '%.*s'", (int)r->headers.text_len,
		      r->headers.text);
		r = &pl.eng.requests[1];
		CHECK(!r->own_host && r->own_ua &&
			      tpl_is(&r->headers,
				     "User-Agent: curl/8\r\nX-B: y\r\n", 1),
		      "User-Agent of its own: '%.*s'", (int)r->headers.text_len,
		      r->headers.text);
		r = &pl.eng.requests[2];
		CHECK(!r->own_host && r->own_ua && r->headers.text_len == 0,
		      "empty User-Agent: none at all: '%.*s'",
		      (int)r->headers.text_len, r->headers.text);
		r = &pl.eng.requests[3];
		CHECK(!r->own_host && !r->own_ua, "defaults");
	}
	sp_scenario_free(&pl);
}

/* https targets: 443 by default and left out of Host, SNI from the name
 * (none for an address, or tls.server_name), the tls: keys, a relative
 * path from the file's directory, the command line over the file. */
static void
test_https(void)
{
	struct sp_scenario_err e = { { 0 } };
	struct sp_run_plan pl;
	char want[700];
	int rc;

	write_file("ca.pem", "not parsed here\n");
	rc = load(&pl,
		  "target: https://App.Test\n"
		  "tls: {ca: ca.pem, resume: none, verify: false,\n"
		  "      engine: openssl}\n" S OK_STEP,
		  &e);
	snprintf(want, sizeof(want), "%s/ca.pem", tmpdir);
	CHECK(rc == 0, "https: %s", e.msg);
	CHECK(pl.tls.on && pl.eng.dst_port == 443 &&
		      strcmp(pl.eng.host, "App.Test") == 0 &&
		      strcmp(pl.eng.peer_name, "App.Test") == 0 &&
		      pl.tls.ca != NULL && strcmp(pl.tls.ca, want) == 0 &&
		      pl.tls.resume == SP_RUN_RESUME_NONE && pl.tls.insecure &&
		      pl.tls.engine != NULL &&
		      strcmp(pl.tls.engine, "openssl") == 0,
	      "https: the plan");
	sp_scenario_free(&pl);

	rc = load(&pl, "target: https://198.18.0.2:8443\n" S OK_STEP, &e);
	CHECK(rc == 0 && pl.tls.on && pl.eng.dst_port == 8443 &&
		      strcmp(pl.eng.host, "198.18.0.2:8443") == 0 &&
		      pl.eng.peer_name == NULL && !pl.tls.insecure &&
		      pl.tls.resume == SP_RUN_RESUME_SESSION &&
		      pl.tls.engine == NULL,
	      "https address: no name to send (and the default engine)");
	sp_scenario_free(&pl);

	rc = load(&pl, "target: http://198.18.0.2:443\n" S OK_STEP, &e);
	CHECK(rc == 0 && !pl.tls.on &&
		      strcmp(pl.eng.host, "198.18.0.2:443") == 0,
	      "http on 443 is still http, its port in Host");
	sp_scenario_free(&pl);

	{
		const char *kv[] = { "tls-server-name", "api.test",
				     "tls-resume",      "ticket",
				     "insecure",        "1",
				     "tls-engine",      "mbedtls" };

		write_file("f.yaml",
			   "target: https://198.18.0.2\n"
			   "tls: {resume: none, engine: openssl}\n" S OK_STEP);
		sp_scenario_init(&pl);
		rc = sp_scenario_load(&pl, path, &e);
		for (size_t i = 0; rc == 0 && i < 8; i += 2)
			rc = sp_scenario_set(&pl, kv[i], kv[i + 1], &e);
		if (rc == 0)
			rc = sp_scenario_finish(&pl, &e);
		CHECK(rc == 0 && strcmp(pl.eng.peer_name, "api.test") == 0 &&
			      pl.tls.resume == SP_RUN_RESUME_TICKET &&
			      pl.tls.insecure && pl.tls.engine != NULL &&
			      strcmp(pl.tls.engine, "mbedtls") == 0,
		      "https overrides: %s", e.msg);
		sp_scenario_free(&pl);
	}
}

/* ---- WebSocket ---- */

static const char ws_yaml[] =
	"target: ws://198.18.0.2:8090\n"
	"ws: {max_message: 64KiB, ping_every: 30s}\n"
	"load:\n"
	"  vus: 2\n"
	"  vu_offset: 100\n"
	"scenarios:\n"
	"  - name: chat\n"
	"    steps:\n"
	"      - request: {method: POST, path: /register, body: \"u={{vu}}\"}\n"
	"      - loop:\n"
	"          count: 2\n"
	"          steps:\n"
	"            - ws:\n"
	"                path: /chat/{{random 1 20}}\n"
	"                headers: { Cookie: \"session=u{{vu}}\" }\n"
	"                subprotocols: [chat, superchat]\n"
	"                steps:\n"
	"                  - send: { text: '{\"type\":\"join\",\"user\":\"u{{vu}}\"}' }\n"
	"                  - expect: { contains: '\"joined\"', timeout: 2s }\n"
	"                  - loop:\n"
	"                      count: 20\n"
	"                      steps:\n"
	"                        - send: { text: 'hi {{iteration}}', measure: true, name: hello }\n"
	"                        - expect: { regex: 'h+i', count: 2 }\n"
	"                        - think: { min: 100ms, max: 1s }\n"
	"                  - send: { binary: { size: 4k }, every: 100ms, count: 50 }\n"
	"                  - send: { binary: 'raw{{vu}}' }\n"
	"                  - listen: 5s\n"
	"                  - listen: { duration: 1s, name: quiet }\n"
	"                  - ping:\n"
	"                  - ping: 'p{{vu}}'\n"
	"                  - expect:\n"
	"                  - close: { code: 4000, reason: bye }\n"
	"      - ws: { path: /echo, name: echo }\n"
	"thresholds:\n"
	"  - ws.rtt.p(99) < 50ms\n"
	"  - ws.errors < 1%\n"
	"  - 'request:echo p(95) < 1s'\n";

/* The flattened layout sp_plan.h describes: the upgrade REQUEST, the
 * block's steps, WS_END naming the upgrade's step; loops nest as
 * anywhere. */
static void
test_ws_layout(void)
{
	static const uint8_t kinds[] = {
		SP_STEP_REQUEST,   SP_STEP_LOOP,      SP_STEP_REQUEST,
		SP_STEP_WS_SEND,   SP_STEP_WS_EXPECT, SP_STEP_LOOP,
		SP_STEP_WS_SEND,   SP_STEP_WS_EXPECT, SP_STEP_THINK,
		SP_STEP_LOOP_END,  SP_STEP_WS_SEND,   SP_STEP_WS_SEND,
		SP_STEP_WS_LISTEN, SP_STEP_WS_LISTEN, SP_STEP_WS_PING,
		SP_STEP_WS_PING,   SP_STEP_WS_EXPECT, SP_STEP_WS_CLOSE,
		SP_STEP_WS_END,    SP_STEP_LOOP_END,  SP_STEP_REQUEST,
		SP_STEP_WS_END,
	};
	struct sp_scenario_err e = { { 0 } };
	const struct sp_ws_step *w;
	const struct sp_request *r;
	const struct sp_step *st;
	struct sp_run_plan pl;
	int rc, ok = 1;

	rc = load(&pl, ws_yaml, &e);
	CHECK(rc == 0, "ws: %s", e.msg);
	if (rc < 0) {
		sp_scenario_free(&pl);
		return;
	}
	CHECK(pl.eng.dst_port == 8090 && !pl.tls.on &&
		      strcmp(pl.scheme, "ws") == 0 &&
		      strcmp(pl.eng.host, "198.18.0.2:8090") == 0,
	      "ws://: plain TCP, the port given");
	CHECK(pl.nthresholds == 3 && pl.thresholds[2].idx == 2 &&
		      pl.thresholds[0].phase == SP_TH_WS_RTT,
	      "ws thresholds, and the upgrade's name as a request scope");
	CHECK(pl.eng.ws_max_message == 65536 &&
		      pl.eng.ws_ping_every_us == 30 * 1000000ull &&
		      pl.eng.vu_offset == 100,
	      "ws settings and vu_offset: %llu %llu %llu",
	      (unsigned long long)pl.eng.ws_max_message,
	      (unsigned long long)pl.eng.ws_ping_every_us,
	      (unsigned long long)pl.eng.vu_offset);
	st = pl.eng.scenarios[0].steps;
	CHECK(pl.eng.scenarios[0].nsteps == sizeof(kinds),
	      "ws: %u steps, want %zu", pl.eng.scenarios[0].nsteps,
	      sizeof(kinds));
	for (size_t i = 0; i < sizeof(kinds) && i < pl.eng.scenarios[0].nsteps;
	     i++)
		ok &= st[i].kind == kinds[i];
	CHECK(ok, "ws: the step kinds in order");
	if (!ok || pl.eng.scenarios[0].nsteps != sizeof(kinds)) {
		sp_scenario_free(&pl);
		return;
	}
	CHECK(pl.eng.nrequests == 3 && pl.eng.nws_steps == 12,
	      "ws: %u requests, %u ws steps", pl.eng.nrequests,
	      pl.eng.nws_steps);
	CHECK(st[1].end == 19 && st[19].begin == 1 && st[5].end == 9 &&
		      st[9].begin == 5 && st[5].depth == 1 && st[5].count == 20,
	      "ws: loops around and inside the block");
	CHECK(st[2].req == 1 && st[18].req == 2 && st[20].req == 2 &&
		      st[21].req == 20,
	      "ws: WS_END names its upgrade's step (%u, %u)", st[18].req,
	      st[21].req);
	for (uint32_t i = 3, k = 0; i < 18; i++)
		if (st[i].kind >= SP_STEP_WS_SEND)
			ok &= st[i].ws == k++;
	CHECK(ok, "ws: each WS step its own ws_steps entry, in order");
	r = &pl.eng.requests[1];
	CHECK(r->ws_upgrade && r->method == SP_METHOD_GET &&
		      strcmp(r->name, "WS /chat/{{random 1 20}}") == 0 &&
		      strcmp(r->ws_subprotocols, "chat, superchat") == 0 &&
		      r->path.nparts == 2 &&
		      strncmp(r->headers.text, "Cookie: session=u", 17) == 0,
	      "ws: the upgrade request");
	{
		unsigned n = 0;

		for (unsigned c = 0; c < SP_PLAN_MAX_STATUS; c++)
			n += (unsigned)(r->expect_set[c / 64] >> (c % 64) & 1);
		CHECK(n == 1 && (r->expect_set[1] >> (101 - 64) & 1),
		      "ws: the upgrade expects 101 only (%u codes)", n);
	}
	CHECK(!pl.eng.requests[0].ws_upgrade &&
		      pl.eng.requests[0].expect_set[3] != 0,
	      "ws: a plain request keeps 100-399");
	r = &pl.eng.requests[2];
	CHECK(r->ws_upgrade && strcmp(r->name, "echo") == 0 &&
		      r->ws_subprotocols == NULL,
	      "ws: a block with no steps");
	w = pl.eng.ws_steps;
	CHECK(w[0].data == SP_WS_TEXT && !w[0].measure &&
		      w[0].send_count == 1 && w[0].every_us == 0 &&
		      strcmp(w[0].name, "send text") == 0 &&
		      w[0].msg.nparts == 3,
	      "ws: send text, a template");
	CHECK(w[1].expect_count == 1 && w[1].contains_len == 8 &&
		      memcmp(w[1].contains, "\"joined\"", 8) == 0 &&
		      w[1].contains_kmp != NULL && w[1].regex == NULL &&
		      w[1].timeout_us == 2 * 1000000ull,
	      "ws: expect contains, its timeout");
	CHECK(w[2].measure && strcmp(w[2].name, "hello") == 0,
	      "ws: measure, name");
	CHECK(w[3].expect_count == 2 && strcmp(w[3].regex, "h+i") == 0 &&
		      w[3].contains == NULL &&
		      w[3].timeout_us == pl.eng.response_timeout_us,
	      "ws: expect regex, count, the response timeout");
	CHECK(w[4].data == SP_WS_BINARY && w[4].pattern_size == 4096 &&
		      w[4].msg.nparts == 0 && w[4].send_count == 50 &&
		      w[4].every_us == 100000 &&
		      strcmp(w[4].name, "send binary") == 0,
	      "ws: binary pattern, paced");
	CHECK(w[5].data == SP_WS_BINARY && w[5].pattern_size == 0 &&
		      w[5].msg.nparts == 2,
	      "ws: binary template");
	CHECK(w[6].listen_us == 5 * 1000000ull &&
		      w[7].listen_us == 1000000ull &&
		      strcmp(w[7].name, "quiet") == 0 &&
		      strcmp(w[6].name, "listen") == 0,
	      "ws: listen");
	CHECK(w[8].msg.nparts == 0 && w[9].msg.nparts == 2 &&
		      strcmp(w[9].name, "ping") == 0,
	      "ws: ping with and without a payload");
	CHECK(w[10].expect_count == 1 && w[10].contains == NULL &&
		      w[10].regex == NULL &&
		      w[10].timeout_us == pl.eng.response_timeout_us,
	      "ws: an empty expect takes any message");
	CHECK(w[11].close_code == 4000 &&
		      strcmp(w[11].close_reason, "bye") == 0,
	      "ws: close code and reason");
	sp_scenario_free(&pl);

	/* Defaults: 1 MiB, no pings, {{vu}} from 1; wss:// is TLS. */
	rc = load(&pl,
		  "target: wss://chat.test\n" S
		  "      - ws: {path: /, steps: [close: ]}\n",
		  &e);
	CHECK(rc == 0 && pl.tls.on && pl.eng.dst_port == 443 &&
		      strcmp(pl.scheme, "wss") == 0 &&
		      strcmp(pl.eng.peer_name, "chat.test") == 0 &&
		      pl.eng.ws_max_message == 1048576 &&
		      pl.eng.ws_ping_every_us == 0 && pl.eng.vu_offset == 0 &&
		      pl.eng.ws_steps[0].close_code == 1000 &&
		      pl.eng.ws_steps[0].close_reason == NULL,
	      "wss:// and the defaults: %s", e.msg);
	sp_scenario_free(&pl);
}

/* expect's contains: literal text (its KMP table made at load), a
 * template (the engine renders it per VU), a template of no variable
 * ({{env}} only: literal), a bound of exactly 4 KiB. */
static void
test_ws_contains(void)
{
	struct sp_scenario_err e = { { 0 } };
	const struct sp_ws_step *w;
	struct sp_run_plan pl;
	int rc;

	setenv("SP_TEST_WSC", "XY", 1);
	rc = load(&pl,
		  T "capture_max: 4KiB\n" S
		  "      - request: {path: /login, capture: {tok: {header: "
		  "X-Token}}}\n"
		  "      - ws:\n"
		  "          path: /\n"
		  "          steps:\n"
		  "            - expect: {contains: '\"user\":\"loadtest{{vu}}\"'}\n"
		  "            - expect: {contains: '{{tok}}'}\n"
		  "            - expect: {contains: 'abab'}\n"
		  "            - expect: {contains: 'a{{env SP_TEST_WSC}}a'}\n",
		  &e);
	CHECK(rc == 0, "ws contains: %s", e.msg);
	if (rc < 0) {
		sp_scenario_free(&pl);
		return;
	}
	CHECK(pl.eng.nws_steps == 4, "ws contains: %u steps", pl.eng.nws_steps);
	w = pl.eng.ws_steps;
	CHECK(w[0].contains == NULL && w[0].contains_kmp == NULL &&
		      w[0].contains_tpl.nparts == 3 &&
		      w[0].contains_tpl.parts[1].var == SP_VAR_VU &&
		      w[0].contains_tpl.ctx == SP_TPL_BODY &&
		      tpl_is(&w[0].contains_tpl, "\"user\":\"loadtest\"", 3),
	      "ws contains: {{vu}} a template");
	CHECK(w[1].contains == NULL && w[1].contains_tpl.nparts == 1 &&
		      w[1].contains_tpl.parts[0].var == SP_VAR_CAPTURE &&
		      sp_tpl_part_max(pl.eng.data, pl.eng.var_max,
				      &w[1].contains_tpl.parts[0]) == 4096,
	      "ws contains: a captured variable, 4 KiB at most (accepted)");
	CHECK(w[2].contains_tpl.nparts == 0 && w[2].contains_len == 4 &&
		      memcmp(w[2].contains, "abab", 4) == 0 &&
		      w[2].contains_kmp[1] == 0 && w[2].contains_kmp[2] == 1 &&
		      w[2].contains_kmp[3] == 2,
	      "ws contains: a literal, its KMP table made at load");
	CHECK(w[3].contains_tpl.nparts == 0 && w[3].contains_len == 4 &&
		      memcmp(w[3].contains, "aXYa", 4) == 0 &&
		      w[3].contains_kmp[3] == 1,
	      "ws contains: {{env}} only: a literal");
	sp_scenario_free(&pl);
	unsetenv("SP_TEST_WSC");
}

/* Sizes (ws.max_message, binary: {size: N}): binary units. */
static void
test_sizes(void)
{
	static const struct {
		const char *s;
		uint64_t v;
	} good[] = {
		{ "125", 125 },  { "4k", 4096 },        { "4KiB", 4096 },
		{ "4kb", 4096 }, { "1 MiB", 1u << 20 }, { "2G", 2ull << 30 },
		{ "0", 0 },      { "1b", 1 },
	};
	static const char *const bad_sizes[] = { "",    "k",  "1.5m", "1 ",
						 "1tb", "-1", "1kk",  "1 k b" };
	char why[SP_VAL_WHY];
	uint64_t v;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		CHECK(sp_val_size(good[i].s, UINT64_MAX, &v, why) == 0 &&
			      v == good[i].v,
		      "size '%s'", good[i].s);
	for (size_t i = 0; i < sizeof(bad_sizes) / sizeof(bad_sizes[0]); i++)
		CHECK(sp_val_size(bad_sizes[i], UINT64_MAX, &v, why) < 0 &&
			      strstr(why, "is not a size") != NULL,
		      "size '%s' refused: %s", bad_sizes[i], why);
	CHECK(sp_val_size("2k", 2047, &v, why) < 0 &&
		      strcmp(why, "'2k' is larger than 2047 bytes") == 0,
	      "size over the bound: %s", why);
	CHECK(sp_val_size("99999999999999999999", UINT64_MAX, &v, why) < 0,
	      "size: overflow refused");
	CHECK(sp_val_size("17179869184g", UINT64_MAX, &v, why) < 0,
	      "size: overflow by the unit refused");
}

/* A bare ws:// URL: open, 100 times send and wait for the echo, close. */
static void
test_ws_url(void)
{
	struct sp_scenario_err e = { { 0 } };
	const struct sp_step *st;
	struct sp_run_plan pl;
	int rc;

	{
		const char *kv[] = { "url", "ws://198.18.0.2:8090/echo",
				     "vu-offset", "1000" };

		rc = over(&pl, NULL, kv, 2, &e);
	}
	CHECK(rc == 0, "--url ws://: %s", e.msg);
	if (rc == 0) {
		st = pl.eng.scenarios[0].steps;
		CHECK(pl.eng.scenarios[0].nsteps == 6 &&
			      st[0].kind == SP_STEP_REQUEST &&
			      st[1].kind == SP_STEP_LOOP &&
			      st[1].count == 100 && st[1].end == 4 &&
			      st[2].kind == SP_STEP_WS_SEND &&
			      st[3].kind == SP_STEP_WS_EXPECT &&
			      st[4].kind == SP_STEP_LOOP_END &&
			      st[4].begin == 1 &&
			      st[5].kind == SP_STEP_WS_END && st[5].req == 0,
		      "--url ws://: the echo loop's layout");
		CHECK(pl.eng.nrequests == 1 && pl.eng.requests[0].ws_upgrade &&
			      strcmp(pl.eng.requests[0].name, "WS /echo") ==
				      0 &&
			      pl.eng.nws_steps == 2 &&
			      pl.eng.ws_steps[0].measure &&
			      pl.eng.ws_steps[0].data == SP_WS_TEXT &&
			      pl.eng.ws_steps[1].expect_count == 1 &&
			      pl.eng.ws_steps[1].timeout_us ==
				      pl.eng.response_timeout_us &&
			      pl.eng.vu_offset == 1000 && !pl.tls.on,
		      "--url ws://: the upgrade and its two steps");
	}
	sp_scenario_free(&pl);
	{
		const char *kv[] = { "url",
				     "wss://198.18.0.2/",
				     "insecure",
				     "1",
				     "ws-max-message",
				     "2m",
				     "ws-ping-every",
				     "250ms" };

		rc = over(&pl, NULL, kv, 4, &e);
	}
	CHECK(rc == 0 && pl.tls.on && pl.tls.insecure &&
		      pl.eng.dst_port == 443 &&
		      pl.eng.ws_max_message == 2u << 20 &&
		      pl.eng.ws_ping_every_us == 250000 &&
		      strcmp(pl.eng.requests[0].name, "WS /") == 0,
	      "--url wss://, --ws-*: %s", e.msg);
	sp_scenario_free(&pl);
	{
		/* The command line's settings over the file's. */
		const char *kv[] = { "ws-max-message", "100", "vu-offset",
				     "7" };

		rc = over(&pl, ws_yaml, kv, 2, &e);
	}
	CHECK(rc == 0 && pl.eng.ws_max_message == 100 &&
		      pl.eng.vu_offset == 7 &&
		      pl.eng.ws_ping_every_us == 30 * 1000000ull,
	      "--ws-max-message, --vu-offset over the file: %s", e.msg);
	sp_scenario_free(&pl);
	{
		const char *kv[][4] = {
			{ "url", "http://198.18.0.2/", "ws-ping-every", "1s" },
			{ "url", "ws://198.18.0.2/", "ws-max-message", "1x" },
			{ "url", "ws://198.18.0.2/", "ws-max-message", "0" },
			{ "url", "ws://198.18.0.2/", "vu-offset", "-1" },
			{ "url", "ws://198.18.0.2/", "tls-resume", "none" },
			{ "url", "wss://198.18.0.2/", "ws-max-message", "2g" },
		};
		static const char *const msgs[] = {
			"ws.ping_every is given but no scenario has a ws: step",
			"--ws-max-message: '1x' is not a size",
			"--ws-max-message: '0': a limit of 0 takes no message",
			"--vu-offset: '-1' is not a whole number",
			("tls settings are given but the target is ws://, "
			 "not wss://"),
			"--ws-max-message: '2g' is larger than 1073741824 bytes",
		};

		for (size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++) {
			rc = over(&pl, NULL, kv[i], 2, &e);
			CHECK(rc < 0 && strncmp(e.msg, msgs[i],
						strlen(msgs[i])) == 0,
			      "ws cli[%zu]: got '%s', want '%s'", i, e.msg,
			      msgs[i]);
			sp_scenario_free(&pl);
		}
	}
}

/* ---- per-scenario loads ---- */

/* Scenarios a, b and c (steps on lines 4, 7, 10 with T): @la, @lb, @lc
 * their load lines ("" for none), each one line. */
#define L3(la, lb, lc)                                                         \
	"scenarios:\n  - name: a\n" la OK_STEP4 "  - name: b\n" lb OK_STEP4    \
	"  - name: c\n" lc OK_STEP4
#define OK_STEP4 "    steps: [{request: {path: /}}]\n"

static const struct {
	const char *yaml;
	const char *msg; /* after "DIR/f.yaml:" */
} bad_load[] = {
	{ T S OK_STEP
	  "  - name: b\n    load: {rate: 5, model: closed}\n" OK_STEP4,
	  "7:18: rate: the closed model has no arrival rate" },
	{ T S OK_STEP "  - name: b\n    load: {model: open, vus: 3}\n" OK_STEP4,
	  "7:30: vus: the open model starts iterations" },
	{ T S OK_STEP "  - name: b\n    load: {vus: 3, max_vus: 9}\n" OK_STEP4,
	  "7:29: max_vus: only the open model has it" },
	{ T S OK_STEP "  - name: b\n    load: {vus: 3, rate: 9}\n" OK_STEP4,
	  "7:26: rate: give vus (closed model) or rate" },
	{ T S OK_STEP "  - name: b\n    load: {duration: 3s}\n" OK_STEP4,
	  "7:11: load: give vus (closed model), rate (open model) or stages" },
	{ T S OK_STEP "  - name: b\n    load: {vus: 2, duration: 1s, "
		      "stages: \"1s:3\"}\n" OK_STEP4,
	  "7:30: duration: give either duration or stages, not both" },
	{ T S OK_STEP "  - name: b\n    load: {stages: \"1s:1.5\"}\n" OK_STEP4,
	  "7:20: stages: a closed model's targets are VU counts" },
	{ T S OK_STEP "  - name: b\n    load: {vus: 1}\n    vus: 2\n" OK_STEP4,
	  "8:10: vus: give vus (short for load: {vus: N}) or load" },
	{ T S OK_STEP "  - name: b\n    vus: 0\n" OK_STEP4, "7:10: vus: " },
	{ T S OK_STEP "  - name: b\n    load: {vus: 1, begin: 1s}\n" OK_STEP4,
	  "7:20: unknown key 'begin' in load" },
	/* Cross-checks at finish still name the node. */
	{ T "load: {vus: 1, duration: 10s}\n" S OK_STEP
	    "  - name: b\n    load: {vus: 2, start: 10s}\n" OK_STEP4,
	  "8:27: scenario 'b': start: 10.000s is at or after the run's end" },
	{ T "load: {duration: 10s}\n" S OK_STEP
	    "  - name: b\n    load: {vus: 2, start: 1m}\n" OK_STEP4,
	  "8:27: scenario 'b': start: 60.000s is at or after" },
	{ T "load: {vus: 1, duration: 10s}\n" S OK_STEP
	    "  - name: b\n    load: {vus: 6000000}\n" OK_STEP4
	    "  - name: c\n    load: {rate: 1, max_vus: 5000000}\n" OK_STEP4,
	  "the loads need 11000001 VUs together" },
	/* Every scenario has its own: the top-level vus is read by none. */
	{ T "load: {vus: 4}\nscenarios:\n  - name: a\n    vus: 2\n"
	    "    load: {}\n" OK_STEP4,
	  "5:10: vus: give vus (short for" },
	{ T "load: {vus: 4}\nscenarios:\n  - name: a\n    vus: 2\n" OK_STEP4,
	  "load: every scenario that runs has a load of its own" },
	{ T "scenarios:\n  - name: a\n    vus: 2\n" OK_STEP4,
	  "4:10: scenario 'a': load: give it a duration (or stages)" },
};

static void
test_loads(void)
{
	struct sp_scenario_err e = { { 0 } };
	struct sp_run_plan pl;
	const struct sp_scenario *sc;
	char want[600];

	for (size_t i = 0; i < sizeof(bad_load) / sizeof(bad_load[0]); i++) {
		int rc = load(&pl, bad_load[i].yaml, &e);

		snprintf(want, sizeof(want), "%s/f.yaml:%s", tmpdir,
			 bad_load[i].msg);
		if (isdigit((unsigned char)bad_load[i].msg[0]))
			CHECK(rc < 0 && strncmp(e.msg, want, strlen(want)) == 0,
			      "bad_load[%zu]: got '%s', want '%s...'", i, e.msg,
			      want);
		else
			CHECK(rc < 0 && strstr(e.msg, bad_load[i].msg) != NULL,
			      "bad_load[%zu]: got '%s', want '...%s'", i, e.msg,
			      bad_load[i].msg);
		sp_scenario_free(&pl);
	}

	/* A shared load beside two own ones: the run's length is the
	 * top-level one; b runs 10 s from 5 s; c (no duration) to the end;
	 * rp.max_vus is the shared load's. */
	CHECK(load(&pl,
		   T "load: {vus: 3, duration: 30s}\n" L3(
			   "",
			   "    load: {model: open, rate: 50, start: 5s, "
			   "duration: 10s}\n",
			   "    vus: 4\n"),
		   &e) == 0,
	      "shared and own: %s", e.msg);
	sc = pl.eng.scenarios;
	CHECK(sc[0].load == NULL, "line %d", __LINE__);
	CHECK(sc[1].load != NULL && sc[1].load->model == SP_MODEL_OPEN &&
		      sc[1].load->rate == 50 &&
		      sc[1].load->start_us == 5000000 &&
		      sc[1].load->duration_us == 10000000 &&
		      sc[1].load->max_vus == 100,
	      "line %d", __LINE__);
	CHECK(sc[2].load != NULL && sc[2].load->model == SP_MODEL_CLOSED &&
		      sc[2].load->vus == 4 && sc[2].load->max_vus == 4 &&
		      sc[2].load->start_us == 0 &&
		      sc[2].load->duration_us == 30000000,
	      "line %d", __LINE__);
	CHECK(pl.eng.duration_us == 30000000, "line %d", __LINE__);
	CHECK(pl.max_vus == 3, "line %d", __LINE__);
	sp_scenario_free(&pl);

	/* Every scenario with its own load: the run lasts to the latest
	 * end (b's stages: 2 s from 20 s), a closed staged load's peak is
	 * its max_vus, c runs to the end; no shared VUs. */
	CHECK(load(&pl,
		   T L3("    load: {model: open, rate: 10, max_vus: 7, "
			"duration: 5s}\n",
			"    load:\n      start: 20s\n      stages:\n"
			"        - {duration: 1s, target: 6}\n"
			"        - {duration: 1s, target: 2}\n",
			"    vus: 1\n"),
		   &e) == 0,
	      "own only: %s", e.msg);
	sc = pl.eng.scenarios;
	CHECK(pl.eng.duration_us == 22000000, "line %d", __LINE__);
	CHECK(pl.max_vus == 0, "line %d", __LINE__);
	CHECK(sc[0].load->max_vus == 7 && sc[0].load->duration_us == 5000000,
	      "line %d", __LINE__);
	CHECK(sc[1].load->nstages == 2 && sc[1].load->max_vus == 6 &&
		      sc[1].load->duration_us == 2000000,
	      "line %d", __LINE__);
	CHECK(sc[2].load->duration_us == 22000000, "line %d", __LINE__);
	sp_scenario_free(&pl);

	/* A top-level duration bounds them all: b is cut at the run's
	 * end. */
	CHECK(load(&pl,
		   T "load: {duration: 8s}\n" L3(
			   "    vus: 1\n",
			   "    load: {vus: 2, start: 5s, duration: 1m}\n",
			   "    load: {model: open, stages: \"1s:1,1s:3\"}\n"),
		   &e) == 0,
	      "bounded: %s", e.msg);
	sc = pl.eng.scenarios;
	CHECK(pl.eng.duration_us == 8000000, "line %d", __LINE__);
	CHECK(sc[1].load->duration_us == 3000000, "line %d", __LINE__);
	CHECK(sc[2].load->max_vus == 100 && sc[2].load->nstages == 2, "line %d",
	      __LINE__);
	sp_scenario_free(&pl);
}

/* data: as a mapping, its defaults as the plain name's; the identity
 * variables compiled; vu_offset (the file's, --vu-offset) for HTTP. */
static void
test_data_opts(void)
{
	struct sp_scenario_err e = { { 0 } };
	const struct sp_data *d;
	const struct sp_tpl *t;
	struct sp_run_plan pl;
	int rc;

	write_file("users.csv", users_csv);
	rc = load(&pl, T "load: {vus: 2}\n"
			 "data: {file: users.csv, per: vu, order: random, "
			 "unique: true}\n" S OK_STEP,
		  &e);
	d = pl.eng.data;
	CHECK(rc == 0 && d != NULL && d->per == SP_DATA_PER_VU &&
		      d->order == SP_DATA_RANDOM && d->unique &&
		      d->nrows == 2 && strcmp(d->file, "users.csv") == 0,
	      "data: {per: vu, order: random, unique: true}: %s", e.msg);
	sp_scenario_free(&pl);
	rc = load(&pl, T "data: {file: users.csv, per: iteration, unique: "
			 "true}\nload: {vus: 50}\n" S OK_STEP,
		  &e);
	d = pl.eng.data;
	CHECK(rc == 0 && d != NULL && d->per == SP_DATA_PER_ITERATION &&
		      d->order == SP_DATA_SEQUENTIAL && d->unique,
	      "per iteration, unique: fewer rows than VUs is the run's "
	      "business: %s",
	      e.msg);
	sp_scenario_free(&pl);
	rc = load(&pl, T "data: users.csv\n" S OK_STEP, &e);
	d = pl.eng.data;
	CHECK(rc == 0 && d != NULL && d->per == SP_DATA_PER_ITERATION &&
		      d->order == SP_DATA_SEQUENTIAL && !d->unique,
	      "data: FILE: per iteration, sequential: %s", e.msg);
	sp_scenario_free(&pl);

	rc = load(&pl, T "load: {vu_offset: 40}\n" S
		       "      - request: {path: \"/{{uuid}}/{{time_ms | url}}/"
		       "{{random_string 12 | json}}\",\n"
		       "                  headers: {X-Id: \"{{vu}}\"}}\n",
		  &e);
	CHECK(rc == 0, "identity variables: %s", e.msg);
	if (rc == 0) {
		t = &pl.eng.requests[0].path;
		CHECK(t->nparts == 6 && t->parts[1].var == SP_VAR_UUID &&
			      t->parts[1].enc == SP_ENC_URL &&
			      t->parts[3].var == SP_VAR_TIME_MS &&
			      t->parts[5].var == SP_VAR_RANDOM_STRING &&
			      t->parts[5].lo == 12 &&
			      t->parts[5].enc == SP_ENC_JSON,
		      "uuid, time_ms, random_string 12 | json: %u parts",
		      t->nparts);
		CHECK(pl.eng.vu_offset == 40, "vu_offset: in an http file: %llu",
		      (unsigned long long)pl.eng.vu_offset);
	}
	sp_scenario_free(&pl);
	{
		const char *kv[] = { "url", "http://198.18.0.2/u", "vu-offset",
				     "12" };

		rc = over(&pl, NULL, kv, 2, &e);
	}
	CHECK(rc == 0 && pl.eng.vu_offset == 12,
	      "--vu-offset with an http --url: %s", e.msg);
	sp_scenario_free(&pl);
}

int
main(void)
{
	char cmd[600];

	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	setenv("SP_TEST_ENV", "hello", 1);
	unsetenv("SP_TEST_UNSET");
	test_full();
	test_bad();
	test_csv();
	test_overrides();
	test_expect();
	test_filters();
	test_data_opts();
	test_addresses();
	test_names();
	test_host_ua();
	test_https();
	test_ws_layout();
	test_ws_contains();
	test_ws_url();
	test_flows();
	test_sizes();
	test_config();
	test_loads();
	test_shard_values();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
	printf("%d tests, %d failed\n", sp_tests, sp_failed);
	return sp_failed ? 1 : 0;
}
