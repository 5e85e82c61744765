#!/usr/bin/env bash
# The HTML report: the page made from a realistic JSON report fetches
# nothing, and headless Chromium renders it whole (four plots with every
# point, the failed threshold, every request); an empty timeline says so;
# a hostile request name stays text; a capacity hunt's report gets its
# Capacity card (a point per step in each plot, the capacity marked where
# its step is, a row per step; the generator's limit said), others none.
# Needs chromium (tools/install-deps), not the test bed; inside a network
# namespace of its own when it can, so the browser has no network to use at
# all.
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

# --- a capacity hunt: the Capacity card, its two plots, its steps -----------
# The fixtures are real hunts' reports: over the arrival rate against the
# bed's server of 4,000 req/s (breakpoint.json) and over VUs
# (breakpoint_vus.json). Every figure the checks expect is read from them.
BP=$HERE/fixtures/breakpoint.json
BPV=$HERE/fixtures/breakpoint_vus.json
# An integer as the page writes it (en-US: 4,000), whatever the locale.
comma() { sed -E ':a;s/^([0-9]+)([0-9]{3})/\1,\2/;ta' <<<"$1"; }
# The part of the dumped DOM that is plot NAME's svg.
svg_of() { grep -o "<svg[^>]*data-plot=\"$2\".*" "$1" | sed 's#</svg>.*##'; }
# count FILE PLOT REGEX: elements of plot PLOT matching REGEX.
count_in() { svg_of "$1" "$2" | grep -oE "$3" | wc -l; }
# attr_of FILE PLOT REGEX ATTR: ATTR of the first element of PLOT matching REGEX.
attr_of() { svg_of "$1" "$2" | grep -oE "$3" | head -1 | grep -oE " $4=\"[^\"]*\"" | cut -d'"' -f2; }
# A step's point and the marker at it share their x: the marker is drawn
# where the step was, not only named with its figure.
marker_at_step() { # FILE PLOT SERIES MARKER X
	local i cx mx
	i=$(jq --argjson x "$5" '[.breakpoint.steps[] | .offered] | index($x)' "$BPFILE")
	cx=$(attr_of "$1" "$2" "<circle[^>]*data-series=\"$3\" data-step=\"$i\"[^>]*>" cx)
	mx=$(attr_of "$1" "$2" "<line[^>]*data-marker=\"$4\"[^>]*>" x1)
	if [ -z "$cx" ] || [ "$cx" != "$mx" ]; then
		echo "     step $i at x '$cx', marker $4 at '$mx'" >&2
		return 1
	fi
}
check "breakpoint fixtures have the section" jq -e '.breakpoint.steps and (.breakpoint.usl == null)' "$BP" >/dev/null
"$HTML_RENDER" "$BP" "$TMP/bp.html"
render "$TMP/bp.html" "$TMP/bp.dom"
BPFILE=$BP
n=$(jq '.breakpoint.steps | length' "$BP")
cap=$(jq '.breakpoint.capacity' "$BP")
check "breakpoint: body data-ready=1" grep -q '<body data-ready="1"' "$TMP/bp.dom"
check "breakpoint: one Capacity card" eq "$(grep -o 'data-card="capacity"' "$TMP/bp.dom" | wc -l)" 1
check "breakpoint: the outcome, found and confirmed, with the capacity" \
	grep -qF "data-outcome=\"found\">capacity $(comma "$cap") req/s, found and confirmed<" "$TMP/bp.dom"
check "breakpoint: achieved plot drew every step ($n)" \
	grep -qE "<svg[^>]*data-plot=\"bp_throughput\"[^>]*data-drawn=\"$n\"" "$TMP/bp.dom"
check "breakpoint: achieved plot, one point per step" eq "$(count_in "$TMP/bp.dom" bp_throughput 'data-series="achieved"')" "$n"
check "breakpoint: latency plot, one p99 point per step" eq "$(count_in "$TMP/bp.dom" bp_latency 'data-series="p99"')" "$n"
check "breakpoint: latency plot, one p50 point per step" eq "$(count_in "$TMP/bp.dom" bp_latency 'data-series="p50"')" "$n"
for v in pass fail; do
	check "breakpoint: the $v steps' points coloured $v" eq \
		"$(count_in "$TMP/bp.dom" bp_throughput "<circle[^>]*data-verdict=\"$v\"")" \
		"$(jq "[.breakpoint.steps[] | select(.verdict == \"$v\")] | length" "$BP")"
done
check "breakpoint: pass and fail points differ in colour" test \
	"$(attr_of "$TMP/bp.dom" bp_throughput '<circle[^>]*data-verdict="pass"[^>]*>' fill)" != \
	"$(attr_of "$TMP/bp.dom" bp_throughput '<circle[^>]*data-verdict="fail"[^>]*>' fill)"
for p in bp_throughput bp_latency; do
	check "breakpoint: $p marks the capacity at $cap" eq \
		"$(attr_of "$TMP/bp.dom" $p '<line[^>]*data-marker="capacity"[^>]*>' data-x)" "$cap"
done
check "breakpoint: the capacity marker is where the step at the capacity is" \
	marker_at_step "$TMP/bp.dom" bp_throughput achieved capacity "$cap"
check "breakpoint: the throughput knee marked" eq \
	"$(attr_of "$TMP/bp.dom" bp_throughput '<line[^>]*data-marker="knee"[^>]*>' data-x)" "$(jq .breakpoint.knee.throughput "$BP")"
check "breakpoint: the latency knee marked" eq \
	"$(attr_of "$TMP/bp.dom" bp_latency '<line[^>]*data-marker="knee"[^>]*>' data-x)" "$(jq .breakpoint.knee.latency "$BP")"
check "breakpoint: the y = x line on the rate hunt" eq "$(count_in "$TMP/bp.dom" bp_throughput 'data-marker="ideal"')" 1
slo=$(jq -r '[.breakpoint.steps[] | select(.verdict == "fail") | .why][0]' "$BP" | sed -E 's/^p\([0-9.]+\) < ([0-9.]+)ms.*/\1/')
check "breakpoint: the failing latency SLO's line at its threshold ($slo ms)" eq \
	"$(attr_of "$TMP/bp.dom" bp_latency '<line[^>]*data-marker="slo"[^>]*>' data-y)" "$slo"
check "breakpoint: latency from 1 ms to 750 ms on a log scale" eq "$(count_in "$TMP/bp.dom" bp_latency '>ms, log<')" 1
check "breakpoint: the steps table, one row per step" eq "$(body_rows "$TMP/bp.dom" breakpoint_steps)" "$n"
check "breakpoint: the steps table, a FAIL cell per failed step" eq \
	"$(table_of "$TMP/bp.dom" breakpoint_steps | grep -o '<td class="fail">fail<' | wc -l)" \
	"$(jq '[.breakpoint.steps[] | select(.verdict == "fail")] | length' "$BP")"
check "breakpoint: a failed step's why shown" grep -qF '<td class="name">p(99) &lt; 50ms (751.615)</td>' "$TMP/bp.dom"
check "breakpoint: no USL on a rate hunt" eq "$(grep -c 'data-table="breakpoint_usl"' "$TMP/bp.dom")" 0
check "breakpoint: not shown again among the counters" eq "$(grep -o '<h3>breakpoint</h3>' "$TMP/bp.dom" | wc -l)" 0
check "no breakpoint key: no Capacity card, no plot of steps" eq \
	"$(grep -cE 'data-card="capacity"|data-plot="bp_' "$TMP/r.dom")" 0

# --- a hunt over VUs: the USL fit, no y = x ---------------------------------
"$HTML_RENDER" "$BPV" "$TMP/bpv.html"
render "$TMP/bpv.html" "$TMP/bpv.dom"
BPFILE=$BPV
n=$(jq '.breakpoint.steps | length' "$BPV")
cap=$(jq '.breakpoint.capacity' "$BPV")
check "vus hunt: body data-ready=1" grep -q '<body data-ready="1"' "$TMP/bpv.dom"
check "vus hunt: the outcome in VUs" grep -qF "data-outcome=\"found\">capacity $cap VUs, found and confirmed<" "$TMP/bpv.dom"
check "vus hunt: one point per step in each plot" eq \
	"$(count_in "$TMP/bpv.dom" bp_throughput 'data-series="achieved"') $(count_in "$TMP/bpv.dom" bp_latency 'data-series="p99"')" "$n $n"
check "vus hunt: the capacity marker is where the step at the capacity is" \
	marker_at_step "$TMP/bpv.dom" bp_latency p99 capacity "$cap"
check "vus hunt: no y = x (VUs against req/s)" eq "$(count_in "$TMP/bpv.dom" bp_throughput 'data-marker="ideal"')" 0
check "vus hunt: the USL curve drawn" eq "$(count_in "$TMP/bpv.dom" bp_throughput '<path[^>]*data-marker="usl"')" 1
check "vus hunt: the USL fit, one row" eq "$(body_rows "$TMP/bpv.dom" breakpoint_usl)" 1
check "vus hunt: its sigma, kappa, peak and R^2" grep -qE \
	"<td class=\"name\">$(jq -r '.breakpoint.usl.sigma*10000|round/10000' "$BPV")</td><td class=\"n\">$(jq -r '.breakpoint.usl.kappa*1000000|round/1000000' "$BPV")</td><td class=\"n\">$(jq -r '.breakpoint.usl.peak_vus*10|round/10' "$BPV") VUs at [0-9.,]+ req/s</td><td class=\"n\">$(jq -r '.breakpoint.usl.r2*1000|round/1000' "$BPV")</td>" "$TMP/bpv.dom"
check "vus hunt: the steps table, one row per step" eq "$(body_rows "$TMP/bpv.dom" breakpoint_steps)" "$n"

# --- the generator broke first: that outcome, no capacity --------------------
# The rate hunt cut at its fourth step, judged the generator's (its loop
# busy): as the hunt writes it then (failed_at 0, no knee, no capacity).
jq '.breakpoint |= (.outcome = "generator_limit" | .capacity = null | .limited_by = "generator"
	| .failed_at = 0 | .knee = {throughput: null, latency: null}
	| .steps = (.steps[0:4] | .[3] += {verdict: "generator", busy_pct: 97.4,
		why: "the generator'"'"'s loop was 97% busy, its TX ring full 0 times"}))' \
	"$BP" >"$TMP/gen.json"
"$HTML_RENDER" "$TMP/gen.json" "$TMP/gen.html"
render "$TMP/gen.html" "$TMP/gen.dom"
BPFILE=$TMP/gen.json
gen=$(jq '.breakpoint.steps[3].offered' "$TMP/gen.json")
check "generator limit: body data-ready=1" grep -q '<body data-ready="1"' "$TMP/gen.dom"
check "generator limit: the generator broke first, at its step's rate" grep -qF \
	"data-outcome=\"generator_limit\">the generator broke first at $(comma "$gen") req/s: not a capacity of the server's" "$TMP/gen.dom"
check "generator limit: 4 points, one the generator's" eq \
	"$(count_in "$TMP/gen.dom" bp_throughput 'data-series="achieved"') $(count_in "$TMP/gen.dom" bp_throughput 'data-verdict="generator"')" "4 1"
check "generator limit: no capacity marker" eq "$(grep -c 'data-marker="capacity"' "$TMP/gen.dom")" 0
check "generator limit: marked where the generator broke" \
	marker_at_step "$TMP/gen.dom" bp_throughput achieved generator "$gen"
check "generator limit: no SLO line (no latency SLO broke)" eq "$(grep -c 'data-marker="slo"' "$TMP/gen.dom")" 0
check "generator limit: the steps table, 4 rows, one the generator's" eq \
	"$(body_rows "$TMP/gen.dom" breakpoint_steps) $(table_of "$TMP/gen.dom" breakpoint_steps | grep -o '<td class="gen">generator<' | wc -l)" "4 1"

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
