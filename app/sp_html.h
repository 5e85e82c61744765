/*
 * The HTML report: one self-contained page that shows a JSON report
 * (docs/report-schema.md). Free of DPDK so that a test can build it alone.
 */
#ifndef SP_HTML_H
#define SP_HTML_H

#include <stddef.h>
#include <stdio.h>

/*
 * Write to f a complete HTML5 document that embeds the JSON report text
 * json[0..len) and renders it in the browser. Returns 0, -EINVAL for an
 * empty report, or -EIO if writing to f failed (f stays open either way).
 */
int sp_html_write(FILE *f, const char *json, size_t len);

#endif
