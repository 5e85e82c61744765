#!/usr/bin/env bash
# The bed's servers of designed capacity (sp-httpsrv capacity=SLOTS:US on
# :8082 and :8083, tools/testbed) serve what they were designed to: driven
# by the open model at half their capacity, every request is answered
# without a backlog; at 1.5 times it, the server's own log shows exactly
# the design's throughput over the middle seconds while its queue and the
# latency grow, and the generator was not the limit. This is the known
# answer a capacity search is proved against.
. "$(dirname "$0")/lib.sh"

DUR=6
# cap_count MARK PORT STATUS: its lines with that status.
cap_count() { cap_lines "$1" "$2" | awk -v s="$3" '$3 == s { n++ } END { print n + 0 }'; }
# cap_wait MARK PORT N: wait (10 s at most) until the port has N lines
# since MARK: answered ones, and those whose clients gave up (the server
# logs those when it reads the close).
cap_wait() {
	for _ in $(seq 100); do
		[ "$(cap_lines "$1" "$2" | wc -l)" -ge "$3" ] && return 0
		sleep 0.1
	done
	echo "     sp-httpsrv logged $(cap_lines "$1" "$2" | wc -l) of $3 lines on :$2" >&2
	return 1
}
# cap_stats MARK PORT: from the served lines' fields (wait= start= end=
# depth=), "N RATE BADSVC WAIT_P50 WAIT_MAX DEPTH_MAX": RATE the
# responses per second whose service ended in seconds 1 to 5 after the
# first one ended (the middle of the load), BADSVC how many services did
# not last SVC_US.
cap_stats() {
	local wf=$TMP/waits
	cap_lines "$1" "$2" | awk -v svc="$SVC_US" -v wf="$wf" '
		$3 == 200 {
			for (i = 5; i <= NF; i++) {
				k = $i; sub(/=.*/, "", k); v = $i; sub(/^[^=]*=/, "", v); f[k] = v + 0
			}
			n++; end[n] = f["end"]; print f["wait"] | "sort -n >" wf
			if (f["end"] - f["start"] != svc) bad++
			if (f["wait"] > wmax) wmax = f["wait"]
			if (f["depth"] > dmax) dmax = f["depth"]
			if (t0 == "" || f["end"] < t0) t0 = f["end"]
		}
		END {
			for (i = 1; i <= n; i++)
				if (end[i] >= t0 + 1000000 && end[i] < t0 + 5000000) mid++
			close("sort -n >" wf)
			getline nw < wf; c = 1
			while (c < int((n + 1) / 2) && (getline nw < wf) > 0) c++
			printf "%d %.1f %d %d %d %d\n", n, mid / 4, bad + 0, nw, wmax, dmax
		}'
}

# The generator offered the whole load and was not the limit.
check_client() { # check_client WHAT RATE
	local started
	started=$(j .summary.iterations.started)
	check "$1: the generator started RATE x $DUR s iterations (1 %)" within "$started" $(($2 * DUR)) 1
	check "$1: none dropped (a VU was always free)" eq "$(j .summary.iterations.dropped)" 0
	check "$1: the generator's loop was not saturated (< 90 % busy)" lt "$(j .generator.busy_pct)" 90
	check "$1: TX ring never full, no mbuf shortage" eq "$(j '.generator.tx_ring_full + .generator.tx_nobuf')" 0
	check "$1: the port missed nothing" eq "$(j '.nic.imissed + .nic.rx_nombuf')" 0
	check "$1: no errors" eq "$(j .summary.errors)" 0
}

P50_HALF=()
for design in "8082 4 1000" "8083 2 2500"; do
	read -r PORT SLOTS SVC_US <<<"$design"
	need_capsrv "$PORT"
	CAP=$((SLOTS * 1000000 / SVC_US))
	URL=http://$SRV:$PORT/

	# Half the capacity: all served, no backlog, latency near the
	# service time.
	RATE=$((CAP / 2))
	mark=$(log_mark "$HTTPSRV_LOG")
	run_sp run --url "$URL" --rate "$RATE" --duration ${DUR}s --max-vus 500
	W=":$PORT ($SLOTS x $SVC_US us = $CAP/s) at $RATE/s"
	check "$W: exit code 0" eq "$RC" 0
	check_client "$W" "$RATE"
	resp=$(j .summary.responses)
	check "$W: every request answered" eq "$resp" "$(j .summary.requests)"
	cap_wait "$mark" "$PORT" "$resp"
	check "$W: the server logged exactly stampede's responses" eq "$(cap_count "$mark" "$PORT" 200)" "$resp"
	check "$W: and no request given up" eq "$(cap_count "$mark" "$PORT" 0)" 0
	read -r n rate bad wp50 wmax dmax <<<"$(cap_stats "$mark" "$PORT")"
	p50=$(j .summary.latency_ms.p50)
	p99=$(j .summary.latency_ms.p99)
	echo "     $W: server $rate/s mid-run, wait p50 $wp50 us max $wmax us, depth max $dmax; stampede p50 $p50 ms p99 $p99 ms"
	check "$W: every service lasted exactly $SVC_US us" eq "$bad" 0
	check "$W: the server served the offered rate, not its capacity (3 %)" within "$rate" "$RATE" 3
	check "$W: no backlog: no request waited 100 ms" lt "$wmax" 100000
	check "$W: half of them waited under one service time" lt "$wp50" "$SVC_US"
	# The service time, the generator's own lag (this 2-core machine is
	# shared) and the wire: milliseconds, against seconds above capacity.
	check "$W: p50 latency under the service time + 10 ms" lt "$p50" "$(awk -v s="$SVC_US" 'BEGIN { print s / 1000 + 10 }')"
	P50_HALF+=("$p50")

	# 1.5 times the capacity: the queue grows by half the capacity each
	# second; the server still serves exactly its capacity.
	RATE=$((CAP * 3 / 2))
	BACKLOG=$(((RATE - CAP) * DUR))
	mark=$(log_mark "$HTTPSRV_LOG")
	run_sp run --url "$URL" --rate "$RATE" --duration ${DUR}s --max-vus $((BACKLOG * 5 / 4 + 200))
	W=":$PORT ($SLOTS x $SVC_US us = $CAP/s) at $RATE/s"
	check "$W: exit code 0" eq "$RC" 0
	check_client "$W" "$RATE"
	check_http_accounting
	started=$(j .summary.requests)
	# Each request the server read is answered or, its client gone at the
	# end of the drain, given up: both logged.
	cap_wait "$mark" "$PORT" "$started"
	served=$(cap_count "$mark" "$PORT" 200)
	gave_up=$(cap_count "$mark" "$PORT" 0)
	check "$W: the server logged each request: answered or given up" eq $((served + gave_up)) "$started"
	check "$W: ... answered at least what stampede received" ge "$served" "$(j .summary.responses)"
	read -r n rate bad wp50 wmax dmax <<<"$(cap_stats "$mark" "$PORT")"
	echo "     $W: server $rate/s mid-run, wait p50 $wp50 us max $wmax us, depth max $dmax; stampede $(j .summary.responses) responses, $(j .summary.interrupted) interrupted, loop $(j .generator.busy_pct) % busy"
	check "$W: every service lasted exactly $SVC_US us" eq "$bad" 0
	check "$W: throughput from the server's log = the design's $CAP/s (2 %)" within "$rate" "$CAP" 2
	check "$W: the queue grew to over half the expected $BACKLOG" ge "$dmax" $((BACKLOG / 2))
	tl=$(jq -r --argjson d "$DUR" '[.timeline[] | select(.t <= $d and (.partial | not)) | .p50_ms] | map(tostring) | join(" ")' "$TMP/r.json")
	echo "     $W: p50 latency per second: $tl ms"
	check "$W: the p50 latency rose every second of the load" \
		awk -v l="$tl" -v d="$DUR" 'BEGIN { n = split(l, a, " "); if (n < d - 1) exit 1
			for (i = 2; i <= n; i++) if (a[i] <= a[i - 1]) exit 1 }'
	check "$W: the last second's p50 is 20 times the half load's" \
		lt "$(awk -v p="$p50" 'BEGIN { print p * 20 }')" "$(echo "$tl" | awk '{ print $NF }')"
	check "$W: the generator's lag stayed small beside the latency" eq "$(j .summary.lag_warning)" false
done
finish
