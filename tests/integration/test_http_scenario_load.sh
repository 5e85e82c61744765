#!/usr/bin/env bash
# Per-scenario loads: two scenarios with open-model rates of their own (200/s
# to /0 for the whole 10 s, 50/s to /1k from 2 s to the end) and no
# top-level load. nginx's log is the witness: each path's requests within
# 2 % of its rate x its length, and exactly the responses stampede counted
# for it.
. "$(dirname "$0")/lib.sh"

scenario own <<EOF2
target: http://$SRV
seed: 11
scenarios:
  - name: steady
    load: { model: open, rate: 200, duration: 10s }
    steps: [ { request: { path: /0 } } ]
  - name: late
    load: { model: open, rate: 50, max_vus: 40, start: 2s, duration: 8s }
    steps: [ { request: { path: /1k } } ]
EOF2
mark=$(log_mark "$ACCESS_LOG")
run_sp run "$TMP/own.yaml"
check "exit code 0" eq "$RC" 0
started() { jq -r --arg n "$1" '.scenarios[] | select(.name == $n) | .started' "$TMP/r.json"; }
dropped() { jq -r --arg n "$1" '.scenarios[] | select(.name == $n) | .dropped' "$TMP/r.json"; }
resp() { jq -r --arg n "$1" '.requests[] | select(.name == $n) | .responses' "$TMP/r.json"; }
check "steady: 2000 iterations within 2 % (>= 1960)" ge "$(started steady)" 1960
check "steady: 2000 iterations within 2 % (<= 2040)" le "$(started steady)" 2040
check "late: 400 iterations within 2 % (>= 392)" ge "$(started late)" 392
check "late: 400 iterations within 2 % (<= 408)" le "$(started late)" 408
check "steady: none dropped" eq "$(dropped steady)" 0
check "late: none dropped" eq "$(dropped late)" 0
n0=$(nginx_count "$mark" 200 /0)
n1=$(nginx_count "$mark" 200 /1k)
check "nginx: /0 within 2 % of 200/s x 10 s (>= 1960)" ge "$n0" 1960
check "nginx: /0 within 2 % of 200/s x 10 s (<= 2040)" le "$n0" 2040
check "nginx: /1k within 2 % of 50/s x 8 s (>= 392)" ge "$n1" 392
check "nginx: /1k within 2 % of 50/s x 8 s (<= 408)" le "$n1" 408
check "nginx: /0 lines = GET /0 responses" eq "$n0" "$(resp "GET /0")"
check "nginx: /1k lines = GET /1k responses" eq "$n1" "$(resp "GET /1k")"
check "the run lasted the latest end (10 s)" eq "$(jq -r '.elapsed_s | floor' "$TMP/r.json")" 10
check "the report shows late's own load" eq \
	"$(jq -r '.scenarios[] | select(.name == "late") | "\(.load.model) \(.load.rate) \(.load.start_s)"' "$TMP/r.json")" \
	"open 50 2"
check "no errors" eq "$(j .summary.errors)" 0
check_http_accounting
check_pools
finish
