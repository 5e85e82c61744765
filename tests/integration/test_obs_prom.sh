#!/usr/bin/env bash
# The Prometheus endpoint (--metrics HOST:PORT): a page scraped while the
# run goes passes `promtool check metrics`; a real Prometheus (Debian's,
# started here with its own config and storage in $TMP, on loopback)
# scrapes it every second, and at the end PromQL over what it stored
# equals the JSON report: requests, responses, failures, errors by kind,
# status codes (nginx's log for the 200s), bytes, connections, the
# histogram's count, a quantile within one bucket of the report's, the
# scenario and request labels (two requests of one name are one series).
# Then the open model's target rate, Ctrl-C during the final wait, and
# usage errors (bad address, port in use): exit 2, nothing run.
. "$(dirname "$0")/lib.sh"

command -v prometheus >/dev/null && command -v promtool >/dev/null || {
	echo "prometheus and promtool missing: tools/install-deps installs them" >&2
	exit 1
}

# A loopback port free now (the kernel's pick), not $1.
free_port() {
	python3 -c '
import socket, sys
while True:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    if str(p) != sys.argv[1]:
        print(p)
        break' "${1:-0}"
}
MPORT=$(free_port)
PPORT=$(free_port "$MPORT")
PROM=http://127.0.0.1:$PPORT

cat >"$TMP/prom.yml" <<EOF2
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: stampede
    static_configs:
      - targets: ['127.0.0.1:$MPORT']
EOF2
prometheus --config.file="$TMP/prom.yml" --storage.tsdb.path="$TMP/tsdb" \
	--web.listen-address="127.0.0.1:$PPORT" >"$TMP/prom.log" 2>&1 &
PROM_PID=$!
stop_prom() {
	kill -TERM "$PROM_PID" 2>/dev/null
	for _ in $(seq 100); do kill -0 "$PROM_PID" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$PROM_PID" 2>/dev/null
	wait "$PROM_PID" 2>/dev/null
}
CLEANUPS+=("stop_prom")
ready=0
for _ in $(seq 300); do
	curl -sf "$PROM/-/ready" >/dev/null 2>&1 && { ready=1; break; }
	kill -0 "$PROM_PID" 2>/dev/null || break
	sleep 0.1
done
check "our Prometheus is ready on loopback" eq "$ready" 1
[ "$ready" = 1 ] || { cat "$TMP/prom.log" >&2; finish; }

# An instant query's first value ("none" if empty); a vector as
# {"LABEL value": value}.
q() { curl -s --get "$PROM/api/v1/query" --data-urlencode "query=$1" | jq -r '.data.result[0].value[1] // "none"'; }
qmap() {
	curl -s --get "$PROM/api/v1/query" --data-urlencode "query=$1" |
		jq -c --arg l "$2" '[.data.result[] | {key: .metric[$l], value: (.value[1] | tonumber)}] | from_entries'
}
# Every series at its last scraped value: after the run the target is
# down and its series are stale, but the samples stay.
last() { echo "last_over_time($1[10m])"; }

# --- 1. a run, scraped by Prometheus and once by hand while it goes
scenario mix <<EOF2
target: http://$SRV
load: { model: closed, vus: 8, duration: 5s }
scenarios:
  - name: browse
    weight: 3
    steps:
      - request: { name: home, path: /1k }
      - request: { name: missing, path: /nope }
  - name: fetch
    weight: 1
    steps:
      - request: { name: twice, path: /0 }
      - request: { name: twice, path: /1k }
EOF2
mark=$(log_mark "$ACCESS_LOG")
"$STAMPEDE" run "${NET_OPTS[@]}" "$TMP/mix.yaml" --json "$TMP/r.json" \
	--metrics "127.0.0.1:$MPORT" >"$TMP/out.txt" 2>"$TMP/err.txt" &
pid=$!
mid=0
ctype=none
for _ in $(seq 100); do
	if ctype=$(curl -sf --max-time 5 -w '%{content_type}' "http://127.0.0.1:$MPORT/metrics" -o "$TMP/mid.txt") &&
		grep -q '^stampede_requests_total{scenario="browse",request="home"} [1-9]' "$TMP/mid.txt"; then
		mid=1
		break
	fi
	sleep 0.1
done
running=0
kill -0 "$pid" 2>/dev/null && running=1
wait "$pid"
RC=$?
check "exit 0" eq "$RC" 0
check "a page with requests counted, taken while the run went on" eq "$mid $running" "1 1"
promtool check metrics <"$TMP/mid.txt" >"$TMP/promtool.txt" 2>&1
check "promtool check metrics passes on it" eq "$?" 0
[ -s "$TMP/promtool.txt" ] && cat "$TMP/promtool.txt" >&2
check "... content type: the text format 0.0.4" eq "$ctype" "text/plain; version=0.0.4; charset=utf-8"
check "mid-run: not finished yet" eq "$(grep -c '^stampede_run_finished 0$' "$TMP/mid.txt")" 1
check "mid-run: VUs active" eq "$(awk '$1 == "stampede_vus" { print ($2 > 0) }' "$TMP/mid.txt")" 1
check "mid-run: closed model's target, 8 VUs" eq "$(awk '$1 == "stampede_vus_target" { print $2 }' "$TMP/mid.txt")" 8
check "the final wait was said" eq "$(grep -c 'serving the final figures' "$TMP/err.txt")" 1
check "report: outputs.metrics address and path" eq "$(j '.outputs.metrics.address + .outputs.metrics.path')" "127.0.0.1:$MPORT/metrics"
check "report: a scrape took the final figures" eq "$(j .outputs.metrics.final_scraped)" true
check "report: scrapes counted (ours and Prometheus's)" ge "$(j .outputs.metrics.scrapes)" 3

# Prometheus has the final page once stampede_run_finished is 1 there
# (the scrape stampede waited for is stored a moment after it went out).
fin=none
for _ in $(seq 100); do
	fin=$(q "max($(last stampede_run_finished))")
	[ "$fin" = 1 ] && break
	sleep 0.1
done
check "Prometheus stored the final page" eq "$fin" 1
check "Prometheus scraped during the run too (samples of the home request)" \
	ge "$(q "count_over_time(stampede_requests_total{request=\"home\"}[10m])")" 3
check "PromQL requests = the report's" eq "$(q "sum($(last stampede_requests_total))")" "$(j .summary.requests)"
check "PromQL responses = the report's" eq "$(q "sum($(last stampede_responses_total))")" "$(j .summary.responses)"
check "PromQL failed requests = the report's errors" eq "$(q "sum($(last stampede_requests_failed_total))")" "$(j .summary.errors)"
check "PromQL interrupted = the report's" eq "$(q "sum($(last stampede_requests_interrupted_total))")" "$(j .summary.interrupted)"
check "some requests failed (404s: http_status)" ge "$(j .summary.errors_by_kind.http_status)" 1
check "PromQL errors by kind = the report's" \
	eq "$(qmap "$(last stampede_errors_total)" kind | jq -S -c .)" "$(jq -S -c .summary.errors_by_kind "$TMP/r.json")"
check "PromQL status codes = the report's" \
	eq "$(qmap "$(last stampede_responses_by_status_total)" code | jq -S -c .)" "$(jq -S -c .summary.codes "$TMP/r.json")"
check "PromQL 200s = nginx's log" eq "$(q "sum($(last 'stampede_responses_by_status_total{code="200"}'))")" "$(nginx_count "$mark" 200)"
check "PromQL 404s = nginx's log" eq "$(q "sum($(last 'stampede_responses_by_status_total{code="404"}'))")" "$(nginx_count "$mark" 404)"
check "PromQL bytes sent = the report's" eq "$(q "$(last stampede_sent_bytes_total)")" "$(j .summary.bytes.sent)"
check "PromQL bytes received = the report's" eq "$(q "$(last stampede_received_bytes_total)")" "$(j .summary.bytes.received)"
check "PromQL connections = the report's" eq "$(q "$(last stampede_connections_total)")" "$(j .summary.connections.opened)"
check "PromQL checks passed and failed = the report's" \
	eq "$(qmap "$(last stampede_checks_total)" result | jq -c '[.passed, .failed]')" "$(jq -c '[.summary.checks.passed, .summary.checks.failed]' "$TMP/r.json")"
check "PromQL iterations by scenario = the report's" \
	eq "$(qmap "$(last stampede_iterations_total)" scenario | jq -S -c .)" "$(jq -S -c '[.scenarios[] | {key: .name, value: .started}] | from_entries' "$TMP/r.json")"
check "at the end: no VU, no target" eq "$(q "$(last stampede_vus)") $(q "$(last stampede_vus_target)")" "0 0"

# Labels: scenario and request name; "twice" is two requests, one series.
req() { jq -r --arg n "$1" "[.requests[] | select(.name == \$n) | .$2] | add" "$TMP/r.json"; }
check "request home: its series, labelled with its scenario" \
	eq "$(q "count($(last 'stampede_requests_total{scenario="browse",request="home"}'))")" 1
check "request home: started = the report's" \
	eq "$(q "$(last 'stampede_requests_total{request="home"}')")" "$(req home started)"
check "request missing: failed = the report's" \
	eq "$(q "$(last 'stampede_requests_failed_total{scenario="browse",request="missing"}')")" "$(req missing failed)"
check "the report has two requests named twice" eq "$(jq '[.requests[] | select(.name == "twice")] | length' "$TMP/r.json")" 2
check "twice: one series in scenario fetch" \
	eq "$(q "count($(last 'stampede_responses_total{request="twice"}'))") $(q "count($(last 'stampede_responses_total{scenario="fetch"}'))")" "1 1"
check "twice: its responses, both requests' = the report's" \
	eq "$(q "$(last 'stampede_responses_total{request="twice"}')")" "$(req twice responses)"
check "four series of requests, no other label" \
	eq "$(curl -s --get "$PROM/api/v1/series" --data-urlencode 'match[]=stampede_requests_total' | jq -c '[.data[] | del(.instance, .job, .__name__) | keys] | unique')" '[["request","scenario"]]'

# The histogram: its count is the responses, a quantile within one of its
# buckets of the report's.
check "PromQL histogram count = the report's responses" \
	eq "$(q "sum($(last stampede_request_duration_seconds_count))")" "$(j .summary.responses)"
check "PromQL histogram count of home = its responses" \
	eq "$(q "$(last 'stampede_request_duration_seconds_count{request="home"}')")" "$(req home responses)"
for qq in 0.5 0.95 0.99; do
	key=$(echo "$qq" | awk '{ printf "p%d", $1 * 100 }')
	rep=$(jq -r ".summary.latency_ms.$key / 1000" "$TMP/r.json")
	hq=$(q "histogram_quantile($qq, sum by (le) ($(last stampede_request_duration_seconds_bucket)))")
	# The bucket the report's value lies in: its width bounds the gap.
	width=$(curl -s "$PROM/api/v1/label/le/values" | jq -r --argjson v "$rep" \
		'[.data[] | select(. != "+Inf") | tonumber] | sort as $e
		 | [range(0; $e | length) | select($e[.] >= $v)] | first as $i
		 | if $i == null then "none" elif $i == 0 then $e[0] else $e[$i] - $e[$i - 1] end')
	check "histogram_quantile($qq) $hq s within a bucket ($width s) of the report's $rep s" \
		awk -v a="$hq" -v b="$rep" -v w="$width" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(w != "none" && a != "none" && d <= w) }'
done
check "the report's latency is inside the histogram's range" lt "$(j .summary.latency_ms.max)" 134217

# --- 2. the open model's target rate, on a page by hand; no final wait
"$STAMPEDE" run "${NET_OPTS[@]}" --url "http://$SRV/0" --rate 40 --duration 3s \
	--metrics "127.0.0.1:$MPORT" --metrics-linger 0 --json "$TMP/r2.json" \
	>"$TMP/out2.txt" 2>"$TMP/err2.txt" &
pid=$!
rate=none
for _ in $(seq 100); do
	if curl -sf --max-time 5 "http://127.0.0.1:$MPORT/metrics" -o "$TMP/mid2.txt" &&
		grep -q '^stampede_requests_total.* [1-9]' "$TMP/mid2.txt"; then
		rate=$(awk '$1 == "stampede_target_rate" { print $2 }' "$TMP/mid2.txt")
		break
	fi
	sleep 0.1
done
wait "$pid"
RC=$?
check "open model: exit 0" eq "$RC" 0
check "open model: the target rate, 40/s" eq "$rate" 40
check "open model: promtool check metrics passes" promtool check metrics <"$TMP/mid2.txt"
check "--metrics-linger 0: no wait" eq "$(grep -c 'serving the final figures' "$TMP/err2.txt")" 0

# --- 3. Ctrl-C during the final wait ends it at once, the report is written
start=$(date +%s%N)
"$STAMPEDE" run "${NET_OPTS[@]}" --url "http://$SRV/0" --vus 2 --duration 30s \
	--metrics "127.0.0.1:$MPORT" --metrics-linger 60s --json "$TMP/r3.json" \
	>"$TMP/out3.txt" 2>"$TMP/err3.txt" &
pid=$!
for _ in $(seq 100); do
	curl -sf --max-time 5 "http://127.0.0.1:$MPORT/metrics" 2>/dev/null |
		grep -q '^stampede_requests_total.* [1-9]' && break
	sleep 0.1
done
kill -INT "$pid"
t_int=$(date +%s%N)
for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
t_end=$(date +%s%N)
stop_pid "$pid"
check "Ctrl-C: ended within 5 s, no 60 s wait ($(( (t_end - t_int) / 1000000 )) ms)" lt "$(( (t_end - t_int) / 1000000 ))" 5000
check "Ctrl-C: the report says so" eq "$(jq -r .stopped_by "$TMP/r3.json")" signal
check "Ctrl-C: and has the endpoint" eq "$(jq -r .outputs.metrics.address "$TMP/r3.json")" "127.0.0.1:$MPORT"
check "Ctrl-C: the run was short" lt "$(( (t_end - start) / 1000000000 ))" 20

# --- 4. usage errors: exit 2, nothing run, no report
bad() { # bad WHAT EXPECTED-MESSAGE args...
	local what=$1 msg=$2 m
	shift 2
	m=$(log_mark "$ACCESS_LOG")
	rm -f "$TMP/r4.json"
	"$STAMPEDE" run "${NET_OPTS[@]}" --url "http://$SRV/0" --duration 1s \
		--json "$TMP/r4.json" "$@" >"$TMP/o4" 2>"$TMP/e4"
	check "$what: exit 2" eq "$?" 2
	check "$what: said ($msg)" eq "$(grep -c -- "$msg" "$TMP/e4")" 1
	check "$what: nothing ran, no report" eq "$(log_since "$ACCESS_LOG" "$m" | wc -l) $([ -e "$TMP/r4.json" ] && echo yes || echo no)" "0 no"
}
bad "no port" "HOST:PORT" --metrics 127.0.0.1
bad "port 0" "the port must be 1 to 65535" --metrics 127.0.0.1:0
bad "port 65536" "the port must be 1 to 65535" --metrics 127.0.0.1:65536
bad "IPv6 without brackets" "in brackets" --metrics ::1:9464
bad "not an address" "not an address" --metrics "[nope]:9464"
bad "port in use (our Prometheus's)" "Address already in use" --metrics "127.0.0.1:$PPORT"
bad "--metrics-linger alone" "needs --metrics" --metrics-linger 5s
bad "--metrics-linger bad" "--metrics-linger" --metrics "127.0.0.1:$MPORT" --metrics-linger soon
finish
