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

static void
sp_prom_name(FILE *f, const char *name, const char *labels)
{
	if (labels != NULL && labels[0] != '\0')
		fprintf(f, "%s{%s} ", name, labels);
	else
		fprintf(f, "%s ", name);
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
	const char *sep = labels != NULL && labels[0] != '\0' ? "," : "";
	uint64_t cum = 0;
	unsigned i = 0;

	if (labels == NULL)
		labels = "";
	for (unsigned k = 0; k < SP_PROM_EDGES; k++) {
		/* Every sp_hist bucket below the edge: the edge is the
		 * lowest value of bucket sp_hist_index(edge). */
		unsigned to = sp_hist_index(sp_prom_edge(k));

		for (; i < to; i++)
			cum += h->b[i];
		fprintf(f, "%s_bucket{%s%sle=\"", name, labels, sep);
		sp_prom_secs(f, sp_prom_edge(k) - 1);
		fprintf(f, "\"} %" PRIu64 "\n", cum);
	}
	for (; i < SP_HIST_BUCKETS; i++)
		cum += h->b[i];
	fprintf(f, "%s_bucket{%s%sle=\"+Inf\"} %" PRIu64 "\n", name, labels,
		sep, cum);
	fprintf(f, "%s_sum", name);
	if (labels[0] != '\0')
		fprintf(f, "{%s}", labels);
	fputc(' ', f);
	sp_prom_secs(f, h->sum);
	fprintf(f, "\n%s_count", name);
	if (labels[0] != '\0')
		fprintf(f, "{%s}", labels);
	fprintf(f, " %" PRIu64 "\n", cum);
}
