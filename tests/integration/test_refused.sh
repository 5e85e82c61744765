#!/usr/bin/env bash
# Connections to a closed port are refused by the kernel's RST and counted as
# refusals, one for one with the RSTs the kernel says it sent.
. "$(dirname "$0")/lib.sh"

rsts0=$(kcount TcpOutRsts)
run_sp tcp --target "$SRV:1" --mode echo --connections 100 --concurrency 10 --duration 30s
check "exit code 1: connections failed" eq "$RC" 1
check "100 refused" eq "$(j .connections.refused)" 100
check "100 failed" eq "$(j .connections.failed)" 100
check "none ok" eq "$(j .connections.ok)" 0
check "kernel sent exactly 100 RSTs" eq $(($(kcount TcpOutRsts) - rsts0)) 100
check "stampede received 100 RSTs" eq "$(j .tcp.rst_rx)" 100
check_pools
finish
