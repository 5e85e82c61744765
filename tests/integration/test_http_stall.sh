#!/usr/bin/env bash
# No coordinated omission: in the open model a server frozen for 2 s
# (SIGSTOP on nginx's worker) shows as latency of the requests that
# arrived meanwhile, p99 >= 1.5 s, not as a gap in the data; arrivals
# keep their schedule and nothing is lost (nginx's log has every 200).
. "$(dirname "$0")/lib.sh"

workers=$(pgrep -f 'nginx: worker process' | tr '\n' ' ')
check "found nginx's worker" ge "$(echo "$workers" | wc -w)" 1
thaw() { kill -CONT $workers 2>/dev/null || true; }
trap 'thaw; cleanup' EXIT

mark=$(log_mark "$ACCESS_LOG")
"$STAMPEDE" run "${NET_OPTS[@]}" --url "http://$SRV/0" --rate 200 --max-vus 1000 \
	--duration 6s --json "$TMP/r.json" >"$TMP/out.txt" 2>"$TMP/err.txt" &
pid=$!
# Freeze at about 2 s into the load (the live line says when it runs).
for _ in $(seq 100); do grep -q '1s/6s' "$TMP/err.txt" && break; sleep 0.05; done
sleep 1
kill -STOP $workers
sleep 2
thaw
wait "$pid"
RC=$?
check "exit code 0" eq "$RC" 0
check "arrivals kept their schedule: 1200 within 2 %" eq "$(jq '.summary.iterations.started + .summary.iterations.dropped | . >= 1176 and . <= 1224' "$TMP/r.json")" true
check "none dropped (1000 VUs cover a 2 s stall at 200/s)" eq "$(j .summary.iterations.dropped)" 0
p99=$(jq '.summary.latency_ms.p99 | floor' "$TMP/r.json")
check "p99 >= 1500 ms (the stall is in the latency)" ge "$p99" 1500
check "max < 2600 ms (no more than the stall)" eq "$(jq '.summary.latency_ms.max < 2600' "$TMP/r.json")" true
check "p50 stays low (< 100 ms): most requests were not stalled" eq "$(jq '.summary.latency_ms.p50 < 100' "$TMP/r.json")" true
check "the timeline shows the stall: a second with p99 >= 1000 ms" eq "$(jq '[.timeline[] | select(.p99_ms >= 1000)] | length >= 1' "$TMP/r.json")" true
check "no errors" eq "$(j .summary.errors)" 0
check "nginx logged exactly the 200s counted" eq "$(nginx_count "$mark" 200)" "$(j '.summary.codes["200"]')"
check_http_accounting
check_pools
finish
