/*
 * CHECK for the unit tests that need no stack harness (the parsers, the
 * histograms, the scenario loader, the engine over a fake stream): count
 * every check, report each that fails, and let main() return
 * sp_failed != 0. The stack tests use harness.h's richer CHECK_* instead.
 *
 *   CHECK(cond)                  the condition is the explanation;
 *   CHECK(cond, fmt, ...)        a printf-style one besides;
 *   CHECK_EQ(a, b)               both values printed, as unsigned long long.
 *
 * A fuzz target defines SP_CHECK_ABORT first: the first failure aborts,
 * so that libFuzzer keeps the input. A test that runs its cases several
 * ways (test_tls: per pair of engines) defines SP_CHECK_CONTEXT first, an
 * expression giving a string that prefixes every failure's message.
 */
#ifndef SP_CHECK_H
#define SP_CHECK_H

#include <stdio.h>
#include <stdlib.h>

static int sp_tests, sp_failed;

#ifndef SP_CHECK_CONTEXT
#define SP_CHECK_CONTEXT ""
#endif

#ifdef SP_CHECK_ABORT
#define SP_CHECK_FAILED_() abort()
#else
#define SP_CHECK_FAILED_() ((void)0)
#endif

#define SP_CHECK_BARE_(cond)                                                   \
	do {                                                                   \
		sp_tests++;                                                    \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: %sCHECK failed: %s\n",         \
				__FILE__, __LINE__, SP_CHECK_CONTEXT, #cond);  \
			sp_failed++;                                           \
			SP_CHECK_FAILED_();                                    \
		}                                                              \
	} while (0)

#define SP_CHECK_MSG_(cond, ...)                                               \
	do {                                                                   \
		sp_tests++;                                                    \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: %sCHECK failed: %s: ",         \
				__FILE__, __LINE__, SP_CHECK_CONTEXT, #cond);  \
			fprintf(stderr, __VA_ARGS__);                          \
			fputc('\n', stderr);                                   \
			sp_failed++;                                           \
			SP_CHECK_FAILED_();                                    \
		}                                                              \
	} while (0)

/* The bare form for one argument, the explained one for more. */
#define SP_CHECK_PICK_(_1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12,     \
		       _13, _14, _15, _16, _17, _18, _19, _20, _21, _22, _23, \
		       _24, name, ...)                                        \
	name
#define CHECK(...)                                                             \
	SP_CHECK_PICK_(__VA_ARGS__, SP_CHECK_MSG_, SP_CHECK_MSG_,             \
		       SP_CHECK_MSG_, SP_CHECK_MSG_, SP_CHECK_MSG_,           \
		       SP_CHECK_MSG_, SP_CHECK_MSG_, SP_CHECK_MSG_,           \
		       SP_CHECK_MSG_, SP_CHECK_MSG_, SP_CHECK_MSG_,           \
		       SP_CHECK_MSG_, SP_CHECK_MSG_, SP_CHECK_MSG_,           \
		       SP_CHECK_MSG_, SP_CHECK_MSG_, SP_CHECK_MSG_,           \
		       SP_CHECK_MSG_, SP_CHECK_MSG_, SP_CHECK_MSG_,           \
		       SP_CHECK_MSG_, SP_CHECK_MSG_, SP_CHECK_MSG_,           \
		       SP_CHECK_BARE_, _)(__VA_ARGS__)

#define CHECK_EQ(a, b)                                                         \
	do {                                                                   \
		unsigned long long a_ = (unsigned long long)(a);               \
		unsigned long long b_ = (unsigned long long)(b);               \
		CHECK(a_ == b_, "%s = %llu, %s = %llu", #a, a_, #b, b_);       \
	} while (0)

#endif /* SP_CHECK_H */
