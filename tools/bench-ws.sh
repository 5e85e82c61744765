# shellcheck shell=bash disable=SC2154 # tools/bench sets tmp, secs, sp, ...
# tools/bench's WebSocket rows (sourced by tools/bench after its own veth
# pairs are up; uses its start_serve, stop_serve, srv_cpu, cli_cpu, $tmp,
# $sp, $secs): echo round trips, 64 connections each with one 64-byte text
# message in flight, ${secs}s, one client core, against two servers:
#
# 1. `stampede serve --ws echo` on its own veth pair (pinned to the other
#    CPU): stampede from sp-bc0, the kernel-stack peers from namespace
#    sp-bench against a second instance on sp-bs1, as the HTTP rows do;
# 2. the test bed's sp-wssrv (198.18.0.2:8090, one epoll loop, a log line
#    written per message): stampede from sp-gen0, the peers from sp-peer.
#
# The peers, each pinned to the client CPU as stampede is:
# - tsung (Erlang, its websocket plugin): 64 users started 1 ms apart,
#   each thinks 1 s (so every user is connected before the load) and then
#   sends and awaits its echo in a loop until the load's duration ends.
#   Its report has a mean, a max and no percentile of the round trip, so
#   its p99 is "n/a"; its rate is its requests over the ${secs}s after the
#   think.
# - Artillery (Node.js, its ws engine, one worker): 64 virtual users in
#   the first second, each sends and awaits the echo (a capture makes it
#   wait) in a loop for ${secs}s from the first; a processor
#   (bench-ws-artillery.js) times each round trip into a histogram, whose
#   p99 Artillery reports.
# Each peer's CPU (user + system of its process tree over its run, start-up
# included) as a share of its wall time says whether it was the limit:
# near 100 %, its one core was; stampede's worker loop busy % says it for
# stampede, serve's for the responder.
#
# With --callgrind, the client's instructions per echo (machine-independent).
# And with --ws-hold: 100,000 idle WebSockets held with pings against serve
# (tests/integration/test_ws_hold100k.sh's schedule: 40 s of ramp, 50 s
# sessions, about 100 s): RSS, bytes per connection beyond TCP's.

ws_msg='{"m":"01234567890123456789012345678901234567890123456789012345"}'
# ws_yaml NAME URL: the stampede scenario, 64 VUs echoing for ${secs}s.
ws_yaml() {
	cat >"$tmp/$1.yaml" <<EOF
target: $2
load: { vus: 64, duration: ${secs}s }
scenarios:
  - name: echo
    steps:
      - ws:
          path: /echo
          steps:
            - loop:
                count: 1000000000
                steps:
                  - send: { text: '$ws_msg', measure: true }
                  - expect: { timeout: 5s }
EOF
}
# tsung_xml NAME HOST PORT
tsung_xml() {
	local i
	{
		cat <<EOF
<?xml version="1.0"?>
<!DOCTYPE tsung SYSTEM "/usr/share/tsung/tsung-1.0.dtd">
<tsung loglevel="notice" dumptraffic="false">
  <clients><client host="localhost" use_controller_vm="true" maxusers="1000"/></clients>
  <servers><server host="$2" port="$3" type="tcp"/></servers>
  <load duration="$((secs + 1))" unit="second">
EOF
		for ((i = 0; i < 64; i++)); do
			echo "    <user session=\"echo\" start_time=\"$i\" unit=\"millisecond\"></user>"
		done
		cat <<EOF
  </load>
  <sessions>
    <session name="echo" probability="100" type="ts_websocket">
      <request><websocket type="connect" path="/echo"></websocket></request>
      <thinktime value="1" random="false"/>
      <for from="1" to="1000000000" var="i">
        <request><websocket type="message" frame="text">$ws_msg</websocket></request>
      </for>
    </session>
  </sessions>
</tsung>
EOF
	} >"$tmp/$1.xml"
}
# artillery_yml NAME URL
artillery_yml() {
	cat >"$tmp/$1.yml" <<EOF
config:
  target: "$2"
  processor: "$top/tools/bench-ws-artillery.js"
  phases:
    - duration: 1
      arrivalCount: 64
scenarios:
  - engine: ws
    flow:
      - loop:
          - function: t0
          - send:
              payload: '$ws_msg'
              capture: { json: "\$.m", as: "m" }
          - function: t1
        whileTrue: running
EOF
}
# peer_cpu NAME CMD...: runs CMD, its CPU share (user + sys of the tree
# over wall, in %) in $tmp/NAME.cpu.
peer_cpu() {
	local name=$1
	shift
	/usr/bin/time -f '%U %S %e' -o "$tmp/$name.time" "$@" >"$tmp/$name.txt" 2>&1 || true
	awk '{ if ($3 > 0) printf "%.0f\n", 100 * ($1 + $2) / $3; else print "n/a" }' \
		"$tmp/$name.time" >"$tmp/$name.cpu" 2>/dev/null || echo n/a >"$tmp/$name.cpu"
}
# tsung_run NAME HOST PORT NETNS
tsung_run() {
	tsung_xml "$1" "$2" "$3"
	mkdir -p "$tmp/$1.log"
	peer_cpu "$1" timeout $((secs + 60)) taskset -c "$cli_cpu" ip netns exec "$4" \
		tsung -n -f "$tmp/$1.xml" -l "$tmp/$1.log" start
}
# tsung_fig NAME FIELD: rate (requests over ${secs}s), mean, max (ms),
# errors (error_* counts); each dump interval's line summed.
tsung_fig() {
	local log
	log=$(find "$tmp/$1.log" -name tsung.log | head -1)
	[ -n "$log" ] || { echo n/a; return; }
	awk -v f="$2" -v s="$secs" '
		# stats: request COUNT MEAN STDDEV MAX MIN ... (per dump interval)
		$1 == "stats:" && $2 == "request" { n += $3; m += $3 * $4; if ($6 + 0 > mx) mx = $6 + 0 }
		$1 == "stats:" && $2 ~ /^error_/ && $2 != "error_abort" { e += $3 }
		END {
			if (f == "rate") printf "%.0f\n", n / s
			else if (f == "mean") { if (n > 0) printf "%.3f\n", m / n; else print "n/a" }
			else if (f == "max") printf "%.3f\n", mx
			else if (f == "count") print n + 0
			else print e + 0
		}' "$log"
}
# artillery_run NAME URL NETNS
artillery_run() {
	artillery_yml "$1" "$2"
	WSB_SECS=$secs WORKERS=1 peer_cpu "$1" timeout $((secs + 60)) taskset -c "$cli_cpu" \
		ip netns exec "$3" env WSB_SECS="$secs" WORKERS=1 \
		artillery run --quiet -o "$tmp/$1.json" "$tmp/$1.yml"
}
art() { jq -r "$2" "$tmp/$1.json" 2>/dev/null || echo n/a; }
art_rate() {
	local n
	n=$(art "$1" '.aggregate.counters["websocket.messages_received"] // 0')
	awk -v n="$n" -v s="$secs" 'BEGIN { printf "%.0f\n", n / s }'
}
art_err() { art "$1" '[.aggregate.counters | to_entries[] | select(.key | startswith("errors.")) | .value] | add // 0'; }

sp_ws_run() { # NAME YAML PORT IP [GW]: stampede, pinned to the client CPU
	local name=$1 yaml=$2 port=$3 ip=$4 rc=0 gw=()
	[ -n "${5:-}" ] && gw=(--gateway "$5")
	taskset -c "$cli_cpu" "$sp" run --port "af_packet:$port" --ip "$ip" "${gw[@]}" \
		--json "$tmp/$name.json" "$tmp/$yaml.yaml" >"$tmp/$name.txt" 2>&1 || rc=$?
	if [ ! -s "$tmp/$name.json" ]; then
		echo "bench: stampede $name failed ($rc):" >&2
		cat "$tmp/$name.txt" >&2
		exit 1
	fi
}

ws_peers=()
command -v tsung >/dev/null && ws_peers+=(tsung)
command -v artillery >/dev/null && ws_peers+=(artillery)
[ ${#ws_peers[@]} -gt 0 ] || echo "bench: no WebSocket peer (tsung, artillery: tools/install-deps)" >&2

echo "bench: WebSocket echo against stampede serve --ws echo, ${secs}s each" >&2
ws_yaml ws_serve ws://198.18.6.2
ws_yaml ws_bed ws://198.18.0.2:8090
start_serve sp-bs0 198.18.6.2 wsrv_sp --ws echo
sp_ws_run ws_sp ws_serve sp-bc0 198.18.6.1
stop_serve
for p in "${ws_peers[@]}"; do
	start_serve sp-bs1 198.18.7.2 "wsrv_$p" --ws echo
	if [ "$p" = tsung ]; then
		tsung_run ws_ts_serve 198.18.7.2 80 sp-bench
	else
		artillery_run ws_art_serve ws://198.18.7.2/echo sp-bench
	fi
	stop_serve
done
echo "bench: WebSocket echo against the bed's sp-wssrv, ${secs}s each" >&2
sp_ws_run ws_sp_bed ws_bed sp-gen0 198.18.0.1 198.18.0.2
for p in "${ws_peers[@]}"; do
	if [ "$p" = tsung ]; then
		tsung_run ws_ts_bed 198.18.0.2 8090 sp-peer
	else
		artillery_run ws_art_bed ws://198.18.0.2:8090/echo sp-peer
	fi
done

# --callgrind: the client's user instructions per echo, as tools/bench-cg
# counts HTTP's: the worker thread's instructions alone
# (--separate-threads: the control thread's work is per second, not per
# echo), the difference of a 15 s and a 5 s run under callgrind (256 VUs:
# 16 left the worker half idle under valgrind, 64 a sixth) over the
# difference of their echoes, and only where the worker was the
# limit in both: a run under 95 % busy waited for the server, and its idle
# polling would be counted per echo ("n/a (client N % busy)").
ws_ipe="n/a"
# ws_cg_worker NAME: the instructions of the thread that ran the worker.
ws_cg_worker() {
	local f
	for f in "$tmp/$1.cg"-*; do
		if grep -Eq '^c?fn=(\([0-9]+\) )?sp_worker_main$' "$f"; then
			awk '/^(summary|totals):/ { print $2; exit }' "$f"
			return
		fi
	done
}
if [ "$callgrind" = 1 ] && command -v valgrind >/dev/null; then
	echo "bench: WebSocket echo under callgrind, 5 s and 15 s" >&2
	start_serve sp-bs0 198.18.6.2 wsrv_cg --ws echo
	for d in 5 15; do
		sed "s/vus: 64, duration: ${secs}s/vus: 256, duration: ${d}s/" \
			"$tmp/ws_serve.yaml" >"$tmp/ws_cg$d.yaml"
		taskset -c "$cli_cpu" valgrind --tool=callgrind --separate-threads=yes \
			--callgrind-out-file="$tmp/ws_cg$d.cg" \
			"$sp" run --port af_packet:sp-bc0 --ip 198.18.6.1 --json "$tmp/ws_cg$d.json" \
			"$tmp/ws_cg$d.yaml" >"$tmp/ws_cg$d.txt" 2>&1 || true
	done
	stop_serve
	echo "bench: callgrind pair's worker busy: $(jf ws_cg5 .generator.busy_pct) % and $(jf ws_cg15 .generator.busy_pct) %" >&2
	i5=$(ws_cg_worker ws_cg5)
	i15=$(ws_cg_worker ws_cg15)
	if [ -n "$i5" ] && [ -n "$i15" ] && [ -s "$tmp/ws_cg5.json" ] && [ -s "$tmp/ws_cg15.json" ]; then
		ws_ipe=$(awk -v a="$i5" -v b="$i15" -v m1="$(jf ws_cg5 .ws.messages.received)" \
			-v m2="$(jf ws_cg15 .ws.messages.received)" \
			-v b1="$(jf ws_cg5 .generator.busy_pct)" -v b2="$(jf ws_cg15 .generator.busy_pct)" \
			'BEGIN { low = b1 < b2 ? b1 : b2
				if (low < 95) printf "n/a (client %s %% busy)", low
				else if (m2 > m1) printf "%.0f", (b - a) / (m2 - m1)
				else print "n/a" }')
	fi
fi

ws_hold_rss="" ws_hold_bpc="" ws_hold_peak=""
if [ "$ws_hold" = 1 ]; then
	echo "bench: 100,000 idle WebSockets with pings against stampede serve" >&2
	cat >"$tmp/ws_hold.yaml" <<EOF
target: ws://198.18.6.2
ws: { ping_every: 20s }
load:
  stages:
    - {duration: 40s, target: 100000}
    - {duration: 60s, target: 100000}
scenarios:
  - name: hold
    steps:
      - ws:
          path: /hold
          steps:
            - listen: 50s
            - close: {code: 1000}
      - think: 10m
EOF
	start_serve sp-bs0 198.18.6.2 wsrv_hold --ws echo --max-conns 102000
	sleep 3 # its pools for 102,000 connections take longer to make
	taskset -c "$cli_cpu" "$sp" run --port af_packet:sp-bc0 --ip 198.18.6.10-198.18.6.11 \
		--connect-timeout 20s --json "$tmp/ws_hold.json" "$tmp/ws_hold.yaml" \
		>"$tmp/ws_hold.txt" 2>&1 || true
	stop_serve
	ws_hold_rss=$(jf ws_hold '.pools.rss_peak_bytes / 1048576 | floor')
	ws_hold_bpc=$(jf ws_hold .ws.bytes_per_connection)
	ws_hold_peak=$(jf ws_hold '[.timeline[].ws_open] | max')
fi

ws_rate() { jf "$1" '.ws.messages.received_per_s | floor'; }
ws_p99() { jf "$1" .ws.rtt_ms.p99; }
ws_val() { # NAME WHAT: a peer's figure, or "-" when it did not run
	if [ ! -e "$tmp/$1.time" ]; then echo -; return; fi
	case $1 in
	ws_ts_*)
		case $2 in
		rate) tsung_fig "$1" rate ;;
		p99) echo "n/a (mean $(tsung_fig "$1" mean), max $(tsung_fig "$1" max))" ;;
		err) tsung_fig "$1" err ;;
		cpu) cat "$tmp/$1.cpu" ;;
		esac ;;
	ws_art_*)
		case $2 in
		rate) art_rate "$1" ;;
		p99) art "$1" '.aggregate.summaries.ws_rtt.p99 // "n/a"' ;;
		err) art_err "$1" ;;
		cpu) cat "$tmp/$1.cpu" ;;
		esac ;;
	esac
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 > 0) printf "%.1f", a / b; else print "n/a" }'; }

echo
printf '%-44s %14s %24s %14s\n' "figure (WebSocket echo, 64 conns, 64 B)" "stampede" "tsung" "artillery"
printf '%-44s %14s %24s %14s\n' "msgs/s, stampede serve --ws echo" "$(ws_rate ws_sp)" \
	"$(ws_val ws_ts_serve rate)" "$(ws_val ws_art_serve rate)"
printf '%-44s %14s %24s %14s\n' "rtt p99 ms, serve" "$(ws_p99 ws_sp)" \
	"$(ws_val ws_ts_serve p99)" "$(ws_val ws_art_serve p99)"
printf '%-44s %14s %24s %14s\n' "client busy % (ours: loop; peers: CPU)" "$(jf ws_sp .generator.busy_pct)" \
	"$(ws_val ws_ts_serve cpu)" "$(ws_val ws_art_serve cpu)"
printf '%-44s %14s %24s %14s\n' "serve's loop busy %" "$(jf wsrv_sp .generator.busy_pct)" \
	"$([ -s "$tmp/wsrv_tsung.json" ] && jf wsrv_tsung .generator.busy_pct || echo -)" \
	"$([ -s "$tmp/wsrv_artillery.json" ] && jf wsrv_artillery .generator.busy_pct || echo -)"
printf '%-44s %14s %24s %14s\n' "stampede's msgs/s over the peer's" "-" \
	"$(ratio "$(ws_rate ws_sp)" "$(ws_val ws_ts_serve rate)")" \
	"$(ratio "$(ws_rate ws_sp)" "$(ws_val ws_art_serve rate)")"
printf '%-44s %14s %24s %14s\n' "msgs/s, the bed's sp-wssrv" "$(ws_rate ws_sp_bed)" \
	"$(ws_val ws_ts_bed rate)" "$(ws_val ws_art_bed rate)"
printf '%-44s %14s %24s %14s\n' "rtt p99 ms, sp-wssrv" "$(ws_p99 ws_sp_bed)" \
	"$(ws_val ws_ts_bed p99)" "$(ws_val ws_art_bed p99)"
printf '%-44s %14s %24s %14s\n' "client busy %, sp-wssrv" "$(jf ws_sp_bed .generator.busy_pct)" \
	"$(ws_val ws_ts_bed cpu)" "$(ws_val ws_art_bed cpu)"
printf '%-44s %14s %24s %14s\n' "failed sessions / errors (serve; sp-wssrv)" \
	"$(jf ws_sp .ws.sessions.failed); $(jf ws_sp_bed .ws.sessions.failed)" \
	"$(ws_val ws_ts_serve err); $(ws_val ws_ts_bed err)" \
	"$(ws_val ws_art_serve err); $(ws_val ws_art_bed err)"
# The server's own count of the messages it echoed in each client's run,
# against which the clients' rates are computed.
printf '%-44s %14s %24s %14s\n' "messages serve received (its count)" \
	"$(jf wsrv_sp .ws.msgs_received)" \
	"$([ -s "$tmp/wsrv_tsung.json" ] && jf wsrv_tsung .ws.msgs_received || echo -)" \
	"$([ -s "$tmp/wsrv_artillery.json" ] && jf wsrv_artillery .ws.msgs_received || echo -)"
printf '%-44s %14s %24s %14s\n' "... and the client's count" \
	"$(jf ws_sp .ws.messages.received)" \
	"$([ -e "$tmp/ws_ts_serve.time" ] && tsung_fig ws_ts_serve count || echo -)" \
	"$([ -s "$tmp/ws_art_serve.json" ] && art ws_art_serve '.aggregate.counters["websocket.messages_received"]' || echo -)"
printf '%-44s %14s\n' "instructions per echo (callgrind worker, 256 VUs)" "$ws_ipe"
printf '%-44s %14s\n' "ws bytes per conn, 64 VUs (a context each)" "$(jf ws_sp .ws.bytes_per_connection)"
if [ "$ws_hold" = 1 ]; then
	printf '%-44s %14s\n' "100k idle: open at once / RSS MiB / B per conn" \
		"$ws_hold_peak / $ws_hold_rss / $ws_hold_bpc"
fi
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"

# ws_json_into FILE: the rows above as member "websocket" of FILE's object
# (made if FILE is empty or absent); numbers, or null where a figure is
# missing (a peer not installed, tsung's p99).
num_or_null() { case $1 in '' | - | n/a* | null) echo null ;; *) echo "$1" ;; esac; }
ws_json_into() {
	local f=$1 base='{"version": 3}'
	[ -s "$f" ] && base=$(cat "$f")
	jq --argjson sp "$(ws_rate ws_sp)" --argjson spp "$(ws_p99 ws_sp)" \
		--argjson spb "$(jf ws_sp .generator.busy_pct)" \
		--argjson spbed "$(ws_rate ws_sp_bed)" --argjson spbedp "$(ws_p99 ws_sp_bed)" \
		--argjson spbedb "$(jf ws_sp_bed .generator.busy_pct)" \
		--argjson srvb "$(jf wsrv_sp .generator.busy_pct)" \
		--argjson bpc "$(jf ws_sp .ws.bytes_per_connection)" \
		--argjson ts "$(num_or_null "$(ws_val ws_ts_serve rate)")" \
		--argjson tsm "$(num_or_null "$([ -e "$tmp/ws_ts_serve.time" ] && tsung_fig ws_ts_serve mean)")" \
		--argjson tsc "$(num_or_null "$(ws_val ws_ts_serve cpu)")" \
		--argjson tsbed "$(num_or_null "$(ws_val ws_ts_bed rate)")" \
		--argjson tsbedm "$(num_or_null "$([ -e "$tmp/ws_ts_bed.time" ] && tsung_fig ws_ts_bed mean)")" \
		--argjson ar "$(num_or_null "$(ws_val ws_art_serve rate)")" \
		--argjson arp "$(num_or_null "$(ws_val ws_art_serve p99)")" \
		--argjson arc "$(num_or_null "$(ws_val ws_art_serve cpu)")" \
		--argjson arbed "$(num_or_null "$(ws_val ws_art_bed rate)")" \
		--argjson arbedp "$(num_or_null "$(ws_val ws_art_bed p99)")" \
		--argjson hpeak "$(num_or_null "$ws_hold_peak")" \
		--argjson hrss "$(num_or_null "$ws_hold_rss")" \
		--argjson hbpc "$(num_or_null "$ws_hold_bpc")" \
		--argjson ipe "$(num_or_null "$ws_ipe")" \
		--arg load "$(cut -d' ' -f1-3 /proc/loadavg)" \
		'. + {websocket: {connections: 64, message_bytes: 64,
			serve: {stampede: {msgs_per_s: $sp, rtt_p99_ms: $spp, busy_pct: $spb,
					   serve_busy_pct: $srvb},
				tsung: {msgs_per_s: $ts, rtt_mean_ms: $tsm, rtt_p99_ms: null, cpu_pct: $tsc},
				artillery: {msgs_per_s: $ar, rtt_p99_ms: $arp, cpu_pct: $arc}},
			wssrv: {stampede: {msgs_per_s: $spbed, rtt_p99_ms: $spbedp, busy_pct: $spbedb},
				tsung: {msgs_per_s: $tsbed, rtt_mean_ms: $tsbedm, rtt_p99_ms: null},
				artillery: {msgs_per_s: $arbed, rtt_p99_ms: $arbedp}},
			bytes_per_idle_conn: $bpc, instructions_per_echo: $ipe,
			hold_100k: {open_at_once: $hpeak, rss_mib: $hrss, bytes_per_conn: $hbpc},
			load_average: $load}}' <<<"$base" >"$tmp/ws_out.json" && cp "$tmp/ws_out.json" "$f"
}
if [ -n "$out" ] && [ "$ws_only" = 1 ]; then
	ws_json_into "$out"
fi
