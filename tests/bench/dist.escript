#!/usr/bin/env escript
%%! -hidden
%%
%% dist.escript: distribution end to end, from a local node to a remote one.
%%
%%   escript dist.escript SELF TARGET COOKIE MIB BIG_ROUNDS SMALL_CALLS SMALL_MS
%%
%% Starts distribution as SELF (a short name, hidden), times its first
%% rpc:call to TARGET (the connection's setup: the epmd lookup, the
%% connect, the handshake), then:
%%   - BIG_ROUNDS round trips of one MIB MiB binary: rpc:call(TARGET, erlang,
%%     element, [1, {Bin}]) sends it and gets it back; each is checked;
%%   - SMALL_CALLS sequential rpc:call(TARGET, erlang, node, []), or as many
%%     as fit in SMALL_MS milliseconds (a slow path must not take the whole
%%     benchmark's time).
%% The connection is set up (and warmed with one round trip) before any
%% timing.  Prints one line, big_ms=T1,T2,... small_us=MICROSECONDS_PER_CALL
%% small_calls=CALLS_MADE first_ms=FIRST_CALL, and exits 0, or prints why
%% and exits 1.
-mode(compile).

main([Self, Target, Cookie, MiB, BigRounds, Small, SmallMs]) ->
    try
        run(list_to_atom(Self), list_to_atom(Target), list_to_atom(Cookie),
            list_to_integer(MiB), list_to_integer(BigRounds),
            list_to_integer(Small), list_to_integer(SmallMs))
    catch C:E:St ->
        io:format(standard_error, "dist.escript: ~p:~p~n~p~n", [C, E, St]),
        halt(1)
    end;
main(_) ->
    io:format(standard_error, "usage: dist.escript SELF TARGET COOKIE MIB "
              "BIG_ROUNDS SMALL_CALLS SMALL_MS~n", []),
    halt(2).

run(Self, Target, Cookie, MiB, BigRounds, Small, SmallMs) ->
    {ok, _} = net_kernel:start([Self, shortnames]),
    true = erlang:set_cookie(node(), Cookie),
    F0 = erlang:monotonic_time(microsecond),
    Target = rpc:call(Target, erlang, node, []),
    FirstMs = (erlang:monotonic_time(microsecond) - F0) / 1000,
    %% 256 distinct bytes, repeated: 64 MiB of them is 262144 copies.
    Bin = binary:copy(list_to_binary(lists:seq(0, 255)), MiB * 4096),
    _ = round_trip(Target, Bin),
    Big = [round_trip(Target, Bin) || _ <- lists:seq(1, BigRounds)],
    Target = rpc:call(Target, erlang, node, []),
    T0 = erlang:monotonic_time(microsecond),
    Calls = small(Target, Small, T0 + SmallMs * 1000, 0),
    SmallUs = erlang:monotonic_time(microsecond) - T0,
    io:format("big_ms=~s small_us=~.3f small_calls=~b first_ms=~.3f~n",
              [lists:join(",", [io_lib:format("~.3f", [Ms]) || Ms <- Big]),
               SmallUs / Calls, Calls, FirstMs]),
    halt(0).

%% One round trip of Bin; its duration in milliseconds.
round_trip(Target, Bin) ->
    T0 = erlang:monotonic_time(microsecond),
    Back = rpc:call(Target, erlang, element, [1, {Bin}]),
    T1 = erlang:monotonic_time(microsecond),
    Bin = Back,
    (T1 - T0) / 1000.

%% Up to N calls before the deadline; how many were made.
small(_Target, 0, _Deadline, Done) ->
    Done;
small(Target, N, Deadline, Done) ->
    Target = rpc:call(Target, erlang, node, []),
    case erlang:monotonic_time(microsecond) < Deadline of
        true -> small(Target, N - 1, Deadline, Done + 1);
        false -> Done + 1
    end.
