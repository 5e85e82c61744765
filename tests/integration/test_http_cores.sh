#!/usr/bin/env bash
# Two worker cores (two af_packet queue pairs, kernel fanout; on this
# 2-CPU machine the lcores share CPUs): connections spread over both,
# frames that land on the other core's queue are passed to their owner
# and counted, per-core figures add up to the totals, nginx's log and the
# kernel agree with them, VU numbers stay unique, and the open model's
# arrivals keep the whole schedule.
. "$(dirname "$0")/lib.sh"

scenario cores <<EOF2
target: http://$SRV
load: { vus: 50, duration: 5s }
scenarios:
  - name: c
    steps: [ { request: { path: "/1k?vu={{vu}}" } } ]
EOF2
mark=$(log_mark "$ACCESS_LOG")
opens0=$(kcount TcpPassiveOpens)
run_sp run "$TMP/cores.yaml" --cores 2
check "exit code 0" eq "$RC" 0
check "two cores in the report" eq "$(jq '.cores | length' "$TMP/r.json")" 2
check "core 0 made requests" ge "$(jq '.cores[0].responses' "$TMP/r.json")" 1000
check "core 1 made requests" ge "$(jq '.cores[1].responses' "$TMP/r.json")" 1000
check "25 connections each" eq "$(jq -r '[.cores[].connections] | map(tostring) | join(",")' "$TMP/r.json")" "25,25"
check_core_lines "2 cores" '$4, $8, $12' '.connections, .responses, .redirect_out'
for k in requests responses errors; do
	check "per-core $k add up" eq "$(jq "[.cores[].$k] | add" "$TMP/r.json")" "$(j ".summary.$k")"
done
check "the kernel accepted exactly 50 connections" eq $(($(kcount TcpPassiveOpens) - opens0)) 50
check "nginx logged exactly the 200s counted" eq "$(nginx_count "$mark" 200)" "$(j '.summary.codes["200"]')"
check "VU numbers 1..50, each once" eq \
	"$(log_since "$ACCESS_LOG" "$mark" | sed -nE 's/.*vu=([0-9]+) .*/\1/p' | sort -un | tr '\n' ' ')" \
	"$(seq -s ' ' 1 50) "
out=$(jq '[.cores[].redirect_out] | add' "$TMP/r.json")
in=$(jq '[.cores[].redirect_in] | add' "$TMP/r.json")
check "frames on the wrong queue were passed on (redirects > 0)" ge "$out" 1
check "every redirected frame arrived, or was counted dropped or stranded" eq \
	"$(jq '([.cores[] | .redirect_in + .redirect_full] | add) + .generator.redirect_stranded' "$TMP/r.json")" "$out"
check "the generator block agrees" eq "$(j .generator.redirect_in)" "$in"
check "af_packet: placement by passing frames on (no RSS to compute)" eq "$(j .generator.placement)" redirect
check "no errors" eq "$(j .summary.errors)" 0
check_http_accounting
check_pools

# Open model over two cores: 1000/s for 5 s, each core every other arrival.
run_sp run --url "http://$SRV/0" --rate 1000 --max-vus 200 --duration 5s --cores 2
check "open: exit code 0" eq "$RC" 0
check "open: 5000 arrivals within 2 %" eq "$(jq '.summary.iterations.started + .summary.iterations.dropped | . >= 4900 and . <= 5100' "$TMP/r.json")" true
check "open: split evenly (each core within 1 of the other)" eq "$(jq '(.cores[0].requests - .cores[1].requests) | fabs <= 1' "$TMP/r.json")" true
check_http_accounting
check_pools

# Two workers given one CPU: the run works, and says they take turns.
cpu=$(taskset -pc $$ | sed 's/.*: //; s/[-,].*//')
taskset -c "$cpu" "$STAMPEDE" run "${NET_OPTS[@]}" --json "$TMP/r.json" \
	--url "http://$SRV/0" --vus 4 --duration 1s --cores 2 >"$TMP/out.txt" 2>"$TMP/err.txt"
check "one CPU: exit code 0" eq "$?" 0
check "one CPU: the workers are told they share it" eq \
	"$(grep -c '2 worker cores but 1 CPU for them: workers take turns on a CPU (each yields it' "$TMP/err.txt")" 1
check "one CPU: responses" ge "$(j .summary.responses)" 1
finish
