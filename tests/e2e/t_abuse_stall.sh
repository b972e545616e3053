#!/usr/bin/env bash
# t_abuse_stall: 1,000 connections that send half a preamble and stall (a
# slowloris on the dyno's loopback) do not stop a legitimate session: while
# all of them are open in erlfwd-server, an rpc through the ssh forward
# works.  The setup timeout then closes every one of them (1,000
# outcome=timeout lines, each at the timeout).  And --max-conns is enforced:
# with the server full, each further connection is closed at once and
# logged as outcome=refused reason=max-conns; once the holders go, a
# legitimate session works again.
set -u -o pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init
e2e_require_build
e2e_require_cmd prlimit
e2e_cc peer
peer=$E2E_TMP/peer

stalled=1000 max=1100 extra=25 timeout_ms=10000
e2e_world --max-conns "$max" --setup-timeout "$timeout_ms"
# Room for every connection, whatever the limit this machine starts with.
prlimit --pid "$E2E_SERVER_PID" --nofile=4096:4096 ||
    e2e_fail "prlimit --nofile on erlfwd-server failed"
half=$(e2e_frame_hex 2 4369 0)
half=${half:0:10}	# "EFWD", version: the tag never comes

# hold LOG N SECONDS: N connections in the dyno that send half a preamble
# and wait until the server closes them (or SECONDS pass).
hold() {
	e2e_dyno_spawn dyno "$1" prlimit --nofile=4096:4096 \
	    "$peer" hold "$E2E_SERVER_PORT" "$2" "$half" "$3"
	HOLD_PID=$E2E_LAST_PID
	e2e_wait_until 30 "$2 connections held ($1)" \
	    e2e_file_has "$E2E_TMP/$1.log" "held $2"
}

fds_at_least() {
	(( $(e2e_proc_fds "$1") >= $2 ))
}

hold stall "$stalled" 60
t_held=${EPOCHREALTIME/./}
e2e_wait_until 10 "erlfwd-server to hold $stalled connections" \
    fds_at_least "$E2E_SERVER_PID" "$stalled"
e2e_log "erlfwd-server: $(e2e_proc_fds "$E2E_SERVER_PID") fds open," \
    "$(e2e_proc_rss_kb "$E2E_SERVER_PID") kB resident"

e2e_erl_eval -sname "t$$" "rpc:call('app@dyno', erlang, node, [])"
ms=$(( (${EPOCHREALTIME/./} - t_held) / 1000 ))
e2e_assert_eq app@dyno "$E2E_RESULT" \
    "with $stalled stalled connections open, rpc works (${ms} ms)"
e2e_assert_eq 0 "$(e2e_count "$E2E_SERVER_LOG" outcome=timeout)" \
    "... while all of them were still open"
e2e_assert_le "$stalled" "$(e2e_proc_fds "$E2E_SERVER_PID")" \
    "... in erlfwd-server"

e2e_wait_count $(( timeout_ms / 1000 + 15 )) "$E2E_SERVER_LOG" \
    outcome=timeout "$stalled"
e2e_wait_until 10 "the holder's summary" \
    e2e_file_has "$E2E_TMP/stall.log" "closed="
e2e_assert_eq "closed=$stalled eof=$stalled reset=0 open=0" \
    "$(grep -o 'closed=.* open=[0-9]*' "$E2E_TMP/stall.log")" \
    "the server closed every stalled connection"
lines=$(grep -aF outcome=timeout "$E2E_SERVER_LOG")
e2e_assert_eq "$stalled" "$(grep -cF \
    'reason="no complete preamble in time"' <<<"$lines")" \
    "$stalled lines: outcome=timeout reason=\"no complete preamble in time\""
read -r lo hi < <(sed -E 's/.* dur_ms=([0-9]+) .*/\1/' <<<"$lines" |
    sort -n | sed -n '1p;$p' | paste -sd' ')
e2e_log "their dur_ms: $lo to $hi (setup timeout $timeout_ms)"
e2e_assert_le "$timeout_ms" "$lo" "none was closed before the timeout"
e2e_assert_le "$hi" $(( timeout_ms + 2000 )) \
    "each was closed within 2 s after it"
e2e_assert_true "erlfwd-server is still running" e2e_alive "$E2E_SERVER_PID"

# --max-conns: fill the server, then knock.
hold full "$max" 60
full=$HOLD_PID
e2e_wait_until 10 "erlfwd-server to hold $max connections" \
    fds_at_least "$E2E_SERVER_PID" "$max"
hold knock "$extra" 10
e2e_wait_until 10 "the knocks' summary" \
    e2e_file_has "$E2E_TMP/knock.log" "closed="
# Closed at once, before the half preamble is read: a FIN, or a reset when
# those bytes had arrived unread.  Either way, closed.
e2e_assert_match "$(<"$E2E_TMP/knock.log")" \
    "closed=$extra eof=[0-9]+ reset=[0-9]+ open=0 ms=" \
    "--max-conns $max: each further connection is closed"
e2e_wait_count 5 "$E2E_SERVER_LOG" "outcome=refused reason=max-conns" "$extra"
e2e_assert_eq "$extra" \
    "$(e2e_count "$E2E_SERVER_LOG" "outcome=refused reason=max-conns")" \
    "--max-conns $max: one outcome=refused reason=max-conns line each"
e2e_stop "$full"
e2e_erl_eval -sname "t$$" "rpc:call('app@dyno', erlang, node, [])"
e2e_assert_eq app@dyno "$E2E_RESULT" "once the holders are gone, rpc works"
e2e_pass
