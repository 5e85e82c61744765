# Sourced by the scripts that give stampede a veth end in the root
# namespace (tools/testbed, tools/bench, tests): keep the kernel's own
# stack off that end.
#
# kernel_blind IF: an nftables netdev ingress hook on IF that drops every
# frame once the packet sockets (stampede's af_packet port, tcpdump) have
# seen it. The root namespace has no address on IF, yet without the hook
# each arriving frame still goes up through ip_rcv, to be dropped there as
# not ours (IpInAddrErrors): work charged to the CPU of whoever sent it,
# which cost the benchmark up to a third of its figures. On a machine with
# net.ipv4.ip_forward=1 the kernel would instead route those frames, out of
# the test network.
# kernel_unblind IF: remove the hook (deleting IF leaves the table behind).
kernel_blind() {
	local t="sp_blind_${1//-/_}"

	nft delete table netdev "$t" 2>/dev/null || true
	nft -f - <<NFT
table netdev $t {
	chain ingress {
		type filter hook ingress device "$1" priority 0; policy drop;
	}
}
NFT
}
kernel_unblind() {
	nft delete table netdev "sp_blind_${1//-/_}" 2>/dev/null || true
}
