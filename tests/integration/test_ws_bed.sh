#!/usr/bin/env bash
# The test bed's WebSocket server (tools/sp-wssrv.c) checked with an
# independent client, Debian's python3-websockets (tests/integration/
# ws_client.py, run inside the namespace: its address is the server's own,
# 198.18.0.2), and a raw mode of the same script for what is on the wire:
# echo of text and binary, pings, the close code echoed, a subprotocol
# chosen; a chat room's broadcast reaching both members with join, enter
# and leave; registration and the cookie check (403 for an unregistered
# user); pushes at a rate and count; wss:// through nginx's TLS; each
# hostile endpoint doing what it promises, by what the client does about it
# (a conforming client rejects the bad accept, fails with 1002, 1007 or
# 1009) and by the frames on the wire; and the server's own checks of what
# clients send (unmasked frames, reserved bits, opcodes, UTF-8, close
# codes, continuations, --max-message). sp-wssrv's log must show every
# event with exact counts. stampede itself is not run.
. "$(dirname "$0")/lib.sh"

ME=$SRV # the client's address inside the namespace
CLIENT=$(dirname "$0")/ws_client.py
bed_tls_ca >/dev/null || exit 1
[ -e "$WSSRV_LOG" ] || {
	echo "test bed without sp-wssrv: tools/testbed down; tools/testbed up" >&2
	exit 1
}
/usr/bin/python3 -c 'import websockets' 2>/dev/null || {
	echo "python3-websockets missing: run tools/install-deps" >&2
	exit 1
}

# wsc NAME MODE ARGS...: the client inside the namespace; its output in
# $TMP/NAME, and the ID sp-wssrv gave its connection (from the "local"
# line) in ID.
wsc() {
	local name=$1 peer
	shift
	ip netns exec "$NS" env PYTHONIOENCODING=utf-8 timeout 60 \
		/usr/bin/python3 "$CLIENT" "$@" >"$TMP/$name" 2>&1
	peer=$(awk '$1 == "local" { print $2; exit }' "$TMP/$name")
	ID=
	[ -z "$peer" ] || ID=$(wssrv_id "$peer")
}
# lport NAME: the client's own port; recvs NAME: what it received, the
# contents only, joined by '|'.
lport() { awk '$1 == "local" { split($2, a, ":"); print a[2]; exit }' "$TMP/$1"; }
recvs() { grep '^recv' "$TMP/$1" | cut -d' ' -f4- | paste -sd'|'; }
# has NAME LINE: the client's output holds that exact line.
has() {
	grep -qxF -- "$2" "$TMP/$1" || {
		echo "     no line '$2' in the client's output:" >&2
		sed 's/^/       /' "$TMP/$1" >&2
		return 1
	}
}
# lines NAME: the client's output, lines joined by '|' (for exact order).
lines() { paste -sd'|' "$TMP/$1"; }
# conn ID: sp-wssrv's lines for that connection, the ID and path cut,
# joined by '|'; ended first (bounded wait).
conn() {
	wssrv_wait_end "$1" >/dev/null
	awk -v id="$1" '$1 == id && $3 == "accept" { n = 0 }
		$1 == id && $3 != "accept" { $1 = ""; $2 = ""; sub(/^  /, ""); l[n++] = $0 }
		END { for (i = 0; i < n; i++) print l[i] }' "$WSSRV_LOG" |
		sed -E 's/ ms=[0-9]+$//' | paste -sd'|'
}
sha_pattern() { /usr/bin/python3 -c "import hashlib; print(hashlib.sha256(bytes(i % 251 for i in range($1))).hexdigest())"; }
# raw NAME PATH [options]: the raw mode against sp-wssrv; frames NAME: the
# frame headers it read, joined by '|'.
raw() { # raw NAME PATH [raw options]
	local name=$1 path=$2
	shift 2
	wsc "$name" raw "$SRV:$WSSRV_PORT" "$path" "$@"
}
frames() { grep '^frame ' "$TMP/$1" | sed 's/^frame //' | paste -sd'|'; }
# endl REASON SENT RECV ...: an end line as conn shows it (no ms=).
endl() {
	printf 'end %s sent=%s recv=%s sent_bytes=%s recv_bytes=%s pings_sent=%s pings_recv=%s pongs_sent=%s pongs_recv=%s close_sent=%s close_recv=%s errors=%s' "$@"
}

# --- echo: text, binary, a ping, a close code echoed
wsc echo lib "$WS_URL/echo" text:"hello ws" binary:70000 recv:2 ping:abc close:4001:bye
check "echo: the client's view" eq "$(lines echo)" \
	"local $ME:$(lport echo)|open proto=-|recv text 8 hello ws|recv binary 70000 $(sha_pattern 70000)|pong abc|closed rcvd=4001 sent=4001"
check "echo: sp-wssrv's log, event by event" eq "$(conn "$ID")" \
	"open $ME:$(lport echo)|recv text 8 1|sent text 8 1|recv binary 70000 1|sent binary 70000 1|recv ping 3 616263|sent pong 3 616263|close-recv 4001|close-sent 4001|$(endl clean 2 2 70008 70008 0 1 1 0 4001 4001 0)"

# A subprotocol: the first offered is chosen; an empty message; a close
# without a code is answered without one.
wsc proto lib "$WS_URL/echo" --subprotocol chat --subprotocol other text: recv close:1000
check "subprotocol: chat chosen" has proto "open proto=chat"
check "subprotocol: empty text echoed" has proto "recv text 0 "
check "subprotocol: sp-wssrv logged it" eq "$(wssrv_conn_count "$ID" open '*' proto=chat)" 1
check "subprotocol: empty message both ways" eq "$(wssrv_conn_count "$ID" recv text 0 1).$(wssrv_conn_count "$ID" sent text 0 1)" 1.1

# --- chat: A joins and listens; B joins once A has, says hello and
# leaves; A gets joined, enter, the chat and the leave, in order.
ROOM=bed$$
m=$(log_mark "$WSSRV_LOG")
ip netns exec "$NS" env PYTHONIOENCODING=utf-8 timeout 30 /usr/bin/python3 "$CLIENT" lib "$WS_URL/chat/$ROOM" --timeout 10 \
	'text:{"type":"join","user":"ua"}' recv:4 >"$TMP/chat_a" 2>&1 &
A=$!
for _ in $(seq 100); do
	[ "$(wssrv_count "$m" "/chat/$ROOM" join ua)" -ge 1 ] && break
	sleep 0.1
done
wsc chat_b lib "$WS_URL/chat/$ROOM" 'text:{"type":"join","user":"ub"}' recv 'text:hello from "b"' recv
B_ID=$ID
wait "$A"
A_ID=$(wssrv_id "$(awk '$1 == "local" { print $2; exit }' "$TMP/chat_a")")
check "chat: A was told of its join, B's entry, B's message and B's exit, in order" eq \
	"$(recvs chat_a)" \
	"{\"type\":\"joined\",\"room\":\"$ROOM\",\"user\":\"ua\"}|{\"type\":\"enter\",\"room\":\"$ROOM\",\"user\":\"ub\"}|{\"type\":\"chat\",\"room\":\"$ROOM\",\"user\":\"ub\",\"text\":\"hello from \\\"b\\\"\"}|{\"type\":\"leave\",\"room\":\"$ROOM\",\"user\":\"ub\"}"
check "chat: B got its join and its own message back" eq \
	"$(recvs chat_b)" \
	"{\"type\":\"joined\",\"room\":\"$ROOM\",\"user\":\"ub\"}|{\"type\":\"chat\",\"room\":\"$ROOM\",\"user\":\"ub\",\"text\":\"hello from \\\"b\\\"\"}"
check "chat: both closed normally" eq "$(grep -h '^closed' "$TMP/chat_a" "$TMP/chat_b" | paste -sd'|')" \
	"closed rcvd=1000 sent=1000|closed rcvd=1000 sent=1000"
wssrv_wait_ends "$m" 2 "/chat/$ROOM"
check "chat: sp-wssrv logged two joins and two leaves" eq \
	"$(wssrv_count "$m" "/chat/$ROOM" join).$(wssrv_count "$m" "/chat/$ROOM" leave)" 2.2
check "chat: A sent 4, received 1; B sent 2, received 2" eq \
	"$(wssrv_end "$A_ID" sent)/$(wssrv_end "$A_ID" recv) $(wssrv_end "$B_ID" sent)/$(wssrv_end "$B_ID" recv)" "4/1 2/2"
check "chat: the room's messages sent = the clients' received" eq \
	"$(wssrv_sum "$m" "/chat/$ROOM" sent)" "$(($(grep -c '^recv' "$TMP/chat_a") + $(grep -c '^recv' "$TMP/chat_b")))"

# --- registration and the cookie check
U=user$$
wsc reg http POST "http://$SRV:$WSSRV_PORT/register" "user=$U&password=pw"
check "register: 201" has reg "status 201"
wsc reg http POST "http://$SRV:$WSSRV_PORT/register" "user=$U&password=pw"
check "register again, same password: 201" has reg "status 201"
wsc reg http POST "http://$SRV:$WSSRV_PORT/register" "user=$U&password=other"
check "register again, another password: 409" has reg "status 409"
wsc reg http POST "http://$SRV:$WSSRV_PORT/register" "user=no%20spaces&password=pw"
check "register a bad name: 400" has reg "status 400"
wsc reg http GET "http://$SRV:$WSSRV_PORT/register"
check "GET /register: 405" has reg "status 405"
m=$(log_mark "$WSSRV_LOG")
wsc cookie lib "$WS_URL/chat/$ROOM" --cookie "theme=dark; session=$U" text:hi recv
check "cookie of a registered user: open, and the chat is by $U" eq "$(recvs cookie)" \
	"{\"type\":\"chat\",\"room\":\"$ROOM\",\"user\":\"$U\",\"text\":\"hi\"}"
check "cookie: sp-wssrv's open names the user" eq "$(wssrv_conn_count "$ID" open '*' "user=$U")" 1
wsc nocookie lib "$WS_URL/chat/$ROOM" --cookie "session=nobody$$" text:hi recv
check "cookie of an unregistered user: 403" has nocookie \
	"handshake-error InvalidStatusCode: server rejected WebSocket connection: HTTP 403"
wssrv_wait_ends "$m" 2
check "sp-wssrv: one 403 for nobody$$, one open" eq \
	"$(wssrv_count "$m" "/chat/$ROOM" http 403 "user=nobody$$").$(wssrv_count "$m" "/chat/$ROOM" open)" 1.1
check "sp-wssrv: the registrations" eq \
	"$(grep -c " /register http 201 user=$U\$" "$WSSRV_LOG").$(grep -c " /register http 409 user=$U\$" "$WSSRV_LOG")" 2.1

# Registration and the upgrade on one keep-alive connection, as a VU does.
U2=user2$$
raw regws "/chat/$ROOM" --register "$U2:pw" --cookie "session=$U2" --frames 1 \
	--send "1,0,1,1,$(printf 'one connection' | od -An -tx1 | tr -d ' \n')"
check "register then upgrade on one connection: 201, then 101, then the chat" eq \
	"$(grep '^register\|^status\|^accept\|^frame ' "$TMP/regws" | paste -sd'|')" \
	"register 201|status HTTP/1.1 101 Switching Protocols|accept ok|frame fin=1 rsv=0 op=1 mask=0 len=$((45 + ${#ROOM} + ${#U2} + 14))"
wssrv_wait_end "$ID"
check "register then upgrade: one connection in sp-wssrv's log" eq \
	"$(wssrv_conn_count "$ID" http 201 "user=$U2").$(wssrv_conn_count "$ID" open '*' "user=$U2")" 1.1

# --- refused upgrades
wsc r404 http GET "http://$SRV:$WSSRV_PORT/nothing"
check "unknown path: 404" has r404 "status 404"
wsc r426 http GET "http://$SRV:$WSSRV_PORT/echo"
check "GET /echo without an upgrade: 426" has r426 "status 426"
wsc r426v http GET "http://$SRV:$WSSRV_PORT/echo" "" "Upgrade:websocket" "Connection:Upgrade" \
	"Sec-WebSocket-Key:dGhlIHNhbXBsZSBub25jZQ==" "Sec-WebSocket-Version:12"
check "version 12: 426" has r426v "status 426"
wsc r400 http GET "http://$SRV:$WSSRV_PORT/echo" "" "Upgrade:websocket" "Connection:Upgrade" \
	"Sec-WebSocket-Key:short" "Sec-WebSocket-Version:13"
check "a short key: 400" has r400 "status 400"

# --- push: 10 at 50/s, numbered, then a close 1000; sized ones
wsc push lib "$WS_URL/push?rate=50&count=10" recv:10 wait
check "push: 10 messages in order" eq "$(grep '^recv' "$TMP/push" | cut -d' ' -f4- | paste -sd' ')" \
	"push 1 push 2 push 3 push 4 push 5 push 6 push 7 push 8 push 9 push 10"
check "push: then the server's close 1000" has push "closed rcvd=1000 sent=1000"
check "push: sp-wssrv sent 10 then closed" eq "$(wssrv_end "$ID" sent).$(wssrv_end "$ID" close_sent).$(wssrv_end "$ID" reason)" 10.1000.clean
check "push: 10 at 50/s take at least 180 ms" ge "$(wssrv_end "$ID" ms)" 180
wsc pushs lib "$WS_URL/push?rate=1000&count=3&size=70000" --max-size 100000 recv:3 wait
check "push size=70000: three of 70000 bytes" eq "$(grep -c '^recv text 70000 push [123]x' "$TMP/pushs")" 3
check "push size=70000: sp-wssrv's bytes" eq "$(wssrv_end "$ID" sent_bytes)" 210000
wsc pushb lib "$WS_URL/push?rate=1000&count=2&type=binary" recv:2 wait
check "push type=binary: two binary messages 'push 1', 'push 2'" eq "$(grep '^recv' "$TMP/pushb" | cut -d' ' -f1-4 | paste -sd'|')" \
	"recv binary 6 $(printf 'push 1' | sha256sum | cut -d' ' -f1)|recv binary 6 $(printf 'push 2' | sha256sum | cut -d' ' -f1)"
check "push type=binary: sp-wssrv logged binary" eq "$(wssrv_conn_count "$ID" sent binary 6 1)" 2
wsc pushq lib "$WS_URL/push?rate=0" recv
check "push rate=0: closed with 1008" has pushq "closed rcvd=1008 sent=1008"

# --- wss:// through nginx's TLS on 443
m=$(log_mark "$WSSRV_LOG")
t=$(log_mark "$TLS_ACCESS_LOG")
wsc wss lib "$WSS_URL/echo" --connect "$SRV:$TLS_PORT" --cafile "$TLS_CA" \
	text:"over tls" binary:100000 recv:2 close:4002
check "wss: echo through nginx" eq "$(grep -v '^local' "$TMP/wss" | paste -sd'|')" \
	"open proto=-|recv text 8 over tls|recv binary 100000 $(sha_pattern 100000)|closed rcvd=4002 sent=4002"
wssrv_wait_ends "$m" 1 /echo
check "wss: sp-wssrv saw it as /echo, clean, 2 messages each way" eq \
	"$(wssrv_count "$m" /echo end clean sent=2 recv=2 sent_bytes=100008 recv_bytes=100008)" 1
for _ in $(seq 100); do
	[ "$(nginx_tls_count "$t" 101 /ws/echo "$ME" 443)" -ge 1 ] && break
	sleep 0.1
done
check "wss: nginx logged the 101 for /ws/echo on 443" eq "$(nginx_tls_count "$t" 101 /ws/echo "$ME" 443)" 1

# --- hostile endpoints, by what a conforming client does about each, and
# by sp-wssrv's log. hostile NAME PATH CLIENT-LINE SERVER-EVENTS: the
# client's line, and the exact events (between open and end) on the server.
hostile() {
	local name=$1 path=$2 want=$3 events=$4
	wsc "$name" lib "$WS_URL$path" --timeout 3 recv
	check "$path: client: $want" has "$name" "$want"
	check "$path: sp-wssrv's events" eq \
		"$(conn "$ID" | tr '|' '\n' | grep -v '^open \|^end ' | paste -sd'|')" "$events"
}
m=$(log_mark "$WSSRV_LOG")
wsc ba lib "$WS_URL/bad-accept"
check "/bad-accept: the client rejects the accept" eq "$(grep -c '^handshake-error InvalidHeaderValue: invalid Sec-WebSocket-Accept' "$TMP/ba")" 1
wsc nu lib "$WS_URL/no-upgrade"
check "/no-upgrade: the client rejects the 200" has nu \
	"handshake-error InvalidStatusCode: server rejected WebSocket connection: HTTP 200"
wsc si lib "$WS_URL/silent" --timeout 1
check "/silent: the client's handshake times out" eq "$(grep -c '^handshake-error TimeoutError' "$TMP/si")" 1
wssrv_wait_ends "$m" 3
check "sp-wssrv: 101 bad-accept, 200, 0 (never answered), all 'http' ends" eq \
	"$(wssrv_count "$m" /bad-accept http 101 bad-accept)/$(wssrv_count "$m" /no-upgrade http 200)/$(wssrv_count "$m" /silent http 0)/$(wssrv_count "$m" "" end http)" 1/1/1/3

hostile masked /masked "closed rcvd=- sent=1002" "sent-bad masked 12|close-recv 1002|close-sent 1002"
hostile utf8 /bad-utf8 "closed rcvd=- sent=1007" "sent-bad bad-utf8 11|close-recv 1007|close-sent 1007"
hostile utf8s "/bad-utf8?mode=split" "closed rcvd=- sent=1007" \
	"sent-bad bad-utf8 5|sent-bad bad-utf8 6|close-recv 1007|close-sent 1007"
hostile utf8t "/bad-utf8?mode=truncated" "closed rcvd=- sent=1007" "sent-bad bad-utf8 6|close-recv 1007|close-sent 1007"
hostile rsv /rsv "closed rcvd=- sent=1002" "sent-bad rsv 3|close-recv 1002|close-sent 1002"
hostile rsv1 "/rsv?bits=1" "closed rcvd=- sent=1002" "sent-bad rsv 3|close-recv 1002|close-sent 1002"
hostile op3 /opcode "closed rcvd=- sent=1002" "sent-bad opcode 6|close-recv 1002|close-sent 1002"
hostile op11 "/opcode?op=11" "closed rcvd=- sent=1002" "sent-bad opcode 6|close-recv 1002|close-sent 1002"
hostile cont /bad-cont "closed rcvd=- sent=1002" "sent-bad bad-cont 4|close-recv 1002|close-sent 1002"
hostile bfrag /bad-frag "closed rcvd=- sent=1002" "sent-bad bad-frag 3|sent-bad bad-frag 3|close-recv 1002|close-sent 1002"
hostile ctllong /ctl-too-long "closed rcvd=- sent=1002" "sent-bad ctl-too-long 126|close-recv 1002|close-sent 1002"
hostile ctlfrag /ctl-frag "closed rcvd=- sent=1002" "sent-bad ctl-frag 1|sent-bad ctl-frag 1|close-recv 1002|close-sent 1002"
hostile c1005 "/close?code=1005" "closed rcvd=- sent=1002" "close-sent 1005|close-recv 1002"
hostile c999 "/close?code=999" "closed rcvd=- sent=1002" "close-sent 999|close-recv 1002"
hostile cshort "/close?code=short" "closed rcvd=- sent=1002" "close-sent short|close-recv 1002"
hostile cutf8 "/close?code=4000&reason=%FF" "closed rcvd=- sent=1007" "close-sent 4000|close-recv 1007"
hostile cnone "/close?code=none" "closed rcvd=none sent=none" "close-sent none|close-recv none"
hostile c4000 "/close?code=4000&reason=bye" "closed rcvd=4000 sent=4000" "close-sent 4000|close-recv 4000"
hostile pong /pong "recv text 10 after pong" \
	"sent-bad unsolicited-pong 11|sent text 10 1|close-recv 1000|close-sent 1000"
hostile late /after-close "connection-closed ConnectionClosedOK" "close-sent 1000|sent-bad after-close 4|close-recv 1000"
check "/after-close: the late message was not delivered" eq "$(grep -c '^recv' "$TMP/late")" 0
hostile tbh "/too-big?mode=header" "closed rcvd=- sent=1009" "sent-bad too-big 0|close-recv 1009|close-sent 1009"
# Too big, whole or in fragments: the client fails at 1 MiB and sends its
# close, which sp-wssrv reads though the 2 MiB it sent were never read.
for mode in frame frags; do
	wsc "tb$mode" lib "$WS_URL/too-big?mode=$mode" --timeout 2 recv
	check "/too-big?mode=$mode: the client closed with 1009" eq "$(grep -c '^closed rcvd=- sent=1009$' "$TMP/tb$mode")" 1
	wssrv_wait_end "$ID"
	check "/too-big?mode=$mode: sp-wssrv got the 1009" eq "$(wssrv_end "$ID" close_recv)" 1009
done
check "/too-big?mode=frags: 32 fragments of 64 KiB" eq "$(wssrv_conn_count "$ID" sent-bad too-big 65536)" 32

hostile abrupt /abrupt "recv text 6 abrupt" "sent text 6 1"
check "/abrupt: then TCP closed, no close frame" has abrupt "closed rcvd=- sent=-"
check "/abrupt: sp-wssrv's end" eq "$(wssrv_end "$ID" reason)" abrupt
hostile abruptr "/abrupt?rst=1" "recv text 6 abrupt" "sent text 6 1"
check "/abrupt?rst=1: no close frame" has abruptr "closed rcvd=- sent=-"

wsc flood lib "$WS_URL/ping-flood?n=50" text:after recv
check "/ping-flood: then an echo" has flood "recv text 5 after"
wssrv_wait_end "$ID"
check "/ping-flood: 50 pings sent, 50 pongs back (counted and logged)" eq \
	"$(wssrv_end "$ID" pings_sent).$(wssrv_end "$ID" pongs_recv).$(wssrv_conn_count "$ID" recv pong '*')" 50.50.50
check "/ping-flood: each pong carries its ping's payload, in order" eq \
	"$(conn "$ID" | tr '|' '\n' | awk '$1 == "recv" && $2 == "pong" { print $4 }' | paste -sd' ')" \
	"$(conn "$ID" | tr '|' '\n' | awk '$1 == "sent" && $2 == "ping" { print $4 }' | paste -sd' ')"
check "/ping-flood: the pings were 'ping 1' to 'ping 50'" eq \
	"$(wssrv_conn_count "$ID" sent ping 6 70696e672031).$(wssrv_conn_count "$ID" sent ping 7 70696e67203530)" 1.1

wsc flood0 lib "$WS_URL/ping-flood?n=3&size=0" text:x recv
wssrv_wait_end "$ID"
check "/ping-flood size=0: three empty pings, three empty pongs" eq \
	"$(wssrv_conn_count "$ID" sent ping 0 -).$(wssrv_conn_count "$ID" recv pong 0 -)" 3.3
wsc flood125 lib "$WS_URL/ping-flood?n=2&size=125" text:x recv
wssrv_wait_end "$ID"
check "/ping-flood size=125: 125-byte pings, their pongs the same" eq \
	"$(wssrv_conn_count "$ID" sent ping 125 "$( (printf 'ping 1'; bytes 119 p) | od -An -v -tx1 | tr -d ' \n')").$(wssrv_conn_count "$ID" recv pong 125 "$( (printf 'ping 2'; bytes 119 p) | od -An -v -tx1 | tr -d ' \n')")" 1.1

wsc frag lib "$WS_URL/frag?n=5" recv wait
check "/frag: one text message, whole, UTF-8 intact" has frag "recv text 29 fragmenté €uro ünïcödé"
check "/frag: then the close 1000" has frag "closed rcvd=1000 sent=1000"
check "/frag: sp-wssrv: 4 pings, 4 pongs back, 5 fragments" eq "$(conn "$ID")" \
	"open $ME:$(lport frag)|$(for i in 1 2 3 4; do printf 'sent ping 6 %s|' "$(printf 'frag %s' $i | od -An -tx1 | tr -d ' \n')"; done)sent text 29 5|close-sent 1000|$(for i in 1 2 3 4; do printf 'recv pong 6 %s|' "$(printf 'frag %s' $i | od -An -tx1 | tr -d ' \n')"; done)close-recv 1000|$(endl clean 1 0 29 0 4 0 0 4 1000 1000 0)"

# --- on the wire (raw): what the frames are
raw wmask /masked --frames 1
check "wire /masked: a masked text frame, 'masked frame' under the mask" eq \
	"$(frames wmask)/$(grep '^payload' "$TMP/wmask")" \
	"fin=1 rsv=0 op=1 mask=1 len=12/payload $(printf 'masked frame' | od -An -tx1 | tr -d ' \n')"
raw wrsv "/rsv?bits=2" --frames 1
check "wire /rsv?bits=2: RSV2 set" eq "$(frames wrsv)" "fin=1 rsv=2 op=1 mask=0 len=3"
raw wop "/opcode?op=11" --frames 1
check "wire /opcode?op=11: opcode 11" eq "$(frames wop)" "fin=1 rsv=0 op=11 mask=0 len=6"
raw wctl /ctl-too-long --frames 1
check "wire /ctl-too-long: a ping of 126 bytes" eq "$(frames wctl)" "fin=1 rsv=0 op=9 mask=0 len=126"
raw wctf /ctl-frag --frames 2
check "wire /ctl-frag: a ping without FIN, then a continuation" eq "$(frames wctf)" \
	"fin=0 rsv=0 op=9 mask=0 len=1|fin=1 rsv=0 op=0 mask=0 len=1"
raw wtbh "/too-big?mode=header&size=5000000" --frames 1 --timeout 1
check "wire /too-big?mode=header: a header announcing 5000000 bytes, and nothing after" eq \
	"$(frames wtbh)/$(tail -1 "$TMP/wtbh")" "fin=1 rsv=0 op=2 mask=0 len=5000000/timeout"
raw wfrag "/frag?n=3" --frames 6
check "wire /frag?n=3: text, ping, continuation, ping, continuation, close" eq "$(frames wfrag)" \
	"fin=0 rsv=0 op=1 mask=0 len=9|fin=1 rsv=0 op=9 mask=0 len=6|fin=0 rsv=0 op=0 mask=0 len=10|fin=1 rsv=0 op=9 mask=0 len=6|fin=1 rsv=0 op=0 mask=0 len=10|fin=1 rsv=0 op=8 mask=0 len=2"
raw wabr /abrupt
check "wire /abrupt: a text frame, then FIN" eq "$(frames wabr)/$(tail -1 "$TMP/wabr")" "fin=1 rsv=0 op=1 mask=0 len=6/eof"
raw wabrr "/abrupt?rst=1"
check "wire /abrupt?rst=1: then RST" eq "$(tail -1 "$TMP/wabrr")" reset
raw wacc /bad-accept --frames 0
check "wire /bad-accept: 101 with a wrong accept" eq "$(grep '^status\|^accept' "$TMP/wacc" | paste -sd'|')" \
	"status HTTP/1.1 101 Switching Protocols|accept bad"
raw wok /echo --frames 0
check "wire /echo: and a right one" eq "$(grep '^accept' "$TMP/wok")" "accept ok"

# --- what sp-wssrv demands of clients: each violation answered with a
# close frame with its code, then FIN, and logged as its error kind.
# bad WHAT ERROR CODE-HEX SPEC...: raw frames sent to /echo.
bad() {
	local what=$1 err=$2 code=$3 a=()
	shift 3
	for s in "$@"; do a+=(--send "$s"); done
	raw "bad_$err" /echo "${a[@]}"
	check "server check, $what: close $((16#$code)), then FIN" eq \
		"$(frames "bad_$err")/$(grep '^payload' "$TMP/bad_$err")/$(tail -1 "$TMP/bad_$err")" \
		"fin=1 rsv=0 op=8 mask=0 len=2/payload $code/eof"
	wssrv_wait_end "$ID"
	check "server check, $what: logged as 'error $err'" eq \
		"$(wssrv_conn_count "$ID" error "$err").$(wssrv_end "$ID" errors).$(wssrv_end "$ID" reason)" 1.1.error
}
bad "an unmasked frame" unmasked 03ea 1,0,1,0,6869
bad "RSV1" rsv 03ea 1,4,1,1,6869
bad "opcode 3" opcode 03ea 1,0,3,1,6869
bad "invalid UTF-8" utf8 03ef 1,0,1,1,6869c328
bad "a continuation with no message" continuation 03ea 1,0,0,1,6869
bad "a 1-byte close" close-short 03ea 1,0,8,1,03
bad "close code 1005" close-code 03ea close:1005
bad "a fragmented ping" framing 03ea 0,0,9,1,61
# A frame after the client's own close: the close is echoed (1000), the
# frame that follows it is an error all the same.
bad "a frame after the client's close" after-close 03e8 close:1000 1,0,1,1,6869
# Split UTF-8 (valid) and a ping between fragments are fine.
raw goodfrag /echo --frames 2 --send 0,0,1,1,c3 --send 1,0,9,1,70 --send 1,0,0,1,a9
check "server check: fragments with a ping between, a character split: pong, then the echo" eq \
	"$(frames goodfrag)/$(grep '^payload' "$TMP/goodfrag" | paste -sd' ')" \
	"fin=1 rsv=0 op=10 mask=0 len=1|fin=1 rsv=0 op=1 mask=0 len=2/payload 70 payload c3a9"
check "server check: logged as one message of 2 frames" eq "$(wssrv_conn_count "$ID" recv text 2 2)" 1
# Over --max-message (4 MiB by default): 1009 at the header.
raw big /echo --timeout 20 --send 1,0,2,1,zeros:4194305
check "server check, a message over 4 MiB: close 1009" eq "$(frames big)/$(grep '^payload' "$TMP/big")" \
	"fin=1 rsv=0 op=8 mask=0 len=2/payload 03f1"
wssrv_wait_end "$ID"
check "server check, too big: logged" eq "$(wssrv_conn_count "$ID" error too-big)" 1

finish
