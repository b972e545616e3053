#!/usr/bin/env escript
%%! -hidden
%%
%% hol.escript: head-of-line blocking, from a local node to two remote ones.
%%
%%   escript hol.escript SELF A B COOKIE MIB BIG_ROUNDS IDLE_MS
%%
%% Starts distribution as SELF (a short name, hidden), pings A and B, then:
%%   - idle: sequential rpc:call(B, erlang, node, []) for IDLE_MS
%%     milliseconds, each timed;
%%   - loaded: the same calls to B, each timed, while another process makes
%%     BIG_ROUNDS round trips of one MIB MiB binary to A (rpc:call(A, erlang,
%%     element, [1, {Bin}]), checked), from the first to the last.
%% Both connections are set up (A's warmed with one round trip) before any
%% timing.  Prints one line, idle_n=N idle_p50_us=.. idle_p99_us=..
%% loaded_n=N loaded_p50_us=.. loaded_p99_us=.. loaded_max_us=..
%% big_ms=T1,T2,..., and exits 0, or prints why and exits 1.
-mode(compile).

main([Self, A, B, Cookie, MiB, BigRounds, IdleMs]) ->
    try
        run(list_to_atom(Self), list_to_atom(A), list_to_atom(B),
            list_to_atom(Cookie), list_to_integer(MiB),
            list_to_integer(BigRounds), list_to_integer(IdleMs))
    catch C:E:St ->
        io:format(standard_error, "hol.escript: ~p:~p~n~p~n", [C, E, St]),
        halt(1)
    end;
main(_) ->
    io:format(standard_error, "usage: hol.escript SELF A B COOKIE MIB "
              "BIG_ROUNDS IDLE_MS~n", []),
    halt(2).

run(Self, A, B, Cookie, MiB, BigRounds, IdleMs) ->
    {ok, _} = net_kernel:start([Self, shortnames]),
    true = erlang:set_cookie(node(), Cookie),
    pong = net_adm:ping(A),
    pong = net_adm:ping(B),
    %% 256 distinct bytes, repeated: 64 MiB of them is 262144 copies.
    Bin = binary:copy(list_to_binary(lists:seq(0, 255)), MiB * 4096),
    _ = round_trip(A, Bin),
    B = rpc:call(B, erlang, node, []),
    Now = erlang:monotonic_time(microsecond),
    Idle = small_until(B, fun() ->
                              erlang:monotonic_time(microsecond) <
                                  Now + IdleMs * 1000
                          end, []),
    Self0 = self(),
    Big = spawn_link(fun() ->
                             Ms = [round_trip(A, Bin)
                                   || _ <- lists:seq(1, BigRounds)],
                             Self0 ! {big_done, self(), Ms}
                     end),
    Loaded = small_until(B, fun() -> not done(Big) end, []),
    Ms = receive {big_done, Big, M} -> M end,
    {IN, IP50, IP99, _} = stats(Idle),
    {LN, LP50, LP99, LMax} = stats(Loaded),
    io:format("idle_n=~b idle_p50_us=~b idle_p99_us=~b loaded_n=~b "
              "loaded_p50_us=~b loaded_p99_us=~b loaded_max_us=~b "
              "big_ms=~s~n",
              [IN, IP50, IP99, LN, LP50, LP99, LMax,
               lists:join(",", [io_lib:format("~.3f", [X]) || X <- Ms])]),
    halt(0).

%% Whether the big transfers have ended (their message is left in the
%% mailbox for the receive above).
done(Big) ->
    receive
        {big_done, Big, _} = Msg -> self() ! Msg, true
    after 0 -> false
    end.

%% One round trip of Bin; its duration in milliseconds.
round_trip(Target, Bin) ->
    T0 = erlang:monotonic_time(microsecond),
    Back = rpc:call(Target, erlang, element, [1, {Bin}]),
    T1 = erlang:monotonic_time(microsecond),
    Bin = Back,
    (T1 - T0) / 1000.

%% Small calls while More() holds (at least one); their durations in
%% microseconds.
small_until(Target, More, Acc) ->
    T0 = erlang:monotonic_time(microsecond),
    Target = rpc:call(Target, erlang, node, []),
    Acc1 = [erlang:monotonic_time(microsecond) - T0 | Acc],
    case More() of
        true -> small_until(Target, More, Acc1);
        false -> Acc1
    end.

%% {count, median, 99th percentile, max} of a list of numbers.
stats(L) ->
    S = lists:sort(L),
    N = length(S),
    {N, lists:nth((N + 1) div 2, S), lists:nth(max(1, (N * 99 + 99) div 100), S),
     lists:last(S)}.
