/*
 * The template compiler (sp_template.h): template text into the literal
 * bytes and parts the engine's renderer (vu_render.c) fills per request.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_template.h"

static int
sp_tpl_why(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	return -1;
}

int
sp_tpl_text_ok(const char *s, size_t n, enum sp_tpl_ctx ctx, char *why,
	       size_t whylen)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (ctx == SP_TPL_PATH && (c <= 0x20 || c == 0x7f))
			return sp_tpl_why(why, whylen,
					  "byte 0x%02x is not "
					  "allowed in a request path (encode "
					  "it as %%%02X)",
					  c, c);
		if (ctx == SP_TPL_HEADER &&
		    ((c < 0x20 && c != '\t') || c == 0x7f))
			return sp_tpl_why(why, whylen,
					  "a header value may not "
					  "hold CR, LF or other control bytes "
					  "(0x%02x)",
					  c);
	}
	return 0;
}

static int
sp_tpl_part_add(const struct sp_tpl_env *env, struct sp_tpl_build *b,
		const struct sp_tpl_part *pt, char *why, size_t whylen)
{
	b->parts = env->grow(env->mem, b->parts, &b->pcap, b->nparts + 1,
			     sizeof(*b->parts));
	if (b->parts == NULL)
		return sp_tpl_why(why, whylen, "out of memory");
	b->parts[b->nparts++] = *pt;
	return 0;
}

/* Literal bytes join the previous literal part when it ends where they
 * start, so a template without variables is one part. */
int
sp_tpl_lit(const struct sp_tpl_env *env, struct sp_tpl_build *b, const char *s,
	   size_t n, char *why, size_t whylen)
{
	struct sp_tpl_part pt = { .var = SP_VAR_LITERAL };
	struct sp_tpl_part *last = b->nparts ? &b->parts[b->nparts - 1] : NULL;

	if (n == 0)
		return 0;
	if (n > (1u << 30) - b->len)
		return sp_tpl_why(why, whylen, "text too long");
	b->text = env->grow(env->mem, b->text, &b->cap,
			    b->len + (uint32_t)n + 1, 1);
	if (b->text == NULL)
		return sp_tpl_why(why, whylen, "out of memory");
	memcpy(b->text + b->len, s, n);
	b->text[b->len + n] = '\0';
	if (last != NULL && last->var == SP_VAR_LITERAL &&
	    last->off + last->len == b->len) {
		last->len += (uint32_t)n;
	} else {
		pt.off = b->len;
		pt.len = (uint32_t)n;
		if (sp_tpl_part_add(env, b, &pt, why, whylen) < 0)
			return -1;
	}
	b->len += (uint32_t)n;
	return 0;
}

/* An optional '-', then digits, then at least one blank or the end. */
static int
sp_tpl_int(const char **pp, int64_t *v)
{
	const char *p = *pp;
	int neg = *p == '-';
	uint64_t x = 0;
	size_t nd = 0;

	for (p += neg; *p >= '0' && *p <= '9'; p++, nd++) {
		if (x > (UINT64_MAX - 9) / 10)
			return -1;
		x = x * 10 + (uint64_t)(*p - '0');
	}
	if (nd == 0 ||
	    x > (neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX))
		return -1;
	if (*p != '\0' && *p != ' ' && *p != '\t')
		return -1;
	*v = neg ? (int64_t)(0 - x) : (int64_t)x;
	*pp = p + strspn(p, " \t");
	return 0;
}

/* A known {{env NAME}}: a literal from now on, through its filter and
 * then checked as literal text is. */
static int
sp_tpl_env_value(const struct sp_tpl_env *env, struct sp_tpl_build *b,
		 const char *val, uint8_t enc, enum sp_tpl_ctx ctx, char *why,
		 size_t whylen)
{
	size_t len = strlen(val);
	uint8_t *buf;
	uint32_t n;

	if (len > (1u << 24))
		return sp_tpl_why(why, whylen, "text too long");
	buf = malloc(len * sp_tpl_enc_max(enc) + 1);
	if (buf == NULL)
		return sp_tpl_why(why, whylen, "out of memory");
	n = sp_tpl_encode(buf, val, (uint32_t)len, enc);
	if (sp_tpl_text_ok((const char *)buf, n, ctx, why, whylen) < 0 ||
	    sp_tpl_lit(env, b, (const char *)buf, n, why, whylen) < 0) {
		free(buf);
		return -1;
	}
	free(buf);
	return 0;
}

/* [A-Za-z_][A-Za-z0-9_]* */
static int
sp_tpl_ident(const char *s)
{
	if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
	      *s == '_'))
		return 0;
	for (s++; *s != '\0'; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		      (*s >= '0' && *s <= '9') || *s == '_'))
			return 0;
	return 1;
}

int
sp_tpl_var_name_ok(const char *name, char *why, size_t whylen)
{
	/* The built-ins' names, and those of the ones that take arguments,
	 * so that {{uuid}} can never mean a capture. */
	static const char *const builtin[] = {
		"vu",   "iteration", "random",  "data",          "env",
		"setup", "uuid",     "time_ms", "random_string",
	};

	if (!sp_tpl_ident(name))
		return sp_tpl_why(why, whylen,
				  "'%.*s' is not a variable name (letters, "
				  "digits and '_', not starting with a digit)",
				  SP_TPL_VAR_MAX, name);
	if (strlen(name) > SP_TPL_VAR_MAX)
		return sp_tpl_why(why, whylen,
				  "'%.*s...': a variable name has at most %d "
				  "bytes",
				  SP_TPL_VAR_MAX, name, SP_TPL_VAR_MAX);
	for (size_t i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++)
		if (strcmp(name, builtin[i]) == 0)
			return sp_tpl_why(why, whylen,
					  "'%s' is a built-in template "
					  "variable's name, not a variable's",
					  name);
	return 0;
}

/*
 * The inside of one {{...}}, without the braces: a variable and an
 * optional filter, `data.name | json`. Without one, a value in a path is
 * percent-encoded (| url) and one in a header or a body goes as it is
 * (| raw); a header value still never carries CR or LF (sp_plan.h).
 */
static int
sp_tpl_var(const struct sp_tpl_env *env, struct sp_tpl_build *b, const char *in,
	   size_t n, enum sp_tpl_ctx ctx, char *why, size_t whylen)
{
	struct sp_tpl_part pt = { 0 };
	uint8_t enc = ctx == SP_TPL_PATH ? SP_ENC_URL : SP_ENC_RAW;
	char v[128], all[128], *bar;
	const char *p;
	size_t k;

	while (n > 0 && (*in == ' ' || *in == '\t')) {
		in++;
		n--;
	}
	while (n > 0 && (in[n - 1] == ' ' || in[n - 1] == '\t'))
		n--;
	if (n >= sizeof(v))
		return sp_tpl_why(why, whylen,
				  "unknown template variable '{{%.*s...}}'", 40,
				  in);
	memcpy(v, in, n);
	v[n] = '\0';
	memcpy(all, v, n + 1);
	if ((bar = strchr(v, '|')) != NULL) {
		const char *f = bar + 1 + strspn(bar + 1, " \t");

		if (strcmp(f, "json") == 0)
			enc = SP_ENC_JSON;
		else if (strcmp(f, "url") == 0)
			enc = SP_ENC_URL;
		else if (strcmp(f, "raw") == 0)
			enc = SP_ENC_RAW;
		else
			return sp_tpl_why(why, whylen,
					  "'{{%s}}': unknown filter '%s' "
					  "(json, url or raw)",
					  all, f);
		for (k = (size_t)(bar - v);
		     k > 0 && (v[k - 1] == ' ' || v[k - 1] == '\t'); k--)
			;
		v[k] = '\0';
	}
	pt.enc = enc;
	if (strcmp(v, "vu") == 0) {
		pt.var = SP_VAR_VU;
	} else if (strcmp(v, "iteration") == 0) {
		pt.var = SP_VAR_ITERATION;
	} else if (strncmp(v, "random", 6) == 0 &&
		   (v[6] == ' ' || v[6] == '\t')) {
		p = v + 6 + strspn(v + 6, " \t");
		if (sp_tpl_int(&p, &pt.lo) < 0 || sp_tpl_int(&p, &pt.hi) < 0 ||
		    *p != '\0')
			return sp_tpl_why(why, whylen,
					  "'{{%s}}': random takes two integers "
					  "A B",
					  all);
		if (pt.lo > pt.hi)
			return sp_tpl_why(why, whylen,
					  "'{{%s}}': random A B needs A <= B",
					  all);
		pt.var = SP_VAR_RANDOM;
	} else if (strcmp(v, "uuid") == 0) {
		pt.var = SP_VAR_UUID;
	} else if (strcmp(v, "time_ms") == 0) {
		pt.var = SP_VAR_TIME_MS;
	} else if (strncmp(v, "random_string", 13) == 0 &&
		   (v[13] == ' ' || v[13] == '\t')) {
		p = v + 13 + strspn(v + 13, " \t");
		if (sp_tpl_int(&p, &pt.lo) < 0 || *p != '\0' || pt.lo < 1 ||
		    pt.lo > SP_TPL_RANDOM_STRING_MAX)
			return sp_tpl_why(why, whylen,
					  "'{{%s}}': random_string takes a "
					  "length N, 1 <= N <= %d",
					  all, SP_TPL_RANDOM_STRING_MAX);
		pt.var = SP_VAR_RANDOM_STRING;
	} else if (strncmp(v, "data.", 5) == 0) {
		const struct sp_data *d = env->data;

		if (d == NULL)
			return sp_tpl_why(why, whylen,
					  "'{{%s}}': no data file (give data:)",
					  all);
		for (pt.col = 0; pt.col < d->ncols; pt.col++)
			if (strcmp(d->cols[pt.col], v + 5) == 0)
				break;
		if (pt.col == d->ncols)
			return sp_tpl_why(why, whylen,
					  "'{{%s}}': the data file has no "
					  "column '%s'",
					  all, v + 5);
		pt.var = SP_VAR_DATA;
	} else if (strncmp(v, "env", 3) == 0 && (v[3] == ' ' || v[3] == '\t')) {
		const char *name = v + 3 + strspn(v + 3, " \t"), *val;

		val = getenv(name);
		if (val == NULL)
			return sp_tpl_why(why, whylen,
					  "'{{%s}}': environment variable %s "
					  "is not set",
					  all, name);
		return sp_tpl_env_value(env, b, val, enc, ctx, why, whylen);
	} else if (strncmp(v, "setup.", 6) == 0 || sp_tpl_ident(v)) {
		/* A variable: {{setup.NAME}} as the run's setup captured it,
		 * {{NAME}} the VU's own. */
		int setup = strncmp(v, "setup.", 6) == 0;
		const char *name = setup ? v + 6 : v;

		if (sp_tpl_var_name_ok(name, why, whylen) < 0) {
			if (!setup)
				return sp_tpl_why(why, whylen,
						  "unknown template variable "
						  "'{{%s}}'",
						  all);
			return -1;
		}
		if (env->var == NULL)
			return sp_tpl_why(why, whylen,
					  "'{{%s}}': no variables here (they "
					  "come from a scenario's captures)",
					  all);
		if (env->var(env->var_ctx, name, setup, &pt.col, why, whylen) <
		    0)
			return -1;
		pt.var = setup ? SP_VAR_SETUP : SP_VAR_CAPTURE;
	} else {
		return sp_tpl_why(why, whylen,
				  "unknown template variable '{{%s}}'", all);
	}
	return sp_tpl_part_add(env, b, &pt, why, whylen);
}

int
sp_tpl_add(const struct sp_tpl_env *env, struct sp_tpl_build *b, const char *s,
	   size_t n, enum sp_tpl_ctx ctx, char *why, size_t whylen)
{
	size_t i = 0;

	b->ctx = (uint8_t)ctx;
	while (i < n) {
		const char *o = memmem(s + i, n - i, "{{", 2), *in, *c;
		size_t lit = o != NULL ? (size_t)(o - (s + i)) : n - i;

		if (sp_tpl_text_ok(s + i, lit, ctx, why, whylen) < 0 ||
		    sp_tpl_lit(env, b, s + i, lit, why, whylen) < 0)
			return -1;
		if (o == NULL)
			break;
		in = o + 2;
		c = memmem(in, n - (size_t)(in - s), "}}", 2);
		if (c == NULL)
			return sp_tpl_why(why, whylen, "unclosed '{{'");
		if (sp_tpl_var(env, b, in, (size_t)(c - in), ctx, why, whylen) <
		    0)
			return -1;
		i = (size_t)(c + 2 - s);
	}
	return 0;
}

void
sp_tpl_done(const struct sp_tpl_build *b, struct sp_tpl *t)
{
	t->text = b->text != NULL ? b->text : "";
	t->text_len = b->len;
	t->parts = b->parts;
	t->nparts = b->nparts;
	t->ctx = b->ctx;
}
