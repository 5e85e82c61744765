#!/usr/bin/env bash
# Open model: 2,000 iterations/s for 10 s start on time whatever the server
# does; nginx (which keeps up) logs them within 2 %.
. "$(dirname "$0")/lib.sh"

mark=$(log_mark "$ACCESS_LOG")
run_sp run --url "http://$SRV/0" --rate 2000 --max-vus 500 --duration 10s
check "exit code 0" eq "$RC" 0
started=$(j .summary.iterations.started)
check "iterations started: 20000 within 2 % (>= 19600)" ge "$started" 19600
check "iterations started: 20000 within 2 % (<= 20400)" le "$started" 20400
check "none dropped (the server keeps up)" eq "$(j .summary.iterations.dropped)" 0
logged=$(nginx_count "$mark" 200)
check "nginx logged 20000 within 2 % (>= 19600)" ge "$logged" 19600
check "nginx logged 20000 within 2 % (<= 20400)" le "$logged" 20400
check "nginx logged exactly the 200s counted" eq "$logged" "$(j '.summary.codes["200"] // 0')"
check "no errors" eq "$(j .summary.errors)" 0
check_http_accounting
check_pools
finish
