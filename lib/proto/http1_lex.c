/* The character-class table of http1_lex.h. */
#include "http1_lex.h"

#define T (SP_LEX_TCHAR | SP_LEX_VCHAR)
#define V SP_LEX_VCHAR
#define D (SP_LEX_TCHAR | SP_LEX_VCHAR | SP_LEX_DIGIT)

const uint8_t sp_lex_class[256] = {
	['\t'] = V,        [' '] = V,           ['!'] = T, ['"'] = V,
	['#'] = T,         ['$'] = T,           ['%'] = T, ['&'] = T,
	['\''] = T,        ['('] = V,           [')'] = V, ['*'] = T,
	['+'] = T,         [','] = V,           ['-'] = T, ['.'] = T,
	['/'] = V,         ['0' ... '9'] = D,   [':'] = V, [';'] = V,
	['<'] = V,         ['='] = V,           ['>'] = V, ['?'] = V,
	['@'] = V,         ['A' ... 'Z'] = T,   ['['] = V, ['\\'] = V,
	[']'] = V,         ['^'] = T,           ['_'] = T, ['`'] = T,
	['a' ... 'z'] = T, ['{'] = V,           ['|'] = T, ['}'] = V,
	['~'] = T,         [0x80 ... 0xff] = V,
};
