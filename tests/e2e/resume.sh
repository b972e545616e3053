# shellcheck shell=bash
#
# resume.sh: what the resume scenarios share (t_carrier_resume,
# t_carrier_resume_stdio), over lib.sh and cli.sh: the watcher, a hidden node
# whose session rides the carrier that they drop, and the ssh clients they
# kill.  Names start with resume_.

# resume_watcher_start VIA MIB: start the watcher through `erlfwd run --via
# VIA`, and wait for its first MIB MiB binary.  It monitors app@dyno
# (monitor_node, monitor_nodes), fetches MIB MiB binaries from it one after
# the other (each checked against its MD5), and makes a small rpc every
# 100 ms; app@dyno counts the watcher's nodedowns in a process of its own
# (the watcher is hidden, which monitor_nodes(true) would not report:
# node_type all), whose code is parsed here and evaluated there: an
# erl_eval fun made here is not one that another OTP release can run.  Touching
# $RESUME_MARK (a time in ms) starts the small rpcs' count anew.  Sets
# RESUME_WATCHER (its pid) and RESUME_WLOG (its output and its agent's).
resume_watcher_start() {
	local via=$1 mib=$2 prog
	RESUME_STOP=$E2E_TMP/watcher.stop
	RESUME_MARK=$E2E_TMP/watcher.mark
	local ready=$E2E_TMP/watcher.ready
	prog='
T = app@dyno, W = self(),
Stop = os:getenv("STOP"), Ready = os:getenv("READY"), Mark = os:getenv("MARK"),
true = net_kernel:connect_node(T),
true = erlang:monitor_node(T, true),
ok = net_kernel:monitor_nodes(true),
{ok, DT, _} = erl_scan:string(lists:flatten(io_lib:format(
    "spawn(fun() -> ok = net_kernel:monitor_nodes(true, [{node_type, all}]),"
    " (fun C(N) -> receive {nodedown, ~p, _} -> C(N + 1);"
    " {get, P} -> P ! {downs, N}, C(N); _ -> C(N) end end)(0) end).",
    [node()]))),
{ok, DE} = erl_parse:parse_exprs(DT),
{value, DP, _} = rpc:call(T, erl_eval, exprs,
    [DE, rpc:call(T, erl_eval, new_bindings, [])]),
true = rpc:call(T, erlang, register, [watch_downs, DP]),
Copies = list_to_integer(os:getenv("COPIES")),
Want = erlang:md5(binary:copy(<<"0123456789abcdef">>, Copies)),
Big = fun BigLoop() -> R = rpc:call(T, binary, copy,
    [<<"0123456789abcdef">>, Copies]),
    W ! {big, is_binary(R) andalso erlang:md5(R) =:= Want},
    case filelib:is_file(Stop) of true -> ok; false -> BigLoop() end end,
Small = fun SmallLoop() -> T0 = erlang:monotonic_time(millisecond),
    R = rpc:call(T, erlang, node, []),
    W ! {small, R =:= T, erlang:monotonic_time(millisecond) - T0},
    timer:sleep(100),
    case filelib:is_file(Stop) of true -> ok; false -> SmallLoop() end end,
spawn_link(Big), spawn_link(Small),
Loop = fun L(S = #{bo := BO}) ->
    receive
      {big, true} -> BO == 0 andalso file:write_file(Ready, <<"ok">>),
        L(S#{bo := BO + 1});
      {big, false} -> L(maps:update_with(bb, fun(X) -> X + 1 end, S));
      {small, true, Ms} -> Since = case file:read_file(Mark) of
          {ok, M} -> binary_to_integer(string:trim(M)); _ -> 0 end,
        L(S#{so := maps:get(so, S) + 1, sm := max(Ms, maps:get(sm, S)),
            mark := case Since > maps:get(mark_seen, S) of
              true -> 1; false -> maps:get(mark, S) + 1 end,
            mark_seen := Since});
      {small, false, _} -> L(maps:update_with(sb, fun(X) -> X + 1 end, S));
      {nodedown, _} -> L(maps:update_with(down, fun(X) -> X + 1 end, S));
      {nodedown, _, _} -> L(maps:update_with(down, fun(X) -> X + 1 end, S))
    after 200 ->
      case filelib:is_file(Stop) of
        false -> L(S);
        true -> {watch_downs, T} ! {get, self()},
          RD = receive {downs, D} -> D after 10000 -> unknown end,
          io:format("watcher: nodedown=~p remote_nodedown=~p big_ok=~p "
            "big_bad=~p small_ok=~p small_bad=~p small_max_ms=~p "
            "small_since_mark=~p~n", [maps:get(down, S), RD, BO,
            maps:get(bb, S), maps:get(so, S), maps:get(sb, S),
            maps:get(sm, S), maps:get(mark, S)]),
          halt()
      end
    end end,
Loop(#{bo => 0, bb => 0, so => 0, sb => 0, sm => 0, down => 0, mark => 0,
    mark_seen => 0}).'
	e2e_spawn watcher env ERL_EPMD_PORT="$E2E_LOCAL_EPMD" STOP="$RESUME_STOP" \
	    ERL_CRASH_DUMP="$E2E_TMP/watcher.dump" COPIES=$(( mib * 65536 )) \
	    READY="$ready" MARK="$RESUME_MARK" "$CLI_BIN" run --via "$via" -- erl \
	    -sname "w$$" -setcookie "$E2E_COOKIE" -hidden -noinput -eval "$prog"
	RESUME_WATCHER=$E2E_LAST_PID
	RESUME_WLOG=$E2E_TMP/watcher.log
	e2e_wait_until 60 "the watcher's first $mib MiB from app@dyno" test -s "$ready"
}

# resume_watcher_report: stop the watcher; RESUME_LINE is its counts:
# "watcher: nodedown=N remote_nodedown=N big_ok=N big_bad=N small_ok=N
# small_bad=N small_max_ms=N small_since_mark=N".
resume_watcher_report() {
	: >"$RESUME_STOP"
	e2e_wait_until 30 "the watcher to report" e2e_not e2e_alive "$RESUME_WATCHER"
	RESUME_LINE=$(grep -a '^watcher: ' "$RESUME_WLOG") ||
	    e2e_fail "the watcher said nothing" "$(cat "$RESUME_WLOG")"
	e2e_log "$RESUME_LINE"
}

# resume_ssh_pids: the ssh clients of this scenario (the carriers' --via).
resume_ssh_pids() {
	local p
	for p in $(pgrep -x ssh); do
		tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q "$E2E_TMP" &&
		    echo "$p"
	done
}

# resume_count_at_least FILE STRING N: at least N lines of FILE hold STRING.
resume_count_at_least() {
	(( $(e2e_count "$1" "$2") >= $3 ))
}

# resume_pane_at_least REGEX N: at least N lines of the remsh pane match
# REGEX.
resume_pane_at_least() {
	(( $(e2e_tmux_screen remsh | grep -cE -- "$1") >= $2 ))
}

# resume_kill N PID...: the Nth drop: restart the watcher's count of small
# rpcs, have the dyno refuse ssh, kill PIDs (what carries the carriers),
# and wait until both agents (the watcher's, the remsh pane's) have said
# so N times.  RESUME_T0: when.
resume_kill() {
	local n=$1
	shift
	# Renamed into place: the watcher reads it at any moment, and an
	# emptied file is no time.
	date +%s%3N >"$RESUME_MARK.new"
	mv -f "$RESUME_MARK.new" "$RESUME_MARK"
	: >"$E2E_TMP/proxy-dyno.sh.down"
	kill -KILL "$@"
	RESUME_T0=$SECONDS
	e2e_log "drop $n: killed $* and the dyno refuses ssh"
	e2e_wait_until 20 "the watcher's agent to say the tunnel is lost" \
	    resume_count_at_least "$RESUME_WLOG" "erlfwd: tunnel lost (" "$n"
	e2e_wait_until 20 "the remsh's agent to say the tunnel is lost" \
	    resume_pane_at_least '^erlfwd: tunnel lost \(.*\), resuming$' "$n"
}

# resume_back N SECS: SECS after resume_kill, the dyno takes ssh again;
# wait until both sessions have resumed N times.
resume_back() {
	local n=$1 secs=$2
	sleep "$(( secs - (SECONDS - RESUME_T0) > 0 ? secs - (SECONDS - RESUME_T0) : 0 ))"
	rm -f "$E2E_TMP/proxy-dyno.sh.down"
	e2e_wait_until 20 "the watcher's session to resume" \
	    resume_count_at_least "$RESUME_WLOG" ", nothing lost" "$n"
	e2e_wait_until 20 "the remsh's session to resume" \
	    resume_pane_at_least '^erlfwd: tunnel back after [0-9]+ s, nothing lost$' "$n"
	e2e_log "ok: drop $n ($secs s): both sessions resumed, nothing lost"
}
