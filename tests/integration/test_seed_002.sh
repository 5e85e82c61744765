#!/usr/bin/env bash
# config/seeds/002-chat.yaml (seed 002, reunhangout: Django registration
# and login with the CSRF cookie, then the plenary's WebSocket: join,
# chat, leave) as it ships, through the test bed's front (nginx :8070),
# shortened by the command line, run twice as two client machines would
# split one range of users: --vu-offset 0, then --vu-offset V.
# Witnesses: the app's log (tools/sp-appsrv.c), sp-wssrv's and the
# front's. For each run:
#  - exit 0, the file's thresholds hold, nothing failed;
#  - vu_setup once per VU: the login page, the registration and the
#    login, each for exactly the offset's users; no 403 (the CSRF field
#    matched the cookie) nor 401;
#  - the event page: each request carried the session the app gave its
#    own user's login (the jar), our count is the app's;
#  - WebSocket: sp-wssrv upgraded each session (through the front), the
#    joins are the offset's users, every message sent was received,
#    completed sessions closed 1000 after their join and 5 chats;
#  - nothing allocated after start.
# And the two runs registered disjoint users, together 1..2V.
. "$(dirname "$0")/lib.sh"

[ -e "$FRONT_LOG" ] || { echo "test bed without the front: tools/testbed down; tools/testbed up" >&2; exit 1; }
SEED=$(dirname "$0")/../../config/seeds/002-chat.yaml
V=4
P=/chat/plenary
users() { sort -u | paste -sd' '; }

# one OFFSET: a run with that offset, its checks; its users in $TMP/users.OFFSET
one() {
	local off=$1 mark wmark fmark end want t="002 (--vu-offset $1)"
	mark=$(log_mark "$APPSRV_LOG")
	wmark=$(log_mark "$WSSRV_LOG")
	fmark=$(log_mark "$FRONT_LOG")
	run_sp run "$SEED" --duration 12s --vus $V --vu-offset "$off"
	wssrv_wait_ends "$wmark" "$(j .ws.sessions.started)" || true
	end=$(log_mark "$APPSRV_LOG")
	app() { appsrv_lines "$mark" "$end"; }
	appu() { app | awk -v m="$1" -v p="$2" -v st="$3" '$3 == m && $4 == p && $5 == st { print $6 }' | users; }
	wss() { log_since "$WSSRV_LOG" "$wmark"; }
	want=$(seq $((off + 1)) $((off + V)) | sed 's/^/loadtest/' | sort | paste -sd' ')

	check "$t: exit 0" eq "$RC" 0
	check "$t: every threshold of the file held" eq "$(j '[.thresholds[].ok] | all') $(j '.thresholds | length')" "true 4"
	check "$t: no request failed, load or lifecycle" eq "$(j .summary.errors) $(j .lifecycle_summary.errors)" "0 0"
	check "$t: each VU completed an iteration at least" ge "$(j '.scenarios[0].completed')" "$V"
	check "$t: the front passed each app request" eq "$(front_count "$fmark" 8000)" "$(app | wc -l)"
	check "$t: vu_setup ran once per VU" eq "$(j '[.lifecycle[] | select(.kind == "vu_setup") | .started] | add')" "$V"
	check "$t: the app served $((3 * V)) lifecycle requests" eq "$(app | awk '$4 == "/login" || $4 == "/register"' | wc -l)" $((3 * V))
	check "$t: login page: once per VU" eq "$(app | awk '$3 == "GET" && $4 == "/login" && $5 == 200' | wc -l)" "$V"
	check "$t: registered: exactly the offset's users" eq "$(appu POST /register 201)" "$want"
	check "$t: ... each once" eq "$(app | awk '$4 == "/register"' | wc -l)" "$V"
	check "$t: logged in (302): exactly the offset's users, each once" \
		eq "$(appu POST /login 302) $(app | awk '$3 == "POST" && $4 == "/login"' | wc -l)" "$want $V"
	check "$t: no 401 or 403 (the CSRF field matched the cookie)" \
		eq "$(app | awk '$8 == "unauth" || $8 == "forbidden"' | wc -l)" 0
	check "$t: event pages: ours = the app's 200s" \
		eq "$(j '.requests[] | select(.name == "event page") | .responses')" "$(app | awk '$4 == "/home" && $5 == 200' | wc -l)"
	check "$t: each event page carried the session its user's login got" \
		eq "$(app | awk '$3 == "POST" && $4 == "/login" && $5 == 302 { u[$7] = $6; next }
			$4 == "/home" && !($7 ~ /^s:/ && u[$7] == $6) { bad++ } END { print bad + 0 }')" 0
	check "$t: the event pages were the offset's users'" eq "$(appu GET /home 200)" "$want"
	check "$t: sp-wssrv upgraded each session, through the front" \
		eq "$(wssrv_count "$wmark" "$P" open '*') $(front_count "$fmark" 8090 101)" \
		"$(j '.requests[] | select(.name == "plenary socket") | .responses') $(j .ws.sessions.started)"
	check "$t: the app's cookies did not trip sp-wssrv (no 403)" eq "$(wssrv_count "$wmark" "" http 403 '*')" 0
	check "$t: joined as the offset's users" \
		eq "$(wss | awk -v p="$P" '$2 == p && $3 == "join" { print $4 }' | users)" "$want"
	check "$t: every message we sent, sp-wssrv received" eq "$(j .ws.messages.sent)" "$(wssrv_sum "$wmark" "$P" recv)"
	check "$t: completed sessions closed 1000 (leave)" \
		eq "$(wssrv_count "$wmark" "$P" close-recv 1000)" "$(j .ws.sessions.completed)"
	check "$t: each completed session sent its join and 5 chats" \
		eq "$(wss | awk -v p="$P" '$2 == p && $3 == "end" && / close_recv=1000 / { print $6 }' | sort -u)" "recv=6"
	check "$t: each leave went to the room" \
		eq "$(wssrv_count "$wmark" "$P" leave '*')" "$(wssrv_count "$wmark" "$P" join '*')"
	check "$t: sp-wssrv logged no error of ours" eq "$(wssrv_count "$wmark" "" error '*')" 0
	check_ws_accounting "$t"
	check_http_accounting
	check_pools
	appu POST /register 201 >"$TMP/users.$off"
}

one 0
one $V
check "002: the two offsets registered disjoint users" \
	eq "$(cat "$TMP/users.0" "$TMP/users.$V" | tr ' ' '\n' | sort | uniq -d | wc -l)" 0
check "002: ... together loadtest1..$((2 * V))" \
	eq "$(cat "$TMP/users.0" "$TMP/users.$V" | tr ' ' '\n' | users)" \
	"$(seq 1 $((2 * V)) | sed 's/^/loadtest/' | sort | paste -sd' ')"
finish
