/*
 * Files read whole, and the CSV data file (data:) a scenario's templates
 * take their {{column}} values from.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include "sp_scenario_int.h"

/* The whole of a regular file (a FIFO or /dev/zero would never end).
 * Messages name it @shown: the path as the user wrote it. */
char *
sp_read_file(const char *path, const char *shown, size_t max, size_t *len,
	     char *why)
{
	struct stat st;
	char *buf;
	size_t got = 0;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		sp_why(why, "cannot open %s: %s", shown, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		sp_why(why, "%s is not a regular file", shown);
		close(fd);
		return NULL;
	}
	if ((uint64_t)st.st_size > max) {
		sp_why(why, "%s is larger than %zu bytes", shown, max);
		close(fd);
		return NULL;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		sp_why(why, "out of memory");
		close(fd);
		return NULL;
	}
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	buf[got] = '\0';
	*len = got;
	return buf;
}

struct sp_csv {
	const char *p, *end;
	char *out; /* cell bytes, NUL after each */
	unsigned line;
	uint32_t nfield; /* fields of the record so far */
	const char **cells;
	uint32_t *cell_len;
	uint32_t ncells, cap, lcap;
	uint32_t max_len;
};

/* One field at c->p: quoted with "" for a quote, or bare up to ',' or the
 * end of the line. Leaves c->p on the separator. */
static int
sp_csv_field(struct sp_plan *pl, struct sp_csv *c, char *why)
{
	char *start = c->out;
	uint32_t len;

	if (c->p < c->end && *c->p == '"') {
		for (c->p++;; c->p++) {
			if (c->p == c->end)
				return sp_why(why, "unclosed quote");
			if (*c->p == '"') {
				if (c->p + 1 < c->end && c->p[1] == '"') {
					*c->out++ = '"';
					c->p++;
					continue;
				}
				c->p++;
				break;
			}
			*c->out++ = *c->p;
		}
		if (c->p < c->end && *c->p == '\r')
			c->p++;
		if (c->p < c->end && *c->p != ',' && *c->p != '\n')
			return sp_why(why, "text after a closing quote");
	} else {
		while (c->p < c->end && *c->p != ',' && *c->p != '\n')
			*c->out++ = *c->p++;
		if (c->out > start && c->out[-1] == '\r' &&
		    (c->p == c->end || *c->p == '\n'))
			c->out--;
	}
	len = (uint32_t)(c->out - start);
	*c->out++ = '\0';
	/* A cell goes into paths and header values as it is: a line break
	 * or a control byte there would be an injection. */
	if (sp_tpl_text_ok(start, len, SP_TPL_HEADER, why, SP_WHY) < 0)
		return sp_why(why,
			      "field %u holds a line break or control "
			      "byte",
			      c->nfield + 1);
	c->cells = sp_mem_grow(pl, c->cells, &c->cap, c->ncells + 1,
			       sizeof(*c->cells));
	c->cell_len = sp_mem_grow(pl, c->cell_len, &c->lcap, c->ncells + 1,
				  sizeof(*c->cell_len));
	if (c->cells == NULL || c->cell_len == NULL)
		return sp_why(why, "out of memory");
	c->cells[c->ncells] = start;
	c->cell_len[c->ncells++] = len;
	c->nfield++;
	if (len > c->max_len)
		c->max_len = len;
	return 0;
}

/* A record: fields up to the end of the line. Returns the field count. */
static int
sp_csv_record(struct sp_plan *pl, struct sp_csv *c, char *why)
{
	int n = 0;

	c->nfield = 0;
	for (;;) {
		if (sp_csv_field(pl, c, why) < 0)
			return -1;
		n++;
		if (c->p == c->end)
			break;
		if (*c->p++ == '\n')
			break;
	}
	c->line++;
	return n;
}

/*
 * The data file: RFC 4180 records (CRLF or LF line ends), the first naming
 * the columns. A UTF-8 byte order mark (spreadsheet exports write one) is
 * not part of the first column's name. Errors are "@name:LINE: what", the
 * form editors and compilers use, so the line can be opened directly.
 */
int
sp_csv_parse(struct sp_plan *pl, const char *name, const char *buf, size_t len,
	     char *why)
{
	struct sp_csv c = { .p = buf, .end = buf + len, .line = 1 };
	struct sp_data *d;
	int ncols = 0, n;

	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		c.p += 3;

	/* Unquoting only shrinks: the file's size plus a NUL per field
	 * (each field but the last ends at a byte we drop) holds every cell. */
	c.out = sp_mem_alloc(pl, len + 1);
	d = sp_mem_alloc(pl, sizeof(*d));
	if (c.out == NULL || d == NULL)
		return sp_why(why, "out of memory");
	while (c.p < c.end) {
		unsigned line = c.line;

		if (*c.p == '\n' ||
		    (*c.p == '\r' && c.p + 1 < c.end && c.p[1] == '\n')) {
			c.p += *c.p == '\r' ? 2 : 1;
			c.line++;
			continue;
		}
		n = sp_csv_record(pl, &c, why);
		if (n < 0) {
			char what[SP_WHY];

			memcpy(what, why, SP_WHY); /* why is the output too */
			return sp_why(why, "%s:%u: %s", name, line, what);
		}
		if (ncols == 0) {
			ncols = n;
			continue;
		}
		if (n != ncols)
			return sp_why(why,
				      "%s:%u: %d fields, expected %d (as "
				      "the first line)",
				      name, line, n, ncols);
	}
	if (ncols == 0)
		return sp_why(why,
			      "%s is empty (the first line names the "
			      "columns)",
			      name);
	for (int i = 0; i < ncols; i++) {
		if (c.cell_len[i] == 0)
			return sp_why(why, "%s:1: column %d has no name", name,
				      i + 1);
		for (int j = 0; j < i; j++)
			if (strcmp(c.cells[i], c.cells[j]) == 0)
				return sp_why(why,
					      "%s:1: column '%s' appears "
					      "twice",
					      name, c.cells[i]);
	}
	if (c.ncells == (uint32_t)ncols)
		return sp_why(why, "%s:1: no data rows after the column names",
			      name);
	d->ncols = (uint32_t)ncols;
	d->nrows = c.ncells / (uint32_t)ncols - 1;
	d->cols = c.cells;
	d->cells = c.cells + ncols;
	d->cell_len = c.cell_len + ncols;
	d->max_cell_len = 0;
	for (uint32_t i = 0; i < d->nrows * d->ncols; i++)
		if (d->cell_len[i] > d->max_cell_len)
			d->max_cell_len = d->cell_len[i];
	pl->data = d;
	return 0;
}
