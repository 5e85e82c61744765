#!/usr/bin/env bash
# stampede serve --tls, the HTTPS responder, in a namespace of its own (not
# the shared test bed), with a CA and an ECDSA P-256 certificate this test
# makes with openssl. Two DPDK ends meet on a bridge in the namespace:
# serve's and stampede run's; the namespace's kernel, on the bridge too,
# is where openssl s_client connects from.
#  - stampede run over https against it: keep-alive, and one connection per
#    request with sessions resumed by ID, by ticket, and not at all (the
#    client's choice, then the server's: --tls-no-resume). The
#    witnesses are each side's own count of the other's work: the server's
#    responses = the client's, the server's full and resumed handshakes =
#    the client's, its TCP connections = the client's.
#  - openssl s_client (an independent client, OpenSSL): a 200 over TLS 1.2
#    verified against our CA, then the same session resumed with -sess_in,
#    by session ID (-no_ticket) and by ticket.
#  - usage errors before the port opens; a certificate that does not parse
#    stops the start with a reason.
#  - the engines across: serve on SP_TLS_ENGINE's engine, stampede run on
#    the other one; each side's counts equal the other's.
# Every run and serve takes SP_TLS_ENGINE's engine (lib.sh; meson runs the
# test once per engine, so the cross check goes both ways), and the
# reports must name it.
. "$(dirname "$0")/lib.sh"

NS=sp-st
SRV_IF=sp-sts0   # serve's end (af_packet, no kernel IP)
RUN_IF=sp-stc0   # stampede run's end (af_packet, no kernel IP)
SRV_IP=198.19.4.1
RUN_IP=198.19.4.2
KCLI_IP=198.19.4.3 # the namespace's kernel, on its bridge
NAME=serve.stampede.test
SP_PID=

trap 'stop_pid "$SP_PID"; cleanup' EXIT
nsx() { ip netns exec "$NS" "$@"; }
bridge_ns "$NS" "$KCLI_IP/24" "$SRV_IF" "$RUN_IF" || exit 1

# A test CA and a server certificate for $NAME (ECDSA P-256), as the test
# bed makes its own.
mkcerts() (
	set -e
	cd "$TMP"
	cat >x509.cnf <<EOF
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[srv]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:$NAME
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
	for k in ca srv; do
		openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out $k.key
	done
	openssl req -x509 -new -config x509.cnf -key ca.key -subj "/CN=stampede serve test CA" \
		-days 30 -sha256 -extensions ca_ext -out ca.crt
	openssl req -new -config x509.cnf -key srv.key -subj "/CN=$NAME" -out srv.csr
	openssl x509 -req -in srv.csr -CA ca.crt -CAkey ca.key -set_serial 0x5e11 \
		-days 30 -sha256 -extfile x509.cnf -extensions srv -out srv.crt
)
mkcerts >"$TMP/openssl.log" 2>&1 || { cat "$TMP/openssl.log" >&2; exit 1; }
CERT=(--cert "$TMP/srv.crt" --key "$TMP/srv.key")

# The server on the first CPU, the client on the last (as tools/bench).
# Retransmissions are not checked here: on a loaded machine a full
# handshake (milliseconds of CPU) can still outlast one.
srv_cpu=$FIRST_CPU
cli_cpu=$LAST_CPU

# start_serve ARGS...: stampede serve --tls in the background, ready when it
# answers ping (no TCP probe: every connection is counted).
start_serve() {
	rm -f "$TMP/r.json"
	taskset -c "$srv_cpu" "$STAMPEDE" serve --tls "${CERT[@]}" "${TLS_ENGINE[@]}" \
		--port "af_packet:$SRV_IF" --ip "$SRV_IP" \
		--duration 120s --max-conns 256 --json "$TMP/r.json" "$@" \
		>"$TMP/out.txt" 2>"$TMP/err.txt" &
	SP_PID=$!
	for _ in $(seq 60); do
		nsx ping -c1 -W1 -q "$SRV_IP" >/dev/null 2>&1 && return 0
		kill -0 "$SP_PID" 2>/dev/null || break
		sleep 0.5
	done
	echo "stampede serve did not come up:" >&2
	cat "$TMP/out.txt" "$TMP/err.txt" >&2
	return 1
}
# stop_serve: Ctrl-C, then the report.
stop_serve() {
	kill -INT "$SP_PID"
	for _ in $(seq 150); do kill -0 "$SP_PID" 2>/dev/null || break; sleep 0.1; done
	wait "$SP_PID"
	RC=$?
	SP_PID=
	cat "$TMP/out.txt"
	if [ ! -s "$TMP/r.json" ]; then
		echo "stampede serve wrote no report (exit $RC):" >&2
		cat "$TMP/err.txt" >&2
	fi
}
# client ARGS...: stampede run over https to serve; its report in c.json
# (a --tls-engine in ARGS wins over TLS_ENGINE: the last one counts).
client() {
	taskset -c "$cli_cpu" "$STAMPEDE" run --port "af_packet:$RUN_IF" --ip "$RUN_IP" --resolve "$NAME:$SRV_IP" \
		--tls-ca "$TMP/ca.crt" "${TLS_ENGINE[@]}" --json "$TMP/c.json" "$@" >"$TMP/c.txt" 2>&1
	CRC=$?
	cat "$TMP/c.txt"
}
c() { jq -r "$1" "$TMP/c.json"; }

# Each side's count of the other's work, after a run of stampede against
# serve (WHAT names the case).
check_both() {
	local what=$1
	check "$what: client exit 0, server exit 0" eq "$CRC/$RC" 0/0
	check "$what: no request failed or interrupted" eq \
		"$(c .summary.errors)/$(c .summary.interrupted)" 0/0
	check "$what: server's requests = the client's" eq "$(j .serve.requests)" "$(c .summary.requests)"
	check "$what: server's responses = the client's 200s" eq "$(j .serve.responses)" \
		"$(c '.summary.codes["200"] // 0')"
	check "$what: server's TCP connections = the client's" eq "$(j .serve.connections)" \
		"$(c .summary.connections.opened)"
	check "$what: server's full handshakes = the client's" eq "$(j .tls.handshakes.full)" \
		"$(c .tls.handshakes.full)"
	check "$what: server's resumed handshakes = the client's" eq "$(j .tls.handshakes.resumed)" \
		"$(c .tls.handshakes.resumed)"
	check "$what: no handshake failed on either side" eq \
		"$(j .tls.handshakes.failed)/$(c .tls.handshakes.failed)" 0/0
	check "$what: nothing unanswered, nothing rejected" eq \
		"$(j .serve.unanswered)/$(j .serve.rejected)" 0/0
	check "$what: every connection closed" eq "$(j .serve.open)" 0
	check "$what: the bytes the server sent = the client's received" eq \
		"$(j .serve.bytes.sent)" "$(c .summary.bytes.received)"
	check "$what: the bytes the client sent = the server's received" eq \
		"$(c .summary.bytes.sent)" "$(j .serve.bytes.received)"
	check "$what: TLS records out of the server = into the client" eq \
		"$(j .tls.record_bytes_out)" "$(c .tls.record_bytes_in)"
	check "$what: TLS records out of the client = into the server" eq \
		"$(c .tls.record_bytes_out)" "$(j .tls.record_bytes_in)"
	# (a sanitizer build counts no allocations: -1)
	[ "$(j .allocs_after_start)" = -1 ] ||
		check "$what: server allocated only inside handshakes" eq \
			"$(j .allocs_after_start)" "$(j .tls.allocs_in_handshakes)"
	check "$what: none after them" eq "$(j .tls.allocs_after_handshakes)" 0
	check "$what: connection and chunk pools back to zero" eq \
		"$(j .pools.conns_in_use)/$(j .pools.chunks_in_use)" 0/0
}

# --- 0. usage errors: exit 2 before the port is opened --------------------
usage() { "$STAMPEDE" serve --port "af_packet:$SRV_IF" --ip "$SRV_IP" "$@" >/dev/null 2>&1; echo $?; }
tx0=$(cat "/sys/class/net/$SRV_IF/statistics/tx_packets")
check "usage: --tls without --cert and --key" eq "$(usage --tls)" 2
check "usage: --tls without --key" eq "$(usage --tls --cert "$TMP/srv.crt")" 2
check "usage: --cert without --tls" eq "$(usage "${CERT[@]}")" 2
check "usage: --tls-no-resume without --tls" eq "$(usage --tls-no-resume)" 2
check "usage: --tls-engine without --tls" eq "$(usage --tls-engine "$SP_TLS_ENGINE")" 2
check "usage: an engine that is not built in" eq "$(usage --tls "${CERT[@]}" --tls-engine gnutls)" 2
"$STAMPEDE" serve --tls "${CERT[@]}" --tls-engine gnutls --port "af_packet:$SRV_IF" --ip "$SRV_IP" \
	>/dev/null 2>"$TMP/bad.txt"
check "... the message names the engines there are" eq \
	"$(grep -c "tls-engine: 'gnutls' is not mbedtls or openssl" "$TMP/bad.txt")" 1
check "usage: an unreadable --key" eq "$(usage --tls --cert "$TMP/srv.crt" --key "$TMP/none.key")" 2
check "usage: not one frame sent" eq "$(cat "/sys/class/net/$SRV_IF/statistics/tx_packets")" "$tx0"
echo "not a certificate" >"$TMP/bad.crt"
"$STAMPEDE" serve --tls --cert "$TMP/bad.crt" --key "$TMP/srv.key" --port "af_packet:$SRV_IF" \
	--ip "$SRV_IP" --duration 5s >/dev/null 2>"$TMP/bad.txt"
check "a certificate that does not parse: exit 3" eq "$?" 3
check "... and the reason names the file" eq "$(grep -c "bad.crt" "$TMP/bad.txt")" 1

# --- 1. keep-alive, 1 KiB bodies -------------------------------------------
start_serve --body-size 1k || exit 1
client --url "https://$NAME/" --vus 8 --duration 2s
stop_serve
check_both "keep-alive"
check "keep-alive: thousands of requests" ge "$(c .summary.responses)" 1000
check "keep-alive: one full handshake per connection, 8 connections" eq \
	"$(j .tls.handshakes.full)/$(j .serve.connections)" 8/8
check "keep-alive: 1 KiB bodies and their heads sent" ge "$(j .serve.bytes.sent)" \
	$(($(j .serve.responses) * 1024 + 1))
check "keep-alive: our client's close_notify reached the server, each" eq \
	"$(j .tls.close_notify_received)" 8
check "keep-alive: server's worker CPU per full handshake reported" ge \
	"$(j '.tls.cpu_us_per_full | floor')" 1
# mbedTLS holds two 16 KB record buffers; OpenSSL one at least while it
# moves records (it gives them back between records).
if [ "$SP_TLS_ENGINE" = mbedtls ]; then
	check "keep-alive: bytes per TLS connection reported (two 16 KB buffers)" ge \
		"$(j .tls.bytes_per_connection)" 32768
else
	check "keep-alive: bytes per TLS connection reported (a 16 KB buffer at least)" ge \
		"$(j .tls.bytes_per_connection)" 16384
fi
check "keep-alive: the summary has the tls lines" eq \
	"$(grep -c '^  tls \(handshakes\|cpu\|bytes\)' "$TMP/out.txt")" 3
check_tls_engine "keep-alive, server"
check_tls_engine "keep-alive, client" "$SP_TLS_ENGINE" "$TMP/c.json" "$TMP/c.txt"

# --- 2. one connection per request, sessions resumed by ID ----------------
scenario close <<EOF
target: https://$NAME
load: { vus: 4, duration: 2s }
scenarios:
  - name: c
    keep_alive: false
    steps:
      - request: { path: / }
EOF
start_serve || exit 1
client "$TMP/close.yaml"
stop_serve
check_both "close, session IDs"
check "close, session IDs: a connection per request" eq "$(j .serve.connections)" "$(j .serve.requests)"
check "close, session IDs: most handshakes resumed" ge "$(j .tls.handshakes.resumed)" \
	$(($(j .tls.handshakes.full) * 4))
check "close, session IDs: a full handshake per VU at least" ge "$(j .tls.handshakes.full)" 4
check "close, session IDs: worker CPU per resumed handshake reported" ge \
	"$(j '.tls.cpu_us_per_resumed * 10 | floor')" 1
check "close, session IDs: a resumed handshake costs the server less than a full one" \
	eq "$(j '.tls.cpu_us_per_resumed < .tls.cpu_us_per_full')" true

# --- 3. tickets, then no resumption ----------------------------------------
start_serve || exit 1
client "$TMP/close.yaml" --tls-resume ticket
stop_serve
check_both "close, tickets"
check "close, tickets: most handshakes resumed" ge "$(j .tls.handshakes.resumed)" \
	$(($(j .tls.handshakes.full) * 4))

start_serve || exit 1
client "$TMP/close.yaml" --tls-resume none
stop_serve
check_both "close, resume none"
check "close, resume none: nothing resumed" eq "$(j .tls.handshakes.resumed)" 0
check "close, resume none: a full handshake per connection" eq \
	"$(j .tls.handshakes.full)" "$(j .serve.connections)"

# The server refuses every session the client offers (--tls-no-resume).
start_serve --tls-no-resume || exit 1
client "$TMP/close.yaml"
stop_serve
check_both "close, server resumes nothing"
# mbedTLS's server still names each session (an ID no cache keeps): the
# client offers it and is refused. OpenSSL's names none without a cache
# (RFC 5246 7.4.1.3: an empty session_id, not resumable): nothing to
# offer, every handshake full.
if [ "$SP_TLS_ENGINE" = mbedtls ]; then
	check "close, server resumes nothing: the client offered sessions" ge "$(c .tls.handshakes.offered)" 10
else
	check "close, server resumes nothing: no session to offer (no ID)" eq "$(c .tls.handshakes.offered)" 0
	check "close, server resumes nothing: a full handshake per connection" eq \
		"$(j .tls.handshakes.full)" "$(j .serve.connections)"
fi
check "close, server resumes nothing: none resumed" eq "$(j .tls.handshakes.resumed)" 0
check "close, server resumes nothing: the report says so" eq \
	"$(j .tls.session_cache)/$(j .tls.tickets)" 0/false

# --- 4. the engines across: a client on the other engine ---------------------
# One connection per request with sessions resumed by ID: full and resumed
# handshakes between mbedTLS and OpenSSL (the other instance of this test
# runs them the other way round).
start_serve || exit 1
client "$TMP/close.yaml" --tls-engine "$TLS_OTHER_ENGINE"
stop_serve
check_both "across, $TLS_OTHER_ENGINE client, $SP_TLS_ENGINE server"
check "across: most handshakes resumed" ge "$(j .tls.handshakes.resumed)" \
	$(($(j .tls.handshakes.full) * 4))
check "across: the server's report names its engine" eq "$(j .tls.engine)" "$SP_TLS_ENGINE"
check "across: the client's names its own" eq "$(c .tls.engine)" "$TLS_OTHER_ENGINE"

# --- 5. openssl s_client, an independent client -----------------------------
# s_client HOW SESS_ARGS...: one GET; its transcript in $TMP/s_HOW.txt.
s_client() {
	local how=$1
	shift
	printf 'GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n' "$NAME" |
		nsx timeout 10 openssl s_client -connect "$SRV_IP:443" -servername "$NAME" \
			-CAfile "$TMP/ca.crt" -verify_return_error -ign_eof "$@" \
			>"$TMP/s_$how.txt" 2>&1
}
start_serve || exit 1
s_client id1 -no_ticket -sess_out "$TMP/sess_id.pem"
s_client id2 -no_ticket -sess_in "$TMP/sess_id.pem"
s_client tk1 -sess_out "$TMP/sess_tk.pem"
s_client tk2 -sess_in "$TMP/sess_tk.pem"
stop_serve
check "s_client: a 200, verified, over TLS 1.2" eq \
	"$(grep -c '^HTTP/1.1 200 OK\|Verify return code: 0 (ok)\|New, TLSv1.2' "$TMP/s_id1.txt")" 3
check "s_client -no_ticket -sess_in: the session resumed by ID, a 200" eq \
	"$(grep -c '^HTTP/1.1 200 OK\|Reused, TLSv1.2' "$TMP/s_id2.txt")" 2
check "s_client: a ticket issued" eq "$(grep -c 'TLS session ticket:' "$TMP/s_tk1.txt")" 1
check "s_client -sess_in: the session resumed by ticket, a 200" eq \
	"$(grep -c '^HTTP/1.1 200 OK\|Reused, TLSv1.2' "$TMP/s_tk2.txt")" 2
check "s_client: server exit 0" eq "$RC" 0
check "s_client: the server counted 2 full and 2 resumed handshakes" eq \
	"$(j .tls.handshakes.full)/$(j .tls.handshakes.resumed)" 2/2
check "s_client: 4 requests, 4 responses" eq "$(j .serve.requests)/$(j .serve.responses)" 4/4
check "s_client: every close_notify counted" ge "$(j .tls.alerts_sent.close_notify)" 4

finish
