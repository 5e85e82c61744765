#!/usr/bin/env bash
# 100,000 concurrent WebSocket connections held with periodic pings:
# stampede run against stampede serve --ws echo, each end in a namespace of
# this test's own, both holding every WebSocket at once; each process's
# RSS and the bytes an idle WebSocket holds beyond its TCP connection
# (issue 15's goal: at most 1 KiB) reported.
#
# Every VU opens one WebSocket, listens (pinging every 17 s: two pings a
# session), closes with 1000, then thinks past the run's end, so it opens
# no second one. The ramp (40 s, 2,500 upgrades/s: what the TLS hold test
# ramps at too) is shorter than a session (45 s): all are open at once
# from the ramp's end to the first close (the last upgrades take well
# under a second: the timeline shows every one open at 40 s), and the
# closes come spread as the opens did. Every session completes inside the
# schedule (the last close is due at 85 s, the run ends at 90 s), so the
# counts are exact both ways.
#
# Witnesses: each side's own count of the other's work (upgrades, pings
# and pongs, close frames each way, TCP closes) and each side's peak of
# connections open at once; the client's timeline has WebSockets open.
. "$(dirname "$0")/lib.sh"

N=${SP_HOLD_WS_N:-100000}
RAMP=40
LISTEN=45
PING=17
NS=sp-wh
SRV_IF=sp-whs0
RUN_IF=sp-whc0
SRV_IP=198.19.16.1
RUN_IPS=198.19.16.10-198.19.16.11 # 64,512 ports each: two for 100,000
SP_PID=
trap 'stop_pid "$SP_PID" 300; cleanup' EXIT
nsx() { ip netns exec "$NS" "$@"; }
bridge_ns "$NS" "198.19.16.3/24" "$SRV_IF" "$RUN_IF" || exit 1

taskset -c "$FIRST_CPU" "$STAMPEDE" serve --ws echo \
	--port "af_packet:$SRV_IF" --ip "$SRV_IP" --max-conns $((N + N / 50)) \
	--duration 10m --json "$TMP/s.json" >"$TMP/s.txt" 2>&1 &
SP_PID=$!
up=0
for _ in $(seq 120); do # its pools take seconds to make and touch
	nsx ping -c1 -W1 -q "$SRV_IP" >/dev/null 2>&1 && { up=1; break; }
	kill -0 "$SP_PID" 2>/dev/null || break
	sleep 0.5
done
check "stampede serve --ws echo is up" eq "$up" 1
[ "$up" = 1 ] || { cat "$TMP/s.txt" >&2; exit 1; }

cat >"$TMP/hold.yaml" <<YAML
target: ws://$SRV_IP
ws: { ping_every: ${PING}s }
load:
  stages:
    - {duration: ${RAMP}s, target: $N}
    - {duration: $((LISTEN + 5))s, target: $N}
scenarios:
  - name: hold
    steps:
      - ws:
          path: /hold
          steps:
            - listen: ${LISTEN}s
            - close: {code: 1000}
      - think: 10m
YAML
t0=$(date +%s)
taskset -c "$LAST_CPU" "$STAMPEDE" run "$TMP/hold.yaml" --port "af_packet:$RUN_IF" \
	--ip "$RUN_IPS" --prefix-len 24 --connect-timeout 20s \
	--json "$TMP/c.json" >"$TMP/c.txt" 2>&1
CRC=$?
t1=$(date +%s)
cat "$TMP/c.txt"
stop_pid "$SP_PID" 300
SP_PID=
cat "$TMP/s.txt"
c() { jq -r "$1" "$TMP/c.json"; }
s() { jq -r "$1" "$TMP/s.json"; }

check "client exit 0" eq "$CRC" 0
check "$N sessions started, all completed" eq \
	"$(c .ws.sessions.started)/$(c .ws.sessions.completed)" "$N/$N"
check "none failed, interrupted or open at the end" eq \
	"$(c .ws.sessions.failed)/$(c .ws.sessions.interrupted)/$(c .ws.sessions.open_at_end)" 0/0/0
check "no error of any kind, no reconnect" eq \
	"$(c .summary.errors)/$(c .summary.connections.reconnects)/$(s .ws.errors_total)" 0/0/0
check "the server upgraded every session the client opened" eq "$(s .ws.upgrades)" "$(c .ws.sessions.started)"
check "nothing refused" eq "$(s .ws.refused_total)" 0
check "the client held $N connections at once" ge "$(c .pools.conns_peak)" "$N"
check "the server held $N at once" ge "$(s .pools.conns_peak)" "$N"
check "the client's timeline had $N WebSockets open at once" ge \
	"$(c '[.timeline[].ws_open] | max')" "$N"
# Pings: every 17 s of a 45 s session, two each, all answered.
check "pings sent = the server's received = its pongs = ours received" eq \
	"$(c .ws.pings_sent)/$(s .ws.pongs_sent)/$(c .ws.pongs_received)" \
	"$(s .ws.pings)/$(s .ws.pings)/$(s .ws.pings)"
check "two pings a session" eq "$(c .ws.pings_sent)" $((2 * N))
check "no data message either way" eq \
	"$(c .ws.messages.sent)/$(s .ws.msgs_received)/$(s .ws.msgs_sent)" 0/0/0
# The end: our close frame (1000), the server's answer (1000), then its
# FIN first, every connection in order.
check "the server received $N close frames 1000, and answered each" eq \
	"$(s '.ws.close_received["1000"]')/$(s '.ws.close_sent["1000"]')" "$N/$N"
check "we received $N close frames 1000" eq "$(c '.ws.close_codes["1000"]')" "$N"
check "every WebSocket ended after a close frame" eq \
	"$(s .ws.ended_closed)/$(s .ws.ended_open)/$(s .ws.open)" "$N/0/0"
check "the server saw every connection close in order" eq "$(s '.serve.closed_by.normal')" "$N"
check "no connection left in either pool" eq "$(c .pools.conns_in_use)/$(s .pools.conns_in_use)" 0/0
wb=$(c .ws.bytes_per_connection)
check "an idle WebSocket holds at most 1 KiB beyond its TCP connection" le "$wb" 1024
check "... and that figure is the state plus the pools' share" eq "$wb" \
	"$(c '.ws.memory | .vu_state_bytes + (((.frame_contexts * .frame_context_bytes + .regex_windows * .regex_window_bytes) + .vus - 1) / .vus | floor)')"
crss=$(c .pools.rss_peak_bytes)
srss=$(s .pools.rss_peak_bytes)
echo "# $N WebSockets held at once in $((t1 - t0)) s: client RSS $((crss >> 20)) MiB" \
	"($(c .pools.bytes_per_conn) B per TCP connection in the stack's pools, $wb B per" \
	"idle WebSocket beyond it: $(c .ws.memory.vu_state_bytes) B state + a share of" \
	"$(c .ws.memory.frame_contexts) frame contexts of $(c .ws.memory.frame_context_bytes) B)," \
	"server RSS $((srss >> 20)) MiB ($(s .ws.bytes_per_connection) B per WebSocket)"
exit $((FAILS > 0))
