#!/usr/bin/env bash
# Defaults that must not mislead, checked against the servers' own logs:
# a 4xx or 5xx is a failed request (http_status) unless expected, counted
# per status exactly as sp-httpsrv logged them; --expect-status and
# expect_status change what passes (a request's own list wins); a value is
# percent-encoded in the path (nginx logs the encoded request line) and
# one inserted raw with a space is never sent (unsafe_value); a run in which
# nothing succeeded exits 1 and says so; the new threshold statistics
# (iterations, iterations/s, dropped) are judged; an ambiguous rate is a
# usage error; config/mix.yaml runs without a failed request.
. "$(dirname "$0")/lib.sh"

HS=http://$SRV:8080
scenario codes <<EOF2
target: $HS
load: { model: closed, vus: 4, duration: 3s }
scenarios:
  - name: codes
    steps:
      - request: { name: ok, path: /status/200 }
      - request: { name: moved, path: /status/302 }
      - request: { name: missing, path: /status/404 }
      - request: { name: busy, path: /status/503 }
      - request: { name: gone, path: /status/410, expect_status: [410] }
      - think: 20ms
EOF2
# status_lines MARK CODE: sp-httpsrv's log lines since MARK with that status.
status_lines() { log_since "$HTTPSRV_LOG" "$1" | awk -v c="$2" '$3 == c { n++ } END { print n + 0 }'; }
req() { jq -r --arg n "$1" ".requests[] | select(.name == \$n) | .$2" "$TMP/r.json"; }

mark=$(log_mark "$HTTPSRV_LOG")
run_sp run "$TMP/codes.yaml"
check "default: exit code 0 (some requests succeeded, no threshold)" eq "$RC" 0
for c in 200 302 404 503 410; do
	check "default: status $c counted as sp-httpsrv logged it" eq \
		"$(j ".summary.codes[\"$c\"] // 0")" "$(status_lines "$mark" "$c")"
done
check "default: at least 100 of each" ge "$(j '.summary.codes["404"] // 0')" 100
check "default: 404 and 503 are the http_status failures" eq \
	"$(j .summary.errors_by_kind.http_status)" \
	$(($(j '.summary.codes["404"]') + $(j '.summary.codes["503"]')))
check "default: per request, 404s failed as http_status" eq "$(req missing status_failed)" "$(req missing responses)"
check "default: per request, 503s failed as http_status" eq "$(req busy status_failed)" "$(req busy responses)"
check "default: 302 passes" eq "$(req moved failed)" 0
check "default: 410 passes where the request expects it" eq "$(req gone failed)" 0
check "default: succeeded = 200s + 302s + 410s" eq "$(j .summary.succeeded)" \
	$(($(j '.summary.codes["200"]') + $(j '.summary.codes["302"]') + $(j '.summary.codes["410"]')))
check "default: nothing_succeeded is false" eq "$(j .summary.nothing_succeeded)" false
check "default: the summary names the kind" eq "$(grep -c 'http_status' "$TMP/out.txt")" 1
check_http_accounting

mark=$(log_mark "$HTTPSRV_LOG")
run_sp run "$TMP/codes.yaml" --expect-status 2xx,404
check "--expect-status 2xx,404: exit code 0" eq "$RC" 0
check "--expect-status: 404 passes" eq "$(req missing failed)" 0
check "--expect-status: 302 fails" eq "$(req moved status_failed)" "$(req moved responses)"
check "--expect-status: 503 fails" eq "$(req busy status_failed)" "$(req busy responses)"
check "--expect-status: the request's own 410 still passes" eq "$(req gone failed)" 0
check "--expect-status: http_status = 302s + 503s, as logged" eq "$(j .summary.errors_by_kind.http_status)" \
	$(($(status_lines "$mark" 302) + $(status_lines "$mark" 503)))
check_http_accounting

# Nothing succeeded: exit 1, said on stderr and in the report.
run_sp run --url "$HS/status/500" --vus 2 --duration 1s
check "all 500: exit code 1" eq "$RC" 1
check "all 500: stderr says no request succeeded" eq "$(grep -c 'no request succeeded' "$TMP/err.txt")" 1
check "all 500: nothing_succeeded in the report" eq "$(j .summary.nothing_succeeded)" true
check "all 500: succeeded 0" eq "$(j .summary.succeeded)" 0
check "all 500: responses came" ge "$(j .summary.responses)" 10
run_sp run --url "$HS/status/500" --vus 2 --duration 1s --expect-status 500
check "all 500 expected: exit code 0" eq "$RC" 0

# Values in the path are percent-encoded (nginx logs the request line as
# it came); one inserted raw that would put a space in the request line is
# never sent (unsafe_value). (A data file cannot hold CR or LF at all: the
# loader refuses control bytes in a cell.)
printf 'q,p\n"a b&c/d?\xc3\xa9",ok\nplain,"a b"\n' >"$TMP/vals.csv"
scenario vals <<EOF2
target: http://$SRV
load: { model: closed, vus: 2, duration: 2s }
data: vals.csv
scenarios:
  - name: vals
    steps:
      - request: { path: "/0?q={{data.q}}&r={{data.q | raw | url}}&p={{data.p | raw}}" }
      - think: 10ms
EOF2
run_sp run "$TMP/vals.yaml"
check "a filter chain is refused (one filter per value): exit 2" eq "$RC" 2
sed -i 's/{{data.q | raw | url}}/{{data.q | url}}/' "$TMP/vals.yaml"
mark=$(log_mark "$ACCESS_LOG")
run_sp run "$TMP/vals.yaml"
check "values: exit code 0" eq "$RC" 0
log_since "$ACCESS_LOG" "$mark" | awk '$1 == "198.18.0.1"' >"$TMP/vals.log"
check "values: nginx logged every response" eq "$(wc -l <"$TMP/vals.log")" "$(j .summary.responses)"
check "values: some requests went" ge "$(j .summary.responses)" 10
check "values: every logged path is the encoded one" eq \
	"$(grep -c '"GET /0?q=a%20b%26c%2Fd%3F%C3%A9&r=a%20b%26c%2Fd%3F%C3%A9&p=ok HTTP/1.1"' "$TMP/vals.log")" "$(wc -l <"$TMP/vals.log")"
check "values: the row with a raw space was never sent (unsafe_value)" ge "$(j .summary.errors_by_kind.unsafe_value)" 10
check "values: nothing reached nginx with that row" eq "$(grep -c 'q=plain' "$TMP/vals.log")" 0
check "values: requests = responses + unsafe + interrupted" eq "$(j .summary.requests)" \
	$(($(j .summary.responses) + $(j .summary.errors_by_kind.unsafe_value) + $(j .summary.interrupted)))

# Threshold statistics: iterations, iterations/s, dropped (open model).
run_sp run --url "http://$SRV/0" --rate 200 --max-vus 50 --duration 3s \
	--threshold 'iterations > 400' --threshold 'iterations/s > 100' \
	--threshold 'dropped == 0' --threshold 'dropped < 1%' --threshold 'iterations < 10'
check "thresholds: exit code 1 (iterations < 10 failed)" eq "$RC" 1
check "thresholds: iterations is the completed count" eq "$(jq '.thresholds[0].value == .summary.iterations.completed' "$TMP/r.json")" true
check "thresholds: iterations/s is completed over the load's seconds" eq \
	"$(jq '(.thresholds[1].value - .summary.iterations.completed / .summary.duration_s) | fabs < 0.01' "$TMP/r.json")" true
check "thresholds: the four others held" eq "$(jq -c '[.thresholds[].ok]' "$TMP/r.json")" '[true,true,true,true,false]'
# One VU held 100 ms by a silent server: of 1000 arrivals, about 980 find
# it busy.
run_sp run --url "$HS/silent" --rate 500 --max-vus 1 --duration 2s --response-timeout 100ms \
	--threshold 'dropped == 0' --threshold 'dropped < 1%' --threshold 'dropped > 10'
check "dropped: exit code 1" eq "$RC" 1
check "dropped: the count is the report's" eq "$(jq '.thresholds[2].value == .summary.iterations.dropped' "$TMP/r.json")" true
check "dropped: the share is of the arrivals" eq "$(jq '(.thresholds[1].value - 100 * .summary.iterations.dropped / (.summary.iterations.dropped + .summary.iterations.started)) | fabs < 0.01' "$TMP/r.json")" true
check "dropped: == 0 and < 1% failed, > 10 held" eq "$(jq -c '[.thresholds[].ok]' "$TMP/r.json")" '[false,false,true]'
"$STAMPEDE" run "${NET_OPTS[@]}" --url "http://$SRV/0" --duration 1s --threshold 'errors < 1' \
	>"$TMP/amb.out" 2>"$TMP/amb.err"
check "errors < 1: exit code 2" eq "$?" 2
check "errors < 1: the message gives both ways" eq "$(grep -c 'write 1% or 0.01' "$TMP/amb.err")" 1

# config/mix.yaml: no 405, no failed request, the POST body's JSON
# escaped (nginx cannot tell; the unit tests look at the bytes).
mark=$(log_mark "$ACCESS_LOG")
cp "$(dirname "$0")/../../config/mix.yaml" "$(dirname "$0")/../../config/users.csv" "$TMP/"
run_sp run "$TMP/mix.yaml" --duration 4s --vus 10
check "mix.yaml: exit code 0" eq "$RC" 0
check "mix.yaml: no failed request" eq "$(j .summary.errors)" 0
check "mix.yaml: only 200s" eq "$(j '.summary.codes | keys | join(",")')" 200
check "mix.yaml: nginx logged the POSTs as 200" eq \
	"$(log_since "$ACCESS_LOG" "$mark" | nginx_base | awk '$1 == "198.18.0.1" && $3 == "\"POST" && $(NF - 1) == 200' | wc -l)" "$(req post responses)"
check_pools
finish
