#!/usr/bin/env bash
# One distributed stampede run on Kubernetes, from start to merged report:
#   1. renders the manifests beside this script for this run: N shards, the
#      start time, a run id, the image (kubectl patch --local: offline);
#   2. applies the scenario ConfigMap, the network, the reports volume (or
#      the upload URLs' Secret) and the shards' Indexed Job;
#   3. checks that all N pods are running before the start time (else it
#      stops the run: shards that start alone are not the run you asked for);
#   4. waits for the Job to complete or fail;
#   5. runs the merge Job, then copies the run's reports out;
#   6. exits with the merge's verdict: 0 every threshold held, 1 one failed,
#      2 usage or refused reports, 3 the run or a report failed.
# docs/distributed.md walks through it.
#
# usage: deploy/kubernetes/run.sh -N SHARDS -s SCENARIO [options]
#   -N, --shards N        shards, one pod per load box ($STAMPEDE_SHARDS)
#   -s, --scenario FILE   the whole run's scenario ($STAMPEDE_SCENARIO)
#   -n, --namespace NS    namespace (default: the context's) ($STAMPEDE_NAMESPACE)
#   -i, --image IMAGE     the image you pushed (default stampede:0.1.0)
#                         ($STAMPEDE_IMAGE)
#   --variant V           sriov (default) or afpacket: job-V.yaml
#   --file FILE           one more file beside the scenario in /scenario (a
#                         data file, a CA certificate); repeatable
#   --start-in SECONDS    start the load this long after applying (90)
#   --start-at TIME       or at this instant (RFC 3339, UTC, or epoch seconds)
#   --reports pvc|upload  reports on the ReadWriteMany volume (default), or
#                         through pre-signed URLs (reports-upload-patch.yaml)
#   --upload-urls DIR     the URL files for --reports upload
#   --run ID              the run's name (default: the UTC time, 20261207T150000Z)
#   --timeout SECONDS     how long the shards may take in all (3600)
#   -o, --out DIR         where the reports are copied (./stampede-RUN)
#   --render-only DIR     write the rendered manifests to DIR, apply nothing
#   -h, --help
# $KUBECTL names the kubectl to use (default kubectl).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
KUBECTL=${KUBECTL:-kubectl}

shards=${STAMPEDE_SHARDS:-}
scenario=${STAMPEDE_SCENARIO:-}
namespace=${STAMPEDE_NAMESPACE:-}
image=${STAMPEDE_IMAGE:-stampede:0.1.0}
variant=sriov
reports=pvc
upload_urls=""
start_in=90
start_at=""
run_id=""
timeout=3600
out=""
render_only=""
files=()

die() { echo "run.sh: $*" >&2; exit "${2:-2}"; }
# shellcheck disable=SC2016 # a sed address, not a shell expansion
usage() { sed -n '/^# usage:/,/^# \$KUBECTL/s/^# \{0,1\}//p' "$0"; }
need() { [[ $# -ge 2 && -n $2 ]] || die "$1 needs a value (run.sh --help)"; }

while [[ $# -gt 0 ]]; do
	case $1 in
	-N | --shards) need "$@"; shards=$2; shift 2 ;;
	-s | --scenario) need "$@"; scenario=$2; shift 2 ;;
	-n | --namespace) need "$@"; namespace=$2; shift 2 ;;
	-i | --image) need "$@"; image=$2; shift 2 ;;
	--variant) need "$@"; variant=$2; shift 2 ;;
	--file) need "$@"; files+=("$2"); shift 2 ;;
	--start-in) need "$@"; start_in=$2; shift 2 ;;
	--start-at) need "$@"; start_at=$2; shift 2 ;;
	--reports) need "$@"; reports=$2; shift 2 ;;
	--upload-urls) need "$@"; upload_urls=$2; shift 2 ;;
	--run) need "$@"; run_id=$2; shift 2 ;;
	--timeout) need "$@"; timeout=$2; shift 2 ;;
	-o | --out) need "$@"; out=$2; shift 2 ;;
	--render-only) need "$@"; render_only=$2; shift 2 ;;
	-h | --help) usage; exit 0 ;;
	*) die "unknown argument '$1' (run.sh --help)" ;;
	esac
done

# The checks that need no cluster, before anything is applied.
[[ $shards =~ ^[1-9][0-9]*$ ]] || die "--shards: a positive number of shards, not '$shards'"
[[ -n $scenario ]] || die "--scenario FILE is required"
[[ -r $scenario ]] || die "--scenario: cannot read '$scenario'"
for f in "${files[@]}"; do
	[[ -r $f ]] || die "--file: cannot read '$f'"
done
case $variant in
sriov | afpacket) ;;
*) die "--variant: sriov or afpacket, not '$variant'" ;;
esac
case $reports in
pvc) [[ -z $upload_urls ]] || die "--upload-urls goes with --reports upload" ;;
upload)
	[[ -n $upload_urls ]] || die "--reports upload needs --upload-urls DIR"
	for ((i = 0; i < shards; i++)); do
		for m in put get; do
			[[ -r $upload_urls/shard-$i.$m ]] ||
				die "--upload-urls: no $upload_urls/shard-$i.$m"
		done
	done
	for f in merged.json.put merged.html.put; do
		[[ -r $upload_urls/$f ]] || die "--upload-urls: no $upload_urls/$f"
	done
	;;
*) die "--reports: pvc or upload, not '$reports'" ;;
esac
[[ $start_in =~ ^[0-9]+$ ]] || die "--start-in: seconds, not '$start_in'"
[[ $timeout =~ ^[1-9][0-9]*$ ]] || die "--timeout: seconds, not '$timeout'"
if [[ -z $start_at ]]; then
	start_at=$(date -u -d "+$start_in seconds" +%FT%TZ)
elif [[ $start_at =~ ^[0-9]+$ ]]; then
	start_at=$(date -u -d "@$start_at" +%FT%TZ)
fi
start_epoch=$(date -u -d "$start_at" +%s 2>/dev/null) ||
	die "--start-at: not a time: '$start_at'"
start_at=$(date -u -d "@$start_epoch" +%FT%TZ)
run_id=${run_id:-$(date -u +%Y%m%dT%H%M%SZ)}
# The run id names a directory on the volume and goes into a label value.
[[ $run_id =~ ^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$ ]] ||
	die "--run: letters, digits, '.', '_' and '-', at most 63, not '$run_id'"
[[ $image =~ ^[A-Za-z0-9][A-Za-z0-9._/:@-]*$ ]] || die "--image: not an image name: '$image'"
out=${out:-./stampede-$run_id}
[[ -n $render_only || ! -e $out ]] || die "--out: $out exists already"

kc() {
	if [[ -n $namespace ]]; then
		"$KUBECTL" -n "$namespace" "$@"
	else
		"$KUBECTL" "$@"
	fi
}

# Rendering: the manifests as committed, patched for this run, offline.
work=$(mktemp -d /tmp/stampede-k8s.XXXXXX)
trap 'rm -rf "$work"' EXIT
env_patch() { # NAME=VALUE... as a container's env list
	local sep="" kv
	printf '['
	for kv in "$@"; do
		printf '%s{"name":"%s","value":"%s"}' "$sep" "${kv%%=*}" "${kv#*=}"
		sep=,
	done
	printf ']'
}
render() { # FILE CONTAINER SPEC_JSON ENV... -> the patched object on stdout
	local file=$1 ctr=$2 spec=$3
	shift 3
	local tmpl
	tmpl='{"spec":{'$spec'"template":{"spec":{"containers":[{"name":"'$ctr'","image":"'$image'","env":'$(env_patch "$@")'}]}}}}'
	"$KUBECTL" patch --local -f "$file" -o yaml -p "$tmpl"
}

cm_args=(--from-file="scenario.yaml=$scenario")
for f in "${files[@]}"; do
	cm_args+=(--from-file="$f")
done
"$KUBECTL" create configmap stampede-scenario "${cm_args[@]}" \
	--dry-run=client -o yaml >"$work/scenario-configmap.yaml"
render "$here/job-$variant.yaml" stampede \
	'"completions":'"$shards"',"parallelism":'"$shards"',' \
	"STAMPEDE_SHARDS=$shards" "STAMPEDE_START_AT=$start_at" \
	"STAMPEDE_RUN=$run_id" >"$work/job.yaml"
if [[ $reports == upload ]]; then
	"$KUBECTL" patch --local -f "$work/job.yaml" -o yaml \
		-p "$(cat "$here/reports-upload-patch.yaml")" >"$work/job-upload.yaml"
	mv "$work/job-upload.yaml" "$work/job.yaml"
	render "$here/merge-job-upload.yaml" merge "" \
		"STAMPEDE_SHARDS=$shards" >"$work/merge-job.yaml"
else
	render "$here/merge-job.yaml" merge "" \
		"STAMPEDE_SHARDS=$shards" "STAMPEDE_RUN=$run_id" >"$work/merge-job.yaml"
	# The pod is no Job: its container list sits in spec itself.
	"$KUBECTL" patch --local -f "$here/fetch-pod.yaml" -o yaml -p \
		'{"spec":{"containers":[{"name":"fetch","image":"'"$image"'","env":'"$(env_patch "STAMPEDE_RUN=$run_id")"'}]}}' \
		>"$work/fetch-pod.yaml"
fi
if [[ $variant == sriov ]]; then
	network=$here/network-sriov.yaml
else
	network=$here/network-macvlan.yaml
fi

if [[ -n $render_only ]]; then
	mkdir -p "$render_only"
	cp "$work"/*.yaml "$network" "$render_only/"
	[[ $reports == pvc ]] && cp "$here/reports-pvc.yaml" "$render_only/"
	echo "run.sh: run $run_id rendered in $render_only (start $start_at, $shards shards)"
	exit 0
fi

job_state() { # JOB -> Complete, Failed or nothing yet
	kc get job "$1" -o \
		jsonpath='{range .status.conditions[?(@.status=="True")]}{.type}{"\n"}{end}' |
		grep -E -m1 '^(Complete|Failed)$' || true
}
wait_job() { # JOB SECONDS -> 0 complete, 1 failed, 2 timed out
	local end=$((SECONDS + $2)) state
	# Two waits, one per outcome: the first to return says which.
	while ((SECONDS < end)); do
		state=$(job_state "$1")
		[[ $state == Complete ]] && return 0
		[[ $state == Failed ]] && return 1
		kc wait --for=condition=complete --timeout=10s "job/$1" >/dev/null 2>&1 &
		local a=$!
		kc wait --for=condition=failed --timeout=10s "job/$1" >/dev/null 2>&1 &
		local b=$!
		wait -n "$a" "$b" || true
		kill "$a" "$b" 2>/dev/null || true
		wait "$a" "$b" 2>/dev/null || true
		sleep 1
	done
	return 2
}
pod_phases() { # JOB -> one phase a line, one line a pod
	kc get pods -l "job-name=$1" \
		-o jsonpath='{range .items[*]}{.status.phase}{"\n"}{end}'
}

echo "run.sh: run $run_id: $shards shards ($variant), start at $start_at"
# A Job is immutable and the merge Job keeps the last verdict: remove the
# previous run's (their reports stay on the volume, in their directory).
kc delete job stampede stampede-merge --ignore-not-found --wait=true >/dev/null
kc delete pod stampede-fetch --ignore-not-found --wait=true >/dev/null
kc apply -f "$work/scenario-configmap.yaml" -f "$network"
if [[ $reports == pvc ]]; then
	kc apply -f "$here/reports-pvc.yaml"
else
	"$KUBECTL" create secret generic stampede-upload --from-file="$upload_urls" \
		--dry-run=client -o yaml | kc apply -f -
fi

# shellcheck disable=SC2317 # called by the trap
stop_run() {
	echo "run.sh: stopping: deleting the shards' Job (each pod stops gracefully)" >&2
	kc delete job stampede --ignore-not-found --wait=false >/dev/null || true
	exit 3
}
trap stop_run INT TERM
kc apply -f "$work/job.yaml"

# Every shard must be running when the load starts.
while :; do
	phases=$(pod_phases stampede)
	running=$(grep -c '^Running$' <<<"$phases" || true)
	if grep -q '^Failed$' <<<"$phases"; then
		kc logs -l job-name=stampede --tail=20 --prefix >&2 || true
		die "a shard failed before the start" 3
	fi
	((running == shards)) && break
	if (($(date -u +%s) >= start_epoch)); then
		kc get pods -l job-name=stampede -o wide >&2 || true
		kc delete job stampede --wait=false >/dev/null || true
		die "$running of $shards shards running at the start time ($start_at): run stopped. More load boxes (one pod per node), or more time (--start-in)" 3
	fi
	sleep 2
done
echo "run.sh: all $shards shards running; the load starts at $start_at"

if wait_job stampede "$timeout"; then
	echo "run.sh: every shard is done"
else
	rc=$?
	kc get pods -l job-name=stampede >&2 || true
	kc logs -l job-name=stampede --tail=20 --prefix >&2 || true
	if ((rc == 2)); then
		kc delete job stampede --wait=false >/dev/null || true
		die "the shards did not finish within --timeout $timeout s: run stopped" 3
	fi
	die "a shard failed: the run is not complete; nothing merged (see above)" 3
fi
trap - INT TERM

kc apply -f "$work/merge-job.yaml"
wait_job stampede-merge 600 || true
kc logs job/stampede-merge || true
merge_rc=$(kc get pods -l job-name=stampede-merge -o \
	jsonpath='{.items[0].status.containerStatuses[0].state.terminated.exitCode}')
[[ $merge_rc =~ ^[0-9]+$ ]] || die "the merge Job did not finish" 3

if [[ $reports == pvc ]]; then
	kc apply -f "$work/fetch-pod.yaml"
	kc wait --for=condition=Ready --timeout=300s pod/stampede-fetch
	if [[ -n $namespace ]]; then
		"$KUBECTL" cp "$namespace/stampede-fetch:/reports" "$out"
	else
		"$KUBECTL" cp "stampede-fetch:/reports" "$out"
	fi
	kc delete pod stampede-fetch --wait=false >/dev/null
	echo "run.sh: the run's reports are in $out (merged.json, merged.html, shard-*.json)"
elif [[ -r $upload_urls/merged.json.get ]]; then
	mkdir -p "$out"
	curl -fsS --retry 3 -o "$out/merged.json" "$(cat "$upload_urls/merged.json.get")"
	echo "run.sh: merged.json in $out; merged.html in your object store"
else
	echo "run.sh: the merged reports are in your object store (merged.json, merged.html)"
fi

case $merge_rc in
0) echo "run.sh: PASS: every threshold held" ;;
1) echo "run.sh: FAIL: a threshold failed, or no request succeeded" ;;
*) echo "run.sh: the merge ended with $merge_rc (2: reports refused, 3: a report not written)" ;;
esac
exit "$merge_rc"
