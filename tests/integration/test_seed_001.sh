#!/usr/bin/env bash
# config/seeds/001-mix.yaml (seed 001, Artillery: CSRs logging in and
# idling, creating and deleting appointments, on a WebSocket board) as it
# ships, through the test bed's front (nginx :8070: /ws/ to sp-wssrv, the
# rest to sp-appsrv), shortened by the command line (--duration, --rate).
# Witnesses: the app's log (tools/sp-appsrv.c), sp-wssrv's and the
# front's.
#  - exit 0, the file's thresholds hold, nothing failed;
#  - every request went through the front, to the right server;
#  - registrations (vu_setup, once per VU slot in the open model) and
#    logins: our counts are the app's; the users are csr1..csr200;
#  - credentials: no 401 or 403; every item request carried a token the
#    app issued to the user it acted for;
#  - appointments: each id the app gave is read and deleted once, by the
#    user who created it; the few not deleted are no more than the
#    create-and-delete iterations the end interrupted;
#  - per-scenario and per-request counts are the app's and sp-wssrv's;
#  - WebSocket: sessions, closes and messages as sp-wssrv logged them;
#  - nothing allocated after start.
. "$(dirname "$0")/lib.sh"

[ -e "$FRONT_LOG" ] || { echo "test bed without the front: tools/testbed down; tools/testbed up" >&2; exit 1; }
SEED=$(dirname "$0")/../../config/seeds/001-mix.yaml
P=/chat/csr-board
S_LOAD="CSR – Login, load data, idle"
S_APPT="CSR – Create and delete appointments"
S_WS="CSR – Websockets"

ID0=$(appsrv_probe_id)
MARK=$(log_mark "$APPSRV_LOG")
WMARK=$(log_mark "$WSSRV_LOG")
FMARK=$(log_mark "$FRONT_LOG")
run_sp run "$SEED" --duration 15s --rate 4
wssrv_wait_ends "$WMARK" "$(j .ws.sessions.started)" || true
END=$(log_mark "$APPSRV_LOG")
ID1=$(appsrv_probe_id)
app() { appsrv_lines "$MARK" "$END"; }
# resp NAME: the responses of the load's request NAME
resp() { j ".requests[] | select(.name == \"$1\") | .responses"; }
# sc NAME FIELD: a scenario's figure
sc() { j ".scenarios[] | select(.name == \"$1\") | .$2"; }
# appn METHOD PATH STATUS: the app's lines of our run ('*' as appsrv_count)
appn() { app | awk -v m="$1" -v p="$2" -v st="$3" '$3 == m && (p == "N" ? $4 ~ "^/api/items/[0-9]+$" : $4 == p) && $5 == st { n++ } END { print n + 0 }'; }

check "001: exit 0" eq "$RC" 0
check "001: every threshold of the file held" eq "$(j '[.thresholds[].ok] | all') $(j '.thresholds | length')" "true 3"
check "001: no load request failed" eq "$(j .summary.errors)" 0
check "001: no lifecycle request failed" eq "$(j .lifecycle_summary.errors)" 0
check "001: no iteration failed" eq "$(j .summary.iterations.failed)" 0
check "001: each scenario ran" eq "$(j '[.scenarios[] | select(.started > 0)] | length')" 3

# The front: all of it went through nginx :8070, HTTP to the app and the
# upgrades to sp-wssrv.
check "001: the front passed each app request (its lines = the app's)" \
	eq "$(front_count "$FMARK" 8000)" "$(app | wc -l)"
check "001: ... and each WebSocket upgrade to sp-wssrv (101)" \
	eq "$(front_count "$FMARK" 8090 101)" "$(resp board)"
check "001: the app answered nothing but 2xx" eq "$(app | awk '$5 !~ /^2/' | wc -l)" 0

# Registrations and logins.
check "001: registrations: one per VU slot used (vu_setup), the app's 201s" \
	eq "$(j '[.lifecycle[] | select(.kind == "vu_setup") | .started] | add')" "$(appn POST /register 201)"
check "001: registered users are csr1..csr200" \
	eq "$(app | awk '$4 == "/register" && $6 !~ /^csr([1-9][0-9]?|1[0-9][0-9]|200)$/' | wc -l)" 0
logins=$(( $(resp "load: login") + $(resp "appt: login") + $(resp "ws: login") ))
check "001: logins: ours = the app's token lines" eq "$logins" "$(appn POST /api/token 200)"
check "001: ... one per iteration started" eq "$logins" "$(j .summary.iterations.started)"

# Credentials: no 401 or 403 at all; each item request's token (its
# first 8 characters) was issued by a login of the same user.
check "001: no 401 or 403" eq "$(app | awk '$8 == "unauth" || $8 == "forbidden"' | wc -l)" 0
check "001: every item request carried a token the app issued to its user" \
	eq "$(app | awk '$4 == "/api/token" { u[$7] = $6; next }
		$4 ~ "^/api/items" && !($7 ~ /^t:/ && u[$7] == $6) { bad++ }
		END { print bad + 0 }')" 0

# Appointments: the ids the app gave between the probes.
first=$((ID0 + 1))
created=$((ID1 - ID0 - 1))
app_items() { appsrv_items "$MARK" "$END" "$first"; }
check "001: creates: ours = the app's ids given in between" eq "$(resp "appt: create")" "$created"
check "001: ... = the app's 201s" eq "$(appn POST /api/items 201)" "$created"
check "001: deletes: ours = the app's 204s" eq "$(resp "appt: delete")" "$(appn DELETE N 204)"
check "001: reads: ours = the app's 200s" eq "$(resp "appt: read")" "$(appn GET N 200)"
check "001: each deleted appointment was deleted once, by its creator" \
	eq "$(app_items | awk '$5 > 1 || ($5 == 1 && $6 != $2)' | wc -l)" 0
check "001: each read was its creator's, at most once" \
	eq "$(app_items | awk '$4 > 1' | wc -l)" 0
check "001: no id outside ours was read or deleted" \
	eq "$(app | awk -v a="$first" -v b="$ID1" '$4 ~ "^/api/items/[0-9]+$" { i = substr($4, 12) + 0; if (i < a || i >= b) n++ } END { print n + 0 }')" 0
left=$(app_items | awk '$5 == 0' | wc -l)
check "001: appointments left: no more than the interrupted create-and-delete iterations" \
	le "$left" "$(sc "$S_APPT" interrupted)"
check "001: ... each completed create-and-delete iteration deleted its own" \
	eq "$(sc "$S_APPT" completed)" "$(app_items | awk '$5 == 1' | wc -l)"

# Per scenario: the report's iterations against the witnesses.
check "001: $S_LOAD: started = its logins" eq "$(sc "$S_LOAD" started)" "$(resp "load: login")"
check "001: $S_LOAD: its health checks = the app's" eq "$(resp "load: health")" "$(appn GET /api/health 200)"
check "001: $S_LOAD: completed = its refreshes" eq "$(sc "$S_LOAD" completed)" "$(resp "load: refresh")"
check "001: $S_LOAD: the app's item lists = its loads and refreshes" \
	eq "$(appn GET /api/items 200)" $(( $(resp "load: appointments") + $(resp "load: refresh") ))
check "001: $S_APPT: started = its logins" eq "$(sc "$S_APPT" started)" "$(resp "appt: login")"
check "001: $S_WS: started = its logins" eq "$(sc "$S_WS" started)" "$(resp "ws: login")"
check "001: $S_WS: sp-wssrv's sessions on the board = our upgrades" \
	eq "$(wssrv_count "$WMARK" "$P" open '*')" "$(resp board)"
check "001: $S_WS: completed = sessions that closed 1000 at sp-wssrv" \
	eq "$(sc "$S_WS" completed)" "$(wssrv_count "$WMARK" "$P" close-recv 1000)"
check "001: WebSocket sessions started = our upgrades" eq "$(j .ws.sessions.started)" "$(resp board)"
check "001: every message we sent, sp-wssrv received" eq "$(j .ws.messages.sent)" "$(wssrv_sum "$WMARK" "$P" recv)"
check "001: each completed session sent its join and 3 updates" \
	eq "$(log_since "$WSSRV_LOG" "$WMARK" | awk -v p="$P" '$2 == p && $3 == "end" && / close_recv=1000 / { print $6 }' | sort -u)" "recv=4"
check "001: joined as csr users" \
	eq "$(log_since "$WSSRV_LOG" "$WMARK" | awk -v p="$P" '$2 == p && $3 == "join" && $4 !~ /^csr[0-9]+$/' | wc -l)" 0
check "001: we received no more than the board sent us" le "$(j .ws.messages.received)" "$(wssrv_sum "$WMARK" "$P" sent)"
check "001: sp-wssrv logged no error of ours" eq "$(wssrv_count "$WMARK" "" error '*')" 0
check_ws_accounting 001
check_http_accounting
check_pools
finish
