# Shared helpers for the integration tests: they run against the test bed
# (tools/testbed up) as root. Each test counts its own failed checks and exits
# non-zero if any failed; kernel counters in the server's namespace are the
# independent witness of what stampede reports.
set -u
: "${STAMPEDE:?STAMPEDE must point at the stampede binary}"
NS=sp-srv
SRV=198.18.0.2
NET_OPTS=(--port af_packet:sp-gen0 --ip 198.18.0.1 --gateway "$SRV")
TMP=$(mktemp -d /tmp/sp-it.XXXXXX)
FAILS=0
CHECKS=0
trap 'rm -rf "$TMP"' EXIT

check() { # check "what" test-expression...
	local what=$1; shift
	CHECKS=$((CHECKS + 1))
	if "$@"; then
		echo "ok   - $what"
	else
		echo "FAIL - $what"
		FAILS=$((FAILS + 1))
	fi
}
eq() { [ "$1" = "$2" ] || { echo "     expected '$2', got '$1'" >&2; return 1; }; }
ge() { [ "$1" -ge "$2" ] || { echo "     expected >= $2, got $1" >&2; return 1; }; }
le() { [ "$1" -le "$2" ] || { echo "     expected <= $2, got $1" >&2; return 1; }; }

# Absolute value of a kernel SNMP counter inside the server's namespace.
kcount() { ip netns exec "$NS" nstat -az "$1" | awk -v k="$1" '$1 == k { print $2 }'; }
j() { jq -r "$1" "$TMP/r.json"; }

# Run stampede with the test bed's network options; JSON report in $TMP/r.json.
run_sp() { # run_sp SUBCOMMAND args...
	local sub=$1; shift
	"$STAMPEDE" "$sub" "${NET_OPTS[@]}" --json "$TMP/r.json" "$@" >"$TMP/out.txt" 2>"$TMP/err.txt"
	RC=$?
	if [ ! -s "$TMP/r.json" ]; then
		echo "stampede wrote no report (exit $RC):" >&2
		cat "$TMP/out.txt" "$TMP/err.txt" >&2
	fi
	return 0
}

# Pools back to zero and nothing allocated on the hot path, after every run.
check_pools() {
	check "connection pool back to zero" eq "$(j .pools.conns_in_use)" 0
	check "chunk pool back to zero" eq "$(j .pools.chunks_in_use)" 0
	check "no allocation after start-up" eq "$(j .allocs_after_start)" 0
}

finish() {
	echo "$((CHECKS - FAILS)) of $CHECKS checks passed"
	[ "$FAILS" -eq 0 ]
	exit $?
}
