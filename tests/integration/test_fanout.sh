#!/usr/bin/env bash
# DPDK 22.11's af_packet driver puts its sockets in the packet fanout group
# numbered (pid ^ ifindex) & 0xffff; that number held by another process
# on another interface made the driver fail ("port not found"), 3 times in
# about 400 concurrent runs. Here the collision is certain: stampede is
# started stopped, its pid is known, fanout_hold takes the group its pid
# and sp-gen0's ifindex give (on a veth pair of this test's own) before it
# goes on. It must still run (nginx's log is the witness), or, when every
# new pid it could take collides too, say so and send nothing.
. "$(dirname "$0")/lib.sh"
: "${FANOUT_HOLD:?FANOUT_HOLD must point at fanout_hold}"

url="http://$SRV/"
IFX=$(cat /sys/class/net/sp-gen0/ifindex)
ip link del sp-fan0 2>/dev/null
ip link add sp-fan0 type veth peer name sp-fan1
CLEANUPS+=("ip link del sp-fan0 2>/dev/null")
ip link set sp-fan0 up
ip link set sp-fan1 up
txp() { cat /sys/class/net/sp-gen0/statistics/tx_packets; }

# started_stopped ARGS...: stampede ARGS in the background, stopped before
# its first instruction; PID in $P (the same after exec).
started_stopped() {
	bash -c 'kill -STOP $$; exec "$0" "$@"' "$STAMPEDE" "$@" \
		>"$TMP/out.txt" 2>"$TMP/err.txt" &
	P=$!
	for _ in $(seq 100); do
		[[ $(ps -o stat= -p "$P") == T* ]] && return 0
		sleep 0.02
	done
	return 1
}
# hold COUNT: the groups of pids P .. P+COUNT-1 on sp-fan0; H the holder.
hold() {
	"$FANOUT_HOLD" sp-fan0 "$P" "$1" "$IFX" >"$TMP/hold.out" &
	H=$!
	CLEANUPS+=("kill $H 2>/dev/null")
	for _ in $(seq 200); do
		grep -q '^ready' "$TMP/hold.out" && return 0
		sleep 0.02
	done
	return 1
}

# --- one group taken: a new process takes another ------------------------
mark=$(log_mark "$ACCESS_LOG")
started_stopped run "${NET_OPTS[@]}" --url "$url" --vus 1 --duration 1s --json "$TMP/r.json"
check "stampede stopped before it starts" eq "$?" 0
hold 1
check "the group of its pid is held elsewhere" eq "$(cat "$TMP/hold.out")" "ready 1"
kill -CONT "$P"
wait "$P"
rc=$?
kill "$H"; wait "$H" 2>/dev/null
check "collision: the run ran (exit 0)" eq "$rc" 0
check "collision: its responses are nginx's" eq "$(j .summary.responses)" "$(nginx_count "$mark" 200 /)"
check "collision: it made requests" ge "$(j .summary.responses)" 1
g=$(( (P ^ IFX) & 0xffff ))
check "collision: the note names the group, the pid and the ifindex" eq \
	"$(grep -c "packet fanout group $g (pid $P ^ ifindex $IFX) is held by another process" "$TMP/err.txt")" 1
check "collision: no DPDK device name" eq "$(grep -c net_af_packet "$TMP/err.txt")" 0

# --- a kill -9 of the pid the user knows ends the new process too ---------
started_stopped run "${NET_OPTS[@]}" --url "$url" --vus 1 --duration 30s
hold 1
kill -CONT "$P"
C=
for _ in $(seq 100); do
	C=$(pgrep -P "$P" -x stampede)
	[ -n "$C" ] && break
	sleep 0.05
done
check "collision: a child goes on" eq "$([ -n "$C" ] && echo yes)" yes
kill -KILL "$P"
wait "$P" 2>/dev/null
for _ in $(seq 40); do kill -0 "$C" 2>/dev/null || break; sleep 0.05; done
check "kill -9 of the parent: the child is gone too" eq "$(kill -0 "$C" 2>/dev/null && echo alive)" ""
kill "$H"; wait "$H" 2>/dev/null

# --- every pid it could take collides: the cause, named -----------------
tx0=$(txp)
started_stopped run "${NET_OPTS[@]}" --url "$url" --vus 1 --duration 1s
hold 4096
kill -CONT "$P"
wait "$P"
rc=$?
kill "$H"; wait "$H" 2>/dev/null
check "no free group: exit 3" eq "$rc" 3
check "no free group: the cause named" eq "$(grep -c 'packet fanout group DPDK.s driver would use .* is held by another process on another interface, here and in 5 new processes' "$TMP/err.txt")" 1
check "no free group: nothing sent" eq "$(txp)" "$tx0"
check "no free group: no DPDK device name" eq "$(grep -c net_af_packet "$TMP/err.txt")" 0
# The last stampede_<pid> tables (killed above) are the next run's to
# remove; leave none behind here.
run_sp run --url "$url" --vus 1 --duration 1s
check "afterwards: a run starts" eq "$RC" 0
finish
