#!/usr/bin/env bash
# The 64 MiB echo of test_bulk under a lossy, reordering, duplicating network:
# the server's namespace drops 5% of the echo's packets each way (nftables;
# this kernel has no netem), and stampede's own receive path reorders and
# duplicates frames (--impair). Data must still come back equal, and both
# sides must have retransmitted.
. "$(dirname "$0")/lib.sh"

nft_table sp_loss <<'NFT'
	chain in {
		type filter hook input priority 0;
		tcp dport 7 numgen random mod 100 < 5 counter drop
	}
	chain out {
		type filter hook output priority 0;
		tcp sport 7 numgen random mod 100 < 5 counter drop
	}
NFT
kre0=$(kcount TcpRetransSegs)
dsack0=$(kcount TcpExtTCPDSACKRecv)
run_sp tcp --target "$SRV:7" --mode echo --connections 1 --bytes 64m --sha256 \
	--impair reorder=2%,dup=1% --rto-min 20ms --duration 300s
check "exit code 0" eq "$RC" 0
check "connection ok" eq "$(j .connections.ok)" 1
check "64 MiB received" eq "$(j .bytes.received)" $((64 << 20))
check "SHA-256 of the echo equals that of the data sent" eq "$(j .sha256.received)" "$(j .sha256.sent)"
check "the network really dropped packets" ge "$(nft_packets sp_loss)" 100
check "frames were reordered" ge "$(j .impair.reordered)" 1
check "frames were duplicated" ge "$(j .impair.duplicated)" 1
check "stampede retransmitted" ge "$(j .tcp.retrans_segs)" 1
check "the kernel retransmitted" ge $(($(kcount TcpRetransSegs) - kre0)) 1
check "out-of-order segments were queued" ge "$(j .tcp.ooo_segs)" 1
# Duplicates we received were reported (RFC 2883), and the kernel counted
# our D-SACKs: all but those its input chain dropped (5%).
ds=$(j .tcp.dsack)
kds=$(($(kcount TcpExtTCPDSACKRecv) - dsack0))
check "duplicates were D-SACKed" ge "$ds" 1
check "the kernel received our D-SACKs, at most as many as we sent" le "$kds" "$ds"
check "... and all but a tenth of them" ge $((kds * 10)) $((ds * 9))
check_pools
finish
