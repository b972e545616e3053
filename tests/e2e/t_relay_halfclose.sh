#!/usr/bin/env bash
# t_relay_halfclose: erlfwd-server's relay carries a half-close in either
# direction and a reset as a reset, with --relay auto (splice) and with
# --relay copy.  A target in the dyno (peer.c, on an --allow-port) and a
# client that sends the DIST preamble itself play each case:
#   c  the client shuts its write side: the target sees EOF, and its reply,
#      sent after that, still reaches the client;
#   t  the reverse: the target shuts first, the client answers after EOF;
#   C  c with 8 MiB that the target is slow to read, T the reverse with 8
#      MiB the client is slow to read: the relay holds bytes back, and the
#      EOF follows the last of them, every byte intact;
#   r  the target resets: the client gets ECONNRESET, not a clean EOF;
#   R  the client resets: the target gets ECONNRESET.
# The server logs outcome=closed for the first four, outcome=reset for the
# resets.
set -u -o pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init
e2e_require_build
e2e_cc peer
peer=$E2E_TMP/peer

e2e_dyno_start dyno
target=7000
e2e_dyno_spawn dyno target "$peer" target "$target"
e2e_wait_port -n dyno "$target"
tlog=$E2E_TMP/target.log
preamble=$(e2e_frame_hex 2 "$target" 0)
bulk=$(( 8 << 20 ))

declare -A played=()
# play MODE CASE CLIENT_LINE TARGET_LINE OUTCOME: the client's part of CASE,
# through the server; the client's line, the target's line and the server's
# outcome must be these.
play() {
	local mode=$1 c=$2 want_client=$3 want_target=$4 outcome=$5 out tline
	local sline
	played[$c]=$(( ${played[$c]:-0} + 1 ))
	conns=$(( conns + 1 ))
	out=$(e2e_dyno_exec dyno timeout 30 "$peer" case "$E2E_SERVER_PORT" \
	    "$preamble" "$c" 2>&1)
	e2e_wait_count 10 "$tlog" "target case=$c " "${played[$c]}"
	tline=$(grep -aF "target case=$c " "$tlog" | tail -n 1)
	e2e_wait_count 10 "$E2E_SERVER_LOG" "tag=dist" "$conns"
	sline=$(grep -aF tag=dist "$E2E_SERVER_LOG" | tail -n 1)
	e2e_log "relay $mode, case $c: server: ${sline#*msg=conn }"
	e2e_assert_eq "$want_client" "$out" "relay $mode, case $c: the client"
	e2e_assert_eq "$want_target" "$tline" "relay $mode, case $c: the target"
	e2e_assert_match "$sline" \
	    "target=127\\.0\\.0\\.1:$target .*outcome=$outcome( |$)" \
	    "relay $mode, case $c: the server logs outcome=$outcome"
}

for mode in auto copy; do
	conns=0
	e2e_server_start dyno --allow-port "$target" --relay "$mode"
	relay=$(grep -aF msg=listening "$E2E_SERVER_LOG")
	relay=${relay##*relay=}
	relay=${relay%% *}
	e2e_log "--relay $mode: the server moves bytes with $relay"
	[[ $mode == copy ]] &&
	    e2e_assert_eq copy "$relay" "--relay copy: read/write"

	play "$mode" c "client case=c got=target-saw-eof:11 end=eof" \
	    "target case=c got=client-data end=eof" closed
	play "$mode" t "client case=t got=target-data end=eof" \
	    "target case=t got=client-saw-eof:11 end=eof" closed
	play "$mode" C "client case=C got=target-saw-eof:$bulk ok end=eof" \
	    "target case=C got=$bulk-bytes-ok end=eof" closed
	play "$mode" T "client case=T got=$bulk-bytes-ok end=eof" \
	    "target case=T got=client-saw-eof:$bulk ok end=eof" closed
	play "$mode" r "client case=r got= end=reset" \
	    "target case=r got= end=sent-reset" reset
	play "$mode" R "client case=R got=ready end=sent-reset" \
	    "target case=R got= end=reset" reset

	e2e_assert_true "--relay $mode: the server is still running" \
	    e2e_alive "$E2E_SERVER_PID"
	e2e_stop "$E2E_SERVER_PID"
	e2e_wait_port_closed -n dyno "$E2E_SERVER_PORT"
done
e2e_pass
