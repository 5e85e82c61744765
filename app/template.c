/*
 * The template compiler: a request's path, header values and body into
 * literal bytes and parts (sp_plan.h) that lib/proto renders per request.
 * (It belongs next to its renderer in lib/proto; it stays here until the
 * engine's rework settles.)
 */

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "sp_scenario_int.h"
#include "sp_values.h"

/* ---- templates ---- */

int
sp_txt_ok(const char *s, size_t n, int kind, char *why)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (kind == SP_TXT_PATH && (c <= 0x20 || c == 0x7f))
			return sp_why(why, "byte 0x%02x is not allowed in a "
				      "request path (encode it as %%%02X)", c, c);
		if (kind == SP_TXT_HEADER && ((c < 0x20 && c != '\t') ||
					      c == 0x7f))
			return sp_why(why, "a header value may not hold CR, LF "
				      "or other control bytes (0x%02x)", c);
	}
	return 0;
}

static int
sp_tb_part(struct sp_plan *pl, struct sp_tpl_build *b,
	   const struct sp_tpl_part *pt, char *why)
{
	b->parts = sp_mem_grow(pl, b->parts, &b->pcap, b->nparts + 1,
			       sizeof(*b->parts));
	if (b->parts == NULL)
		return sp_why(why, "out of memory");
	b->parts[b->nparts++] = *pt;
	return 0;
}

/* Literal bytes join the previous literal part when it ends where they
 * start, so a template without variables is one part. */
int
sp_tb_lit(struct sp_plan *pl, struct sp_tpl_build *b, const char *s, size_t n,
	  char *why)
{
	struct sp_tpl_part pt = { .var = SP_VAR_LITERAL };
	struct sp_tpl_part *last = b->nparts ? &b->parts[b->nparts - 1] : NULL;

	if (n == 0)
		return 0;
	if (n > (1u << 30) - b->len)
		return sp_why(why, "text too long");
	b->text = sp_mem_grow(pl, b->text, &b->cap, b->len + (uint32_t)n + 1, 1);
	if (b->text == NULL)
		return sp_why(why, "out of memory");
	memcpy(b->text + b->len, s, n);
	b->text[b->len + n] = '\0';
	if (last != NULL && last->var == SP_VAR_LITERAL &&
	    last->off + last->len == b->len) {
		last->len += (uint32_t)n;
	} else {
		pt.off = b->len;
		pt.len = (uint32_t)n;
		if (sp_tb_part(pl, b, &pt, why) < 0)
			return -1;
	}
	b->len += (uint32_t)n;
	return 0;
}

/* An optional '-', then digits, then at least one blank or the end. */
static int
sp_sint(const char **pp, int64_t *v)
{
	const char *p = *pp, *end;
	int neg = *p == '-';
	uint64_t x;

	if (sp_val_digits(p + neg, &end, &x) < 0 ||
	    x > (neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX))
		return -1;
	if (*end != '\0' && *end != ' ' && *end != '\t')
		return -1;
	*v = neg ? (int64_t)(0 - x) : (int64_t)x;
	*pp = end + strspn(end, " \t");
	return 0;
}

/* A known {{env NAME}}: a literal from now on, through its filter and
 * then checked as literal text is. */
static int
sp_tpl_env(struct sp_plan *pl, struct sp_tpl_build *b, const char *val,
	   uint8_t enc, int kind, char *why)
{
	size_t len = strlen(val);
	uint8_t *buf;
	uint32_t n;

	if (len > (1u << 24))
		return sp_why(why, "text too long");
	buf = malloc(len * sp_tpl_enc_max(enc) + 1);
	if (buf == NULL)
		return sp_why(why, "out of memory");
	n = sp_tpl_encode(buf, val, (uint32_t)len, enc);
	if (sp_txt_ok((const char *)buf, n, kind, why) < 0 ||
	    sp_tb_lit(pl, b, (const char *)buf, n, why) < 0) {
		free(buf);
		return -1;
	}
	free(buf);
	return 0;
}

/*
 * The inside of one {{...}}, without the braces: a variable and an
 * optional filter, `data.name | json`. Without one, a value in a path is
 * percent-encoded (| url) and one in a header or a body goes as it is
 * (| raw); a header value still never carries CR or LF (sp_plan.h).
 */
static int
sp_tpl_var(struct sp_plan *pl, struct sp_tpl_build *b, const char *in, size_t n,
	   int kind, char *why)
{
	struct sp_tpl_part pt = { 0 };
	uint8_t enc = kind == SP_TXT_PATH ? SP_ENC_URL : SP_ENC_RAW;
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
		return sp_why(why, "unknown template variable '{{%.*s...}}'",
			      40, in);
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
			return sp_why(why, "'{{%s}}': unknown filter '%s' "
				      "(json, url or raw)", all, f);
		for (k = (size_t)(bar - v); k > 0 && (v[k - 1] == ' ' ||
						      v[k - 1] == '\t'); k--)
			;
		v[k] = '\0';
	}
	pt.enc = enc;
	if (strcmp(v, "vu") == 0) {
		pt.var = SP_VAR_VU;
	} else if (strcmp(v, "iteration") == 0) {
		pt.var = SP_VAR_ITERATION;
	} else if (strncmp(v, "random", 6) == 0 && (v[6] == ' ' || v[6] == '\t')) {
		p = v + 6 + strspn(v + 6, " \t");
		if (sp_sint(&p, &pt.lo) < 0 || sp_sint(&p, &pt.hi) < 0 ||
		    *p != '\0')
			return sp_why(why, "'{{%s}}': random takes two integers "
				      "A B", all);
		if (pt.lo > pt.hi)
			return sp_why(why, "'{{%s}}': random A B needs A <= B", all);
		pt.var = SP_VAR_RANDOM;
	} else if (strncmp(v, "data.", 5) == 0) {
		const struct sp_data *d = pl->data;

		if (d == NULL)
			return sp_why(why, "'{{%s}}': no data file (give data:)",
				      all);
		for (pt.col = 0; pt.col < d->ncols; pt.col++)
			if (strcmp(d->cols[pt.col], v + 5) == 0)
				break;
		if (pt.col == d->ncols)
			return sp_why(why, "'{{%s}}': the data file has no "
				      "column '%s'", all, v + 5);
		pt.var = SP_VAR_DATA;
	} else if (strncmp(v, "env", 3) == 0 && (v[3] == ' ' || v[3] == '\t')) {
		const char *name = v + 3 + strspn(v + 3, " \t"), *val;

		val = getenv(name);
		if (val == NULL)
			return sp_why(why, "'{{%s}}': environment variable %s "
				      "is not set", all, name);
		return sp_tpl_env(pl, b, val, enc, kind, why);
	} else {
		return sp_why(why, "unknown template variable '{{%s}}'", all);
	}
	return sp_tb_part(pl, b, &pt, why);
}

int
sp_tpl_add(struct sp_plan *pl, struct sp_tpl_build *b, const char *s, size_t n,
	   int kind, char *why)
{
	size_t i = 0;

	b->ctx = (uint8_t)kind;
	while (i < n) {
		const char *o = memmem(s + i, n - i, "{{", 2), *in, *c;
		size_t lit = o != NULL ? (size_t)(o - (s + i)) : n - i;

		if (sp_txt_ok(s + i, lit, kind, why) < 0 ||
		    sp_tb_lit(pl, b, s + i, lit, why) < 0)
			return -1;
		if (o == NULL)
			break;
		in = o + 2;
		c = memmem(in, n - (size_t)(in - s), "}}", 2);
		if (c == NULL)
			return sp_why(why, "unclosed '{{'");
		if (sp_tpl_var(pl, b, in, (size_t)(c - in), kind, why) < 0)
			return -1;
		i = (size_t)(c + 2 - s);
	}
	return 0;
}

void
sp_tb_done(const struct sp_tpl_build *b, struct sp_tpl *t)
{
	t->text = b->text != NULL ? b->text : "";
	t->text_len = b->len;
	t->parts = b->parts;
	t->nparts = b->nparts;
	t->ctx = b->ctx;
}

/* RFC 9110 5.6.2: token = 1*tchar */
int
sp_is_token(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) &&
		    strchr("!#$%&'*+-.^_`|~", *s) == NULL)
			return 0;
	return 1;
}
