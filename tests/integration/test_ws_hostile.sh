#!/usr/bin/env bash
# stampede run against every hostile endpoint of the test bed's WebSocket
# server (tools/sp-wssrv.c): each misdeed is exactly one failure kind in
# the report, for every session, with the close code RFC 6455 asks for on
# the wire, as the server logged receiving it (its log is the witness):
#  - a 101 with a bad accept, a 200, a 403: ws_handshake (the request's
#    kind), the session failed as upgrade_failed, nothing sent after;
#  - a masked server frame, reserved bits, reserved opcodes, a stray
#    continuation, a new message inside a fragmented one, a 126-byte ping,
#    a fragmented ping, close codes 1005 and 999 and a 1-byte close:
#    ws_protocol, our close 1002;
#  - invalid UTF-8 (one frame, split over two, cut inside a character):
#    ws_utf8, 1007; a message over ws.max_message (one frame, fragments, a
#    header alone): ws_too_big, 1009;
#  - TCP closed without a close frame (FIN, RST): ws_closed_abnormally;
#  - a server that never answers the upgrade: the response timeout, no hang;
#  - legal oddities, no error: a ping flood (every ping answered, the echo
#    after it works), fragments with pings between them and UTF-8 cut
#    inside characters (one message, whole), an unsolicited pong, a text
#    message after the server's close (dropped, as RFC 6455 1.4 and 5.5.1
#    say: after a close frame no data is to follow, and the endpoint that
#    sent it has started closing).
# Each run: its exit code, the sessions' accounting, pools back to zero.
. "$(dirname "$0")/lib.sh"

[ -e "$WSSRV_LOG" ] || { echo "test bed without sp-wssrv: tools/testbed down; tools/testbed up" >&2; exit 1; }
VUS=2

# hrun PATH [stampede options]: VUS VUs, one session each against PATH:
# half a second of listening, a text message and its echo, a close 1000,
# then a think that outlasts the run (so each VU opens one session only).
# The server's log since the run is read from MARK on, once VUS
# connections have ended there.
hrun() {
	local path=$1
	shift
	scenario h <<EOF2
target: $WS_URL
load: { vus: $VUS, duration: 1500ms, response_timeout: 1s }
ws: { max_message: 64KiB }
scenarios:
  - name: h
    steps:
      - ws:
          path: '$path'
          steps:
            - listen: 500ms
            - send: { text: after }
            - expect: { contains: after, timeout: 1s }
            - close: { code: 1000 }
      - think: 60s
EOF2
	MARK=$(log_mark "$WSSRV_LOG")
	run_sp run "$TMP/h.yaml" "$@"
	P=${path%%\?*}
	wssrv_wait_ends "$MARK" "$VUS" "$P" || true
}
# ws_kinds: the failure kinds with a non-zero count, "kind=N" joined by ' '.
ws_kinds() { j '[.ws.errors_by_kind | to_entries[] | select(.value > 0) | "\(.key)=\(.value)"] | join(" ")'; }
req_kinds() { j '[.summary.errors_by_kind | to_entries[] | select(.value > 0) | "\(.key)=\(.value)"] | join(" ")'; }

# failing NAME PATH KIND CODE: every session failed as KIND after a good
# upgrade, and the server received our close CODE on each.
failing() {
	local name=$1 path=$2 kind=$3 code=$4
	hrun "$path" --ws-max-message 64KiB
	check "$name: exit 0 (the upgrades succeeded; no threshold)" eq "$RC" 0
	check "$name: every session failed" eq "$(j '.ws.sessions | "\(.started) \(.completed) \(.failed) \(.interrupted)"')" "$VUS 0 $VUS 0"
	check "$name: one failure kind, $kind, for each" eq "$(ws_kinds)" "$kind=$VUS"
	check "$name: no request failed" eq "$(req_kinds)" ""
	check "$name: the server upgraded each" eq "$(wssrv_count "$MARK" "$P" open '*')" "$VUS"
	if [ "$code" = - ]; then
		check "$name: no close frame reached the server" eq "$(wssrv_count "$MARK" "$P" close-recv '*')" 0
	else
		check "$name: the server received our close $code from each, nothing else" \
			eq "$(wssrv_count "$MARK" "$P" close-recv '*') $(wssrv_count "$MARK" "$P" close-recv "$code")" "$VUS $VUS"
	fi
	check "$name: nothing sent after the failure (server's recv)" eq "$(wssrv_sum "$MARK" "$P" recv)" 0
	check "$name: and we counted nothing sent" eq "$(j .ws.messages.sent)" 0
	check "$name: the server logged no error of ours" eq "$(wssrv_count "$MARK" "$P" error '*')" 0
	check_ws_accounting "$name"
}

# --- the upgrade refused
upgrade_failed() { # NAME PATH HTTP_LINE_ARGS...
	local name=$1 path=$2
	shift 2
	hrun "$path"
	check "$name: exit 1 (nothing succeeded)" eq "$RC" 1
	check "$name: ws_handshake for each upgrade, no other request kind" eq "$(req_kinds)" "ws_handshake=$VUS"
	check "$name: sessions failed as upgrade_failed" eq "$(ws_kinds)" "upgrade_failed=$VUS"
	check "$name: sessions started = failed" eq "$(j '.ws.sessions | "\(.started) \(.failed)"')" "$VUS $VUS"
	check "$name: the server answered each so" eq "$(wssrv_count "$MARK" "$P" http "$@")" "$VUS"
	check "$name: the server upgraded none" eq "$(wssrv_count "$MARK" "$P" open '*')" 0
	check "$name: no frame sent (nothing logged received)" eq "$(wssrv_count "$MARK" "$P" recv '*')$(wssrv_count "$MARK" "$P" close-recv '*')" 00
	check_ws_accounting "$name"
}
upgrade_failed "bad accept" /bad-accept 101 bad-accept
upgrade_failed "200 instead of 101" /no-upgrade 200
# A Cookie naming a user never registered: 403 from the chat room.
scenario h403 <<EOF2
target: $WS_URL
load: { vus: $VUS, duration: 1500ms }
scenarios:
  - name: h
    steps:
      - ws:
          path: /chat/itws-hostile
          headers: { Cookie: "session=itws-nobody-{{vu}}" }
          steps:
            - send: { text: hi }
      - think: 60s
EOF2
MARK=$(log_mark "$WSSRV_LOG")
run_sp run "$TMP/h403.yaml"
P=/chat/itws-hostile
wssrv_wait_ends "$MARK" "$VUS" "$P" || true
check "403: exit 1" eq "$RC" 1
check "403: ws_handshake for each" eq "$(req_kinds)" "ws_handshake=$VUS"
check "403: sessions failed as upgrade_failed" eq "$(ws_kinds)" "upgrade_failed=$VUS"
check "403: the server refused each user by name" \
	eq "$(wssrv_count "$MARK" "$P" http 403) $(log_since "$WSSRV_LOG" "$MARK" | grep -c " $P http 403 user=itws-nobody-[12]\$")" "$VUS $VUS"
check "403: nothing upgraded, nothing sent" eq "$(wssrv_count "$MARK" "$P" open '*') $(j .ws.messages.sent)" "0 0"
check_ws_accounting 403

# --- protocol errors: our close 1002
failing "masked server frame" /masked ws_protocol 1002
failing "RSV1" /rsv ws_protocol 1002
failing "RSV2" '/rsv?bits=2' ws_protocol 1002
failing "RSV3" '/rsv?bits=1' ws_protocol 1002
failing "opcode 3" /opcode ws_protocol 1002
failing "opcode 11" '/opcode?op=11' ws_protocol 1002
failing "stray continuation" /bad-cont ws_protocol 1002
failing "new message inside a fragmented one" /bad-frag ws_protocol 1002
failing "126-byte ping" /ctl-too-long ws_protocol 1002
failing "fragmented ping" /ctl-frag ws_protocol 1002
for c in 1005 999 short; do
	failing "server's close $c" "/close?code=$c" ws_protocol 1002
	case $c in
	1005) want='{"1005":2}' ;;
	*) want='{"other":2}' ;;
	esac
	check "server's close $c: its close counted in close_codes" eq "$(j '.ws.close_codes | tojson')" "$want"
	check "server's close $c: the server sent it to each" eq "$(wssrv_count "$MARK" /close close-sent "$c")" "$VUS"
done
# --- UTF-8: 1007
for m in whole split truncated; do
	failing "invalid UTF-8 ($m)" "/bad-utf8?mode=$m" ws_utf8 1007
done
# --- over ws.max_message (64 KiB): 1009
for m in frame frags header; do
	failing "100,000-byte message over 64 KiB ($m)" "/too-big?size=100000&mode=$m" ws_too_big 1009
done
# --- TCP closed without a close frame
for q in '' '?rst=1'; do
	failing "abrupt end$q" "/abrupt$q" ws_closed_abnormally -
	check "abrupt end$q: the message before it was received and counted" \
		eq "$(j .ws.messages.received) $(wssrv_sum "$MARK" /abrupt sent)" "$VUS $VUS"
	check "abrupt end$q: the server closed so" eq "$(wssrv_count "$MARK" /abrupt end abrupt)" "$VUS"
done

# --- a server that never answers the upgrade: the response timeout (1 s)
start=$(date +%s%N)
hrun /silent
ms=$((($(date +%s%N) - start) / 1000000))
check "silent: exit 1" eq "$RC" 1
check "silent: each upgrade a response_timeout, no other kind" eq "$(req_kinds)" "response_timeout=$VUS"
check "silent: sessions failed as upgrade_failed" eq "$(ws_kinds)" "upgrade_failed=$VUS"
check "silent: the server never answered" eq "$(wssrv_count "$MARK" /silent http 0)" "$VUS"
check "silent: no hang (the run ended within 15 s)" le "$ms" 15000
check_ws_accounting silent

# --- legal: no error, every session completes
completes() { # NAME: the run's checks for a session with nothing wrong
	check "$1: exit 0" eq "$RC" 0
	check "$1: every session completed" eq "$(j '.ws.sessions | "\(.started) \(.completed)"')" "$VUS $VUS"
	check "$1: no failure kind" eq "$(ws_kinds)$(req_kinds)" ""
	check "$1: the server logged no error of ours" eq "$(wssrv_count "$MARK" "$P" error '*')" 0
	check_ws_accounting "$1"
}
hrun '/ping-flood?n=50'
completes "ping flood"
check "ping flood: we received every ping" eq "$(j .ws.pings_received)" $((VUS * 50))
check "ping flood: the server sent that many" eq "$(wssrv_sum "$MARK" /ping-flood pings_sent)" $((VUS * 50))
check "ping flood: each answered (the server's pongs received)" eq "$(wssrv_sum "$MARK" /ping-flood pongs_recv)" $((VUS * 50))
check "ping flood: each pong carried its ping's payload" \
	eq "$(log_since "$WSSRV_LOG" "$MARK" | awk '$2 == "/ping-flood" && $3 == "sent" && $4 == "ping" { print $1, $6 }' | sort)" \
	"$(log_since "$WSSRV_LOG" "$MARK" | awk '$2 == "/ping-flood" && $3 == "recv" && $4 == "pong" { print $1, $6 }' | sort)"
check "ping flood: the echo after it worked" eq "$(j '.ws.messages | "\(.sent) \(.received) \(.matched)"')" "$VUS $VUS $VUS"
check "ping flood: the server's counts agree" eq "$(wssrv_sum "$MARK" /ping-flood recv) $(wssrv_sum "$MARK" /ping-flood sent)" "$VUS $VUS"
check "ping flood: our close 1000 on each" eq "$(wssrv_count "$MARK" /ping-flood close-recv 1000)" "$VUS"

hrun '/frag?n=5'
completes "fragments with pings between"
check "frag: one message per session, received whole (5 fragments sent)" \
	eq "$(j .ws.messages.received) $(wssrv_count "$MARK" /frag sent text 29 5)" "$VUS $VUS"
check "frag: its 29 bytes counted" eq "$(j .ws.bytes.received)" $((VUS * 29))
check "frag: the 4 pings between answered" eq "$(j .ws.pings_received) $(wssrv_sum "$MARK" /frag pongs_recv)" "$((VUS * 4)) $((VUS * 4))"
check "frag: the server's close 1000 received, ours answered it" \
	eq "$(j '.ws.close_codes."1000"') $(wssrv_count "$MARK" /frag close-recv 1000)" "$VUS $VUS"

# The same text cut at every byte (29 fragments, 28 pings between): the
# message an expect takes is the server's text, byte for byte.
scenario frag29 <<EOF2
target: $WS_URL
load: { vus: $VUS, duration: 2s }
scenarios:
  - name: f
    steps:
      - ws:
          path: '/frag?n=29'
          steps:
            - expect: { regex: '^fragmenté €uro ünïcödé\$', timeout: 1s }
            - listen: 1s
      - think: 60s
EOF2
MARK=$(log_mark "$WSSRV_LOG")
run_sp run "$TMP/frag29.yaml"
P=/frag
wssrv_wait_ends "$MARK" "$VUS" "$P" || true
completes "29 fragments"
check "frag 29: the server sent 29 fragments to each" eq "$(wssrv_count "$MARK" /frag sent text 29 29)" "$VUS"
check "frag 29: the expect took the whole text, byte for byte" eq "$(j .ws.messages.matched) $(j .ws.messages.received)" "$VUS $VUS"
check "frag 29: 28 pings answered on each" eq "$(j .ws.pings_received) $(wssrv_sum "$MARK" /frag pongs_recv)" "$((VUS * 28)) $((VUS * 28))"

hrun /pong
completes "unsolicited pong"
check "pong: counted as a pong, nothing else" eq "$(j .ws.pongs_received) $(wssrv_count "$MARK" /pong sent-bad unsolicited-pong '*')" "$VUS $VUS"
check "pong: the text after it and the echo received" \
	eq "$(j .ws.messages.received) $(wssrv_sum "$MARK" /pong sent)" "$((VUS * 2)) $((VUS * 2))"

hrun /after-close
completes "text after the server's close"
check "after-close: the server sent it" eq "$(wssrv_count "$MARK" /after-close sent-bad after-close '*')" "$VUS"
check "after-close: it is not counted as a message" eq "$(j .ws.messages.received)" 0
check "after-close: the server's 1000 received and answered with 1000" \
	eq "$(j '.ws.close_codes | tojson') $(wssrv_count "$MARK" /after-close close-recv 1000)" "{\"1000\":$VUS} $VUS"

# A failing session makes the exit code 1 only through a threshold.
scenario th <<EOF2
target: $WS_URL
load: { vus: 1, duration: 1s }
scenarios:
  - { name: h, steps: [ { ws: { path: /masked, steps: [ { listen: 200ms } ] } }, { think: 60s } ] }
thresholds: [ ws.failed == 0 ]
EOF2
run_sp run "$TMP/th.yaml"
check "threshold ws.failed == 0 on /masked: exit 1" eq "$RC" 1
check "threshold ws.failed == 0: the report says it failed" eq "$(j '.thresholds[0].ok')" false
finish
