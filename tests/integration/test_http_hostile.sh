#!/usr/bin/env bash
# A hostile server: garbage, truncated headers, a 1 MiB header line, a bad
# chunk size or a chunk line ended by a bare LF, a 101 nobody asked for, a
# truncated body, or no answer at all. Each is counted as its own error
# kind, every request that failed is one of that kind, and the run finishes
# and reports, with exit code 1: no request succeeded.
. "$(dirname "$0")/lib.sh"

hostile() { # hostile PATH KIND [extra options]
	local path=$1 kind=$2
	shift 2
	run_sp run --url "http://$SRV:8080$path" --vus 4 --duration 2s "$@"
	check "$path: exit code 1 (nothing succeeded), report written" eq "$RC" 1
	check "$path: the report says nothing succeeded" eq "$(j .summary.nothing_succeeded)" true
	check "$path: no response" eq "$(j .summary.responses)" 0
	check "$path: failures (at least 4)" ge "$(j .summary.errors)" 4
	check "$path: every failure is $kind" eq "$(j ".summary.errors_by_kind.$kind")" "$(j .summary.errors)"
	check_http_accounting
	check_pools
}
hostile /garbage bad_status
hostile /truncated truncated
hostile /bighdr header_too_big
hostile /badchunk bad_chunk
hostile /badchunklf bad_chunk
hostile /upgrade unexpected_upgrade

# Head lines ended by bare LFs: accepted (RFC 9112 2.2 allows it), but the
# connection is not reused: every response closed its own.
run_sp run --url "http://$SRV:8080/barelf" --vus 4 --duration 2s
check "/barelf: exit code 0" eq "$RC" 0
check "/barelf: responses (at least 100)" ge "$(j .summary.responses)" 100
check "/barelf: no errors" eq "$(j .summary.errors)" 0
check "/barelf: every response closed its connection" eq "$(j .summary.connections.lenient_closes)" "$(j .summary.responses)"
check "/barelf: a connection per request" eq "$(j .summary.connections.opened)" "$(j .summary.requests)"
check_http_accounting
check_pools
hostile /truncbody/1000 truncated
hostile /silent response_timeout --response-timeout 300ms

# Nothing answers at all: SYNs vanish in the server's firewall (its counter
# is the witness), and a closed port answers with RSTs.
nft_table sp_http_hole <<'NFT'
	chain in {
		type filter hook input priority 0;
		tcp dport 7998 counter drop
	}
NFT
run_sp run --url "http://$SRV:7998/" --vus 4 --duration 3s --connect-timeout 1500ms
check "no answer: exit code 1 (nothing succeeded), report written" eq "$RC" 1
check "no answer: connect timeouts (at least 4)" ge "$(j .summary.errors_by_kind.connect_timeout)" 4
check "no answer: every failure is a connect timeout" eq "$(j .summary.errors_by_kind.connect_timeout)" "$(j .summary.errors)"
check "no answer: the firewall dropped every SYN sent" eq "$(nft_packets sp_http_hole)" \
	$(($(j .summary.connections.opened) + $(j .tcp.syn_retrans)))
check_http_accounting
check_pools
rsts0=$(kcount TcpOutRsts)
run_sp run --url "http://$SRV:1/" --vus 2 --duration 1s
check "closed port: exit code 1 (nothing succeeded)" eq "$RC" 1
check "closed port: refusals (at least 100)" ge "$(j .summary.errors_by_kind.refused)" 100
check "closed port: every failure is a refusal" eq "$(j .summary.errors_by_kind.refused)" "$(j .summary.errors)"
check "closed port: refusals = the kernel's RSTs" eq "$(j .summary.errors_by_kind.refused)" $(($(kcount TcpOutRsts) - rsts0))
check_http_accounting
check_pools
finish
