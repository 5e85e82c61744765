/*
 * html_render IN.json OUT.html: the HTML report of a JSON report file, for
 * tests/integration/test_html.sh (stampede itself needs a run and a NIC to
 * make one; the page only needs the JSON).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_html.h"

int
main(int argc, char **argv)
{
	FILE *in, *out;
	char *buf = NULL;
	size_t len = 0, cap = 0, n;
	int rc;

	if (argc != 3) {
		fprintf(stderr, "usage: html_render IN.json OUT.html\n");
		return 2;
	}
	in = fopen(argv[1], "rb");
	if (in == NULL) {
		perror(argv[1]);
		return 1;
	}
	do {
		if (len == cap) {
			cap = cap ? 2 * cap : 65536;
			buf = realloc(buf, cap);
			if (buf == NULL) {
				perror("html_render");
				return 1;
			}
		}
		n = fread(buf + len, 1, cap - len, in);
		len += n;
	} while (n > 0);
	if (ferror(in)) {
		perror(argv[1]);
		return 1;
	}
	fclose(in);
	out = fopen(argv[2], "w");
	if (out == NULL) {
		perror(argv[2]);
		return 1;
	}
	rc = sp_html_write(out, buf, len);
	if (fclose(out) != 0 && rc == 0)
		rc = -1;
	free(buf);
	if (rc < 0) {
		fprintf(stderr, "html_render: writing %s failed (%s)\n",
			argv[2], rc == -1 ? "close" : strerror(-rc));
		return 1;
	}
	return 0;
}
