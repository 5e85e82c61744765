/*
 * Plans built by hand for the virtual-user engine's tests (test_vu.c and
 * fuzz_vu.c): a template of literal text, its one part taken from a pool
 * the caller owns.
 */
#ifndef SP_VU_PLAN_H
#define SP_VU_PLAN_H

#include <string.h>

#include "sp_plan.h"

static inline struct sp_tpl
sp_t_lit(struct sp_tpl_part *pool, unsigned *used, const char *s)
{
	struct sp_tpl t = { s, (uint32_t)strlen(s), NULL, 0, SP_TPL_BODY };

	if (t.text_len != 0) {
		struct sp_tpl_part *p = &pool[(*used)++];

		memset(p, 0, sizeof(*p));
		p->var = SP_VAR_LITERAL;
		p->len = t.text_len;
		t.parts = p;
		t.nparts = 1;
	}
	return t;
}

#endif /* SP_VU_PLAN_H */
