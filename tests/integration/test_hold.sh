#!/usr/bin/env bash
# 1,000 concurrent connections held open 10 s, then closed cleanly: the
# server's socket table shows all 1000 established, then none left, and no
# RST crossed the wire either way.
. "$(dirname "$0")/lib.sh"

estab() { ip netns exec "$NS" ss -Htn state established '( sport = :7 )' | wc -l; }
kernel_rst_mark
"$STAMPEDE" tcp "${NET_OPTS[@]}" --json "$TMP/r.json" --target "$SRV:7" --mode echo \
	--connections 1000 --concurrency 1000 --bytes 1024 --hold 10s --duration 60s \
	>"$TMP/out.txt" 2>&1 &
pid=$!
peak=0
for _ in $(seq 1 100); do # bounded: 100 x 0.1 s, well inside the hold
	n=$(estab)
	[ "$n" -gt "$peak" ] && peak=$n
	[ "$n" -ge 1000 ] && break
	sleep 0.1
done
check "server saw 1000 established at once" eq "$peak" 1000
wait "$pid"; RC=$?
check "exit code 0" eq "$RC" 0
check "1000 connections ok" eq "$(j .connections.ok)" 1000
check "held for the hold time" ge "$(j '.elapsed_s | floor')" 10
left=$(ip netns exec "$NS" ss -Htan '( sport = :7 )' | grep -vc LISTEN)
check "no connection left on the server" eq "$left" 0
check_no_rst
check_pools
finish
