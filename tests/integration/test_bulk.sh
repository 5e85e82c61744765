#!/usr/bin/env bash
# 64 MiB each way through the kernel's echo server on one connection: the
# SHA-256 of what came back equals the SHA-256 of what was sent.
. "$(dirname "$0")/lib.sh"

run_sp tcp --target "$SRV:7" --mode echo --connections 1 --bytes 64m --sha256 --duration 120s
check "exit code 0" eq "$RC" 0
check "connection ok" eq "$(j .connections.ok)" 1
check "64 MiB sent" eq "$(j .bytes.sent)" $((64 << 20))
check "64 MiB received" eq "$(j .bytes.received)" $((64 << 20))
check "SHA-256 of the echo equals that of the data sent" eq "$(j .sha256.received)" "$(j .sha256.sent)"
check "SHA-256 present" eq "$(j '.sha256.sent | length')" 64
check_pools
finish
