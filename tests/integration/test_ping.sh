#!/usr/bin/env bash
# stampede answers ARP and ICMP echo: the kernel in the server's namespace
# resolves 198.18.0.1 to the generator port's MAC and gets its pings back.
. "$(dirname "$0")/lib.sh"

# Forget what earlier runs taught the kernel, so that it must ask again.
ip -n "$NS" neigh flush dev sp-srv0

"$STAMPEDE" net "${NET_OPTS[@]}" --duration 8s --json "$TMP/r.json" >"$TMP/out.txt" 2>&1 &
pid=$!
# The port takes a moment to come up: wait (bounded) for the first answer.
up=0
for _ in $(seq 1 30); do
	if ip netns exec "$NS" ping -n -c 1 -W 0.2 198.18.0.1 >/dev/null 2>&1; then
		up=1
		break
	fi
done
check "first ping answered within the bound" eq "$up" 1
got=$(ip netns exec "$NS" ping -n -c 5 -i 0.2 -W 1 198.18.0.1 | awk '/packets transmitted/ { print $4 }')
check "5 of 5 pings answered" eq "$got" 5
mac=$(cat /sys/class/net/sp-gen0/address)
neigh=$(ip -n "$NS" neigh show 198.18.0.1 | awk '{ for (i = 1; i < NF; i++) if ($i == "lladdr") print $(i + 1) }')
check "kernel's ARP entry is the generator port's MAC" eq "$neigh" "$mac"
wait "$pid"
check "stampede net exits 0" eq "$?" 0
check "stampede counted at least the 5 pings it answered" ge "$(j .icmp_echo)" 5
check "stampede answered an ARP request" ge "$(j .arp.tx_reply)" 1
finish
