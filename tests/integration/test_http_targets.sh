#!/usr/bin/env bash
# Targets as a user gives them, with nginx's access log as the witness of
# what went on the wire (its last two fields: "Host" and "User-Agent"):
#  - a host name with --resolve, on a port that is not 80: Host is the
#    URL's authority as written, name and port (the issue's "done when");
#  - port 80 is left out of Host;
#  - a scenario's resolve: map, a request's own Host, User-Agent replaced
#    and removed; the default User-Agent is stampede/VERSION; validate
#    reads the map and does no DNS lookup; the system resolver (an
#    /etc/hosts of the test's own, in a private mount namespace);
#  - an off-link target without --gateway: asked for by ARP itself, with a
#    note, and the requests come from the --ip range;
#  - what cannot work is refused with its reason, exit 2, nothing sent.
. "$(dirname "$0")/lib.sh"

ALT_PORT=8088 # tools/testbed's second nginx port
VERSION=$("$STAMPEDE" --version | sed -n '1s/^stampede \([^ ,]*\).*/\1/p')
UA="stampede/$VERSION"
txp() { cat /sys/class/net/sp-gen0/statistics/tx_packets; }

# 1. The done-when: a name, --resolve, a port of its own.
mark=$(log_mark "$ACCESS_LOG")
run_sp run --url "http://app.internal:$ALT_PORT/1k" --resolve "app.internal:$SRV" \
	--vus 4 --duration 2s
check "name + --resolve: exit code 0" eq "$RC" 0
ok=$(j '.summary.codes["200"] // 0')
check "name + --resolve: some 200s" ge "$ok" 100
check "name + --resolve: nginx logged every 200 with Host app.internal:$ALT_PORT and our User-Agent" \
	eq "$(nginx_host_ua "$mark" | grep -cxF "app.internal:$ALT_PORT|$UA")" "$ok"
check "name + --resolve: nginx logged nothing else from us" \
	eq "$(log_since "$ACCESS_LOG" "$mark" | wc -l)" "$ok"
check "name + --resolve: the report's target is the URL's authority" \
	eq "$(j .target)" "http://app.internal:$ALT_PORT"
check "name + --resolve: the report's target_addr is where it went" \
	eq "$(j .target_addr)" "$SRV:$ALT_PORT"
check "name + --resolve: the summary names the address" \
	eq "$(grep -c "^stampede run command line -> http://app.internal:$ALT_PORT \[$SRV\]" "$TMP/out.txt")" 1

# 2. Port 80 is the default: not in Host. curl's NAME:PORT:ADDR form.
mark=$(log_mark "$ACCESS_LOG")
run_sp run --url "http://App.Internal/0" --resolve "app.internal:80:$SRV" \
	--vus 1 --duration 1s
check "port 80: exit code 0" eq "$RC" 0
ok=$(j '.summary.codes["200"] // 0')
check "port 80: some 200s" ge "$ok" 10
check "port 80: Host is the name as written, no port" \
	eq "$(nginx_host_ua "$mark" | grep -cxF "App.Internal|$UA")" "$ok"

# 2b. The system resolver: getaddrinfo answers from an /etc/hosts of this
# test's own, bind-mounted in a private mount namespace (files come before
# dns in nsswitch.conf, so no query leaves the machine).
if grep -qE '^hosts:[[:space:]]+files' /etc/nsswitch.conf; then
	printf '%s bed.test\n' "$SRV" >"$TMP/hosts"
	mark=$(log_mark "$ACCESS_LOG")
	unshare -m sh -c 'mount --bind "$1" /etc/hosts && shift && exec "$@"' sh "$TMP/hosts" \
		"$STAMPEDE" run --url http://bed.test/0 --vus 1 --duration 1s "${NET_OPTS[@]}" \
		--json "$TMP/r.json" >"$TMP/out.txt" 2>"$TMP/err.txt"
	check "system resolver: exit code 0" eq "$?" 0
	ok=$(j '.summary.codes["200"] // 0')
	check "system resolver: some 200s" ge "$ok" 10
	check "system resolver: every 200 with Host bed.test" \
		eq "$(nginx_host_ua "$mark" | grep -cxF "bed.test|$UA")" "$ok"
	check "system resolver: the address /etc/hosts gave" eq "$(j .target_addr)" "$SRV:80"
fi

# 3. A scenario: resolve: map, per-request Host (virtual hosts behind one
# address), User-Agent replaced, removed (nginx logs "-"), and default.
scenario vhosts <<EOF2
target: http://site.test:$ALT_PORT
resolve: { site.test: $SRV }
load: { vus: 2, duration: 2s }
scenarios:
  - name: v
    steps:
      - request: { path: "/0?a", headers: { X-A: "1", host: "v{{vu}}.site.test" } }
      - request: { path: "/0?b", headers: { User-Agent: "k6/0.50 (x)" } }
      - request: { path: "/0?c", headers: { user-agent: "" } }
      - request: { path: "/0?d" }
EOF2
"$STAMPEDE" validate "$TMP/vhosts.yaml" >"$TMP/v.txt" 2>&1
check "validate: a name from resolve:" eq "$(grep -cxF "$TMP/vhosts.yaml: target site.test is $SRV (resolve:)" "$TMP/v.txt")" 1
sed '/^resolve:/d' "$TMP/vhosts.yaml" >"$TMP/nores.yaml"
"$STAMPEDE" validate "$TMP/nores.yaml" >"$TMP/v.txt" 2>&1
check "validate: no DNS lookup, and says so" eq "$(grep -cxF "$TMP/nores.yaml: target site.test: resolved when the run starts (validate does no DNS lookup)" "$TMP/v.txt")" 1
mark=$(log_mark "$ACCESS_LOG")
run_sp run "$TMP/vhosts.yaml" "${NET_OPTS[@]}"
check "scenario: exit code 0" eq "$RC" 0
check "scenario: no errors" eq "$(j .summary.errors)" 0
log_since "$ACCESS_LOG" "$mark" >"$TMP/vh.log"
per_path() { # per_path PATH: the distinct "host|agent" of PATH's lines
	awk -v p="$1" -F'"' '{ split($2, r, " ") } r[2] == p { print $(NF - 3) "|" $(NF - 1) }' \
		"$TMP/vh.log" | sort -u | tr '\n' ' '
}
n_of() { awk -v p="$1" -F'"' '{ split($2, r, " ") } r[2] == p { n++ } END { print n + 0 }' "$TMP/vh.log"; }
check "scenario: every request logged" eq "$(wc -l <"$TMP/vh.log")" "$(j .summary.responses)"
check "scenario: some of each (/0?d)" ge "$(n_of "/0?d")" 10
check "scenario: the request's own Host, per VU, replaces the target's" \
	eq "$(per_path "/0?a")" "v1.site.test|$UA v2.site.test|$UA "
check "scenario: User-Agent replaced" eq "$(per_path "/0?b")" "site.test:$ALT_PORT|k6/0.50 (x) "
check "scenario: User-Agent removed by an empty value" eq "$(per_path "/0?c")" "site.test:$ALT_PORT|- "
check "scenario: defaults" eq "$(per_path "/0?d")" "site.test:$ALT_PORT|$UA "

# 4. Off-link without --gateway (the README's NIC example's shape): ARP
# for the target itself; nginx sees the range's addresses.
mark=$(log_mark "$ACCESS_LOG")
"$STAMPEDE" run --port af_packet:sp-gen0 --ip 198.18.1.1-198.18.1.8 \
	--url "http://$SRV/0" --vus 8 --duration 2s --json "$TMP/r.json" \
	>"$TMP/out.txt" 2>"$TMP/err.txt"
check "off-link: exit code 0" eq "$?" 0
check "off-link: a note says the target is asked for by ARP itself" \
	eq "$(grep -c "note: $SRV is outside 198.18.1.1/24 and no --gateway is given: asking for $SRV itself by ARP" "$TMP/err.txt")" 1
ok=$(j '.summary.codes["200"] // 0')
check "off-link: some 200s" ge "$ok" 100
check "off-link: nginx logged every 200 from 198.18.1.1-8" \
	eq "$(log_since "$ACCESS_LOG" "$mark" | nginx_base | awk '$1 ~ /^198\.18\.1\.[1-8]$/ && $(NF - 1) == 200' | wc -l)" "$ok"

# 5. Refusals: the reason, exit 2, not a frame.
refused() { # refused "what" "expected message (grep -E)" run-args...
	local what=$1 want=$2 tx0
	shift 2
	tx0=$(txp)
	"$STAMPEDE" run "$@" --vus 1 --duration 1s >"$TMP/out.txt" 2>"$TMP/err.txt"
	check "$what: exit code 2" eq "$?" 2
	check "$what: says why" eq "$(grep -cE -- "$want" "$TMP/err.txt")" 1
	check "$what: nothing sent" eq "$(txp)" "$tx0"
}
mcast="$((0xe0)).0.0.9" # built: tests hold no literal address outside the bed's
refused "our own address" "^stampede: target: 198.18.0.1 is one of our own addresses" \
	--url http://198.18.0.1/ "${NET_OPTS[@]}"
refused "inside our range" "^stampede: target: 198.18.0.5 is one of our own addresses" \
	--url http://198.18.0.5/ --port af_packet:sp-gen0 --ip 198.18.0.1-198.18.0.9
refused "a name resolved to our own address" \
	"^stampede: target: me.test \(198.18.0.1\) is one of our own addresses" \
	--url http://me.test/ --resolve me.test:198.18.0.1 "${NET_OPTS[@]}"
refused "our network's broadcast" "^stampede: target: 198.18.0.255 is the broadcast address of our network" \
	--url http://198.18.0.255/ "${NET_OPTS[@]}"
refused "multicast" "^--url: 'http://$mcast/': $mcast is a multicast address" \
	--url "http://$mcast/" "${NET_OPTS[@]}"
refused "loopback by --resolve" "^--resolve: 127.0.0.1 is a loopback address" \
	--url http://a.test/ --resolve a.test:127.0.0.1 "${NET_OPTS[@]}"
refused "a range holding our broadcast" "^stampede: --ip: the range holds 198.18.1.255, the broadcast address of its /24" \
	--url "http://$SRV/" --port af_packet:sp-gen0 --ip 198.18.1.250-198.18.2.3
refused "a gateway at our network's broadcast" "^stampede: --gateway: 198.18.0.255 is the broadcast address" \
	--url "http://$SRV/" --port af_packet:sp-gen0 --ip 198.18.0.1 --gateway 198.18.0.255
# The system resolver, where /etc/hosts answers for localhost (no DNS
# query leaves the machine then): a name of a loopback address.
if getent -s files ahostsv4 localhost 2>/dev/null | grep -q '^127\.'; then
	refused "a name of a loopback address" "^target: 'localhost' resolves to 127\.0\.0\.[0-9]+, which is a loopback address" \
		--url http://localhost/ "${NET_OPTS[@]}"
fi
finish
