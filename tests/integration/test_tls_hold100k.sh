#!/usr/bin/env bash
# 100,000 concurrent TLS keep-alive connections: stampede run against
# stampede serve --tls, each end in a namespace of this test's own, both
# holding every connection at once, and each process's RSS reported.
#
# The handshakes use a pre-shared key (TLS-PSK-WITH-AES-128-GCM-SHA256):
# with Debian's mbedTLS a full ECDHE-ECDSA handshake costs each side about
# 10 ms of CPU on this class of machine, so 100,000 of them would take
# some 17 minutes per side before the hold even began; a PSK handshake has
# no public-key operation. Everything after the handshake (the record
# layer, the two 16 KB record buffers per connection that make TLS's
# memory, keep-alive requests) is what any suite does.
#
# Witnesses: each side's own count of the other's work (handshakes,
# requests, connections) and each side's peak of connections open at once.
. "$(dirname "$0")/lib.sh"

N=${SP_HOLD_TLS_N:-100000}
NS=sp-th
SRV_IF=sp-ths0
RUN_IF=sp-thc0
SRV_IP=198.19.8.1
RUN_IPS=198.19.8.10-198.19.8.11 # 64,512 ports each: two for 100,000
NAME=hold.stampede.test
PSK=hold:5fa1c0de5fa1c0de5fa1c0de5fa1c0de
SP_PID=
trap 'stop_pid "$SP_PID" 300; cleanup' EXIT
nsx() { ip netns exec "$NS" "$@"; }
bridge_ns "$NS" "198.19.8.3/24" "$SRV_IF" "$RUN_IF" || exit 1

taskset -c "$FIRST_CPU" "$STAMPEDE" serve --tls --tls-psk "$PSK" \
	--tls-ciphers TLS-PSK-WITH-AES-128-GCM-SHA256 \
	--port "af_packet:$SRV_IF" --ip "$SRV_IP" --max-conns $((N + N / 50)) \
	--duration 10m --json "$TMP/s.json" >"$TMP/s.txt" 2>&1 &
SP_PID=$!
up=0
for _ in $(seq 120); do # its pools take seconds to make and touch
	nsx ping -c1 -W1 -q "$SRV_IP" >/dev/null 2>&1 && { up=1; break; }
	kill -0 "$SP_PID" 2>/dev/null || break
	sleep 0.5
done
check "stampede serve --tls --tls-psk is up" eq "$up" 1
[ "$up" = 1 ] || { cat "$TMP/s.txt" >&2; exit 1; }

# Every VU: one request, then a think longer than the run's hold, so its
# connection stays open and idle; the ramp spreads the handshakes. The
# hold after the ramp is 5 s: the last handshakes take milliseconds (the
# slowest of 100,000 in CI: 17 ms, its connect 11 ms), so every
# connection is open and idle seconds before the end (a longer hold only
# kept them idle longer).
cat >"$TMP/hold.yaml" <<YAML
target: https://$NAME
tls:
  psk: $PSK
  ciphers: TLS-PSK-WITH-AES-128-GCM-SHA256
  resume: none
load:
  stages:
    - {duration: 40s, target: $N}
    - {duration: 5s, target: $N}
scenarios:
  - name: hold
    steps:
      - request: {path: /, check: {status: 200}}
      - think: 2m
YAML
taskset -c "$LAST_CPU" "$STAMPEDE" run "$TMP/hold.yaml" --port "af_packet:$RUN_IF" \
	--ip "$RUN_IPS" --prefix-len 24 --resolve "$NAME:$SRV_IP" \
	--connect-timeout 20s --json "$TMP/c.json" >"$TMP/c.txt" 2>&1
CRC=$?
cat "$TMP/c.txt"
stop_pid "$SP_PID" 300
SP_PID=
cat "$TMP/s.txt"
c() { jq -r "$1" "$TMP/c.json"; }
s() { jq -r "$1" "$TMP/s.json"; }

check "client exit 0" eq "$CRC" 0
check "$N VUs started, each one request" eq "$(c .summary.requests)" "$N"
check "every request answered 200" eq "$(c '.summary.codes["200"] // 0')" "$N"
check "no error, no reconnect" eq "$(c .summary.errors)/$(c .summary.connections.reconnects)" 0/0
check "the client opened $N connections" eq "$(c .summary.connections.opened)" "$N"
check "the client held $N at once" ge "$(c .pools.conns_peak)" "$N"
check "the server held $N at once" ge "$(s .pools.conns_peak)" "$N"
check "the server's TCP connections = the client's" eq "$(s .serve.connections)" "$N"
check "$N full handshakes on each side" eq "$(c .tls.handshakes.full)/$(s .tls.handshakes.full)" "$N/$N"
check "none resumed, none failed" eq \
	"$(c .tls.handshakes.resumed)/$(s .tls.handshakes.resumed)/$(c .tls.handshakes.failed)/$(s .tls.handshakes.failed)" 0/0/0/0
check "the server answered every request" eq "$(s .serve.responses)" "$N"
# The end: the client closes its idle connections at most 64 at a time
# (SP_VU_CLOSING_MAX), so its FINs and close_notify alerts never come in
# one burst the server's receive ring drops: every connection ends in
# order on the server, none is left in either pool.
check "the server saw every connection close in order" eq "$(s '.serve.closed_by.normal')" "$N"
check "no connection left in either pool" eq "$(c .pools.conns_in_use)/$(s .pools.conns_in_use)" 0/0
cb=$(c .tls.bytes_per_connection)
crss=$(c .pools.rss_peak_bytes)
srss=$(s .pools.rss_peak_bytes)
# The pools are made and touched at start: each process's RSS holds at
# least its TLS connections' buffers.
check "client RSS covers $N TLS connections" ge "$crss" $((N * cb))
check "server RSS covers $N TLS connections" ge "$srss" $((N * cb))
echo "# $N TLS connections: client RSS $((crss >> 20)) MiB, server RSS $((srss >> 20)) MiB," \
	"$cb bytes per TLS connection"
exit $((FAILS > 0))
