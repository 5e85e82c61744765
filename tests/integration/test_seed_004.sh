#!/usr/bin/env bash
# config/seeds/004-milmove.yaml (seed 004, MilMove's Locust classes) as it
# ships, against the test bed's app, shortened by --duration; then with
# --tags and --exclude-tags. Witness: the app's log (tools/sp-appsrv.c),
# one line per request in the order answered, with the user, the
# credential and the connection.
#  - exit 0, the file's thresholds hold, nothing failed;
#  - fixed counts: PrimeUser 2 users (prime1, prime2), ServiceMemberUser 3
#    (sm3-sm5), OfficeUser 1 (office6), none other;
#  - vu_setup once per VU: each user registered and logged in once,
#    before any of its load requests; vu_teardown once per VU: one
#    logout each, after its last load request (a token user's on the
#    connection its login came on: the app logs no user for it);
#  - credentials: no 401 or 403; each request carried the token or the
#    session the app gave its own user's login;
#  - tasks on captured ids: each move and document the app created was
#    acted on (read, deleted) by its creator only, and deleted unless the
#    end interrupted the iteration;
#  - per-scenario and per-request counts are the app's;
#  - --tags prime: the Prime users alone; --exclude-tags office: all but
#    the office user;
#  - nothing allocated after start.
. "$(dirname "$0")/lib.sh"

need_appsrv
SEED=$(dirname "$0")/../../config/seeds/004-milmove.yaml
users() { sort -u | paste -sd' '; }
resp() { j ".requests[] | select(.name == \"$1\") | .responses"; }
sc() { j ".scenarios[] | select(.name == \"$1\") | .$2"; }
life() { j "[.lifecycle[] | select(.name == \"$1\") | .started] | add // 0"; }

# run_seed WHAT ARGS...: a run between two id probes; its lines of the
# app's log in $TMP/app, its items (appsrv_items) in $TMP/items.
run_seed() {
	local id0 id1 mark end
	id0=$(appsrv_probe_id)
	mark=$(log_mark "$APPSRV_LOG")
	run_sp run "$SEED" "$@"
	end=$(log_mark "$APPSRV_LOG")
	id1=$(appsrv_probe_id)
	appsrv_lines "$mark" "$end" >"$TMP/app"
	appsrv_items "$mark" "$end" $((id0 + 1)) >"$TMP/items"
	CREATED=$((id1 - id0 - 1))
}
# Each user's lines with the user filled in from its connection (a VU
# keeps its one keep-alive connection; the login page and a token user's
# logout are logged with user "-"): "N USER METHOD PATH STATUS CRED", N
# the line's order.
attributed() {
	awk 'NR == FNR { if ($6 != "-") u[$2] = $6; next }
		{ print FNR, ($6 != "-" ? $6 : (($2 in u) ? u[$2] : "-")), $3, $4, $5, $7 }' "$TMP/app" "$TMP/app"
}
# class_users PREFIX: the users of that class in the run
class_users() { attributed | awk -v p="^$1[0-9]+$" '$2 ~ p { print $2 }' | users; }

# 1. All three classes.
run_seed --duration 10s
t=004
check "$t: exit 0" eq "$RC" 0
check "$t: every threshold of the file held" eq "$(j '[.thresholds[].ok] | all') $(j '.thresholds | length')" "true 2"
check "$t: no request failed, load or lifecycle" eq "$(j .summary.errors) $(j .lifecycle_summary.errors)" "0 0"
check "$t: the app answered nothing but 2xx and the logins' 302" eq "$(awk '$5 !~ /^2/ && !($4 == "/login" && $5 == 302)' "$TMP/app" | wc -l)" 0
check "$t: PrimeUser: its fixed 2 users" eq "$(class_users prime)" "prime1 prime2"
check "$t: ServiceMemberUser: its fixed 3 users" eq "$(class_users sm)" "sm3 sm4 sm5"
check "$t: OfficeUser: its fixed 1 user" eq "$(class_users office)" "office6"
check "$t: nobody else" eq "$(attributed | awk '$2 !~ /^(prime[12]|sm[345]|office6)$/' | wc -l)" 0
for c in PrimeUser ServiceMemberUser OfficeUser; do
	check "$t: $c: vu_setup and vu_teardown once per VU (report)" \
		eq "$(life "$c.vu_setup") $(life "$c.vu_teardown")" "$(j ".scenarios[] | select(.name == \"$c\") | .load.vus") $(j ".scenarios[] | select(.name == \"$c\") | .load.vus")"
done
# Per user: one registration, one login, one logout, in that order,
# around all its other requests.
check "$t: each user: one register, one login, one logout; login first after register, logout last" \
	eq "$(attributed | awk '
		{ u = $2; k = $3 " " $4 }
		k == "POST /register" { reg[u]++; if (u in first) bad[u] = "register late"; first[u] = $1; next }
		k == "POST /api/token" || k == "POST /login" { login[u]++; if (!(u in reg) || seen[u]) bad[u] = "login late"; next }
		k == "GET /login" { next }
		k == "POST /logout" { out[u]++; next }
		{ seen[u] = 1; if (out[u]) bad[u] = "after logout" }
		END { for (u in reg) if (login[u] != 1 || out[u] != 1 || reg[u] != 1) bad[u] = "counts " reg[u] "/" login[u] "/" out[u]
		      n = 0; for (u in bad) { print u, bad[u] > "/dev/stderr"; n++ }
		      for (u in out) if (!(u in reg)) n++
		      print n, length(reg) }')" "0 6"
check "$t: the session users fetched the login page once each" \
	eq "$(attributed | awk '$3 == "GET" && $4 == "/login"' | wc -l)" 4
check "$t: no 401 or 403" eq "$(awk '$8 == "unauth" || $8 == "forbidden"' "$TMP/app" | wc -l)" 0
check "$t: every request carried the credential its own user's login got" \
	eq "$(awk '($4 == "/api/token" || $4 == "/login") && $3 == "POST" { c[$7] = $6; next }
		$4 ~ "^/api/items|^/home" && !(c[$7] == $6 && $7 != "-") { bad++ } END { print bad + 0 }' "$TMP/app")" 0
check "$t: the token users used tokens, the session users sessions" \
	eq "$(awk '$4 ~ "^/api/items|^/home" && !(($6 ~ /^prime/ && $7 ~ /^t:/) || ($6 !~ /^prime/ && $7 ~ /^s:/))' "$TMP/app" | wc -l)" 0
# Tasks on captured ids.
check "$t: creates: ours = the ids the app gave" \
	eq "$(( $(resp "prime: create move") + $(resp "sm: upload") ))" "$CREATED"
check "$t: moves: the Prime users' creates = the app's" \
	eq "$(resp "prime: create move")" "$(awk '$3 == "POST" && $4 == "/api/items" && $6 ~ /^prime/' "$TMP/app" | wc -l)"
check "$t: moves: each read at most once, deleted at most once, by its creator" \
	eq "$(awk '$4 > 1 || $5 > 1 || ($5 == 1 && $6 != $2)' "$TMP/items" | wc -l)" 0
check "$t: moves: reads and deletes = the app's" \
	eq "$(resp "prime: get move") $(resp "prime: delete move")" \
	"$(awk '$2 ~ /^prime/ { r += $4; d += $5 } END { print r + 0, d + 0 }' "$TMP/items")"
check "$t: documents: the service members' uploads = the app's" \
	eq "$(resp "sm: upload")" "$(awk '$2 ~ /^sm/' "$TMP/items" | wc -l)"
check "$t: documents: deletes = the app's" \
	eq "$(resp "sm: delete upload")" "$(awk '$2 ~ /^sm/ { d += $5 } END { print d + 0 }' "$TMP/items")"
check "$t: items left: no more than the create-and-act iterations the end interrupted" \
	le "$(awk '$5 == 0' "$TMP/items" | wc -l)" $(( $(sc PrimeUser interrupted) + $(sc ServiceMemberUser interrupted) ))
check "$t: office: its queue reads = the app's" \
	eq "$(resp "office: queue")" "$(awk '$3 == "GET" && $4 == "/api/items" && $6 ~ /^office/' "$TMP/app" | wc -l)"
check "$t: service members: their home pages = the app's" \
	eq "$(resp "sm: home")" "$(awk '$4 == "/home" && $5 == 200' "$TMP/app" | wc -l)"
check "$t: per scenario: iterations started = their first task's requests" \
	eq "$(sc PrimeUser started) $(sc ServiceMemberUser started) $(sc OfficeUser started)" \
	"$(resp "prime: create move") $(resp "sm: home") $(resp "office: queue")"
check_http_accounting
check_pools

# 2. --tags prime: the Prime users alone.
run_seed --duration 4s --tags prime
t="004 --tags prime"
check "$t: exit 0" eq "$RC" 0
check "$t: the Prime users alone, both of them" eq "$(attributed | awk '{ print $2 }' | users)" "prime1 prime2"
check "$t: the report's scenarios: PrimeUser alone ran" \
	eq "$(j '[.scenarios[] | select(.started > 0) | .name] | join(" ")')" PrimeUser
check "$t: lifecycle: PrimeUser's alone" \
	eq "$(j '[.lifecycle[] | select(.started > 0) | .name] | join(" ")')" "PrimeUser.vu_setup PrimeUser.vu_teardown"
check "$t: one login and one logout each" \
	eq "$(attributed | awk '$4 == "/api/token" || $4 == "/logout" { print $2, $4 }' | sort | uniq -c | awk '{ print $1 }' | sort -u)" 1
check_pools

# 3. --exclude-tags office: all but the office user.
run_seed --duration 4s --exclude-tags office
t="004 --exclude-tags office"
check "$t: exit 0" eq "$RC" 0
check "$t: the Prime users and the service members, no office user" \
	eq "$(attributed | awk '{ print $2 }' | users)" "prime1 prime2 sm3 sm4 sm5"
check "$t: the report's scenarios: OfficeUser did not run" \
	eq "$(j '[.scenarios[] | select(.started > 0) | .name] | join(" ")')" "PrimeUser ServiceMemberUser"
check "$t: no office lifecycle" eq "$(life OfficeUser.vu_setup)" 0
check_pools
finish
