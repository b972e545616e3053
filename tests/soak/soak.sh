#!/usr/bin/env bash
# soak.sh: `make soak`.  A remote-shell session kept busy for SOAK_SECONDS
# while its forward keeps failing, and erlfwd-server watched for leaks.
#
# The world is the end-to-end tests' (tests/e2e/lib.sh): a dyno with epmd,
# app@dyno and erlfwd-server, an ssh -L forward, and one long-lived local
# node under liberlfwd.so.  For SOAK_SECONDS (600):
#   - the local node calls app@dyno in a loop (small calls, and every fifth
#     one 120 kB up or 100 kB down), and drops its connection every
#     SOAK_RECONNECT_EVERY seconds (10) so that the next call reconnects;
#   - every SOAK_DROP_EVERY seconds (30) the ssh forward is killed (SIGTERM
#     and SIGKILL in turn) and started again on the same port;
#   - every SOAK_SAMPLE_EVERY seconds (5) erlfwd-server's open descriptors
#     (/proc/PID/fd) and resident memory (VmRSS) are sampled.
# At the end: the median of the first samples after the warm-up
# (SOAK_WARMUP seconds, 30) is compared with the median of the last ones
# (each a fifth of the samples after the warm-up, at least 3): descriptors
# may not grow by more than SOAK_FD_SLACK (2), memory by more than
# SOAK_RSS_SLACK_KB (1024).  The calls must have kept succeeding, and a
# last call after the last drop must work.  The figures are printed, and the
# samples kept in SOAK_OUT (build/soak/samples.tsv).
#
# The sleeps below pace the load and the samples; nothing waits on them for
# synchronisation (that is lib.sh's deadlines' job).  Needs root.
set -u -o pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../e2e/lib.sh
. "$here/../e2e/lib.sh"

SECS=${SOAK_SECONDS:-600}
DROP_EVERY=${SOAK_DROP_EVERY:-30}
RECONNECT_EVERY=${SOAK_RECONNECT_EVERY:-10}
SAMPLE_EVERY=${SOAK_SAMPLE_EVERY:-5}
WARMUP=${SOAK_WARMUP:-30}
FD_SLACK=${SOAK_FD_SLACK:-2}
RSS_SLACK_KB=${SOAK_RSS_SLACK_KB:-1024}
OUT=${SOAK_OUT:-$E2E_ROOT/build/soak}

e2e_init
e2e_require_build
(( SECS >= WARMUP + 6 * SAMPLE_EVERY )) ||
    e2e_fail "SOAK_SECONDS=$SECS is too short: at least" \
	"SOAK_WARMUP + 6 samples = $(( WARMUP + 6 * SAMPLE_EVERY )) s"
mkdir -p "$OUT" || e2e_fail "mkdir $OUT failed"
samples=$OUT/samples.tsv

e2e_world
server=$E2E_SERVER_PID
e2e_lnode_start me

# The load: a process on the local node, its counters in a public table.
e2e_lnode_eval me "
	Self = self(),
	spawn(fun() ->
		ets:new(soak, [named_table, public]),
		ets:insert(soak, [{ok, 0}, {failed, 0}, {reconnects, 0}]),
		Up = binary:copy(<<\"erlfwd\">>, 20000),
		Now = fun() -> erlang:monotonic_time(millisecond) end,
		Call = fun(I) when I rem 10 =:= 0 ->
				rpc:call(app@dyno, erlang, byte_size, [Up], 5000);
			  (I) when I rem 10 =:= 5 ->
				rpc:call(app@dyno, binary, copy, [<<\"x\">>, 100000], 5000);
			  (_) ->
				rpc:call(app@dyno, erlang, node, [], 5000)
		end,
		Loop = fun Loop(I, Next) ->
			case Call(I) of
			{badrpc, _} ->
				ets:update_counter(soak, failed, 1),
				receive after 100 -> ok end;
			_ ->
				ets:update_counter(soak, ok, 1)
			end,
			Next2 = case Now() >= Next of
			true ->
				erlang:disconnect_node(app@dyno),
				ets:update_counter(soak, reconnects, 1),
				Next + $RECONNECT_EVERY * 1000;
			false ->
				Next
			end,
			receive stop -> ok after 10 -> Loop(I + 1, Next2) end
		end,
		register(soak_load, self()),
		Self ! started,
		Loop(0, Now() + $RECONNECT_EVERY * 1000)
	end),
	receive started -> ok after 5000 -> not_started end"
e2e_assert_eq ok "$E2E_RESULT" "the load runs on the local node"

# counters: "OK FAILED RECONNECTS" from the local node.
counters() {
	e2e_lnode_eval me "[V || K <- [ok, failed, reconnects],
	    {_, V} <- ets:lookup(soak, K)]"
	[[ $E2E_RESULT =~ ^\[([0-9]+),([0-9]+),([0-9]+)\]$ ]] ||
	    e2e_fail "the load's counters: $E2E_RESULT"
	COUNTERS=("${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}" "${BASH_REMATCH[3]}")
}

printf 't_s\tfds\trss_kb\trpc_ok\trpc_failed\n' >"$samples"
t0=${EPOCHREALTIME/./}
elapsed() {
	echo $(( (${EPOCHREALTIME/./} - t0) / 1000000 ))
}
drops=0 next_drop=$DROP_EVERY
e2e_log "soak: ${SECS}s; forward drop every ${DROP_EVERY}s," \
    "reconnect every ${RECONNECT_EVERY}s, sample every ${SAMPLE_EVERY}s"
while (( $(elapsed) < SECS )); do
	e2e_alive "$server" || e2e_fail "erlfwd-server died at $(elapsed)s"
	counters
	printf '%s\t%s\t%s\t%s\t%s\n' "$(elapsed)" "$(e2e_proc_fds "$server")" \
	    "$(e2e_proc_rss_kb "$server")" "${COUNTERS[0]}" "${COUNTERS[1]}" \
	    >>"$samples"
	if (( $(elapsed) >= next_drop && $(elapsed) + SAMPLE_EVERY < SECS )); then
		# Every other drop is a SIGKILL: no chance to say goodbye.
		(( drops % 2 )) && kill -KILL "${E2E_TUNNEL_PIDS[dyno]}"
		e2e_tunnel_down dyno
		e2e_tunnel_up dyno
		drops=$(( drops + 1 ))
		next_drop=$(( next_drop + DROP_EVERY ))
	fi
	sleep "$SAMPLE_EVERY"	# pacing
done

# After the last drop the session must work again: wait for a call that
# succeeds, then check one directly.
counters
ok_before=${COUNTERS[0]}
progress() {
	counters
	(( COUNTERS[0] > ok_before ))
}
e2e_wait_until 30 "a successful call after the last drop" progress
e2e_lnode_eval me "rpc:call(app@dyno, erlang, node, [])"
e2e_assert_eq app@dyno "$E2E_RESULT" "after ${SECS}s and $drops drops, rpc works"
counters	# before the load stops: its table goes with it
e2e_lnode_eval me "exit(whereis(soak_load), kill)"

# median COLUMN FIRST_ROW LAST_ROW: the median of a column of the samples
# (rows counted from 1, after the header).
median() {
	awk -F'\t' -v c="$1" -v a="$2" -v b="$3" \
	    'NR > 1 && NR - 1 >= a && NR - 1 <= b {print $c}' "$samples" |
	    sort -n | awk '{v[NR] = $1} END {
		if (NR == 0) { print 0; exit }
		print (NR % 2) ? v[(NR + 1) / 2] : int((v[NR / 2] + v[NR / 2 + 1]) / 2)
	    }'
}
n=$(( $(wc -l <"$samples") - 1 ))
first=$(awk -F'\t' -v w="$WARMUP" 'NR > 1 && $1 >= w {print NR - 1; exit}' \
    "$samples")
[[ -n $first ]] || e2e_fail "no sample after the warm-up"
k=$(( (n - first + 1) / 5 ))
(( k >= 3 )) || k=3
(( first + 2 * k - 1 <= n )) ||
    e2e_fail "too few samples after the warm-up ($(( n - first + 1 )))" \
	"raise SOAK_SECONDS"
fd_first=$(median 2 "$first" $(( first + k - 1 )))
fd_last=$(median 2 $(( n - k + 1 )) "$n")
rss_first=$(median 3 "$first" $(( first + k - 1 )))
rss_last=$(median 3 $(( n - k + 1 )) "$n")
fd_max=$(awk -F'\t' 'NR > 1 && $2 > m {m = $2} END {print m + 0}' "$samples")
rss_max=$(awk -F'\t' 'NR > 1 && $3 > m {m = $3} END {print m + 0}' "$samples")
conns=$(e2e_count "$E2E_SERVER_LOG" "msg=conn ")
outcomes=$(grep -aoE 'outcome=[a-z]+' "$E2E_SERVER_LOG" | sort | uniq -c |
    awk '{printf "%s%s %d", sep, substr($2, 9), $1; sep = ", "}')

report=$(cat <<EOF
soak: ${SECS}s, $n samples every ${SAMPLE_EVERY}s, warm-up ${WARMUP}s, windows of $k samples
  traffic: ${COUNTERS[0]} rpc calls ok, ${COUNTERS[1]} failed (during drops), ${COUNTERS[2]} reconnects, $drops forward drops
  erlfwd-server: $conns connections logged ($outcomes)
  erlfwd-server fds: first $fd_first, last $fd_last, max $fd_max (slack $FD_SLACK)
  erlfwd-server VmRSS: first $rss_first kB, last $rss_last kB, max $rss_max kB (slack $RSS_SLACK_KB kB)
  samples: $samples
EOF
)
printf '%s\n' "$report" | tee "$OUT/report.txt" >&2

e2e_assert_le 1 "$drops" "the forward was dropped at least once"
e2e_assert_le 1 "${COUNTERS[2]}" "the local node reconnected at least once"
e2e_assert_le $(( COUNTERS[1] + 1 )) "${COUNTERS[0]}" \
    "calls succeeded more often than they failed"
e2e_assert_le "$fd_last" $(( fd_first + FD_SLACK )) \
    "erlfwd-server's descriptors do not grow ($fd_first -> $fd_last)"
e2e_assert_le "$rss_last" $(( rss_first + RSS_SLACK_KB )) \
    "erlfwd-server's memory does not grow ($rss_first -> $rss_last kB)"
e2e_pass
