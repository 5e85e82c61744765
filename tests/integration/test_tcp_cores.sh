#!/usr/bin/env bash
# The tcp mode over two worker cores (two af_packet queue pairs; on this
# machine the lcores may share a CPU): connections split evenly and
# numbered as on one core (connection 0's SHA-256 is the one-core run's),
# each core opening from its own slice of the ephemeral ports, which the
# server's kernel sees (ss); segments landing on the other core's queue
# passed to their owner and counted; per-core figures add up; the server
# kernel's TcpPassiveOpens counts every connection.
. "$(dirname "$0")/lib.sh"

check "usage: --concurrency below --cores" eq \
	"$("$STAMPEDE" tcp "${NET_OPTS[@]}" --target "$SRV:7" --cores 2 >/dev/null 2>&1; echo $?)" 2
check "usage: --placement other than auto, rss or redirect" eq \
	"$("$STAMPEDE" tcp "${NET_OPTS[@]}" --target "$SRV:7" --placement hash >/dev/null 2>&1; echo $?)" 2
# af_packet gives no RSS key: asked for, RSS placement cannot be had.
"$STAMPEDE" tcp "${NET_OPTS[@]}" --target "$SRV:7" --cores 2 --concurrency 2 --connections 2 \
	--placement rss >"$TMP/out.txt" 2>"$TMP/err.txt"
check "--placement rss on af_packet: could not run (3)" eq "$?" 3
check "--placement rss on af_packet: says why" eq \
	"$(grep -c 'placement rss: the port gives no RSS key' "$TMP/err.txt")" 1

# --- echo, 2000 connections, 64 at a time ---------------------------------
run_sp tcp --target "$SRV:7" --mode echo --connections 2000 --concurrency 64 \
	--bytes 10k --sha256 --duration 30s
one_sha=$(j .sha256.sent)
check "one core: exit 0" eq "$RC" 0

opens0=$(kcount TcpPassiveOpens)
kernel_rst_mark
run_sp tcp --target "$SRV:7" --mode echo --connections 2000 --concurrency 64 \
	--bytes 10k --sha256 --duration 30s --cores 2
cat "$TMP/out.txt"
check "2 cores: exit 0" eq "$RC" 0
check "2 cores: two in the report" eq "$(j '.cores | length')" 2
check "2 cores: 1000 connections each" eq "$(j '[.cores[].started] | map(tostring) | join(",")')" "1000,1000"
check "2 cores: all 2000 ok" eq "$(j .connections.ok)" 2000
check "2 cores: per-core ok add up" eq "$(j '[.cores[].ok] | add')" 2000
check_core_lines "2 cores" '$4, $6, $12' '.started, .ok, .redirect_out'
check "2 cores: per-core bytes sent add up" eq "$(j '[.cores[].bytes_sent] | add')" "$(j .bytes.sent)"
check "2 cores: every echoed byte verified" eq "$(j .bytes.verified)" $((2000 * 10240))
check "2 cores: the server's kernel accepted 2000" eq $(($(kcount TcpPassiveOpens) - opens0)) 2000
check "2 cores: connection 0 is the one-core run's (same SHA-256)" eq "$(j .sha256.sent)" "$one_sha"
check "2 cores: no echo differs" eq "$(j .sha256.echo_differ)" 0
check "2 cores: placement by passing segments on" eq "$(j .generator.placement)" redirect
check "2 cores: segments passed to their owner" ge "$(j '[.cores[].redirect_out] | add')" 100
check "2 cores: every frame passed on arrived, was dropped or stranded" eq \
	"$(j '([.cores[] | .redirect_in + .redirect_full] | add) + .generator.redirect_stranded')" \
	"$(j '[.cores[].redirect_out] | add')"
# Each core asks for the gateway itself; a reply another core received
# reaches it as a copy, learnt but not counted again.
check "2 cores: ARP replies counted once (no more than the requests)" le \
	"$(j .arp.rx_reply)" "$(j .arp.tx_request)"
check_no_rst
check_pools

# --- 200 held connections: each core's from its own port slice -----------
# 64512 ephemeral ports in two slices: 1024-33279 and 33280-65535.
"$STAMPEDE" tcp "${NET_OPTS[@]}" --json "$TMP/r.json" --target "$SRV:7" --mode echo \
	--connections 200 --concurrency 200 --bytes 100 --hold 30s --duration 60s \
	--cores 2 >"$TMP/out.txt" 2>"$TMP/err.txt" &
pid=$!
est=0
for _ in $(seq 100); do
	est=$(ip netns exec "$NS" ss -Htn state established "( sport = :7 )" dst 198.18.0.1 | wc -l)
	[ "$est" -ge 200 ] && break
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
ip netns exec "$NS" ss -Htn state established "( sport = :7 )" dst 198.18.0.1 |
	awk '{ split($4, a, ":"); p = a[2]; if (p >= 1024 && p <= 33279) lo++; else if (p >= 33280) hi++ }
	     END { print lo + 0, hi + 0 }' >"$TMP/slices.txt"
stop_pid "$pid" 100
check "held: 200 established at the server" eq "$est" 200
check "held: 100 from core 0's slice, 100 from core 1's" eq "$(cat "$TMP/slices.txt")" "100 100"
check "held: stopped, the report came" eq "$(j '[.cores[].started] | add')" 200
check "held: Ctrl-C closed all 200 gracefully (ok)" eq "$(j .connections.ok)" 200
check_pools
finish
