#!/usr/bin/env bash
# stampede serve, the HTTP/1.1 responder, against real clients in a
# namespace of its own (not the shared test bed): curl for exact bytes
# (status, body size, HEAD, Connection: close), bash's /dev/tcp for
# pipelining and a Transfer-Encoding request (501), wrk for load. The
# witnesses: wrk's own request count, the namespace kernel's TcpActiveOpens
# (every connection the clients opened), and the report's accounting
# (requests = responses, pools back to zero, no allocation after start).
# Stopped with SIGINT (Ctrl-C) each time: the report must still come.
. "$(dirname "$0")/lib.sh"

NS=sp-sv                 # kcount reads this namespace's counters
GEN_IF=sp-svg0           # our end: no kernel IP, opened by af_packet
CLI_IF=sp-svs0
SRV_IP=198.19.0.1
CLI_IP=198.19.0.2
SP_PID=

serve_cleanup() {
	stop_pid "$SP_PID"
	ip link del "$GEN_IF" 2>/dev/null
	kernel_unblind "$GEN_IF"
	ip netns del "$NS" 2>/dev/null
	cleanup
}
trap serve_cleanup EXIT

nsx() { ip netns exec "$NS" "$@"; }

# A namespace and a veth pair of our own; leftovers of an earlier run of
# this test are removed by name first.
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

# start_serve ARGS...: stampede serve in the background, ready when it
# answers ping (no TCP probe: every connection is counted).
start_serve() {
	rm -f "$TMP/r.json"
	"$STAMPEDE" serve --port "af_packet:$GEN_IF" --ip "$SRV_IP" --duration 120s \
		--json "$TMP/r.json" "$@" >"$TMP/out.txt" 2>"$TMP/err.txt" &
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

# stop_serve: Ctrl-C, then the report (bounded by the drain, a few s).
stop_serve() {
	kill -INT "$SP_PID"
	for _ in $(seq 150); do kill -0 "$SP_PID" 2>/dev/null || break; sleep 0.1; done
	wait "$SP_PID"
	RC=$?
	SP_PID=
	cat "$TMP/out.txt"
	if [ ! -s "$TMP/r.json" ]; then
		echo "stampede wrote no report (exit $RC):" >&2
		cat "$TMP/err.txt" >&2
	fi
}

# raw_exchange FILE: send stdin on one connection, keep all that comes back
# until the server closes (bounded: 5 s).
raw_exchange() {
	nsx timeout 5 bash -c "exec 3<>/dev/tcp/$SRV_IP/80 && cat >&3 && cat <&3" >"$1"
}

# wrk_run ARGS...: wrk for 3 s from the namespace; WRK_N completed requests.
wrk_run() {
	nsx timeout 20 wrk -t1 -c32 -d3s "$@" "http://$SRV_IP/" >"$TMP/wrk.txt" 2>&1
	cat "$TMP/wrk.txt"
	WRK_N=$(awk '/requests in/ { print $1 }' "$TMP/wrk.txt")
	WRK_RPS=$(awk '/^Requests\/sec:/ { print $2 }' "$TMP/wrk.txt")
	: "${WRK_N:=0}" "${WRK_RPS:=0}"
}

resp_head() { # resp_head CONNECTION LENGTH
	printf 'HTTP/1.1 200 OK\r\nContent-Length: %s\r\nConnection: %s\r\n\r\n' "$2" "$1"
}

# --- 0. usage errors: exit 2 before the port is opened --------------------
usage() { "$STAMPEDE" serve --port "af_packet:$GEN_IF" "$@" >/dev/null 2>&1; echo $?; }
tx0=$(cat "/sys/class/net/$GEN_IF/statistics/tx_packets")
check "usage: a loopback --ip" eq "$(usage --ip 127.0.0.1)" 2
check "usage: --status 99" eq "$(usage --ip "$SRV_IP" --status 99)" 2
check "usage: --status 204 with a body" eq "$(usage --ip "$SRV_IP" --status 204 --body-size 1)" 2
check "usage: --body-size 1x" eq "$(usage --ip "$SRV_IP" --body-size 1x)" 2
check "usage: --listen-port 0" eq "$(usage --ip "$SRV_IP" --listen-port 0)" 2
check "usage: an unknown option" eq "$(usage --ip "$SRV_IP" --frobnicate)" 2
check "usage: an unwritable --json" eq "$(usage --ip "$SRV_IP" --json /nonexistent/r.json)" 2
check "usage: not one frame sent" eq "$(cat "/sys/class/net/$GEN_IF/statistics/tx_packets")" "$tx0"

# --- 1. keep-alive, 1 KiB bodies ----------------------------------------
opens0=$(kcount TcpActiveOpens)
start_serve --body-size 1k || exit 1

code=$(nsx curl -s -m 5 -o "$TMP/body" -w '%{http_code} %{size_download}' "http://$SRV_IP/any/path?q=1")
check "curl: status 200 and a 1024-byte body" eq "$code" "200 1024"
check "curl: the body is all 'x'" eq "$(tr -d x <"$TMP/body" | wc -c)" 0
nsx curl -s -m 5 -I "http://$SRV_IP/" >"$TMP/head.txt"
check "HEAD: Content-Length 1024, no body" eq "$(tr -d '\r' <"$TMP/head.txt" | grep -ci '^content-length: 1024$')" 1

# Pipelined GET, HEAD, GET (close): the answers in order, byte for byte,
# and the server closes after the last.
printf 'GET /1 HTTP/1.1\r\nHost: h\r\n\r\nHEAD /2 HTTP/1.1\r\nHost: h\r\n\r\nGET /3 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n' |
	raw_exchange "$TMP/pipe.txt"
check "pipelined: the server closed the connection" eq "$?" 0
{
	resp_head keep-alive 1024; bytes 1024 x
	resp_head keep-alive 1024
	resp_head close 1024; bytes 1024 x
} >"$TMP/pipe.want"
check "pipelined: GET, HEAD, GET answered in order, exactly" cmp -s "$TMP/pipe.txt" "$TMP/pipe.want"

printf 'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n' |
	raw_exchange "$TMP/te.txt"
check "Transfer-Encoding: closed after the answer" eq "$?" 0
check "Transfer-Encoding: 501" eq "$(head -c 12 "$TMP/te.txt")" "HTTP/1.1 501"

# The other error responses, each closing its connection.
printf 'GET / HTTP/2.0\r\nHost: h\r\n\r\n' | raw_exchange "$TMP/e505.txt"
check "HTTP/2.0 request: 505, closed" eq "$?/$(head -c 12 "$TMP/e505.txt")" "0/HTTP/1.1 505"
printf 'GET / HTTP/1.1\r\nHost: h\r\nBad Header: x\r\n\r\n' | raw_exchange "$TMP/e400.txt"
check "malformed header: 400, closed" eq "$?/$(head -c 12 "$TMP/e400.txt")" "0/HTTP/1.1 400"
{ printf 'GET / HTTP/1.1\r\nHost: h\r\nX-Big: '; bytes 9000 a; printf '\r\n\r\n'; } |
	raw_exchange "$TMP/e431.txt"
check "9000-byte header: 431, closed" eq "$?/$(head -c 12 "$TMP/e431.txt")" "0/HTTP/1.1 431"

wrk_run
KA_RPS=$WRK_RPS
opens=$(($(kcount TcpActiveOpens) - opens0))
stop_serve
check "keep-alive: exit 0 after Ctrl-C" eq "$RC" 0
check "wrk completed requests" ge "$WRK_N" 1000
fixed=5 # curl GET, curl HEAD, 3 pipelined
check "requests = responses" eq "$(j .serve.requests)" "$(j .serve.responses)"
check "no request left unanswered" eq "$(j .serve.unanswered)" 0
check "responses >= wrk's count + ours" ge "$(j .serve.responses)" $((WRK_N + fixed))
check "responses <= wrk's count + ours + wrk's 32 in flight" le "$(j .serve.responses)" $((WRK_N + fixed + 32))
check "errors by kind: transfer_encoding, version, header, header_too_big" eq \
	"$(j '[.serve.errors_total, .serve.errors.transfer_encoding, .serve.errors.version, .serve.errors.header, .serve.errors.header_too_big] | map(tostring) | join(" ")')" "4 1 1 1 1"
check "error responses: one each of 400, 431, 501, 505" eq \
	"$(j '.serve.error_responses | [.["400"], .["431"], .["501"], .["505"]] | map(tostring) | join(" ")')" "1 1 1 1"
check "connections = the clients' TcpActiveOpens" eq "$(j .serve.connections)" "$opens"
check "SYNs taken = the clients' TcpActiveOpens" eq "$(j .serve.syns)" "$opens"
check "every connection closed" eq "$(j .serve.closed)/$(j .serve.open)" "$(j .serve.connections)/0"
check "no retransmission by us" eq "$(j .tcp.retrans_segs)" 0
check "no SYN-ACK retransmitted" eq "$(j .tcp.syn_retrans)" 0
check_pools
echo "keep-alive: wrk -c32 $KA_RPS req/s"

# --- 2. Connection: close, 404 with 100 bytes ---------------------------
opens0=$(kcount TcpActiveOpens)
start_serve --close --status 404 --body-size 100 || exit 1
code=$(nsx curl -sv -m 5 -o "$TMP/body" -w '%{http_code} %{size_download}' "http://$SRV_IP/" 2>"$TMP/curl.txt")
check "close: status 404 and a 100-byte body" eq "$code" "404 100"
check "close: curl saw Connection: close" eq "$(tr -d '\r' <"$TMP/curl.txt" | grep -c '^< Connection: close$')" 1
check "close: curl did not keep the connection" eq "$(grep -c 'left intact' "$TMP/curl.txt")" 0
printf 'GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n' |
	raw_exchange "$TMP/pipe.txt"
check "close: the server closed after the first response" eq "$?" 0
check "close: one response only" eq "$(grep -c '^HTTP/1.1 404' "$TMP/pipe.txt")" 1
wrk_run -H 'Connection: close'
CL_RPS=$WRK_RPS
opens=$(($(kcount TcpActiveOpens) - opens0))
stop_serve
check "close: exit 0 after Ctrl-C" eq "$RC" 0
check "close: wrk completed requests" ge "$WRK_N" 500
check "close: requests = responses" eq "$(j .serve.requests)" "$(j .serve.responses)"
check "close: responses >= wrk's count + ours" ge "$(j .serve.responses)" $((WRK_N + 2))
check "close: responses <= wrk's count + ours + 32" le "$(j .serve.responses)" $((WRK_N + 2 + 32))
# wrk's last connects may be abandoned mid-handshake: they are SYNs the
# stack took, not connections the application saw.
check "close: SYNs taken = the clients' TcpActiveOpens" eq "$(j .serve.syns)" "$opens"
check "close: connections + unfinished handshakes = SYNs" eq \
	$(($(j .serve.connections) + $(j .serve.handshake_incomplete) + $(j .serve.rejected))) "$(j .serve.syns)"
check "close: at most wrk's 32 handshakes unfinished" le "$(j .serve.handshake_incomplete)" 32
check "close: one request per connection at most" le "$(j .serve.requests)" "$(j .serve.connections)"
check "close: no parse error" eq "$(j .serve.errors_total)" 0
# The namespace's kernel still knows our MAC from the run before, so it
# asks nothing: the first SYN-ACK goes to the MAC the SYN came from.
check "close: the client's MAC learnt from its SYN" eq "$(j .arp.from_syn)" 1
check "close: no SYN-ACK retransmitted" eq "$(j .tcp.syn_retrans)" 0
check_pools
echo "close: wrk -c32 -H 'Connection: close' $CL_RPS req/s"

# --- 3. a 3 MiB body, sent as the window opens ---------------------------
start_serve --body-size 3m || exit 1
code=$(nsx curl -s -m 10 -o "$TMP/body" -w '%{http_code} %{size_download}' "http://$SRV_IP/")
check "3 MiB: status 200 and the whole body" eq "$code" "200 3145728"
check "3 MiB: all 'x'" eq "$(tr -d x <"$TMP/body" | wc -c)" 0
printf 'GET / HTTP/1.1\r\nHost: h\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n' |
	raw_exchange "$TMP/pipe.txt"
check "3 MiB: two pipelined answers in full" eq "$(wc -c <"$TMP/pipe.txt")" \
	$((2 * 3145728 + $(resp_head keep-alive 3145728 | wc -c) + $(resp_head close 3145728 | wc -c)))
# Under load: 8 connections each pulling 3 MiB bodies back to back.
nsx timeout 20 wrk -t1 -c8 -d2s "http://$SRV_IP/" >"$TMP/wrk.txt" 2>&1
cat "$TMP/wrk.txt"
WRK_N=$(awk '/requests in/ { print $1 }' "$TMP/wrk.txt")
check "3 MiB under wrk -c8: no socket error" eq "$(grep -c 'Socket errors' "$TMP/wrk.txt")" 0
stop_serve
check "3 MiB: exit 0" eq "$RC" 0
# wrk resets its connections mid-body at its end: those requests are
# unanswered, not lost.
check "3 MiB: requests = responses + unanswered" eq "$(j .serve.requests)" \
	$(($(j .serve.responses) + $(j .serve.unanswered)))
check "3 MiB: at most wrk's 8 unanswered" le "$(j .serve.unanswered)" 8
check "3 MiB: responses = wrk's count + 3 + at most 8 in flight" le \
	$(($(j .serve.responses) - WRK_N - 3)) 8
check "3 MiB: no response short of wrk's count" ge $(($(j .serve.responses) - WRK_N - 3)) 0
check "3 MiB: bytes sent cover the responses" ge "$(j .serve.bytes.sent)" $(($(j .serve.responses) * 3145728))
check_pools

# --- 4. two worker cores (af_packet fanout: two queue pairs) --------------
# The kernel spreads flows over the two sockets by its own hash, which we
# cannot compute: each connection belongs to the core a hash of the
# client's address and port names, and segments that land on the other
# queue are passed on. The witnesses: the clients' TcpActiveOpens, wrk's
# count, and the per-core figures adding up to the totals.
opens0=$(kcount TcpActiveOpens)
start_serve --cores 2 --body-size 100 || exit 1
nsx timeout 20 wrk -t2 -c64 -d3s "http://$SRV_IP/" >"$TMP/wrk.txt" 2>&1
cat "$TMP/wrk.txt"
WRK_N=$(awk '/requests in/ { print $1 }' "$TMP/wrk.txt")
nsx timeout 20 wrk -t1 -c16 -d2s -H 'Connection: close' "http://$SRV_IP/" >"$TMP/wrk2.txt" 2>&1
cat "$TMP/wrk2.txt"
WRK2_N=$(awk '/requests in/ { print $1 }' "$TMP/wrk2.txt")
opens=$(($(kcount TcpActiveOpens) - opens0))
stop_serve
check "2 cores: exit 0 after Ctrl-C" eq "$RC" 0
check "2 cores: two in the report" eq "$(j '.cores | length')" 2
check "2 cores: placement by passing segments on" eq "$(j .generator.placement)" redirect
check "2 cores: wrk keep-alive completed requests" ge "${WRK_N:-0}" 1000
check "2 cores: wrk close completed requests" ge "${WRK2_N:-0}" 100
check "2 cores: core 0 took connections" ge "$(j '.cores[0].connections')" 10
check "2 cores: core 1 took connections" ge "$(j '.cores[1].connections')" 10
for k in connections requests responses rejected; do
	check "2 cores: per-core $k add up" eq "$(j "[.cores[].$k] | add")" "$(j ".serve.$k")"
done
check "2 cores: nothing rejected" eq "$(j .serve.rejected)" 0
check_core_lines "2 cores" '$4, $6, $10' '.connections, .requests, .redirect_out'
check "2 cores: SYNs taken = the clients' TcpActiveOpens" eq "$(j .serve.syns)" "$opens"
check "2 cores: requests = responses" eq "$(j .serve.requests)" "$(j .serve.responses)"
check "2 cores: no request left unanswered" eq "$(j .serve.unanswered)" 0
check "2 cores: responses >= wrk's counts" ge "$(j .serve.responses)" $((WRK_N + WRK2_N))
check "2 cores: responses <= wrk's counts + their 80 in flight" le "$(j .serve.responses)" $((WRK_N + WRK2_N + 80))
check "2 cores: no parse error" eq "$(j .serve.errors_total)" 0
check "2 cores: segments passed to their owner" ge "$(j '[.cores[].redirect_out] | add')" 100
check "2 cores: every frame passed on arrived, was dropped or stranded" eq \
	"$(j '([.cores[] | .redirect_in + .redirect_full] | add) + .generator.redirect_stranded')" \
	"$(j '[.cores[].redirect_out] | add')"
check "2 cores: no retransmission by us" eq "$(j .tcp.retrans_segs)" 0
check "2 cores: no SYN-ACK retransmitted" eq "$(j .tcp.syn_retrans)" 0
check "2 cores: every connection closed" eq "$(j .serve.open)" 0
check_pools

echo "measured: keep-alive $KA_RPS req/s, Connection: close $CL_RPS req/s (wrk -t1 -c32, 3 s)"
finish
