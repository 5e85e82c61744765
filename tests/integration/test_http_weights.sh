#!/usr/bin/env bash
# Weighted scenarios with tags: over more than 10,000 iterations each
# scenario's share is within 3 points of its weight, nginx's log agrees with
# the count of each scenario's path, and --exclude-tags leaves a scenario out.
. "$(dirname "$0")/lib.sh"

scenario mix <<EOF2
target: http://$SRV
load: { model: closed, vus: 64, duration: 6s }
seed: 7
scenarios:
  - name: browse
    weight: 60
    tags: [read]
    steps: [ { request: { path: /0 } } ]
  - name: fetch
    weight: 30
    tags: [read, big]
    steps: [ { request: { path: /1k } } ]
  - name: missing
    weight: 10
    tags: [write]
    steps: [ { request: { path: /nope, expect_status: 404, check: { status: 404 } } } ]
EOF2
mark=$(log_mark "$ACCESS_LOG")
run_sp run "$TMP/mix.yaml"
check "exit code 0" eq "$RC" 0
total=$(j .summary.iterations.started)
check "more than 10000 iterations" ge "$total" 10000
share() { jq -r --arg n "$1" '(.scenarios[] | select(.name == $n) | .started) * 1000 / .summary.iterations.started | floor' "$TMP/r.json"; }
check "browse 60 % +- 3 (per mille)" eq "$(( $(share browse) >= 570 && $(share browse) <= 630 ))" 1
check "fetch 30 % +- 3 (per mille)" eq "$(( $(share fetch) >= 270 && $(share fetch) <= 330 ))" 1
check "missing 10 % +- 3 (per mille)" eq "$(( $(share missing) >= 70 && $(share missing) <= 130 ))" 1
resp() { jq -r --arg n "$1" '.requests[] | select(.name == $n) | .responses' "$TMP/r.json"; }
check "nginx: /0 lines = browse responses" eq "$(nginx_count "$mark" 200 /0)" "$(resp "GET /0")"
check "nginx: /1k lines = fetch responses" eq "$(nginx_count "$mark" 200 /1k)" "$(resp "GET /1k")"
check "nginx: 404 lines = missing responses" eq "$(nginx_count "$mark" 404 /nope)" "$(resp "GET /nope")"
check "404 expected (expect_status) and checked: no check failed" eq "$(j .summary.errors_by_kind.check_failed)" 0
check "404 expected: no http_status failure" eq "$(j .summary.errors_by_kind.http_status)" 0
check_http_accounting

run_sp run "$TMP/mix.yaml" --exclude-tags write --duration 2s
check "--exclude-tags: exit code 0" eq "$RC" 0
check "--exclude-tags write: two scenarios left" eq "$(jq '.scenarios | length' "$TMP/r.json")" 2
check "--exclude-tags write: no 404" eq "$(j '.summary.codes["404"] // 0')" 0
run_sp run "$TMP/mix.yaml" --tags big --duration 2s
check "--tags big: only fetch" eq "$(jq -r '[.scenarios[].name] | join(",")' "$TMP/r.json")" fetch
check_pools
finish
