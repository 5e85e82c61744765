/*
 * CHECK for the unit tests that need no stack harness (the parsers, the
 * histograms, the scenario loader): count every check, report each that
 * fails with a printf-style explanation, and let main() return
 * sp_failed != 0. The stack tests use harness.h's richer CHECK_* instead.
 */
#ifndef SP_CHECK_H
#define SP_CHECK_H

#include <stdio.h>

static int sp_tests, sp_failed;

#define CHECK(cond, ...)                                                       \
	do {                                                                   \
		sp_tests++;                                                    \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, \
				__LINE__, #cond);                              \
			fprintf(stderr, __VA_ARGS__);                          \
			fputc('\n', stderr);                                   \
			sp_failed++;                                           \
		}                                                              \
	} while (0)

#endif /* SP_CHECK_H */
