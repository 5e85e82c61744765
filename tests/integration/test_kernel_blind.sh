#!/usr/bin/env bash
# On an af_packet port stampede keeps the kernel's stack off the port's
# frames for the run: an nftables table netdev stampede_<pid>_<start> with an
# ingress chain on the interface, policy drop. It exists while the run
# goes on and is gone after it, whether the run ends by its duration, by
# Ctrl-C or by an error; a kill -9 leaves it, and the next start removes
# it; --no-kernel-blind (network.kernel_blind: false) makes none. nft's
# own listing is the witness.
. "$(dirname "$0")/lib.sh"

url="http://$SRV/"
ours() { nft list tables netdev | awk '$3 ~ /^stampede_[0-9]+_[0-9]+$/ { print $3 }' | sort; }
# Start time of a process (field 22 of /proc/PID/stat, the command name may
# hold spaces).
start_of() { sed 's/.*) //' "/proc/$1/stat" | cut -d' ' -f20; }
BEFORE=$(ours)
# Tables of stampede made since the test began (leftovers of others aside).
new_tables() { comm -13 <(echo "$BEFORE") <(ours) | sed '/^$/d'; }
# wait_table PID: until PID's table (or a child's, see afpacket.c) is there.
wait_table() {
	for _ in $(seq 100); do
		[ -n "$(new_tables)" ] && return 0
		kill -0 "$1" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

# --- a run: there during, gone after -------------------------------------
mark=$(log_mark "$ACCESS_LOG")
"$STAMPEDE" run "${NET_OPTS[@]}" --url "$url" --vus 1 --duration 3s --json "$TMP/r.json" \
	>"$TMP/out.txt" 2>"$TMP/err.txt" &
pid=$!
wait_table "$pid"
check "during the run: one table" eq "$(new_tables | wc -l)" 1
t=$(new_tables)
check "during the run: named by the pid and its start time" eq "$t" "stampede_${pid}_$(start_of "$pid")"
# (nft 1.0.6's JSON leaves the device out: the text listing says it.)
nft list table netdev "$t" >"$TMP/t.txt"
check "during the run: an ingress chain on sp-gen0, policy drop, after the usual priority" eq \
	"$(grep -c 'type filter hook ingress device "sp-gen0" priority 500; policy drop;' "$TMP/t.txt")" 1
check "during the run: its comment names the pid" eq "$(grep -c "comment \"stampede pid $pid: " "$TMP/t.txt")" 1
wait "$pid"
check "the run: exit 0" eq "$?" 0
check "the run: its responses are nginx's" eq "$(j .summary.responses)" "$(nginx_count "$mark" 200 /)"
check "after the run: gone" eq "$(new_tables | wc -l)" 0

# --- Ctrl-C ------------------------------------------------------------------
"$STAMPEDE" run "${NET_OPTS[@]}" --url "$url" --vus 1 --duration 30s \
	>"$TMP/out.txt" 2>"$TMP/err.txt" &
pid=$!
wait_table "$pid"
check "Ctrl-C: the table while it runs" eq "$(new_tables | wc -l)" 1
kill -INT "$pid"
wait "$pid"
check "Ctrl-C: exit 0" eq "$?" 0
check "Ctrl-C: gone" eq "$(new_tables | wc -l)" 0

# --- an error after the start: nobody answers ARP for the gateway ---------
"$STAMPEDE" run --port af_packet:sp-gen0 --ip 198.18.0.1 --gateway 198.18.0.99 \
	--url "http://198.18.1.2/" --vus 1 --duration 1s >"$TMP/out.txt" 2>"$TMP/err.txt"
check "ARP failed: exit 3" eq "$?" 3
check "ARP failed: said so" ge "$(grep -ci 'arp' "$TMP/err.txt")" 1
check "ARP failed: gone" eq "$(new_tables | wc -l)" 0

# --- kill -9: left behind, the next start removes it ----------------------
"$STAMPEDE" run "${NET_OPTS[@]}" --url "$url" --vus 1 --duration 30s \
	>"$TMP/out.txt" 2>"$TMP/err.txt" &
pid=$!
wait_table "$pid"
t=$(new_tables)
kill -KILL "$pid"
wait "$pid" 2>/dev/null
check "kill -9: the table is left" eq "$(new_tables)" "$t"
run_sp run --url "$url" --vus 1 --duration 1s
check "next start: exit 0" eq "$RC" 0
check "next start: says it removed the stale table" eq "$(grep -c "^stampede: removed $t, left by a run" "$TMP/err.txt")" 1
check "next start: no table left" eq "$(new_tables | wc -l)" 0

# --- a pid given again to another program: its start time tells --------
sleep 60 &
live=$!
CLEANUPS+=("kill $live 2>/dev/null")
reused="stampede_${live}_1"
kept="stampede_${live}_$(start_of "$live")"
for t in "$reused" "$kept"; do
	nft add table netdev "$t"
	CLEANUPS+=("nft delete table netdev $t 2>/dev/null")
done
run_sp run --url "$url" --vus 1 --duration 1s
check "reused pid: its stale table removed" eq "$(nft list tables netdev | grep -c " $reused\$")" 0
check "reused pid: said so" eq "$(grep -c "^stampede: removed $reused, left by a run" "$TMP/err.txt")" 1
check "a live process's table kept" eq "$(nft list tables netdev | grep -c " $kept\$")" 1
nft delete table netdev "$kept"
kill "$live"; wait "$live" 2>/dev/null

# --- the opt-out -------------------------------------------------------------
scenario noblind <<EOF2
target: http://$SRV
network:
  kernel_blind: false
load: { vus: 1, duration: 2s }
scenarios: [ { name: a, steps: [ { request: { path: / } } ] } ]
EOF2
scenario badblind <<EOF2
target: http://$SRV
network:
  kernel_blind: maybe
load: { vus: 1, duration: 2s }
scenarios: [ { name: a, steps: [ { request: { path: / } } ] } ]
EOF2
optout() { # optout WHAT stampede-args...
	local what=$1 seen=0 pid
	shift
	"$STAMPEDE" "$@" >"$TMP/out.txt" 2>"$TMP/err.txt" &
	pid=$!
	# Look for the whole run: it holds its port the while.
	while kill -0 "$pid" 2>/dev/null; do
		[ -n "$(new_tables)" ] && seen=1
		sleep 0.05
	done
	wait "$pid"
	check "$what: the run ran" eq "$?" 0
	check "$what: no table at any time" eq "$seen" 0
}
optout "--no-kernel-blind" run "${NET_OPTS[@]}" --no-kernel-blind --url "$url" --vus 1 --duration 2s
optout "network.kernel_blind: false" run "$TMP/noblind.yaml" "${NET_OPTS[@]}"
"$STAMPEDE" validate "$TMP/badblind.yaml" >/dev/null 2>"$TMP/err.txt"
check "kernel_blind: maybe: exit 2" eq "$?" 2
check "kernel_blind: maybe: says why" eq "$(grep -c "badblind.yaml:3:17: kernel_blind: 'maybe' is not true or false" "$TMP/err.txt")" 1
finish
