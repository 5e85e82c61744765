# Shared by the benchmarks (sourced): the test bed (brought up if it is
# down, and then taken down on exit), a temporary directory, and the peers'
# namespace sp-peer (198.18.2.1) joined to the server's namespace by a
# second veth pair with the same offloads off, so that the kernel-stack
# peers and stampede cross one veth each into the same server kernel.
# Needs: $top, $build. Sets: $tmp. Callers may set $iperf_pid.
tmp=$(mktemp -d /tmp/sp-bench.XXXXXX)
brought_up=0
iperf_pid=""
cleanup() {
	[ -n "$iperf_pid" ] && kill "$iperf_pid" 2>/dev/null && wait "$iperf_pid" 2>/dev/null
	ip link del sp-psrv 2>/dev/null || ip -n sp-srv link del sp-psrv 2>/dev/null || true
	ip netns del sp-peer 2>/dev/null || true
	[ "$brought_up" = 1 ] && "$top/tools/testbed" down
	rm -rf "$tmp"
}
trap cleanup EXIT

if ! "$top/tools/testbed" status >/dev/null 2>&1; then
	SP_BUILD_DIR=$build "$top/tools/testbed" up
	brought_up=1
fi

# The peers' namespace: 198.18.2.1 <-> 198.18.2.2 (in sp-srv).
ip netns del sp-peer 2>/dev/null || true
ip netns add sp-peer
ip link add sp-pcli netns sp-peer type veth peer name sp-psrv netns sp-srv
ip -n sp-peer addr add 198.18.2.1/24 dev sp-pcli
ip -n sp-srv addr add 198.18.2.2/24 dev sp-psrv
for ns_dev in sp-peer:sp-pcli sp-srv:sp-psrv; do
	ns=${ns_dev%%:*}; dev=${ns_dev#*:}
	ip -n "$ns" link set "$dev" up
	ip netns exec "$ns" ethtool -K "$dev" rx off tx off tso off gso off gro off >/dev/null 2>&1 || true
done
ip -n sp-peer link set lo up
ip -n sp-peer route add 198.18.0.0/24 via 198.18.2.2

