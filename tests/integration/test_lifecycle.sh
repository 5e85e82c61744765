#!/usr/bin/env bash
# The lifecycle around the load, with nginx's access log as the witness (it
# logs each request as it completes, in order): setup: once before any
# load request, its capture readable as {{setup.NAME}} by teardown:, which
# runs once after the last load request; vu_setup: / vu_teardown: once per
# VU around its iterations. Teardown runs after a Ctrl-C and after an
# aborting threshold too; a failing setup stops the run before the load
# (exit 3, its reason), and the report is still written. The lifecycle's
# requests are in none of the load's figures.
. "$(dirname "$0")/lib.sh"

# lines MARK: our requests logged since MARK, one path a line, in order.
lines() {
	log_since "$ACCESS_LOG" "$1" | nginx_base |
		awk '$1 == "198.18.0.1" { print $4 }' >"$TMP/paths"
}
# first/last line number of paths matching a regex (0: none).
first_of() { grep -nE "$1" "$TMP/paths" | head -1 | cut -d: -f1 | sed 's/^$/0/'; }
last_of() { grep -nE "$1" "$TMP/paths" | tail -1 | cut -d: -f1 | sed 's/^$/0/'; }
count_of() { grep -cE "$1" "$TMP/paths"; }

# The order every run must show: one setup first, one teardown last with
# setup's captured status in its path, the load between them.
check_order() { # check_order WHAT
	local n
	n=$(wc -l <"$TMP/paths")
	check "$1: exactly one setup request" eq "$(count_of '^/0\?setup=1$')" 1
	check "$1: setup is the first request" eq "$(first_of '^/0\?setup=1$')" 1
	check "$1: exactly one teardown request" eq "$(count_of '^/0\?teardown=')" 1
	check "$1: teardown carries setup's captured status" eq "$(count_of '^/0\?teardown=200$')" 1
	check "$1: teardown is the last request" eq "$(last_of '^/0\?teardown=')" "$n"
	check "$1: load requests came" ge "$(count_of '^/1k\?load=')" 1
	check "$1: every other request is the load's or a VU's lifecycle" eq \
		"$(count_of '^/1k\?load=')" $((n - 2 - $(count_of '^/0\?vu_')))
	# The load's figures hold the load only: nginx's load lines are its
	# responses, the lifecycle's requests are counted apart.
	check "$1: the load's responses are nginx's load lines" eq \
		"$(count_of '^/1k\?load=')" "$(j .summary.responses)"
	check "$1: the timeline adds up to the load's requests" eq \
		"$(jq '[.timeline[].requests] | add // 0' "$TMP/r.json")" "$(j .summary.requests)"
	check "$1: lifecycle: one setup run, one request answered" eq \
		"$(j '[.lifecycle[] | select(.kind == "setup") | .started, ([.requests[].responses] | add)] | map(tostring) | join(" ")')" "1 1"
	check "$1: lifecycle: one teardown run, one request answered" eq \
		"$(j '[.lifecycle[] | select(.kind == "teardown") | .started, ([.requests[].responses] | add)] | map(tostring) | join(" ")')" "1 1"
	check "$1: lifecycle: the totals are nginx's lifecycle lines" eq \
		"$(j .lifecycle_summary.requests)" $((n - $(count_of '^/1k\?load=')))
	check "$1: setup ok" eq "$(j .lifecycle_summary.setup_ok)" true
}

life() { # life NAME DURATION [vu_setup/vu_teardown: yes]
	scenario "$1" <<EOF2
target: http://$SRV
load: { model: closed, vus: 4, duration: $2 }
setup:
  - request: { path: "/0?setup=1", capture: { code: { status: true } } }
teardown:
  - request: { path: "/0?teardown={{setup.code}}" }
$([ -n "${3:-}" ] && printf '%s\n' 'vu_setup:' '  - request: { path: "/0?vu_setup={{vu}}" }' \
	'vu_teardown:' '  - request: { path: "/0?vu_teardown={{vu}}" }')
scenarios:
  - name: load
    steps:
      - request: { path: "/1k?load={{vu}}" }
      - think: 20ms
EOF2
}

# 1. A whole run: setup, the load for its 2 s (counted from the load, not
# from setup), teardown; vu_setup and vu_teardown around each VU's
# iterations.
life full 2s yes
mark=$(log_mark "$ACCESS_LOG")
run_sp run "$TMP/full.yaml"
lines "$mark"
check "full: exit code 0" eq "$RC" 0
check "full: stopped by the duration" eq "$(j .stopped_by)" duration
check_order full
check "full: the load lasted its 2 s, setup not counted" eq \
	"$(jq '.summary.duration_s >= 2 and .summary.duration_s < 2.05' "$TMP/r.json")" true
check "full: one vu_setup per VU" eq "$(count_of '^/0\?vu_setup=[1-4]$')" 4
check "full: one vu_teardown per VU" eq "$(count_of '^/0\?vu_teardown=[1-4]$')" 4
bad=0
for v in 1 2 3 4; do
	s=$(first_of "^/0\\?vu_setup=$v\$")
	t=$(last_of "^/0\\?vu_teardown=$v\$")
	f=$(first_of "^/1k\\?load=$v\$")
	l=$(last_of "^/1k\\?load=$v\$")
	[ "$s" -gt 0 ] && [ "$f" -gt "$s" ] && [ "$t" -gt "$l" ] || bad=$((bad + 1))
done
check "full: each VU's vu_setup before its first iteration, vu_teardown after its last" eq "$bad" 0
check "full: lifecycle: 4 vu_setup runs" eq "$(j '[.lifecycle[] | select(.kind == "vu_setup") | .started] | add')" 4
check "full: lifecycle: 4 vu_teardown runs" eq "$(j '[.lifecycle[] | select(.kind == "vu_teardown") | .started] | add')" 4
check "full: the load's requests table has no lifecycle request" eq \
	"$(jq '[.requests[] | select(.name | test("setup|teardown"))] | length' "$TMP/r.json")" 0
check "full: the summary has the lifecycle's totals" eq "$(grep -c '^  lifecycle reqs  started 10  responses 10 ' "$TMP/out.txt")" 1
check_http_accounting
check_pools

# 2. Two cores: setup and teardown still once for the run.
life cores 2s
mark=$(log_mark "$ACCESS_LOG")
run_sp run "$TMP/cores.yaml" --cores 2
lines "$mark"
check "cores: exit code 0" eq "$RC" 0
check "cores: two cores" eq "$(jq '.cores | length' "$TMP/r.json")" 2
check_order cores

# 3. Ctrl-C once the load is under way (nginx has logged a load request):
# the load stops, teardown still runs, every report is written.
life sigint 60s
mark=$(log_mark "$ACCESS_LOG")
"$STAMPEDE" run "${NET_OPTS[@]}" "$TMP/sigint.yaml" --json "$TMP/r.json" \
	>"$TMP/out.txt" 2>"$TMP/err.txt" &
pid=$!
for _ in $(seq 200); do
	log_since "$ACCESS_LOG" "$mark" | grep -q '/1k?load=' && break
	sleep 0.05
done
kill -INT "$pid"
wait "$pid"
RC=$?
lines "$mark"
check "Ctrl-C: exit code 0" eq "$RC" 0
check "Ctrl-C: stopped by the signal" eq "$(j .stopped_by)" signal
check "Ctrl-C: long before the duration" eq "$(jq '.elapsed_s < 30' "$TMP/r.json")" true
check_order Ctrl-C

# 4. An aborting threshold: teardown after it too.
life abort 30s
mark=$(log_mark "$ACCESS_LOG")
run_sp run "$TMP/abort.yaml" --threshold 'p(50) < 1us' --abort-on-fail --abort-grace 1s
lines "$mark"
check "abort: exit code 1" eq "$RC" 1
check "abort: stopped by the threshold" eq "$(j .stopped_by)" threshold
check "abort: long before the duration" eq "$(jq '.elapsed_s < 10' "$TMP/r.json")" true
check_order abort

# 5. A failing setup (a 404 where 200 is expected): exit 3 with the
# reason, no load request reaches nginx, teardown still runs, and the
# report is written with an empty load.
scenario failing <<EOF2
target: http://$SRV
load: { model: closed, vus: 4, duration: 5s }
setup:
  - request: { path: "/missing?setup=1", check: { status: 200 } }
teardown:
  - request: { path: "/0?teardown=1" }
scenarios:
  - name: load
    steps:
      - request: { path: "/1k?load={{vu}}" }
EOF2
mark=$(log_mark "$ACCESS_LOG")
run_sp run "$TMP/failing.yaml"
lines "$mark"
check "failing setup: exit code 3" eq "$RC" 3
check "failing setup: says so, with the reason" eq \
	"$(grep -cE '^stampede: setup failed: .+; the load did not run$' "$TMP/err.txt")" 1
check "failing setup: the setup request reached nginx (404)" eq "$(nginx_count "$mark" 404 '/missing?setup=1')" 1
check "failing setup: no load request reached nginx" eq "$(count_of '^/1k')" 0
check "failing setup: teardown still ran, last" eq "$(last_of '^/0\?teardown=1$')" "$(wc -l <"$TMP/paths")"
check "failing setup: the report exists" eq "$(jq -r .stopped_by "$TMP/r.json")" setup_failed
check "failing setup: the report says why" eq "$(jq '.lifecycle_summary.setup_ok == false and (.lifecycle_summary.setup_why | length > 0)' "$TMP/r.json")" true
check "failing setup: the load is empty" eq "$(j '[.summary.requests, .summary.iterations.started] | map(tostring) | join(" ")')" "0 0"
check "failing setup: the summary says so" eq "$(grep -c 'SETUP FAILED' "$TMP/out.txt")" 1
check_pools
finish
