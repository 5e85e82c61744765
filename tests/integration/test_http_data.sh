#!/usr/bin/env bash
# Data rows and identity, as nginx logged them (the paths carry them):
# data: {per: vu, unique: true} gives every row to exactly one VU for the
# whole run (VU n row n, vu_offset included); {per: iteration, unique:
# true} with fewer rows than the run could take runs exactly one
# iteration a row, then counts the VUs' iterations not started
# (data_exhausted, "data exhausted after N rows"), on one core and on
# two; {{uuid}} is a fresh RFC 4122 version 4 each request, {{time_ms}}
# the run's wall clock, {{random_string 12}} 12 of [A-Za-z0-9]; a unique
# file with fewer rows than VUs is refused before the run.
. "$(dirname "$0")/lib.sh"

{ echo user; for i in $(seq 1 8); do echo "user$i"; done; } >"$TMP/users8.csv"
{ echo user; for i in $(seq 1 20); do echo "row$i"; done; } >"$TMP/rows20.csv"

# --- per vu, unique: 6 VUs from number 3 (--vu-offset 2) on 8 rows ---
scenario pervu <<EOF2
target: http://$SRV
load: { vus: 6, duration: 2s }
data: { file: users8.csv, per: vu, unique: true }
scenarios:
  - name: v
    steps:
      - request: { path: "/0?vu={{vu}}&u={{data.user}}&id={{uuid}}&t={{time_ms}}&s={{random_string 12}}" }
      - think: 10ms
EOF2
mark=$(log_mark "$ACCESS_LOG")
t0=$(date +%s%3N)
run_sp run "$TMP/pervu.yaml" --vu-offset 2
t1=$(date +%s%3N)
check "per vu: exit code 0" eq "$RC" 0
log_since "$ACCESS_LOG" "$mark" | awk '$1 == "198.18.0.1" { print $4 }' >"$TMP/paths"
n=$(wc -l <"$TMP/paths")
check "per vu: nginx logged every response" eq "$n" "$(j .summary.responses)"
check "per vu: at least 300 requests" ge "$n" 300
check "per vu: every path has the rendered shape" eq \
	"$(grep -cE '^/0\?vu=[0-9]+&u=user[0-9]+&id=[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}&t=[0-9]{13}&s=[A-Za-z0-9]{12}$' "$TMP/paths")" "$n"
pairs=$(sed -E 's/.*vu=([0-9]+)&u=user([0-9]+)&.*/\1 \2/' "$TMP/paths" | sort -u)
check "per vu: VUs 3..8, each with one row" eq "$(echo "$pairs" | awk '{ print $1 }' | tr '\n' ' ')" "3 4 5 6 7 8 "
check "per vu: every row used is one VU's (VU n, row n)" eq \
	"$(echo "$pairs" | awk '$1 != $2 { bad++ } END { print bad + 0 }')" 0
check "per vu: no row twice" eq "$(echo "$pairs" | awk '{ print $2 }' | sort | uniq -d | wc -l)" 0
check "per vu: no data exhausted" eq "$(j .summary.iterations.data_exhausted)" 0
check "uuids: all distinct" eq "$(sed -E 's/.*&id=([^&]+)&.*/\1/' "$TMP/paths" | sort -u | wc -l)" "$n"
check "random strings: (almost surely) all distinct" eq \
	"$(sed -E 's/.*&s=//' "$TMP/paths" | sort -u | wc -l)" "$n"
tmin=$(sed -E 's/.*&t=([0-9]+)&.*/\1/' "$TMP/paths" | sort -n | head -1)
tmax=$(sed -E 's/.*&t=([0-9]+)&.*/\1/' "$TMP/paths" | sort -n | tail -1)
check "time_ms: not before the run" ge "$tmin" "$t0"
check "time_ms: not after it" le "$tmax" "$t1"
check "time_ms: moves with the run (>= 1 s from first to last)" ge $((tmax - tmin)) 1000
check_http_accounting

# --- the same file cannot cover 7 VUs from number 3 ---
sed 's/vus: 6/vus: 7/' "$TMP/pervu.yaml" >"$TMP/pervu7.yaml"
sed -i 's/load: {/load: { vu_offset: 2,/' "$TMP/pervu7.yaml"
"$STAMPEDE" validate "$TMP/pervu7.yaml" >/dev/null 2>"$TMP/verr.txt"
check "validate: unique rows short of the VUs: exit 2" eq "$?" 2
check "validate: says how many rows and VUs" eq \
	"$(grep -c 'data: unique: users8.csv has 8 rows, the run can have 7 VUs numbered from 3 (vu_offset 2): 9 rows are needed' "$TMP/verr.txt")" 1

# --- per iteration, unique: 20 rows, 3 VUs that could run hundreds ---
for cores in 1 2; do
	scenario periter <<EOF2
target: http://$SRV
load: { vus: 3, duration: 2s }
data: { file: rows20.csv, per: iteration, unique: true }
scenarios:
  - name: i
    steps:
      - request: { path: "/0?u={{data.user}}&id={{uuid}}" }
      - think: 10ms
EOF2
	mark=$(log_mark "$ACCESS_LOG")
	run_sp run "$TMP/periter.yaml" --cores "$cores"
	check "per iteration ($cores core(s)): exit code 0" eq "$RC" 0
	log_since "$ACCESS_LOG" "$mark" | awk '$1 == "198.18.0.1" { print $4 }' >"$TMP/paths"
	check "per iteration ($cores): exactly 20 requests reached nginx" eq "$(wc -l <"$TMP/paths")" 20
	check "per iteration ($cores): each row exactly once" eq \
		"$(sed -E 's/.*u=row([0-9]+)&.*/\1/' "$TMP/paths" | sort -n | tr '\n' ' ')" "$(seq -s ' ' 1 20) "
	check "per iteration ($cores): exactly 20 iterations started" eq "$(j .summary.iterations.started)" 20
	check "per iteration ($cores): 20 completed" eq "$(j .summary.iterations.completed)" 20
	check "per iteration ($cores): each VU's next iteration counted as data exhausted" eq \
		"$(j .summary.iterations.data_exhausted)" 3
	check "per iteration ($cores): the report says the data ran out" eq \
		"$(grep -c 'data            exhausted after 20 rows (unique: of 20 in rows20.csv): 3 iterations not started' "$TMP/out.txt")" 1
	check "per iteration ($cores): uuids distinct" eq \
		"$(sed -E 's/.*&id=//' "$TMP/paths" | sort -u | wc -l)" 20
	check_http_accounting
done
check_pools
finish
