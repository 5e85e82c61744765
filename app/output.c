/*
 * Report files: where each goes, and that no two go to the same place.
 *
 * `--json -` is standard output, for a pipe into jq; the human summary
 * then goes to standard error so that standard output is the JSON alone.
 * Two reports named to the same file (--json r.json --html r.json, or a
 * --csv PREFIX whose PREFIX_stats.csv is --json's file) would leave
 * whichever was written last: refused before the run, as is a report over
 * the scenario file itself.
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sp_app.h"

int
sp_out_is_stdout(const char *path)
{
	return path != NULL && strcmp(path, "-") == 0;
}

FILE *
sp_out_open(const char *opt, const char *path)
{
	FILE *f;

	if (sp_out_is_stdout(path))
		return stdout;
	f = fopen(path, "w");
	if (f == NULL)
		sp_usage_error("%s: cannot write %s: %s", opt, path,
			       strerror(errno));
	return f;
}

void
sp_out_discard(FILE *f, const char *path)
{
	if (f == NULL)
		return;
	if (f == stdout) {
		fflush(f);
		return;
	}
	fclose(f);
	unlink(path);
}

FILE *
sp_out_summary(const char *json_path)
{
	return sp_out_is_stdout(json_path) ? stderr : stdout;
}

/* @path as an absolute name: its directory resolved (symbolic links,
 * "..", "."), then its last component. 0, or -1 if the directory does
 * not resolve (opening the file will then say why). */
static int
sp_out_canon(const char *path, char *out, size_t len)
{
	char a[PATH_MAX], b[PATH_MAX], dir[PATH_MAX];

	if (strlen(path) >= sizeof(a))
		return -1;
	strcpy(a, path);
	strcpy(b, path);
	if (realpath(dirname(a), dir) == NULL)
		return -1;
	return snprintf(out, len, "%s/%s", dir, basename(b)) < (int)len ? 0 :
									  -1;
}

static int
sp_out_same(const char *x, const char *y)
{
	struct stat sx, sy;
	char cx[PATH_MAX + 2], cy[PATH_MAX + 2];

	if (sp_out_is_stdout(x) || sp_out_is_stdout(y))
		return sp_out_is_stdout(x) && sp_out_is_stdout(y);
	/* Files that exist: the same inode (hard links, bind mounts). */
	if (stat(x, &sx) == 0 && stat(y, &sy) == 0)
		return sx.st_dev == sy.st_dev && sx.st_ino == sy.st_ino;
	if (sp_out_canon(x, cx, sizeof(cx)) < 0 ||
	    sp_out_canon(y, cy, sizeof(cy)) < 0)
		return strcmp(x, y) == 0;
	return strcmp(cx, cy) == 0;
}

int
sp_out_distinct(const struct sp_out_name *o, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		if (o[i].path == NULL)
			continue;
		for (unsigned int j = 0; j < i; j++) {
			if (o[j].path == NULL ||
			    !sp_out_same(o[i].path, o[j].path))
				continue;
			sp_usage_error("%s: %s is also %s%s: give each its own "
				       "file",
				       o[i].opt, o[i].path, o[j].opt,
				       o[j].input ? "" : "'s report");
			return -1;
		}
	}
	return 0;
}

void
sp_out_csv_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}
