#!/usr/bin/env bash
# Concurrent bulk echoes (16 x 4 MiB each way): every byte verified, and the
# kernel never saw a segment of ours beyond the window it advertised
# (TcpExtBeyondWindow: Linux 6.17+ drops those).
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
finish
