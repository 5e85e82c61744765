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
# within A B PCT: |A - B| <= PCT % of B (A, B may be decimals).
within() {
	awk -v a="$1" -v b="$2" -v p="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= b * p / 100) }' || {
		echo "     $1 is not within $3 % of $2" >&2
		return 1
	}
}
# lt A B: A < B (decimals too).
lt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }' || { echo "     expected < $2, got $1" >&2; return 1; }; }

# Absolute value of a kernel SNMP counter inside the server's namespace.
kcount() { ip netns exec "$NS" nstat -az "$1" | awk -v k="$1" '$1 == k { print $2 }'; }
j() { jq -r "$1" "$TMP/r.json"; }
# jvals VAR=EXPR...: each EXPR of the JSON report into VAR, as j would give
# it (a scalar; "" where the expression fails), with one jq for them all:
# jq 1.6 takes some 30 ms of CPU to start, and the accounting checks
# below, run after most runs of the suite, read up to a dozen figures.
jvals() {
	local _jv_a _jv_prog=
	local -a _jv_names=() _jv_vals=()
	for _jv_a in "$@"; do
		_jv_names+=("${_jv_a%%=*}")
		_jv_prog+="${_jv_prog:+, }(try (${_jv_a#*=} | if type == \"string\" then . else tojson end) catch \"\")"
	done
	# \x1f (not blank) separates them: an empty value stays a field.
	IFS=$'\x1f' read -r -a _jv_vals < <(jq -r "[$_jv_prog] | join(\"\\u001f\")" "$TMP/r.json" 2>/dev/null)
	for _jv_a in "${!_jv_names[@]}"; do
		printf -v "${_jv_names[_jv_a]}" '%s' "${_jv_vals[_jv_a]:-}"
	done
}

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

# blind_veth IF NS: a veth IF whose peer IFp is in NS, IF kernel-blind
# for a DPDK af_packet port, offloads off on both ends (frames as sent),
# both down; removed at exit.
blind_veth() {
	local dev=$1 ns=$2
	ip link add "$dev" type veth peer name "${dev}p" netns "$ns" || return 1
	CLEANUPS+=("ip link del $dev 2>/dev/null; kernel_unblind $dev")
	sysctl -qw "net.ipv6.conf.$dev.disable_ipv6=1"
	kernel_blind "$dev"
	ethtool -K "$dev" rx off tx off tso off gso off gro off >/dev/null 2>&1
	ip netns exec "$ns" ethtool -K "${dev}p" rx off tx off tso off gso off gro off >/dev/null 2>&1
}

# bridge_ns NS KERNEL_CIDR IF...: a namespace of the test's own (not the
# test bed's) with a bridge br0; each IF is a veth whose other end is on
# the bridge, our end kernel-blind for a DPDK af_packet port; the
# namespace's kernel sits on the bridge at KERNEL_CIDR (none if empty).
# Leftovers of an earlier run are removed by name first; all of it is
# removed at exit.
bridge_ns() {
	local ns=$1 kcidr=$2 dev
	shift 2
	for dev in "$@"; do ip link del "$dev" 2>/dev/null; done
	ip netns del "$ns" 2>/dev/null
	ip netns add "$ns" || return 1
	CLEANUPS+=("ip netns del $ns 2>/dev/null")
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1
	ip netns exec "$ns" ip link set lo up
	ip netns exec "$ns" ip link add br0 type bridge stp_state 0 forward_delay 0 || return 1
	for dev in "$@"; do
		blind_veth "$dev" "$ns" || return 1
		ip netns exec "$ns" ip link set "${dev}p" master br0
		ip netns exec "$ns" ip link set "${dev}p" up
		ip link set "$dev" up
	done
	[ -z "$kcidr" ] || ip netns exec "$ns" ip addr add "$kcidr" dev br0
	ip netns exec "$ns" ip link set br0 up
}

# The first and the last CPU this test may use: a server and a client that
# both busy-poll go on different ones (on one, they take turns by the
# scheduler's slices, and a full TLS handshake stalls the other's loop).
FIRST_CPU=$(taskset -pc $$ | sed 's/.*: //' | tr ',' '\n' | sed 's/-.*//' | head -1)
LAST_CPU=$(taskset -pc $$ | sed 's/.*: //' | tr ',' '\n' | sed 's/.*-//' | tail -1)

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
	local conns chunks allocs
	jvals conns=.pools.conns_in_use chunks=.pools.chunks_in_use allocs=.allocs_after_start
	check "connection pool back to zero" eq "$conns" 0
	check "chunk pool back to zero" eq "$chunks" 0
	check "no allocation after start-up" eq "$allocs" 0
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
	local req resp err chk st cap intr ok started compl failed cut
	jvals req=.summary.requests resp=.summary.responses err=.summary.errors \
		chk=.summary.errors_by_kind.check_failed \
		st=.summary.errors_by_kind.http_status \
		cap=.summary.errors_by_kind.capture_failed \
		intr=.summary.interrupted ok=.summary.succeeded \
		started=.summary.iterations.started \
		compl=.summary.iterations.completed \
		failed=.summary.iterations.failed \
		cut=.summary.iterations.interrupted
	check "requests = responses + failed without response + interrupted" \
		eq "$req" $((resp + err - chk - st - cap + intr))
	check "succeeded = responses - check_failed - http_status - capture_failed" \
		eq "$ok" $((resp - chk - st - cap))
	check "iterations started = completed + failed + interrupted" \
		eq "$started" $((compl + failed + cut))
}
# A small YAML scenario in $TMP: scenario NAME < text
scenario() { cat >"$TMP/$1.yaml"; }

# --- HTTPS: tools/testbed's TLS parts (its header lists them). The names
# resolve only through --resolve: run_sp run --url "$(tls_url 443 /1k)"
# "${TLS_RESOLVE[@]}" --tls-ca "$TLS_CA".
TLS_DIR=/run/stampede-testbed/tls
TLS_CA=$TLS_DIR/ca.crt              # the test CA, signs all but unknownca
TLS_OTHER_CA=$TLS_DIR/other-ca.crt  # the CA no client is given
TLS_CLIENT_CERT=$TLS_DIR/client.crt # CN stampede-client, from the test CA
TLS_CLIENT_KEY=$TLS_DIR/client.key
TLS_NAME=app.stampede.test          # the good certificates' name (and *.)
TLS_WRONG_NAME=wrong.example.test   # the wrong-name certificate's only name
TLS_RESOLVE=(--resolve "$TLS_NAME:$SRV")
# nginx: TLS 1.2 and 1.3 unless said otherwise
TLS_PORT=443               # ECDSA P-256
TLS_RSA_PORT=8443          # RSA-2048
TLS_EXPIRED_PORT=8444      # expired in 2020
TLS_WRONGNAME_PORT=8445    # for $TLS_WRONG_NAME
TLS_UNKNOWNCA_PORT=8446    # signed by $TLS_OTHER_CA
TLS13_PORT=8447            # TLS 1.3 only
TLS_CLIENTCERT_PORT=8448   # ssl_verify_client on: 400 without a certificate
# sp-tlssrv (tools/sp-tlssrv.py), one mode each
TLSSRV_GARBAGE_PORT=8450   # bytes that are no TLS record, connection held
TLSSRV_ALERT_PORT=8451     # fatal handshake_failure alert, then FIN
TLSSRV_TRUNCATED_PORT=8452 # 16 bytes of a 64-byte record, then FIN
TLSSRV_STALL_PORT=8453     # nothing, connection held
TLSSRV_CLOSE_PORT=8454     # FIN at once
TLSSRV_NEEDCERT_PORT=8455  # real handshake that fails without a client cert
TLS_ACCESS_LOG=/run/stampede-testbed/tls_access.log
TLSSRV_LOG=/run/stampede-testbed/tlssrv.log
# bed_tls_ca: the test CA's file, or a message and failure if the bed up
# is one without TLS (brought up by an older tools/testbed).
bed_tls_ca() {
	[ -s "$TLS_CA" ] || {
		echo "test bed without TLS: tools/testbed down; tools/testbed up" >&2
		return 1
	}
	echo "$TLS_CA"
}
# The TLS engine a TLS test drives: meson runs each of them twice, the
# second time with SP_TLS_ENGINE=openssl (it_https_openssl, ...). Every
# TLS run and serve of the test takes TLS_ENGINE; TLS_OTHER_ENGINE is the
# other one (the cross checks, the command line over the file).
SP_TLS_ENGINE=${SP_TLS_ENGINE:-mbedtls}
case $SP_TLS_ENGINE in
mbedtls) TLS_OTHER_ENGINE=openssl ;;
openssl) TLS_OTHER_ENGINE=mbedtls ;;
*) echo "SP_TLS_ENGINE=$SP_TLS_ENGINE: not mbedtls or openssl" >&2; exit 1 ;;
esac
TLS_ENGINE=(--tls-engine "$SP_TLS_ENGINE")
# check_tls_engine WHAT [ENGINE [REPORT [SUMMARY]]]: the JSON report and
# the summary (r.json, out.txt by default) name ENGINE (SP_TLS_ENGINE),
# and give its bytes per connection, busy and idle: mbedTLS keeps its
# record buffers (the same), OpenSSL gives them back while idle (fewer).
check_tls_engine() {
	local e=${2:-$SP_TLS_ENGINE} f=${3:-$TMP/r.json} s=${4:-$TMP/out.txt} busy idle
	check "$1: the report names the engine, $e" eq "$(jq -r .tls.engine "$f")" "$e"
	check "$1: ... and so does the summary" eq "$(grep -c "^  tls  *$e, TLS 1.2" "$s")" 1
	busy=$(jq -r .tls.bytes_per_connection "$f")
	idle=$(jq -r .tls.bytes_per_idle_connection "$f")
	check "$1: bytes per established connection reported" ge "$busy" 1024
	if [ "$e" = mbedtls ]; then
		check "$1: mbedtls: an idle connection holds its buffers" eq "$idle" "$busy"
	else
		check "$1: openssl: an idle connection holds less" lt "$idle" "$busy"
		check "$1: ... but something" ge "$idle" 1
	fi
	check "$1: the summary's bytes line has both" \
		eq "$(grep -c "^  tls bytes .* per connection $busy, idle $idle" "$s")" 1
}
# tls_url PORT [PATH]: https://app.stampede.test[:PORT]PATH (443 left out).
tls_url() {
	if [ "$1" = 443 ]; then echo "https://$TLS_NAME${2:-/}"
	else echo "https://$TLS_NAME:$1${2:-/}"; fi
}
# nginx's HTTPS log line is the HTTP one followed by five unquoted fields:
#   ... "host" "user-agent" PORT SNI REUSED PROTOCOL HOST
# (REUSED r or ., "-" for an empty value). nginx_tls_base strips those
# five, so nginx_base and the HTTP parsers apply as they are.
nginx_tls_base() { sed -E 's/( [^ ]+){5}$//' | nginx_base; }
# Lines of the HTTPS log since MARK with status CODE from CLIENT (our
# address by default), optionally on PORT and for PATH.
nginx_tls_count() { # nginx_tls_count MARK CODE [PATH [CLIENT [PORT]]]
	log_since "$TLS_ACCESS_LOG" "$1" |
		awk -v port="${5:-}" 'port == "" || $(NF - 4) == port' |
		nginx_tls_base |
		awk -v c="$2" -v p="${3:-}" -v ip="${4:-198.18.0.1}" '$1 == ip && $(NF - 1) == c &&
			(p == "" || $4 == p) { n++ } END { print n + 0 }'
}
# The TLS fields of each HTTPS request since MARK from CLIENT, one line
# each: "PORT SNI REUSED PROTOCOL HOST". Count with grep -c / awk.
nginx_tls_fields() { # nginx_tls_fields MARK [CLIENT]
	log_since "$TLS_ACCESS_LOG" "$1" |
		awk -v ip="${2:-198.18.0.1}" '$1 == ip { print $(NF - 4), $(NF - 3), $(NF - 2), $(NF - 1), $NF }'
}
# Requests over resumed sessions since MARK from CLIENT (REUSED = r).
nginx_tls_reused() { # nginx_tls_reused MARK [CLIENT]
	nginx_tls_fields "$@" | awk '$3 == "r" { n++ } END { print n + 0 }'
}
# sp-tlssrv writes one line per connection when the connection ends:
#   port=P mode=M peer=A:P hello=0|1 sni=S read=N sent=N end=E tls=T
# tlssrv_wait MARK N: wait (5 s at most) until N lines follow MARK.
tlssrv_wait() {
	for _ in $(seq 50); do
		[ "$(($(log_mark "$TLSSRV_LOG") - $1))" -ge "$2" ] && return 0
		sleep 0.1
	done
	echo "     sp-tlssrv logged $(($(log_mark "$TLSSRV_LOG") - $1)) of $2 connections" >&2
	return 1
}
# tlssrv_count MARK MODE [KEY=VALUE...]: connections in MODE since MARK
# whose line has every KEY=VALUE given (peer=198.18.0.1:* is not a glob:
# use peer_ip=ADDR for the address alone).
tlssrv_count() {
	local mark=$1 mode=$2
	shift 2
	log_since "$TLSSRV_LOG" "$mark" | awk -v mode="$mode" -v want="$*" '
		{ delete f
		  for (i = 1; i <= NF; i++) { k = $i; sub(/=.*/, "", k); v = $i; sub(/^[^=]*=/, "", v); f[k] = v }
		  ip = f["peer"]; sub(/:[0-9]+$/, "", ip); f["peer_ip"] = ip
		  if (f["mode"] != mode) next
		  n = split(want, w, " ")
		  for (i = 1; i <= n; i++) { k = w[i]; sub(/=.*/, "", k); v = w[i]; sub(/^[^=]*=/, "", v); if (f[k] != v) next }
		  c++ }
		END { print c + 0 }'
}
# tlssrv_field MARK MODE KEY: KEY's value on each MODE line since MARK.
tlssrv_field() {
	log_since "$TLSSRV_LOG" "$1" | awk -v mode="mode=$2" -v key="$3=" '
		$2 == mode { for (i = 1; i <= NF; i++) if (index($i, key) == 1) print substr($i, length(key) + 1) }'
}

# --- WebSocket: sp-wssrv (tools/sp-wssrv.c, whose header lists the
# endpoints and the log format) on $SRV:$WSSRV_PORT, and through nginx's
# TLS on 443 as wss://app.stampede.test/ws/PATH ($WSS_URL/PATH, with
# TLS_RESOLVE and TLS_CA). Its log has one line per event, written as it
# happens:  ID PATH EVENT ARGS...  (ID: the connection's number, from 1;
# PATH: its request path without the query, "-" before the first request);
# every connection's first line is "ID - accept PEER", its last "ID PATH
# end REASON key=value...". IDs start from 1 again if sp-wssrv is
# restarted on the same log: whatever reads one connection by ID reads
# from that ID's last accept line on.
WSSRV_PORT=8090
WSSRV_LOG=/run/stampede-testbed/wssrv.log
WS_URL=ws://$SRV:$WSSRV_PORT
WSS_URL=wss://$TLS_NAME/ws
# wssrv_id PEER: the ID of the last connection accepted from PEER
# (ADDR:PORT), or nothing.
wssrv_id() {
	awk -v p="$1" '$3 == "accept" && $4 == p { id = $1 } END { print id }' "$WSSRV_LOG"
}
# The awk filter behind the counts: lines whose EVENT is $3 and whose
# following fields are the ARGs given (a '*' ARG matches anything).
WSSRV_AWK='{ if (path != "" && $2 != path) next
	     if (id != "" && $1 != id) next
	     if (id != "" && $3 == "accept") c = 0
	     if ($3 != ev) next
	     n = split(args, a, " ")
	     for (i = 1; i <= n; i++) if (a[i] != "*" && $(3 + i) != a[i]) next
	     c++ }
	   END { print c + 0 }'
# wssrv_count MARK PATH EVENT [ARG...]: lines since MARK (log_mark) on PATH
# ("" for any) with that event and those arguments.
wssrv_count() {
	local mark=$1 path=$2 ev=$3
	shift 3
	log_since "$WSSRV_LOG" "$mark" |
		awk -v path="$path" -v id= -v ev="$ev" -v args="$*" "$WSSRV_AWK"
}
# wssrv_conn_count ID EVENT [ARG...]: the same for connection ID's lines.
wssrv_conn_count() {
	local id=$1 ev=$2
	shift 2
	awk -v path= -v id="$id" -v ev="$ev" -v args="$*" "$WSSRV_AWK" "$WSSRV_LOG"
}
# wssrv_end ID KEY: KEY's value on connection ID's end line (KEY reason:
# the end reason), nothing if it has not ended.
wssrv_end() {
	awk -v id="$1" -v key="$2" '$1 == id && $3 == "accept" { v = "" }
		$1 == id && $3 == "end" {
		if (key == "reason") v = $4
		for (i = 5; i <= NF; i++) if (index($i, key "=") == 1) v = substr($i, length(key) + 2) }
		END { if (v != "") print v }' "$WSSRV_LOG"
}
# wssrv_sum MARK PATH KEY: KEY summed over the end lines since MARK on
# PATH ("" for any).
wssrv_sum() {
	log_since "$WSSRV_LOG" "$1" | awk -v path="$2" -v key="$3" '
		$3 == "end" && (path == "" || $2 == path) {
			for (i = 5; i <= NF; i++) if (index($i, key "=") == 1) s += substr($i, length(key) + 2) }
		END { print s + 0 }'
}
# wssrv_wait_end ID: wait (10 s at most) for connection ID's end line.
wssrv_wait_end() {
	for _ in $(seq 100); do
		[ -n "$(wssrv_end "$1" reason)" ] && return 0
		sleep 0.1
	done
	echo "     sp-wssrv: connection '$1' has not ended" >&2
	return 1
}
# wssrv_wait_ends MARK N [PATH]: wait (10 s at most) until N connections
# (on PATH) have ended since MARK.
wssrv_wait_ends() {
	for _ in $(seq 100); do
		[ "$(wssrv_count "$1" "${3:-}" end)" -ge "$2" ] && return 0
		sleep 0.1
	done
	echo "     sp-wssrv: $(wssrv_count "$1" "${3:-}" end) of $2 connections ended since line $1" >&2
	return 1
}
# The WebSocket report's own identities (docs/report-schema.md's ws
# object): sessions add up, each failed session has exactly one kind, and
# every message received was either taken by an expect or not.
# The server's closes received against our sessions' ends: completed
# sessions closed 1000, interrupted ones 1001, except one the run's end cut
# while its own 1000 waited for the server's answer (interrupted, yet the
# server saw 1000). So: one close a session, 1000s >= completed, 1001s <=
# interrupted.
check_ws_closes() { # check_ws_closes WHAT C1000 C1001 COMPLETED INTERRUPTED
	check "$1: one close a session reached the server" eq "$(($2 + $3))" "$(($4 + $5))"
	check "$1: completed sessions closed 1000" ge "$2" "$4"
	check "$1: only interrupted sessions closed 1001" le "$3" "$5"
}

check_ws_accounting() { # check_ws_accounting [WHAT]
	local w=${1:-ws} started ended failed kinds recv taken open conns chunks
	local tls hs_allocs allocs
	jvals started=.ws.sessions.started \
		ended='.ws.sessions | .completed + .failed + .interrupted + .open_at_end' \
		failed=.ws.sessions.failed kinds='[.ws.errors_by_kind[]] | add' \
		recv=.ws.messages.received taken='.ws.messages | .matched + .unmatched' \
		open=.ws.sessions.open_at_end conns=.pools.conns_in_use \
		chunks=.pools.chunks_in_use tls='.tls != null' \
		hs_allocs=.tls.allocs_after_handshakes allocs=.allocs_after_start
	check "$w: sessions started = completed + failed + interrupted + open at end" \
		eq "$started" "$ended"
	check "$w: failed sessions = the sum of their kinds" eq "$failed" "$kinds"
	check "$w: received = matched + unmatched" eq "$recv" "$taken"
	check "$w: no session open at the end" eq "$open" 0
	check "$w: connection pool back to zero" eq "$conns" 0
	check "$w: chunk pool back to zero" eq "$chunks" 0
	if [ "$tls" = true ]; then
		# mbedTLS allocates in handshakes (counted apart): none after.
		check "$w: no allocation after the TLS handshakes" eq "$hs_allocs" 0
	else
		check "$w: no allocation after start-up" eq "$allocs" 0
	fi
}
# ws_count_line NAME: the count in parentheses at the end of the summary's
# latency line NAME ("ws rtt", "ws connect", "ws session"), 0 if absent.
ws_count_line() {
	awk -v n="$1" 'index($0, "    " n " ") == 1 { c = $NF; gsub(/[()]/, "", c); print c; f = 1 }
		END { if (!f) print 0 }' "$TMP/out.txt"
}

# --- The test app: sp-appsrv (tools/sp-appsrv.c, whose header lists the
# endpoints and the log format) on $SRV:$APPSRV_PORT. Its log has one line
# per answered request, written when the answer is queued:
#   WALL ID METHOD PATH STATUS USER CRED OUTCOME
# (PATH without the query; USER, CRED "-" for none; CRED "s:" or "t:" and 8
# characters of the session or token).
APPSRV_PORT=8000
APPSRV_LOG=/run/stampede-testbed/app.log
APP_URL=http://$SRV:$APPSRV_PORT
# appsrv_log: the log's path (for those that read it whole).
appsrv_log() { echo "$APPSRV_LOG"; }
# need_appsrv: the bed runs sp-appsrv (a bed brought up before it existed
# does not) and curl is there for the test's own requests; else exit 1.
need_appsrv() {
	[ -e "$APPSRV_LOG" ] || {
		echo "test bed without sp-appsrv: tools/testbed down; tools/testbed up" >&2
		exit 1
	}
	command -v curl >/dev/null || {
		echo "curl missing: run tools/install-deps" >&2
		exit 1
	}
}
# appsrv_count MARK METHOD PATH STATUS [OUTCOME [USER]]: lines since MARK
# (log_mark) with those fields ('*' matches any; a PATH ending in '*'
# matches the paths that begin with what is before it).
appsrv_count() {
	log_since "$APPSRV_LOG" "$1" | awk -v m="$2" -v p="$3" -v st="$4" \
		-v oc="${5:-*}" -v u="${6:-*}" '
		function pm(path) {
			if (p == "*") return 1
			if (substr(p, length(p)) == "*")
				return index(path, substr(p, 1, length(p) - 1)) == 1
			return path == p
		}
		(m == "*" || $3 == m) && pm($4) && (st == "*" || $5 == st) &&
		(u == "*" || $6 == u) && (oc == "*" || $8 == oc) { c++ }
		END { print c + 0 }'
}
# appsrv_wait MARK N: wait (10 s at most) until N lines are in since MARK.
appsrv_wait() {
	for _ in $(seq 100); do
		[ "$(log_since "$APPSRV_LOG" "$1" | wc -l)" -ge "$2" ] && return 0
		sleep 0.1
	done
	echo "     sp-appsrv: $(log_since "$APPSRV_LOG" "$1" | wc -l) of $2 lines since line $1" >&2
	return 1
}
# appsrv_probe_id: the id the app gives the next item, learnt by creating
# one (and deleting it) as user itprobe, with curl inside the namespace.
# Ids are one sequence per process: the items a run creates between two
# probes are exactly the ids between them, in the order of the app's POST
# /api/items lines (each is logged when answered, the id given then).
appsrv_probe_id() {
	local c=(ip netns exec "$NS" curl -sS --max-time 10) tok id
	"${c[@]}" -o /dev/null -d 'user=itprobe&password=itprobe' "$APP_URL/register" || return 1
	tok=$("${c[@]}" -d 'user=itprobe&password=itprobe' "$APP_URL/api/token" | jq -r .data.token)
	id=$("${c[@]}" -H "Authorization: Bearer $tok" -d 'title=probe' "$APP_URL/api/items" | jq -r .id)
	"${c[@]}" -o /dev/null -X DELETE -H "Authorization: Bearer $tok" "$APP_URL/api/items/$id"
	echo "$id"
}
# appsrv_lines MARK END: the app's lines after MARK up to END (log_mark
# values), those of one run between two probes.
appsrv_lines() { log_since "$APPSRV_LOG" "$1" | head -n "$(($2 - $1))"; }
# appsrv_items MARK END FIRST_ID: for each item created between the marks
# (ids from FIRST_ID on, in the log's order), "ID OWNER CREATED READS
# DELETES DELETER": its reads (GET 200) and deletes (DELETE 204) by its
# owner, and who deleted it ("-" if nobody).
appsrv_items() {
	appsrv_lines "$1" "$2" | awk -v id="$3" '
		$3 == "POST" && $4 == "/api/items" && $5 == 201 { own[id] = $6; ord[n++] = id; id++; next }
		$4 ~ "^/api/items/[0-9]+$" { i = substr($4, 12)
			if ($3 == "GET" && $5 == 200 && own[i] == $6) rd[i]++
			if ($3 == "DELETE" && $5 == 204) { dl[i]++; by[i] = $6 } }
		END { for (k = 0; k < n; k++) { i = ord[k]
			print i, own[i], 1, rd[i] + 0, dl[i] + 0, (i in by) ? by[i] : "-" } }'
}
# The front (nginx on $SRV:$FRONT_PORT: /ws/PATH to sp-wssrv, the rest to
# sp-appsrv; tools/testbed). Its log, one line per request (at its end,
# a WebSocket's when it closes): ADDR PORT "REQUEST" STATUS UPSTREAM.
FRONT_PORT=8070
FRONT_LOG=/run/stampede-testbed/front_access.log
# front_count MARK UPSTREAM_PORT [STATUS]: our requests since MARK that
# went to that upstream port (with that status).
front_count() {
	log_since "$FRONT_LOG" "$1" | awk -v up="$2" -v st="${3:-}" '
		$1 == "198.18.0.1" && $NF ~ ":" up "$" && (st == "" || $(NF - 1) == st) { n++ }
		END { print n + 0 }'
}

# The bed's servers of designed capacity (sp-httpsrv capacity=SLOTS:US):
# need_capsrv PORT: the bed has that port (a bed brought up by an older
# tools/testbed does not); else exit 1.
need_capsrv() {
	ip netns exec "$NS" ss -Hltn | awk -v a="$SRV:$1" '$4 == a { f = 1 } END { exit !f }' || {
		echo "test bed without sp-httpsrv's capacity port $1: tools/testbed down; tools/testbed up" >&2
		exit 1
	}
}
# cap_lines MARK PORT: the capacity port's log lines since MARK.
cap_lines() { log_since "$HTTPSRV_LOG" "$1" | awk -v p="$2" '$1 == p'; }
