#!/usr/bin/env bash
# stampede run with WebSocket virtual users against the test bed's
# WebSocket server (tools/sp-wssrv.c), whose per-event log is the witness:
# every count is compared with what the server logged.
#  - echo: text, binary of 1, 3,000 (more than one TCP segment) and 70,000
#    bytes (more than 64 KiB), a binary template, a burst of three; expect
#    by contains, regex and count; measured round trips (ws.rtt's count);
#    pings with and without payload (the server's pings received and pongs
#    sent); our close 4001 as the server received it, its echo counted;
#    the subprotocol chosen; exact messages and payload bytes both ways;
#  - pushes from the server (/push?rate&count): every message received,
#    matched and unmatched as the expects took them, the server's close
#    1000; paced sends (every, count): the session lasts the pacing's span;
#  - periodic pings (ws.ping_every): each received by the server, each
#    pong it sent received;
#  - close codes the server sends (1001, 4321) and ours (3000);
#  - a chat room: register (201) and upgrade with the Cookie, {{vu}} from
#    --vu-offset in the users the server saw join; every message we sent
#    received by the server, what it broadcast received by us (all of it
#    but what came after a member had sent its close);
#  - a loop around a ws: block and a loop inside it: sessions and messages;
#  - a run cut by its duration: sessions interrupted with close 1001 (the
#    server's log), completed ones clean, our sends all received.
# Scenarios bound themselves (one set of sessions per VU, then a think
# longer than the run), so every count is exact; each run's accounting
# identities and pools back to zero are checked too.
. "$(dirname "$0")/lib.sh"

[ -e "$WSSRV_LOG" ] || { echo "test bed without sp-wssrv: tools/testbed down; tools/testbed up" >&2; exit 1; }

# wrun NAME PATH_PREFIX N [stampede options]: run $TMP/NAME.yaml; the
# server's log from MARK on, once N connections on paths starting with
# PATH_PREFIX have ended (ends: their count).
wrun() {
	local name=$1 n=$3
	P=$2
	shift 3
	MARK=$(log_mark "$WSSRV_LOG")
	run_sp run "$TMP/$name.yaml" "$@"
	for _ in $(seq 100); do
		[ "$(ends)" -ge "$n" ] && break
		sleep 0.1
	done
}
# Lines since MARK whose path starts with $P, as wssrv_count and wssrv_sum
# read them (they take one exact path; rooms and queries differ).
since() { log_since "$WSSRV_LOG" "$MARK" | awk -v p="$P" 'index($2, p) == 1'; }
ends() { since | awk '$3 == "end"' | wc -l; }
cnt() { # cnt EVENT [ARG...]: as wssrv_count, on $P's paths
	local ev=$1
	shift
	since | awk -v path= -v id= -v ev="$ev" -v args="$*" "$WSSRV_AWK"
}
sum() { # sum KEY: as wssrv_sum, on $P's paths
	since | awk -v key="$1" '$3 == "end" {
		for (i = 5; i <= NF; i++) if (index($i, key "=") == 1) s += substr($i, length(key) + 2) }
		END { print s + 0 }'
}
sessions() { j '.ws.sessions | "\(.started) \(.completed) \(.failed) \(.interrupted)"'; }
nokinds() { j '[.ws.errors_by_kind, .summary.errors_by_kind | to_entries[] | select(.value > 0) | .key] | join(" ")'; }

# --- 1. echo, exact
V=4
scenario echo <<EOF2
target: $WS_URL
load: { vus: $V, duration: 2s }
scenarios:
  - name: echo
    steps:
      - ws:
          path: /echo
          subprotocols: [chat, superchat]
          steps:
            - send: { text: 'hello {{vu}}', measure: true }
            - expect: { contains: hello, timeout: 2s }
            - send: { binary: { size: 1 } }
            - expect: { timeout: 2s }
            - send: { binary: { size: 3000 } }
            - expect: { timeout: 2s }
            - send: { binary: { size: 70000 }, measure: true }
            - expect: { timeout: 2s }
            - send: { binary: 'bin-{{vu}}' }
            - expect: { regex: '^bin-[0-9]+\$', timeout: 2s }
            - send: { text: x, count: 3 }
            - expect: { contains: x, count: 3, timeout: 2s }
            - ping: hi
            - ping:
            - send: { text: last }
            - expect: { contains: last, timeout: 2s }
            - close: { code: 4001, reason: bye }
      - think: 60s
EOF2
wrun echo /echo $V
check "echo: exit 0" eq "$RC" 0
check "echo: every session completed" eq "$(sessions)" "$V $V 0 0"
check "echo: no failure of any kind" eq "$(nokinds)" ""
check "echo: the server upgraded each with subprotocol chat" eq "$(cnt open '*' proto=chat)" "$V"
check "echo: messages sent = the server's received = 9 a session" \
	eq "$(j .ws.messages.sent) $(sum recv)" "$((V * 9)) $((V * 9))"
check "echo: messages received = the server's sent" eq "$(j .ws.messages.received)" "$(sum sent)"
check "echo: every message matched" eq "$(j '.ws.messages | "\(.matched) \(.unmatched)"')" "$((V * 9)) 0"
check "echo: payload bytes sent = the server's received" eq "$(j .ws.bytes.sent)" "$(sum recv_bytes)"
check "echo: payload bytes received = the server's sent" eq "$(j .ws.bytes.received)" "$(sum sent_bytes)"
per=$((7 + 1 + 3000 + 70000 + 5 + 3 + 4))
check "echo: bytes are the scenario's ($per a session)" eq "$(j .ws.bytes.sent)" $((V * per))
for s in 1 3000 70000; do
	check "echo: the server received $V binary messages of $s bytes" eq "$(cnt recv binary $s '*')" "$V"
done
check "echo: the 70,000-byte message went out in fragments" eq "$(cnt recv binary 70000 1)" 0
check "echo: the binary template arrived as 'bin-N' (5 bytes)" eq "$(cnt recv binary 5 1)" "$V"
check "echo: ws.rtt timed the 2 measured messages of each session" eq "$(ws_count_line "ws rtt")" $((V * 2))
check "echo: ws.connect timed each upgrade" eq "$(ws_count_line "ws connect")" "$V"
check "echo: pings sent = the server's pings received" eq "$(j .ws.pings_sent) $(sum pings_recv)" "$((V * 2)) $((V * 2))"
check "echo: the server received 'hi' and an empty ping from each" \
	eq "$(cnt recv ping 2 6869) $(cnt recv ping 0 -)" "$V $V"
check "echo: pongs received = the server's pongs sent" eq "$(j .ws.pongs_received) $(sum pongs_sent)" "$((V * 2)) $((V * 2))"
check "echo: the server received our close 4001" eq "$(cnt close-recv 4001)" "$V"
check "echo: its echo counted as a 4xxx close received" eq "$(j '.ws.close_codes | tojson')" "{\"4xxx\":$V}"
check "echo: closes sent" eq "$(j .ws.closes_sent)" "$V"
check "echo: every connection ended clean" eq "$(cnt end clean)" "$V"
check "echo: the server logged no error of ours" eq "$(cnt error '*')" 0
check_ws_accounting echo

# --- 2. server pushes, expect by regex and count, paced sends
V=3
scenario push <<EOF2
target: $WS_URL
load: { vus: $V, duration: 3s }
scenarios:
  - name: push
    steps:
      - ws:
          path: /push?rate=100&count=20
          steps:
            - expect: { regex: '^push [0-9]+\$', count: 5, timeout: 2s }
            - expect: { contains: 'push 1', timeout: 2s }
            - listen: 1s
      - think: 60s
EOF2
wrun push /push $V
check "push: exit 0" eq "$RC" 0
check "push: every session completed" eq "$(sessions)" "$V $V 0 0"
check "push: no failure" eq "$(nokinds)" ""
check "push: received exactly the server's 20 a session" eq "$(j .ws.messages.received) $(sum sent)" "$((V * 20)) $((V * 20))"
check "push: matched 5 + 1 a session (push 1-5, then push 10), the rest unmatched" \
	eq "$(j '.ws.messages | "\(.matched) \(.unmatched)"')" "$((V * 6)) $((V * 14))"
check "push: bytes received = the server's sent" eq "$(j .ws.bytes.received)" "$(sum sent_bytes)"
check "push: the server's close 1000 received, answered" \
	eq "$(j '.ws.close_codes | tojson') $(cnt close-recv 1000)" "{\"1000\":$V} $V"

scenario pace <<EOF2
target: $WS_URL
load: { vus: $V, duration: 4s }
scenarios:
  - name: pace
    steps:
      - ws:
          path: /echo
          steps:
            - send: { text: 'tick {{vu}}', every: 100ms, count: 10 }
            - listen: 300ms
      - think: 60s
EOF2
wrun pace /echo $V
check "pace: exit 0, sessions completed" eq "$RC $(sessions)" "0 $V $V 0 0"
check "pace: 10 messages a session, the server received them" eq "$(j .ws.messages.sent) $(sum recv)" "$((V * 10)) $((V * 10))"
check "pace: the echoes came back, during the sends (unmatched: no expect was on)" \
	eq "$(j '.ws.messages | "\(.received) \(.unmatched)"') $(sum sent)" "$((V * 10)) $((V * 10)) $((V * 10))"
check "pace: each session lasted the pacing's 900 ms and the listen's 300 at least" ge "$(j '.ws.session_ms.min | floor')" 1200
# An upper bound with room for a loaded machine (the bed's CPUs are
# shared): a pace of 1 s rather than 100 ms would take 9 s.
check "pace: ... and well under the 9 s of a pace ten times slower" le "$(j '.ws.session_ms.max | floor')" 4000
check_ws_accounting pace

# --- 3. periodic pings
V=2
scenario pings <<EOF2
target: $WS_URL
load: { vus: $V, duration: 3s }
scenarios:
  - name: pings
    steps:
      - ws:
          path: /echo
          steps:
            - listen: 1100ms
            - send: { text: done }
            - expect: { contains: done, timeout: 1s }
      - think: 60s
EOF2
wrun pings /echo $V --ws-ping-every 200ms
check "pings: exit 0, sessions completed" eq "$RC $(sessions)" "0 $V $V 0 0"
# One every 200 ms of a session: 5 in its 1.1 s, fewer if a loaded
# machine fires the timer late, never more than its length allows.
check "pings: sent, 3 a session at least" ge "$(j .ws.pings_sent)" $((V * 3))
check "pings: no more than one per 200 ms of the longest session" \
	le "$(j .ws.pings_sent)" $((V * ($(j '.ws.session_ms.max | floor') / 200)))
check "pings: the server received each" eq "$(sum pings_recv)" "$(j .ws.pings_sent)"
check "pings: every pong it sent received" eq "$(j .ws.pongs_received)" "$(sum pongs_sent)"
check "pings: the report says 0.2 s" eq "$(j .ws.ping_every_s)" 0.2
check_ws_accounting pings

# --- 4. close codes both ways
scenario close <<EOF2
target: $WS_URL
load: { vus: $V, duration: 3s }
scenarios:
  - name: close
    steps:
      - ws: { path: '/close?code=4321&reason=x', steps: [ { listen: 1s } ] }
      - ws: { path: '/close?code=1001', steps: [ { listen: 1s } ] }
      - ws: { path: /echo, steps: [ { close: { code: 3000 } } ] }
      - think: 60s
EOF2
MARK=$(log_mark "$WSSRV_LOG")
run_sp run "$TMP/close.yaml"
P=/; for _ in $(seq 100); do [ "$(ends)" -ge $((V * 3)) ] && break; sleep 0.1; done
check "close: exit 0, every session completed" eq "$RC $(sessions)" "0 $((V * 3)) $((V * 3)) 0 0"
check "close: codes received by bucket" eq "$(j '.ws.close_codes | tojson')" "{\"1001\":$V,\"3xxx\":$V,\"4xxx\":$V}"
check "close: the server sent 4321 and 1001" eq "$(wssrv_count "$MARK" /close close-sent 4321) $(wssrv_count "$MARK" /close close-sent 1001)" "$V $V"
check "close: we answered each with its own code" eq "$(wssrv_count "$MARK" /close close-recv 4321) $(wssrv_count "$MARK" /close close-recv 1001)" "$V $V"
check "close: the server received our 3000" eq "$(wssrv_count "$MARK" /echo close-recv 3000)" "$V"
check_ws_accounting close

# --- 5. a chat room, --vu-offset
V=5
ROOM=itws-$$-$RANDOM
scenario chat <<EOF2
target: $WS_URL
load: { vus: $V, duration: 5s }
scenarios:
  - name: chat
    steps:
      - request:
          method: POST
          path: /register
          headers: { Content-Type: application/x-www-form-urlencoded }
          body: "user=itws{{vu}}&password=pw"
          check: { status: 201 }
      - ws:
          path: /chat/$ROOM
          headers: { Cookie: "session=itws{{vu}}" }
          steps:
            - send: { text: '{"type":"join","user":"itws{{vu}}"}' }
            - expect: { contains: '"joined"', timeout: 2s }
            - loop:
                count: 3
                steps:
                  - send: { text: 'hi {{iteration}} from {{vu}}', measure: true }
                  - expect: { contains: '"type":"chat"', timeout: 2s }
            - listen: 1s
            - close: { code: 1000 }
      - think: 60s
EOF2
wrun chat "/chat/$ROOM" $V --vu-offset 100
P2=$P; P=/register
check "chat: the server registered each user (201)" eq "$(cnt http 201 '*')" "$V"
P=$P2
check "chat: exit 0, every session completed" eq "$RC $(sessions)" "0 $V $V 0 0"
check "chat: no failure" eq "$(nokinds)" ""
check "chat: users from --vu-offset 100 joined: itws101-105" \
	eq "$(since | awk '$3 == "join" { print $4 }' | sort | paste -sd' ')" "itws101 itws102 itws103 itws104 itws105"
check "chat: each upgraded as its Cookie's user" eq "$(since | awk '$3 == "open"' | grep -c ' user=itws10[1-5]$')" "$V"
check "chat: messages sent = the server's received (4 a session)" eq "$(j .ws.messages.sent) $(sum recv)" "$((V * 4)) $((V * 4))"
recv=$(j .ws.messages.received)
srv_sent=$(sum sent)
check "chat: we received no more than the server sent" le "$recv" "$srv_sent"
# What the server sent and we did not count can only be 'leave' notices
# reaching a member that had already sent its close: at most one per
# leave for each other member.
leaves=$(cnt leave '*')
check "chat: ... and all but the late leave notices" ge "$recv" $((srv_sent - leaves * (V - 1)))
check "chat: at least our own joined answer and 3 echoes each" ge "$recv" $((V * 4))
check "chat: ws.rtt timed 3 a session" eq "$(ws_count_line "ws rtt")" $((V * 3))
check_ws_accounting chat
check_http_accounting

# --- 6. loops: around a ws: block and inside it
V=2
scenario loops <<EOF2
target: $WS_URL
load: { vus: $V, duration: 3s }
scenarios:
  - name: loops
    steps:
      - loop:
          count: 3
          steps:
            - ws:
                path: /echo
                steps:
                  - loop:
                      count: 4
                      steps:
                        - send: { text: 'm {{iteration}}' }
                        - expect: { contains: 'm ', timeout: 2s }
                  - close: { code: 1000 }
      - think: 60s
EOF2
wrun loops /echo $((V * 3))
check "loops: exit 0, 3 sessions a VU, all completed" eq "$RC $(sessions)" "0 $((V * 3)) $((V * 3)) 0 0"
check "loops: the server upgraded 3 a VU" eq "$(cnt open '*')" $((V * 3))
check "loops: 4 messages a session, each way" eq "$(j .ws.messages.sent) $(sum recv) $(j .ws.messages.received) $(sum sent)" \
	"$((V * 12)) $((V * 12)) $((V * 12)) $((V * 12))"
check "loops: each connection received 4" eq "$(since | awk '$3 == "end" { print $6 }' | sort -u)" "recv=4"
check_ws_accounting loops

# --- 7. a run cut by its duration: the open sessions get close 1001
V=4
scenario cut <<EOF2
target: $WS_URL
load: { vus: $V, duration: 2s }
scenarios:
  - name: cut
    steps:
      - ws:
          path: /echo
          steps:
            - loop:
                count: 20
                steps:
                  - send: { text: 'c {{iteration}}' }
                  - expect: { contains: 'c ', timeout: 2s }
                  - think: 10ms
      - think: 5ms
EOF2
MARK=$(log_mark "$WSSRV_LOG")
run_sp run "$TMP/cut.yaml"
P=/echo
started=$(j .ws.sessions.started)
for _ in $(seq 100); do [ "$(ends)" -ge "$started" ] && break; sleep 0.1; done
intr=$(j .ws.sessions.interrupted)
check "cut: exit 0" eq "$RC" 0
check "cut: sessions started = the server's upgrades" eq "$started" "$(cnt open '*')"
check "cut: several sessions completed" ge "$(j .ws.sessions.completed)" $((V * 2))
check "cut: no failure" eq "$(j .ws.sessions.failed)" 0
check "cut: one session per VU interrupted at most" le "$intr" "$V"
check_ws_closes cut "$(cnt close-recv 1000)" "$(cnt close-recv 1001)" "$(j .ws.sessions.completed)" "$intr"
check "cut: every message we sent reached the server" eq "$(j .ws.messages.sent)" "$(sum recv)"
srv_sent=$(sum sent)
check "cut: we received no more than the server sent" le "$(j .ws.messages.received)" "$srv_sent"
check "cut: ... and missed at most one echo per interrupted session" ge "$(j .ws.messages.received)" $((srv_sent - intr))
check "cut: completed sessions each sent 20" eq "$(since | awk '$3 == "end" && $NF ~ /ms=/ && $0 ~ /close_recv=1000/ { print $5 }' | sort -u)" "sent=20"
check_ws_accounting cut
finish
