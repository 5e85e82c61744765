#!/usr/bin/env bash
# Response framing against sp-httpsrv (the test bed's scripted server):
# chunked bodies with extensions and trailers, close-delimited bodies,
# interim 1xx responses and HEAD are parsed to the exact byte; a server that
# drops keep-alive connections every third response yields counted
# reconnects, never a crash, and its log agrees with our count.
. "$(dirname "$0")/lib.sh"

scenario framing <<EOF2
target: http://$SRV:8080
load: { model: closed, vus: 8, duration: 3s }
scenarios:
  - name: framing
    steps:
      - request: { name: chunked, path: /chunked/100000, check: { status: 200, body_size: 100000, header: Transfer-Encoding } }
      - request: { name: close, path: /close/5000, check: { status: 200, body_size: 5000 } }
      - request: { name: interim, path: /interim, check: { status: 200, body_size: 5 } }
      - request: { name: head, method: HEAD, path: /len/777, check: { status: 200, body_size: 0 } }
      - request: { name: len, path: /len/3000, check: { body_size: 3000, body_contains: "xyzab" } }
EOF2
mark=$(log_mark "$HTTPSRV_LOG")
run_sp run "$TMP/framing.yaml"
check "exit code 0" eq "$RC" 0
check "no errors" eq "$(j .summary.errors)" 0
check "every response passed its checks" eq "$(j .summary.errors_by_kind.check_failed)" 0
# The server keeps TIME_WAIT for each close-delimited response; our ports
# come round again across runs, and our ISNs must be later than the old ones.
check "no SYN retransmitted (old 4-tuples in the server's TIME_WAIT)" eq "$(j .tcp.syn_retrans)" 0
for n in chunked close interim head len; do
	check "$n: responses > 100" ge "$(jq -r --arg n $n '.requests[] | select(.name == $n) | .responses' "$TMP/r.json")" 100
done
check "sp-httpsrv logged every response counted" eq "$(log_since "$HTTPSRV_LOG" "$mark" | wc -l)" "$(j .summary.responses)"
check "close-delimited: one connection per /close response, plus the first" \
	ge "$(j .summary.connections.opened)" "$(jq -r '.requests[] | select(.name == "close") | .responses' "$TMP/r.json")"
check_http_accounting
check_pools

# The server closes every connection after its 3rd response, without a
# "Connection: close": requests race with its FIN.
scenario kaclose <<EOF2
target: http://$SRV:8081
load: { model: closed, vus: 4, duration: 3s }
scenarios:
  - name: ka
    steps:
      - request: { path: /len/100 }
      - think: 5ms
EOF2
mark=$(log_mark "$HTTPSRV_LOG")
run_sp run "$TMP/kaclose.yaml"
check "close-after: exit code 0" eq "$RC" 0
resp=$(j .summary.responses)
check "close-after: many responses" ge "$resp" 300
check "close-after: idle connections closed by the server were counted" ge "$(j .summary.connections.server_closes)" $((resp / 3 - 10))
check "close-after: reconnects counted" ge "$(j .summary.connections.reconnects)" $((resp / 3 - 10))
check "close-after: failures, if any, are 'closed' or 'reset'" eq \
	"$(jq -r '.summary.errors - .summary.errors_by_kind.closed - .summary.errors_by_kind.reset' "$TMP/r.json")" 0
check "close-after: sp-httpsrv logged every response counted" eq "$(log_since "$HTTPSRV_LOG" "$mark" | wc -l)" "$resp"
check_http_accounting
check_pools
finish
