#!/usr/bin/env bash
# A hostile server: garbage, truncated headers, a 1 MiB header line, a bad
# chunk size, a truncated body, or no answer at all. Each is counted as its
# own error kind, every request that failed is one of that kind, and the run
# finishes and reports.
. "$(dirname "$0")/lib.sh"

hostile() { # hostile PATH KIND [extra options]
	local path=$1 kind=$2
	shift 2
	run_sp run --url "http://$SRV:8080$path" --vus 4 --duration 2s "$@"
	check "$path: exit code 0, report written" eq "$RC" 0
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
hostile /truncbody/1000 truncated
hostile /silent response_timeout --response-timeout 300ms
finish
