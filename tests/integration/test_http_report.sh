#!/usr/bin/env bash
# The reports of a real run agree with themselves and with the witnesses:
# the timeline and the per-core block add up to the totals, the CSV files
# carry the same figures, the HTML page renders every timeline point in
# headless Chromium; thresholds decide the exit code (and can stop a run);
# Ctrl-C still writes every report, a second one cuts the drain short; a
# report that cannot be written at the end is a clear error while the
# summary still prints.
. "$(dirname "$0")/lib.sh"

url="http://$SRV/1k"
mark=$(log_mark "$ACCESS_LOG")
run_sp run --url "$url" --vus 20 --duration 5s --csv "$TMP/c" --html "$TMP/r.html" \
	--threshold 'p(95) < 5s' --threshold 'errors < 1%' --threshold 'rps > 10' \
	--threshold 'request:"GET /1k" ttfb.p(99) < 5s' --threshold 'checks > 99%'
check "all thresholds held: exit code 0" eq "$RC" 0
check "thresholds: five, all ok" eq "$(jq '[.thresholds[] | select(.ok)] | length' "$TMP/r.json")" 5
check "stopped by the duration" eq "$(j .stopped_by)" duration
# No ws: step, no WebSocket figures anywhere: not in the JSON, its
# timeline, the summary or the CSV timeline's columns.
check "no ws: step: no ws object" eq "$(jq 'has("ws")' "$TMP/r.json")" false
check "no ws: step: no ws_* in the timeline" eq "$(jq '[.timeline[] | keys[] | select(startswith("ws_"))] | length' "$TMP/r.json")" 0
check "no ws: step: no ws lines in the summary" eq "$(grep -c '^  ws ' "$TMP/out.txt")" 0
check "no ws: step: 13 timeline CSV columns" eq "$(head -1 "$TMP/c_timeline.csv" | tr ',' '\n' | wc -l)" 13
check "nginx logged exactly the 200s counted" eq "$(nginx_count "$mark" 200)" "$(j '.summary.codes["200"]')"
for k in requests responses errors dropped; do
	case $k in
	dropped) total=$(j .summary.iterations.dropped) ;;
	*) total=$(j ".summary.$k") ;;
	esac
	check "timeline: $k adds up to the total" eq "$(jq "[.timeline[].$k] | add" "$TMP/r.json")" "$total"
done
# A point a second of the load, 1 s, 2 s, ...: none for the TIME_WAIT wait
# after it (a second of it once made a 7th point), and the end, if anything
# came after the 5 s tick, the partial 6th.
check "timeline: one point a second (5 or 6 points)" eq "$(jq '.timeline | length | . == 5 or . == 6' "$TMP/r.json")" true
check "timeline: the points are seconds 1, 2, 3, ..." eq "$(jq -c '[.timeline[].t] == [range(1; (.timeline | length) + 1)]' "$TMP/r.json")" true
check "cores: requests add up" eq "$(jq '[.cores[].requests] | add' "$TMP/r.json")" "$(j .summary.requests)"
check "cores: responses add up" eq "$(jq '[.cores[].responses] | add' "$TMP/r.json")" "$(j .summary.responses)"
check "peak rps >= mean rps" eq "$(jq '.summary.peak_rps >= .summary.rps' "$TMP/r.json")" true
# The mean is over the load (5 s), not the load and its drain; only the
# last point may be a partial second, marked with its length, and no
# whole second is marked.
check "duration_s is the load's 5 s" eq "$(jq '.summary.duration_s >= 5 and .summary.duration_s < 5.05' "$TMP/r.json")" true
check "elapsed_s covers the load and the drain" eq "$(jq '.elapsed_s >= .summary.duration_s' "$TMP/r.json")" true
check "rps = responses / the load's seconds" eq "$(jq '(.summary.rps - .summary.responses / .summary.duration_s) | fabs < 0.01' "$TMP/r.json")" true
check "timeline: only the last point may be partial" eq "$(jq '[.timeline[:-1][] | select(.partial)] | length' "$TMP/r.json")" 0
check "timeline: a partial point says its length, under a second" eq \
	"$(jq '([.timeline[] | select(.partial) | select(.length_s > 0 and .length_s < 1)] | length) == ([.timeline[] | select(.partial)] | length)' "$TMP/r.json")" true
check "timeline: 5 whole seconds before any partial one" eq "$(jq '[.timeline[] | select(.partial | not)] | length >= 5' "$TMP/r.json")" true
check "CSV: timeline rows carry their length" eq "$(awk -F, 'NR > 1 && $13 > 0 { n++ } END { print n }' "$TMP/c_timeline.csv")" "$(jq '.timeline | length' "$TMP/r.json")"
check "phases: one connect per connection" eq "$(j .summary.connections.opened)" 20
check "phases: first byte never after the last" eq "$(jq '.summary.ttfb_ms.p50 <= .summary.latency_ms.p50' "$TMP/r.json")" true
check_http_accounting
check "CSV: a timeline row per point" eq "$(($(wc -l <"$TMP/c_timeline.csv") - 1))" "$(jq '.timeline | length' "$TMP/r.json")"
check "CSV: timeline responses add up" eq "$(awk -F, 'NR > 1 { n += $3 } END { print n }' "$TMP/c_timeline.csv")" "$(j .summary.responses)"
check "CSV: the total row has the JSON's requests" eq "$(awk -F, '$1 == "total" { print $3 }' "$TMP/c_stats.csv")" "$(j .summary.requests)"
check "CSV: a row for the request" eq "$(grep -c '^request,"GET /1k",' "$TMP/c_stats.csv")" 1
points=$(jq '.timeline | length' "$TMP/r.json")
chromium --headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking \
	--virtual-time-budget=5000 --dump-dom "file://$TMP/r.html" >"$TMP/dom.html" 2>/dev/null
check "HTML: the page rendered" eq "$(grep -c 'data-ready="1"' "$TMP/dom.html")" 1
check "HTML: four plots with every point" eq "$(grep -o "data-drawn=\"$points\"" "$TMP/dom.html" | wc -l)" 4

# A plan with a ws: step has the WebSocket figures in every report, and
# they add up. nginx answers the upgrade with 200, never 101: whatever the
# engine makes of that (an unexpected status; ws_handshake and
# upgrade_failed where it speaks WebSocket), nothing succeeds (exit 1),
# and the sessions' accounting holds.
scenario ws <<EOF2
target: http://$SRV
load: { vus: 2, duration: 2s }
scenarios:
  - name: a
    steps:
      - ws: { path: /1k, steps: [ send: { text: hi, measure: true }, expect: { timeout: 1s } ] }
thresholds: [ "ws.errors < 100%", "ws.rtt.p(99) < 1s" ]
EOF2
run_sp run "$TMP/ws.yaml" --csv "$TMP/w"
check "ws: nothing succeeds: exit code 1" eq "$RC" 1
check "ws: the ws object, every part" eq "$(jq -c '.ws | keys' "$TMP/r.json")" \
	'["bytes","bytes_per_connection","close_codes","closes_sent","connect_ms","errors_by_kind","max_message","memory","messages","ping_every_s","pings_received","pings_sent","pongs_received","rtt_ms","session_ms","sessions"]'
check "ws: sessions started = completed + failed + interrupted + open" eq \
	"$(jq '.ws.sessions | .started == .completed + .failed + .interrupted + .open_at_end' "$TMP/r.json")" true
check "ws: the failure kinds add up to the failed sessions" eq \
	"$(jq '([.ws.errors_by_kind[]] | add) == .ws.sessions.failed' "$TMP/r.json")" true
for k in sent received; do
	check "ws: timeline ws_$k adds up to messages.$k" eq \
		"$(jq "[.timeline[].ws_$k] | add" "$TMP/r.json")" "$(j ".ws.messages.$k")"
	check "ws: timeline ws_bytes_$k adds up to bytes.$k" eq \
		"$(jq "[.timeline[].ws_bytes_$k] | add" "$TMP/r.json")" "$(j ".ws.bytes.$k")"
done
check "ws: the upgrade is a request named WS /1k" eq "$(jq -r '.requests[0].name' "$TMP/r.json")" "WS /1k"
check "ws: no upgrade succeeded" eq "$(j .summary.succeeded)" 0
check "ws: the defaults, 1 MiB and no pings" eq "$(jq -c '[.ws.max_message, .ws.ping_every_s]' "$TMP/r.json")" '[1048576,0]'
check "ws: two thresholds judged" eq "$(jq '.thresholds | length' "$TMP/r.json")" 2
check "ws: the summary's ws lines" eq "$(grep -cE '^  ws (sessions|failures|messages|control|close codes|latency ms|memory) ' "$TMP/out.txt")" 7
# Two VUs: a frame context each (the pool's minimum), so an idle
# WebSocket's figure is its state and one whole context.
check "ws: bytes per connection = the state + the pools' share" eq "$(j .ws.bytes_per_connection)" \
	"$(jq '.ws.memory | .vu_state_bytes + (((.frame_contexts * .frame_context_bytes + .regex_windows * .regex_window_bytes) + .vus - 1) / .vus | floor)' "$TMP/r.json")"
check "ws: two VUs, two frame contexts" eq "$(jq -c '[.ws.memory.vus, .ws.memory.frame_contexts]' "$TMP/r.json")" '[2,2]'
check "ws: CSV timeline, 18 columns" eq "$(head -1 "$TMP/w_timeline.csv" | tr ',' '\n' | wc -l)" 18
check "ws: CSV timeline rows, 18 fields each" eq "$(awk -F, 'NR > 1 && NF != 18' "$TMP/w_timeline.csv" | wc -l)" 0
check "ws: CSV stats, the session, connect and rtt rows" eq "$(grep -cE '^ws,"(session|connect|rtt)",' "$TMP/w_stats.csv")" 3
check "ws: CSV stats, sessions as the JSON's" eq "$(awk -F, '$2 == "\"session\"" { print $3 }' "$TMP/w_stats.csv")" "$(j .ws.sessions.started)"

# A failing threshold: exit code 1, and the report says which.
run_sp run --url "$url" --vus 5 --duration 2s --threshold 'rps > 100000000' --threshold 'p(99) < 10s'
check "a threshold failed: exit code 1" eq "$RC" 1
check "the failing one is marked" eq "$(jq -r '[.thresholds[] | select(.ok | not) | .expr] | join(";")' "$TMP/r.json")" "rps > 100000000"
check "its value is the run's rps" eq "$(jq '(.thresholds[0].value - .summary.rps) | fabs < 0.01' "$TMP/r.json")" true

# abort on fail: the run stops after the grace, not at its duration.
run_sp run --url "$url" --vus 5 --duration 30s --threshold 'p(50) < 1us' --abort-on-fail --abort-grace 2s
check "abort: exit code 1" eq "$RC" 1
check "abort: stopped by the threshold" eq "$(j .stopped_by)" threshold
check "abort: after the grace, long before the duration" eq "$(jq '.elapsed_s >= 2 and .elapsed_s < 5' "$TMP/r.json")" true
check_http_accounting

# Ctrl-C: the load stops, requests in flight finish, every report is written.
"$STAMPEDE" run "${NET_OPTS[@]}" --url "$url" --vus 20 --duration 60s --json "$TMP/int.json" \
	--csv "$TMP/int" >"$TMP/int.out" 2>"$TMP/int.err" &
pid=$!
for _ in $(seq 100); do grep -q 'req/s' "$TMP/int.err" && break; sleep 0.1; done
kill -INT "$pid"
wait "$pid"
check "Ctrl-C: exit code 0" eq "$?" 0
check "Ctrl-C: stopped by the signal" eq "$(jq -r .stopped_by "$TMP/int.json")" signal
check "Ctrl-C: long before the duration" eq "$(jq '.elapsed_s < 30' "$TMP/int.json")" true
check "Ctrl-C: the summary printed" eq "$(grep -c 'stopped by signal' "$TMP/int.out")" 1
check "Ctrl-C: the timeline's points are seconds 1, 2, ..." eq "$(jq -c '[.timeline[].t] == [range(1; (.timeline | length) + 1)]' "$TMP/int.json")" true
check "Ctrl-C: CSV written" eq "$(($(wc -l <"$TMP/int_timeline.csv") - 1))" "$(jq '.timeline | length' "$TMP/int.json")"
check "Ctrl-C: nothing cut (requests finished in the grace period)" eq "$(jq .summary.interrupted "$TMP/int.json")" 0

# A second Ctrl-C cuts the drain short: a silent server would hold it 3 s.
"$STAMPEDE" run "${NET_OPTS[@]}" --url "http://$SRV:8080/silent" --vus 4 --duration 60s \
	--response-timeout 30s --json "$TMP/int2.json" >"$TMP/int2.out" 2>"$TMP/int2.err" &
pid=$!
for _ in $(seq 100); do grep -q 'req/s' "$TMP/int2.err" && break; sleep 0.1; done
kill -INT "$pid"
sleep 0.7
t0=$(date +%s%N)
kill -INT "$pid"
wait "$pid"
rc=$?
t1=$(date +%s%N)
check "second Ctrl-C: exit code 1 (no request succeeded)" eq "$rc" 1
check "second Ctrl-C: the report says nothing succeeded" eq "$(jq .summary.nothing_succeeded "$TMP/int2.json")" true
check "second Ctrl-C: stderr says so" eq "$(grep -c 'no request succeeded' "$TMP/int2.err")" 1
check "second Ctrl-C: ended at once (< 1.5 s)" eq "$(( (t1 - t0) < 1500000000 ))" 1
check "second Ctrl-C: the 4 silent requests are interrupted" eq "$(jq .summary.interrupted "$TMP/int2.json")" 4
TMPJ=$TMP/int2.json
check "second Ctrl-C: accounting holds" eq "$(jq '.summary.requests == .summary.responses + .summary.errors + .summary.interrupted' "$TMPJ")" true

# A report that cannot be written at the end: said clearly, summary kept.
# The full disk is a tmpfs of the test's own, not /dev/full.
full_fs "$TMP/full"
check "a full filesystem of our own" eq "$(findmnt -n -o FSTYPE "$TMP/full")" tmpfs
"$STAMPEDE" run "${NET_OPTS[@]}" --url "$url" --vus 2 --duration 1s --json "$TMP/full/r.json" \
	>"$TMP/full.out" 2>"$TMP/full.err"
check "unwritable report: exit code 3" eq "$?" 3
check "unwritable report: says so" eq "$(grep -c -- "--json: writing $TMP/full/r.json failed" "$TMP/full.err")" 1
check "unwritable report: the summary still printed" eq "$(grep -c '^  requests' "$TMP/full.out")" 1
check_pools
finish
