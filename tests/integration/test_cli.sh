#!/usr/bin/env bash
# The command line as a user meets it: -h and --version everywhere, --json -
# on stdout alone, reports that would overwrite each other refused, a
# missing permission or interface named as such (never DPDK's
# net_af_packet0), options the run would not read refused, validate
# refusing what run refuses. Usage errors send nothing: the kernel's tx
# counter of the generator's port is the witness.
. "$(dirname "$0")/lib.sh"

txp() { cat /sys/class/net/sp-gen0/statistics/tx_packets; }
# bad WHAT EXIT "message (grep -E)" stampede-args...: that exit code, the
# message once on stderr, no frame sent, no net_af_packet0 in any message.
# AS: a command stampede runs under (setpriv).
AS=(env)
bad() {
	local what=$1 want_rc=$2 want=$3 tx0
	shift 3
	tx0=$(txp)
	"${AS[@]}" "$STAMPEDE" "$@" >"$TMP/out.txt" 2>"$TMP/err.txt"
	RC=$?
	check "$what: exit code $want_rc" eq "$RC" "$want_rc"
	check "$what: says so" eq "$(grep -cE -- "$want" "$TMP/err.txt")" 1
	check "$what: nothing sent" eq "$(txp)" "$tx0"
	check "$what: no DPDK device name" eq "$(grep -c net_af_packet "$TMP/err.txt")" 0
}

# --- -h, --help, --version: every command -----------------------------
dpdk=$(pkg-config --modversion libdpdk)
ver=$(sed -n "s/^ *version : '\(.*\)',/\1/p" "$(dirname "$0")/../../meson.build")
for c in run tcp serve net validate; do
	for h in -h --help; do
		"$STAMPEDE" "$c" "$h" >"$TMP/out.txt" 2>"$TMP/err.txt"
		check "$c $h: exit 0" eq "$?" 0
		check "$c $h: its usage on stdout" eq "$(head -1 "$TMP/out.txt" | cut -d' ' -f1-3)" "usage: stampede $c"
		check "$c $h: nothing on stderr" eq "$(wc -c <"$TMP/err.txt")" 0
	done
	# After other options too, and before a FILE.
	"$STAMPEDE" "$c" --ip 198.18.0.1 -h >"$TMP/out.txt" 2>&1
	[ "$c" = validate ] || check "$c --ip A -h: usage" eq "$(head -1 "$TMP/out.txt" | cut -d' ' -f1-3)" "usage: stampede $c"
	"$STAMPEDE" "$c" --version >"$TMP/out.txt" 2>"$TMP/err.txt"
	check "$c --version: exit 0" eq "$?" 0
	check "$c --version: stampede's" eq "$(sed -n 1p "$TMP/out.txt")" "stampede $ver"
	check "$c --version: DPDK's (rte_version)" eq "$(sed -n 2p "$TMP/out.txt")" "DPDK $dpdk"
done
"$STAMPEDE" --version >"$TMP/out.txt"
check "--version: DPDK's" eq "$(sed -n 2p "$TMP/out.txt")" "DPDK $dpdk"
"$STAMPEDE" -h >"$TMP/out.txt"
check "-h: exit 0" eq "$?" 0
"$STAMPEDE" run -h | grep -q -- '--json FILE.*;$' && "$STAMPEDE" run -h | grep -q -- '-: on stdout, the summary then on stderr'
check "run -h: says where --json - puts the summary" eq "$?" 0

# --- --json -: the JSON alone on stdout, the summary on stderr --------
url="http://$SRV/"
mark=$(log_mark "$ACCESS_LOG")
"$STAMPEDE" run "${NET_OPTS[@]}" --url "$url" --vus 1 --duration 1s --json - \
	>"$TMP/stdout.json" 2>"$TMP/err.txt"
check "run --json -: exit 0" eq "$?" 0
check "run --json -: stdout is one JSON document" eq "$(jq -s length "$TMP/stdout.json")" 1
check "run --json -: its responses are nginx's" eq "$(jq .summary.responses "$TMP/stdout.json")" "$(nginx_count "$mark" 200 /)"
check "run --json -: the summary on stderr" eq "$(grep -c '^stampede run command line' "$TMP/err.txt")" 1
check "run --json -: no file named -" eq "$(ls -- - 2>/dev/null | wc -l)" 0
"$STAMPEDE" net "${NET_OPTS[@]}" --duration 1s --json - >"$TMP/stdout.json" 2>"$TMP/err.txt"
check "net --json -: stdout is JSON" eq "$(jq -r .mode "$TMP/stdout.json")" net
check "net --json -: the summary on stderr" eq "$(grep -c '^stampede net on' "$TMP/err.txt")" 1

# --- two reports, one file ----------------------------------------------
scenario s <<EOF2
target: http://$SRV
load: { vus: 1, duration: 1s }
scenarios: [ { name: a, steps: [ { request: { path: / } } ] } ]
EOF2
cp "$TMP/s.yaml" "$TMP/s.keep"
bad "--json and --html on one file" 2 "^stampede: --html: $TMP/./r.x is also --json's report" \
	run "${NET_OPTS[@]}" --url "$url" --vus 1 --duration 1s --json "$TMP/r.x" --html "$TMP/./r.x"
mkdir "$TMP/d"
bad "--csv over --json (through ..)" 2 "^stampede: --csv: $TMP/d/../p_stats.csv is also --json's report" \
	run "${NET_OPTS[@]}" --url "$url" --vus 1 --duration 1s --json "$TMP/p_stats.csv" --csv "$TMP/d/../p"
bad "--log-requests over --json" 2 "^stampede: --log-requests: $TMP/r.x is also --json's report" \
	run "${NET_OPTS[@]}" --url "$url" --vus 1 --duration 1s --json "$TMP/r.x" --log-requests "$TMP/r.x"
ln -s "$TMP/s.yaml" "$TMP/link.yaml"
bad "--html over the scenario (a link to it)" 2 "^stampede: --html: $TMP/link.yaml is also the scenario file" \
	run "$TMP/s.yaml" "${NET_OPTS[@]}" --html "$TMP/link.yaml"
check "the scenario file is intact" eq "$(cmp -s "$TMP/s.yaml" "$TMP/s.keep"; echo $?)" 0
check "no report file was made" eq "$(ls "$TMP"/r.x "$TMP"/p_*.csv 2>/dev/null | wc -l)" 0

# --- permission and interface: the real cause --------------------------
AS=(setpriv --reuid=65534 --regid=65534 --clear-groups --)
bad "not root" 3 "^stampede: cannot open an AF_PACKET socket on sp-gen0: Operation not permitted: run as root" \
	run "${NET_OPTS[@]}" --url "$url" --vus 1 --duration 1s
AS=(env)
bad "no such interface" 3 "^stampede: --port af_packet:sp-nope0: no such interface" \
	run --port af_packet:sp-nope0 --ip 198.18.0.1 --gateway "$SRV" --url "$url" --vus 1 --duration 1s

# --- options the run would not read --------------------------------------
scenario st999 <<EOF2
target: http://$SRV
load: { vus: 1, duration: 1s }
scenarios: [ { name: a, steps: [ { request: { path: /, check: { status: 999 } } } ] } ]
EOF2
scenario long <<EOF2
target: http://$SRV
load: { vus: 1, duration: 100000h }
scenarios: [ { name: a, steps: [ { request: { path: / } } ] } ]
EOF2
scenario ctmo <<EOF2
target: http://$SRV
load: { vus: 1, duration: 1s, connect_timeout: 5000s }
scenarios: [ { name: a, steps: [ { request: { path: / } } ] } ]
EOF2
scenario openvus <<EOF2
target: http://$SRV
load: { model: open, vus: 3, duration: 1s }
scenarios: [ { name: a, steps: [ { request: { path: / } } ] } ]
EOF2
printf '\xef\xbb\xbfid,name\r\n1,a\r\n2,b,c\r\n' >"$TMP/rows.csv"
scenario csv <<EOF2
target: http://$SRV
data: rows.csv
load: { vus: 1, duration: 1s }
scenarios: [ { name: a, steps: [ { request: { path: "/{{data.id}}" } } ] } ]
EOF2
bad "--max-vus in the closed model" 2 "^--max-vus: only the open model" \
	run "${NET_OPTS[@]}" --url "$url" --vus 2 --max-vus 9 --duration 1s
bad "--vus with --rate" 2 "^--vus: give --vus \(closed model\) or --rate" \
	run "${NET_OPTS[@]}" --url "$url" --vus 2 --rate 5 --duration 1s
bad "--abort-grace alone" 2 "^--abort-grace: only with --abort-on-fail" \
	run "${NET_OPTS[@]}" --url "$url" --vus 1 --abort-grace 2s --duration 1s
bad "a URL path beside a FILE" 2 "^--url: .*the scenario file has the requests, so its path /x" \
	run "$TMP/s.yaml" "${NET_OPTS[@]}" --url "http://$SRV/x"
bad "status 999" 2 "^$TMP/st999.yaml:3:[0-9]+: status: 999 is not an HTTP status \(100..599\)" \
	run "$TMP/st999.yaml" "${NET_OPTS[@]}"
bad "vus in an open file" 2 "^$TMP/openvus.yaml:2:[0-9]+: vus: the open model" \
	run "$TMP/openvus.yaml" "${NET_OPTS[@]}"
bad "100000h" 2 "^$TMP/long.yaml:2:[0-9]+: duration: '100000h' is longer than 168h" \
	run "$TMP/long.yaml" "${NET_OPTS[@]}"
bad "--duration 100000h" 2 "^--duration: '100000h' is longer than 168h" \
	run "${NET_OPTS[@]}" --url "$url" --vus 1 --duration 100000h
bad "tcp --duration 100000h" 2 "^stampede: --duration: '100000h' is longer than 168h" \
	tcp "${NET_OPTS[@]}" --target "$SRV:7" --duration 100000h
bad "connect timeout past 32 bits" 2 "^$TMP/ctmo.yaml:2:[0-9]+: connect_timeout: 5000s is longer than 4294s" \
	run "$TMP/ctmo.yaml" "${NET_OPTS[@]}"
bad "a ragged CRLF data line" 2 "^$TMP/rows.csv:3: 3 fields, expected 2" \
	run "$TMP/csv.yaml" "${NET_OPTS[@]}"
# WebSocket: a malformed ws: step, settings without one, a bare ws:// URL
# (where FILE goes) with a bad option, TLS settings on ws://.
scenario wscode <<EOF2
target: ws://$SRV:8090
load: { vus: 1, duration: 1s }
scenarios:
  - name: a
    steps:
      - ws: { path: /echo, steps: [ close: { code: 1005 } ] }
EOF2
scenario wsout <<EOF2
target: http://$SRV
load: { vus: 1, duration: 1s }
scenarios: [ { name: a, steps: [ { request: { path: / } }, { send: { text: a } } ] } ]
EOF2
bad "close code 1005" 2 "^$TMP/wscode.yaml:6:[0-9]+: code: 1005 may not be sent \(RFC 6455 7.4" \
	run "$TMP/wscode.yaml" "${NET_OPTS[@]}"
bad "send outside a ws: block" 2 "^$TMP/wsout.yaml:3:[0-9]+: send: a WebSocket step goes in the steps of a ws: block" \
	run "$TMP/wsout.yaml" "${NET_OPTS[@]}"
bad "ws:// in FILE's place, --ws-max-message 0" 2 "^--ws-max-message: '0': a limit of 0 takes no message" \
	run "ws://$SRV:8090/echo" "${NET_OPTS[@]}" --vus 1 --duration 1s --ws-max-message 0
bad "--ws-ping-every without a ws: step" 2 "ws.ping_every is given but no scenario has a ws: step" \
	run "${NET_OPTS[@]}" --url "$url" --vus 1 --duration 1s --ws-ping-every 1s
bad "TLS settings on ws://" 2 "tls settings are given but the target is ws://, not wss://" \
	run "${NET_OPTS[@]}" --url "ws://$SRV:8090/echo" --insecure --vus 1 --duration 1s
"$STAMPEDE" run -h | grep -q -- '--vu-offset N'
check "run -h: --vu-offset" eq "$?" 0
# validate refuses what run refuses, with the same words.
for s in st999 long ctmo openvus csv wscode wsout; do
	"$STAMPEDE" validate "$TMP/$s.yaml" >/dev/null 2>"$TMP/verr.txt"
	check "validate $s: exit code 2" eq "$?" 2
	"$STAMPEDE" run "$TMP/$s.yaml" "${NET_OPTS[@]}" >/dev/null 2>"$TMP/rerr.txt"
	check "validate $s: run's message" eq "$(cat "$TMP/verr.txt")" "$(cat "$TMP/rerr.txt")"
done
finish
