#!/usr/bin/env bash
# stampede serve --ws, the WebSocket responder, in a namespace of its own
# (not the shared test bed), against an independent client on the
# namespace's kernel stack: serve_ws_client.py (Python's standard library, every
# frame written by hand, so that it can send what a client must not).
#  - echo, plain and over --tls: RFC 6455's sample key answered with its
#    accept value; text and binary messages in sizes around each length
#    form, whole and fragmented (a ping between fragments, a character
#    split across them), a frame sent byte by byte; pings answered, close
#    codes echoed; each protocol error closed with its code (unmasked,
#    reserved bits, opcodes, control frame rules, length forms,
#    fragmentation order, close payloads, UTF-8, the size bound); upgrades
#    refused with 426 or 400; a plain request answered as HTTP.
#  - broadcast: several clients, every message to every one, in order.
# The witness is the client's own tally of what it sent and received,
# compared with the server's report exactly.
. "$(dirname "$0")/lib.sh"

NS=sp-ws
GEN_IF=sp-wsg0 # serve's end: no kernel IP, opened by af_packet
CLI_IF=sp-wss0
SRV_IP=198.19.12.1
CLI_IP=198.19.12.2
NAME=ws.stampede.test
PY=/usr/bin/python3
CLIENT=$(dirname "$0")/serve_ws_client.py
SP_PID=

ws_cleanup() {
	stop_pid "$SP_PID"
	ip link del "$GEN_IF" 2>/dev/null
	kernel_unblind "$GEN_IF"
	ip netns del "$NS" 2>/dev/null
	cleanup
}
trap ws_cleanup EXIT

nsx() { ip netns exec "$NS" "$@"; }

ip link del "$GEN_IF" 2>/dev/null
ip netns del "$NS" 2>/dev/null
ip netns add "$NS" || exit 1
ip link add "$GEN_IF" type veth peer name "$CLI_IF" netns "$NS" || exit 1
sysctl -qw "net.ipv6.conf.$GEN_IF.disable_ipv6=1"
kernel_blind "$GEN_IF"
nsx sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 \
	"net.ipv6.conf.$CLI_IF.disable_ipv6=1"
ethtool -K "$GEN_IF" rx off tx off tso off gso off gro off >/dev/null 2>&1
nsx ethtool -K "$CLI_IF" rx off tx off tso off gso off gro off >/dev/null 2>&1
ip link set "$GEN_IF" up
nsx ip link set lo up
nsx ip addr add "$CLI_IP/24" dev "$CLI_IF"
nsx ip link set "$CLI_IF" up

# A test CA and a certificate for $NAME (ECDSA P-256), for --tls.
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
[srv]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:$NAME
EOF
	for k in ca srv; do
		openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out $k.key
	done
	openssl req -x509 -new -config x509.cnf -key ca.key -subj "/CN=stampede ws test CA" \
		-days 30 -sha256 -extensions ca_ext -out ca.crt
	openssl req -new -config x509.cnf -key srv.key -subj "/CN=$NAME" -out srv.csr
	openssl x509 -req -in srv.csr -CA ca.crt -CAkey ca.key -set_serial 0x5e12 \
		-days 30 -sha256 -extfile x509.cnf -extensions srv -out srv.crt
)
mkcerts >"$TMP/openssl.log" 2>&1 || { cat "$TMP/openssl.log" >&2; exit 1; }

# start_serve ARGS...: stampede serve in the background, ready when it
# answers ping (no TCP probe: every connection is counted).
start_serve() {
	rm -f "$TMP/r.json"
	"$STAMPEDE" serve --port "af_packet:$GEN_IF" --ip "$SRV_IP" --duration 120s \
		--max-conns 256 --json "$TMP/r.json" "$@" >"$TMP/out.txt" 2>"$TMP/err.txt" &
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

# client ARGS...: serve_ws_client.py from the namespace; its JSON in c.json, each
# of its checks judged here.
client() {
	nsx timeout 120 "$PY" "$CLIENT" "$@" >"$TMP/c.json" 2>"$TMP/c.err"
	CRC=$?
	[ "$CRC" = 0 ] || cat "$TMP/c.err" >&2
	local n i
	n=$(jq '.checks | length' "$TMP/c.json" 2>/dev/null || echo 0)
	for ((i = 0; i < n; i++)); do
		check "$WHAT: $(jq -r ".checks | keys_unsorted[$i]" "$TMP/c.json")" eq \
			"$(jq -r ".checks | to_entries[$i].value[1]" "$TMP/c.json")" \
			"$(jq -r ".checks | to_entries[$i].value[0]" "$TMP/c.json")"
	done
}
c() { jq -r "$1" "$TMP/c.json"; }

# The server's counts against the client's tally (WHAT names the run).
check_counts() {
	check "$WHAT: client exit 0, server exit 0" eq "$CRC/$RC" 0/0
	check "$WHAT: upgrades = the client's" eq "$(j .ws.upgrades)" "$(c .totals.upgrades)"
	check "$WHAT: upgrades refused = the client's" eq "$(j .ws.refused_total)" "$(c .totals.refused)"
	check "$WHAT: messages received = the client's sent" eq "$(j .ws.msgs_received)" "$(c .totals.msgs_sent)"
	check "$WHAT: payload bytes received = the client's sent" eq "$(j .ws.bytes_received)" "$(c .totals.bytes_sent)"
	check "$WHAT: frames received = the client's sent" eq "$(j .ws.frames_received)" "$(c .totals.frames_sent)"
	check "$WHAT: messages sent = the client's received" eq "$(j .ws.msgs_sent)" "$(c .totals.msgs_received)"
	check "$WHAT: payload bytes sent = the client's received" eq "$(j .ws.bytes_sent)" "$(c .totals.bytes_received)"
	check "$WHAT: pings = the client's, pongs = the client's received" eq \
		"$(j '[.ws.pings, .ws.pongs_sent] | map(tostring) | join(" ")')" \
		"$(c '[.totals.pings_sent, .totals.pongs_received] | map(tostring) | join(" ")')"
	check "$WHAT: pongs received = the client's unsolicited" eq "$(j .ws.pongs_received)" "$(c .totals.pongs_sent)"
	check "$WHAT: close codes received = the client's sent" eq \
		"$(j '.ws.close_received | with_entries(select(.value != 0))' | jq -cS .)" \
		"$(c .totals.closes_sent | jq -cS .)"
	check "$WHAT: close codes sent = the client's received" eq \
		"$(j '.ws.close_sent | with_entries(select(.value != 0))' | jq -cS .)" \
		"$(c .totals.closes_received | jq -cS .)"
	check "$WHAT: protocol errors by kind = the client's" eq \
		"$(j '.ws.errors | with_entries(select(.value != 0))' | jq -cS .)" \
		"$(c '.totals.errors | del(.null)' | jq -cS .)"
	check "$WHAT: no WebSocket left open" eq "$(j .ws.open)" 0
	check "$WHAT: every WebSocket ended" eq \
		$(($(j .ws.ended_open) + $(j .ws.ended_closed))) "$(j .ws.upgrades)"
	check "$WHAT: every connection closed" eq "$(j .serve.closed)/$(j .serve.open)" "$(j .serve.connections)/0"
	check "$WHAT: connection and chunk pools back to zero" eq \
		"$(j .pools.conns_in_use)/$(j .pools.chunks_in_use)" 0/0
}

# --- 0. usage errors: exit 2 before the port is opened --------------------
usage() { "$STAMPEDE" serve --port "af_packet:$GEN_IF" --ip "$SRV_IP" "$@" >/dev/null 2>&1; echo $?; }
tx0=$(cat "/sys/class/net/$GEN_IF/statistics/tx_packets")
check "usage: --ws chat" eq "$(usage --ws chat)" 2
check "usage: --ws-max-message without --ws" eq "$(usage --ws-max-message 1k)" 2
check "usage: --ws-queue with echo" eq "$(usage --ws echo --ws-queue 8)" 2
check "usage: --ws-max-message 0" eq "$(usage --ws echo --ws-max-message 0)" 2
check "usage: not one frame sent" eq "$(cat "/sys/class/net/$GEN_IF/statistics/tx_packets")" "$tx0"

# --- 1. echo --------------------------------------------------------------
# One frame context in the pool: every frame reuses it, after frames cut
# short too.
start_serve --ws echo --ws-pool 1 || exit 1
WHAT=echo
client echo "$SRV_IP" 80
stop_serve
check_counts
check "echo: three WebSockets ended without a close frame (the client left)" eq "$(j .ws.ended_open)" 3
check "echo: one frame context, reused" eq "$(j .ws.frame_contexts)/$(j .ws.errors.no_context)" 1/0
check "echo: refused 426 once, 400 three times" eq \
	"$(j '[.serve.error_responses["426"], .serve.error_responses["400"]] | map(tostring) | join(" ")')" "1 3"
check "echo: refusals by reason" eq \
	"$(j '[.ws.refused.version, .ws.refused.key, .ws.refused.method] | map(tostring) | join(" ")')" "1 2 1"
check "echo: the plain request answered too" ge "$(j .serve.responses)" $(($(j .ws.upgrades) + 1))
check "echo: the summary has the ws lines" eq \
	"$(grep -c '^  \(websocket\|ws messages\|ws control\|ws errors\|ws memory\) ' "$TMP/out.txt")" 5
[ "$(j .allocs_after_start)" = -1 ] ||
	check "echo: no allocation after start-up" eq "$(j .allocs_after_start)" 0

# --- 2. echo over TLS ------------------------------------------------------
start_serve --ws echo --tls --cert "$TMP/srv.crt" --key "$TMP/srv.key" || exit 1
WHAT="echo over TLS"
client echo "$SRV_IP" 443 --tls "$TMP/ca.crt" "$NAME"
stop_serve
check_counts
check "echo over TLS: a full handshake per connection" eq \
	"$(j .tls.handshakes.full)" "$(j .serve.connections)"

# --- 3. broadcast -----------------------------------------------------------
# A queue as deep as what the clients send at once: each sends its 40
# messages in one go, and a burst is queued before it is sent out.
start_serve --ws broadcast --ws-queue 256 || exit 1
WHAT=broadcast
client broadcast "$SRV_IP" 80 5 40
stop_serve
check_counts
check "broadcast: every message queued and sent to all" eq \
	"$(j '[.ws.broadcast.queued, .ws.broadcast.done] | map(tostring) | join(" ")')" "200 200"
check "broadcast: nothing dropped" eq \
	"$(j '[.ws.broadcast.dropped, .ws.broadcast.no_buffer] | map(tostring) | join(" ")')" "0 0"
check "broadcast: each message to the 5 clients" eq "$(j .ws.msgs_sent)" 1000

# --- 4. broadcast over TLS, a quarter of the messages 40,000 bytes ------------
# (a frame over one TLS record goes out as several, whole or not at all)
start_serve --ws broadcast --tls --cert "$TMP/srv.crt" --key "$TMP/srv.key" || exit 1
WHAT="broadcast over TLS"
client broadcast "$SRV_IP" 443 3 20 --big --tls "$TMP/ca.crt" "$NAME"
stop_serve
check_counts
check "broadcast over TLS: each message to the 3 clients, none dropped" eq \
	"$(j '[.ws.msgs_sent, .ws.broadcast.dropped] | map(tostring) | join(" ")')" "180 0"

# --- 5. broadcast to a receiver that does not read ----------------------------
start_serve --ws broadcast || exit 1
WHAT="slow receiver"
client broadcast_slow "$SRV_IP" 80 200
stop_serve
check_counts
check "slow receiver: 200 messages, each sent to all" eq \
	"$(j '[.ws.broadcast.queued, .ws.broadcast.done] | map(tostring) | join(" ")')" "200 200"
check "slow receiver: what it missed was dropped, counted" eq \
	"$(j .ws.broadcast.dropped)" $((200 - $(c .totals.slow_received)))
check "slow receiver: sent + dropped = 2 x 200" eq \
	$(($(j .ws.msgs_sent) + $(j .ws.broadcast.dropped))) 400

finish
