#!/usr/bin/env bash
# 10,000 sequential connections, each echoing 1 KiB, with zero failures; the
# server kernel's own counters must agree on the number of connections and
# see no reset either way.
. "$(dirname "$0")/lib.sh"

opens0=$(kcount TcpPassiveOpens)
kernel_rst_mark
run_sp tcp --target "$SRV:7" --mode echo --connections 10000 --concurrency 1 \
	--bytes 1024 --duration 120s
check "exit code 0" eq "$RC" 0
check "10000 connections ok" eq "$(j .connections.ok)" 10000
check "no failed connection" eq "$(j .connections.failed)" 0
check "every echoed byte verified" eq "$(j .bytes.verified)" $((10000 * 1024))
check "kernel accepted exactly 10000 connections" eq $(($(kcount TcpPassiveOpens) - opens0)) 10000
check_no_rst
check "the port dropped nothing (its rings' drops, PACKET_STATISTICS)" eq "$(j .nic.imissed)" 0
check_pools
finish
