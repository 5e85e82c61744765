#!/usr/bin/env bash
# The per-second JSON stream (--out json=) and the live line's period in a
# log (--live-interval): each stream line is the report's timeline point of
# that second, written while the run goes; the newest line's "run" is the
# run so far, and the last one's is the report's totals and percentiles.
. "$(dirname "$0")/lib.sh"

url="http://$SRV/1k"
S=$TMP/points.jsonl

# --- 1. a file, read while the run goes
mark=$(log_mark "$ACCESS_LOG")
"$STAMPEDE" run "${NET_OPTS[@]}" --url "$url" --vus 10 --duration 5s --json "$TMP/r.json" \
	--out "json=$S" --live-interval 2s >"$TMP/out.txt" 2>"$TMP/err.txt" &
pid=$!
lines_mid=0
for _ in $(seq 100); do
	lines_mid=$(wc -l <"$S" 2>/dev/null || echo 0)
	[ "$lines_mid" -ge 2 ] && break
	sleep 0.1
done
running=0
kill -0 "$pid" 2>/dev/null && running=1
wait "$pid"
RC=$?
check "file: exit 0" eq "$RC" 0
check "file: two lines were there while the run went on" eq "$running $((lines_mid >= 2))" "1 1"
check "file: every line is a JSON object" eq "$(jq -s 'all(type == "object")' "$S")" true
check "file: a line per timeline point" eq "$(wc -l <"$S")" "$(j '.timeline | length')"
# The stream carries no histograms (their size): the report's points do.
check "file: each line's point is the report's timeline point" \
	eq "$(jq -s -c '[.[] | del(.run)]' "$S")" "$(jq -c '[.timeline[] | del(.hist)]' "$TMP/r.json")"
check "file: no histogram in the stream" eq "$(jq -s '[.[] | .. | objects | select(has("hist"))] | length' "$S")" 0
check "file: the run so far on every line (one point a tick)" eq "$(jq -s 'all(has("run"))' "$S")" true
check "file: the run so far only grows" \
	eq "$(jq -s '[.[].run.responses] | . == sort' "$S")" true
check "file: each line's run adds up its points so far" \
	eq "$(jq -s '[foreach .[] as $p (0; . + $p.responses; . == $p.run.responses)] | all' "$S")" true
last() { tail -1 "$S" | jq -c "$1"; }
check "file: the last run's requests, responses, errors = the report's" \
	eq "$(last '[.run.requests, .run.responses, .run.errors]')" \
	"$(jq -c '[.summary.requests, .summary.responses, .summary.errors]' "$TMP/r.json")"
check "file: the last run's latency = the report's" \
	eq "$(last .run.latency_ms)" "$(jq -c '.summary.latency_ms | del(.hist)' "$TMP/r.json")"
check "file: the report's outputs.json counts the lines" eq "$(j .outputs.json.lines) $(j .outputs.json.failed)" "$(wc -l <"$S") false"
check "file: nginx logged the 200s the last run counts" eq "$(nginx_count "$mark" 200)" "$(last .run.responses)"
# --live-interval 2s in a log: the first tick's line, then 2 s, 4 s.
lines=$(grep -c 'req/s' "$TMP/err.txt")
check "--live-interval 2s: 3 live lines in 5 s, not 5 ($lines)" eq "$lines" 3
check "--live-interval 2s: at 1 s, 2 s and 4 s" \
	eq "$(grep -o '^\[ *[0-9]*s' "$TMP/err.txt" | tr -d '[ ' | tr '\n' ' ')" "1s 2s 4s "

# --- 2. standard output: the stream alone, the summary on stderr
"$STAMPEDE" run "${NET_OPTS[@]}" --url "$url" --vus 4 --duration 2s --json "$TMP/r2.json" \
	--out json=- >"$TMP/s2.jsonl" 2>"$TMP/err2.txt"
RC=$?
check "stdout: exit 0" eq "$RC" 0
check "stdout: only JSON lines" eq "$(jq -s 'all(type == "object")' "$TMP/s2.jsonl")" true
check "stdout: a line per point" eq "$(wc -l <"$TMP/s2.jsonl")" "$(jq '.timeline | length' "$TMP/r2.json")"
check "stdout: the summary went to stderr, not stdout" \
	eq "$(grep -c 'stopped by duration' "$TMP/err2.txt") $(grep -c 'stopped by duration' "$TMP/s2.jsonl")" "1 0"

# --- 3. usage errors: nothing runs
"$STAMPEDE" run "${NET_OPTS[@]}" --url "$url" --duration 1s --out json=- --json - >"$TMP/o3" 2>"$TMP/e3"
check "json=- with --json -: exit 2" eq "$?" 2
check "... said" eq "$(grep -c 'also --json' "$TMP/e3")" 1
"$STAMPEDE" run "${NET_OPTS[@]}" --url "$url" --duration 1s --out xml=foo >"$TMP/o3" 2>"$TMP/e3"
check "--out xml=: exit 2" eq "$?" 2
check "... an unknown output, said" eq "$(grep -c "unknown output 'xml'" "$TMP/e3")" 1
"$STAMPEDE" run "${NET_OPTS[@]}" --url "$url" --duration 1s --out "json=$TMP/no/such/dir/s" >"$TMP/o3" 2>"$TMP/e3"
check "--out json= unwritable: exit 2" eq "$?" 2
check "... cannot write, said" eq "$(grep -c 'cannot write' "$TMP/e3")" 1
finish
