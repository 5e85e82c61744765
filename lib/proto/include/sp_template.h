/*
 * The template compiler: a request's path, header values and body, as a
 * scenario writes them ("/items/{{random 1 100}}?u={{data.user | url}}"),
 * into the literal bytes and parts of a struct sp_tpl (sp_plan.h) that the
 * engine's renderer (vu_render.c) fills per request. One owner for
 * templates: this file compiles, vu_render.c renders.
 *
 * The compiler allocates through its caller (struct sp_tpl_env.grow: the
 * scenario loader keeps every block of a plan in one list) and reports a
 * problem as one line in @why; it reads the data file's columns (for
 * {{data.NAME}}) and the environment ({{env NAME}}, read once, here).
 */
#ifndef SP_TEMPLATE_H
#define SP_TEMPLATE_H

#include <stddef.h>
#include <stdint.h>

#include "sp_plan.h"

/* What a compilation may use. */
struct sp_tpl_env {
	/* Room for @need elements of @elem bytes in @arr (its capacity in
	 * *@cap), keeping what is there; NULL when out of memory. */
	void *(*grow)(void *mem, void *arr, uint32_t *cap, uint32_t need,
		      size_t elem);
	void *mem;
	const struct sp_data *data; /* {{data.NAME}}'s columns, or NULL */
	/* {{NAME}} (@setup 0) and {{setup.NAME}} (@setup 1): the index of
	 * variable @name in plan->vars, registered on first mention (that
	 * some request captures it is the caller's to check once the whole
	 * scenario is read); -1 with why in @why. NULL: no variables. */
	int (*var)(void *ctx, const char *name, int setup, uint32_t *idx,
		   char *why, size_t whylen);
	void *var_ctx;
};

/* A template being compiled; zero it to start. */
struct sp_tpl_build {
	char *text;
	uint32_t len, cap;
	struct sp_tpl_part *parts;
	uint32_t nparts, pcap;
	uint8_t ctx; /* enum sp_tpl_ctx */
};

/* Whether @n bytes of literal text may stand in context @ctx (no space or
 * control byte in a path, no CR, LF or other control byte in a header
 * value): 0, or -1 with why in @why (@whylen bytes). */
int sp_tpl_text_ok(const char *s, size_t n, enum sp_tpl_ctx ctx, char *why,
		   size_t whylen);
/* Append literal bytes, unchecked (the caller's own: "Name: ", CRLF). */
int sp_tpl_lit(const struct sp_tpl_env *env, struct sp_tpl_build *b,
	       const char *s, size_t n, char *why, size_t whylen);
/* Append @n bytes of template text for context @ctx: literal text
 * checked, each {{...}} compiled (vu, iteration, random A B, data.NAME,
 * env NAME, uuid, time_ms, random_string N, a variable NAME or
 * setup.NAME, each with an optional filter | json, | url, | raw). 0, or
 * -1 with why in @why. */
int sp_tpl_add(const struct sp_tpl_env *env, struct sp_tpl_build *b,
	       const char *s, size_t n, enum sp_tpl_ctx ctx, char *why,
	       size_t whylen);
/* Whether @name may name a variable (a capture's, {{NAME}}): [A-Za-z_]
 * [A-Za-z0-9_]*, at most SP_TPL_VAR_MAX bytes, not a built-in's name (vu,
 * iteration, random, data, env, setup, uuid, time_ms, random_string). 0,
 * or -1 with why in @why. */
#define SP_TPL_VAR_MAX 64
int sp_tpl_var_name_ok(const char *name, char *why, size_t whylen);
/* The compiled template (pointing into the build's blocks). */
void sp_tpl_done(const struct sp_tpl_build *b, struct sp_tpl *t);

#endif /* SP_TEMPLATE_H */
