#!/usr/bin/env bash
# Every stampede command line of the README runs, as written, against the
# test bed, and exits 0.
#
# What is taken: each line of a ```sh block of README.md that runs
# build/app/stampede (after joining backslash-continued lines), together
# with the shell variables the same block defines before it on lines of
# their own (net="..."); bash itself expands them and splits the words, so
# quoting means what it means in a shell.
#
# What is changed, and nothing else (an example that passes with these
# changes passes as written on its stated set-up):
#   build/app/stampede        -> the binary under test ($STAMPEDE)
#   --port VALUE              -> --port af_packet:sp-gen0 (the bed's port)
#   --duration DUR            -> --duration 2s (a shorter one is kept);
#                                for tcp 10s, its bound: a tcp run ends
#                                when its connections are done, and exits
#                                1 if the bound cut some
#   tcp: --connections N      -> at most 2000 (concurrency stays below)
#   tcp: --hold DUR           -> at most 1s
#   --stages "D:T,D:T,..."    -> every stage's D -> 1s (targets kept)
#   run without --duration or --stages on the line (a FILE's own load):
#                                --duration 2s is added
#   any argument under /tmp/  -> the same name under this test's directory
# Each command gets 60 s at most (timeout) and must exit 0. Commands that
# wait for a peer (serve, net) run with the cap only: they must start and
# exit 0. Run from the repository's root, as the README's paths are.
. "$(dirname "$0")/lib.sh"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
README=${SP_README:-$ROOT/README.md}
CAP=2s
cd "$ROOT" || exit 1

# One script per command in $TMP/readme/: the block's assignments, then
# printf of the command's words (NUL-separated).
mkdir -p "$TMP/readme"
python3 - "$README" "$TMP/readme" >/dev/null <<'PY'
import re, sys, os
readme, out = sys.argv[1], sys.argv[2]
lines = open(readme, encoding="utf-8").read().splitlines()
blocks, cur = [], None
for line in lines:
    if cur is None and re.match(r"^\s*```(sh|bash|shell|console)\s*$", line):
        cur = []
    elif cur is not None and re.match(r"^\s*```\s*$", line):
        blocks.append(cur)
        cur = None
    elif cur is not None:
        cur.append(line)
k = 0
for b in blocks:
    joined, acc = [], ""
    for line in b:
        if line.rstrip().endswith("\\"):
            acc += line.rstrip()[:-1] + " "
            continue
        joined.append(acc + line)
        acc = ""
    if acc:
        joined.append(acc)
    assigns = []
    for line in joined:
        s = line.strip()
        if re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", s):
            assigns.append(s)
        elif s.startswith("build/app/stampede ") or s == "build/app/stampede":
            k += 1
            with open(os.path.join(out, f"{k:03d}.sh"), "w") as f:
                f.write("\n".join(assigns) + "\n")
                f.write("printf '%s\\0' " + s[len("build/app/stampede"):].strip() + "\n")
            with open(os.path.join(out, f"{k:03d}.txt"), "w") as f:
                f.write(s + "\n")
print(k)
PY


n=$(find "$TMP/readme" -name '*.sh' | wc -l)
check "the README has stampede command lines" ge "$n" 1
# grep's count, independent of the extractor: a command line the
# extractor missed would otherwise go untested without a word.
check "every README line that starts a stampede command was extracted" \
	eq "$n" "$(grep -c '^build/app/stampede' "$README")"

cap_stages() { # "10s:20,30s:200" -> "1s:20,1s:200"
	local IFS=, out=() st
	for st in $1; do out+=("1s:${st#*:}"); done
	echo "${out[*]}"
}
us_of() { # a duration in microseconds, for the cap's comparison
	local d=$1 t=0 n u
	[[ $d =~ ^[0-9]+$ ]] && { echo $((d * 1000000)); return; }
	while [[ $d =~ ^([0-9]+)(ms|us|h|m|s)(.*)$ ]]; do
		n=${BASH_REMATCH[1]} u=${BASH_REMATCH[2]} d=${BASH_REMATCH[3]}
		case $u in
		us) t=$((t + n)) ;; ms) t=$((t + n * 1000)) ;; s) t=$((t + n * 1000000)) ;;
		m) t=$((t + n * 60000000)) ;; h) t=$((t + n * 3600000000)) ;;
		esac
	done
	echo "$t"
}

for f in "$TMP"/readme/*.sh; do
	orig=$(tr -s ' ' <"${f%.sh}.txt")
	mapfile -d '' words < <(bash "$f")
	args=() has_dur=0 i=0
	sub=${words[0]:-}
	cap=$CAP
	[ "$sub" = tcp ] && cap=10s
	while ((i < ${#words[@]})); do
		w=${words[i]}
		case $w in
		--port) args+=(--port af_packet:sp-gen0); i=$((i + 2)); continue ;;
		--duration)
			d=${words[i + 1]}
			(($(us_of "$d") > $(us_of "$cap"))) && d=$cap
			args+=(--duration "$d"); has_dur=1; i=$((i + 2)); continue ;;
		--connections | --hold)
			d=${words[i + 1]}
			if [ "$sub" = tcp ] && [ "$w" = --connections ] && [[ $d =~ ^[0-9]+$ ]] && ((d > 2000)); then
				d=2000
			elif [ "$sub" = tcp ] && [ "$w" = --hold ] && (($(us_of "$d") > 1000000)); then
				d=1s
			fi
			args+=("$w" "$d"); i=$((i + 2)); continue ;;
		--stages) args+=(--stages "$(cap_stages "${words[i + 1]}")"); has_dur=1; i=$((i + 2)); continue ;;
		/tmp/*) w=$TMP/${w#/tmp/} ;;
		esac
		args+=("$w")
		i=$((i + 1))
	done
	if [[ $sub == run && $has_dur -eq 0 ]]; then
		args+=(--duration "$CAP")
	fi
	timeout 60 "$STAMPEDE" "${args[@]}" >"$TMP/out.txt" 2>"$TMP/err.txt"
	rc=$?
	check "README: $orig (as run: stampede ${args[*]})" eq "$rc" 0
	if [ "$rc" -ne 0 ]; then
		tail -n 5 "$TMP/err.txt" "$TMP/out.txt" | sed 's/^/     /' >&2
	fi
done
finish
