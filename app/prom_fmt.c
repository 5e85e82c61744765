/*
 * The exposition format's pieces (sp_prom.h): names, escaped labels,
 * samples, and sp_hist as a Prometheus histogram on coarser, exact edges.
 */
#include <inttypes.h>
#include <string.h>

#include "sp_prom.h"

uint64_t
sp_prom_edge(unsigned k)
{
	unsigned e = 4 + k / 4; /* [2^e, 2^(e+1)), four edges in each */

	return (uint64_t)(4 + k % 4) << (e - 2);
}

int
sp_prom_escape(char *out, size_t len, const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++) {
		const char *rep = *s == '\\' ? "\\\\" :
				  *s == '"'  ? "\\\"" :
				  *s == '\n' ? "\\n" :
					       NULL;
		size_t k = rep != NULL ? 2 : 1;

		if (n + k >= len)
			return -1;
		if (rep != NULL)
			memcpy(out + n, rep, 2);
		else
			out[n] = *s;
		n += k;
	}
	if (n >= len)
		return -1;
	out[n] = '\0';
	return 0;
}

void
sp_prom_head(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Labels every sample of the page carries first (a shard's), or "". */
static const char *sp_prom_base = "";

void
sp_prom_set_base_labels(const char *labels)
{
	sp_prom_base = labels != NULL ? labels : "";
}

/* NAME{BASE,LABELS@tail} or NAME{BASE@tail}, braces only when there is
 * a label; @tail (",le=..." or "") ends a bucket's. */
static void
sp_prom_series(FILE *f, const char *name, const char *labels,
	       const char *tail)
{
	int have = labels != NULL && labels[0] != '\0';
	int base = sp_prom_base[0] != '\0';

	if (!have && !base && tail[0] == '\0') {
		fputs(name, f);
		return;
	}
	fprintf(f, "%s{%s%s%s", name, sp_prom_base, base && have ? "," : "",
		have ? labels : "");
	if (tail[0] != '\0')
		fputs((have || base) ? tail : tail + 1, f);
	fputc('}', f);
}

static void
sp_prom_name(FILE *f, const char *name, const char *labels)
{
	sp_prom_series(f, name, labels, "");
	fputc(' ', f);
}

void
sp_prom_u64(FILE *f, const char *name, const char *labels, uint64_t v)
{
	sp_prom_name(f, name, labels);
	fprintf(f, "%" PRIu64 "\n", v);
}

void
sp_prom_scalar(FILE *f, const char *name, const char *type, const char *help,
	       uint64_t v)
{
	sp_prom_head(f, name, type, help);
	sp_prom_u64(f, name, NULL, v);
}

void
sp_prom_f64(FILE *f, const char *name, const char *labels, double v)
{
	sp_prom_name(f, name, labels);
	fprintf(f, "%.17g\n", v);
}

/* Microseconds as seconds, exactly: "0.000319". */
static void
sp_prom_secs(FILE *f, uint64_t us)
{
	fprintf(f, "%" PRIu64 ".%06" PRIu64, us / 1000000, us % 1000000);
}

void
sp_prom_hist(FILE *f, const char *name, const char *labels,
	     const struct sp_hist *h)
{
	char n[128], le[40];
	uint64_t cum = 0, e;
	unsigned i = 0;

	snprintf(n, sizeof(n), "%s_bucket", name);
	for (unsigned k = 0; k < SP_PROM_EDGES; k++) {
		/* Every sp_hist bucket below the edge: the edge is the
		 * lowest value of bucket sp_hist_index(edge). */
		unsigned to = sp_hist_index(sp_prom_edge(k));

		for (; i < to; i++)
			cum += h->b[i];
		e = sp_prom_edge(k) - 1;
		snprintf(le, sizeof(le), ",le=\"%" PRIu64 ".%06" PRIu64 "\"",
			 e / 1000000, e % 1000000);
		sp_prom_series(f, n, labels, le);
		fprintf(f, " %" PRIu64 "\n", cum);
	}
	for (; i < SP_HIST_BUCKETS; i++)
		cum += h->b[i];
	sp_prom_series(f, n, labels, ",le=\"+Inf\"");
	fprintf(f, " %" PRIu64 "\n", cum);
	snprintf(n, sizeof(n), "%s_sum", name);
	sp_prom_name(f, n, labels);
	sp_prom_secs(f, h->sum);
	fputc('\n', f);
	snprintf(n, sizeof(n), "%s_count", name);
	sp_prom_name(f, n, labels);
	fprintf(f, "%" PRIu64 "\n", cum);
}
