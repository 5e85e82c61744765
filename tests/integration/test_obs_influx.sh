#!/usr/bin/env bash
# --out influxdb=: each second's timeline point as InfluxDB line protocol,
# pushed from a thread of its own, never holding the run.
# 1. A real influxd (Debian's 1.6) of the test's own on loopback: a query
#    of what the run wrote gives back the report's timeline, point by
#    point, stamped a second apart; its sums are the report's totals (and
#    nginx's count of 200s).
# 2. v1 with USER:PASS@ and rp=, and 3. v2 (no Debian server speaks it),
#    against a recording server of the test's own (influx_sink.py): the
#    path, the query and the Authorization header are the expected ones,
#    the bodies' lines are the timeline; no credential in any output.
# 4. A database that refuses, and one that never answers: the run ends on
#    time with its exit code, what could not go is counted in
#    outputs.influxdb and said on stderr once, not every second.
# 5. Usage errors: a missing v2 token, malformed URLs (exit 2).
. "$(dirname "$0")/lib.sh"

url="http://$SRV/1k"
SINK=$(dirname "$0")/influx_sink.py
for c in influxd influx curl; do
	command -v "$c" >/dev/null || { echo "$c missing: run tools/install-deps" >&2; exit 1; }
done

free_port() {
	/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
now_ms() { date +%s%3N; }
# A duration's clock: monotonic (/proc/uptime, 10 ms steps), not the wall
# clock that a time step would move.
mono_ms() {
	local up
	read -r up _ </proc/uptime
	echo $((10#${up/./} * 10))
}
# Numbers as numbers (1.000 and 1 alike), keys sorted: two JSON texts
# compare as values.
norm() { jq -S -c 'walk(if type == "number" then . + 0 else . end)'; }
# The report's timeline, normalized.
# (Each point's histogram is the report's alone: InfluxDB gets its
# percentiles.)
timeline() { jq -c '.timeline | map(del(.hist))' "$TMP/r.json" | norm; }
# Line protocol (stdin) as a JSON array: a line's fields, and _m, _ts,
# _tag_KEY for its measurement, timestamp and tags.
lp_json() {
	/usr/bin/python3 -c '
import json, sys
out = []
for line in sys.stdin:
    line = line.rstrip("\n")
    if not line:
        continue
    key, fields, ts = line.split(" ")
    m, *tags = key.split(",")
    o = {"_m": m, "_ts": int(ts)}
    for t in tags:
        k, v = t.split("=", 1)
        o["_tag_" + k] = v
    for f in fields.split(","):
        k, v = f.split("=", 1)
        if v.endswith("i"):
            v = int(v[:-1])
        elif v in ("true", "false"):
            v = v == "true"
        else:
            v = float(v)
        o[k] = v
    out.append(o)
print(json.dumps(out))'
}
# influx_lines: stderr's lines about --out influxdb=.
influx_lines() { grep -c 'out influxdb=' "$TMP/err.txt"; }
# run_timed ARGS...: run_sp run ARGS, its wall time in WALL_MS.
run_timed() {
	local t0
	t0=$(mono_ms)
	run_sp run "$@"
	WALL_MS=$(($(mono_ms) - t0))
}
# The load's length in ms, from the report.
dur_ms() { jq '.summary.duration_s * 1000 | floor' "$TMP/r.json"; }
ix() { jq -r ".outputs.influxdb.$1" "$TMP/r.json"; }
# Where a run's time past its load went, for a timing check to say: the
# drain (elapsed_s - duration_s), the end's bounded wait for the queue,
# then stop to the pusher gone; the rest is the start and the exit.
phases() {
	jq -r '"drain \((.elapsed_s - .summary.duration_s) * 1000 | floor), influx end: wait \(.outputs.influxdb.end_wait_ms) + stop \(.outputs.influxdb.end_stop_ms) ms"' "$TMP/r.json"
}
# sink MODE ARGS...: influx_sink.py in $TMP/sinkN, its port in SINK_PORT,
# its log in SINK_LOG and bodies in SINK_BODIES; stopped at exit.
SINKS=0
sink() {
	local d=$TMP/sink$SINKS pid
	SINKS=$((SINKS + 1))
	mkdir -p "$d"
	: >"$d/log"
	: >"$d/bodies"
	/usr/bin/python3 "$SINK" "$d/port" "$d/log" "$d/bodies" "$@" &
	pid=$!
	CLEANUPS+=("stop_pid $pid")
	for _ in $(seq 100); do [ -s "$d/port" ] && break; sleep 0.1; done
	SINK_PORT=$(cat "$d/port" 2>/dev/null)
	SINK_LOG=$d/log
	SINK_BODIES=$d/bodies
	[ -n "$SINK_PORT" ] || { echo "influx_sink.py did not start" >&2; exit 1; }
}

# --- 1. influxd of our own: loopback, a free port, everything in $TMP
IXP=$(free_port)
IXD=$TMP/influxdb
mkdir -p "$IXD"
cat >"$IXD/influxdb.conf" <<EOF
reporting-disabled = true
bind-address = "127.0.0.1:0"
[meta]
  dir = "$IXD/meta"
[data]
  dir = "$IXD/data"
  wal-dir = "$IXD/wal"
  query-log-enabled = false
[http]
  bind-address = "127.0.0.1:$IXP"
  log-enabled = false
[monitor]
  store-enabled = false
[continuous_queries]
  enabled = false
EOF
influxd run -config "$IXD/influxdb.conf" >"$IXD/log" 2>&1 &
IXPID=$!
CLEANUPS+=("stop_pid $IXPID 100")
up=0
for _ in $(seq 300); do
	[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$IXP/ping")" = 204 ] && { up=1; break; }
	kill -0 "$IXPID" 2>/dev/null || break
	sleep 0.1
done
check "influxd answers on 127.0.0.1:$IXP" eq "$up" 1
[ "$up" = 1 ] || { cat "$IXD/log" >&2; finish; }
influx -host 127.0.0.1 -port "$IXP" -execute 'CREATE DATABASE sp'
check "influx CLI: CREATE DATABASE sp" eq "$?" 0
ixq() {
	curl -sS -G "http://127.0.0.1:$IXP/query" --data-urlencode db=sp \
		--data-urlencode epoch=ms --data-urlencode "q=$1"
}

mark=$(log_mark "$ACCESS_LOG")
t0=$(now_ms)
run_timed --url "$url" --vus 10 --duration 5s --out "influxdb=http://127.0.0.1:$IXP/sp" \
	--out "json=$TMP/s.jsonl"
t1=$(now_ms)
BASE_OVER=$((WALL_MS - $(dur_ms)))
BASE_PHASES=$(phases)
n=$(jq '.timeline | length' "$TMP/r.json")
RUN=$(ix run)
check "influxd: exit 0" eq "$RC" 0
check "influxd: the timeline has 5 or 6 points" eq "$((n == 5 || n == 6))" 1
check "influxd: outputs has both outputs" eq "$(jq -c '.outputs | keys' "$TMP/r.json")" '["influxdb","json"]'
check "influxd: outputs.influxdb: every point written, nothing lost" \
	eq "$(jq -c '.outputs.influxdb | [.points, .dropped, .failed, .failed_points, .first_error, .last_error]' "$TMP/r.json")" \
	"[$n,0,0,0,null,null]"
check "influxd: a request a second or fewer (batches $(ix batches))" eq "$(( $(ix batches) >= 1 && $(ix batches) <= n ))" 1
check "influxd: url, api, measurement" eq "$(ix url) $(ix api) $(ix measurement)" "http://127.0.0.1:$IXP/sp v1 stampede"
check "influxd: stderr says it once, at the end" eq "$(influx_lines)" 1
check "influxd: ... with the count and the run" eq "$(grep -c "$n of $n points written in .* (run=$RUN)" "$TMP/err.txt")" 1
ixq "SELECT * FROM stampede WHERE run='$RUN'" >"$TMP/q.json"
pts=$(jq -c '[.results[0].series[0] | .columns as $c | .values[] | [$c, .] | transpose |
	map(select(.[1] != null) | {key: .[0], value: .[1]}) | from_entries]' "$TMP/q.json")
check "influxd: a point per timeline point" eq "$(jq length <<<"$pts")" "$n"
check "influxd: each point's fields are the timeline point's" \
	eq "$(jq -c 'map(del(.time, .run))' <<<"$pts" | norm)" "$(timeline)"
check "influxd: p99 per point = the timeline's" \
	eq "$(jq -c 'map(.p99_ms)' <<<"$pts" | norm)" "$(jq -c '[.timeline[].p99_ms]' "$TMP/r.json" | norm)"
check "influxd: one series: the run tag only" \
	eq "$(ixq "SHOW SERIES FROM stampede WHERE run='$RUN'" | jq -c '[.results[0].series[0].values[][0]]')" \
	"[\"stampede,run=$RUN\"]"
check "influxd: stamped at each second's end, a second apart" \
	eq "$(jq '[.[] | .time - .t * 1000] | unique | length' <<<"$pts")" 1
first=$(jq '.[0].time' <<<"$pts")
check "influxd: the first second's end is within the run's wall time" \
	eq "$((first >= t0 + 1000 && first <= t1))" 1
check "influxd: sums of requests, responses, errors, bytes = the report's" \
	eq "$(ixq "SELECT sum(requests), sum(responses), sum(errors), sum(bytes_sent), sum(bytes_received) FROM stampede WHERE run='$RUN'" |
		jq -c '.results[0].series[0].values[0][1:]')" \
	"$(jq -c '[.summary.requests, .summary.responses, .summary.errors, .summary.bytes.sent, .summary.bytes.received]' "$TMP/r.json")"
check "influxd: nginx logged the 200s the points add up to" \
	eq "$(nginx_count "$mark" 200)" "$(jq '[.[].responses] | add' <<<"$pts")"

# --- 2. v1 with credentials and a retention policy, on the sink
sink record --path /write --query "db=sp&rp=week&precision=ms" \
	--auth "Basic $(printf 'u:p w' | base64)"
run_sp run --url "$url" --vus 4 --duration 3s --out "influxdb=http://u:p%20w@127.0.0.1:$SINK_PORT/sp?rp=week"
n=$(jq '.timeline | length' "$TMP/r.json")
check "v1 auth: exit 0" eq "$RC" 0
check "v1 auth: every request had the path, query and Basic header expected" \
	eq "$(jq -s 'length > 0 and all(.ok)' "$SINK_LOG")" true
check "v1 auth: the sink's requests are the report's batches" eq "$(wc -l <"$SINK_LOG")" "$(ix batches)"
check "v1 auth: the bodies' lines are the timeline" \
	eq "$(lp_json <"$SINK_BODIES" | jq -c 'map(del(._m, ._ts, ._tag_run))' | norm)" "$(timeline)"
check "v1 auth: measurement stampede, tag run, nothing else" \
	eq "$(lp_json <"$SINK_BODIES" | jq -c '[.[] | [._m, ._tag_run, (keys | map(select(startswith("_"))))]] | unique')" \
	"[[\"stampede\",\"$(ix run)\",[\"_m\",\"_tag_run\",\"_ts\"]]]"
check "v1 auth: the report's url has no credentials" eq "$(ix url)" "http://127.0.0.1:$SINK_PORT/sp?rp=week"
check "v1 auth: the password is in no output" \
	eq "$(cat "$TMP/r.json" "$TMP/out.txt" "$TMP/err.txt" | grep -c 'p%20w\|p w@')" 0

# --- 3. v2: the token from the environment
sink record --path /api/v2/write --query "org=acme&bucket=load&precision=ms" --auth "Token tok-3f9"
STAMPEDE_INFLUXDB_TOKEN=tok-3f9 run_sp run --url "$url" --vus 4 --duration 3s \
	--out "influxdb=http://127.0.0.1:$SINK_PORT/api/v2/write?org=acme&bucket=load"
n=$(jq '.timeline | length' "$TMP/r.json")
check "v2: exit 0" eq "$RC" 0
check "v2: every request had the path, org, bucket, precision and token expected" \
	eq "$(jq -s 'length > 0 and all(.ok)' "$SINK_LOG")" true
check "v2: written, nothing lost" eq "$(jq -c '.outputs.influxdb | [.api, .points, .dropped, .failed]' "$TMP/r.json")" "[\"v2\",$n,0,0]"
check "v2: the bodies' lines are the timeline" \
	eq "$(lp_json <"$SINK_BODIES" | jq -c 'map(del(._m, ._ts, ._tag_run))' | norm)" "$(timeline)"
check "v2: stamped a second apart" \
	eq "$(lp_json <"$SINK_BODIES" | jq '[.[] | ._ts - .t * 1000] | unique | length')" 1
check "v2: the token is in no output" eq "$(cat "$TMP/r.json" "$TMP/out.txt" "$TMP/err.txt" | grep -c 'tok-3f9')" 0

# --- 4a. a database that refuses: a request a second fails at once
RPORT=$(free_port)
run_timed --url "$url" --vus 4 --duration 6s --out "influxdb=http://127.0.0.1:$RPORT/sp"
n=$(jq '.timeline | length' "$TMP/r.json")
check "refused: exit 0" eq "$RC" 0
check "refused: nothing written" eq "$(ix points)" 0
check "refused: a failed request a second or so ($(ix failed))" ge "$(ix failed)" 5
check "refused: every point failed or dropped" eq "$(( $(ix failed_points) + $(ix dropped) ))" "$n"
check "refused: the error says why" eq "$(ix first_error | grep -ci 'connect')" 1
check "refused: said twice on stderr (at the first loss, at the end), not a second" eq "$(influx_lines)" 2

# --- 4b. a database that never answers: the run ends on time
sink hang
run_timed --url "$url" --vus 4 --duration 8s --out "influxdb=http://127.0.0.1:$SINK_PORT/sp"
n=$(jq '.timeline | length' "$TMP/r.json")
over=$((WALL_MS - $(dur_ms)))
check "hang: exit 0" eq "$RC" 0
check "hang: the load lasted its 8 s" within "$(jq .summary.duration_s "$TMP/r.json")" 8 5
check "hang: a point every second: the control lcore never waited (n $n)" eq "$((n == 8 || n == 9))" 1
check "hang: the end waited 2 s at most more than with a database that answers ($over vs $BASE_OVER ms; $(phases); baseline $BASE_PHASES)" \
	le "$over" $((BASE_OVER + 3500))
check "hang: the pusher left when told to stop (not left behind in libcurl)" eq "$(ix end_left_behind)" false
check "hang: the sink took the connection" ge "$(wc -l <"$SINK_LOG")" 1
check "hang: nothing written" eq "$(ix points)" 0
check "hang: failed requests counted ($(ix failed))" ge "$(ix failed)" 1
check "hang: every point failed or dropped" eq "$(( $(ix failed_points) + $(ix dropped) ))" "$n"
check "hang: the error says the database did not answer" \
	eq "$(ix first_error | grep -ci 'timed out\|abandoned')" 1
check "hang: said at most twice on stderr" eq "$(( $(influx_lines) >= 1 && $(influx_lines) <= 2 ))" 1

# --- 5. usage errors: nothing runs
bad() { # bad WHAT WORDS OUT_SPEC...
	local what=$1 words=$2
	shift 2
	"$STAMPEDE" run "${NET_OPTS[@]}" --url "$url" --duration 1s "$@" >"$TMP/o5" 2>"$TMP/e5"
	check "$what: exit 2" eq "$?" 2
	check "$what: says '$words'" eq "$(grep -c -- "$words" "$TMP/e5")" 1
}
bad "v2 without a token" "set STAMPEDE_INFLUXDB_TOKEN" \
	--out "influxdb=http://127.0.0.1:$IXP/api/v2/write?org=o&bucket=b"
bad "no scheme" "http:// or https:// expected" --out "influxdb=127.0.0.1:$IXP/sp"
bad "no database" "no database" --out "influxdb=http://127.0.0.1:$IXP"
bad "a bad port" "a bad port '99999'" --out "influxdb=http://127.0.0.1:99999/sp"
bad "v2 without bucket" "v2 needs org= (or orgID=) and bucket=" \
	--out "influxdb=http://127.0.0.1:$IXP/api/v2/write?org=o"
bad "an unknown parameter" "'db' in the query: not a parameter" --out "influxdb=http://127.0.0.1:$IXP/sp?db=x"
bad "empty" "KIND=WHERE" --out "influxdb="
bad "twice" "influxdb= given twice" --out "influxdb=http://127.0.0.1:$IXP/sp" --out "influxdb=http://127.0.0.1:$IXP/sp"
finish
