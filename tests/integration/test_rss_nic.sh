#!/usr/bin/env bash
# RSS placement end to end, on a NIC that hashes: QEMU's virtio-net with
# rss=on, in a guest that tools/rss-vm boots (TCG, no KVM needed). The guest
# runs stampede with 2 worker cores on the NIC's 2 queue pairs; the NIC's
# own Toeplitz hash, under the key and table the guest's driver set, picks
# the queue of every frame. The host side is a multi-queue tap in a
# namespace of ours, with sp-tcpsrv (echo) and wrk as the peers.
#
# Checked: with placement auto the cores take RSS placement and open only
# from (address, port) pairs whose replies the NIC sends to their own queue,
# so that not one segment lands on a wrong queue (rss_misplaced, from a
# table of every pair's owner, and redirect_out: 0) while both queues carry
# traffic, over 4 source addresses (the namespace's nft counters see SYNs
# from each); every connection completes, the server's kernel accepted them
# all and sent no RST. The control: --placement redirect on the same NIC
# (port slices) has segments land on the other core's queue and passed on,
# which shows the NIC really spreads by its hash. HTTP virtual users (run)
# on 2 cores take RSS placement too: every response sp-httpsrv logged is
# one stampede counted, nothing on a wrong queue. serve with 2 cores keeps
# each flow where the NIC put it: wrk's requests all answered, both cores
# busy, nothing passed on.
#
# Checksum offload on the same NIC (virtio's csum and guest_csum): every
# run leaves its TCP checksums to the NIC (none made in software; the IPv4
# header's stay ours, virtio has no offload for them) and takes the NIC's
# receive verdicts. The host's kernel never checks a guest's offloaded
# (partial) checksum, so csum_tap.py does, on the tap: each of thousands
# of segments asks the host for its checksum at the TCP header and
# completes to the right one.
. "$(dirname "$0")/lib.sh"

NS=sp-rss                # kcount reads this namespace's counters
TAP=sp-rss0
HOST_IP=198.18.60.1
VM_IP=198.18.60.2         # serve
VM_IPS=198.18.60.10-198.18.60.13
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SRV_PID=
HTTP_PID=
VM_PID=

CSUM_PID=
VM_MAC=02:00:c6:12:3c:02  # tools/rss-vm's

rss_cleanup() {
	[ -n "$VM_PID" ] && kill -TERM "$VM_PID" 2>/dev/null && wait "$VM_PID" 2>/dev/null
	[ -n "$CSUM_PID" ] && kill -TERM "$CSUM_PID" 2>/dev/null && wait "$CSUM_PID" 2>/dev/null
	[ -n "$SRV_PID" ] && kill -TERM "$SRV_PID" 2>/dev/null && wait "$SRV_PID" 2>/dev/null
	[ -n "$HTTP_PID" ] && kill -TERM "$HTTP_PID" 2>/dev/null && wait "$HTTP_PID" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	cleanup
}
trap rss_cleanup EXIT

nsx() { ip netns exec "$NS" "$@"; }

if ! command -v qemu-system-x86_64 >/dev/null; then
	echo "qemu-system-x86_64 missing (tools/install-deps installs it)" >&2
	exit 1
fi
"$ROOT/tools/rss-vm" image "$STAMPEDE" "$TMP/vm" || exit 1

ip netns del "$NS" 2>/dev/null
ip netns add "$NS" || exit 1
nsx ip link set lo up
nsx ip tuntap add dev "$TAP" mode tap multi_queue || exit 1
nsx sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
nsx ip addr add "$HOST_IP/24" dev "$TAP"
nsx ip link set "$TAP" up
ip netns exec "$NS" "$(dirname "$STAMPEDE")/../tools/sp-tcpsrv" --addr "$HOST_IP" --echo 7 \
	--pidfile "$TMP/srv.pid" 2>"$TMP/srv.err" &
SRV_PID=$!
ip netns exec "$NS" "$(dirname "$STAMPEDE")/../tools/sp-httpsrv" --listen "$HOST_IP:8080" \
	--log "$TMP/http.log" --pidfile "$TMP/http.pid" 2>"$TMP/http.err" &
HTTP_PID=$!
for _ in $(seq 50); do [ -s "$TMP/srv.pid" ] && [ -s "$TMP/http.pid" ] && break; sleep 0.1; done
# SYNs from each of our source addresses, counted by the namespace.
NS_NFT=sp_rss
nsx nft -f - <<NFT || exit 1
table inet $NS_NFT {
	chain in {
		type filter hook input priority 0;
		tcp dport 7 tcp flags & (syn | ack) == syn ip saddr 198.18.60.10 counter
		tcp dport 7 tcp flags & (syn | ack) == syn ip saddr 198.18.60.11 counter
		tcp dport 7 tcp flags & (syn | ack) == syn ip saddr 198.18.60.12 counter
		tcp dport 7 tcp flags & (syn | ack) == syn ip saddr 198.18.60.13 counter
	}
}
NFT

# What the guest runs; each report is printed between markers.
cat >"$TMP/guest.sh" <<EOF2
port="--port 0000:00:03.0 --cores 2"
echo_run() { # NAME ARGS...
	name=\$1; shift
	stampede tcp \$port --ip $VM_IPS --target $HOST_IP:7 --mode echo \\
		--connections 2000 --concurrency 32 --bytes 1k --duration 60s \\
		--json /tmp/\$name.json "\$@"
	echo "@@exit \$name \$?"
	echo "@@json \$name"; cat /tmp/\$name.json; echo "@@end"
}
echo_run auto
echo_run redirect --placement redirect
stampede run \$port --ip $VM_IPS --url http://$HOST_IP:8080/len/100 --vus 32 \\
	--duration 3s --json /tmp/http.json
echo "@@exit http \$?"
echo "@@json http"; cat /tmp/http.json; echo "@@end"
stampede serve \$port --ip $VM_IP --duration 25s --json /tmp/serve.json
echo "@@exit serve \$?"
echo "@@json serve"; cat /tmp/serve.json; echo "@@end"
EOF2

# The guest's TCP checksums as its host gets them, the first 6000 segments
# (the echo runs' handshakes, data and closes).
nsx python3 "$(dirname "$0")/csum_tap.py" "$TAP" "$VM_MAC" "$TMP/csum.json" 6000 &
CSUM_PID=$!
for _ in $(seq 50); do [ -s "$TMP/csum.json" ] && break; sleep 0.1; done

opens0=$(kcount TcpPassiveOpens)
kernel_rst_mark
"$ROOT/tools/rss-vm" run "$TMP/vm" "$TMP/guest.sh" "$NS" "$TAP" "$TMP/console.log" 400 &
VM_PID=$!

# serve is up when its address answers ping (the tcp runs answer on others).
up=0
for _ in $(seq 1200); do
	if nsx ping -c1 -W1 -q "$VM_IP" >/dev/null 2>&1; then up=1; break; fi
	kill -0 "$VM_PID" 2>/dev/null || break
	sleep 0.2
done
check "guest: serve came up" eq "$up" 1
# Witnesses of the tcp and http runs, taken before wrk adds its own.
opens=$(($(kcount TcpPassiveOpens) - opens0))
rsts=$(($(kcount TcpOutRsts) - RSTS0))
eres=$(($(kcount TcpEstabResets) - ERES0))
WRK_N=0
if [ "$up" -eq 1 ]; then
	nsx timeout 20 wrk -t1 -c32 -d3s "http://$VM_IP/" >"$TMP/wrk.txt" 2>&1
	cat "$TMP/wrk.txt"
	WRK_N=$(awk '/requests in/ { print $1 }' "$TMP/wrk.txt")
fi
wait "$VM_PID"
vm_rc=$?
VM_PID=
# Done at its 6000 segments, or stopped here (then it tells what it saw).
kill -TERM "$CSUM_PID" 2>/dev/null
wait "$CSUM_PID"
CSUM_PID=
check "guest: ran to the end" eq "$vm_rc" 0
# The serial console ends its lines with CR LF.
tr -d '\r' <"$TMP/console.log" >"$TMP/console.txt"
grep -v '^@@\|^ *[{"]' "$TMP/console.txt"

# report NAME: the guest's JSON report NAME into $TMP/r.json (for j).
report() {
	awk -v n="$1" '$0 == "@@json " n { on = 1; next } /^@@end/ { on = 0 } on' \
		"$TMP/console.txt" >"$TMP/r.json"
	check "$1: exit 0" eq "$(sed -n "s/^@@exit $1 \([0-9]*\)$/\1/p" "$TMP/console.txt")" 0
}
# offloaded NAME: its report says the NIC made every TCP checksum.
offloaded() {
	check "$1: no TCP checksum made in software (the NIC's)" eq "$(j .cksum.tx_tcp_sw)" 0
	check "$1: TCP checksums left to the NIC" ge "$(j .cksum.tx_tcp_nic)" 10
	check "$1: IPv4 header checksums made here (virtio has no offload)" eq \
		"$(j '.cksum.tx_ip_nic')" 0
	check "$1: the NIC's verdicts on received segments taken" ge "$(j .cksum.rx_tcp_nic)" 10
}
syns() { nsx nft -j list table inet "$NS_NFT" | jq -r '[.nftables[] | .rule? // empty | .expr[] | .counter? // empty | .packets] | map(tostring) | join(" ")'; }

report auto
check "auto: the NIC's RSS is used" eq "$(j .generator.placement)" rss
check "auto: 1000 connections on each core" eq "$(j '[.cores[].started] | map(tostring) | join(",")')" "1000,1000"
check "auto: all 2000 ok" eq "$(j .connections.ok)" 2000
check "auto: every echoed byte verified" eq "$(j .bytes.verified)" $((2000 * 1024))
check "auto: no segment on a wrong queue" eq "$(j .generator.rss_misplaced)" 0
check "auto: no segment passed to another core" eq "$(j '[.cores[].redirect_out] | add')" 0
check "auto: queue 0 carried the replies of core 0" ge "$(j '.cores[0].rx_pkts')" 3000
check "auto: queue 1 carried the replies of core 1" ge "$(j '.cores[1].rx_pkts')" 3000
check "auto: RST neither way" eq "$(j '.tcp.rst_rx + .tcp.rst_tx')" 0
check_pools
offloaded auto

report redirect
check "redirect: placement by passing segments on" eq "$(j .generator.placement)" redirect
check "redirect: all 2000 ok" eq "$(j .connections.ok)" 2000
# Port slices ignore the hash: about half the segments land on the other
# queue (a NIC that did not spread would put none there).
check "redirect: segments landed on the other core's queue" ge \
	"$(j '[.cores[].redirect_out] | add')" 2000
check "redirect: every one passed on arrived" eq \
	"$(j '([.cores[] | .redirect_in + .redirect_full] | add) + .generator.redirect_stranded')" \
	"$(j '[.cores[].redirect_out] | add')"
check "redirect: no wrong-queue count outside RSS" eq "$(j .generator.rss_misplaced)" 0
offloaded redirect

check "server's kernel: no RST sent" eq "$rsts" 0
check "server's kernel: no established connection reset" eq "$eres" 0
read -r s10 s11 s12 s13 <<<"$(syns)"
for s in "$s10" "$s11" "$s12" "$s13"; do
	check "SYNs from each of the 4 source addresses" ge "${s:-0}" 100
done
check "SYNs: one per connection" eq $((s10 + s11 + s12 + s13)) 4000

report http
check "http: the NIC's RSS is used" eq "$(j .generator.placement)" rss
check "http: some requests made" ge "$(j .summary.responses)" 100
check "http: every response sp-httpsrv logged, counted" eq "$(j .summary.responses)" \
	"$(grep -c '^8080 /len/100 200 100$' "$TMP/http.log")"
check "http: no error" eq "$(j .summary.errors)" 0
check "http: both cores made requests" eq \
	"$(j '[.cores[] | select(.requests > 0)] | length')" 2
check "http: no segment on a wrong queue" eq "$(j .generator.rss_misplaced)" 0
check "http: no segment passed to another core" eq "$(j '[.cores[].redirect_out] | add')" 0
check "server's kernel: accepted the echo runs' 4000 and the VUs' connections" eq \
	"$opens" $((4000 + $(j '[.cores[].connections] | add')))
check "http: 32 VUs, 32 keep-alive connections" eq "$(j '[.cores[].connections] | add')" 32
offloaded http

report serve
check "serve: the NIC's RSS is used" eq "$(j .generator.placement)" rss
# wrk counts what it got back; it may leave up to its 32 in flight at its end.
check "serve: wrk completed some" ge "$WRK_N" 100
check "serve: no response short of wrk's count" ge $(($(j .serve.responses) - WRK_N)) 0
check "serve: at most wrk's 32 in flight beyond it" le $(($(j .serve.responses) - WRK_N)) 32
check "serve: requests = responses" eq "$(j .serve.requests)" "$(j .serve.responses)"
check "serve: both cores took connections" eq \
	"$(j '[.cores[] | select(.connections > 0)] | length')" 2
check "serve: nothing passed between cores" eq "$(j '[.cores[].redirect_out] | add')" 0
offloaded serve

# The offloaded checksums, as the host completes them: right.
cp "$TMP/csum.json" "$TMP/r.json"
cat "$TMP/r.json"; echo
check "tap: 6000 of the guest's segments checked" eq "$(j '.partial + .full + .bad')" 6000
check "tap: every one's checksum left to the host (offloaded)" eq "$(j .partial)" 6000
check "tap: data segments among them" ge "$(j .partial_data)" 1000
check "tap: no wrong checksum, none asked at a wrong offset" eq "$(j .bad)" 0
finish
