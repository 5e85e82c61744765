#!/usr/bin/env bash
# 10,000 sequential connections, each echoing 1 KiB, with zero failures; the
# server kernel's own counters must agree on the number of connections and
# see no reset either way. The af_packet port offloads no checksum: the
# stack makes and checks every one itself (the kernel, offloads off on
# its veth, checked ours).
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
# At least SYN, data and FIN each way per connection.
check "af_packet: every TCP checksum made in software" ge "$(j .cksum.tx_tcp_sw)" 30000
check "af_packet: every received one checked in software" ge "$(j .cksum.rx_tcp_sw)" 30000
check "af_packet: IPv4 header checksums made and checked in software" ge \
	"$(j '[.cksum.tx_ip_sw, .cksum.rx_ip_sw] | min')" 30000
check "af_packet: nothing left to the NIC, no verdict from it" eq \
	"$(j '.cksum.tx_ip_nic + .cksum.tx_tcp_nic + .cksum.rx_ip_nic + .cksum.rx_tcp_nic')" 0
check "the port dropped nothing (its rings' drops, PACKET_STATISTICS)" eq "$(j .nic.imissed)" 0
check_pools
finish
