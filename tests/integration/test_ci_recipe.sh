#!/usr/bin/env bash
# The CI recipe (examples/ci/, docs/ci.md): the two recipes parse and run
# examples/ci/run-load-test.sh, and that script, run here exactly as they
# run it (its variables, its subcommands), gives the job its verdict
# against the test bed:
#  - a passing scenario: exit 0 and every report in the output directory,
#    agreeing with each other and with nginx's log (JSON requests = CSV
#    total = the HTML's embedded report = the stream's last line = the
#    200s nginx logged); the live line every --live-interval;
#  - a failing threshold: exit 1, the reports still written, and the
#    verdict, the summary and the GitHub annotation name the threshold;
#  - a port that does not exist: exit 3, "not valid", stampede's reason;
#    an unset variable or a bad threshold: exit 2, nothing ran;
#  - a cancelled job (SIGTERM to the script): stampede stops gracefully and
#    every report and the verdict are still written.
. "$(dirname "$0")/lib.sh"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CI=$ROOT/examples/ci
SCRIPT=$CI/run-load-test.sh
# The runner's configuration, as a job's variables (STAMPEDE itself is
# meson's: the binary under test).
BED=(STAMPEDE_PORT=af_packet:sp-gen0 STAMPEDE_IP=198.18.0.1 STAMPEDE_GATEWAY="$SRV"
	TARGET_URL="http://$SRV")
# ci OUTDIR VAR=VALUE...: the script's run with the bed's variables and
# those given; stdout and stderr in OUTDIR.out and OUTDIR.err, RC its exit.
ci() {
	local out=$1
	shift
	env "${BED[@]}" STAMPEDE_OUT_DIR="$out" "$@" "$SCRIPT" run >"$out.out" 2>"$out.err"
	RC=$?
}
verdict_line() { grep '^run-load-test: \(PASS\|FAIL\|INVALID\):' "$1.out" | tail -1; }

# --- 1. the recipes: YAML that parses, calling the script for every step
/usr/bin/python3 - "$CI" >"$TMP/recipes.json" <<'EOF'
import json, re, sys, yaml
d = sys.argv[1]
gh = yaml.safe_load(open(d + "/github-actions.yml"))
gl = yaml.safe_load(open(d + "/gitlab-ci.yml"))
calls = lambda lines: sorted(set(m for l in lines for m in
                                 re.findall(r"examples/ci/run-load-test\.sh (\w+)", l)))
(job,) = gh["jobs"].values()
steps = job["steps"]
up = [s for s in steps if s.get("uses", "").startswith("actions/upload-artifact")]
summ = [s for s in steps if "run-load-test.sh summary" in s.get("run", "")]
glj = gl["load-test"]
out = {
    "gh_triggers": sorted((gh.get("on") or gh.get(True)).keys()),
    "gh_runs_on": job["runs-on"],
    "gh_calls": calls([s.get("run", "") for s in steps]),
    "gh_upload_always": len(up) == 1 and "always()" in up[0].get("if", ""),
    "gh_upload_path": up[0]["with"]["path"].rstrip("/") if up else None,
    "gh_summary_always": len(summ) == 1 and "always()" in summ[0].get("if", ""),
    "gh_env": job["env"],
    "gl_tags": glj["tags"],
    "gl_calls": calls(glj["script"] + glj.get("after_script", [])),
    "gl_summary_after": calls(glj.get("after_script", [])),
    "gl_when": glj["artifacts"]["when"],
    "gl_paths": [p.rstrip("/") for p in glj["artifacts"]["paths"]],
    "gl_metrics": glj["artifacts"]["reports"]["metrics"],
    "gl_env": glj["variables"],
}
print(json.dumps(out))
EOF
check "recipes: both parse as YAML" eq "$?" 0
r() { jq -r "$1" "$TMP/recipes.json"; }
check "github: scheduled and by hand" eq "$(r '.gh_triggers | join(" ")')" "schedule workflow_dispatch"
check "github: a self-hosted runner" eq "$(r '.gh_runs_on | index("self-hosted") != null')" true
check "github: build, run and summary are the script's" eq "$(r '.gh_calls | join(" ")')" "build run summary"
check "github: reports uploaded whatever the verdict (if: always())" eq "$(r .gh_upload_always)" true
check "github: the summary whatever the verdict" eq "$(r .gh_summary_always)" true
check "github: uploads the script's output directory" eq "$(r .gh_upload_path)" "$(r .gh_env.STAMPEDE_OUT_DIR)"
check "github: the live line every 30 s" eq "$(r .gh_env.STAMPEDE_LIVE_INTERVAL)" 30s
check "github: the port, addresses and target are the user's variables" eq \
	"$(r '[.gh_env | (.STAMPEDE_PORT, .STAMPEDE_IP, .STAMPEDE_GATEWAY, .TARGET_URL) | test("^\\$\\{\\{ vars\\.")] | all')" true
check "gitlab: a tagged (self-hosted) runner" eq "$(r '.gl_tags | length > 0')" true
check "gitlab: build, run and summary are the script's" eq "$(r '.gl_calls | join(" ")')" "build run summary"
check "gitlab: the summary in after_script (whatever the verdict)" eq "$(r '.gl_summary_after | join(" ")')" summary
check "gitlab: artifacts when: always" eq "$(r .gl_when)" always
check "gitlab: keeps the script's output directory" eq "$(r '.gl_paths | join(" ")')" "$(r .gl_env.STAMPEDE_OUT_DIR)"
check "gitlab: the metrics report is the script's" eq "$(r .gl_metrics)" "$(r .gl_env.STAMPEDE_OUT_DIR)/metrics.txt"
check "gitlab: the live line every 30 s" eq "$(r .gl_env.STAMPEDE_LIVE_INTERVAL)" 30s
check "the recipes' scenario validates" "$STAMPEDE" validate "$CI/scenario.yaml"

# --- 2. a passing scenario, run as sudo would (the reports go back to
# the runner's user)
P=$TMP/pass
mark=$(log_mark "$ACCESS_LOG")
ci "$P" STAMPEDE_VUS=10 STAMPEDE_DURATION=5s STAMPEDE_LIVE_INTERVAL=2s SUDO_UID=65534 SUDO_GID=65534
check "pass: exit 0" eq "$RC" 0
check "pass: the verdict says so" eq "$(verdict_line "$P")" "run-load-test: PASS: every threshold held"
for f in report.json report_stats.csv report_timeline.csv report.html live.jsonl summary.txt \
	summary.md metrics.txt verdict.txt stderr.log; do
	check "pass: $f written" test -s "$P/$f"
done
check "pass: every file belongs to the sudo user" eq \
	"$(find "$P" ! -uid 65534 -o ! -gid 65534 | wc -l)" 0
cp "$P/report.json" "$TMP/r.json"
check "pass: the scenario's 4 thresholds, all held" eq "$(j '[.thresholds[] | select(.ok)] | length')" 4
check "pass: ran its 5 s" eq "$(j .stopped_by)" duration
req=$(j .summary.requests)
check "pass: some load ran" ge "$req" 50
check_http_accounting
check "pass: nothing failed or cut" eq "$(j '[.summary.errors, .summary.interrupted] | map(tostring) | join(" ")')" "0 0"
check "pass: nginx logged a 200 for every request" eq "$(nginx_count "$mark" 200 /)" "$req"
check "pass: nginx logged nothing else" eq "$(log_since "$ACCESS_LOG" "$mark" | wc -l)" "$req"
check "pass: CSV total row = the JSON's requests" eq \
	"$(awk -F, '$1 == "total" { print $3 }' "$P/report_stats.csv")" "$req"
check "pass: CSV timeline rows = the JSON's points" eq \
	"$(($(wc -l <"$P/report_timeline.csv") - 1))" "$(j '.timeline | length')"
awk '/<script type="application\/json" id="report">/ { on = 1; next }
	on && /<\/script>/ { exit } on' "$P/report.html" >"$TMP/html.json"
check "pass: the HTML embeds the JSON report" eq "$(jq -S -c . "$TMP/html.json")" "$(jq -S -c . "$P/report.json")"
check "pass: a stream line a timeline point" eq "$(wc -l <"$P/live.jsonl")" "$(j '.timeline | length')"
check "pass: the stream's last line has the run's requests" eq "$(tail -1 "$P/live.jsonl" | jq .run.requests)" "$req"
check "pass: metrics.txt, the JSON's figures" eq \
	"$(awk '$1 == "stampede_requests" || $1 == "stampede_thresholds_failed" { print $2 }' "$P/metrics.txt" | tr '\n' ' ')" "$req 0 "
# --live-interval 2s in 5 s: the lines of 1 s, 2 s and 4 s, in the job's
# log (the script's stderr) as in stderr.log.
check "pass: the job's log has 3 live lines, not 5" eq "$(grep -c 'req/s' "$P.err")" 3
check "pass: at 1 s, 2 s and 4 s" eq "$(grep -o '^\[ *[0-9]*s' "$P.err" | tr -d '[ ' | tr '\n' ' ')" "1s 2s 4s "
check "pass: stderr.log has them too" eq "$(grep -c 'req/s' "$P/stderr.log")" 3
check "pass: the summary says PASS" eq "$(head -1 "$P/summary.md")" "### stampede load test: PASS (exit 0)"
check "pass: the summary's threshold rows, all pass" eq "$(grep -c '^| `.*` | .* | pass |$' "$P/summary.md")" 4
check "pass: the summary subcommand prints the same" eq \
	"$(STAMPEDE_OUT_DIR=$P "$SCRIPT" summary | md5sum)" "$(md5sum <"$P/summary.md")"
check "pass: the text summary is in the job's log" ge "$(grep -c '^  requests' "$P.out")" 1

# --- 3. a failing threshold: exit 1, the reports kept, the threshold named
F=$TMP/fail
ci "$F" STAMPEDE_VUS=5 STAMPEDE_DURATION=2s STAMPEDE_THRESHOLDS='rps > 100000000; p(99) < 10s' \
	GITHUB_ACTIONS=true
check "fail: exit 1" eq "$RC" 1
for f in report.json report_stats.csv report_timeline.csv report.html live.jsonl summary.md metrics.txt; do
	check "fail: $f still written" test -s "$F/$f"
done
cp "$F/report.json" "$TMP/r.json"
check "fail: the file's 4 and the 2 given, one failed" eq \
	"$(j '[(.thresholds | length), ([.thresholds[] | select(.ok | not)] | length)] | map(tostring) | join(" ")')" "6 1"
check "fail: the failed one is rps > 100000000" eq "$(j '.thresholds[] | select(.ok | not) | .expr')" "rps > 100000000"
check "fail: the verdict names it, with its value" eq \
	"$(verdict_line "$F")" "run-load-test: FAIL: threshold failed: rps > 100000000 ($(j '.thresholds[] | select(.ok | not) | .value')/s)"
check "fail: a GitHub error annotation names it" eq \
	"$(grep -c '^::error title=load test FAIL::threshold failed: rps > 100000000 (' "$F.out")" 1
check "fail: the summary says FAIL" eq "$(head -1 "$F/summary.md")" "### stampede load test: FAIL (exit 1)"
check "fail: the summary marks that threshold, only it" eq \
	"$(grep '\*\*FAIL\*\*' "$F/summary.md" | cut -d'`' -f2)" "rps > 100000000"
check "fail: metrics.txt counts it" eq "$(awk '$1 == "stampede_thresholds_failed" { print $2 }' "$F/metrics.txt")" 1

# --- 4. runs that are not valid: distinct exits, said why, no report
# The passing run's directory again: its reports must go first.
ci "$P" STAMPEDE_PORT=af_packet:sp-nosuch0
check "no port: exit 3" eq "$RC" 3
check "no port: not valid, stampede's reason" eq "$(verdict_line "$P")" \
	"run-load-test: INVALID: the run could not run or a report could not be written: stampede: --port af_packet:sp-nosuch0: no such interface in this network namespace"
check "no port: the earlier run's reports are gone" eq "$(find "$P" -name 'report*' | wc -l)" 0
check "no port: the summary says INVALID (exit 3)" eq "$(head -1 "$P/summary.md")" "### stampede load test: INVALID (exit 3)"
ci "$TMP/unset" TARGET_URL=
check "unset variable: exit 2" eq "$RC" 2
check "unset variable: named" eq "$(verdict_line "$TMP/unset")" "run-load-test: INVALID: not set: TARGET_URL (docs/ci.md)"
ci "$TMP/bad" STAMPEDE_THRESHOLDS='p(95) < 1s; latency.bogus < 1'
check "bad threshold: exit 2" eq "$RC" 2
check "bad threshold: the configuration, nothing ran, stampede's reason" eq \
	"$(verdict_line "$TMP/bad" | grep -c "^run-load-test: INVALID: the configuration is wrong, nothing ran: --threshold: ")" 1
check "bad threshold: no report" test ! -e "$TMP/bad/report.json"

# --- 5. a cancelled job: SIGTERM to the script alone (stampede is in a
# session of its own: the script's trap passes it on)
C=$TMP/cancel
env "${BED[@]}" STAMPEDE_OUT_DIR="$C" STAMPEDE_VUS=5 STAMPEDE_DURATION=60s \
	"$SCRIPT" run >"$C.out" 2>"$C.err" &
pid=$!
lines=0
for _ in $(seq 100); do
	lines=$(wc -l <"$C/live.jsonl" 2>/dev/null || echo 0)
	[ "$lines" -ge 2 ] && break
	sleep 0.1
done
check "cancel: the run was under way (2 stream lines)" ge "$lines" 2
kill -TERM "$pid"
wait "$pid"
RC=$?
check "cancel: exit 0 (the thresholds held over the run so far)" eq "$RC" 0
check "cancel: stopped by the signal, long before 60 s" eq \
	"$(jq -r '"\(.stopped_by) \(.elapsed_s < 20)"' "$C/report.json")" "signal true"
check "cancel: the verdict says it stopped early" eq "$(verdict_line "$C")" \
	"run-load-test: PASS: every threshold held (stopped early by a signal: the run so far)"
for f in report_stats.csv report_timeline.csv report.html summary.md metrics.txt; do
	check "cancel: $f written" test -s "$C/$f"
done
check "cancel: no stampede left running" eq "$(pgrep -c -f "json=$C/live.jsonl")" 0
finish
