#!/usr/bin/env bash
# t_cluster_figures: the clustering figures of README.md, in the lab of
# t_cluster_overlay (two dynos, microsocks in each, the overlay):
#   - connect + first answer through the socks5h route (the cluster helper
#     asks microsocks for "web-2") vs the same microsocks asked for the
#     numeric address by the socks5:// route (the handshake in connect);
#   - the longest gap of a busy process on a one-scheduler node (+S 1)
#     during 100 connects whose proxy accepts and never answers: socks5h
#     (the target: under 10 ms) vs socks5:// (3 connects, ERLFWD_TIMEOUT_MS
#     3000: each freezes the scheduler until it times out);
#   - small rpc:call latency node to node through the overlay (socks5h, and
#     socks5:// numeric through the same microsocks) vs a direct path
#     (nodes named by their overlay addresses, no preload, no proxy); then
#     the same through a second microsocks with Nagle's algorithm off
#     (nodelay.c preloaded into it): microsocks leaves it on, and a small
#     write behind another then waits for a delayed ACK, about 40 ms.
# Prints them as "figure:" lines; asserts that socks5h never stalls.
set -u -o pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=cluster_lab.sh
. "$(dirname "$0")/cluster_lab.sh"
e2e_init
e2e_require_build
e2e_require_cmd microsocks iptables python3

cl_overlay
cl_dyno 1
cl_dyno 2
cl_helper 1
e2e_node_start web-2 app@web-2
e2e_node_start_long web-2 direct@10.77.2.2

# --- connect time: by name through the helper vs numeric in connect -------
connect_time='M = fun(Host) -> {ok, IP} = inet:getaddr(Host, inet),
	    [begin T0 = erlang:monotonic_time(microsecond),
	    {ok, Sock} = gen_tcp:connect(IP, 4369, [binary, {active, false}]),
	    ok = gen_tcp:send(Sock, <<0, 1, 110>>),
	    {ok, _} = gen_tcp:recv(Sock, 4),
	    T1 = erlang:monotonic_time(microsecond), gen_tcp:close(Sock), T1 - T0
	    end || _ <- lists:seq(1, 100)] end,
	Med = fun(L) -> lists:nth(length(L) div 2, lists:sort(L)) end,
	_ = M("web-2"), _ = M("num-2"),
	Rounds = [{M("web-2"), M("num-2")} || _ <- lists:seq(1, 5)],
	{Med(lists:append([A || {A, _} <- Rounds])),
	 Med(lists:append([B || {_, B} <- Rounds]))}'
CL_HOSTS="$CL_ROUTE,num-2=socks5://127.0.0.1:$CL_PROXY_PORT?target=10.77.2.2" \
    cl_eval 1 ct "$connect_time"
read -r by_name numeric < <(tr -d '{}' <<<"$E2E_RESULT" | tr , ' ')
[[ $by_name =~ ^[0-9]+$ && $numeric =~ ^[0-9]+$ ]] ||
    e2e_fail "no connect times: $E2E_RESULT"
e2e_log "figure: connect + epmd answer, median of 500: socks5h by name $by_name us, socks5:// numeric $numeric us"

# --- the longest scheduler gap during 100 connects to a silent proxy -------
# A "proxy" that completes TCP handshakes (backlog) and never says a word.
e2e_dyno_spawn web-1 silent python3 -c '
import socket, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 1066))
s.listen(1024)
time.sleep(600)'
e2e_wait_port -n web-1 1066
cl_helper 1 'silent-*=socks5h://127.0.0.1:1066?helper=9371' helper-silent
# Busy: the longest gap, in us, of a process that only checks the clock,
# while Fun runs in another process; returns {Gap, Fun's result}.
gap_during='fun(Fun) -> Busy = spawn(fun() -> L = fun L(Last, Max) -> receive
	    {stop, P} -> P ! {gap, Max} after 0 ->
	    Now = erlang:monotonic_time(microsecond), _ = lists:seq(1, 20),
	    L(Now, max(Max, Now - Last)) end end,
	    L(erlang:monotonic_time(microsecond), 0) end),
	Res = Fun(),
	Busy ! {stop, self()},
	receive {gap, X} -> {X, Res} end end'
# N connects one after the other to Host(From + 1) .. Host(From + N) on
# Port (the sockets kept open): {connected, the slowest connect call in us,
# all in ms}.
connects='fun(Host, Port, From, N) -> fun() ->
	    T0 = erlang:monotonic_time(millisecond),
	    Us = [begin C0 = erlang:monotonic_time(microsecond),
	    Res = gen_tcp:connect(Host(From + I), Port,
	        [binary, {active, false}], 10000),
	    {element(1, Res), erlang:monotonic_time(microsecond) - C0} end
	    || I <- lists:seq(1, N)],
	    {length([ok || {ok, _} <- Us]), lists:max([U || {_, U} <- Us]),
	     erlang:monotonic_time(millisecond) - T0} end end'
# Warm up first (code loading, the resolver child), then 5 rounds of: 100
# connects by name through socks5h to the silent proxy; the same 100 connects
# to the silent listener by a name the library leaves alone ("localhost":
# the BEAM's own cost of a connect, resolver included); the node asleep as
# long (the machine's own noise at that moment).  Medians of the rounds:
# {Gap, GapMax, Connected, SlowestCall, RoundMs, PlainGap, IdleGap,
# NoiseMax}, NoiseMax the longest gap of all the plain and asleep windows.
rounds='Gap = '"$gap_during"', Conn = '"$connects"',
	Silent = fun(I) -> "silent-" ++ integer_to_list(I) end,
	Local = fun(_) -> "localhost" end,
	_ = Gap(Conn(Silent, 4369, 0, 3)), _ = Gap(Conn(Local, 1066, 0, 3)),
	Rs = [begin {Gp, {Ok, Slow, Ms}} = Gap(Conn(Silent, 4369, R * 100, 100)),
	    {Pl, _} = Gap(Conn(Local, 1066, 0, 100)),
	    {Idle, _} = Gap(fun() -> timer:sleep(max(Ms, 20)) end),
	    {Gp, Ok, Slow, Ms, Pl, Idle} end || R <- lists:seq(1, 5)],
	Med = fun(L) -> lists:nth(3, lists:sort(L)) end,
	{Med([element(1, X) || X <- Rs]), lists:max([element(1, X) || X <- Rs]),
	 lists:sum([element(2, X) || X <- Rs]), Med([element(3, X) || X <- Rs]),
	 Med([element(4, X) || X <- Rs]), Med([element(5, X) || X <- Rs]),
	 Med([element(6, X) || X <- Rs]),
	 lists:max([max(element(5, X), element(6, X)) || X <- Rs])}'
CL_HOSTS='silent-*=socks5h://127.0.0.1:1066?helper=9371' \
    cl_eval 1 gap "$rounds" +S 1
read -r gap gapmax ok slowest total plain idle noise < <(tr -d '{}' <<<"$E2E_RESULT" | tr , ' ')
[[ $gap =~ ^[0-9]+$ && $idle =~ ^[0-9]+$ && $noise =~ ^[0-9]+$ ]] ||
    e2e_fail "no gap measured: $E2E_RESULT"
e2e_assert_eq 500 "$ok" "500 connects to the silent proxy return at once"
# No stall: within 100 ms of what the same node shows in the same rounds
# with no library path or asleep (on the shared machine under load the OS
# alone preempts it for 100 ms and more); a connect that waits for the
# proxy stalls every round for as long as it waits.
e2e_assert_le "$gap" $(( plain > idle ? plain + 100000 : idle + 100000 )) \
    "no scheduler stall (longest gap, median of 5 rounds: $gap us; plain $plain us, asleep $idle us, +100 ms allowed)"
e2e_assert_le "$gapmax" $(( noise + 100000 )) \
    "no scheduler stall in any round (the worst: $gapmax us; the worst plain or asleep window: $noise us, +100 ms allowed)"
e2e_log "figure: socks5h, 5 rounds of 100 connects to a silent proxy, +S 1: longest gap per round median $gap us (max $gapmax), slowest connect call median $slowest us, a round in $total ms (median)"
e2e_log "figure: the same rounds, 100 plain connects to the silent listener by 'localhost' (no library path): longest gap median $plain us; the node asleep: $idle us; the worst of those 10 windows: $noise us"
CL_HOSTS='silent-*=socks5://127.0.0.1:1066' CL_TIMEOUT_MS=3000 \
    cl_eval 1 gapold "Gap = $gap_during, Conn = $connects,
	Gap(Conn(fun(I) -> \"silent-\" ++ integer_to_list(I) end, 4369, 0, 3))" +S 1
read -r old_gap old_ok old_slowest old_total < <(tr -d '{}' <<<"$E2E_RESULT" | tr , ' ')
[[ $old_gap =~ ^[0-9]+$ ]] || e2e_fail "no gap measured: $E2E_RESULT"
e2e_assert_le 2500000 "$old_gap" "socks5:// (in connect) froze the scheduler (${old_gap} us)"
e2e_log "figure: socks5:// in connect, 3 connects to the silent proxy, +S 1: longest gap $old_gap us, $old_ok of 3 connected, slowest $old_slowest us, in $old_total ms"

# --- rpc latency: through the overlay vs a direct path ---------------------
rpc_time='fun(Node) -> true = net_kernel:connect_node(Node),
	    _ = [rpc:call(Node, erlang, node, []) || _ <- lists:seq(1, 20)],
	    Ts = [begin T0 = erlang:monotonic_time(microsecond),
	    Node = rpc:call(Node, erlang, node, []),
	    erlang:monotonic_time(microsecond) - T0 end || _ <- lists:seq(1, 200)],
	    lists:nth(100, lists:sort(Ts)) end'
cl_eval 1 rpc "($rpc_time)('app@web-2')"
overlay=$E2E_RESULT
CL_HOSTS="web-2=socks5://127.0.0.1:$CL_PROXY_PORT?target=10.77.2.2" \
    cl_eval 1 rpcnum "($rpc_time)('app@web-2')"
numeric=$E2E_RESULT
cl_eval 1 direct@10.77.1.2 "($rpc_time)('direct@10.77.2.2')"
direct=$E2E_RESULT
[[ $overlay =~ ^[0-9]+$ && $numeric =~ ^[0-9]+$ && $direct =~ ^[0-9]+$ ]] ||
    e2e_fail "no rpc times: '$overlay' '$numeric' '$direct'"
e2e_log "figure: small rpc:call, median of 200: socks5h (helper + microsocks) $overlay us, socks5:// numeric (microsocks alone) $numeric us, direct veth path $direct us"

# The same through a microsocks with TCP_NODELAY on its sockets.
cc -shared -fPIC -O2 -Wall -Wextra -o "$E2E_TMP/nodelay.so" \
    "$E2E_DIR/nodelay.c" -ldl >"$E2E_TMP/cc-nodelay.log" 2>&1 ||
    e2e_fail "cc nodelay.c failed" "$(cat "$E2E_TMP/cc-nodelay.log")"
e2e_dyno_spawn web-1 socks-nodelay env LD_PRELOAD="$E2E_TMP/nodelay.so" \
    microsocks -i 127.0.0.1 -p 1056
e2e_wait_port -n web-1 1056
cl_helper 1 'web-*=socks5h://127.0.0.1:1056?helper=9372' helper-nodelay
CL_HOSTS='web-*=socks5h://127.0.0.1:1056?helper=9372' \
    cl_eval 1 rpcnd "($rpc_time)('app@web-2')"
overlay_nd=$E2E_RESULT
CL_HOSTS='web-2=socks5://127.0.0.1:1056?target=10.77.2.2' \
    cl_eval 1 rpcndnum "($rpc_time)('app@web-2')"
numeric_nd=$E2E_RESULT
[[ $overlay_nd =~ ^[0-9]+$ && $numeric_nd =~ ^[0-9]+$ ]] ||
    e2e_fail "no rpc times: '$overlay_nd' '$numeric_nd'"
e2e_assert_le "$overlay_nd" 20000 "no 40 ms wait through the helper once the proxy forwards at once"
e2e_log "figure: small rpc:call, median of 200, microsocks with TCP_NODELAY: socks5h $overlay_nd us, socks5:// numeric $numeric_nd us"
e2e_pass
