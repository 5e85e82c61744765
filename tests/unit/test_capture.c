/*
 * Unit test for sp_capture: JSON path compilation (with the positions of
 * its errors) and extraction: every value type, escapes, skipping through
 * strings that hold brackets and quotes, arrays of objects, what is not
 * found, malformed documents, every prefix of a document as a complete
 * body (malformed, or the same value) and as a window (truncated, or the
 * same value), values longer than the room given (never a byte written
 * past it), the depth bound, a 1 MiB document, and random documents whose
 * generator knows every value's path and text.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sp_capture.h"
#include "sp_check.h"

enum { OUT_MAX = 2 << 20, GUARD = 16 };

static char out[OUT_MAX + GUARD];

/* Extract @path from @doc[0 .. n) with @cap bytes of room, checking that
 * nothing is written past them and that *len is within them. */
static int
ex_n(const char *path, const char *doc, size_t n, int complete, uint32_t cap,
     uint32_t *len)
{
	struct sp_jsonpath jp;
	char why[128];
	int r;

	if (sp_jsonpath_compile(&jp, path, why, sizeof(why)) != 0) {
		CHECK(0, "path %s: %s", path, why);
		return -1;
	}
	memset(out, 0xa5, (size_t)cap + GUARD);
	*len = 12345;
	r = sp_jsonpath_extract(&jp, (const uint8_t *)doc, n, complete, out,
				cap, len);
	for (size_t i = cap; i < (size_t)cap + GUARD; i++)
		if ((uint8_t)out[i] != 0xa5) {
			CHECK(0, "%s: byte %zu written past cap %u", path, i,
			      cap);
			break;
		}
	CHECK(r == SP_CAPTURE_FOUND ? *len <= cap : *len == 0,
	      "%s: result %d len %u cap %u", path, r, *len, cap);
	return r;
}

static int
ex(const char *path, const char *doc, int complete)
{
	uint32_t len;

	return ex_n(path, doc, strlen(doc), complete, 4096, &len);
}

/* @path in the complete @doc is FOUND with the @wlen bytes @want, and so
 * with the same document followed by blanks, and so as a window that ends
 * with a blank after it. */
static void
found_n(const char *path, const char *doc, const char *want, size_t wlen,
	int line)
{
	static char padded[8192];
	uint32_t len;
	int r;

	r = ex_n(path, doc, strlen(doc), 1, 4096, &len);
	CHECK(r == SP_CAPTURE_FOUND && len == wlen && !memcmp(out, want, wlen),
	      "line %d: %s in %s: %s, '%.*s'", line, path, doc,
	      sp_capture_result_name(r), (int)len, out);
	snprintf(padded, sizeof(padded), "%s \n", doc);
	r = ex_n(path, padded, strlen(padded), 0, 4096, &len);
	CHECK(r == SP_CAPTURE_FOUND && len == wlen && !memcmp(out, want, wlen),
	      "line %d: %s in %s as a window: %s", line, path, doc,
	      sp_capture_result_name(r));
}

#define FOUND(path, doc, want) found_n(path, doc, want, strlen(want), __LINE__)
#define RESULT(path, doc, complete, want)                                      \
	do {                                                                   \
		int r_ = ex(path, doc, complete);                              \
		CHECK(r_ == (want), "%s in %s (complete %d): %s, not %s",      \
		      path, doc, complete, sp_capture_result_name(r_),          \
		      sp_capture_result_name(want));                           \
	} while (0)

static void
test_paths(void)
{
	const char *doc = "{\"a\":{\"b\":\"deep\"},\"arr\":[10,20,{\"b\":"
			  "\"third\"}],\"we.ird\":1,\"k\\\"q\":2,"
			  "\"it's\":3,\"\":4,\"0\":5,\"a-b_c\":6}";

	FOUND("$.a", doc, "{\"b\":\"deep\"}");
	FOUND("$.a.b", doc, "deep");
	FOUND("$['a']['b']", doc, "deep");
	FOUND("$[\"a\"].b", doc, "deep");
	FOUND("$.arr[0]", doc, "10");
	FOUND("$.arr[1]", doc, "20");
	FOUND("$.arr[2].b", doc, "third");
	FOUND("$.arr[-1].b", doc, "third");
	FOUND("$.arr[-3]", doc, "10");
	FOUND("$[ 'arr' ][ 1 ]", doc, "20");
	FOUND("$['we.ird']", doc, "1");
	FOUND("$[\"k\\\"q\"]", doc, "2");
	FOUND("$['k\"q']", doc, "2");
	FOUND("$['it\\'s']", doc, "3");
	FOUND("$[\"it's\"]", doc, "3");
	FOUND("$['']", doc, "4");
	FOUND("$.0", doc, "5");
	FOUND("$.a-b_c", doc, "6");
	FOUND("$", doc, doc);
	FOUND("$", " \t\r\n[1, 2]\n", "[1, 2]");
	FOUND("$[1]", "[1, 2]", "2");
	FOUND("$[0][1][0]", "[[0,[\"x\"]]]", "x");
	/* Blanks everywhere JSON allows them, kept inside raw values. */
	FOUND("$.a", " { \"a\" :\n[ 1 ,\t2 ] , \"b\" : 0 } ", "[ 1 ,\t2 ]");
	FOUND("$.a[1]", " { \"a\" :\n[ 1 ,\t2 ] } ", "2");
	/* Names compared after unescaping, on either side. */
	FOUND("$.ab", "{\"\\u0061b\":7}", "7");
	FOUND("$['\\u00e9t\\u00E9']", "{\"\xc3\xa9t\xc3\xa9\":8}", "8");
	FOUND("$.caf\xc3\xa9", "{\"caf\\u00e9\":9}", "9");
	FOUND("$['\\ud83d\\ude00']", "{\"\xf0\x9f\x98\x80\":1}", "1");
	FOUND("$.a", "{\"a\\u0000\":1,\"a\":2}", "2");
	/* A name is not a prefix of another. */
	FOUND("$.ab", "{\"a\":1,\"abc\":2,\"ab\":3}", "3");
	FOUND("$.abc", "{\"ab\":1,\"abc\":2}", "2");
	/* Duplicates: the first one wins. */
	FOUND("$.a", "{\"a\":1,\"a\":2}", "1");
	RESULT("$.a.b", "{\"a\":{\"c\":1},\"a\":{\"b\":2}}", 1,
	       SP_CAPTURE_NOT_FOUND);
}

static void
test_values(void)
{
	FOUND("$.v", "{\"v\":\"text\"}", "text");
	FOUND("$.v", "{\"v\":\"\"}", "");
	FOUND("$.v", "{\"v\":0}", "0");
	FOUND("$.v", "{\"v\":-0}", "-0");
	FOUND("$.v", "{\"v\":123}", "123");
	FOUND("$.v", "{\"v\":-12.5E+3}", "-12.5E+3");
	FOUND("$.v", "{\"v\":1.5e-3}", "1.5e-3");
	FOUND("$.v", "{\"v\":0.25}", "0.25");
	FOUND("$.v", "{\"v\":1e9}", "1e9");
	FOUND("$.v", "{\"v\":true}", "true");
	FOUND("$.v", "{\"v\":false}", "false");
	FOUND("$.v", "{\"v\":null}", "null");
	FOUND("$.v", "{\"v\":{}}", "{}");
	FOUND("$.v", "{\"v\":[]}", "[]");
	FOUND("$.v", "{\"v\":{ }}", "{ }");
	FOUND("$.v", "{\"v\":{\"x\":[1,{\"y\":null}]}}",
	      "{\"x\":[1,{\"y\":null}]}");
	FOUND("$.v", "{\"v\":[true,false,null,\"]\"]}",
	      "[true,false,null,\"]\"]");
	/* Scalars at the top. */
	FOUND("$", "42", "42");
	FOUND("$", "\"s\"", "s");
	FOUND("$", "null", "null");
	RESULT("$", "42", 0, SP_CAPTURE_TRUNCATED); /* might be 420 */
	RESULT("$", "true", 0, SP_CAPTURE_TRUNCATED);
	RESULT("$", "\"s\"", 0, SP_CAPTURE_FOUND);
	RESULT("$", "{}", 0, SP_CAPTURE_FOUND);
}

static void
test_escapes(void)
{
	FOUND("$.s", "{\"s\":\"a\\nb\"}", "a\nb");
	FOUND("$.s", "{\"s\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"}", "\"\\/\b\f\n\r\t");
	FOUND("$.s", "{\"s\":\"caf\\u00e9\"}", "caf\xc3\xa9");
	FOUND("$.s", "{\"s\":\"\\u00E9\"}", "\xc3\xa9");
	FOUND("$.s", "{\"s\":\"\\u20ac\"}", "\xe2\x82\xac");
	FOUND("$.s", "{\"s\":\"\\u0041\"}", "A");
	FOUND("$.s", "{\"s\":\"\\ud83d\\ude00!\"}", "\xf0\x9f\x98\x80!");
	FOUND("$.s", "{\"s\":\"\\uDBFF\\uDFFF\"}", "\xf4\x8f\xbf\xbf");
	found_n("$.s", "{\"s\":\"a\\u0000b\"}", "a\0b", 3, __LINE__);
	/* Raw UTF-8 is kept as it is. */
	FOUND("$.s", "{\"s\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"}",
	      "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
	/* The raw text of a container keeps its escapes. */
	FOUND("$.o", "{\"o\":[\"\\u00e9\\n\"]}", "[\"\\u00e9\\n\"]");

	static const char *const bad[] = {
		"{\"s\":\"\\ud83d\"}",	      /* lone high surrogate */
		"{\"s\":\"\\ude00\"}",	      /* lone low surrogate */
		"{\"s\":\"\\ud83dx\"}",	      /* high, then not an escape */
		"{\"s\":\"\\ud83d\\n\"}",     /* high, then not \u */
		"{\"s\":\"\\ud83d\\u0041\"}", /* high, then not a low */
		"{\"s\":\"\\ud83d\\ud83d\"}", /* high, high */
		"{\"s\":\"\\x\"}",	      /* no such escape */
		"{\"s\":\"\\'\"}",	      /* \' is the path's, not JSON's */
		"{\"s\":\"\\u00zz\"}",
		"{\"s\":\"\\U00e9\"}",
		"{\"s\":\"a\nb\"}",	      /* a raw control byte */
		"{\"s\":\"\t\"}",
		"{\"s\":\"\x80\"}",	      /* bad UTF-8: a continuation */
		"{\"s\":\"\xc0\xaf\"}",	      /* overlong */
		"{\"s\":\"\xe0\x80\xaf\"}",   /* overlong */
		"{\"s\":\"\xed\xa0\x80\"}",   /* a surrogate */
		"{\"s\":\"\xf4\x90\x80\x80\"}", /* past U+10FFFF */
		"{\"s\":\"\xc3x\"}",	      /* cut sequence */
		"{\"s\":\"\xff\"}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		RESULT("$.s", bad[i], 1, SP_CAPTURE_MALFORMED);
		RESULT("$.s", bad[i], 0, SP_CAPTURE_MALFORMED);
		/* Skipped, they are as malformed as when read. */
		RESULT("$.z", bad[i], 1, SP_CAPTURE_MALFORMED);
		RESULT("$", bad[i], 1, SP_CAPTURE_MALFORMED);
	}
	/* Malformed as soon as it shows, even at the window's end. */
	RESULT("$.s", "{\"s\":\"\\uz", 0, SP_CAPTURE_MALFORMED);
	RESULT("$.s", "{\"s\":\"\\ud83d\\uz", 0, SP_CAPTURE_MALFORMED);
	RESULT("$.s", "{\"s\":\"\\ud83dx", 0, SP_CAPTURE_MALFORMED);
	RESULT("$.s", "{\"s\":\"\\ud83d\\", 0, SP_CAPTURE_TRUNCATED);
	RESULT("$.s", "{\"s\":\"\\ud83d\\ude0", 0, SP_CAPTURE_TRUNCATED);
	RESULT("$.s", "{\"s\":\"\xf0\x9f\x98", 0, SP_CAPTURE_TRUNCATED);
	RESULT("$.s", "{\"s\":\"\xf0\x9f\x98", 1, SP_CAPTURE_MALFORMED);
}

static void
test_skipping(void)
{
	/* Strings holding brackets, braces, quotes, colons and commas. */
	const char *doc = "{\"x\":\"a]}\\\"{[,:\",\"y\":{\"z\":[1,{\"w\":\"]\"}"
			  ",[[],{}]],\"q\":\"}\"},\"\\\"a\":0,\"a\":5}";

	FOUND("$.a", doc, "5");
	FOUND("$.y.z[1].w", doc, "]");
	FOUND("$.y.z[2]", doc, "[[],{}]");
	FOUND("$.y.q", doc, "}");
	FOUND("$['\"a']", doc, "0");
	/* Arrays of objects. */
	doc = "{\"items\":[{\"id\":1,\"tags\":[\"a\",\"b\"]},{\"id\":2},"
	      "{\"name\":\"n\",\"id\":3}],\"total\":3}";
	FOUND("$.items[0].id", doc, "1");
	FOUND("$.items[1].id", doc, "2");
	FOUND("$.items[2].id", doc, "3");
	FOUND("$.items[-1].id", doc, "3");
	FOUND("$.items[-2].id", doc, "2");
	FOUND("$.items[-3].tags[-1]", doc, "b");
	FOUND("$.items[0].tags[0]", doc, "a");
	FOUND("$.total", doc, "3");
	RESULT("$.items[3]", doc, 1, SP_CAPTURE_NOT_FOUND);
	RESULT("$.items[-4]", doc, 1, SP_CAPTURE_NOT_FOUND);
	RESULT("$.items[1].name", doc, 1, SP_CAPTURE_NOT_FOUND);
	RESULT("$.items[0].tags[2]", doc, 1, SP_CAPTURE_NOT_FOUND);
}

static void
test_not_found(void)
{
	static const struct {
		const char *path, *doc;
	} t[] = {
		{"$.b", "{\"a\":1}"},
		{"$.b", "{}"},
		{"$.a.c", "{\"a\":{\"b\":1}}"},
		{"$[0]", "[]"},
		{"$[-1]", "[]"},
		{"$[2]", "[1,2]"},
		{"$[-3]", "[1,2]"},
		{"$.a[0]", "{\"a\":{\"0\":1}}"}, /* an index on an object */
		{"$.a.b", "{\"a\":[{\"b\":1}]}"}, /* a name on an array */
		{"$.a.b", "{\"a\":\"b\"}"},	  /* on scalars */
		{"$.a[0]", "{\"a\":\"x\"}"},
		{"$.a.b", "{\"a\":12}"},
		{"$.a.b", "{\"a\":-1}"},
		{"$.a.b", "{\"a\":true}"},
		{"$.a.b", "{\"a\":false}"},
		{"$.a.b", "{\"a\":null}"},
		{"$.a", "[{\"a\":1}]"},
		{"$[0]", "{\"0\":1}"},
		{"$.a", "\"a\""},
		{"$.A", "{\"a\":1}"}, /* names are case sensitive */
		{"$.a", "{\"a \":1,\" a\":2}"},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		RESULT(t[i].path, t[i].doc, 1, SP_CAPTURE_NOT_FOUND);
		RESULT(t[i].path, t[i].doc, 0, SP_CAPTURE_NOT_FOUND);
	}
	/* The rest is not read once the answer is known: the same answers
	 * however the document goes on. */
	RESULT("$.b", "{\"a\":1} trailing", 1, SP_CAPTURE_NOT_FOUND);
	RESULT("$.a.b", "{\"a\":[1,,", 1, SP_CAPTURE_NOT_FOUND);
	RESULT("$[5]", "[1,2] [", 1, SP_CAPTURE_NOT_FOUND);
	RESULT("$.a", "{\"a\":1,\"a\":", 1, SP_CAPTURE_FOUND);
	RESULT("$.a", "{\"a\":1]", 1, SP_CAPTURE_FOUND);
	RESULT("$", "{} {", 1, SP_CAPTURE_FOUND);
	/* A wrong type on something that is no value is malformed. */
	RESULT("$.a.b", "{\"a\":x}", 1, SP_CAPTURE_MALFORMED);
	RESULT("$.a[0]", "{\"a\":]}", 1, SP_CAPTURE_MALFORMED);
	RESULT("$.a", "x", 1, SP_CAPTURE_MALFORMED);
}

static void
test_malformed(void)
{
	static const char *const bad[] = {
		"",
		" \n\t",
		"{\"a\":1,}",
		"{\"z\":[1,],\"a\":1}",
		"{\"z\":[,1],\"a\":1}",
		"{\"z\":{,},\"a\":1}",
		"{\"z\" 1,\"a\":1}",
		"{\"z\"::1,\"a\":1}",
		"{\"z\":1 \"a\":1}",
		"{'z':1,\"a\":1}",
		"{z:1,\"a\":1}",
		"{\"z\":01,\"a\":1}",
		"{\"z\":1.,\"a\":1}",
		"{\"z\":.5,\"a\":1}",
		"{\"z\":+1,\"a\":1}",
		"{\"z\":1e,\"a\":1}",
		"{\"z\":1e+,\"a\":1}",
		"{\"z\":-,\"a\":1}",
		"{\"z\":0x1,\"a\":1}",
		"{\"z\":NaN,\"a\":1}",
		"{\"z\":tru,\"a\":1}",
		"{\"z\":truex,\"a\":1}",
		"{\"z\":True,\"a\":1}",
		"{\"z\":nulll,\"a\":1}",
		"{\"z\":[1 2],\"a\":1}",
		"{\"z\":[1}],\"a\":1}",
		"{\"z\":{\"y\":1],\"a\":1}",
		"// comment\n{\"a\":1}",
		"{\"z\":1 /* c */,\"a\":1}",
		"{\"z\":\"\x01\",\"a\":1}",
		"\xef\xbb\xbf{\"a\":1}", /* RFC 8259: no BOM */
		"{\"a\":01}",
		"{\"a\":1x}",
		"{\"a\":truex}",
		"{\"a\":-}",
		"{\"a\"}",
		"{\"a\":}",
		"{\"a\":1",
		"{\"a\":\"x",
		"{\"a\":[1,2",
		"[1,2",
		"\"abc",
		"0 1", /* two values at the top: "1" would follow "0" */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *d = bad[i] + strspn(bad[i], " \t\n");

		/* "0 1" with $: the 0 is found, the rest is not read. */
		if (strcmp(bad[i], "0 1"))
			RESULT("$", bad[i], 1, SP_CAPTURE_MALFORMED);
		/* A member of what is not an object is not found as soon
		 * as the first byte shows it. */
		RESULT("$.zz", bad[i], 1,
		       strchr("[\"0", *d) && *d ? SP_CAPTURE_NOT_FOUND
						 : SP_CAPTURE_MALFORMED);
	}
	RESULT("$", "0 1", 1, SP_CAPTURE_FOUND);
	RESULT("$", "1,", 1, SP_CAPTURE_MALFORMED);
	RESULT("$", "1]", 1, SP_CAPTURE_MALFORMED);
	RESULT("$", "-01", 1, SP_CAPTURE_MALFORMED);
}

/* Every prefix of @doc: as a complete body it is malformed or gives the
 * whole document's value; as a window, truncated or that value. */
static void
prefixes(const char *path, const char *doc, int whole)
{
	static char cut[4096];
	uint32_t len, flen = 0;
	size_t n = strlen(doc);
	static char full[4096];
	int r, rf;

	rf = ex_n(path, doc, n, 1, 4096, &flen);
	CHECK(rf == whole, "%s in %s: %s", path, doc,
	      sp_capture_result_name(rf));
	memcpy(full, out, flen);
	for (size_t k = 0; k < n; k++) {
		memcpy(cut, doc, k); /* no NUL: nothing reads past k */
		r = ex_n(path, cut, k, 1, 4096, &len);
		CHECK(r == SP_CAPTURE_MALFORMED ||
			      (r == rf && len == flen && !memcmp(out, full, len)),
		      "%s in %.*s (complete): %s", path, (int)k, doc,
		      sp_capture_result_name(r));
		r = ex_n(path, cut, k, 0, 4096, &len);
		CHECK(r == SP_CAPTURE_TRUNCATED ||
			      (r == rf && len == flen && !memcmp(out, full, len)),
		      "%s in %.*s (window): %s", path, (int)k, doc,
		      sp_capture_result_name(r));
		/* The whole document at the top: never found early. */
		if (!strcmp(path, "$") && doc[0] == '{') {
			CHECK(ex_n(path, cut, k, 1, 4096, &len) ==
				      SP_CAPTURE_MALFORMED,
			      "$ in %.*s", (int)k, doc);
			CHECK(ex_n(path, cut, k, 0, 4096, &len) ==
				      SP_CAPTURE_TRUNCATED,
			      "$ in %.*s", (int)k, doc);
		}
	}
}

static void
test_prefixes(void)
{
	const char *doc = " {\"a\" : [1, -2.5e+3, true, false, null, "
			  "\"s\\u00e9\\ud83d\\ude00\xc3\xa9\", {\"b\": [ ]}],"
			  " \"c\": {\"d\": \"x\\\"]}\"}, \"n\": 1234} ";

	prefixes("$", doc, SP_CAPTURE_FOUND);
	prefixes("$.a", doc, SP_CAPTURE_FOUND);
	prefixes("$.a[0]", doc, SP_CAPTURE_FOUND);
	prefixes("$.a[1]", doc, SP_CAPTURE_FOUND);
	prefixes("$.a[2]", doc, SP_CAPTURE_FOUND);
	prefixes("$.a[5]", doc, SP_CAPTURE_FOUND);
	prefixes("$.a[-1].b", doc, SP_CAPTURE_FOUND);
	prefixes("$.c.d", doc, SP_CAPTURE_FOUND);
	prefixes("$.n", doc, SP_CAPTURE_FOUND);
	prefixes("$.x", doc, SP_CAPTURE_NOT_FOUND);
	prefixes("$.a[7]", doc, SP_CAPTURE_NOT_FOUND);
	prefixes("$.c.d.e", doc, SP_CAPTURE_NOT_FOUND);
	prefixes("$", "[0,[1,[2]],{}]", SP_CAPTURE_FOUND);
	prefixes("$[1][1][0]", "[0,[1,[2]],{}]", SP_CAPTURE_FOUND);
	prefixes("$[0]", "[-12.5e-7]", SP_CAPTURE_FOUND);
	prefixes("$", "\"\\ud83d\\ude00\"", SP_CAPTURE_FOUND);
	prefixes("$.z", "{\"z\":1.,\"a\":1}", SP_CAPTURE_MALFORMED);
}

static void
test_too_long(void)
{
	const char *doc = "{\"s\":\"0123456789\",\"o\":{\"k\":[1,2]},"
			  "\"e\":\"\\u00e9\\u00e9\",\"n\":-1.5}";
	uint32_t len;

	CHECK(ex_n("$.s", doc, strlen(doc), 1, 10, &len) ==
		      SP_CAPTURE_FOUND && len == 10,
	      "exact room");
	CHECK(ex_n("$.s", doc, strlen(doc), 1, 9, &len) ==
		      SP_CAPTURE_TOO_LONG,
	      "one short");
	CHECK(ex_n("$.s", doc, strlen(doc), 1, 0, &len) ==
		      SP_CAPTURE_TOO_LONG,
	      "no room");
	CHECK(ex_n("$.o", doc, strlen(doc), 1, 11, &len) ==
		      SP_CAPTURE_FOUND && len == 11,
	      "raw, exact room");
	CHECK(ex_n("$.o", doc, strlen(doc), 1, 10, &len) ==
		      SP_CAPTURE_TOO_LONG,
	      "raw, one short");
	/* Unescaped length: 4 bytes of UTF-8 from 12 of text. */
	CHECK(ex_n("$.e", doc, strlen(doc), 1, 4, &len) ==
		      SP_CAPTURE_FOUND && len == 4,
	      "unescaped fits");
	CHECK(ex_n("$.e", doc, strlen(doc), 1, 3, &len) ==
		      SP_CAPTURE_TOO_LONG,
	      "a character that does not fit whole");
	CHECK(ex_n("$.n", doc, strlen(doc), 1, 3, &len) ==
		      SP_CAPTURE_TOO_LONG,
	      "number");
	/* Too long is judged when the value has ended: a window that cuts
	 * it is truncated, a value malformed further on is malformed. */
	CHECK(ex_n("$.s", doc, 12, 0, 3, &len) == SP_CAPTURE_TRUNCATED,
	      "cut");
	CHECK(ex_n("$.s", "{\"s\":\"0123456\x01\"}", 16, 1, 3, &len) ==
		      SP_CAPTURE_MALFORMED,
	      "bad");
	CHECK(ex_n("$.o", doc, 30, 0, 3, &len) == SP_CAPTURE_TRUNCATED,
	      "raw cut");
}

/* @k arrays opened at the top then closed, wrapped in @obj objects. */
static const char *
nest(unsigned int obj, unsigned int k, char *b)
{
	char *p = b;

	for (unsigned int i = 0; i < obj; i++)
		p += sprintf(p, "{\"a\":");
	for (unsigned int i = 0; i < k; i++)
		*p++ = '[';
	*p++ = '7';
	for (unsigned int i = 0; i < k; i++)
		*p++ = ']';
	for (unsigned int i = 0; i < obj; i++)
		*p++ = '}';
	*p = 0;
	return b;
}

static void
test_depth(void)
{
	static char b[16384], path[1024];

	RESULT("$", nest(0, SP_JSON_MAX_DEPTH, b), 1, SP_CAPTURE_FOUND);
	RESULT("$", nest(0, SP_JSON_MAX_DEPTH + 1, b), 1,
	       SP_CAPTURE_MALFORMED);
	RESULT("$", nest(1000, 1000, b), 0, SP_CAPTURE_MALFORMED);
	/* Counted from the top, the path's containers included. */
	RESULT("$.a", nest(1, SP_JSON_MAX_DEPTH - 1, b), 1, SP_CAPTURE_FOUND);
	RESULT("$.a", nest(1, SP_JSON_MAX_DEPTH, b), 1, SP_CAPTURE_MALFORMED);
	RESULT("$.a.a.a", nest(3, SP_JSON_MAX_DEPTH - 3, b), 1,
	       SP_CAPTURE_FOUND);
	RESULT("$.a.a.a", nest(3, SP_JSON_MAX_DEPTH - 2, b), 1,
	       SP_CAPTURE_MALFORMED);
	strcpy(path, "$");
	for (int i = 0; i < SP_JSONPATH_MAX_SEGS; i++)
		strcat(path, "[0]");
	RESULT(path, nest(0, SP_JSON_MAX_DEPTH, b), 1, SP_CAPTURE_FOUND);
	/* 16 steps down, 48 more levels: still inside the bound. */
	FOUND(path, nest(0, SP_JSON_MAX_DEPTH, b),
	      nest(0, SP_JSON_MAX_DEPTH - SP_JSONPATH_MAX_SEGS, b + 2048));
	/* Too deep where the scan does not go: not read, not judged. */
	snprintf(b, sizeof(b), "{\"a\":1,\"b\":%s}",
		 nest(0, 2 * SP_JSON_MAX_DEPTH, path));
	RESULT("$.a", b, 1, SP_CAPTURE_FOUND);
	RESULT("$.c", b, 1, SP_CAPTURE_MALFORMED);
}

/* A 1 MiB document whose value comes last, behind every kind of value. */
static void
test_huge(void)
{
	enum { SZ = 1 << 20 };
	char *doc = malloc(SZ + 256);
	static const char *const filler[] = {
		"\"pad\":\"]}{[\\\"\\u00e9\xc3\xa9\",",
		"\"arr\":[1,-2.5e3,true,false,null,[],{},[[{\"x\":\"y\"}]]],",
		"\"obj\":{\"token\":\"decoy\",\"n\":{\"m\":[0]}},",
		"\"sp\" : [ 1 , 2 ] ,\n",
	};
	size_t n = 0, tok;
	uint32_t len;
	int i = 0;

	CHECK(doc != NULL, "malloc");
	if (!doc)
		return;
	doc[n++] = '{';
	while (n < SZ - 64) {
		const char *f = filler[i++ % 4];

		memcpy(doc + n, f, strlen(f));
		n += strlen(f);
	}
	tok = n;
	n += (size_t)sprintf(doc + n, "\"token\":\"abc.def\"}");
	CHECK(ex_n("$.token", doc, n, 1, 256, &len) == SP_CAPTURE_FOUND &&
		      len == 7 && !memcmp(out, "abc.def", 7),
	      "huge: found");
	CHECK(ex_n("$.obj.token", doc, n, 1, 256, &len) == SP_CAPTURE_FOUND &&
		      len == 5 && !memcmp(out, "decoy", 5),
	      "huge: the first");
	CHECK(ex_n("$.missing", doc, n, 1, 256, &len) ==
		      SP_CAPTURE_NOT_FOUND,
	      "huge: not found");
	CHECK(ex_n("$", doc, n, 1, SZ + 256, &len) == SP_CAPTURE_FOUND &&
		      len == n,
	      "huge: whole");
	CHECK(ex_n("$", doc, n, 1, (uint32_t)n - 1, &len) ==
		      SP_CAPTURE_TOO_LONG,
	      "huge: whole, too long");
	/* Windows that end before the value, or inside it. */
	CHECK(ex_n("$.token", doc, 65536, 0, 256, &len) ==
		      SP_CAPTURE_TRUNCATED,
	      "huge: 64 KiB window");
	CHECK(ex_n("$.token", doc, tok + 12, 0, 256, &len) ==
		      SP_CAPTURE_TRUNCATED,
	      "huge: cut in the value");
	CHECK(ex_n("$.token", doc, tok + 17, 0, 256, &len) ==
		      SP_CAPTURE_FOUND && len == 7,
	      "huge: window just long enough");
	CHECK(ex_n("$.token", doc, 65536, 1, 256, &len) ==
		      SP_CAPTURE_MALFORMED,
	      "huge: cut but said complete");
	free(doc);
}

static void
compile_err(const char *path, const char *want)
{
	struct sp_jsonpath jp;
	char why[128] = "";

	CHECK(sp_jsonpath_compile(&jp, path, why, sizeof(why)) == -1 &&
		      !strcmp(why, want),
	      "%s: '%s', not '%s'", path, why, want);
}

static void
test_compile(void)
{
	static char p[2048];
	struct sp_jsonpath jp;
	char why[128];

	compile_err("", "json: expected '$' at 0");
	compile_err("a.b", "json: expected '$' at 0");
	compile_err("$a", "json: expected '.' or '[' at 1");
	compile_err("$.data x", "json: expected '.' or '[' at 6");
	compile_err("$.a]", "json: expected '.' or '[' at 3");
	compile_err("$.", "json: expected a name at 2 (quote it: ['...'])");
	compile_err("$.a.", "json: expected a name at 4 (quote it: ['...'])");
	compile_err("$.a.b c", "json: expected '.' or '[' at 5");
	compile_err("$.@", "json: expected a name at 2 (quote it: ['...'])");
	compile_err("$..a", "json: recursive descent '..' is not supported "
			    "at 1");
	compile_err("$.*", "json: wildcards are not supported at 2");
	compile_err("$[*]", "json: wildcards are not supported at 2");
	compile_err("$.a[?(@.b)]", "json: filters are not supported at 4");
	compile_err("$[1:2]", "json: slices are not supported at 3");
	compile_err("$[:2]", "json: slices are not supported at 2");
	compile_err("$[0,1]", "json: unions are not supported at 3");
	compile_err("$['a','b']", "json: unions are not supported at 5");
	compile_err("$[01]", "json: leading zero in an index at 2");
	compile_err("$[-0]", "json: -0 is not an index at 2");
	compile_err("$[-]", "json: expected a digit at 3");
	compile_err("$[2147483648]", "json: index too large at 2");
	compile_err("$[-2147483648]", "json: index too large at 2");
	compile_err("$[abc]", "json: expected a quoted name or an index at 2");
	compile_err("$[]", "json: expected a quoted name or an index at 2");
	compile_err("$[0", "json: expected ']' at 3");
	compile_err("$[0 1]", "json: expected ']' at 4");
	compile_err("$['abc", "json: unterminated name at 2");
	compile_err("$['abc\"]", "json: unterminated name at 2");
	compile_err("$['a\\x']", "json: invalid escape at 4");
	compile_err("$['a\\", "json: invalid escape at 4");
	compile_err("$['\\u12']", "json: invalid escape at 3");
	compile_err("$['\\ud83d']", "json: invalid escape at 3");
	compile_err("$['\\ude00']", "json: invalid escape at 3");
	compile_err("$['a\tb']", "json: control character in a name at 4");
	strcpy(p, "$");
	for (int i = 0; i < SP_JSONPATH_MAX_SEGS; i++)
		strcat(p, ".a");
	CHECK(sp_jsonpath_compile(&jp, p, why, sizeof(why)) == 0 &&
		      jp.nsegs == SP_JSONPATH_MAX_SEGS,
	      "16 steps: %s", why);
	strcat(p, "[0]");
	compile_err(p, "json: more than 16 steps at 33");
	/* The names' room, all in one or over several. */
	memset(p, 0, sizeof(p));
	p[0] = '$';
	p[1] = '.';
	memset(p + 2, 'k', SP_JSONPATH_KEYS);
	CHECK(sp_jsonpath_compile(&jp, p, why, sizeof(why)) == 0 &&
		      jp.seg[0].len == SP_JSONPATH_KEYS,
	      "a full room: %s", why);
	p[2 + SP_JSONPATH_KEYS] = 'k';
	compile_err(p, "json: names longer than 512 bytes in all at 1");
	snprintf(p, sizeof(p), "$['%0500d'].abcdefghijklm", 0);
	compile_err(p, "json: names longer than 512 bytes in all at 505");
	/* What compiles, and into what. */
	CHECK(sp_jsonpath_compile(&jp, "$", why, sizeof(why)) == 0 &&
		      jp.nsegs == 0,
	      "$");
	CHECK(sp_jsonpath_compile(&jp, "$[ -7 ][\t'x\\u00e9' ].y[2147483647]",
				  why, sizeof(why)) == 0 &&
		      jp.nsegs == 4 && jp.seg[0].kind == SP_JSONPATH_INDEX &&
		      jp.seg[0].index == -7 &&
		      jp.seg[1].kind == SP_JSONPATH_KEY &&
		      jp.seg[1].len == 3 &&
		      !memcmp(jp.keys + jp.seg[1].off, "x\xc3\xa9", 3) &&
		      jp.seg[2].len == 1 && jp.keys[jp.seg[2].off] == 'y' &&
		      jp.seg[3].index == INT32_MAX,
	      "mixed: %s", why);
	/* A NULL why is allowed. */
	CHECK(sp_jsonpath_compile(&jp, "x", NULL, 0) == -1, "NULL why");
	CHECK(!strcmp(sp_capture_result_name(SP_CAPTURE_TOO_LONG),
		      "too_long") &&
		      !strcmp(sp_capture_result_name(SP_CAPTURE_FOUND),
			      "found") &&
		      !strcmp(sp_capture_result_name(99), "?"),
	      "names");
}

/* ---- random documents, whose generator knows every value ---- */

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t
rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

struct gen {
	char doc[16384];
	size_t n;
	/* One value picked on the way: its path and its extracted text. */
	char path[2048], want[16384];
	size_t wlen;
	int picked; /* 1: done; 2: a container, its members not eligible */
};

static void
gen_blank(struct gen *g)
{
	static const char b[] = " \t\r\n";

	while (rnd(4) == 0)
		g->doc[g->n++] = b[rnd(4)];
}

/* A string's inside into the document, escaped at random; its unescaped
 * bytes into @raw, their number returned. */
static size_t
gen_string(struct gen *g, char *raw)
{
	static const char *const pieces[][2] = {
		{"a", "a"},
		{"Z", "Z"},
		{"]", "]"},
		{"{", "{"},
		{"\\\"", "\""},
		{"\\\\", "\\"},
		{"\\n", "\n"},
		{"\\/", "/"},
		{"\\u00e9", "\xc3\xa9"},
		{"\xc3\xa9", "\xc3\xa9"},
		{"\\u0041", "A"},
		{"\\ud83d\\ude00", "\xf0\x9f\x98\x80"},
		{"\xe2\x82\xac", "\xe2\x82\xac"},
		{":,", ":,"},
	};
	size_t k = 0, m = rnd(6);

	for (size_t i = 0; i < m; i++) {
		const char *const *pc = pieces[rnd(14)];

		memcpy(g->doc + g->n, pc[0], strlen(pc[0]));
		g->n += strlen(pc[0]);
		memcpy(raw + k, pc[1], strlen(pc[1]));
		k += strlen(pc[1]);
	}
	return k;
}

/* A value at @path[0 .. plen) (depth @d); the first value picked wins. */
static void
gen_value(struct gen *g, char *path, size_t plen, int d)
{
	static const char *const scalars[] = {"0", "-1", "12.5", "1e3",
					      "-0.5E-2", "true", "false",
					      "null"};
	uint32_t kind = d > 5 || g->n > 12000 ? rnd(2) : rnd(4);
	int pick = !g->picked && rnd(6) == 0;
	size_t start, kids, i, k;
	char raw[512];

	gen_blank(g);
	start = g->n;
	if (kind == 0) {
		const char *s = scalars[rnd(8)];

		memcpy(g->doc + g->n, s, strlen(s));
		g->n += strlen(s);
		if (pick) {
			memcpy(g->want, s, strlen(s));
			g->wlen = strlen(s);
		}
	} else if (kind == 1) {
		g->doc[g->n++] = '"';
		k = gen_string(g, raw);
		g->doc[g->n++] = '"';
		if (pick) {
			memcpy(g->want, raw, k);
			g->wlen = k;
		}
	} else {
		int obj = kind == 2;

		/* A picked container is judged on its raw text: none of
		 * its members may be picked instead. */
		if (pick)
			g->picked = 2;
		g->doc[g->n++] = obj ? '{' : '[';
		kids = rnd(4);
		for (i = 0; i < kids; i++) {
			size_t pl = plen, name;

			if (i)
				g->doc[g->n++] = ',';
			gen_blank(g);
			if (obj) {
				/* Names made unique by a leading digit; the
				 * path quotes them escaped as the document
				 * does (they unescape the same). */
				g->doc[g->n++] = '"';
				name = g->n;
				g->doc[g->n++] = (char)('0' + i);
				gen_string(g, raw);
				pl += (size_t)sprintf(path + pl, "[\"%.*s\"]",
						      (int)(g->n - name),
						      g->doc + name);
				g->doc[g->n++] = '"';
				gen_blank(g);
				g->doc[g->n++] = ':';
			} else {
				pl += (size_t)sprintf(path + pl, "[%zu]", i);
			}
			gen_value(g, path, pl, d + 1);
		}
		gen_blank(g);
		g->doc[g->n++] = obj ? '}' : ']';
		if (pick) {
			memcpy(g->want, g->doc + start, g->n - start);
			g->wlen = g->n - start;
		}
	}
	if (pick) {
		memcpy(g->path, path, plen);
		g->path[plen] = 0;
		g->picked = 1;
	}
}

static void
test_random(void)
{
	static struct gen g;
	char path[2048];
	uint32_t len;
	int r, rounds = 0;

	for (int t = 0; t < 6000; t++) {
		memset(&g, 0, sizeof(g));
		strcpy(path, "$");
		gen_value(&g, path, 1, 0);
		gen_blank(&g);
		if (g.picked != 1)
			continue;
		rounds++;
		r = ex_n(g.path, g.doc, g.n, 1, 4096, &len);
		CHECK(r == SP_CAPTURE_FOUND && len == g.wlen &&
			      !memcmp(out, g.want, len),
		      "random %d: %s in %.*s: %s '%.*s'", t, g.path,
		      (int)g.n, g.doc, sp_capture_result_name(r), (int)len,
		      out);
	}
	CHECK(rounds > 1000, "only %d random rounds", rounds);
}

int
main(void)
{
	test_compile();
	test_paths();
	test_values();
	test_escapes();
	test_skipping();
	test_not_found();
	test_malformed();
	test_prefixes();
	test_too_long();
	test_depth();
	test_huge();
	test_random();
	printf("test_capture: %d checks, %d failed\n", sp_tests, sp_failed);
	return sp_failed != 0;
}
