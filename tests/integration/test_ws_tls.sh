#!/usr/bin/env bash
# wss:// against the test bed: nginx's TLS on 443 proxies /ws/PATH to
# sp-wssrv's /PATH with the upgrade headers. Witnesses: nginx's HTTPS log
# (the 101 of each upgrade, with our SNI) and sp-wssrv's log (each message,
# ping and close that came through the proxy).
#  - echo over TLS: exact messages and payload bytes both ways (text,
#    70,000 bytes of binary), pings and pongs, our close 1000; a full or
#    resumed handshake per connection opened, none failed;
#  - the bare URL (wss://.../ws/echo): its echo loop, every message we
#    sent received by the server, a run cut by its end accounted for;
#  - verification failure (--tls-server-name a name the certificate does
#    not have): every connection tls_verify, its session upgrade_failed,
#    no upgrade sent (nginx logged nothing, sp-wssrv accepted nothing).
# Every run takes SP_TLS_ENGINE's engine (lib.sh; meson runs the test once
# per engine), and the report must name it.
. "$(dirname "$0")/lib.sh"

bed_tls_ca >/dev/null || exit 1
[ -e "$WSSRV_LOG" ] || { echo "test bed without sp-wssrv: tools/testbed down; tools/testbed up" >&2; exit 1; }
TLS=(--tls-ca "$TLS_CA" "${TLS_RESOLVE[@]}" "${TLS_ENGINE[@]}")
sessions() { j '.ws.sessions | "\(.started) \(.completed) \(.failed) \(.interrupted)"'; }
kinds() { j '[.ws.errors_by_kind, .summary.errors_by_kind | to_entries[] | select(.value > 0) | "\(.key)=\(.value)"] | join(" ")'; }
# wss_since: our lines in nginx's HTTPS log since NMARK,
# as "STATUS PATH SNI".
wss_since() {
	paste -d' ' <(log_since "$TLS_ACCESS_LOG" "$NMARK" | awk '$1 == "198.18.0.1"' |
		nginx_tls_base | awk '{ print $(NF - 1), $4 }') \
		<(nginx_tls_fields "$NMARK" | awk '{ print $2 }')
}

# --- 1. echo over TLS, exact
V=3
scenario echo <<EOF2
target: wss://$TLS_NAME
load: { vus: $V, duration: 3s }
scenarios:
  - name: echo
    steps:
      - ws:
          path: /ws/echo
          steps:
            - send: { text: 'hello {{vu}}', measure: true }
            - expect: { contains: hello, timeout: 2s }
            - send: { binary: { size: 70000 } }
            - expect: { timeout: 2s }
            - ping: tls
            - send: { text: last }
            - expect: { contains: last, timeout: 2s }
            - close: { code: 1000 }
      - think: 60s
EOF2
MARK=$(log_mark "$WSSRV_LOG")
NMARK=$(log_mark "$TLS_ACCESS_LOG")
run_sp run "$TMP/echo.yaml" "${TLS[@]}"
wssrv_wait_ends "$MARK" "$V" /echo || true
check "wss echo: exit 0" eq "$RC" 0
check "wss echo: every session completed" eq "$(sessions)" "$V $V 0 0"
check "wss echo: no failure" eq "$(kinds)" ""
check "wss echo: the target is wss" eq "$(j .target)" "wss://app.stampede.test"
check "wss echo: nginx logged a 101 for each upgrade, with our SNI, nothing else" \
	eq "$(wss_since | sort | uniq -c | awk '{ print $1, $2, $3, $4 }')" "$V 101 /ws/echo app.stampede.test"
check "wss echo: sp-wssrv upgraded each (through nginx)" eq "$(wssrv_count "$MARK" /echo open '*')" "$V"
check "wss echo: messages sent = the server's received" eq "$(j .ws.messages.sent) $(wssrv_sum "$MARK" /echo recv)" "$((V * 3)) $((V * 3))"
check "wss echo: messages received = the server's sent" eq "$(j .ws.messages.received) $(wssrv_sum "$MARK" /echo sent)" "$((V * 3)) $((V * 3))"
check "wss echo: payload bytes each way = the server's" \
	eq "$(j .ws.bytes.sent) $(j .ws.bytes.received)" "$(wssrv_sum "$MARK" /echo recv_bytes) $(wssrv_sum "$MARK" /echo sent_bytes)"
check "wss echo: the 70,000-byte messages arrived" eq "$(wssrv_count "$MARK" /echo recv binary 70000 '*')" "$V"
check "wss echo: pings = the server's, pongs = the server's" \
	eq "$(j .ws.pings_sent) $(j .ws.pongs_received)" "$(wssrv_sum "$MARK" /echo pings_recv) $(wssrv_sum "$MARK" /echo pongs_sent)"
check "wss echo: our close 1000 reached the server" eq "$(wssrv_count "$MARK" /echo close-recv 1000)" "$V"
check "wss echo: one handshake per connection opened" \
	eq "$(j '.tls.handshakes.full + .tls.handshakes.resumed')" "$(j .summary.connections.opened)"
check "wss echo: one connection a VU" eq "$(j .summary.connections.opened)" "$V"
check "wss echo: no handshake failed" eq "$(j .tls.handshakes.failed)" 0
check "wss echo: ws.rtt timed one a session" eq "$(ws_count_line "ws rtt")" "$V"
check_tls_engine "wss echo"
check_ws_accounting "wss echo"

# --- 2. the bare URL: an echo loop per iteration, cut by the run's end
MARK=$(log_mark "$WSSRV_LOG")
NMARK=$(log_mark "$TLS_ACCESS_LOG")
run_sp run "$WSS_URL/echo" "${TLS[@]}" --vus 2 --duration 2s
started=$(j .ws.sessions.started)
wssrv_wait_ends "$MARK" "$started" /echo || true
check "wss URL: exit 0" eq "$RC" 0
check "wss URL: sessions opened" ge "$started" 2
check "wss URL: nginx logged a 101 for each session" eq "$(wss_since | awk '$1 == 101 && $2 == "/ws/echo"' | wc -l)" "$started"
check "wss URL: sp-wssrv upgraded each" eq "$(wssrv_count "$MARK" /echo open '*')" "$started"
check "wss URL: no failure" eq "$(j .ws.sessions.failed)" 0
check "wss URL: completed sessions sent 100 each, interrupted ones fewer" \
	ge "$(j .ws.messages.sent)" $(($(j .ws.sessions.completed) * 100))
check "wss URL: every message we sent reached the server" eq "$(j .ws.messages.sent)" "$(wssrv_sum "$MARK" /echo recv)"
check "wss URL: we received no more than the server sent" le "$(j .ws.messages.received)" "$(wssrv_sum "$MARK" /echo sent)"
check_ws_closes "wss URL" "$(wssrv_count "$MARK" /echo close-recv 1000)" "$(wssrv_count "$MARK" /echo close-recv 1001)" \
	"$(j .ws.sessions.completed)" "$(j .ws.sessions.interrupted)"
check_ws_accounting "wss URL"

# --- 3. verification failure: the certificate is not for this name
MARK=$(log_mark "$WSSRV_LOG")
NMARK=$(log_mark "$TLS_ACCESS_LOG")
run_sp run "$TMP/echo.yaml" "${TLS[@]}" --tls-server-name wrong.example.test --vus 2 --duration 1s
check "wss verify: exit 1 (nothing succeeded)" eq "$RC" 1
n=$(j .ws.sessions.started)
check "wss verify: sessions tried" ge "$n" 2
check "wss verify: each connection tls_verify, each session upgrade_failed, nothing else" \
	eq "$(kinds)" "upgrade_failed=$n tls_verify=$n"
check "wss verify: handshakes failed = sessions" eq "$(j .tls.handshakes.failed)" "$n"
check "wss verify: the report names the SNI" eq "$(j .tls.server_name)" wrong.example.test
check "wss verify: nginx logged no request" eq "$(log_since "$TLS_ACCESS_LOG" "$NMARK" | awk '$1 == "198.18.0.1"' | wc -l)" 0
check "wss verify: no upgrade reached sp-wssrv" eq "$(wssrv_count "$MARK" "" accept '*')" 0
check "wss verify: no message sent" eq "$(j .ws.messages.sent)" 0
check_ws_accounting "wss verify"
finish
