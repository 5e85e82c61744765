#!/usr/bin/env bash
# Concurrent bulk echoes (16 x 4 MiB each way): every byte verified, and the
# kernel never saw a segment of ours beyond the window it advertised
# (TcpExtBeyondWindow: Linux 6.17+ drops those). Then 256 at once, whose
# bursts can overrun the af_packet ring: what the port read plus what it
# counted missed is the kernel's own count of frames the interface received,
# and retransmission still brought back every byte.
. "$(dirname "$0")/lib.sh"

bw0=$(kcount TcpExtBeyondWindow)
kernel_rst_mark
run_sp tcp --target "$SRV:7" --mode echo --connections 32 --concurrency 16 \
	--bytes 4m --duration 60s
check "exit code 0" eq "$RC" 0
check "32 connections ok" eq "$(j .connections.ok)" 32
check "every echoed byte verified" eq "$(j .bytes.verified)" $((32 * (4 << 20)))
check "kernel saw nothing beyond its window" eq $(($(kcount TcpExtBeyondWindow) - bw0)) 0
check_no_rst
check_pools

rx_kernel() { cat /sys/class/net/sp-gen0/statistics/rx_packets; }
rx0=$(rx_kernel)
run_sp tcp --target "$SRV:7" --mode echo --connections 256 --concurrency 256 \
	--bytes 1m --duration 60s
rx=$(($(rx_kernel) - rx0))
check "256 at once: exit code 0" eq "$RC" 0
check "256 at once: every echoed byte verified" eq "$(j .bytes.verified)" $((256 * (1 << 20)))
check "256 at once: read + missed ($(j .nic.imissed) missed) = the kernel's frames received" \
	eq "$(j '.nic.ipackets + .nic.imissed')" "$rx"
check_pools
finish
