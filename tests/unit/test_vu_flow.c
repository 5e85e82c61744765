/*
 * User flows in the virtual-user engine (lib/proto/vu.c, vu_capture.c):
 * captures, variables, conditions, the cookie jar, and the lifecycle
 * (setup, teardown, vu_setup, vu_teardown), over a fake stream whose
 * server is a small stateful app: it issues sessions (a cookie) and
 * tokens (JSON), creates items (Location), and answers 401/403 to a
 * request that does not carry what it issued to that user. The app
 * counts what it saw; the engine's counters must agree with it, and no
 * request may reach it with another user's credentials.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc_interpose.h"
#include "sp_check.h"
#include "vu_plan.h"

/* ---- the app ---- */

#define APP_USERS 64
#define APP_ITEMS 4096

static struct {
	uint32_t logins, logouts, unauth, forbidden, posts, gets, deletes;
	uint32_t setups, teardowns, other, load_before_setup,
		load_after_teardown, bad_code;
	uint32_t next_user, next_item;
	int item_owner[APP_ITEMS];
	int logged_in[APP_USERS];
	int setup_fails;      /* /setup answers 500 */
} app;

/* The value of header @name in @head (NUL-ended, "Name: value\r\n"
 * lines), copied to @out; 0 if absent. */
static int
hdr(const char *head, const char *name, char *out, size_t cap)
{
	size_t n = strlen(name);

	for (const char *p = strstr(head, "\r\n"); p != NULL;
	     p = strstr(p + 2, "\r\n")) {
		const char *l = p + 2, *end;

		if (strncasecmp(l, name, n) != 0 || l[n] != ':')
			continue;
		l += n + 1;
		while (*l == ' ')
			l++;
		end = strstr(l, "\r\n");
		if (end == NULL || (size_t)(end - l) >= cap)
			return 0;
		memcpy(out, l, (size_t)(end - l));
		out[end - l] = '\0';
		return 1;
	}
	return 0;
}

/* The user whose session cookie the request carries, or -1. */
static int
app_session(const char *head)
{
	char c[256];
	const char *s;

	if (!hdr(head, "Cookie", c, sizeof(c)) ||
	    (s = strstr(c, "sid=S")) == NULL)
		return -1;
	return atoi(s + 5);
}

/* The user whose token the request carries, or -1. */
static int
app_token(const char *head)
{
	char a[128];

	if (!hdr(head, "Authorization", a, sizeof(a)) ||
	    strncmp(a, "Bearer T", 8) != 0)
		return -1;
	return atoi(a + 8);
}

static void
app_answer(const char *head, char *out, size_t cap)
{
	char m[8], path[256];
	int u;

	if (sscanf(head, "%7s %255s", m, path) != 2) {
		snprintf(out, cap, "HTTP/1.1 400 Bad\r\nContent-Length: 0\r\n\r\n");
		return;
	}
	if (strcmp(path, "/setup") == 0) {
		app.setups++;
		snprintf(out, cap,
			 app.setup_fails ? "HTTP/1.1 500 No\r\n"
					   "Content-Length: 0\r\n\r\n" :
					   "HTTP/1.1 200 OK\r\nContent-Length: "
					   "15\r\n\r\n{\"code\":\"C42\"}\n");
		return;
	}
	if (strncmp(path, "/teardown", 9) == 0) {
		app.teardowns++;
		app.bad_code += strcmp(path, "/teardown?c=C42") != 0;
		snprintf(out, cap, "HTTP/1.1 204 OK\r\n\r\n");
		return;
	}
	if (app.setups == 0)
		app.load_before_setup++;
	if (app.teardowns != 0)
		app.load_after_teardown++;
	if (strcmp(m, "POST") == 0 && strcmp(path, "/login") == 0) {
		u = (int)(app.next_user++ % APP_USERS);
		app.logins++;
		app.logged_in[u] = 1;
		/* The session in a cookie, the token in JSON (a list before
		 * it, a string with escapes, so the path walks past them). */
		snprintf(out, cap,
			 "HTTP/1.1 200 OK\r\nSet-Cookie: sid=S%d; Path=/; "
			 "HttpOnly\r\nSet-Cookie: theme=dark; Path=/admin\r\n"
			 "Content-Length: %d\r\n\r\n"
			 "{\"list\":[1,{\"x\":\"]}\"}],\"data\":{\"note\":"
			 "\"a\\\"b\",\"token\":\"T%02d\"}}",
			 u, 60, u);
		return;
	}
	if (strcmp(m, "POST") == 0 && strcmp(path, "/logout") == 0) {
		u = app_session(head);
		if (u < 0) {
			app.unauth++;
			snprintf(out, cap, "HTTP/1.1 401 No\r\n"
					   "Content-Length: 0\r\n\r\n");
			return;
		}
		app.logouts++;
		app.logged_in[u] = 0;
		snprintf(out, cap, "HTTP/1.1 204 OK\r\nSet-Cookie: sid=; "
				   "Max-Age=0; Path=/\r\n\r\n");
		return;
	}
	if (strcmp(m, "POST") == 0 && strcmp(path, "/items") == 0) {
		u = app_session(head);
		if (u < 0 || !app.logged_in[u]) {
			app.unauth++;
			snprintf(out, cap, "HTTP/1.1 401 No\r\n"
					   "Content-Length: 0\r\n\r\n");
			return;
		}
		app.posts++;
		app.item_owner[app.next_item % APP_ITEMS] = u;
		snprintf(out, cap,
			 "HTTP/1.1 201 Created\r\nLocation: /items/%u\r\n"
			 "Content-Length: 0\r\n\r\n",
			 app.next_item++);
		return;
	}
	if (strncmp(path, "/items/", 7) == 0) {
		unsigned k = (unsigned)atoi(path + 7);

		u = app_token(head);
		if (u < 0) {
			app.unauth++;
			snprintf(out, cap, "HTTP/1.1 401 No\r\n"
					   "Content-Length: 0\r\n\r\n");
			return;
		}
		if (k >= app.next_item || app.item_owner[k % APP_ITEMS] != u) {
			app.forbidden++;
			snprintf(out, cap, "HTTP/1.1 403 No\r\n"
					   "Content-Length: 0\r\n\r\n");
			return;
		}
		if (strcmp(m, "DELETE") == 0) {
			app.deletes++;
			snprintf(out, cap, "HTTP/1.1 204 OK\r\n\r\n");
		} else {
			app.gets++;
			snprintf(out, cap,
				 "HTTP/1.1 200 OK\r\nContent-Length: 30\r\n\r\n"
				 "<html><title>item%05u</title>",
				 k);
		}
		return;
	}
	app.other++;
	snprintf(out, cap, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}");
}

/* ---- the fake stream (fake_stream.h): a head at a time, each answered
 * by the app ---- */

struct fs_srv_conn {
	char head[2048];
	uint32_t nhead, match;
	uint32_t body_left; /* body bytes of the head read, to skip */
	char answer[1024];
	int due;            /* a whole request waits for its answer */
};

#include "fake_stream.h"

static void
srv_sent(struct fs_conn *fc, const uint8_t *p, uint32_t len)
{
	struct fs_srv_conn *c = &fc->srv;

	for (uint32_t i = 0; i < len; i++) {
		if (c->body_left > 0) {
			c->body_left--;
			continue;
		}
		if (c->nhead < sizeof(c->head) - 1)
			c->head[c->nhead++] = (char)p[i];
		c->match = p[i] == "\r\n\r\n"[c->match] ? c->match + 1 :
							 p[i] == '\r';
		if (c->match == 4) {
			char cl[16];

			c->head[c->nhead] = '\0';
			c->match = 0;
			c->body_left = hdr(c->head, "Content-Length", cl,
					   sizeof(cl)) ?
					       (uint32_t)atoi(cl) :
					       0;
			app_answer(c->head, c->answer, sizeof(c->answer));
			c->due = 1;
			c->nhead = 0;
		}
	}
}

static void
srv_poll(struct fs_conn *c)
{
	if (c->srv.due) {
		c->srv.due = 0;
		fs_deliver(c, (const uint8_t *)c->srv.answer,
			   (uint32_t)strlen(c->srv.answer));
	}
}

static const struct fs_srv srv_ops = {
	.sent = srv_sent,
	.poll = srv_poll,
};

/* ---- plans ---- */

static struct sp_tpl_part parts[64];
static unsigned nparts;
static struct sp_request reqs[12];
static struct sp_step steps[24];
static struct sp_scenario scens[6];
static struct sp_capture caps[8];
static struct sp_cond conds[2];
static struct sp_plan plan;
static const char *const var_names[] = { "token", "id", "title", "code" };
enum { V_TOKEN, V_ID, V_TITLE, V_CODE };

static struct sp_tpl
lit(const char *s)
{
	return sp_t_lit(parts, &nparts, s);
}

/* "@a{{var}}@b", the variable as @kind (SP_VAR_CAPTURE or _SETUP). */
static struct sp_tpl
tvar(const char *a, uint8_t kind, uint32_t var, const char *b, uint8_t ctx)
{
	static char text[16][128];
	static unsigned ntext;
	char *t = text[ntext++ % 16];
	struct sp_tpl r = { t, 0, &parts[nparts], 0, ctx };
	size_t la = strlen(a), lb = strlen(b);

	memcpy(t, a, la);
	memcpy(t + la, b, lb + 1);
	r.text_len = (uint32_t)(la + lb);
	parts[nparts++] = (struct sp_tpl_part){ .var = SP_VAR_LITERAL,
						.off = 0,
						.len = (uint32_t)la };
	parts[nparts++] = (struct sp_tpl_part){ .var = kind, .col = var };
	r.nparts = 2;
	if (lb != 0) {
		parts[nparts++] = (struct sp_tpl_part){ .var = SP_VAR_LITERAL,
							.off = (uint32_t)la,
							.len = (uint32_t)lb };
		r.nparts = 3;
	}
	return r;
}

static uint32_t nreq, nstep;

static uint32_t
req(const char *name, uint8_t method, struct sp_tpl path,
    struct sp_tpl headers)
{
	struct sp_request *r = &reqs[nreq];

	r->name = name;
	r->method = method;
	r->path = path;
	r->headers = headers;
	r->check.body_size = -1;
	sp_status_set_range(r->expect_set, SP_EXPECT_DEFAULT_LO,
			    SP_EXPECT_DEFAULT_HI);
	if (method == SP_METHOD_POST) {
		r->has_body = 1;
		r->body = lit("x=1");
	}
	return nreq++;
}

static void
step_req(uint32_t r)
{
	steps[nstep++] = (struct sp_step){ .kind = SP_STEP_REQUEST, .req = r };
}

/* A scenario over steps [first, nstep). */
static uint32_t
scen(uint32_t i, const char *name, uint8_t kind, uint32_t first)
{
	scens[i] = (struct sp_scenario){
		.name = name,
		.weight = 1,
		.enabled = kind == SP_SCEN_LOAD,
		.keep_alive = 1,
		.steps = &steps[first],
		.nsteps = nstep - first,
		.kind = kind,
	};
	return i;
}

static void
plan_reset(uint32_t vus)
{
	memset(&plan, 0, sizeof(plan));
	memset(reqs, 0, sizeof(reqs));
	memset(steps, 0, sizeof(steps));
	memset(scens, 0, sizeof(scens));
	memset(caps, 0, sizeof(caps));
	memset(&app, 0, sizeof(app));
	nparts = nreq = nstep = 0;
	/* Responses 7 bytes a call, room enough for any request. */
	fs.srv = &srv_ops;
	fs.piece = 7;
	fs.space = 65536;
	plan.dst_ip = 0xc6120002u; /* 198.18.0.2 */
	plan.dst_port = 80;
	plan.host = "198.18.0.2";
	plan.model = SP_MODEL_CLOSED;
	plan.vus = vus;
	plan.duration_us = 200000;
	plan.response_timeout_us = 1000000;
	plan.requests = reqs;
	plan.scenarios = scens;
	plan.vars = var_names;
	plan.nvars = 4;
	plan.var_max = 64;
	plan.capture_window = 4096;
	plan.jar_bytes = 1024;
	plan.conds = conds;
}

/*
 * The login flow: vu_setup logs in (the session cookie into the jar, the
 * token from JSON); each iteration creates an item (the cookie goes by
 * itself), reads it by its captured id with the token, and deletes it if
 * the id is digits; vu_teardown logs out.
 */
static void
plan_flow(uint32_t vus)
{
	uint32_t r, first;

	plan_reset(vus);
	/* load: 0 */
	first = nstep;
	r = req("create", SP_METHOD_POST, lit("/items"), lit(""));
	caps[0] = (struct sp_capture){ .kind = SP_CAP_HEADER,
				       .var = V_ID,
				       .name = "location",
				       .regex = "/items/(\\d+)" };
	reqs[r].captures = &caps[0];
	reqs[r].ncaptures = 1;
	step_req(r);
	r = req("read", SP_METHOD_GET,
		tvar("/items/", SP_VAR_CAPTURE, V_ID, "", SP_TPL_PATH),
		tvar("Authorization: Bearer ", SP_VAR_CAPTURE, V_TOKEN, "\r\n",
		     SP_TPL_HEADER));
	caps[1] = (struct sp_capture){ .kind = SP_CAP_BODY,
				       .var = V_TITLE,
				       .regex = "<title>([^<]*)</title>" };
	reqs[r].captures = &caps[1];
	reqs[r].ncaptures = 1;
	step_req(r);
	conds[0] = (struct sp_cond){ .var = V_ID,
				     .op = SP_COND_MATCHES,
				     .value = "^[0-9]+$" };
	conds[1] = (struct sp_cond){ .var = V_TITLE,
				     .op = SP_COND_EQUALS,
				     .value = "never",
				     .value_len = 5 };
	plan.nconds = 2;
	steps[nstep] = (struct sp_step){ .kind = SP_STEP_IF,
					 .ws = 0,
					 .end = nstep + 2 - first };
	nstep++;
	r = req("delete", SP_METHOD_DELETE,
		tvar("/items/", SP_VAR_CAPTURE, V_ID, "", SP_TPL_PATH),
		tvar("Authorization: Bearer ", SP_VAR_CAPTURE, V_TOKEN, "\r\n",
		     SP_TPL_HEADER));
	step_req(r);
	/* never taken: the title is never "never" */
	steps[nstep] = (struct sp_step){ .kind = SP_STEP_IF,
					 .ws = 1,
					 .end = nstep + 2 - first };
	nstep++;
	step_req(req("never", SP_METHOD_GET, lit("/never"), lit("")));
	steps[nstep++] = (struct sp_step){ .kind = SP_STEP_THINK,
					   .think_min_us = 5000,
					   .think_max_us = 5000 };
	scen(0, "flow", SP_SCEN_LOAD, first);
	/* vu_setup: 1 */
	first = nstep;
	r = req("login", SP_METHOD_POST, lit("/login"), lit(""));
	caps[2] = (struct sp_capture){ .kind = SP_CAP_JSON,
				       .var = V_TOKEN,
				       .name = "$.data.token" };
	reqs[r].captures = &caps[2];
	reqs[r].ncaptures = 1;
	step_req(r);
	scen(1, "vu_setup", SP_SCEN_VU_SETUP, first);
	/* vu_teardown: 2 */
	first = nstep;
	step_req(req("logout", SP_METHOD_POST, lit("/logout"), lit("")));
	scen(2, "vu_teardown", SP_SCEN_VU_TEARDOWN, first);
	scens[0].vu_setup = 2;
	scens[0].vu_teardown = 3;
	plan.nscenarios = 3;
	plan.nrequests = nreq;
}

static uint64_t now;

static struct sp_vu_engine *
make(uint32_t vus)
{
	struct sp_vu_config vc = {
		.plan = &plan,
		.now_us = &now,
		.max_vus = vus,
		.seed = 7,
	};
	struct sp_vu_engine *e;
	char err[160];

	now = 1000000;
	e = sp_vu_create(&vc, err, sizeof(err));
	if (e == NULL) {
		fprintf(stderr, "sp_vu_create: %s\n", err);
		exit(2);
	}
	fs_attach(e);
	return e;
}

/* Setup, the load, teardown, in 1 ms ticks; the setup's outcome. */
static int
run(struct sp_vu_engine *e)
{
	int st = SP_VU_SETUP_RUNNING, done = 0, t;

	/* Nothing allocates from setup to the end of teardown: the jar,
	 * the variables, the captures' scratch and PCRE2's frames were all
	 * made by sp_vu_create. */
	sp_t_alloc_hot(1);
	for (t = 0; t < 5000 && st == SP_VU_SETUP_RUNNING; t++) {
		now += 1000;
		st = sp_vu_setup(e, now, 0);
		fs_poll();
	}
	CHECK(st != SP_VU_SETUP_RUNNING);
	if (st == SP_VU_SETUP_DONE) {
		sp_vu_start(e, now);
		for (t = 0; t < 100000 && !done; t++) {
			now += 1000;
			done = sp_vu_step(e, now);
			fs_poll();
		}
		CHECK(done);
	}
	for (done = 0, t = 0; t < 5000 && !done; t++) {
		now += 1000;
		done = sp_vu_teardown(e, now, 0);
		fs_poll();
	}
	sp_t_alloc_hot(0);
	CHECK_EQ(sp_t_allocs, 0);
	CHECK(done);
	for (t = 0; t < 100 && fs_open_conns() != 0; t++)
		fs_poll();
	CHECK_EQ(fs_open_conns(), 0);
	return st;
}

static void
test_flow(void)
{
	struct sp_vu_engine *e;
	const struct sp_vu_stats *s, *l;
	const struct sp_vu_req_stats *rs;

	plan_flow(3);
	e = make(3);
	CHECK_EQ(run(e), SP_VU_SETUP_DONE);
	s = sp_vu_stats(e);
	l = sp_vu_life_stats(e);
	rs = sp_vu_req_stats(e);
	/* Each VU logged in once and out once, counted apart. */
	CHECK_EQ(app.logins, 3);
	CHECK_EQ(app.logouts, 3);
	CHECK_EQ(l->requests, 6);
	CHECK_EQ(l->responses, 6);
	CHECK_EQ(l->failed, 0);
	/* Every item was made with the VU's own session, read and deleted
	 * with its own token by its captured id; nothing else came. */
	CHECK_EQ(app.unauth, 0);
	CHECK_EQ(app.forbidden, 0);
	CHECK_EQ(app.other, 0);
	CHECK(app.posts >= 30);
	/* The run's end cuts the iterations of some VUs short between
	 * their steps: at most one per VU. */
	CHECK(app.gets <= app.posts && app.gets + 3 >= app.posts);
	CHECK(app.deletes <= app.gets && app.deletes + 3 >= app.gets);
	CHECK_EQ(app.deletes, s->it_completed);
	CHECK_EQ(s->it_completed + s->it_interrupted, s->it_started);
	CHECK_EQ(s->responses, app.posts + app.gets + app.deletes);
	CHECK_EQ(s->failed, 0);
	CHECK_EQ(s->err[SP_VU_E_CAPTURE], 0);
	CHECK_EQ(rs[0].responses, app.posts);
	CHECK_EQ(rs[3].started, 0); /* "never" never ran */
	/* Two Set-Cookie fields a login, one a logout. */
	CHECK_EQ(s->cookies_set + l->cookies_set, 9);
	CHECK_EQ(s->cookies_dropped + l->cookies_dropped, 0);
	fs_check_identities(s);
	fs_check_identities(l);
	sp_vu_destroy(e);
}

/* A capture that finds nothing: capture_failed, and the iteration ends
 * there (the read is not sent); with continue, the read fails as
 * unset_variable, not sent either. */
static void
test_capture_fail(int cont)
{
	struct sp_vu_engine *e;
	const struct sp_vu_stats *s;
	uint32_t r, first;

	plan_reset(1);
	fs.piece = 1;
	first = nstep;
	r = req("none", SP_METHOD_GET, lit("/none"), lit(""));
	caps[0] = (struct sp_capture){ .kind = SP_CAP_JSON,
				       .var = V_ID,
				       .name = "$.id" };
	reqs[r].captures = &caps[0];
	reqs[r].ncaptures = 1;
	reqs[r].capture_continue = (uint8_t)cont;
	step_req(r);
	step_req(req("read", SP_METHOD_GET,
		     tvar("/items/", SP_VAR_CAPTURE, V_ID, "", SP_TPL_PATH),
		     lit("")));
	steps[nstep++] = (struct sp_step){ .kind = SP_STEP_THINK,
					   .think_min_us = 5000,
					   .think_max_us = 5000 };
	scen(0, "s", SP_SCEN_LOAD, first);
	plan.nscenarios = 1;
	plan.nrequests = nreq;
	e = make(1);
	CHECK_EQ(run(e), SP_VU_SETUP_DONE);
	s = sp_vu_stats(e);
	CHECK(app.other >= 3);
	CHECK_EQ(s->err[SP_VU_E_CAPTURE], app.other);
	CHECK_EQ(s->responses, app.other);
	/* The read never reached the app. */
	CHECK_EQ(app.unauth + app.gets + app.forbidden, 0);
	if (cont) {
		CHECK_EQ(s->err[SP_VU_E_UNSET_VAR], app.other);
		CHECK_EQ(s->requests, 2ull * app.other);
	} else {
		CHECK_EQ(s->err[SP_VU_E_UNSET_VAR], 0);
		CHECK_EQ(s->requests, app.other);
	}
	CHECK_EQ(s->it_failed, s->it_started - s->it_interrupted);
	fs_check_identities(s);
	sp_vu_destroy(e);
}

/* Setup captures a code every load request and teardown use; it runs
 * once before the load, teardown once after; a failing setup stops the
 * run before the load with the request's name. */
static void
test_setup(int fails)
{
	struct sp_vu_engine *e;
	const struct sp_vu_stats *s, *l;
	const struct sp_vu_scen_stats *ss;
	uint32_t r, first;
	int st;

	plan_reset(2);
	first = nstep;
	step_req(req("use", SP_METHOD_GET,
		     tvar("/use?c=", SP_VAR_SETUP, V_CODE, "", SP_TPL_PATH),
		     lit("")));
	steps[nstep++] = (struct sp_step){ .kind = SP_STEP_THINK,
					   .think_min_us = 5000,
					   .think_max_us = 5000 };
	scen(0, "s", SP_SCEN_LOAD, first);
	first = nstep;
	r = req("get code", SP_METHOD_GET, lit("/setup"), lit(""));
	caps[0] = (struct sp_capture){ .kind = SP_CAP_JSON,
				       .var = V_CODE,
				       .name = "$.code" };
	reqs[r].captures = &caps[0];
	reqs[r].ncaptures = 1;
	step_req(r);
	scen(1, "setup", SP_SCEN_SETUP, first);
	first = nstep;
	step_req(req("clean", SP_METHOD_GET,
		     tvar("/teardown?c=", SP_VAR_SETUP, V_CODE, "",
			  SP_TPL_PATH),
		     lit("")));
	scen(2, "teardown", SP_SCEN_TEARDOWN, first);
	plan.setup_scen = 2;
	plan.teardown_scen = 3;
	plan.nscenarios = 3;
	plan.nrequests = nreq;
	app.setup_fails = fails;
	{
		struct sp_vu_shared *sh = sp_vu_shared_create(&plan);
		struct sp_vu_config vc = {
			.plan = &plan,
			.now_us = &now,
			.max_vus = 2,
			.seed = 7,
			.shared = sh,
		};
		char err[160];

		now = 1000000;
		e = sp_vu_create(&vc, err, sizeof(err));
		CHECK(e != NULL);
		if (e == NULL)
			return;
		fs_attach(e);
		st = run(e);
		s = sp_vu_stats(e);
		l = sp_vu_life_stats(e);
		ss = sp_vu_scen_stats(e);
		CHECK_EQ(app.setups, 1);
		CHECK_EQ(app.load_before_setup, 0);
		CHECK_EQ(app.load_after_teardown, 0);
		CHECK_EQ(ss[1].started, 1);
		/* Teardown runs after a failed setup too. */
		CHECK_EQ(ss[2].started, 1);
		CHECK_EQ(app.teardowns, fails ? 0 : 1);
		CHECK_EQ(ss[2].completed, fails ? 0 : 1);
		if (fails) {
			CHECK_EQ(st, SP_VU_SETUP_FAILED);
			CHECK_EQ(sh->state, SP_VU_SETUP_FAILED);
			CHECK(strstr(sh->why, "get code") != NULL);
			CHECK(strstr(sh->why, "http_status") != NULL);
			CHECK_EQ(app.other, 0);
			CHECK_EQ(s->requests, 0);
			/* teardown ran without the code: not sent */
			CHECK_EQ(l->err[SP_VU_E_UNSET_VAR], 1);
		} else {
			CHECK_EQ(st, SP_VU_SETUP_DONE);
			CHECK(app.other >= 2);
			CHECK_EQ(app.bad_code, 0);
			CHECK_EQ(s->requests, app.other);
			CHECK_EQ(s->failed, 0);
			CHECK_EQ(l->requests, 2);
			CHECK_EQ(l->failed, 0);
		}
		fs_check_identities(s);
		sp_vu_destroy(e);
		sp_vu_shared_destroy(sh);
	}
}

/* VUs that ran a vu_setup and have no vu_teardown, stopped while they
 * think: each leaves once (no VU counted idle twice, no drain waiting
 * out its grace for a VU that is not there). */
static void
test_setup_only(void)
{
	struct sp_vu_engine *e;
	const struct sp_vu_stats *s;
	uint64_t t0;

	plan_flow(3);
	scens[0].vu_teardown = 0;
	steps[scens[0].nsteps - 1].think_min_us = 50000;
	steps[scens[0].nsteps - 1].think_max_us = 50000;
	e = make(3);
	t0 = now;
	CHECK_EQ(run(e), SP_VU_SETUP_DONE);
	s = sp_vu_stats(e);
	CHECK_EQ(app.logins, 3);
	CHECK_EQ(app.logouts, 0);
	fs_check_identities(s);
	/* The load's 200 ms and no 3 s grace: nothing was left in flight. */
	CHECK(now - t0 < 1000000);
	sp_vu_destroy(e);
}

/* A live target moved while the run goes (a capacity hunt's steps): the
 * open model's arrivals follow each rate for its time, the closed
 * model's VUs each count. */
static void
test_live(void)
{
	static const double rates[] = { 100, 300, 0, 50 };
	uint64_t live = 0;
	struct sp_vu_config vc = {
		.plan = &plan,
		.now_us = &now,
		.max_vus = 64,
		.seed = 7,
		.live = &live,
	};
	struct sp_vu_engine *e;
	const struct sp_vu_stats *s;
	char err[160];
	uint64_t before;
	uint32_t first;

	for (int model = 0; model < 2; model++) {
		plan_reset(1);
		first = nstep;
		step_req(req("x", SP_METHOD_GET, lit("/x"), lit("")));
		scen(0, "s", SP_SCEN_LOAD, first);
		plan.nscenarios = 1;
		plan.nrequests = nreq;
		plan.model = model ? SP_MODEL_CLOSED : SP_MODEL_OPEN;
		plan.rate = 1000; /* the plan's own: not used */
		plan.duration_us = 10000000;
		now = 1000000;
		e = sp_vu_create(&vc, err, sizeof(err));
		CHECK(e != NULL);
		if (e == NULL)
			return;
		fs_attach(e);
		s = sp_vu_stats(e);
		sp_vu_live_set(&live, 0);
		sp_vu_start(e, now);
		for (size_t k = 0; k < 4; k++) {
			double r = model ? (double)(k + 1) * 2 : rates[k];

			sp_vu_live_set(&live, r);
			before = s->arrivals;
			for (int t = 0; t < 500; t++) {
				now += 1000;
				sp_vu_step(e, now);
				fs_poll();
			}
			if (model == 0) {
				/* 0.5 s at rate r: r / 2 arrivals, within
				 * one */
				CHECK(s->arrivals - before + 1 >= r / 2 &&
				      s->arrivals - before <= r / 2 + 1);
				CHECK_EQ(s->it_dropped, 0);
			} else {
				CHECK_EQ(s->vus_target, (uint64_t)r);
			}
		}
		sp_vu_stop(e, now);
		for (int t = 0; t < 5000 && !sp_vu_drain(e, now, 0); t++) {
			now += 1000;
			fs_poll();
		}
		CHECK_EQ(s->vus_active, 0);
		sp_vu_destroy(e);
	}
}

int
main(void)
{
	test_live();
	test_flow();
	test_setup_only();
	test_capture_fail(0);
	test_capture_fail(1);
	test_setup(0);
	test_setup(1);
	printf("%d checks, %d failed\n", sp_tests, sp_failed);
	return sp_failed != 0;
}
