#!/usr/bin/env bash
# Seed 003's five tests, config/seeds/003-{smoke,load,stress,spike,
# endurance}.yaml as they are, their stages scaled from minutes to seconds
# on the command line (the same shape), against the test app
# (tools/sp-appsrv.c), whose log and state are the witness:
#  - each run passes the seed's thresholds against the healthy app (p95,
#    p99, error rate, and throughput but in the smoke test), all evaluated;
#  - the app's lines per endpoint equal the report's counts of the
#    requests that go there (the load's and the lifecycle's), and the app
#    answered nothing else; nothing unauthenticated;
#  - the AdminUser scenario (vus: 2) had exactly 2 VUs, numbered right
#    after the shared load's peak (adminP+1, adminP+2), the platform users
#    numbered within the shared peak; every user a VU registered, its
#    vu_teardown deleted, and the app's user count is back to its start;
#  - --tags health sends nothing but GET /api/health (no login, no admin);
#    --exclude-tags write sends no write of the load (no POST or DELETE
#    of /api/items), as the seed's Locust commands do;
#  - with the health check slowed by the app (?delay_ms=600), the smoke
#    test fails its p95 threshold and holds the others.
. "$(dirname "$0")/lib.sh"

DIR=$(dirname "$0")/../../config/seeds
need_appsrv
count_users() {
	ip netns exec "$NS" curl -sS --max-time 10 "$APP_URL/users/count" | jq -r .count
}
# Users a killed run left behind would make the count's start theirs:
# delete them first (404 when there is none; curl's [1-202] is a range).
for u in platform admin; do
	ip netns exec "$NS" curl -sS --max-time 60 -X DELETE -H 'X-Admin-Key: bed-admin' \
		-o /dev/null "$APP_URL/users/$u[1-202]"
done
N0=$(count_users)
check "the app's user count at the start" ge "$N0" 0

# rcount NAME...: the report's responses to the requests so named, the
# load's and the lifecycle's together.
rcount() {
	local names
	names=$(printf '"%s",' "$@")
	j "[(.requests[]?, .lifecycle[]?.requests[]) | select(.name | IN(${names%,})) | .responses] | add // 0"
}
# lines METHOD PATH STATUS: the app's lines since MARK ('*' as appsrv_count).
lines() { appsrv_count "$MARK" "$1" "$2" "$3"; }
# users PREFIX: the distinct users since MARK that registered with PREFIX.
users() {
	awk -v p="$1" '$3 == "POST" && $4 == "/register" && index($6, p) == 1 { print $6 }' "$TMP/app.log" |
		sort -u | tr '\n' ' '
}

# run_003 TEST PEAK NTHRESH ARGS...: run config/seeds/003-TEST.yaml with
# ARGS (PEAK: the shared load's peak VUs) and check it.
run_003() {
	local t=$1 peak=$2 nth=$3 resp lresp
	shift 3
	MARK=$(log_mark "$APPSRV_LOG")
	run_sp run "$DIR/003-$t.yaml" "$@"
	check "$t: exit code 0: the thresholds held" eq "$RC" 0
	check "$t: stopped by the duration" eq "$(j .stopped_by)" duration
	check "$t: the file's $nth thresholds evaluated, all held" eq \
		"$(j '[(.thresholds | length), ([.thresholds[] | select(.ok)] | length)] | map(tostring) | join(" ")')" "$nth $nth"
	resp=$(j .summary.responses)
	lresp=$(j '.lifecycle_summary.responses // 0')
	check "$t: the app logged every response" appsrv_wait "$MARK" $((resp + lresp))
	log_since "$APPSRV_LOG" "$MARK" >"$TMP/app.log"
	check "$t: the app answered nothing else" eq "$(wc -l <"$TMP/app.log")" $((resp + lresp))
	check "$t: every answer ok (no 401, 403, 404)" eq "$(awk '$8 != "ok"' "$TMP/app.log" | wc -l)" 0
	check "$t: nothing failed, nothing interrupted" eq \
		"$(j '[.summary.errors, .summary.interrupted, .lifecycle_summary.errors, .lifecycle_summary.interrupted] | map(tostring) | join(" ")')" "0 0 0 0"
	check_http_accounting
	check_pools
}
# check_counts TEST: the report's counts against the app's lines, per
# endpoint (a query is not in the app's path).
check_counts() {
	local t=$1
	check "$t: GET /api/health" eq "$(lines GET /api/health 200)" "$(rcount health)"
	check "$t: GET /api/items (list, search, large search)" eq \
		"$(lines GET /api/items 200)" "$(rcount 'list workspaces' search 'large search')"
	check "$t: POST /api/items (create workspace, generate)" eq \
		"$(lines POST /api/items 201)" "$(rcount 'create workspace' generate)"
	check "$t: GET /api/items/N (execution, analyse)" eq \
		"$(lines GET '/api/items/*' 200)" "$(rcount execution analyse)"
	check "$t: DELETE /api/items/N (delete workspace, discard)" eq \
		"$(lines DELETE '/api/items/*' 204)" "$(rcount 'delete workspace' discard)"
	check "$t: GET /users/count (user count)" eq "$(lines GET /users/count 200)" "$(rcount 'user count')"
	check "$t: GET /home (audit)" eq "$(lines GET /home 200)" "$(rcount audit)"
	check "$t: POST /register (vu_setup)" eq "$(lines POST /register 201)" "$(rcount register 'admin register')"
	check "$t: GET /login (vu_setup)" eq "$(lines GET /login 200)" "$(rcount 'login form' 'admin login form')"
	check "$t: POST /login (vu_setup)" eq "$(lines POST /login 302)" "$(rcount login 'admin login')"
	check "$t: POST /logout (vu_teardown)" eq "$(lines POST /logout 204)" "$(rcount logout 'admin logout')"
	check "$t: DELETE /users/NAME (vu_teardown)" eq "$(lines DELETE '/users/*' 204)" "$(rcount 'delete user' 'admin delete user')"
}
# check_users TEST PEAK: AdminUser's fixed count and the VU numbers.
check_users() {
	local t=$1 peak=$2
	check "$t: AdminUser: exactly 2 VUs, after the shared $peak" eq \
		"$(users admin)" "admin$((peak + 1)) admin$((peak + 2)) "
	check "$t: AdminUser: 2 vu_setup runs" eq \
		"$(j '[.lifecycle[] | select(.name == "admin.vu_setup") | .started] | add')" 2
	check "$t: the audit requests are the 2 admins'" eq \
		"$(awk '$4 == "/home" { print $6 }' "$TMP/app.log" | sort -u | tr '\n' ' ')" "$(users admin)"
	check "$t: the platform users numbered within the shared peak" eq \
		"$(awk -v p="$peak" '$4 == "/register" && $6 ~ /^platform/ { n = substr($6, 9) + 0; if (n < 1 || n > p) b++ }
			END { print b + 0 }' "$TMP/app.log")" 0
	check "$t: every VU that registered, logged in and was deleted at its end" eq \
		"$(awk '$4 == "/register" { r[$6]++ } $3 == "POST" && $4 == "/login" { l[$6]++ }
			$3 == "DELETE" && $4 ~ /^\/users\// { d[$6]++ }
			END { for (u in r) if (r[u] != l[u] || r[u] != d[u]) b++; print b + 0 }' "$TMP/app.log")" 0
	check "$t: the sessions used are their users' own" eq \
		"$(awk '$3 == "POST" && $4 == "/login" { own[$7] = $6; next }
			$7 ~ /^s:/ && $4 != "/logout" && own[$7] != $6 { n++ } END { print n + 0 }' "$TMP/app.log")" 0
	check "$t: the user count is back to its start" eq "$(count_users)" "$N0"
}

# The five, their stages scaled from minutes to seconds (ramps 1 s, holds
# 2 s), the shape kept.
run_003 smoke 5 3 --duration 2s
check_counts smoke
check_users smoke 5
run_003 load 100 4 --stages 1s:100,2s:100,1s:0
check_counts load
check_users load 100
check "load: all five scenarios ran" eq "$(j '[.scenarios[] | select(.completed > 0)] | length')" 5
run_003 stress 200 4 --stages 1s:200,2s:200,1s:0
check_counts stress
check_users stress 200
run_003 spike 200 4 --stages 1s:20,2s:200,1s:20
check_counts spike
check_users spike 200
run_003 endurance 100 4 --stages 1s:100,2s:100
check_counts endurance
check_users endurance 100

# --tags health: only the health checks, no login (Locust's --tags health).
run_003 smoke 5 3 --duration 2s --tags health
check "tags health: only GET /api/health reached the app" eq \
	"$(awk '!($3 == "GET" && $4 == "/api/health")' "$TMP/app.log" | wc -l)" 0
check "tags health: health checks came" ge "$(lines GET /api/health 200)" 1
check "tags health: the report's one scenario" eq "$(j '[.scenarios[].name] | join(" ")')" health
check "tags health: no lifecycle request" eq "$(j '.lifecycle_summary.requests // 0')" 0

# --exclude-tags write: reads, health and admin; no write of the load.
run_003 smoke 5 3 --duration 2s --exclude-tags write
check "exclude write: no POST or DELETE of /api/items" eq \
	"$(awk '($3 == "POST" || $3 == "DELETE") && $4 ~ /^\/api\/items/' "$TMP/app.log" | wc -l)" 0
check "exclude write: the report's scenarios" eq "$(j '[.scenarios[].name] | join(" ")')" "health browse admin"
check "exclude write: reads came" ge "$(lines GET /api/items 200)" 1
check_counts "exclude write"
check_users "exclude write" 5

# The thresholds fail when the app is slow: the smoke file with its
# health check delayed 600 ms by the app (?delay_ms), nothing else
# changed: p95 and p99 over 500 ms, under 1000 ms.
sed 's|path: /api/health,|path: "/api/health?delay_ms=600",|' "$DIR/003-smoke.yaml" >"$TMP/slow.yaml"
check "slow: the copy differs in that path only" eq \
	"$(diff "$DIR/003-smoke.yaml" "$TMP/slow.yaml" | grep -c '^>')" 1
MARK=$(log_mark "$APPSRV_LOG")
run_sp run "$TMP/slow.yaml" --duration 2s --tags health
check "slow: exit code 1, a threshold failed" eq "$RC" 1
check "slow: p(95) < 500ms failed, p(99) < 1000ms and errors held" eq \
	"$(j '[.thresholds[] | "\(.expr)=\(.ok)"] | join(" ")')" \
	"p(95) < 500ms=false p(99) < 1000ms=true errors < 0.1%=true"
check "slow: the summary says FAILED" eq "$(grep -cE '^    FAILED +p\(95\) < 500ms' "$TMP/out.txt")" 1
check "slow: the app logged each response" appsrv_wait "$MARK" "$(j .summary.responses)"
finish
