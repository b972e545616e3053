#!/usr/bin/env bash
# t_server_sigpipe_emfile: erlfwd-server survives peers that vanish and a
# file descriptor limit it runs into.
#   - SIGPIPE: with --relay auto and with --relay copy, clients that go away
#     (reset, or close with unread data) while the server streams to them
#     from a target, and INFO clients that go away before their answer is
#     written: each is logged, the server keeps serving, and on SIGTERM it
#     exits 0 (a SIGPIPE would have ended it with status 141);
#   - EMFILE: under `ulimit -n 32`, more connections than descriptors:
#     accept pauses with one "msg=accept paused reason=EMFILE" line, the
#     server stays up, a request that arrives meanwhile waits in the listen
#     queue, and once the extra connections close it is served, and so are
#     new ones.
set -u -o pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init
e2e_require_build
e2e_require_cmd prlimit
e2e_cc peer
peer=$E2E_TMP/peer

e2e_dyno_start dyno
target=7000
e2e_dyno_spawn dyno target "$peer" target "$target"
e2e_wait_port -n dyno "$target"
dist=$(e2e_frame_hex 2 "$target" 0)
info=$(e2e_frame_hex 3 0 0)
rounds=50 hits=300 mib=1

# server_alive WHAT: the server has not ended (its exit status if it has).
server_alive() {
	[[ -e $E2E_SERVER_EXIT ]] &&
	    e2e_fail "$1" "erlfwd-server ended: $(<"$E2E_SERVER_EXIT")"
	e2e_assert_true "$1" e2e_alive "$E2E_SERVER_PID"
}

# info_works WHAT: an INFO request inside the dyno is answered.
info_works() {
	e2e_raw -n dyno "$E2E_SERVER_PORT" "$(e2e_frame 3 0 0)"
	e2e_assert_eq "$(e2e_hex EFWD)0103" "${E2E_RAW_HEX:0:12}" "$1"
}

for mode in auto copy; do
	e2e_server_start_watched dyno --allow-port "$target" --relay "$mode"
	before=$(e2e_count "$E2E_SERVER_LOG" "target=127.0.0.1:$target ")
	out=$(e2e_dyno_exec dyno timeout 60 "$peer" vanish "$E2E_SERVER_PORT" \
	    "$dist" "$rounds" $(( mib << 20 )) 2>&1)
	server_alive "--relay $mode: the server is still running"
	e2e_assert_eq "vanished=$rounds bytes=$(( rounds * mib << 20 ))" "$out" \
	    "--relay $mode: $rounds clients vanish in the middle of a stream"
	e2e_wait_count 10 "$E2E_SERVER_LOG" "target=127.0.0.1:$target " \
	    $(( before + rounds ))
	e2e_assert_eq "$rounds" "$(grep -aF "target=127.0.0.1:$target " \
	    "$E2E_SERVER_LOG" | tail -n "$rounds" | grep -c 'outcome=reset')" \
	    "--relay $mode: each logged as outcome=reset"

	before=$(e2e_count "$E2E_SERVER_LOG" "tag=info")
	out=$(e2e_dyno_exec dyno timeout 60 "$peer" hit "$E2E_SERVER_PORT" \
	    "$info" "$hits" 2>&1)
	e2e_assert_eq "hit=$hits" "$out" \
	    "--relay $mode: $hits INFO clients gone before their answer"
	server_alive "--relay $mode: the server is still running"
	e2e_wait_count 10 "$E2E_SERVER_LOG" "tag=info" $(( before + hits ))
	info_works "--relay $mode: afterwards INFO is answered"

	kill -TERM "$E2E_SERVER_PID"
	e2e_server_wait_exit 5
	e2e_assert_eq exit=0 "$E2E_SERVER_STATUS" \
	    "--relay $mode: SIGTERM, exit 0: no SIGPIPE ended it"
done
e2e_log "the target's streams ended with: $(grep -aF 'case=s' \
    "$E2E_TMP/target.log" | sed 's/.* end=//' | sort | uniq -c | paste -sd,)"

# EMFILE.  The setup timeout is long so that only the holder's going frees
# descriptors.
e2e_server_start_watched dyno --setup-timeout 60000
prlimit --pid "$E2E_SERVER_PID" --nofile=32:32 ||
    e2e_fail "prlimit --nofile on erlfwd-server failed"
held=64
e2e_dyno_spawn dyno hold "$peer" hold "$E2E_SERVER_PORT" "$held" "" 60
holder=$E2E_LAST_PID
e2e_wait_until 20 "$held connections held" \
    e2e_file_has "$E2E_TMP/hold.log" "held $held"
e2e_wait_count 10 "$E2E_SERVER_LOG" "msg=accept paused reason=EMFILE" 1
line=$(grep -aF "msg=accept paused" "$E2E_SERVER_LOG" | head -n 1)
e2e_log "logged: ${line#*level=}"
e2e_assert_match "$line" "conns=[0-9]+ " "the line says how many it holds"
conns=${line#*conns=}
conns=${conns%% *}
e2e_assert_le $(( conns + 1 )) "$held" \
    "it paused before it had all $held ($conns accepted)"
e2e_log "erlfwd-server: $(e2e_proc_fds "$E2E_SERVER_PID") fds open"

# A legitimate request now waits in the listen queue...
# shellcheck disable=SC2059 # e2e_frame prints a printf format
printf "$(e2e_frame 3 0 0)" >"$E2E_TMP/info.req"
timeout -k 2 30 ip netns exec "$(e2e_ns dyno)" socat -t 25 - \
    "TCP:127.0.0.1:$E2E_SERVER_PORT" <"$E2E_TMP/info.req" \
    >"$E2E_TMP/info.queued" 2>&1 &
queued=$!
# ... behind the held connections the server could not accept (ss shows
# the listen queue's length as Recv-Q) ...
queue_len() {
	ip netns exec "$(e2e_ns dyno)" ss -Hltn "sport = :$E2E_SERVER_PORT" |
	    awk '{print $2}'
}
queue_at_least() {
	(( $(queue_len) >= $1 ))
}
e2e_wait_until 10 "the request to join the listen queue" \
    queue_at_least $(( held - conns + 1 ))
server_alive "paused: erlfwd-server is still running"
e2e_assert_eq 0 "$(stat -c %s "$E2E_TMP/info.queued")" \
    "paused: the request waits, unanswered"

e2e_stop "$holder"
wait "$queued"
e2e_assert_eq "$(e2e_hex EFWD)0103" \
    "$(od -An -v -tx1 "$E2E_TMP/info.queued" | tr -d ' \n' | head -c 12)" \
    "the holders gone, the request that waited is answered"
e2e_wait_count 10 "$E2E_SERVER_LOG" "outcome=rejected" "$held"
e2e_assert_eq "$held" "$(e2e_count "$E2E_SERVER_LOG" outcome=rejected)" \
    "each of the $held held connections logged once"
info_works "and new requests are served"
# It retried every 100 ms, but said so once per shortage, and said when
# it was over.
e2e_assert_eq 1 "$(e2e_count "$E2E_SERVER_LOG" "msg=accept paused")" \
    "the pause is logged once, not once per retry"
e2e_assert_le 1 "$(e2e_count "$E2E_SERVER_LOG" "msg=accept resumed")" \
    "the end of the shortage is logged"
kill -TERM "$E2E_SERVER_PID"
e2e_server_wait_exit 5
e2e_assert_eq exit=0 "$E2E_SERVER_STATUS" "after EMFILE, SIGTERM: exit 0"
e2e_pass
