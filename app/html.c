/*
 * The HTML report (--html FILE): one page, readable offline, that shows the
 * JSON report. The JSON text is embedded as it is, in a data block, and the
 * page's own script renders it: the JSON stays the single source of truth,
 * and the page computes nothing the report does not say (no derived rates,
 * no re-binned timelines).
 *
 * Everything is inline (style, script, plots drawn as SVG by the script),
 * and a Content-Security-Policy forbids any fetch, so the page works from a
 * mail attachment or an air-gapped box and leaks nothing when opened. The
 * script builds the page with textContent only: names from a scenario file
 * can never become markup. The page is edited as the files of
 * app/html/ (report.html with its report.css and report.js).
 */
#include <errno.h>
#include <stdio.h>

#include "sp_html.h"

/* sp_html_head and sp_html_tail: the page before and after the JSON,
 * made from app/html/report.html, report.css and report.js at build time
 * (app/html/embed.py). */
#include "sp_html_page.h"

/*
 * Inside a script element the HTML parser ends the element at the first
 * "</script", and a "<!--" can make it skip the real end tag, whatever the
 * type. In valid JSON a '<' appears only inside strings, where "<\/" and
 * "\u003c" mean the same to JSON.parse: so "</" becomes "<\/" and "<!"
 * becomes "\u003c!", and the text stays the same JSON.
 */
static void
sp_html_json(FILE *f, const char *json, size_t len)
{
	size_t i, from = 0;

	for (i = 0; i + 1 < len; i++) {
		if (json[i] != '<' ||
		    (json[i + 1] != '/' && json[i + 1] != '!'))
			continue;
		fwrite(json + from, 1, i - from, f);
		fputs(json[i + 1] == '/' ? "<\\/" : "\\u003c!", f);
		i++;
		from = i + 1;
	}
	fwrite(json + from, 1, len - from, f);
}

int
sp_html_write(FILE *f, const char *json, size_t len)
{
	if (json == NULL || len == 0)
		return -EINVAL;
	fputs(sp_html_head, f);
	sp_html_json(f, json, len);
	fputs(sp_html_tail, f);
	return ferror(f) ? -EIO : 0;
}
