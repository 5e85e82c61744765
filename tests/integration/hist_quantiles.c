/*
 * it_distributed's witness: one histogram of every sample given (latency
 * in microseconds, one a line on stdin), as one run that made them all
 * would have recorded them, printed as a report's latency object prints
 * (ms, three decimals): "min mean p50 p90 p95 p99 p999 max count".
 * `stampede merge` must give the same figures from the shards' reports.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "sp_hist.h"

int
main(void)
{
	struct sp_hist *h = malloc(sizeof(*h));
	unsigned long long v;

	if (h == NULL)
		return 1;
	sp_hist_init(h);
	while (scanf("%llu", &v) == 1)
		sp_hist_record(h, v);
	printf("%.3f %.3f %.3f %.3f %.3f %.3f %.3f %.3f %" PRIu64 "\n",
	       h->count ? (double)h->min / 1e3 : 0.0, sp_hist_mean(h) / 1e3,
	       (double)sp_hist_quantile(h, 0.5) / 1e3,
	       (double)sp_hist_quantile(h, 0.9) / 1e3,
	       (double)sp_hist_quantile(h, 0.95) / 1e3,
	       (double)sp_hist_quantile(h, 0.99) / 1e3,
	       (double)sp_hist_quantile(h, 0.999) / 1e3, (double)h->max / 1e3,
	       h->count);
	free(h);
	return 0;
}
