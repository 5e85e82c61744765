#!/usr/bin/env bash
# What the requests carried, as nginx logged it: template variables
# ({{vu}}, {{iteration}}, {{random A B}}, {{data.COLUMN}}, {{env NAME}})
# render to what the plan says, and max_requests_per_connection opens a new
# connection every N requests (the kernel counts the connections).
. "$(dirname "$0")/lib.sh"

printf 'user,n\nu1,10\nu2,20\nu3,30\n' >"$TMP/users.csv"
scenario vars <<EOF2
target: http://$SRV
load: { model: closed, vus: 5, duration: 3s }
data: users.csv
scenarios:
  - name: vars
    max_requests_per_connection: 4
    steps:
      - request: { path: "/0?vu={{vu}}&it={{ iteration }}&r={{random 5 7}}&u={{data.user}}&n={{data.n}}&e={{env SP_IT_TOKEN}}" }
      - think: 10ms
EOF2
mark=$(log_mark "$ACCESS_LOG")
opens0=$(kcount TcpPassiveOpens)
SP_IT_TOKEN=tok42 run_sp run "$TMP/vars.yaml"
check "exit code 0" eq "$RC" 0
log_since "$ACCESS_LOG" "$mark" | awk '$1 == "198.18.0.1" { print $4 }' >"$TMP/paths"
n=$(wc -l <"$TMP/paths")
check "nginx logged every response" eq "$n" "$(j .summary.responses)"
check "at least 500 requests" ge "$n" 500
check "every path has the rendered shape" eq \
	"$(grep -cE '^/0\?vu=[1-5]&it=[0-9]+&r=[5-7]&u=u[1-3]&n=[1-3]0&e=tok42$' "$TMP/paths")" "$n"
check "{{vu}} takes the values 1..5" eq "$(sed -E 's/.*vu=([0-9]+).*/\1/' "$TMP/paths" | sort -u | tr '\n' ' ')" "1 2 3 4 5 "
check "{{random 5 7}} takes each of 5, 6, 7" eq "$(sed -E 's/.*&r=([0-9]+).*/\1/' "$TMP/paths" | sort -u | tr '\n' ' ')" "5 6 7 "
check "a data row's columns stay together" eq "$(grep -cE 'u=u1&n=10|u=u2&n=20|u=u3&n=30' "$TMP/paths")" "$n"
# Each VU's iterations are numbered 0, 1, 2, ... with no gap.
gaps=$(sed -E 's/.*vu=([0-9]+)&it=([0-9]+).*/\1 \2/' "$TMP/paths" |
	awk '{ c[$1]++; if ($2 > m[$1]) m[$1] = $2 } END { for (v in c) if (m[v] + 1 != c[v]) g++; print g + 0 }')
check "{{iteration}} counts each VU's iterations from 0 without a gap" eq "$gaps" 0
opened=$(j .summary.connections.opened)
check "stampede opened a connection per 4 requests per VU (>= n/4)" ge "$opened" $((n / 4))
check "kernel accepted exactly the connections stampede opened" eq $(($(kcount TcpPassiveOpens) - opens0)) "$opened"
check_http_accounting
check_pools
finish
