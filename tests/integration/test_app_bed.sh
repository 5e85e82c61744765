#!/usr/bin/env bash
# The test bed's app (tools/sp-appsrv.c) driven through its whole flow by
# an independent client, curl with a cookie jar file, run inside the
# namespace (its address is the server's own, 198.18.0.2): registration
# (form and JSON, the same password again, another one), the user count,
# the CSRF cookie and form token, login refused without the token and
# with a bad password, the session cookie, /home with and without it, a
# token login, items created, listed, read and deleted by id with the
# session and with the token (401 without credentials, 403 for an unknown
# token and for another user's item), the cookie endpoints, ?delay_ms,
# logout, the users deleted (admin key) and the count back to its start,
# a malformed head. Every answer's status is checked, and the app's log
# must hold exactly the lines the requests should have made: the count for
# each method, path, status and outcome, users and credential prefixes.
# stampede itself is not run.
. "$(dirname "$0")/lib.sh"

need_appsrv

JAR=$TMP/jar
A=itapp-$$-a # two users of our own, so that a rerun cannot collide
B=itapp-$$-b
declare -A EXP=() # "METHOD PATH STATUS OUTCOME" -> requests expected
NREQ=0

# req NAME WANT METHOD PATH OUTCOME [CURL ARGS...]: one request from
# inside the namespace; its status must be WANT, and it counts for one log
# line with those fields (PATH's query cut). Body in $TMP/NAME.body,
# header lines (CR cut) in $TMP/NAME.hdr.
req() {
	local name=$1 want=$2 method=$3 path=$4 oc=$5 code key
	shift 5
	code=$(ip netns exec "$NS" curl -sS --max-time 20 -X "$method" \
		-o "$TMP/$name.body" -D "$TMP/$name.raw" -w '%{http_code}' \
		"$@" "$APP_URL$path")
	tr -d '\r' <"$TMP/$name.raw" >"$TMP/$name.hdr"
	check "$name: $method $path answers $want" eq "$code" "$want"
	key="$method ${path%%\?*} $want $oc"
	EXP[$key]=$((${EXP[$key]:-0} + 1))
	NREQ=$((NREQ + 1))
}
# body NAME: the answer's body; hdr NAME FIELD: the first value of that
# header field (any case).
body() { cat "$TMP/$1.body"; }
hdr() { awk -v f="$2" 'tolower($0) ~ "^" tolower(f) ": " { sub(/^[^:]*: /, ""); print; exit }' "$TMP/$1.hdr"; }
# cookie NAME: the value of cookie NAME in the jar, nothing if absent.
cookie() { awk -v n="$1" '!/^# / && $6 == n { v = $7 } END { print v }' "$JAR"; }
# setcookie NAME COOKIE: the whole Set-Cookie line for COOKIE in NAME's
# answer.
setcookie() { awk -v c="$2" 'tolower($0) ~ "^set-cookie: " c "=" { sub(/^[^:]*: /, ""); print; exit }' "$TMP/$1.hdr"; }
JSONH=(-H 'Content-Type: application/json')

MARK=$(log_mark "$APPSRV_LOG")

req health 200 GET /api/health ok
check "health: body" eq "$(body health)" '{"status":"ok"}'
req count0 200 GET /users/count ok
N0=$(body count0 | jq -r .count)
check "count: a number" ge "$N0" 0

# --- registration
req reg-a 201 POST /register ok --data-urlencode "user=$A" -d password=pa
check "register: body names the user" eq "$(body reg-a | jq -r .user)" "$A"
req reg-a2 201 POST /register ok -d "user=$A&password=pa"
req reg-a3 409 POST /register conflict -d "user=$A&password=other"
req reg-b 201 POST /register ok "${JSONH[@]}" -d "{\"user\":\"$B\",\"password\":\"pb\"}"
req reg-bad 400 POST /register bad -d 'user=no%20spaces&password=x'
req count1 200 GET /users/count ok
check "count: two more users" eq "$(body count1 | jq -r .count)" "$((N0 + 2))"

# --- the Django-style login: CSRF cookie and form token, then a session
req form 200 GET /login ok -c "$JAR" -b "$JAR"
CSRF=$(cookie csrftoken)
check "login form: csrftoken cookie set, 32 hex digits" eq "$(grep -cE '^[0-9a-f]{32}$' <<<"$CSRF")" 1
check "login form: Set-Cookie has Path=/" eq "$(setcookie form csrftoken)" "csrftoken=$CSRF; Path=/"
check "login form: the form carries the same token" eq \
	"$(grep -c "name=\"csrfmiddlewaretoken\" value=\"$CSRF\"" "$TMP/form.body")" 1
check "login form: HTML" eq "$(hdr form content-type)" "text/html; charset=utf-8"
req login-nocsrf 403 POST /login forbidden -c "$JAR" -b "$JAR" -d "user=$A&password=pa"
req login-badtok 403 POST /login forbidden -c "$JAR" -b "$JAR" \
	-d "user=$A&password=pa&csrfmiddlewaretoken=0123"
req login-nocookie 403 POST /login forbidden \
	-d "user=$A&password=pa&csrfmiddlewaretoken=$CSRF"
req login-badpw 401 POST /login unauth -c "$JAR" -b "$JAR" \
	-d "user=$A&password=wrong&csrfmiddlewaretoken=$CSRF"
check "no session before a good login" eq "$(cookie sessionid)" ""
req login 302 POST /login ok -c "$JAR" -b "$JAR" \
	-d "user=$A&password=pa&csrfmiddlewaretoken=$CSRF"
SID=$(cookie sessionid)
check "login: redirect to /home" eq "$(hdr login location)" /home
check "login: sessionid cookie, 32 hex digits" eq "$(grep -cE '^[0-9a-f]{32}$' <<<"$SID")" 1
check "login: sessionid is HttpOnly, Path=/" eq "$(setcookie login sessionid)" "sessionid=$SID; Path=/; HttpOnly"
check "login: a new csrftoken" eq "$([ -n "$(cookie csrftoken)" ] && [ "$(cookie csrftoken)" != "$CSRF" ] && echo new)" new
req home 200 GET /home ok -b "$JAR"
check "home: the user" eq "$(body home | jq -r .user)" "$A"
req home-anon 302 GET /home unauth
check "home without a session: redirect to /login" eq "$(hdr home-anon location)" /login
# The header form of the token (X-CSRFToken), as an API client sends it.
CSRF2=$(cookie csrftoken)
req login-hdr 302 POST /login ok -b "csrftoken=$CSRF2" -H "X-CSRFToken: $CSRF2" \
	-d "user=$B&password=pb"

# --- token login and items
req tok 200 POST /api/token ok "${JSONH[@]}" -d "{\"user\":\"$B\",\"password\":\"pb\"}"
TOK=$(body tok | jq -r .data.token)
check "token: 32 hex digits" eq "$(grep -cE '^[0-9a-f]{32}$' <<<"$TOK")" 1
check "token: for the user" eq "$(body tok | jq -r .data.user)" "$B"
req tok-bad 401 POST /api/token unauth "${JSONH[@]}" -d "{\"user\":\"$B\",\"password\":\"no\"}"
check "bad token login: an error in JSON" eq "$(body tok-bad | jq -r 'has("error")')" true
AUTHB=(-H "Authorization: Bearer $TOK")

req item-a 201 POST /api/items ok -b "$JAR" "${JSONH[@]}" -d '{"title":"first"}'
IA=$(body item-a | jq -r .id)
check "item: Location names its id" eq "$(hdr item-a location)" "/api/items/$IA"
check "item: title and owner" eq "$(body item-a | jq -c '[.title, .user]')" "[\"first\",\"$A\"]"
req items-anon 401 POST /api/items unauth -d 'title=x'
req items-badtok 403 GET /api/items forbidden -H 'Authorization: Bearer 00000000000000000000000000000000'
IB=()
for t in one two three; do
	req "item-b-$t" 201 POST /api/items ok "${AUTHB[@]}" -d "title=$t"
	IB+=("$(body "item-b-$t" | jq -r .id)")
done
check "items: ids increase" eq "$([ "${IB[0]}" -gt "$IA" ] && [ "${IB[1]}" -gt "${IB[0]}" ] && [ "${IB[2]}" -gt "${IB[1]}" ] && echo yes)" yes
req list-b 200 GET /api/items ok "${AUTHB[@]}"
check "list: B's three, newest first" eq "$(body list-b | jq -c '[.items[].id]')" "[${IB[2]},${IB[1]},${IB[0]}]"
req list-a 200 GET /api/items ok -b "$JAR"
check "list: A's one" eq "$(body list-a | jq -c '[.items[] | [.id, .title]]')" "[[$IA,\"first\"]]"
req get-a 200 GET "/api/items/$IA" ok -b "$JAR"
check "get: the item" eq "$(body get-a | jq -c '[.id, .title, .user]')" "[$IA,\"first\",\"$A\"]"
req get-other 403 GET "/api/items/$IA" forbidden "${AUTHB[@]}"
req get-anon 401 GET "/api/items/$IA" unauth
req get-none 404 GET /api/items/999999999 notfound "${AUTHB[@]}"
req del-a 204 DELETE "/api/items/$IA" ok -b "$JAR"
req del-a2 404 DELETE "/api/items/$IA" notfound -b "$JAR"
req del-other 403 DELETE "/api/items/${IB[0]}" forbidden -b "$JAR"
req del-b 204 DELETE "/api/items/${IB[0]}" ok "${AUTHB[@]}"

# --- cookies for jar tests
req sec 200 GET /secure-cookie ok -c "$JAR" -b "$JAR"
check "secure-cookie: Secure attribute" eq "$(setcookie sec sec)" "sec=1; Secure; Path=/"
req cpath 200 GET /cookie-path ok -c "$JAR" -b "$JAR"
check "cookie-path: Path=/api" eq "$(setcookie cpath scoped)" "scoped=1; Path=/api"
check "cookie-path: Max-Age=1" eq "$(setcookie cpath brief)" "brief=1; Max-Age=1; Path=/"
req echo-root 200 GET /cookies ok -b "scoped=1; a=b"
check "cookies: the header echoed" eq "$(body echo-root | jq -r .cookie)" "scoped=1; a=b"
req echo-none 200 GET /api/cookies ok
check "cookies: none sent, empty" eq "$(body echo-none | jq -r .cookie)" ""

# --- ?delay_ms: answered after the delay (a timer), counted once
req delay 200 GET '/api/health?delay_ms=300' ok
DT=$(awk '{ print int($2 * 1000) }' <<<"$(ip netns exec "$NS" curl -sS -o /dev/null -w '%{http_code} %{time_total}' "$APP_URL/api/health?delay_ms=300")")
EXP["GET /api/health 200 ok"]=$((${EXP["GET /api/health 200 ok"]} + 1))
NREQ=$((NREQ + 1))
check "delay: 300 ms at least" ge "$DT" 300
check "delay: well under the 10 s bound" le "$DT" 5000
req delay-bad 400 GET '/api/health?delay_ms=99999' bad

# --- logout: the session is gone
req logout 204 POST /logout ok -c "$JAR" -b "$JAR"
check "logout: sessionid expired" eq "$(setcookie logout sessionid)" "sessionid=; Max-Age=0; Path=/"
check "logout: the jar dropped the session" eq "$(cookie sessionid)" ""
req home-after 302 GET /home unauth -b "sessionid=$SID"
req items-after 401 GET /api/items unauth -b "sessionid=$SID"

# --- errors
req nopath 404 GET /nope notfound
req method 405 PUT /login bad
RAW=$(ip netns exec "$NS" timeout 10 bash -c \
	"exec 3<>/dev/tcp/$SRV/$APPSRV_PORT; printf 'NONSENSE\r\n\r\n' >&3; cat <&3" | head -1 | tr -d '\r')
check "malformed head: 400" eq "$RAW" "HTTP/1.1 400 Bad Request"
EXP["- - 400 bad"]=1
NREQ=$((NREQ + 1))

# --- teardown: the users deleted, the count back to its start
req del-user-nokey 403 DELETE "/users/$A" forbidden
req del-user-badkey 403 DELETE "/users/$A" forbidden -H 'X-Admin-Key: wrong'
req del-user-a 204 DELETE "/users/$A" ok -H 'X-Admin-Key: bed-admin'
req del-user-a2 404 DELETE "/users/$A" notfound -H 'X-Admin-Key: bed-admin'
req del-user-b 204 DELETE "/users/$B" ok -H 'X-Admin-Key: bed-admin'
req tok-gone 403 GET /api/items forbidden "${AUTHB[@]}"
req count2 200 GET /users/count ok
check "count: back to its start" eq "$(body count2 | jq -r .count)" "$N0"

# --- the log: exactly one line per request, each as expected
check "log: one line per request" appsrv_wait "$MARK" "$NREQ"
check "log: no more lines than requests" eq "$(log_since "$APPSRV_LOG" "$MARK" | wc -l)" "$NREQ"
for key in "${!EXP[@]}"; do
	read -r m p st oc <<<"$key"
	check "log: $key x ${EXP[$key]}" eq "$(appsrv_count "$MARK" "$m" "$p" "$st" "$oc")" "${EXP[$key]}"
done
check "log: 8 fields a line" eq "$(log_since "$APPSRV_LOG" "$MARK" | awk 'NF != 8' | wc -l)" 0
check "log: the good login's user and session prefix" eq \
	"$(log_since "$APPSRV_LOG" "$MARK" | awk -v u="$A" -v c="s:${SID:0:8}" '$3 == "POST" && $4 == "/login" && $5 == 302 && $6 == u && $7 == c' | wc -l)" 1
check "log: B's token requests carry its prefix (token, 3 items, list, 2 gets, delete, gone)" eq \
	"$(log_since "$APPSRV_LOG" "$MARK" | awk -v c="t:${TOK:0:8}" '$7 == c' | wc -l)" 9
check "log: the session's requests carry its prefix" eq \
	"$(log_since "$APPSRV_LOG" "$MARK" | awk -v c="s:${SID:0:8}" -v u="$A" '$7 == c && $6 == u' | wc -l)" 9
check "log: the deleted users named" eq \
	"$(appsrv_count "$MARK" DELETE "/users/$A" 204 ok "$A") $(appsrv_count "$MARK" DELETE "/users/$B" 204 ok "$B")" "1 1"
check "log: wall clock in seconds.milliseconds" eq \
	"$(log_since "$APPSRV_LOG" "$MARK" | awk '$1 !~ /^[0-9]+\.[0-9][0-9][0-9]$/' | wc -l)" 0

echo "$CHECKS checks, $FAILS failed"
[ "$FAILS" -eq 0 ]
