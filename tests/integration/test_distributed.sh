#!/usr/bin/env bash
# A distributed run on one machine: three shard processes (--shard I/3),
# each on a veth of its own into the test bed's namespace, started
# together with --start-at against the bed's nginx, then `stampede merge`.
# The witnesses: nginx's access log (every request, its {{vu}}, its data
# row and the address it came from), the shards' request logs (one
# histogram of every sample, built apart from stampede's reports), and the
# arrivals a rate schedule asks for, computed here.
. "$(dirname "$0")/lib.sh"
: "${HIST_QUANTILES:?HIST_QUANTILES must point at hist_quantiles}"
SINK=$(dirname "$0")/influx_sink.py
N=3
# Shard K's veth sp-shK, its peer in the bed's namespace; --ip's range of
# six addresses splits into blocks of two: K's are 198.18.7.(2K+1) and
# (2K+2), routed back through K's veth.
IPS=198.18.7.1-198.18.7.6
for k in $(seq 0 $((N - 1))); do
	dev=sp-sh$k
	ip link del "$dev" 2>/dev/null
	blind_veth "$dev" "$NS" || exit 1
	ip link set "$dev" up
	ip -n "$NS" link set "${dev}p" up
	ip -n "$NS" route add "198.18.7.$((2 * k + 1))/32" dev "${dev}p"
	ip -n "$NS" route add "198.18.7.$((2 * k + 2))/32" dev "${dev}p"
done
shard_of_addr() { awk '{ split($1, a, "."); if (a[1] a[2] a[3] == "198187") print int((a[4] - 1) / 2); else print "x" }'; }

# shards NAME SCENARIO [ENV-or-flag per shard...]: run the N shards at
# once, shard K with the K-th extra word (an environment assignment, or
# "flag" for --shard K/N); reports $TMP/NAME-K.json, request logs
# $TMP/NAME-K.csv, exit codes in SRC[K].
shards() {
	local name=$1 yaml=$2 at pids=() k how
	shift 2
	# Far enough for three EAL starts on a small machine.
	at=$(date -u -d '+8 seconds' +%FT%T.%3NZ)
	START_AT=$at
	for k in $(seq 0 $((N - 1))); do
		how=${1:-flag}
		[ $# -gt 0 ] && shift
		if [ "$how" = flag ]; then
			"$STAMPEDE" run --port "af_packet:sp-sh$k" --ip "$IPS" --prefix-len 16 \
				--shard "$k/$N" --start-at "$at" --json "$TMP/$name-$k.json" \
				--log-requests "$TMP/$name-$k.csv" "${EXTRA[@]}" "$yaml" \
				>"$TMP/$name-$k.out" 2>"$TMP/$name-$k.err" &
		else
			env $how STAMPEDE_START_AT="$at" "$STAMPEDE" run --port "af_packet:sp-sh$k" \
				--ip "$IPS" --prefix-len 16 --json "$TMP/$name-$k.json" \
				--log-requests "$TMP/$name-$k.csv" "${EXTRA[@]}" "$yaml" \
				>"$TMP/$name-$k.out" 2>"$TMP/$name-$k.err" &
		fi
		pids+=($!)
	done
	for k in $(seq 0 $((N - 1))); do
		wait "${pids[$k]}"
		SRC[$k]=$?
		[ -s "$TMP/$name-$k.json" ] || cat "$TMP/$name-$k.out" "$TMP/$name-$k.err" >&2
	done
}
js() { jq -r "$2" "$TMP/$1.json"; }
sum_of() { local name=$1 q=$2 s=0 k; for k in $(seq 0 $((N - 1))); do s=$((s + $(js "$name-$k" "$q"))); done; echo "$s"; }

# --- 1. closed model, 31 VUs (11 + 10 + 10), a unique data file ---
seq 1 6000 | sed 's/^/row/' | (echo user; cat) >"$TMP/rows.csv"
scenario closed <<EOF2
target: http://$SRV
load: { model: closed, vus: 31, duration: 3s }
data: { file: rows.csv, per: iteration, unique: true }
thresholds: [ "p(99) < 5s" ]
scenarios:
  - name: d
    steps:
      - request: { path: "/0?vu={{vu}}&u={{data.user}}" }
      - think: 20ms
EOF2
mark=$(log_mark "$ACCESS_LOG")
EXTRA=()
shards c "$TMP/closed.yaml"
log_since "$ACCESS_LOG" "$mark" | nginx_base | awk '$1 ~ /^198\.18\.7\./' >"$TMP/c.log"
for k in 0 1 2; do
	check "closed: shard $k exit 0" eq "${SRC[$k]}" 0
	check "closed: shard $k's report says which slice it ran" eq \
		"$(js c-$k '[.shard.index, .shard.count, .shard.vu_first, .shard.vu_step, .shard.ips] | @tsv')" \
		"$(printf '%s\t3\t%s\t3\t198.18.7.%s-198.18.7.%s' $k $((k + 1)) $((2 * k + 1)) $((2 * k + 2)))"
	want=$(( (31 - k + 2) / 3 ))
	check "closed: shard $k ran its share of the VUs ($want)" eq "$(js c-$k '.shard.vus_max')" "$want"
	check "closed: shard $k's timeline peaks at its share" eq "$(js c-$k '[.timeline[].vus] | max')" "$want"
	check "closed: shard $k started within 250 ms of --start-at" \
		eq "$(js c-$k '.start_at.late_ms >= 0 and .start_at.late_ms < 250')" true
	check "closed: shard $k reports the instant it waited for" eq "$(js c-$k .start_at.at)" "$START_AT"
	check "closed: shard $k's requests came from its block of --ip only" eq \
		"$(awk '{ print $1 }' "$TMP/c.log" | shard_of_addr | grep -c "^$k\$")" "$(js c-$k '.summary.codes["200"]')"
done
check "closed: every shard has one plan_id" eq "$(cat "$TMP"/c-*.json | jq -r .plan_id | sort -u | wc -l)" 1
check "closed: the shards' 200s add up to nginx's log lines" eq "$(sum_of c '.summary.codes["200"]')" "$(wc -l <"$TMP/c.log")"
check "closed: at least 1,000 requests" ge "$(wc -l <"$TMP/c.log")" 1000
check "closed: nginx logged {{vu}} 1..31, each value exactly" eq \
	"$(awk '{ print $4 }' "$TMP/c.log" | sed -E 's/.*vu=([0-9]+)&.*/\1/' | sort -nu | tr '\n' ' ')" "$(seq -s ' ' 1 31) "
check "closed: each {{vu}} came from one shard only, VU v from shard (v-1) mod 3" eq \
	"$(awk '{ print $1, $4 }' "$TMP/c.log" | sed -E 's/^198\.18\.7\.([0-9]+) .*vu=([0-9]+)&.*/\1 \2/' |
		awk '{ if (int(($1 - 1) / 2) != ($2 - 1) % 3) bad++ } END { print bad + 0 }')" 0
check "closed: no unique data row was used twice across the shards" eq \
	"$(awk '{ print $4 }' "$TMP/c.log" | sed -E 's/.*&u=//' | sort | uniq -d | wc -l)" 0
check "closed: every request carried a row" eq "$(grep -cE '&u=row[0-9]+ ' "$TMP/c.log")" "$(wc -l <"$TMP/c.log")"

# The merge: counts add up, percentiles equal one histogram of every
# sample (the shards' request logs: latency_us of each response).
"$STAMPEDE" merge "$TMP"/c-0.json "$TMP"/c-1.json "$TMP"/c-2.json --json "$TMP/m.json" \
	--csv "$TMP/m" --html "$TMP/m.html" >"$TMP/merge.out" 2>"$TMP/merge.err"
check "merge: exit 0 (its threshold holds)" eq "$?" 0
[ -s "$TMP/m.json" ] || cat "$TMP/merge.out" "$TMP/merge.err" >&2
check "merge: responses are the shards' sum and nginx's count" eq "$(jq .summary.responses "$TMP/m.json")" "$(wc -l <"$TMP/c.log")"
for q in requests errors interrupted iterations.started iterations.completed connections.opened bytes.sent bytes.received; do
	check "merge: summary.$q is the shards' sum" eq "$(jq ".summary.$q" "$TMP/m.json")" "$(sum_of c ".summary.$q")"
done
tail -q -n +2 "$TMP"/c-[0-2].csv | awk -F, '$5 > 0 { print $(NF - 1) }' | "$HIST_QUANTILES" >"$TMP/one.txt"
check "merge: one histogram of all samples holds every response" eq "$(awk '{ print $9 }' "$TMP/one.txt")" "$(jq .summary.responses "$TMP/m.json")"
check "merge: min, mean, p50, p90, p95, p99, p99.9 and max equal one histogram's of every sample" eq \
	"$(jq -r '.summary.latency_ms | .min, .mean, .p50, .p90, .p95, .p99, .p999, .max' "$TMP/m.json" |
		awk '{ printf "%s%.3f", (NR > 1 ? " " : ""), $1 } END { print "" }')" \
	"$(cut -d' ' -f1-8 "$TMP/one.txt")"
check "merge: the shards' loads started within 250 ms of each other" eq "$(jq '.shards.start_spread_ms < 250' "$TMP/m.json")" true
check "merge: the shards are listed, none missing" eq "$(jq -c '[.shards.count, .shards.merged, .shards.missing]' "$TMP/m.json")" '[3,[0,1,2],[]]'
check "merge: its timeline adds up to its responses" eq "$(jq '[.timeline[].responses] | add' "$TMP/m.json")" "$(jq .summary.responses "$TMP/m.json")"
check "merge: its timeline's peak VUs are the whole run's 31" eq "$(jq '[.timeline[].vus] | max' "$TMP/m.json")" 31
check "merge: the threshold judged on the whole" eq "$(jq -r '.thresholds[0].ok' "$TMP/m.json")" true
check "merge: CSV written, its total row the merged responses' count" eq \
	"$(awk -F, '$1 == "total" { print $3 }' "$TMP/m_stats.csv")" "$(jq .summary.requests "$TMP/m.json")"
check "merge: the CSV timeline has a row per merged point" eq \
	"$(($(wc -l <"$TMP/m_timeline.csv") - 1))" "$(jq '.timeline | length' "$TMP/m.json")"
check "merge: the HTML page embeds the merged report" eq "$(grep -c "$(jq -r .plan_id "$TMP/m.json")" "$TMP/m.html")" 1

# --- 2. open model, ramping stages, shards told by the environment ---
scenario open <<EOF2
target: http://$SRV
load: { model: open, max_vus: 60, stages: [ { duration: 1s, target: 300 }, { duration: 1s, target: 300 }, { duration: 1s, target: 1 } ] }
scenarios:
  - name: o
    steps:
      - request: { path: "/0?o={{vu}}" }
EOF2
# The arrivals the schedule asks for: one at each whole number the rate's
# integral reaches before the end (the first at 0), 0 -> 300/s over 1 s,
# 300/s for 1 s, 300 -> 1/s over 1 s: 600.5, so 601. The last comes at
# 1 or 2 arrivals a second, far from the end (no race with the stop).
want=$(awk 'BEGIN { a = 300 / 2 + 300 + (300 + 1) / 2; w = int(a); if (w < a) w++; printf "%d", w }')
d=$TMP/sink
mkdir -p "$d"
/usr/bin/python3 "$SINK" "$d/port" "$d/log" "$d/bodies" record --path /write --query "db=sp&precision=ms" &
spid=$!
CLEANUPS+=("stop_pid $spid")
for _ in $(seq 100); do [ -s "$d/port" ] && break; sleep 0.1; done
EXTRA=(--out "influxdb=http://127.0.0.1:$(cat "$d/port")/sp")
mark=$(log_mark "$ACCESS_LOG")
shards o "$TMP/open.yaml" flag STAMPEDE_SHARD=1/3 "JOB_COMPLETION_INDEX=2 STAMPEDE_SHARDS=3"
for k in 0 1 2; do
	check "open: shard $k exit 0" eq "${SRC[$k]}" 0
done
check "open: the shards' arrivals add up to the schedule's $want" eq \
	"$(( $(sum_of o .summary.iterations.started) + $(sum_of o .summary.iterations.dropped) ))" "$want"
check "open: nginx logged the shards' responses" eq \
	"$(log_since "$ACCESS_LOG" "$mark" | grep -c '/0?o=')" "$(sum_of o .summary.responses)"
check "open: each shard ran a third, give or take one" eq \
	"$(for k in 0 1 2; do js o-$k .summary.iterations.started; done | awk -v w="$want" '{ if ($1 < int(w / 3) - 1 || $1 > int(w / 3) + 2) bad++ } END { print bad + 0 }')" 0
check "open: where the shard came from" eq "$(for k in 0 1 2; do js o-$k .shard.from; done | tr '\n' ' ')" \
	"--shard STAMPEDE_SHARD JOB_COMPLETION_INDEX "
check "open: STAMPEDE_START_AT taken" eq "$(js o-1 .start_at.at)" "$START_AT"
# InfluxDB: every shard's points carry its shard tag and one run id.
check "open: every InfluxDB point has a shard tag of 0, 1 or 2" eq \
	"$(grep -c '^stampede,run=[^, ]*,shard=[012] ' "$d/bodies")" "$(sum_of o '.timeline | length')"
check "open: the shards' points share one run id" eq "$(sed -E 's/^stampede,run=([^,]*),.*/\1/' "$d/bodies" | sort -u | wc -l)" 1
check "open: each shard's points are tagged with its index" eq \
	"$(for k in 0 1 2; do grep -c ",shard=$k " "$d/bodies"; done | tr '\n' ' ')" \
	"$(for k in 0 1 2; do js o-$k '.timeline | length'; done | tr '\n' ' ')"

# --- 3. what is refused, each with its reason (exit 2) ---
"$STAMPEDE" merge "$TMP/c-0.json" "$TMP/o-1.json" --json "$TMP/bad.json" >"$TMP/bad.out" 2>"$TMP/bad.err"
check "merge of two scenarios' shards: exit 2" eq "$?" 2
check "... saying the scenarios differ" eq "$(grep -c 'different scenarios' "$TMP/bad.err")" 1
"$STAMPEDE" merge "$TMP/c-0.json" "$TMP/c-0.json" >"$TMP/bad.out" 2>"$TMP/bad.err"
check "merge of one shard twice: exit 2" eq "$?" 2
refused() { # refused WHAT PATTERN ARGS... (env first if any)
	local what=$1 pat=$2
	shift 2
	env "$@" >"$TMP/ref.out" 2>"$TMP/ref.err"
	check "refused: $what: exit 2" eq "$?" 2
	check "refused: $what: says why" eq "$(grep -c -- "$pat" "$TMP/ref.err")" 1
}
refused "--shard 3/3" "shard I counts from 0" "$STAMPEDE" run --port af_packet:sp-sh0 --ip "$IPS" --shard 3/3 "$TMP/closed.yaml"
refused "STAMPEDE_SHARDS without an index" "no JOB_COMPLETION_INDEX" STAMPEDE_SHARDS=3 "$STAMPEDE" run --port af_packet:sp-sh0 --ip "$IPS" "$TMP/closed.yaml"
refused "fewer addresses than shards" "fewer than the shards" "$STAMPEDE" run --port af_packet:sp-sh0 --ip 198.18.7.1-198.18.7.2 --shard 0/3 "$TMP/closed.yaml"
refused "a capacity hunt in shards" "cannot be split into shards" "$STAMPEDE" run --port af_packet:sp-sh0 --ip "$IPS" --shard 0/3 \
	--breakpoint --threshold "p(99) < 50ms" --url "http://$SRV/0"
refused "--start-at that is no time" "is not a time" "$STAMPEDE" run --port af_packet:sp-sh0 --ip "$IPS" --start-at soon "$TMP/closed.yaml"
finish
