#!/usr/bin/env bash
# Closed model, keep-alive, wrk-style (no file): every 200 stampede counts is
# a line in nginx's access log, exactly, and nginx logged nothing more.
. "$(dirname "$0")/lib.sh"

mark=$(log_mark "$ACCESS_LOG")
opens0=$(kcount TcpPassiveOpens)
run_sp run --url "http://$SRV/1k" --vus 50 --duration 5s
check "exit code 0" eq "$RC" 0
ok=$(j '.summary.codes["200"] // 0')
check "some 200s (at least 1000)" ge "$ok" 1000
check "nginx logged exactly the 200s stampede counted" eq "$(nginx_count "$mark" 200)" "$ok"
check "nginx logged nothing else from us" eq "$(log_since "$ACCESS_LOG" "$mark" | wc -l)" "$ok"
check "no errors" eq "$(j .summary.errors)" 0
check "responses = 200s" eq "$(j .summary.responses)" "$ok"
check "nothing cut at the end (grace period)" eq "$(j .summary.interrupted)" 0
check_http_accounting
check "50 connections, kept alive (kernel passive opens)" eq $(($(kcount TcpPassiveOpens) - opens0)) 50
check "stampede opened 50 connections" eq "$(j .summary.connections.opened)" 50
check "body bytes: at least 1 KiB per response" ge "$(j .summary.bytes.received)" $((ok * 1024))
check "rps is responses over duration" eq "$(jq -r '(.summary.responses / .summary.duration_s - .summary.rps) | fabs < 0.01' "$TMP/r.json")" true
check "latency p50 between min and max" eq "$(jq -r '.summary.latency_ms | .min <= .p50 and .p50 <= .max' "$TMP/r.json")" true
check_pools

# keep_alive: false sends "Connection: close": one connection per request,
# by the kernel's count, and nginx still logs every 200.
scenario close <<EOF2
target: http://$SRV
load: { vus: 20, duration: 3s }
scenarios:
  - name: close
    keep_alive: false
    steps: [ { request: { path: /0 } } ]
EOF2
# From an address of its own, whose TIME_WAITs in the server are this run's
# only (a rerun within the kernel's 60 s TIME_WAIT waits for the last one's
# to go).
CLOSE_IP=198.18.0.61
tw_count() {
	ip netns exec "$NS" ss -Htan state time-wait "( sport = :80 and dst $CLOSE_IP )" | wc -l
}
for _ in $(seq 70); do
	[ "$(tw_count)" -eq 0 ] && break
	sleep 1
done
mark=$(log_mark "$ACCESS_LOG")
opens0=$(kcount TcpPassiveOpens)
run_sp run "$TMP/close.yaml" --ip "$CLOSE_IP"
ok=$(j '.summary.codes["200"] // 0')
check "close: exit code 0" eq "$RC" 0
check "close: some 200s (at least 1000)" ge "$ok" 1000
check "close: nginx logged exactly the 200s counted" eq "$(nginx_count "$mark" 200 "" "$CLOSE_IP")" "$ok"
check "close: one connection per request (stampede)" eq "$(j .summary.connections.opened)" "$(j .summary.requests)"
check "close: one connection per request (kernel)" eq $(($(kcount TcpPassiveOpens) - opens0)) "$(j .summary.requests)"
check "close: no errors" eq "$(j .summary.errors)" 0
# After "Connection: close" nginx closes first (RFC 9112 9.6) and we answer
# its FIN with ours: nginx, not we, holds each connection's TIME_WAIT.
check "close: every FIN of ours answered nginx's" eq "$(j .tcp.linger_fin)" "$(j .summary.connections.opened)"
check "close: none waited out the linger" eq "$(j .tcp.linger_timeout)" 0
# One per (address, port) pair used: a pair used again replaced its entry.
opened=$(j .summary.connections.opened)
check "close: nginx holds the TIME_WAIT of every pair used (ss)" eq "$(tw_count)" \
	$((opened < 64512 ? opened : 64512))
check_http_accounting
check_pools
finish
