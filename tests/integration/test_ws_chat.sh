#!/usr/bin/env bash
# config/chat.yaml (seed 002's chat rig) as it ships, against the test
# bed's sp-wssrv, shortened by the command line (--duration, --vus) and
# moved to another range of users (--vu-offset): each VU registers over
# HTTP, opens a WebSocket to the room with its cookie, joins, chats ten
# times with think times and leaves. Witness: sp-wssrv's log.
#  - exit 0, every threshold of the file passes;
#  - registrations: our 201s = the server's, for exactly the offset's users;
#  - sessions: the server upgraded each one we started (bar an upgrade cut
#    by the end), its users the offset's; completed ones closed 1000
#    (with the file's reason), interrupted ones 1001, as it received them;
#  - messages: every one we sent the server received (exactly, all
#    sessions); each completed session sent its join and 10 chats; every
#    join answered and matched; we received no more than the room sent.
. "$(dirname "$0")/lib.sh"

[ -e "$WSSRV_LOG" ] || { echo "test bed without sp-wssrv: tools/testbed down; tools/testbed up" >&2; exit 1; }
CHAT=$(dirname "$0")/../../config/chat.yaml
V=6
OFF=20
P=/chat/plenary

MARK=$(log_mark "$WSSRV_LOG")
run_sp run "$CHAT" --duration 25s --vus $V --vu-offset $OFF
started=$(j .ws.sessions.started)
completed=$(j .ws.sessions.completed)
intr=$(j .ws.sessions.interrupted)
wssrv_wait_ends "$MARK" "$started" || true
since() { log_since "$WSSRV_LOG" "$MARK"; }
users() { sort -u | paste -sd' '; } # the names read, sorted, unique
want_users=$(seq $((OFF + 1)) $((OFF + V)) | sed 's/^/loadtest/' | sort | paste -sd' ')

check "chat.yaml: exit 0" eq "$RC" 0
check "chat.yaml: every threshold of the file passed" eq "$(j '[.thresholds[].ok] | all') $(j '.thresholds | length')" "true 4"
check "chat.yaml: each VU completed a session at least" ge "$completed" "$V"
check "chat.yaml: no session failed" eq "$(j .ws.sessions.failed)" 0
check "chat.yaml: registrations: our 201s = the server's" \
	eq "$(j '.requests[] | select(.name == "register") | .responses')" "$(wssrv_count "$MARK" /register http 201 '*')"
check "chat.yaml: registered the users of --vu-offset $OFF, no other" \
	eq "$(since | awk '$2 == "/register" && $3 == "http" { sub(/^user=/, "", $5); print $5 }' | users)" "$want_users"
up_intr=$(j '.requests[] | select(.name == "plenary") | .interrupted')
check "chat.yaml: the server upgraded each session we started (bar upgrades cut by the end)" \
	eq "$(wssrv_count "$MARK" "$P" open '*')" $((started - up_intr))
check "chat.yaml: ... each as its cookie's user, the offset's" \
	eq "$(since | awk -v p="$P" '$2 == p && $3 == "open" { sub(/^user=/, "", $NF); print $NF }' | users)" "$want_users"
check "chat.yaml: joined as the offset's users" \
	eq "$(since | awk -v p="$P" '$2 == p && $3 == "join" { print $4 }' | users)" "$want_users"
check "chat.yaml: every message we sent, the server received" eq "$(j .ws.messages.sent)" "$(wssrv_sum "$MARK" "$P" recv)"
check_ws_closes chat.yaml "$(wssrv_count "$MARK" "$P" close-recv 1000)" "$(wssrv_count "$MARK" "$P" close-recv 1001)" \
	"$completed" $((intr - up_intr))
check "chat.yaml: each completed session sent its join and 10 chats" \
	eq "$(since | awk -v p="$P" '$2 == p && $3 == "end" && / close_recv=1000 / { print $6 }' | sort -u)" "recv=11"
joins=$(wssrv_count "$MARK" "$P" join '*')
check "chat.yaml: the server saw a join from every completed session" ge "$joins" "$completed"
check "chat.yaml: ... and from no more sessions than it upgraded" le "$joins" "$(wssrv_count "$MARK" "$P" open '*')"
check "chat.yaml: matched: the completed sessions' joined and 10 echoes each at least" \
	ge "$(j .ws.messages.matched)" $((completed * 11))
# The echo's expect names the VU's own user ("user":"loadtest{{vu}}"): no
# other user's chat is taken for it, so no session matches more than its
# joined and its 10 echoes.
check "chat.yaml: ... and no more than its own: 11 a session at most" \
	le "$(j .ws.messages.matched)" $(((completed + intr) * 11))
check "chat.yaml: we received no more than the room sent us" le "$(j .ws.messages.received)" "$(wssrv_sum "$MARK" "$P" sent)"
check "chat.yaml: pings: the server received each we sent" eq "$(j .ws.pings_sent)" "$(wssrv_sum "$MARK" "$P" pings_recv)"
check "chat.yaml: pongs: each the server sent, we received" eq "$(j .ws.pongs_received)" "$(wssrv_sum "$MARK" "$P" pongs_sent)"
check "chat.yaml: the server logged no error of ours" eq "$(wssrv_count "$MARK" "" error '*')" 0
check_ws_accounting chat.yaml
check_http_accounting
finish
