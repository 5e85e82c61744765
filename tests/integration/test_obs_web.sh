#!/usr/bin/env bash
# The live dashboard (--web): one self-contained page that fetches nothing
# from elsewhere; its event stream; two headless Chromium tabs, one reloaded
# mid-run, both showing at the end exactly the JSON report's figures; the
# Stop button ending a run as Ctrl-C does (reports written, stopped_by web);
# a POST without the dashboard's header refused; usage errors.
. "$(dirname "$0")/lib.sh"

url="http://$SRV/1k"
CHROMIUM=$(command -v chromium || command -v chromium-browser)
free_port() { /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
CPID=
cleanup_chrome() { [ -n "$CPID" ] && stop_pid "$CPID" 30; CPID=; }
CLEANUPS+=(cleanup_chrome)

# A browser with its DevTools port on loopback, its profile in $TMP.
"$CHROMIUM" --headless=new --no-sandbox --disable-gpu --no-first-run \
	--disable-background-networking --remote-debugging-address=127.0.0.1 \
	--remote-debugging-port=0 --user-data-dir="$TMP/chrome" about:blank \
	>"$TMP/chrome.log" 2>&1 &
CPID=$!
for _ in $(seq 100); do [ -s "$TMP/chrome/DevToolsActivePort" ] && break; sleep 0.1; done
CDP=$(head -1 "$TMP/chrome/DevToolsActivePort")

# wait_web PORT: the dashboard answers (the server starts at the first tick).
wait_web() {
	for _ in $(seq 100); do
		curl -sf -o /dev/null "http://127.0.0.1:$1/" && return 0
		sleep 0.1
	done
	return 1
}
digits() { tr -cd '0-9'; }

# --- 1. a run watched by two tabs, one reloaded
P=$(free_port)
mark=$(log_mark "$ACCESS_LOG")
"$STAMPEDE" run "${NET_OPTS[@]}" --url "$url" --vus 10 --duration 6s --json "$TMP/r.json" \
	--web "$P" --threshold 'p(99) < 5s' --threshold 'errors < 1%' \
	>"$TMP/out.txt" 2>"$TMP/err.txt" &
pid=$!
wait_web "$P"
check "the page: served on loopback for a port alone" eq "$(curl -s -o /dev/null -w '%{http_code} %{content_type}' "http://127.0.0.1:$P/")" "200 text/html; charset=utf-8"
curl -s "http://127.0.0.1:$P/" >"$TMP/page.html"
check "the page: nothing fetched from elsewhere (no URL in it)" eq "$(grep -c 'https\?://' "$TMP/page.html")" 0
check "the page: its policy allows only itself" eq "$(grep -c "connect-src 'self'" "$TMP/page.html")" 1
check "a POST /stop without the dashboard's header: 403" eq "$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$P/stop")" 403
timeout 2.5 curl -sN "http://127.0.0.1:$P/events" >"$TMP/events.txt"
check "the stream: a reset first" eq "$(head -2 "$TMP/events.txt" | grep -c '^event: reset')" 1
check "the stream: points, a report and the progress" \
	eq "$(grep -c '^event: point' "$TMP/events.txt" | awk '{ print ($1 >= 1) }') $(grep -c '^event: report' "$TMP/events.txt" | awk '{ print ($1 >= 1) }') $(grep -c '^event: progress' "$TMP/events.txt" | awk '{ print ($1 >= 1) }')" "1 1 1"
check "the stream: each event's data is one JSON line" \
	eq "$(sed -n 's/^data: //p' "$TMP/events.txt" | jq -s 'all(type == "object")')" true
/usr/bin/python3 "$(dirname "$0")/web_check.py" "$CDP" "http://127.0.0.1:$P/" "$TMP/seen.json"
wait "$pid"
RC=$?
check "run: exit 0" eq "$RC" 0
check "run: the forbidden POST did not stop it" eq "$(j .stopped_by)" duration
check "run: the dashboard said where it was" eq "$(grep -c "live dashboard on http://127.0.0.1:$P/" "$TMP/err.txt")" 1
for t in 0 1; do
	tab() { jq -r ".tabs[$t]$1" "$TMP/seen.json"; }
	check "tab $t: the run ended on the page" eq "$(tab .state)" ended
	check "tab $t: the page's requests = the JSON's" eq "$(tab '.summary.requests' | digits)" "$(j .summary.requests)"
	check "tab $t: the page's responses = the JSON's" eq "$(tab '.summary.responses' | digits)" "$(j .summary.responses)"
	check "tab $t: the page's errors = the JSON's" eq "$(tab '.summary.errors' | digits)" "$(j .summary.errors)"
	check "tab $t: every timeline point plotted" eq "$(tab .points)" "$(j '.timeline | length')"
	check "tab $t: the thresholds' rows, both ok" eq "$(jq -c "[.tabs[$t].thresholds[][2]]" "$TMP/seen.json")" '["ok","ok"]'
	check "tab $t: the status says who stopped it" eq "$(tab .status | grep -c 'stopped by duration')" 1
	check "tab $t: plots drawn" ge "$(tab .plots)" 4
	check "tab $t: the Stop button is off at the end" eq "$(tab .stop_disabled)" true
done
check "reload: tab 0 was reloaded mid-run" ge "$(jq '.reloaded_at // 0' "$TMP/seen.json")" 2
check "reload: it got its points back" ge "$(jq '.points_after_reload // 0' "$TMP/seen.json")" "$(jq '.reloaded_at // 99' "$TMP/seen.json")"
check "the report: pages opened (2 tabs, a reload, curl)" ge "$(j .outputs.web.pages_opened)" 4
check "nginx logged the 200s the page shows" eq "$(nginx_count "$mark" 200)" "$(jq -r '.tabs[1].summary.responses' "$TMP/seen.json" | digits)"

# --- 2. the Stop button
P=$(free_port)
"$STAMPEDE" run "${NET_OPTS[@]}" --url "$url" --vus 10 --duration 60s --json "$TMP/s.json" \
	--csv "$TMP/s" --web "127.0.0.1:$P" >"$TMP/sout.txt" 2>"$TMP/serr.txt" &
pid=$!
wait_web "$P"
/usr/bin/python3 "$(dirname "$0")/web_check.py" "$CDP" "http://127.0.0.1:$P/" "$TMP/stop.json" --stop-after 3
wait "$pid"
RC=$?
check "Stop: exit 0" eq "$RC" 0
check "Stop: clicked" ge "$(jq '.stop_clicked_at // 0' "$TMP/stop.json")" 3
check "Stop: stopped by the web, long before 60 s" eq "$(jq -r '.stopped_by + " " + (.elapsed_s < 30 | tostring)' "$TMP/s.json")" "web true"
check "Stop: the report counts the stop" eq "$(jq .outputs.web.stops "$TMP/s.json")" 1
check "Stop: the CSV reports written" eq "$(($(wc -l <"$TMP/s_timeline.csv") - 1))" "$(jq '.timeline | length' "$TMP/s.json")"
check "Stop: both tabs show the end, stopped by web" eq "$(jq -r '[.tabs[].status | test("stopped by web")] | all' "$TMP/stop.json")" true
check "Stop: the page's requests = the JSON's" eq "$(jq -r '.tabs[0].summary.requests' "$TMP/stop.json" | digits)" "$(jq .summary.requests "$TMP/s.json")"

# --- 3. usage errors: nothing runs
"$STAMPEDE" run "${NET_OPTS[@]}" --url "$url" --duration 1s --web "127.0.0.1:$P:1" >"$TMP/o3" 2>"$TMP/e3"
check "a bad address: exit 2" eq "$?" 2
check "... said" eq "$(grep -c -- '--web' "$TMP/e3")" 1
P=$(free_port)
/usr/bin/python3 -c 'import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(); print("held", flush=True); time.sleep(30)' "$P" >"$TMP/hold.txt" &
hold=$!
for _ in $(seq 50); do grep -q held "$TMP/hold.txt" 2>/dev/null && break; sleep 0.1; done
"$STAMPEDE" run "${NET_OPTS[@]}" --url "$url" --duration 1s --web "127.0.0.1:$P" >"$TMP/o3" 2>"$TMP/e3"
check "a port in use: exit 2" eq "$?" 2
check "... said" eq "$(grep -c 'in use' "$TMP/e3")" 1
kill "$hold" 2>/dev/null; wait "$hold" 2>/dev/null
cleanup_chrome
finish
