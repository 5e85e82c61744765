#!/usr/bin/env bash
# The test bed's TLS parts, checked with an independent client, OpenSSL's
# s_client, run inside the namespace (the bed's servers are reachable only
# from there; the client's address is the server's own, 198.18.0.2):
# the good certificates verify against the test CA (ECDSA on 443, RSA on
# 8443); the expired, wrong-name and unknown-CA ports fail verification
# with their reason and nginx logs nothing for them; the TLS 1.3-only port
# refuses 1.2; the client-certificate ports refuse without one and answer
# with one; each hostile sp-tlssrv mode does what it says, by the client's
# error and by sp-tlssrv's log; nginx logs resumed sessions (session ID,
# TLS 1.2 ticket, TLS 1.3 ticket) as r and full handshakes as '.'.
# stampede itself is not run.
. "$(dirname "$0")/lib.sh"

ME=$SRV # the client's address inside the namespace
bed_tls_ca >/dev/null || exit 1

# sc PORT [s_client options]: a handshake, verifying the name and the
# chain against $CA (default the test CA), stdin empty. Output in
# $TMP/sc.txt, exit status in SC.
sc() {
	local port=$1
	shift
	ip netns exec "$NS" timeout "${SC_TIMEOUT:-10}" openssl s_client \
		-connect "$SRV:$port" -servername "$TLS_NAME" \
		-verify_hostname "$TLS_NAME" -verify_return_error \
		-CAfile "${CA:-$TLS_CA}" "$@" </dev/null >"$TMP/sc.txt" 2>&1
	SC=$?
}
# get PORT PATH [s_client options]: as sc, and a GET (Connection: close)
# whose response is read to the server's close.
get() {
	local port=$1 path=$2
	shift 2
	printf 'GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n' \
		"$path" "$TLS_NAME" |
		ip netns exec "$NS" timeout 10 openssl s_client \
			-connect "$SRV:$port" -servername "$TLS_NAME" \
			-verify_hostname "$TLS_NAME" -verify_return_error \
			-CAfile "$TLS_CA" -ign_eof "$@" >"$TMP/sc.txt" 2>&1
	SC=$?
}
has() { grep -qF -- "$1" "$TMP/sc.txt" || { echo "     no '$1' in s_client's output:" >&2; tail -5 "$TMP/sc.txt" >&2; return 1; }; }
verify_code() { sed -n 's/^ *Verify return code: \([0-9]*\).*/\1/p' "$TMP/sc.txt" | tail -1; }
# The length of the ClientHello record s_client sent (-msg), header included.
hello_len() {
	local h
	h=$(awk '/RecordHeader/ { getline; print $4 $5; exit }' "$TMP/sc.txt")
	echo $((5 + 16#${h:-0}))
}

# --- the good certificates
m=$(log_mark "$TLS_ACCESS_LOG")
sc "$TLS_PORT" -tls1_2
check "443: verified against the test CA" eq "$SC.$(verify_code)" 0.0
check "443: ECDSA key (TLS 1.2 suite ECDHE-ECDSA)" has "Cipher is ECDHE-ECDSA-"
check "443: a 256-bit key" has "Server public key is 256 bit"
sc "$TLS_PORT" -tls1_3
check "443: TLS 1.3 too" eq "$SC.$(verify_code)" 0.0
check "443: TLS 1.3, ECDSA signature" has "Peer signature type: ECDSA"
sc "$TLS_RSA_PORT" -tls1_2
check "8443: verified against the test CA" eq "$SC.$(verify_code)" 0.0
check "8443: RSA key (TLS 1.2 suite ECDHE-RSA)" has "Cipher is ECDHE-RSA-"
check "8443: a 2048-bit key" has "Server public key is 2048 bit"
sc "$TLS_RSA_PORT" -tls1_3
check "8443: TLS 1.3 too, RSA-PSS signature" eq "$SC.$(grep -c 'Peer signature type: RSA-PSS' "$TMP/sc.txt")" 0.1
CA=$TLS_OTHER_CA sc "$TLS_PORT"
check "443 against the other CA: unable to get local issuer (20)" eq "$SC.$(verify_code)" 1.20

# --- the bad certificates: each fails with its reason, nothing requested
sc "$TLS_EXPIRED_PORT"
check "8444: certificate has expired (10)" eq "$SC.$(verify_code)" 1.10
sc "$TLS_WRONGNAME_PORT"
check "8445: hostname mismatch (62)" eq "$SC.$(verify_code)" 1.62
sc "$TLS_WRONGNAME_PORT" -verify_hostname "$TLS_WRONG_NAME"
check "8445: but good for $TLS_WRONG_NAME" eq "$SC.$(verify_code)" 0.0
sc "$TLS_UNKNOWNCA_PORT"
check "8446: unable to get local issuer certificate (20)" eq "$SC.$(verify_code)" 1.20
CA=$TLS_OTHER_CA sc "$TLS_UNKNOWNCA_PORT"
check "8446: good against the other CA (so only the CA is wrong)" eq "$SC.$(verify_code)" 0.0
check "nginx logged no request for all these handshakes" eq "$(nginx_tls_fields "$m" "$ME" | wc -l)" 0

# --- TLS 1.3 only
sc "$TLS13_PORT" -tls1_2
check "8447: TLS 1.2 refused" eq "$SC" 1
check "8447: with a protocol_version alert" has "alert protocol version"
sc "$TLS13_PORT" -tls1_3
check "8447: TLS 1.3 accepted" eq "$SC.$(verify_code)" 0.0
check "8447: TLS 1.3 negotiated" has "New, TLSv1.3,"

# --- client certificates: nginx answers 400 without one, sp-tlssrv
# fails the handshake
m=$(log_mark "$TLS_ACCESS_LOG")
get "$TLS_CLIENTCERT_PORT" /1k
check "8448 without a client certificate: 400" has "HTTP/1.1 400 "
get "$TLS_CLIENTCERT_PORT" /1k -cert "$TLS_CLIENT_CERT" -key "$TLS_CLIENT_KEY"
check "8448 with the client certificate: 200" has "HTTP/1.1 200 OK"
check "nginx logged the 400 on 8448" eq "$(nginx_tls_count "$m" 400 /1k "$ME" "$TLS_CLIENTCERT_PORT")" 1
check "nginx logged the 200 on 8448" eq "$(nginx_tls_count "$m" 200 /1k "$ME" "$TLS_CLIENTCERT_PORT")" 1

t=$(log_mark "$TLSSRV_LOG")
sc "$TLSSRV_NEEDCERT_PORT" -tls1_2
check "needcert, TLS 1.2, no certificate: handshake fails" eq "$SC" 1
check "needcert, TLS 1.2: handshake_failure alert" has "SSL alert number 40"
# (TLS 1.3: the client's handshake ends before the server has seen that
# no certificate came, so the alert arrives when the client reads on.)
get "$TLSSRV_NEEDCERT_PORT" / -tls1_3
check "needcert, TLS 1.3, no certificate: certificate_required alert" has "SSL alert number 116"
get "$TLSSRV_NEEDCERT_PORT" / -cert "$TLS_CLIENT_CERT" -key "$TLS_CLIENT_KEY"
check "needcert with the client certificate: 200" has "HTTP/1.1 200 OK"
tlssrv_wait "$t" 3
check "sp-tlssrv: two handshakes failed for want of a certificate" \
	eq "$(tlssrv_count "$t" needcert tls=fail:PEER_DID_NOT_RETURN_A_CERTIFICATE)" 2
check "sp-tlssrv: one with the client certificate" \
	eq "$(tlssrv_count "$t" needcert tls=ok:stampede-client)" 1

# --- hostile modes: the client's error, and what sp-tlssrv saw and sent
# hostile MODE PORT CLIENT-ERROR SENT READS [WHAT-READ]: s_client -msg
# prints a "<<<" line for each record header or message it read (READS of
# them), WHAT-READ the last one's line or bytes.
hostile() {
	local t
	t=$(log_mark "$TLSSRV_LOG")
	sc "$2" -msg
	check "$1: handshake fails" eq "$SC" 1
	check "$1: the client says '$3'" has "$3"
	check "$1: the client read $5 headers or messages" eq "$(grep -c '^<<<' "$TMP/sc.txt")" "$5"
	[ -z "${6:-}" ] || check "$1: the client read '$6'" has "$6"
	tlssrv_wait "$t" 1
	check "$1: sp-tlssrv saw the ClientHello with its SNI, sent $4 bytes" \
		eq "$(tlssrv_count "$t" "$1" hello=1 sni="$TLS_NAME" sent="$4" peer_ip="$ME")" 1
	check "$1: and read it whole" ge "$(tlssrv_field "$t" "$1" read)" "$(hello_len)"
}
hostile garbage "$TLSSRV_GARBAGE_PORT" "wrong version number" 111 1 \
	"48 54 54 50 2f" # "HTTP/" where a record header should be
hostile alert "$TLSSRV_ALERT_PORT" "SSL alert number 40" 7 2 \
	"Alert [length 0002], fatal handshake_failure"
hostile truncated "$TLSSRV_TRUNCATED_PORT" "unexpected eof while reading" 21 1 \
	"16 03 03 00 40" # a 64-byte handshake record, never whole
hostile close "$TLSSRV_CLOSE_PORT" "unexpected eof while reading" 0 0

# stall: the client is still waiting when its 2 s are up (timeout's 124);
# sp-tlssrv read exactly the ClientHello, sent nothing, and logs the
# connection once the client's end closes.
t=$(log_mark "$TLSSRV_LOG")
SC_TIMEOUT=2 sc "$TLSSRV_STALL_PORT" -msg
check "stall: the client waited until killed" eq "$SC" 124
check "stall: the client read nothing" eq "$(grep -c '^<<<' "$TMP/sc.txt")" 0
tlssrv_wait "$t" 1
check "stall: sp-tlssrv read the ClientHello exactly, sent nothing, until the client's FIN" \
	eq "$(tlssrv_count "$t" stall hello=1 sent=0 end=eof read="$(hello_len)")" 1

# --- resumption, by nginx's log: a full handshake '.', then 'r', for a
# session ID (no ticket), a TLS 1.2 ticket and a TLS 1.3 ticket
m=$(log_mark "$TLS_ACCESS_LOG")
resume() { # resume WHAT [s_client options]
	local what=$1
	shift
	get "$TLS_PORT" /0 -sess_out "$TMP/sess" "$@"
	check "$what: first connection full" has "New, TLSv1."
	get "$TLS_PORT" /0 -sess_in "$TMP/sess" "$@"
	check "$what: second connection resumed (client's view)" has "Reused, TLSv1."
}
resume "session ID" -tls1_2 -no_ticket
resume "TLS 1.2 ticket" -tls1_2
resume "TLS 1.3 ticket" -tls1_3
nginx_tls_fields "$m" "$ME" >"$TMP/fields"
check "nginx logged the six requests: . r . r . r, with SNI and host" eq \
	"$(awk '{ printf "%s/%s/%s/%s/%s ", $1, $2, $3, $4, $5 }' "$TMP/fields")" \
	"$(for p in TLSv1.2 TLSv1.2 TLSv1.3; do printf '443/%s/./%s/%s 443/%s/r/%s/%s ' \
		"$TLS_NAME" "$p" "$TLS_NAME" "$TLS_NAME" "$p" "$TLS_NAME"; done)"
check "nginx_tls_reused counts them" eq "$(nginx_tls_reused "$m" "$ME")" 3
check "nginx_tls_count: six 200s for /0" eq "$(nginx_tls_count "$m" 200 /0 "$ME")" 6

finish
