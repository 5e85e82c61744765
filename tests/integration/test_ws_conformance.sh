#!/usr/bin/env bash
# RFC 6455 conformance of stampede's WebSocket client: the client-side
# cases of the Autobahn|Testsuite (framing, pings and pongs, reserved bits,
# opcodes, fragmentation, UTF-8, close handling, limits), each played by
# sp-wssrv's /ab/CASE script (tools/wssrv_ab.h) to a `ws:` block of a
# `stampede run`, one block per case, named by its Autobahn number.
# docs/ws-conformance.md has the table: what the server does, what RFC 6455
# requires of the client, how it is checked here.
#
# Each case is judged twice, by independent witnesses:
#   - sp-wssrv's log, per case (its path /ab/CASE): the close code we sent
#     (1000, 1002 protocol error, 1007 invalid payload, 1009 too big, the
#     server's own code echoed, none), our "ok" (sent once the case's
#     messages were taken whole by an expect, so only then), the pongs we
#     sent with their payloads in order (none where there must be none),
#     no frame of ours the server found wrong (an error line: unmasked,
#     RSV, after our close, ...), for the fail-fast cases how far the
#     script got before our close stopped it;
#   - the run's report: sessions completed and failed by kind, summed over
#     the cases of the run as the table says, messages and payload bytes
#     received (the bytes the server logged for the cases that deliver
#     everything, the table's for the others), matched and unmatched.
# Five runs, one VU each running every case of its category in order once
# (an open model with one arrival).
. "$(dirname "$0")/lib.sh"

[ -e "$WSSRV_LOG" ] || {
	echo "test bed without sp-wssrv: tools/testbed down; tools/testbed up" >&2
	exit 1
}

# The table. One line per case:
#   CASE STEPS CLOSE KIND MSGS BYTES [REGEX]
# STEPS: what the ws: block does
#   d   expect MSGS messages (matching REGEX if given), send "ok", close 1000
#   f   listen 3 s, close 1000 (a client that does not fail closes 1000)
#   df  as d, then listen 3 s and close 1000 (it must fail meanwhile)
#   c   listen 3 s, close 1000 (the server closes first)
# CLOSE: the close code sp-wssrv must log from us (none: an empty close)
# KIND: ok (the session completes) or the failure kind of the report
# MSGS, BYTES: data messages (and payload bytes) the client receives
#   whole; BYTES "-": the payload bytes the server logged for the case
#   (cases that deliver all they send)
CASES_A=$(
	cat <<'EOF'
1.1.1 d 1000 ok 1 - ^$
1.1.2 d 1000 ok 1 - ^\*{125}$
1.1.3 d 1000 ok 1 - ^\*{126}$
1.1.4 d 1000 ok 1 - ^\*{127}$
1.1.5 d 1000 ok 1 - ^\*{128}$
1.1.6 d 1000 ok 1 -
1.1.7 d 1000 ok 1 -
1.1.8 d 1000 ok 1 -
1.2.1 d 1000 ok 1 -
1.2.2 d 1000 ok 1 -
1.2.3 d 1000 ok 1 -
1.2.4 d 1000 ok 1 -
1.2.5 d 1000 ok 1 -
1.2.6 d 1000 ok 1 -
1.2.7 d 1000 ok 1 -
1.2.8 d 1000 ok 1 -
2.1 d 1000 ok 1 - ^done$
2.2 d 1000 ok 1 - ^done$
2.3 d 1000 ok 1 - ^done$
2.4 d 1000 ok 1 - ^done$
2.5 f 1002 ws_protocol 0 0
2.6 d 1000 ok 1 - ^done$
2.7 d 1000 ok 1 - ^done$
2.8 d 1000 ok 1 - ^done$
2.9 d 1000 ok 1 - ^done$
2.10 d 1000 ok 1 - ^done$
2.11 d 1000 ok 1 - ^done$
3.1 f 1002 ws_protocol 0 0
3.2 df 1002 ws_protocol 1 13 ^Hello, world!$
3.3 df 1002 ws_protocol 1 13 ^Hello, world!$
3.4 df 1002 ws_protocol 1 13 ^Hello, world!$
3.5 f 1002 ws_protocol 0 0
3.6 f 1002 ws_protocol 0 0
3.7 f 1002 ws_protocol 0 0
4.1.1 f 1002 ws_protocol 0 0
4.1.2 f 1002 ws_protocol 0 0
4.1.3 df 1002 ws_protocol 1 13 ^Hello, world!$
4.1.4 df 1002 ws_protocol 1 13 ^Hello, world!$
4.1.5 df 1002 ws_protocol 1 13 ^Hello, world!$
4.2.1 f 1002 ws_protocol 0 0
4.2.2 f 1002 ws_protocol 0 0
4.2.3 df 1002 ws_protocol 1 13 ^Hello, world!$
4.2.4 df 1002 ws_protocol 1 13 ^Hello, world!$
4.2.5 df 1002 ws_protocol 1 13 ^Hello, world!$
5.1 f 1002 ws_protocol 0 0
5.2 f 1002 ws_protocol 0 0
5.3 d 1000 ok 1 - ^fragment1fragment2$
5.4 d 1000 ok 1 - ^fragment1fragment2$
5.5 d 1000 ok 1 - ^fragment1fragment2$
5.6 d 1000 ok 1 - ^fragment1fragment2$
5.7 d 1000 ok 1 - ^fragment1fragment2$
5.8 d 1000 ok 1 - ^fragment1fragment2$
5.9 f 1002 ws_protocol 0 0
5.10 f 1002 ws_protocol 0 0
5.11 f 1002 ws_protocol 0 0
5.12 f 1002 ws_protocol 0 0
5.13 f 1002 ws_protocol 0 0
5.14 f 1002 ws_protocol 0 0
5.15 df 1002 ws_protocol 1 18 ^fragment1fragment2$
5.16 f 1002 ws_protocol 0 0
5.17 f 1002 ws_protocol 0 0
5.18 f 1002 ws_protocol 0 0
5.19 d 1000 ok 1 - ^fragment1fragment2fragment3fragment4fragment5$
5.20 d 1000 ok 1 - ^fragment1fragment2fragment3fragment4fragment5$
EOF
)
# The pongs each case must get from us, payloads in hex in order ("-": an
# empty one); every other case must get none.
PONGS=$(
	cat <<EOF
2.1 -
2.2 $(printf 'Hello, world!' | od -An -tx1 | tr -d ' \n')
2.3 00fffefdfcfb00ff
2.4 $(printf 'fe%.0s' $(seq 125))
2.6 $(printf 'fe%.0s' $(seq 125))
2.9 $(printf 'ping payload' | od -An -tx1 | tr -d ' \n')
2.10 $(for i in $(seq 0 9); do printf 'payload-%s' "$i" | od -An -tx1 | tr -d ' \n'; echo -n ' '; done)
2.11 $(for i in $(seq 0 9); do printf 'payload-%s' "$i" | od -An -tx1 | tr -d ' \n'; echo -n ' '; done)
5.6 $(printf 'ping payload' | od -An -tx1 | tr -d ' \n')
5.7 $(printf 'ping payload' | od -An -tx1 | tr -d ' \n')
5.8 $(printf 'ping payload' | od -An -tx1 | tr -d ' \n')
5.19 $(printf 'pongme 1!' | od -An -tx1 | tr -d ' \n') $(printf 'pongme 2!' | od -An -tx1 | tr -d ' \n')
5.20 $(printf 'pongme 1!' | od -An -tx1 | tr -d ' \n') $(printf 'pongme 2!' | od -An -tx1 | tr -d ' \n')
EOF
)
# Fail fast (6.4.x): the script lines sp-wssrv got out before our close
# stopped it (its pieces come 500 ms apart; the bad byte is in the 2nd).
FASTFAIL="6.4.1 6.4.2 6.4.3 6.4.4"

# 6.5-6.23: Kuhn's UTF-8 sequences as Autobahn groups them, V valid, I
# invalid, in order (group 6.5 first); each case also with "-f", the same
# payload in one-byte fragments, so that every bad byte arrives in a
# fragment of its own and every multi-byte character is split.
UTF8_GROUPS="VVVVV IVIIVIVIVIV VVVV II VVVV III VVVVI IIIIIIII IIIII
IIIIIIIIII I III IIIII IIIII IIIII IIIIIII IIIIIIII
VVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVV VVVVVVV"
CASES_B=$(
	cat <<'EOF'
6.1.1 d 1000 ok 1 - ^$
6.1.2 d 1000 ok 1 - ^$
6.1.3 d 1000 ok 1 - ^middle frame payload$
6.2.1 d 1000 ok 1 -
6.2.2 d 1000 ok 1 -
6.2.3 d 1000 ok 1 -
6.2.4 d 1000 ok 1 -
6.3.1 f 1007 ws_utf8 0 0
6.3.2 f 1007 ws_utf8 0 0
6.4.1 f 1007 ws_utf8 0 0
6.4.2 f 1007 ws_utf8 0 0
6.4.3 f 1007 ws_utf8 0 0
6.4.4 f 1007 ws_utf8 0 0
EOF
	g=5
	for vs in $UTF8_GROUPS; do
		for ((i = 1; i <= ${#vs}; i++)); do
			for sfx in "" -f; do
				if [ "${vs:i-1:1}" = V ]; then
					echo "6.$g.$i$sfx d 1000 ok 1 -"
				else
					echo "6.$g.$i$sfx f 1007 ws_utf8 0 0"
				fi
			done
		done
		g=$((g + 1))
	done
)
CASES_C=$(
	cat <<'EOF'
7.1.1 c 1000 ok 1 12
7.1.2 c 1000 ok 0 0
7.1.3 c 1000 ok 0 0
7.1.4 c 1000 ok 0 0
7.1.5 c 1000 ok 0 0
7.1.6 c 1000 ok 1 262144
7.3.1 c none ok 0 0
7.3.2 c 1002 ws_protocol 0 0
7.3.3 c 1000 ok 0 0
7.3.4 c 1000 ok 0 0
7.3.5 c 1000 ok 0 0
7.3.6 c 1002 ws_protocol 0 0
7.5.1 c 1007 ws_utf8 0 0
7.7.1 c 1000 ok 0 0
7.7.2 c 1001 ok 0 0
7.7.3 c 1002 ok 0 0
7.7.4 c 1003 ok 0 0
7.7.5 c 1007 ok 0 0
7.7.6 c 1008 ok 0 0
7.7.7 c 1009 ok 0 0
7.7.8 c 1010 ok 0 0
7.7.9 c 1011 ok 0 0
7.7.10 c 3000 ok 0 0
7.7.11 c 3999 ok 0 0
7.7.12 c 4000 ok 0 0
7.7.13 c 4999 ok 0 0
7.9.1 c 1002 ws_protocol 0 0
7.9.2 c 1002 ws_protocol 0 0
7.9.3 c 1002 ws_protocol 0 0
7.9.4 c 1002 ws_protocol 0 0
7.9.5 c 1002 ws_protocol 0 0
7.9.6 c 1002 ws_protocol 0 0
7.9.7 c 1002 ws_protocol 0 0
7.9.8 c 1002 ws_protocol 0 0
7.9.9 c 1002 ws_protocol 0 0
7.13.1 c 1002 ws_protocol 0 0
7.13.2 c 1002 ws_protocol 0 0
EOF
)
# 9.x with ws.max_message raised to 16 MiB (the largest case).
CASES_D=$(
	for g in 1 2; do for i in 1 2 3 4 5 6; do echo "9.$g.$i d 1000 ok 1 -"; done; done
	for g in 3 4; do for i in $(seq 9); do echo "9.$g.$i d 1000 ok 1 -"; done; done
	for g in 7 8; do for i in $(seq 6); do echo "9.$g.$i d 1000 ok 1000 -"; done; done
)
# The default ws.max_message (1 MiB): exactly 1 MiB passes, more fails
# with 1009, judged from a frame's header (one frame of 4 MiB) or from the
# fragments so far (4 MiB in 64-byte fragments).
CASES_E=$(
	cat <<'EOF'
9.1.3 d 1000 ok 1 -
9.2.3 d 1000 ok 1 -
9.1.4 f 1009 ws_too_big 0 0
9.2.4 f 1009 ws_too_big 0 0
9.3.1 f 1009 ws_too_big 0 0
9.4.9 f 1009 ws_too_big 0 0
EOF
)

# block CASE STEPS MSGS REGEX: the ws: block of a case.
block() {
	local re=""
	[ -z "$4" ] || re=", regex: '$4'"
	printf '      - ws:\n          path: /ab/%s\n          name: "%s"\n          steps:\n' "$1" "$1"
	case $2 in
	d | df)
		printf '            - expect: { count: %s, timeout: 5s%s }\n' "$3" "$re"
		printf '            - send: { text: ok }\n'
		;;
	esac
	case $2 in
	f | df | c) printf '            - listen: 3s\n' ;;
	esac
	printf '            - close: { code: 1000 }\n'
}

# scenario_of NAME MAX_MESSAGE DURATION < table: one scenario running
# every case of the table once: one arrival (0.05/s) within DURATION.
scenario_of() {
	{
		printf 'target: %s\n' "$WS_URL"
		printf 'ws: { max_message: %s }\n' "$2"
		printf 'load: { model: open, rate: 0.05, max_vus: 1, duration: %s, response_timeout: 5s }\n' "$3"
		printf 'scenarios:\n  - name: %s\n    steps:\n' "$1"
		while read -r c st _ _ msgs _ re; do
			block "$c" "$st" "$msgs" "$re"
		done
	} >"$TMP/$1.yaml"
}

# Server log lines of case CASE since the run's mark, from $TMP/log.
caselog() { awk -v p="/ab/$1" '$2 == p' "$TMP/log"; }

# The pongs each case must get, by case: PONGS's line less its case.
declare -A PONG_WANT=()
while IFS=$'\x1f' read -r c want; do
	PONG_WANT[$c]=$want
done < <(awk 'NF { c = $1; $1 = ""; sub(/^ /, ""); sub(/ +$/, ""); print c "\x1f" $0 }' <<<"$PONGS")

# case_sums: what judge_case reads of each case's lines in $TMP/log, in
# one pass (a few processes per case, for some 400 cases, took 15 s):
# CASE_SUMS[CASE] is, \x1f between: upgrades, our close codes (comma
# separated), our "ok"s, other messages of ours, our pongs' payloads
# (space separated, in order), our pings, the server's errors (comma
# separated), end lines, script pieces out, and the payload bytes of the
# script's data frames.
declare -A CASE_SUMS=()
# A case without a line: no upgrade, nothing from us, not ended.
printf -v NO_SUMS '%s\x1f' 0 '' 0 0 '' 0 '' 0 0 0
case_sums() {
	local c sums
	CASE_SUMS=()
	while IFS=$'\x1f' read -r c sums; do
		CASE_SUMS[$c]=$sums
	done < <(awk '
		substr($2, 1, 4) != "/ab/" { next }
		{ c = substr($2, 5); seen[c] = 1 }
		index($0, " open ") { up[c]++ }
		$3 == "close-recv" { cl[c] = (ncl[c]++ ? cl[c] "," : "") $4 }
		$3 == "recv" && $4 == "text" && $5 == 2 { ok[c]++ }
		$3 == "recv" && ($4 == "text" || $4 == "binary") && $5 != 2 { oth[c]++ }
		$3 == "recv" && $4 == "pong" { pg[c] = (npg[c]++ ? pg[c] " " : "") $6 }
		$3 == "recv" && $4 == "ping" { pi[c]++ }
		$3 == "error" { er[c] = (ner[c]++ ? er[c] "," : "") $4 }
		index($0, " end ") { en[c]++ }
		index($0, " sent-bad script ") { sc[c]++ }
		$3 == "sent-bad" && $4 == "script" &&
			($5 == "text" || $5 == "binary" || $5 == "cont") { by[c] += $6 }
		END {
			S = "\x1f"
			for (c in seen)
				print c S up[c] + 0 S cl[c] S ok[c] + 0 S oth[c] + 0 S pg[c] S \
					pi[c] + 0 S er[c] S en[c] + 0 S sc[c] + 0 S by[c] + 0
		}' "$TMP/log")
}

# judge_case CASE STEPS CLOSE: sp-wssrv's word on one case (case_sums
# read the log); prints what is wrong, returns 1 if anything is.
judge_case() {
	local c=$1 st=$2 close=$3 bad=0 want
	local n closes oks others pongs pings errors ends script
	IFS=$'\x1f' read -r n closes oks others pongs pings errors ends script _ \
		<<<"${CASE_SUMS[$c]:-$NO_SUMS}"
	[ "$n" = 1 ] || { echo "     $c: $n upgrades"; bad=1; }
	[ "$closes" = "$close" ] || { echo "     $c: we closed with '$closes', expected $close"; bad=1; }
	want=0
	case $st in d | df) want=1 ;; esac
	[ "$oks" = "$want" ] || { echo "     $c: 'ok' sent $oks times, expected $want"; bad=1; }
	[ "$others" = 0 ] || { echo "     $c: $others other messages from us"; bad=1; }
	# (As strings: 2.1 and 2.10 are different cases.)
	want=${PONG_WANT[$c]:-}
	[ "$pongs" = "$want" ] || { echo "     $c: pongs '$pongs', expected '$want'"; bad=1; }
	[ "$pings" = 0 ] || { echo "     $c: $pings pings from us"; bad=1; }
	[ -z "$errors" ] || { echo "     $c: the server found our frames wrong: $errors"; bad=1; }
	[ "$ends" -gt 0 ] || { echo "     $c: the connection has not ended"; bad=1; }
	case " $FASTFAIL " in
	*" $c "*)
		[ "$script" = 2 ] || { echo "     $c: $script pieces out before our close, expected 2 (fail fast)"; bad=1; }
		;;
	esac
	[ "$bad" = 0 ] || caselog "$c" | awk '{ print "       " substr($0, 1, 150) }' | head -20
	return "$bad"
}

# run_cases NAME TABLE MAX_MESSAGE DURATION: run and judge.
run_cases() {
	local name=$1 table=$2 mark ncase bad=0 want_b=0 want_m=0 c st close kind msgs bytes
	local -A kinds=()
	ncase=$(wc -l <<<"$table")
	scenario_of "$name" "$3" "$4" <<<"$table"
	mark=$(log_mark "$WSSRV_LOG")
	run_sp run "$TMP/$name.yaml"
	echo "# $name: $ncase cases, exit $RC, $(j .ws.sessions.completed) completed, $(j .ws.sessions.failed) failed, iteration $(j '.scenarios[0].iteration_ms.max') ms, judged at $SECONDS s"
	check "$name: the run ends 0 (no threshold)" eq "$RC" 0
	wssrv_wait_ends "$mark" "$ncase" >/dev/null
	log_since "$WSSRV_LOG" "$mark" >"$TMP/log"
	case_sums
	while read -r c st close kind msgs bytes _; do
		if ! judge_case "$c" "$st" "$close"; then
			bad=$((bad + 1))
			echo "FAIL - $name: case $c"
		fi
		kinds[$kind]=$((${kinds[$kind]:-0} + 1))
		want_m=$((want_m + msgs))
		if [ "$bytes" = - ]; then
			IFS=$'\x1f' read -r _ _ _ _ _ _ _ _ _ bytes _ <<<"${CASE_SUMS[$c]:-$NO_SUMS}"
			bytes=${bytes:-0}
		fi
		want_b=$((want_b + bytes))
	done <<<"$table"
	check "$name: every case by sp-wssrv's log ($bad of $ncase wrong)" eq "$bad" 0
	check "$name: sessions started" eq "$(j .ws.sessions.started)" "$ncase"
	check "$name: sessions completed" eq "$(j .ws.sessions.completed)" "${kinds[ok]:-0}"
	check "$name: none interrupted or open" eq "$(j '.ws.sessions.interrupted + .ws.sessions.open_at_end')" 0
	for kind in ws_protocol ws_utf8 ws_too_big ws_closed_abnormally ws_expect_timeout upgrade_failed; do
		check "$name: failed sessions of kind $kind" eq "$(j ".ws.errors_by_kind.$kind // 0")" "${kinds[$kind]:-0}"
	done
	check "$name: messages received whole" eq "$(j .ws.messages.received)" "$want_m"
	check "$name: payload bytes received" eq "$(j .ws.bytes.received)" "$want_b"
	check "$name: messages sent (one 'ok' per delivering case)" eq "$(j .ws.messages.sent)" \
		"$(awk '$2 == "d" || $2 == "df"' <<<"$table" | wc -l)"
	check "$name: every session was one upgrade, one connection" eq "$(j .summary.requests)" "$ncase"
	check_pools
}

# Durations: at least 2.4 times what the iteration takes here, 3 to 6
# times on a quiet machine (CI: 1.3 s, 2.0 s, 0.01 s, 1.0 s, 0.1 s; with
# other builds on both CPUs: 1.5 s, 2.3 s, 0.04 s, 2.5 s, 0.2 s); a case
# still open at the end shows as an interrupted session, so a client
# that fails late (6.4.x then take 4 s more) fails either way.
run_cases framing "$CASES_A" 1MiB 5s
run_cases utf8 "$CASES_B" 1MiB 6s
run_cases close "$CASES_C" 1MiB 2s
run_cases limits "$CASES_D" 16MiB 6s
run_cases limits-default "$CASES_E" 1MiB 2s

# Our own large messages, echoed by /echo (9.x the other way: the client
# sends): binary of 64 KiB, 256 KiB and 1 MiB (ws.max_message), each sent
# whole as one message whatever its frames, received back whole.
SIZES="65536 262144 1048576"
{
	printf 'target: %s\n' "$WS_URL"
	printf 'load: { model: open, rate: 0.05, max_vus: 1, duration: 4s }\n'
	printf 'scenarios:\n  - name: echo\n    steps:\n'
	for n in $SIZES; do
		printf '      - ws:\n          path: /echo\n          name: "echo-%s"\n' "$n"
		printf '          steps:\n            - send: { binary: { size: %s } }\n' "$n"
		printf '            - expect: { timeout: 5s }\n            - close: { code: 1000 }\n'
	done
} >"$TMP/echo.yaml"
mark=$(log_mark "$WSSRV_LOG")
run_sp run "$TMP/echo.yaml"
wssrv_wait_ends "$mark" 3 /echo >/dev/null
total=0
for n in $SIZES; do
	check "echo: sp-wssrv received our $n-byte message whole, once" \
		eq "$(wssrv_count "$mark" /echo recv binary "$n" '*')" 1
	check "echo: and sent it back" eq "$(wssrv_count "$mark" /echo sent binary "$n" 1)" 1
	total=$((total + n))
done
check "echo: every session completed" eq "$(j .ws.sessions.completed)" 3
check "echo: closed 1000 each" eq "$(wssrv_count "$mark" /echo close-recv 1000)" 3
check "echo: the server found nothing wrong" eq "$(wssrv_count "$mark" /echo error '*')" 0
check "echo: bytes sent" eq "$(j .ws.bytes.sent)" "$total"
check "echo: bytes received" eq "$(j .ws.bytes.received)" "$total"
check "echo: messages matched" eq "$(j .ws.messages.matched)" 3
check_pools
finish
