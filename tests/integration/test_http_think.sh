#!/usr/bin/env bash
# Closed model with think time: 200 VUs each waiting 100 ms between
# requests make about 2,000 requests/s against a server that answers in
# well under a millisecond.
. "$(dirname "$0")/lib.sh"

scenario think <<EOF2
target: http://$SRV
load: { model: closed, vus: 200, duration: 10s }
scenarios:
  - name: think
    steps:
      - request: { path: /0 }
      - think: 100ms
EOF2
mark=$(log_mark "$ACCESS_LOG")
run_sp run "$TMP/think.yaml"
check "exit code 0" eq "$RC" 0
rps=$(jq -r '.summary.rps | floor' "$TMP/r.json")
check "about 2000 req/s (>= 1900)" ge "$rps" 1900
check "about 2000 req/s (<= 2100)" le "$rps" 2100
check "nginx logged exactly the 200s counted" eq "$(nginx_count "$mark" 200)" "$(j '.summary.codes["200"] // 0')"
check "no errors" eq "$(j .summary.errors)" 0
check_http_accounting
check_pools
finish
