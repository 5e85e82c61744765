#!/usr/bin/env bash
# A server that never answers (its namespace drops every packet to the port)
# yields counted connect timeouts; the firewall's counter of SYNs it dropped
# equals the SYNs stampede says it sent, first tries plus retransmissions.
. "$(dirname "$0")/lib.sh"

nft_table sp_hole <<'NFT'
	chain in {
		type filter hook input priority 0;
		tcp dport 7999 counter drop
	}
NFT
run_sp tcp --target "$SRV:7999" --mode echo --connections 20 --concurrency 20 \
	--connect-timeout 2500ms --duration 30s
dropped=$(nft_packets sp_hole)
check "exit code 1: connections failed" eq "$RC" 1
check "20 connect timeouts" eq "$(j .connections.connect_timeout)" 20
check "none ok" eq "$(j .connections.ok)" 0
check "SYNs were retransmitted before giving up" ge "$(j .tcp.syn_retrans)" 20
check "the server's firewall dropped every SYN sent" eq "$dropped" $((20 + $(j .tcp.syn_retrans)))
check_pools
finish
