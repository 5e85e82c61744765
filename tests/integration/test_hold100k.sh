#!/usr/bin/env bash
# 100,000 concurrent connections held for 30 s against the kernel, then
# closed with none left over on either side. One address has 64,512 ports:
# the run uses two (--ip 198.18.1.1-198.18.1.2), both answered by ARP. The
# server's socket table is the witness of the peak and of the end.
. "$(dirname "$0")/lib.sh"

# The kernel's own count of established connections (instant, where ss
# would take seconds over 100,000 sockets): CurrEstab in /proc/net/snmp.
# One server process may hold at most RLIMIT_NOFILE connections, and this
# machine's hard limit (20,000) cannot be raised: seven more sp-tcpsrv
# discard servers join the test bed's on port 9 (SO_REUSEPORT), and the
# kernel spreads the connections over the eight.
PIDS=()
stop_servers() { [ ${#PIDS[@]} -eq 0 ] || kill "${PIDS[@]}" 2>/dev/null; wait "${PIDS[@]}" 2>/dev/null; }
trap 'stop_servers; cleanup' EXIT
TCPSRV=$(dirname "$STAMPEDE")/../tools/sp-tcpsrv
for i in 1 2 3 4 5 6 7; do
	ip netns exec "$NS" "$TCPSRV" --addr "$SRV" --discard 9 --backlog 65535 \
		>"$TMP/srv$i.log" 2>&1 &
	PIDS+=($!)
done
for _ in $(seq 50); do
	[ "$(ip netns exec "$NS" ss -Hltn '( sport = :9 )' | wc -l)" -ge 8 ] && break
	sleep 0.1
done
check "eight discard servers listen on port 9" eq "$(ip netns exec "$NS" ss -Hltn '( sport = :9 )' | wc -l)" 8

estab() { ip netns exec "$NS" awk '/^Tcp:/ && $2 ~ /^[0-9]/ { print $10 }' /proc/net/snmp; }
kernel_rst_mark
over0=$(kcount TcpExtListenOverflows)
"$STAMPEDE" tcp --port af_packet:sp-gen0 --ip 198.18.1.1-198.18.1.2 --prefix-len 16 \
	--json "$TMP/r.json" --target "$SRV:9" --mode sink --connections 100000 \
	--concurrency 100000 --bytes 0 --hold 30s --duration 120s --connect-timeout 10s \
	>"$TMP/out.txt" 2>&1 &
pid=$!
peak=0
for _ in $(seq 1 100); do # bounded: 100 x 0.2 s, inside the hold
	n=$(estab)
	[ "$n" -gt "$peak" ] && peak=$n
	[ "$n" -ge 100000 ] && break
	sleep 0.2
done
check "server saw 100000 established at once" ge "$peak" 100000
by_addr=$(ip netns exec "$NS" ss -Htn state established '( sport = :9 )' | awk '{ split($4, a, ":"); n[a[1]]++ } END { for (k in n) print k, n[k] }' | sort | tr '\n' ' ')
check "both source addresses in use" eq "$(echo "$by_addr" | wc -w)" 4
wait "$pid"; RC=$?
check "exit code 0" eq "$RC" 0
check "100000 connections ok" eq "$(j .connections.ok)" 100000
check "no SYN retransmitted" eq "$(j .tcp.syn_retrans)" 0
check "held for the hold time" ge "$(j '.elapsed_s | floor')" 30
check "stampede's own peak: 100000 at once" ge "$(j .pools.conns_peak)" 100000
check "stack memory per connection under 256 B" le "$(j .pools.bytes_per_conn)" 255
# TIME-WAIT is what a closed connection leaves behind by design.
left=$(ip netns exec "$NS" ss -Htan '( sport = :9 )' | grep -vcE 'LISTEN|TIME-WAIT')
check "no server ran out of descriptors" eq "$(cat "$TMP"/srv*.log /run/stampede-testbed/sp-tcpsrv.log | grep -c 'out of descriptors')" 0
check "no connection left on the server" eq "$left" 0
check "the port missed no frame" eq "$(j .nic.imissed)" 0
# The veth delivers the server's ACK of our FIN and its own FIN out of
# order now and then; the late ACK then finds us in TIME_WAIT, below the
# window, and draws the duplicate ACK RFC 9293 asks for, which the server,
# closed by then, answers with a RST. No connection is reset while open:
check "the kernel saw no established connection reset" eq $(($(kcount TcpEstabResets) - ERES0)) 0
check "every connection closed normally (none failed, none reset while open)" eq "$(j .connections.failed)" 0
check "the server's accept queue never overflowed" eq $(($(kcount TcpExtListenOverflows) - over0)) 0
echo "     RSS peak $(j .pools.rss_peak_bytes) bytes, $(j .pools.bytes_per_conn) B/conn in the pools, elapsed $(j .elapsed_s) s" >&2
check_pools
finish
