# Shared helpers for the integration tests: they run against the test bed
# (tools/testbed up) as root. Each test counts its own failed checks and exits
# non-zero if any failed; kernel counters in the server's namespace are the
# independent witness of what stampede reports.
set -u
: "${STAMPEDE:?STAMPEDE must point at the stampede binary}"
# kernel_blind / kernel_unblind, for tests with a veth end of their own.
. "$(dirname "${BASH_SOURCE[0]}")/../../tools/kernel-blind.sh"
NS=sp-srv
SRV=198.18.0.2
NET_OPTS=(--port af_packet:sp-gen0 --ip 198.18.0.1 --gateway "$SRV")
TMP=$(mktemp -d /tmp/sp-it.XXXXXX)
FAILS=0
CHECKS=0
NFT_TABLES=()
MOUNTS=()
CLEANUPS=()
cleanup() {
	local t
	for t in "${CLEANUPS[@]}"; do eval "$t" || true; done
	for t in "${NFT_TABLES[@]}"; do
		ip netns exec "$NS" nft delete table inet "$t" 2>/dev/null || true
	done
	for t in "${MOUNTS[@]}"; do umount "$t" 2>/dev/null || true; done
	rm -rf "$TMP"
}
trap cleanup EXIT

# Tests make what they need inside $TMP and leave nothing outside it.
# full_fs DIR: a tiny tmpfs mounted on DIR (in $TMP), filled up: a file
# can be created there, not written (what /dev/full is, without assuming
# the machine has one). Unmounted at exit.
full_fs() {
	mkdir -p "$1"
	mount -t tmpfs -o size=16k,nr_inodes=64 sp-it-full "$1" || return 1
	MOUNTS+=("$1")
	yes 0123456789abcdef | head -c 1048576 >"$1/.fill" 2>/dev/null
	return 0
}
# bytes N CHAR: N bytes of CHAR on stdout (no /dev/zero needed).
bytes() { printf "%${1}s" '' | tr ' ' "$2"; }

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

# stop_pid PID [STEPS]: a process this test started, stopped as Ctrl-C
# would (so it still reports), then killed if it has not ended within
# STEPS x 0.1 s (50); reaped either way. No PID: nothing to do.
stop_pid() {
	[ -n "${1:-}" ] || return 0
	kill -INT "$1" 2>/dev/null
	for _ in $(seq "${2:-50}"); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

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

# nft_table NAME < rules: an nftables table in the server's namespace (its
# packet counters are a witness of their own), deleted when the test exits.
nft_table() {
	ip netns exec "$NS" nft delete table inet "$1" 2>/dev/null || true
	NFT_TABLES+=("$1")
	{ echo "table inet $1 {"; cat; echo "}"; } | ip netns exec "$NS" nft -f -
}
# Packets counted by every rule of table NAME.
nft_packets() {
	ip netns exec "$NS" nft -j list table inet "$1" |
		jq '[.nftables[] | .rule? // empty | .expr[] | .counter? // empty | .packets] | add'
}

# No RST crossed the wire either way since the kernel counters were sampled
# with kernel_rst_mark: the kernel's word and stampede's.
kernel_rst_mark() { RSTS0=$(kcount TcpOutRsts); ERES0=$(kcount TcpEstabResets); }
check_no_rst() {
	check "kernel sent no RST" eq $(($(kcount TcpOutRsts) - RSTS0)) 0
	check "kernel saw no established reset" eq $(($(kcount TcpEstabResets) - ERES0)) 0
	check "stampede received no RST" eq "$(j .tcp.rst_rx)" 0
	check "stampede sent no RST" eq "$(j .tcp.rst_tx)" 0
}

# check_core_lines WHAT AWK_FIELDS JQ_FIELDS: each core's line of the
# summary ($TMP/out.txt; awk fields such as '$4, $6') says what its
# cores[] entry of the JSON report does (jq paths such as '.ok, .started').
check_core_lines() {
	local c n
	n=$(j '.cores | length')
	for ((c = 0; c < n; c++)); do
		check "$1: the summary's core $c line" eq \
			"$(awk -v c="$c" '$1 == "core" && $2 == c { print '"$2"' }' "$TMP/out.txt")" \
			"$(j ".cores[$c] | [$3] | map(tostring) | join(\" \")")"
	done
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

# --- HTTP: nginx's access log and sp-httpsrv's response log are the
# witnesses. Both are appended to; a test notes the line count before its
# run (log_mark) and reads what came after (log_since).
ACCESS_LOG=/run/stampede-testbed/access.log
HTTPSRV_LOG=/run/stampede-testbed/httpsrv.log
log_mark() { wc -l <"$1"; }
log_since() { tail -n +"$(($2 + 1))" "$1"; }
# nginx's log line: addr port "request" status bytes "host" "user-agent".
# nginx_base strips the two quoted fields at the end (nginx escapes a quote
# inside them as \x22), so that status and bytes are $(NF - 1) and $NF
# whatever the request line held.
nginx_base() { sed -E 's/ "[^"]*" "[^"]*"$//'; }
# Lines of nginx's log since MARK with status CODE from our address.
nginx_count() { # nginx_count MARK CODE [PATH [CLIENT]]
	log_since "$ACCESS_LOG" "$1" | nginx_base |
		awk -v c="$2" -v p="${3:-}" -v ip="${4:-198.18.0.1}" '$1 == ip && $(NF - 1) == c &&
			(p == "" || $4 == p) { n++ } END { print n + 0 }'
}
# The Host and User-Agent nginx logged, one "host|agent" line per request
# since MARK from our address.
nginx_host_ua() { # nginx_host_ua MARK [CLIENT]
	log_since "$ACCESS_LOG" "$1" |
		awk -v ip="${2:-198.18.0.1}" -F'"' '{ split($1, a, " ") }
			a[1] == ip { print $(NF - 3) "|" $(NF - 1) }'
}
# Every request started is accounted for: answered, failed without an
# answer, or in flight at the end (a response failing a check or with an
# unexpected status is counted in both responses and errors).
check_http_accounting() {
	local req resp err chk st intr
	req=$(j .summary.requests)
	resp=$(j .summary.responses)
	err=$(j .summary.errors)
	chk=$(j .summary.errors_by_kind.check_failed)
	st=$(j .summary.errors_by_kind.http_status)
	intr=$(j .summary.interrupted)
	check "requests = responses + failed without response + interrupted" \
		eq "$req" $((resp + err - chk - st + intr))
	check "succeeded = responses - check_failed - http_status" \
		eq "$(j .summary.succeeded)" $((resp - chk - st))
	check "iterations started = completed + failed + interrupted" \
		eq "$(j .summary.iterations.started)" \
		$(($(j .summary.iterations.completed) + $(j .summary.iterations.failed) + $(j .summary.iterations.interrupted)))
}
# A small YAML scenario in $TMP: scenario NAME < text
scenario() { cat >"$TMP/$1.yaml"; }
