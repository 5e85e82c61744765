#!/usr/bin/env bash
# The CI recipe's commands, one script for every CI service
# (examples/ci/github-actions.yml, examples/ci/gitlab-ci.yml; docs/ci.md):
#
#   run-load-test.sh build     meson setup (once) and ninja: the stampede
#                              binary only, as the runner's user
#   run-load-test.sh run       the load test (as root: stampede opens the
#                              port); its verdict is the exit code
#   run-load-test.sh summary   a Markdown summary of the last run on stdout
#                              (a GitHub job summary)
#
# Configuration is the environment, nothing else:
#   STAMPEDE_PORT        required: af_packet:IFACE or a PCI address bound
#                        to DPDK (--port)
#   STAMPEDE_IP          required: the generator's address or range (--ip)
#   TARGET_URL           required: scheme://host[:port], no path: the
#                        server the scenario's paths go to (--url)
#   STAMPEDE_GATEWAY     the next hop for an off-link target (--gateway)
#   STAMPEDE_PREFIX_LEN  the on-link prefix (--prefix-len; stampede's 24)
#   STAMPEDE_SCENARIO    the scenario file (examples/ci/scenario.yaml);
#                        relative to the repository
#   STAMPEDE_VUS, STAMPEDE_DURATION, STAMPEDE_STAGES, STAMPEDE_VU_OFFSET,
#   STAMPEDE_CORES       win over the file's (--vus, --duration, --stages,
#                        --vu-offset, --cores)
#   STAMPEDE_THRESHOLDS  more thresholds, besides the file's: one per line
#                        or separated by ';'
#   STAMPEDE_LIVE_INTERVAL  the live line's period in the job's log (30s)
#   STAMPEDE_ARGS        more options, split on blanks (--tls-ca FILE ...)
#   STAMPEDE_OUT_DIR     where the reports go (stampede-report); files of
#                        an earlier run there are removed first
#   STAMPEDE             the binary (STAMPEDE_BUILD_DIR/app/stampede)
#   STAMPEDE_BUILD_DIR   the build directory (build, in the repository)
#
# Exit codes of 'run' (stampede's own): 0 every threshold held; 1 a
# threshold failed, or no request succeeded; 2 the configuration is
# wrong (a variable, the scenario, an option): nothing ran; 3 the run
# could not run (port, EAL, ARP, the scenario's setup) or a report could
# not be written. 2 and 3 say the run is not valid, not that the server
# failed. The last line on stdout says which, and why.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD_DIR=${STAMPEDE_BUILD_DIR:-$REPO/build}
STAMPEDE=${STAMPEDE:-$BUILD_DIR/app/stampede}
OUT=${STAMPEDE_OUT_DIR:-stampede-report}
# Every file a run writes in $OUT (all of them the artifacts).
FILES=(report.json report_stats.csv report_timeline.csv report.html live.jsonl
	summary.txt stderr.log verdict.txt summary.md metrics.txt)

say() { echo "run-load-test: $*"; }
# A threshold's value with its unit, as docs/report-schema.md gives them:
# percent for rates, per second for rates of things, ms for times, else a
# count (judged on the expression without its scope, whose name may hold
# anything).
# shellcheck disable=SC2016 # jq, not the shell
JQ_VALUE='def value: (.expr | sub("^(scenario|request):(\"[^\"]*\"|[^ ]+) +"; "")) as $e |
	(.value | tostring) +
	(if ($e | test("(^|[ .:])(errors|checks)[ <>=!]|%\\s*$")) then " %"
	elif ($e | test("rps|/s")) then "/s"
	elif ($e | test("(^|[ .:])(p\\([0-9.]+\\)|med|avg|min|max)[ <>=!]")) then " ms"
	else "" end);'

build() {
	if ! command -v meson >/dev/null || ! command -v ninja >/dev/null; then
		say "meson and ninja are missing: run tools/install-deps --build-only (as root)" >&2
		exit 2
	fi
	[ -f "$BUILD_DIR/build.ninja" ] || meson setup "$BUILD_DIR" "$REPO"
	ninja -C "$BUILD_DIR" app/stampede
}

# verdict CODE CLASS TEXT: the run's verdict, in verdict.txt (for the
# summary) and as the last line on stdout; on GitHub an annotation too.
verdict() {
	printf '%s %s %s\n' "$1" "$2" "$3" >"$OUT/verdict.txt"
	say "$2: $3"
	if [ "${GITHUB_ACTIONS:-}" = true ] && [ "$2" != PASS ]; then
		# A workflow command's data escapes '%' (and CR, LF: none here).
		echo "::error title=load test $2::${3//%/%25}"
	fi
}

# metrics: the figures a GitLab metrics report compares between branches
# (OpenMetrics names and values, one a line).
metrics() {
	jq -r '.summary as $s | [
		["stampede_requests", $s.requests],
		["stampede_errors", $s.errors],
		["stampede_rps", $s.rps],
		["stampede_latency_p50_ms", $s.latency_ms.p50],
		["stampede_latency_p95_ms", $s.latency_ms.p95],
		["stampede_latency_p99_ms", $s.latency_ms.p99],
		["stampede_thresholds_failed", ([.thresholds[] | select(.ok | not)] | length)]
		] | .[] | "\(.[0]) \(.[1])"' "$OUT/report.json" >"$OUT/metrics.txt"
}

run() {
	local missing=() args=() th rc why failed f pid tpid stop
	# Not 1, which would read as the server's failure.
	mkdir -p "$OUT" || { say "INVALID: cannot make $OUT (STAMPEDE_OUT_DIR)"; exit 2; }
	for f in "${FILES[@]}"; do rm -f "$OUT/$f"; done
	[ -n "${STAMPEDE_PORT:-}" ] || missing+=(STAMPEDE_PORT)
	[ -n "${STAMPEDE_IP:-}" ] || missing+=(STAMPEDE_IP)
	[ -n "${TARGET_URL:-}" ] || missing+=(TARGET_URL)
	[ ${#missing[@]} -eq 0 ] || invalid "not set: ${missing[*]} (docs/ci.md)"
	command -v jq >/dev/null || invalid "jq is missing: run tools/install-deps --build-only"
	[ -x "$STAMPEDE" ] || invalid "no stampede binary at $STAMPEDE: run '$0 build' first"
	local scenario=${STAMPEDE_SCENARIO:-examples/ci/scenario.yaml}
	case $scenario in /*) ;; *) scenario=$REPO/$scenario ;; esac
	[ -r "$scenario" ] || invalid "no scenario file $scenario (STAMPEDE_SCENARIO)"

	args=(run "$scenario" --url "$TARGET_URL"
		--port "$STAMPEDE_PORT" --ip "$STAMPEDE_IP"
		--json "$OUT/report.json" --csv "$OUT/report" --html "$OUT/report.html"
		--out "json=$OUT/live.jsonl"
		--live-interval "${STAMPEDE_LIVE_INTERVAL:-30s}")
	[ -z "${STAMPEDE_GATEWAY:-}" ] || args+=(--gateway "$STAMPEDE_GATEWAY")
	[ -z "${STAMPEDE_PREFIX_LEN:-}" ] || args+=(--prefix-len "$STAMPEDE_PREFIX_LEN")
	[ -z "${STAMPEDE_VUS:-}" ] || args+=(--vus "$STAMPEDE_VUS")
	[ -z "${STAMPEDE_DURATION:-}" ] || args+=(--duration "$STAMPEDE_DURATION")
	[ -z "${STAMPEDE_STAGES:-}" ] || args+=(--stages "$STAMPEDE_STAGES")
	[ -z "${STAMPEDE_VU_OFFSET:-}" ] || args+=(--vu-offset "$STAMPEDE_VU_OFFSET")
	[ -z "${STAMPEDE_CORES:-}" ] || args+=(--cores "$STAMPEDE_CORES")
	while IFS= read -r th; do
		th=$(echo "$th" | sed 's/^[[:space:]]*//; s/[[:space:]]*$//')
		[ -z "$th" ] || args+=(--threshold "$th")
	done < <(printf '%s\n' "${STAMPEDE_THRESHOLDS:-}" | tr ';' '\n')
	# Split on blanks, as documented, and not expanded as file names.
	set -f
	# shellcheck disable=SC2206
	[ -z "${STAMPEDE_ARGS:-}" ] || args+=(${STAMPEDE_ARGS})
	set +f

	f=$(printf '%q ' "$STAMPEDE" "${args[@]}")
	say "${f% }"
	# stampede runs in a session of its own and writes its stderr to a
	# file, which tail copies into the job's log: a cancelled job's
	# signals reach it once, through the trap (the first stops the load
	# gracefully and every report is written, a second cuts the drain
	# short), and no pipe that a signal could break is in its way. The
	# verdict and the summary below still follow.
	: >"$OUT/stderr.log"
	pid=
	stop=0
	trap 'say "signal: stopping stampede, which writes the reports of the run so far" >&2
		stop=1
		[ -z "$pid" ] || kill -INT "$pid" 2>/dev/null || true' INT TERM
	setsid "$STAMPEDE" "${args[@]}" >"$OUT/summary.txt" 2>"$OUT/stderr.log" </dev/null &
	pid=$!
	[ "$stop" = 0 ] || kill -INT "$pid" 2>/dev/null || true
	tail -n +1 -f --pid="$pid" "$OUT/stderr.log" >&2 &
	tpid=$!
	while :; do
		rc=0
		wait "$pid" || rc=$?
		# A trap interrupts wait (status > 128) while stampede still runs.
		kill -0 "$pid" 2>/dev/null || break
	done
	trap - INT TERM
	wait "$tpid" || true
	cat "$OUT/summary.txt"
	[ ! -s "$OUT/report.json" ] || metrics
	# What stampede said last that is not the live line (which starts
	# with "[").
	why=$({ grep -v -e '^\[' -e '^$' "$OUT/stderr.log" || true; } | tail -n 2 |
		tr '\n' ' ' | sed 's/ *$//')
	case $rc in
	0) verdict 0 PASS "every threshold held$(early)" ;;
	1)
		if [ -s "$OUT/report.json" ] &&
			[ "$(jq -r .summary.nothing_succeeded "$OUT/report.json")" = true ]; then
			verdict 1 FAIL "no request succeeded: the run measured nothing$(early)"
		elif [ -s "$OUT/report.json" ]; then
			failed=$(jq -r "$JQ_VALUE"' [.thresholds[] | select(.ok | not) |
				"\(.expr) (\(value))"] | join("; ")' "$OUT/report.json")
			verdict 1 FAIL "threshold failed: $failed$(early)"
		else
			verdict 1 FAIL "a threshold failed (no JSON report: $why)"
		fi
		;;
	2) verdict 2 INVALID "the configuration is wrong, nothing ran: ${why:-see above}" ;;
	3) verdict 3 INVALID "the run could not run or a report could not be written: ${why:-see above}" ;;
	*)
		verdict 3 INVALID "stampede ended with status $rc (killed?): ${why:-see above}"
		rc=3
		;;
	esac
	finish
	return "$rc"
}

# early: a note when the run was stopped before its end (a signal, an
# aborting threshold), from the JSON report.
early() {
	case $(jq -r .stopped_by "$OUT/report.json" 2>/dev/null) in
	signal) echo " (stopped early by a signal: the run so far)" ;;
	threshold) echo " (stopped early by an aborting threshold)" ;;
	esac
}

# finish: the Markdown summary beside the reports; run through sudo, the
# reports go back to the runner's user, whose next checkout must be able
# to clean them up.
finish() {
	summary >"$OUT/summary.md"
	if [ "$(id -u)" = 0 ] && [ -n "${SUDO_UID:-}" ]; then
		chown -R "$SUDO_UID:${SUDO_GID:-$SUDO_UID}" "$OUT"
	fi
}

# invalid MESSAGE: the configuration's fault, found before stampede ran:
# the verdict, exit 2.
invalid() {
	verdict 2 INVALID "$1"
	finish
	exit 2
}

summary() {
	local v=$OUT/verdict.txt r=$OUT/report.json
	if [ ! -s "$v" ]; then
		echo "### stampede load test: no verdict"
		echo
		echo "The load test step did not get as far as a verdict (see its log)."
		return 0
	fi
	local code class text
	read -r code class text <"$v"
	echo "### stampede load test: $class (exit $code)"
	echo
	echo "$text"
	[ -s "$r" ] || return 0
	echo
	jq -r "$JQ_VALUE"' "| | |", "|---|---|",
		"| target | \(.target) (\(.target_addr)) |",
		"| stopped by | \(.stopped_by), after \(.summary.duration_s | . * 10 | round / 10) s |",
		"| requests | \(.summary.requests) (\(.summary.responses) responses, \(.summary.errors) errors, \(.summary.interrupted) interrupted) |",
		"| rate | \(.summary.rps | . * 10 | round / 10) responses/s (peak \(.summary.peak_rps | . * 10 | round / 10)) |",
		"| latency ms | p50 \(.summary.latency_ms.p50), p95 \(.summary.latency_ms.p95), p99 \(.summary.latency_ms.p99), max \(.summary.latency_ms.max) |",
		(select(.summary.lag_warning) | "| warning | the generator'"'"'s lag is over 10 % of the latency: the load box, not only the server, shaped the figures |"),
		(.summary.errors_by_kind | to_entries | map(select(.value > 0)) |
			select(length > 0) | "| errors by kind | \(map("\(.key) \(.value)") | join(", ")) |"),
		"",
		(select((.thresholds | length) > 0) |
			"| threshold | value | verdict |", "|---|---|---|",
			(.thresholds[] | "| `\(.expr)` | \(value) | \(if .ok then "pass" else "**FAIL**" end) |"))' "$r"
}

case ${1:-} in
build) build ;;
run) run ;;
summary) summary ;;
*)
	echo "usage: $0 build|run|summary (configuration: the variables at the top of this file)" >&2
	exit 2
	;;
esac
