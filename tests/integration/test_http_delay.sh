#!/usr/bin/env bash
# Latency tells the truth: a server that waits 20 ms before each answer
# (sp-httpsrv's /delay/20; this kernel has no netem) moves stampede's p50 by
# 20 ms +- 1.5 ms, and a packet capture on the server's side of the veth
# (tcpdump's timestamps, request to response) agrees with stampede's p50
# within 1.5 ms. A request that follows another without think time is
# timed from when the first ended, not from the iteration's start.
. "$(dirname "$0")/lib.sh"

scenario base <<EOF2
target: http://$SRV:8080
load: { vus: 10, duration: 3s }
scenarios: [ { name: base, steps: [ { request: { path: /len/0 } } ] } ]
EOF2
scenario delay <<EOF2
target: http://$SRV:8080
load: { vus: 10, duration: 3s }
scenarios:
  - name: delay
    steps:
      - request: { name: slow, path: /delay/20/len/0 }
      - request: { name: fast, path: /len/0 }
EOF2
run_sp run "$TMP/base.yaml"
check "baseline: exit code 0" eq "$RC" 0
base=$(j .summary.latency_ms.p50)

ip netns exec "$NS" tcpdump -i sp-srv0 -nn -tt -w "$TMP/d.pcap" -U \
	'tcp port 8080 and (tcp[((tcp[12] & 0xf0) >> 2):4] = 0x47455420 or tcp[((tcp[12] & 0xf0) >> 2):4] = 0x48545450)' \
	2>/dev/null &
dump=$!
for _ in $(seq 50); do [ -s "$TMP/d.pcap" ] && break; sleep 0.1; done
run_sp run "$TMP/delay.yaml"
sleep 0.5
kill "$dump"
wait "$dump" 2>/dev/null
check "delayed: exit code 0" eq "$RC" 0
check "delayed: no errors" eq "$(j .summary.errors)" 0
slow=$(jq -r '.requests[] | select(.name == "slow") | .latency_ms.p50' "$TMP/r.json")
fast=$(jq -r '.requests[] | select(.name == "fast") | .latency_ms.p50' "$TMP/r.json")
check "p50 moved by 20 ms +- 1.5 (baseline $base, delayed $slow)" \
	eq "$(echo "$slow $base" | awk '{ d = $1 - $2 - 20; print (d >= -1.5 && d <= 1.5) }')" 1
check "the request after it is not charged the delay (p50 $fast ms < 5)" \
	eq "$(echo "$fast" | awk '{ print ($1 < 5) }')" 1

# The capture: per client port, each GET of /delay then the response that
# follows it on that connection; their time difference, in ms.
tcpdump -r "$TMP/d.pcap" -nn -tt -A 2>/dev/null | awk '
	/ IP 198\.18\.0\.1\.[0-9]+ > / { split($3, a, "."); port = a[5]; t = $1; dir = "req"; next }
	/ IP 198\.18\.0\.2\.8080 > / { split($5, a, "."); port = a[5]; sub(":", "", port); t = $1; dir = "resp"; next }
	dir == "req" && /GET \/delay/ { pending[port] = t; dir = ""; next }
	dir == "req" && /GET / { dir = ""; next }
	dir == "resp" && /HTTP\/1\.1/ { if (port in pending) { printf "%.3f\n", (t - pending[port]) * 1000; delete pending[port] } dir = "" }
' | sort -n >"$TMP/lat.txt"
n=$(wc -l <"$TMP/lat.txt")
check "the capture holds most delayed requests (>= 80 %)" ge "$((n * 100))" $(( $(jq -r '.requests[] | select(.name == "slow") | .responses' "$TMP/r.json") * 80 ))
pcap50=$(awk -v n="$n" 'NR == int((n + 1) / 2) { print }' "$TMP/lat.txt")
check "capture's p50 ($pcap50 ms) = stampede's ($slow ms) +- 1.5" \
	eq "$(echo "$slow $pcap50" | awk '{ d = $1 - $2; print (d >= -1.5 && d <= 1.5) }')" 1
check_http_accounting
check_pools
finish
