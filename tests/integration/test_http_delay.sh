#!/usr/bin/env bash
# Latency follows the server: one that waits 20 ms before each answer
# (sp-httpsrv's /delay/20; this kernel has no netem) moves stampede's p50 by
# 20 ms +- 1.5 ms. A request that follows another without think time is
# timed from when the first ended, not from the iteration's start. (The
# packet-capture comparison, request by request and within 50 us, is
# test_http_capture.sh.)
. "$(dirname "$0")/lib.sh"

scenario base <<EOF2
target: http://$SRV:8080
load: { vus: 10, duration: 3s }
scenarios: [ { name: base, steps: [ { request: { path: /len/0 } } ] } ]
EOF2
scenario delay <<EOF2
target: http://$SRV:8080
load: { vus: 10, duration: 3s }
scenarios:
  - name: delay
    steps:
      - request: { name: slow, path: /delay/20/len/0 }
      - request: { name: fast, path: /len/0 }
EOF2
run_sp run "$TMP/base.yaml"
check "baseline: exit code 0" eq "$RC" 0
base=$(j .summary.latency_ms.p50)

run_sp run "$TMP/delay.yaml"
check "delayed: exit code 0" eq "$RC" 0
check "delayed: no errors" eq "$(j .summary.errors)" 0
slow=$(jq -r '.requests[] | select(.name == "slow") | .latency_ms.p50' "$TMP/r.json")
fast=$(jq -r '.requests[] | select(.name == "fast") | .latency_ms.p50' "$TMP/r.json")
check "p50 moved by 20 ms +- 1.5 (baseline $base, delayed $slow)" \
	eq "$(echo "$slow $base" | awk '{ d = $1 - $2 - 20; print (d >= -1.5 && d <= 1.5) }')" 1
check "the request after it is not charged the delay (p50 $fast ms < 5)" \
	eq "$(echo "$fast" | awk '{ print ($1 < 5) }')" 1

check_http_accounting
check_pools
finish
