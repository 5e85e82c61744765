#!/usr/bin/env bash
# Bad input stops before the first packet: a clear message with its place,
# exit code 2, and not one frame leaves the generator's port (its kernel tx
# counter is the witness; the EAL never starts).
. "$(dirname "$0")/lib.sh"

txp() { cat /sys/class/net/sp-gen0/statistics/tx_packets; }
bad() { # bad "what" "expected message (grep -E)" stampede-args...
	local what=$1 want=$2 tx0
	shift 2
	tx0=$(txp)
	"$STAMPEDE" "$@" >"$TMP/out.txt" 2>"$TMP/err.txt"
	RC=$?
	check "$what: exit code 2" eq "$RC" 2
	check "$what: says where and what" eq "$(grep -cE -- "$want" "$TMP/err.txt")" 1
	check "$what: nothing sent" eq "$(txp)" "$tx0"
}

scenario unknown <<EOF2
target: http://$SRV
load: { vus: 2, duration: 1s }
scenarios:
  - name: a
    stepz: [ { request: { path: / } } ]
EOF2
scenario negrate <<EOF2
target: http://$SRV
load:
  model: open
  rate: -5
  duration: 1s
scenarios: [ { name: a, steps: [ { request: { path: / } } ] } ]
EOF2
scenario zerodur <<EOF2
target: http://$SRV
load: { vus: 1, duration: 0s }
scenarios: [ { name: a, steps: [ { request: { path: / } } ] } ]
EOF2
scenario notarget <<EOF2
target: http://$SRV
load:
  stages:
    - { duration: 10s }
scenarios: [ { name: a, steps: [ { request: { path: / } } ] } ]
EOF2
scenario nodata <<EOF2
target: http://$SRV
data: missing.csv
load: { vus: 1, duration: 1s }
scenarios: [ { name: a, steps: [ { request: { path: / } } ] } ]
EOF2
scenario loopback <<EOF2
target: http://127.0.0.2
load: { vus: 1, duration: 1s }
scenarios: [ { name: a, steps: [ { request: { path: / } } ] } ]
EOF2

scenario badth <<EOF2
target: http://$SRV
load: { vus: 1, duration: 1s }
scenarios: [ { name: a, steps: [ { request: { path: / } } ] } ]
thresholds:
  - "p(95) < 500ms"
  - { expr: "scenario:b iteration.p(95) < 1s" }
EOF2
scenario goodth <<EOF2
target: http://$SRV
load: { vus: 1, duration: 1s }
scenarios: [ { name: a, steps: [ { request: { path: / } } ] } ]
thresholds:
  - "p(95) < 500ms"
  - { expr: "errors < 1%", abort_on_fail: true, grace: 10s }
  - 'request:"GET /" ttfb.p(99) < 50ms'
  - "scenario:a iteration.max <= 2s"
EOF2
"$STAMPEDE" validate "$TMP/goodth.yaml" >/dev/null 2>"$TMP/verr.txt"
check "validate: thresholds in a file" eq "$?" 0

for s in unknown negrate zerodur notarget nodata loopback badth; do
	"$STAMPEDE" validate "$TMP/$s.yaml" >/dev/null 2>"$TMP/verr.txt"
	check "validate $s: exit code 2" eq "$?" 2
	check "validate $s: FILE:LINE:COL" eq "$(grep -cE "^$TMP/$s.yaml:[0-9]+:[0-9]+: " "$TMP/verr.txt")" 1
done
bad "unknown key" "$TMP/unknown.yaml:5:5: .*stepz" run "$TMP/unknown.yaml" "${NET_OPTS[@]}"
bad "negative rate" "$TMP/negrate.yaml:4:9: " run "$TMP/negrate.yaml" "${NET_OPTS[@]}"
bad "zero duration" "$TMP/zerodur.yaml:2:27: .*more than 0" run "$TMP/zerodur.yaml" "${NET_OPTS[@]}"
bad "stage without target" "$TMP/notarget.yaml:4:7: .*target" run "$TMP/notarget.yaml" "${NET_OPTS[@]}"
bad "missing data file" "$TMP/nodata.yaml:2:7: .*missing.csv" run "$TMP/nodata.yaml" "${NET_OPTS[@]}"
bad "loopback target" "$TMP/loopback.yaml:1:9: .*127.0.0.2 is a loopback address" run "$TMP/loopback.yaml" "${NET_OPTS[@]}"
bad "--url loopback" "^--url: .*127.0.0.1 is a loopback address" run --url http://127.0.0.1/ --vus 1 --duration 1s "${NET_OPTS[@]}"
bad "--rate negative" "^--rate: " run --url "http://$SRV/" --rate -1 --duration 1s "${NET_OPTS[@]}"
bad "--stages malformed" "^--stages: " run --url "http://$SRV/" --stages "10s" "${NET_OPTS[@]}"
bad "unwritable --json" "^stampede: --json: cannot write" run --url "http://$SRV/" --vus 1 --duration 1s "${NET_OPTS[@]}" --json /nonexistent/dir/r.json
bad "unwritable --csv" "^stampede: --csv: cannot write /nonexistent/x_stats.csv" run --url "http://$SRV/" --vus 1 --duration 1s "${NET_OPTS[@]}" --csv /nonexistent/x
bad "unwritable --html" "^stampede: --html: cannot write" run --url "http://$SRV/" --vus 1 --duration 1s "${NET_OPTS[@]}" --html /nonexistent/r.html
bad "threshold that does not parse" "^--threshold: .*expected a comparison" run --url "http://$SRV/" --vus 1 --duration 1s "${NET_OPTS[@]}" --threshold "p(95) 500ms"
bad "threshold on an unknown metric" "^--threshold: unknown metric 'latency'" run --url "http://$SRV/" --vus 1 --duration 1s "${NET_OPTS[@]}" --threshold "latency < 5ms"
bad "threshold on an unknown request" "^--threshold: .*no request is named 'nope'" run --url "http://$SRV/" --vus 1 --duration 1s "${NET_OPTS[@]}" --threshold "request:nope p(95) < 5ms"
bad "threshold in a file, unknown scenario" "$TMP/badth.yaml:6:13: thresholds: .*no scenario is named 'b'" run "$TMP/badth.yaml" "${NET_OPTS[@]}"
for f in "$(dirname "$0")"/../../config/*.yaml; do
	"$STAMPEDE" validate "$f" >/dev/null 2>&1
	check "config/${f##*/} validates" eq "$?" 0
done
finish
