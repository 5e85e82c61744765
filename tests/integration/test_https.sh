#!/usr/bin/env bash
# HTTPS against the test bed's nginx (tools/testbed: a test CA, ECDSA and
# RSA certificates for app.stampede.test, bad ones on ports of their own)
# and its hostile TLS server (sp-tlssrv). Witnesses: nginx's HTTPS log
# (each request with its SNI, whether its session was reused, its
# protocol, its Host) and sp-tlssrv's log (one line per connection).
#  - keep-alive and one connection per request: nginx logged exactly the
#    responses we counted, with our SNI and Host, over TLS 1.2; one
#    handshake per connection; resumption (session IDs, and tickets) as
#    often as nginx saw a reused session; resume none: no reuse at all;
#  - verification: an expired certificate, a wrong name, an unknown CA
#    each fail as tls_verify with nothing sent (nginx logs nothing);
#    --insecure passes and the report says so;
#  - a TLS 1.3-only server is a tls_handshake error; mutual TLS;
#  - hostile servers: each failure counted as its kind, the run reports.
# Every run takes SP_TLS_ENGINE's engine (lib.sh; meson runs the test once
# per engine), and the report must name it.
. "$(dirname "$0")/lib.sh"

bed_tls_ca >/dev/null || { echo "1 of 1 checks failed"; exit 1; }
TLS=(--tls-ca "$TLS_CA" "${TLS_RESOLVE[@]}" "${TLS_ENGINE[@]}")

tls_fields_all() { # MARK PORT: every line's SNI, reuse-blind, protocol, Host
	nginx_tls_fields "$1" | awk -v p="$2" '$1 == p { print $2, $4, $5 }' | sort | uniq -c |
		awk '{ print $2, $3, $4 ":" $1 }'
}

# 1. Keep-alive, ECDSA P-256 on 443.
mark=$(log_mark "$TLS_ACCESS_LOG")
run_sp run --url "$(tls_url 443 /1k)" "${TLS[@]}" --vus 4 --duration 2s
check "keep-alive: exit code 0" eq "$RC" 0
ok=$(j '.summary.codes["200"] // 0')
check "keep-alive: some 200s" ge "$ok" 100
check "keep-alive: nginx logged every response over TLS, and nothing else" \
	eq "$(nginx_tls_count "$mark" 200 /1k)" "$ok"
check "keep-alive: nginx saw our SNI, TLS 1.2 and Host on every request" \
	eq "$(tls_fields_all "$mark" 443)" "app.stampede.test TLSv1.2 app.stampede.test:$ok"
check "keep-alive: one handshake per connection opened" \
	eq $(($(j .tls.handshakes.full) + $(j .tls.handshakes.resumed))) "$(j .summary.connections.opened)"
check "keep-alive: the handshakes were timed (tls_ms)" \
	eq "$(jq -r '.summary.tls_ms.max > 0' "$TMP/r.json")" true
check "keep-alive: no handshake failed" eq "$(j .tls.handshakes.failed)" 0
check "keep-alive: the target is https" eq "$(j .target)" "https://app.stampede.test"
check "keep-alive: verified (the report says so)" eq "$(j .tls.verify)" true
check "keep-alive: the summary has the handshake's latency line" \
	eq "$(grep -c '^    tls handshake ' "$TMP/out.txt")" 1
check "keep-alive: worker CPU per full handshake is reported" \
	ge "$(j '.tls.cpu_us_per_full | floor')" 1
check "keep-alive: no allocation after the handshakes" \
	eq "$(j .tls.allocs_after_handshakes)" 0
check_tls_engine "keep-alive"
# What a connection holds, for the memory check of part 11 (a run that
# reported none has failed its checks already).
conn_bytes=$(j '.tls.bytes_per_connection // 30000')
check_http_accounting

# 2. One connection per request, sessions resumed by ID (the default).
scenario close <<EOF2
target: $(tls_url 443)
resolve: { $TLS_NAME: $SRV }
tls: { ca: $TLS_CA, engine: $SP_TLS_ENGINE }
load: { vus: 2, duration: 2s }
scenarios:
  - name: c
    keep_alive: false
    steps:
      - request: { path: /0 }
EOF2
mark=$(log_mark "$TLS_ACCESS_LOG")
run_sp run "$TMP/close.yaml"
check "close: exit code 0" eq "$RC" 0
ok=$(j '.summary.codes["200"] // 0')
check "close: some 200s" ge "$ok" 20
check "close: nginx logged every response" eq "$(nginx_tls_count "$mark" 200 /0)" "$ok"
check "close: a handshake per connection" \
	eq $(($(j .tls.handshakes.full) + $(j .tls.handshakes.resumed))) "$(j .summary.connections.opened)"
check "close: sessions were resumed" ge "$(j .tls.handshakes.resumed)" 10
check "close: resumed handshakes = requests nginx saw on a reused session" \
	eq "$(nginx_tls_reused "$mark")" "$(j .tls.handshakes.resumed)"
check "close: a full handshake per VU at least" ge "$(j .tls.handshakes.full)" 2
check "close: the file's tls.engine ran" eq "$(j .tls.engine)" "$SP_TLS_ENGINE"
check_http_accounting

# 3. Tickets (from a file that names the other engine: the command line
# wins), then no resumption at all.
sed "s/engine: $SP_TLS_ENGINE/engine: $TLS_OTHER_ENGINE/" "$TMP/close.yaml" >"$TMP/other.yaml"
mark=$(log_mark "$TLS_ACCESS_LOG")
run_sp run "$TMP/other.yaml" --tls-resume ticket "${TLS_ENGINE[@]}"
check "ticket: exit code 0" eq "$RC" 0
check "ticket: --tls-engine over the file's tls.engine" eq "$(j .tls.engine)" "$SP_TLS_ENGINE"
check "ticket: resumed handshakes = nginx's reused sessions" \
	eq "$(nginx_tls_reused "$mark")" "$(j .tls.handshakes.resumed)"
check "ticket: sessions were resumed" ge "$(j .tls.handshakes.resumed)" 10
mark=$(log_mark "$TLS_ACCESS_LOG")
run_sp run "$TMP/close.yaml" --tls-resume none
check "none: exit code 0" eq "$RC" 0
check "none: nginx saw no reused session" eq "$(nginx_tls_reused "$mark")" 0
check "none: no resumed handshake" eq "$(j .tls.handshakes.resumed)" 0
check "none: every connection a full handshake" \
	eq "$(j .tls.handshakes.full)" "$(j .summary.connections.opened)"

# 4. RSA-2048.
mark=$(log_mark "$TLS_ACCESS_LOG")
run_sp run --url "$(tls_url "$TLS_RSA_PORT" /0)" "${TLS[@]}" --vus 2 --duration 1s
check "rsa: exit code 0" eq "$RC" 0
check "rsa: nginx logged every response" \
	eq "$(nginx_tls_count "$mark" 200 /0 198.18.0.1 "$TLS_RSA_PORT")" "$(j '.summary.codes["200"] // 0')"

# 5. Verification: each bad certificate refused, nothing sent.
for c in "expired $TLS_EXPIRED_PORT expired" "wrong-name $TLS_WRONGNAME_PORT name_mismatch" \
	"unknown-ca $TLS_UNKNOWNCA_PORT not_trusted"; do
	set -- $c
	mark=$(log_mark "$TLS_ACCESS_LOG")
	run_sp run --url "$(tls_url "$2" /0)" "${TLS[@]}" --vus 1 --duration 1s
	check "$1: exit code 1 (nothing succeeded)" eq "$RC" 1
	check "$1: no response" eq "$(j .summary.responses)" 0
	check "$1: failed as tls_verify only" \
		eq "$(j .summary.errors_by_kind.tls_verify)" "$(j .summary.errors)"
	check "$1: some tls_verify" ge "$(j .summary.errors_by_kind.tls_verify)" 1
	check "$1: the reason is named" ge "$(j ".tls.verify_reasons.$3 // 0")" 1
	check "$1: nginx logged nothing" eq "$(log_since "$TLS_ACCESS_LOG" "$mark" | wc -l)" 0
	check_http_accounting
done
mark=$(log_mark "$TLS_ACCESS_LOG")
run_sp run --url "$(tls_url "$TLS_EXPIRED_PORT" /0)" "${TLS_RESOLVE[@]}" "${TLS_ENGINE[@]}" \
	--insecure --vus 1 --duration 1s
check "insecure: exit code 0" eq "$RC" 0
check "insecure: nginx logged every response" \
	eq "$(nginx_tls_count "$mark" 200 /0)" "$(j '.summary.codes["200"] // 0')"
check "insecure: the report says verification was off" eq "$(j .tls.verify)" false
check "insecure: ... and the summary too" eq "$(grep -c 'VERIFY OFF' "$TMP/out.txt")" 1

# 6. A TLS 1.3-only server: a handshake error naming the version.
run_sp run --url "$(tls_url "$TLS13_PORT" /0)" "${TLS[@]}" --vus 1 --duration 1s
check "1.3 only: no response" eq "$(j .summary.responses)" 0
check "1.3 only: failed as tls_handshake" \
	eq "$(j .summary.errors_by_kind.tls_handshake)" "$(j .summary.errors)"
check "1.3 only: the server's protocol_version alert" ge "$(j '.tls.alerts_received.protocol_version // 0')" 1

# 7. Mutual TLS: nginx answers 400 without a client certificate.
mark=$(log_mark "$TLS_ACCESS_LOG")
run_sp run --url "$(tls_url "$TLS_CLIENTCERT_PORT" /0)" "${TLS[@]}" \
	--tls-cert "$TLS_CLIENT_CERT" --tls-key "$TLS_CLIENT_KEY" --vus 1 --duration 1s
check "client cert: exit code 0" eq "$RC" 0
check "client cert: nginx accepted every request" \
	eq "$(nginx_tls_count "$mark" 200 /0 198.18.0.1 "$TLS_CLIENTCERT_PORT")" "$(j '.summary.codes["200"] // 0')"
run_sp run --url "$(tls_url "$TLS_CLIENTCERT_PORT" /0)" "${TLS[@]}" --vus 1 --duration 1s
check "no client cert: 400s, failed as http_status" \
	eq "$(j .summary.errors_by_kind.http_status)" "$(j '.summary.codes["400"] // 0')"

# 8. Hostile servers: each connection fails as its one kind.
for c in "garbage $TLSSRV_GARBAGE_PORT tls_bad_record" "alert $TLSSRV_ALERT_PORT tls_alert" \
	"truncated $TLSSRV_TRUNCATED_PORT tls_handshake" "close $TLSSRV_CLOSE_PORT tls_handshake" \
	"stall $TLSSRV_STALL_PORT tls_timeout" "needcert $TLSSRV_NEEDCERT_PORT tls_alert"; do
	set -- $c
	mark=$(log_mark "$TLSSRV_LOG")
	run_sp run --url "$(tls_url "$2" /0)" "${TLS[@]}" --vus 2 --duration 2s --connect-timeout 500ms
	check "$1: the run reported (exit code 1: nothing succeeded)" eq "$RC" 1
	check "$1: no response" eq "$(j .summary.responses)" 0
	check "$1: every failure is $3" eq "$(j ".summary.errors_by_kind.$3")" "$(j .summary.errors)"
	check "$1: some failures" ge "$(j .summary.errors)" 2
	check "$1: handshakes failed = connections that ended" \
		eq "$(j .tls.handshakes.failed)" "$(j .summary.errors)"
	check_http_accounting
	tlssrv_wait "$mark" 1 >/dev/null
	check "$1: sp-tlssrv read our ClientHello with our SNI" \
		ge "$(tlssrv_count "$mark" "$1" hello=1 sni="$TLS_NAME" peer_ip=198.18.0.1)" 1
done

# 9. A server that splits its handshake messages across records (openssl
# s_server -max_send_frag 512, started here in the bed's namespace): Debian's
# mbedTLS 2.28 cannot reassemble them; every connection fails as
# tls_handshake with the engine's cause named, and the same server
# without the split works. OpenSSL reassembles them: both work.
FRAG_PORT=8470
frag_run() { # frag_run [s_server options...]
	ip netns exec "$NS" openssl s_server -accept "$SRV:$FRAG_PORT" -cert "$TLS_DIR/ecdsa.crt" \
		-key "$TLS_DIR/ecdsa.key" -www -quiet "$@" >"$TMP/s_server.log" 2>&1 &
	local pid=$!
	CLEANUPS+=("kill $pid 2>/dev/null")
	for _ in $(seq 50); do
		ip netns exec "$NS" ss -Hltn "sport = :$FRAG_PORT" | grep -q . && break
		sleep 0.1
	done
	run_sp run --url "$(tls_url "$FRAG_PORT" /)" "${TLS[@]}" --vus 1 --duration 1s
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}
frag_run -max_send_frag 512
if [ "$SP_TLS_ENGINE" = mbedtls ]; then
	check "split handshake: no response" eq "$(j .summary.responses)" 0
	check "split handshake: every failure is tls_handshake" \
		eq "$(j .summary.errors_by_kind.tls_handshake)" "$(j .summary.errors)"
	check "split handshake: some failures" ge "$(j .summary.errors)" 1
	check "split handshake: the cause is named" \
		eq "$(j '.tls.causes["SSL - The requested feature is not available"]')" "$(j .summary.errors)"
else
	check "split handshake: reassembled, exit code 0" eq "$RC" 0
	check "split handshake: 200s" ge "$(j '.summary.codes["200"] // 0')" 1
	check "split handshake: no failure" eq "$(j .summary.errors)/$(j .tls.handshakes.failed)" 0/0
fi
frag_run
check "whole handshake messages, same server: exit code 0" eq "$RC" 0
check "whole handshake messages: 200s" ge "$(j '.summary.codes["200"] // 0')" 1

# 10. 5 % loss each way on 443 while every connection does a full
# handshake: each handshake completes or is counted, the books balance,
# and nginx logged exactly the responses we counted.
nft_table sp_tls_loss <<'NFT'
	chain in {
		type filter hook input priority 0;
		tcp dport 443 numgen random mod 100 < 5 counter drop
	}
	chain out {
		type filter hook output priority 0;
		tcp sport 443 numgen random mod 100 < 5 counter drop
	}
NFT
mark=$(log_mark "$TLS_ACCESS_LOG")
run_sp run "$TMP/close.yaml" --tls-resume none --vus 8 --duration 3s
check "loss: the run reported" ge "$(j .summary.requests)" 20
check "loss: packets were dropped" ge "$(nft_packets sp_tls_loss)" 10
check "loss: we retransmitted" ge "$(j .tcp.retrans_segs)" 1
# A connection whose SYN never got an answer (connect_timeout) or that
# the end interrupted before it was established had no handshake.
hs=$(($(j .tls.handshakes.full) + $(j .tls.handshakes.resumed) + $(j .tls.handshakes.failed)))
no_tls=$(($(j .summary.connections.opened) - hs))
check "loss: every handshake completed or was counted as failed" \
	le "$no_tls" $(($(j .summary.errors_by_kind.connect_timeout) + $(j .summary.interrupted)))
check "loss: ... and none counted twice" ge "$no_tls" 0
check "loss: nginx logged every response we counted" \
	eq "$(nginx_tls_count "$mark" 200 /0)" "$(j '.summary.codes["200"] // 0')"
check "loss: the failures are of TLS or TCP kinds only" \
	eq "$(jq '[.summary.errors_by_kind | to_entries[] | select(.value > 0) | .key |
		select(test("^(tls_|tcp_timeout|connect_timeout|reset|closed|truncated|response_timeout)") | not)] | length' "$TMP/r.json")" 0
check_http_accounting
ip netns exec "$NS" nft delete table inet sp_tls_loss

# 11. Settings that cannot work are refused before any frame.
run_sp run --url "http://$SRV/0" --insecure --vus 1 --duration 1s
check "tls keys on an http:// target: exit code 2" eq "$RC" 2
check "... with the reason" eq "$(grep -c 'target is http://' "$TMP/err.txt")" 1
run_sp run --url "$(tls_url 443 /0)" "${TLS_RESOLVE[@]}" "${TLS_ENGINE[@]}" --tls-ca /nonexistent \
	--vus 1 --duration 1s
check "a CA file that is not there: exit code 2" eq "$RC" 2
run_sp run --url "$(tls_url 443 /0)" "${TLS[@]}" --tls-engine gnutls --vus 1 --duration 1s
check "an engine that is not built in: exit code 2" eq "$RC" 2
check "... naming the engines there are" \
	eq "$(grep -c "tls.engine: 'gnutls' is not mbedtls or openssl" "$TMP/err.txt")" 1
# More VUs than the machine has memory for their TLS connections (the
# engine's bytes per connection, part 1): said at start (exit 3), before
# any connection.
need_vus=$(($(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo) * 1024 / conn_bytes + 1000))
mark=$(log_mark "$TLS_ACCESS_LOG")
run_sp run --url "$(tls_url 443 /0)" "${TLS[@]}" --vus "$need_vus" --duration 1s
check "TLS pools over the memory available: exit code 3" eq "$RC" 3
check "... saying why" eq "$(grep -c 'for their TLS connections' "$TMP/err.txt")" 1
check "... before any connection (nginx logged nothing)" \
	eq "$(log_since "$TLS_ACCESS_LOG" "$mark" | wc -l)" 0

finish
