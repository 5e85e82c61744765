#!/usr/bin/env bash
# The HTML report: the page made from a realistic JSON report fetches
# nothing, and headless Chromium renders it whole (four plots with every
# point, the failed threshold, every request); an empty timeline says so;
# a hostile request name stays text. Needs chromium (tools/install-deps),
# not the test bed; inside a network namespace of its own when it can, so
# the browser has no network to use at all.
# shellcheck disable=SC2317 # eq and ge are called through check
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
HTML_RENDER=${HTML_RENDER:-$HERE/../../build/tests/integration/html_render}
FIXTURE=$HERE/fixtures/report.json
TMP=$(mktemp -d /tmp/sp-it-html.XXXXXX)
FAILS=0
CHECKS=0
trap 'rm -rf "$TMP"' EXIT

check() { # check "what" test-expression...
	local what=$1; shift
	CHECKS=$((CHECKS + 1))
	if "$@"; then
		echo "ok   - $what"
	else
		echo "FAIL - $what"
		FAILS=$((FAILS + 1))
	fi
}
eq() { [ "$1" = "$2" ] || { echo "     expected '$2', got '$1'" >&2; return 1; }; }
ge() { [ "$1" -ge "$2" ] || { echo "     expected >= $2, got $1" >&2; return 1; }; }
finish() {
	echo "$((CHECKS - FAILS)) of $CHECKS checks passed"
	[ "$FAILS" -eq 0 ]
	exit $?
}

# The page without its embedded JSON: the report itself holds URLs (the
# target) and paths, which are data the page shows, never fetches. The
# JSON has every "</" escaped, so the first "</script>" after the data
# block's start tag is its end.
strip_json() {
	awk '/<script type="application\/json" id="report">/ { skip = 1 }
		!skip { print }
		skip && /<\/script>/ { skip = 0 }' "$1"
}
# The part of the dumped DOM from table NAME's start to its end.
table_of() { grep -o "data-table=\"$2\".*" "$1" | sed 's#</table>.*##'; }
# Rows in table NAME's body.
body_rows() { table_of "$1" "$2" | sed 's#.*<tbody>##' | grep -o '<tr' | wc -l; }

# No network for the browser if this shell may make a namespace (root).
NETNS=()
if unshare --net true 2>/dev/null; then
	NETNS=(unshare --net)
fi
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
# render FILE.html OUT.dom: the DOM after the page's script ran.
render() {
	"${NETNS[@]}" "$CHROMIUM" --headless --no-sandbox --disable-gpu \
		--no-first-run --disable-background-networking --disable-component-update \
		--disable-sync --disable-default-apps --disable-extensions \
		--user-data-dir="$TMP/profile" --virtual-time-budget=5000 \
		--dump-dom "file://$1" >"$2" 2>"$TMP/chromium.err"
	local rc=$?
	if [ $rc -ne 0 ] || [ ! -s "$2" ]; then
		echo "chromium failed (exit $rc):" >&2
		tail -20 "$TMP/chromium.err" >&2
	fi
	if grep -q 'data-error=' "$2"; then
		echo "the page's script failed: $(grep -o 'data-error="[^"]*"' "$2")" >&2
	fi
}

# --- the page itself --------------------------------------------------------
check "html_render is built" test -x "$HTML_RENDER"
check "the fixture is valid JSON" jq -e . "$FIXTURE" >/dev/null
"$HTML_RENDER" "$FIXTURE" "$TMP/r.html"
check "html_render wrote a page" test -s "$TMP/r.html"
check "it is an HTML5 document" eq "$(head -1 "$TMP/r.html")" "<!DOCTYPE html>"
strip_json "$TMP/r.html" >"$TMP/page.txt"
check "the JSON is embedded (data block stripped for the next check)" \
	ge $(($(wc -l <"$TMP/r.html") - $(wc -l <"$TMP/page.txt"))) 60
bad=$(grep -nE 'https?:|src=|href=|//[a-z]|url\(|@import' "$TMP/page.txt")
check "no URL, src, href, url() or @import outside the JSON" eq "$bad" ""
check "the embedded JSON is the fixture's" eq \
	"$(sed -n '/<script type="application\/json" id="report">/,/<\/script>/p' "$TMP/r.html" |
		sed '1d;$d' | jq -cS .)" "$(jq -cS . "$FIXTURE")"

check "chromium is installed (tools/install-deps)" test -n "$CHROMIUM"
[ -n "$CHROMIUM" ] || finish

# --- rendered ---------------------------------------------------------------
render "$TMP/r.html" "$TMP/r.dom"
check "rendered: body data-ready=1" grep -q '<body data-ready="1"' "$TMP/r.dom"
for p in rps latency errors vus; do
	check "plot $p drew 60 points" grep -qE "<svg[^>]*data-plot=\"$p\"[^>]*data-drawn=\"60\"" "$TMP/r.dom"
done
check "four plots drew 60 points each" eq "$(grep -o 'data-drawn="60"' "$TMP/r.dom" | wc -l)" 4
# The fixture's last point is a partial second (0.25 s, 586 responses, 1
# error): per second it is 2344 responses and 4 errors, not a cliff; the
# VU count is a level, not scaled.
last_of() { grep -oE "<svg[^>]*data-plot=\"$1\"[^>]*>" "$TMP/r.dom" | grep -oE 'data-last="[^"]*"'; }
check "partial second: responses/s scaled by its length" eq "$(last_of rps)" 'data-last="2344"'
check "partial second: errors/s scaled by its length" eq "$(last_of errors)" 'data-last="4"'
check "partial second: VUs not scaled" eq "$(last_of vus)" 'data-last="25"'
check "summary: succeeded shown" grep -qE '<td>succeeded</td><td class="n">130,386</td>' "$TMP/r.dom"
check "requests table: a status failed column" eq "$(table_of "$TMP/r.dom" requests | grep -o '>status failed<' | wc -l)" 1
check "each plot has a line per series (2+3+2+2 paths)" eq "$(grep -o '<path ' "$TMP/r.dom" | wc -l)" 9
check "header shows the target" grep -q '198.18.0.2' "$TMP/r.dom"
check "thresholds: one FAILED" eq "$(table_of "$TMP/r.dom" thresholds | grep -o '>FAILED<' | wc -l)" 1
check "thresholds: the FAILED one is the error rate" \
	grep -qE 'rate\(errors\) &lt; 0.1%</td><td[^>]*>0.425</td><td class="fail">FAILED' "$TMP/r.dom"
check "thresholds: one ok" eq "$(table_of "$TMP/r.dom" thresholds | grep -o '>ok<' | wc -l)" 1
check "requests table has 4 rows" eq "$(body_rows "$TMP/r.dom" requests)" 4
check "scenarios table has 3 rows" eq "$(body_rows "$TMP/r.dom" scenarios)" 3
check "latency table has 4 rows" eq "$(body_rows "$TMP/r.dom" latency)" 4
check "errors by kind: only the 6 non-zero kinds" eq "$(body_rows "$TMP/r.dom" errors)" 6
check "status codes: 4 rows" eq "$(body_rows "$TMP/r.dom" codes)" 4

# --- an empty timeline ------------------------------------------------------
jq '.timeline = []' "$FIXTURE" >"$TMP/empty.json"
"$HTML_RENDER" "$TMP/empty.json" "$TMP/empty.html"
render "$TMP/empty.html" "$TMP/empty.dom"
check "empty timeline: body data-ready=1" grep -q '<body data-ready="1"' "$TMP/empty.dom"
check "empty timeline: four plots drew 0 points" eq "$(grep -o 'data-drawn="0"' "$TMP/empty.dom" | wc -l)" 4
check "empty timeline: each plot says so" eq "$(grep -o '>no timeline<' "$TMP/empty.dom" | wc -l)" 4

# --- a WebSocket run: its section, its plot --------------------------------
jq '.ws = {sessions: {started: 10, completed: 7, failed: 2, interrupted: 1, open_at_end: 0},
	errors_by_kind: {upgrade_failed: 0, ws_protocol: 0, ws_utf8: 0, ws_too_big: 0,
		ws_closed_abnormally: 1, ws_expect_timeout: 1},
	messages: {sent: 700, received: 690, matched: 680, unmatched: 10,
		sent_per_s: 11.7, received_per_s: 11.5},
	bytes: {sent: 44800, received: 44160}, pings_sent: 3, pongs_received: 3,
	pings_received: 0, closes_sent: 8, close_codes: {"1000": 7, "1011": 1},
	connect_ms: .summary.connect_ms, rtt_ms: .summary.latency_ms,
	session_ms: .summary.iteration_ms, max_message: 1048576, ping_every_s: 0}
	| .timeline |= map(. + {ws_sent: .requests, ws_received: .responses,
		ws_bytes_sent: 0, ws_bytes_received: 0, ws_open: .vus})' \
	"$FIXTURE" >"$TMP/ws.json"
"$HTML_RENDER" "$TMP/ws.json" "$TMP/ws.html"
render "$TMP/ws.html" "$TMP/ws.dom"
check "ws: body data-ready=1" grep -q '<body data-ready="1"' "$TMP/ws.dom"
check "ws: a fifth plot, messages per second, 60 points" \
	grep -qE '<svg[^>]*data-plot="ws"[^>]*data-drawn="60"' "$TMP/ws.dom"
check "ws: the WebSocket section" grep -q '<h2>WebSocket</h2>' "$TMP/ws.dom"
check "ws: failures, only the 2 non-zero kinds" eq "$(body_rows "$TMP/ws.dom" ws_errors)" 2
check "ws: close codes, 2 rows" eq "$(body_rows "$TMP/ws.dom" ws_close)" 2
check "ws: latency, connect, rtt and session" eq "$(body_rows "$TMP/ws.dom" ws_latency)" 3
check "ws: messages sent shown" grep -qE '<td class="name">messages</td><td class="n">700</td>' "$TMP/ws.dom"
check "ws: not shown again among the counters" eq "$(grep -o '<h3>ws</h3>' "$TMP/ws.dom" | wc -l)" 0
check "no ws key: no WebSocket section" eq "$(grep -c '<h2>WebSocket</h2>' "$TMP/r.dom")" 0

# --- a lifecycle whose setup failed: its card, the reason -------------------
jq '.stopped_by = "setup_failed" | .lifecycle_summary = {setup_ok: false,
	setup_why: "request '"'"'GET /missing'"'"' failed (http_status)",
	requests: 2, responses: 2, succeeded: 1, errors: 1, interrupted: 0,
	codes: {"200": 1, "404": 1}, errors_by_kind: {http_status: 1},
	connections: {opened: 2}, bytes: {sent: 200, received: 400},
	latency_ms: .summary.latency_ms}' "$FIXTURE" >"$TMP/life.json"
"$HTML_RENDER" "$TMP/life.json" "$TMP/life.html"
render "$TMP/life.html" "$TMP/life.dom"
check "lifecycle: body data-ready=1" grep -q '<body data-ready="1"' "$TMP/life.dom"
check "lifecycle: one row of totals" eq "$(body_rows "$TMP/life.dom" lifecycle_summary)" 1
check "lifecycle: the failed setup's reason" grep -qF "setup failed: request 'GET /missing' failed (http_status); the load did not run" "$TMP/life.dom"
check "lifecycle: not shown again among the counters" eq "$(grep -o '<h3>lifecycle_summary</h3>' "$TMP/life.dom" | wc -l)" 0
check "no lifecycle key: no lifecycle table" eq "$(grep -c 'data-table="lifecycle_summary"' "$TMP/r.dom")" 0

# --- a request name that tries to end the data block ------------------------
evil='</script><script>alert(1)</script><!--<script>'
jq --arg n "$evil" '.requests[0].name = $n' "$FIXTURE" >"$TMP/evil.json"
"$HTML_RENDER" "$TMP/evil.json" "$TMP/evil.html"
check "hostile name: no literal </script> inside the data block" \
	eq "$(sed -n '/<script type="application\/json" id="report">/,$p' "$TMP/evil.html" | grep -c '</script>')" 2
check "hostile name: the embedded JSON still parses to the same report" eq \
	"$(sed -n '/<script type="application\/json" id="report">/,/<\/script>/p' "$TMP/evil.html" |
		sed '1d;$d' | jq -cS .)" "$(jq -cS . "$TMP/evil.json")"
render "$TMP/evil.html" "$TMP/evil.dom"
check "hostile name: body data-ready=1" grep -q '<body data-ready="1"' "$TMP/evil.dom"
strip_json "$TMP/evil.dom" >"$TMP/evil.page"
check "hostile name: one script element besides the data block" \
	eq "$(grep -o '<script' "$TMP/evil.page" | wc -l)" 1
check "hostile name: shown as text in the requests table" \
	grep -qF '<td class="name">&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;!--&lt;script&gt;</td>' "$TMP/evil.dom"
check "hostile name: requests table still has 4 rows" eq "$(body_rows "$TMP/evil.dom" requests)" 4

# --- a screenshot at 1280 px: the page paints more than a blank page --------
"${NETNS[@]}" "$CHROMIUM" --headless --no-sandbox --disable-gpu --no-first-run \
	--disable-background-networking --disable-component-update --disable-sync \
	--disable-default-apps --disable-extensions --user-data-dir="$TMP/profile" \
	--hide-scrollbars --window-size=1280,2000 --virtual-time-budget=5000 \
	--screenshot="$TMP/r.png" "file://$TMP/r.html" >/dev/null 2>"$TMP/chromium.err"
check "screenshot is a PNG" eq "$(head -c 8 "$TMP/r.png" 2>/dev/null | od -An -tx1 | tr -d ' \n')" 89504e470d0a1a0a
check "screenshot is larger than a blank page (> 20 KB)" ge "$(stat -c %s "$TMP/r.png" 2>/dev/null || echo 0)" 20480
if [ -n "${SP_HTML_KEEP:-}" ]; then
	cp "$TMP/r.html" "$TMP/r.png" "$SP_HTML_KEEP"/ 2>/dev/null || true
fi
finish
