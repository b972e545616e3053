%% erlfwd_epmd: the library-free client mode's epmd module.
%%
%% OTP lets a node replace its epmd client (`-epmd_module Mod`, OTP 21+):
%% address_please/3 may answer with an address and a port, and the
%% distribution then connects there directly.  erlfwd starts the local node
%% with this module and nothing else of erlfwd in it (no LD_PRELOAD, no
%% library): for a host that is remote, the node's questions go to the
%% session's agent (tools/erlfwd/agent.c) on 127.0.0.1:
%%
%%   - "which port has NAME on HOST": a version 1 EPMD stream through the
%%     agent's carrier to HOST's own epmd, and epmd's PORT_PLEASE2_REQ;
%%   - "a local port for the node on port N": the agent's LISTEN request
%%     (tools/erlfwd/agentq.h); the agent listens on a 127.0.0.1 port of
%%     its own and carries each connection there as a DIST(N) stream;
%%   - "the names on HOST": epmd's NAMES_REQ through the same EPMD stream.
%%
%% Every other host (this machine's own nodes) is erl_epmd's, as without
%% the module.  Every failure is one line on standard_error and an error
%% to the distribution, which reports pang: never a crash of the node.
%%
%% The local node gets, in ERL_AFLAGS or on its command line:
%%   -epmd_module erlfwd_epmd -pa DIR
%%   -erlfwd_epmd PATTERN=PORT ...   remote host patterns and their agent
%%   -erlfwd_epmd_timeout MS          bound on each question (10000)
%% A PATTERN is a host name, an IPv4 literal or a glob as erlfwd's --host
%% takes it: '*' and '?' within one DNS label, "*" alone for every host,
%% case ignored; the first that matches is taken.
-module(erlfwd_epmd).

-export([start_link/0, register_node/2, register_node/3,
         listen_port_please/2, port_please/2, port_please/3,
         address_please/3, names/0, names/1]).
%% For the tests (tests/e2e) and for the curious: which agent has HOST.
-export([agent_for/1, glob/2]).

-define(TIMEOUT, 10000).
-define(EPMD_PORT_PLEASE2_REQ, 122).
-define(EPMD_PORT2_RESP, 119).
-define(EPMD_NAMES_REQ, 110).
-define(FRAME_TAG_EPMD, 1).
-define(AGENTQ_LISTEN, 1).
-define(ANSWER_MAX, 65536).

%% ---- what OTP calls ------------------------------------------------------

%% The local node's own registration stays erl_epmd's, with its server.
start_link() ->
    erl_epmd:start_link().

register_node(Name, Port) ->
    register_node(Name, Port, inet_tcp).

%% No local epmd (a laptop that never started one, -start_epmd false):
%% the node still runs, found by no other local node, as a remote shell
%% needs.
register_node(Name, Port, Driver) ->
    case catch erl_epmd:register_node(Name, Port, Driver) of
        {ok, Creation} ->
            {ok, Creation};
        Other ->
            debug("no local epmd (~0p): ~s is not registered on this "
                  "machine", [Other, Name]),
            {ok, creation()}
    end.

listen_port_please(Name, Host) ->
    erl_epmd:listen_port_please(Name, Host).

port_please(Name, Host) ->
    port_please(Name, Host, infinity).

port_please(Name, Host, Timeout) ->
    case agent_for(Host) of
        none ->
            erl_epmd:port_please(Name, Host, Timeout);
        {ok, Agent} ->
            case remote(Agent, to_list(Name), to_list(Host)) of
                {ok, _Ip, Port, Version} -> {port, Port, Version};
                {error, _} -> noport
            end
    end.

address_please(Name, Host, Family) ->
    case agent_for(Host) of
        none ->
            erl_epmd:address_please(Name, Host, Family);
        {ok, _} when Family =:= inet6 ->
            %% The agent listens on 127.0.0.1 only.
            say("~s: the library-free mode carries IPv4 distribution only "
                "(drop -proto_dist inet6_tcp, or use the preload)",
                [to_list(Host)]),
            {error, family};
        {ok, Agent} ->
            remote(Agent, to_list(Name), to_list(Host))
    end.

names() ->
    {ok, Host} = inet:gethostname(),
    names(Host).

names(Host) ->
    case agent_for(Host) of
        none ->
            erl_epmd:names(Host);
        {ok, Agent} ->
            case epmd_ask(Agent, <<?EPMD_NAMES_REQ>>) of
                {ok, <<"erlfwd-server: ", Why/binary>>} ->
                    say_server(to_list(Host), Why),
                    {error, address};
                {ok, <<_EpmdPort:32, Text/binary>>} ->
                    {ok, parse_names(Text)};
                {ok, _} ->
                    say("the epmd on ~s gave a short answer", [to_list(Host)]),
                    {error, address};
                {error, Why} ->
                    say_agent(Agent, Why),
                    {error, address}
            end
    end.

%% ---- a remote host's node ------------------------------------------------

%% {ok, {127,0,0,1}, LocalPort, Version} for node Name on Host, through
%% the agent; {error, Reason} with one line said.
remote(Agent, Name, Host) ->
    Req = <<?EPMD_PORT_PLEASE2_REQ, (list_to_binary(Name))/binary>>,
    case epmd_ask(Agent, Req) of
        {ok, <<?EPMD_PORT2_RESP, 0, Port:16, _Type, _Proto, High:16,
               _Low:16, _/binary>>} ->
            case agent_listen(Agent, Port) of
                {ok, Local} ->
                    {ok, {127, 0, 0, 1}, Local, High};
                {error, Why} ->
                    say_agent(Agent, Why),
                    {error, Why}
            end;
        {ok, <<?EPMD_PORT2_RESP, Err, _/binary>>} when Err =/= 0 ->
            say("no node ~s on ~s", [Name, Host]),
            {error, noport};
        {ok, <<>>} ->
            say("no answer from the epmd on ~s (no node runs there?)",
                [Host]),
            {error, noport};
        {ok, <<"erlfwd-server: ", Why/binary>>} ->
            say_server(Host, Why),
            {error, noport};
        {ok, _} ->
            say("the epmd on ~s gave an answer that is not epmd's", [Host]),
            {error, noport};
        {error, Why} ->
            say_agent(Agent, Why),
            {error, Why}
    end.

%% One request to the remote host's epmd through the agent: the version 1
%% preamble tagged EPMD, then the request; the answer is all epmd sends
%% before it closes.
epmd_ask({Ip, AgentPort}, Req) ->
    Preamble = <<"EFWD", 1, ?FRAME_TAG_EPMD, (local_epmd_port()):16, 0:16>>,
    with_socket(Ip, AgentPort,
                fun(S) ->
                        ok = gen_tcp:send(S, [Preamble,
                                              <<(byte_size(Req)):16>>, Req]),
                        read_all(S, <<>>)
                end).

%% The agent's LISTEN request: its 127.0.0.1 port for DIST(Port).
agent_listen({Ip, AgentPort}, Port) ->
    with_socket(Ip, AgentPort,
                fun(S) ->
                        ok = gen_tcp:send(S, <<"EFWA", ?AGENTQ_LISTEN, Port:16>>),
                        case gen_tcp:recv(S, 7, timeout()) of
                            {ok, <<"EFWA", 0, Local:16>>} when Local > 0 ->
                                {ok, Local};
                            {ok, <<"EFWA", _, _:16>>} ->
                                {error, refused};
                            {ok, _} ->
                                {error, not_agent};
                            {error, Why} ->
                                {error, Why}
                        end
                end).

with_socket(Ip, Port, Fun) ->
    Opts = [binary, {packet, 0}, {active, false}, {nodelay, true}],
    case gen_tcp:connect(Ip, Port, Opts, timeout()) of
        {ok, S} ->
            try
                Fun(S)
            catch
                _:Why -> {error, Why}
            after
                gen_tcp:close(S)
            end;
        {error, Why} ->
            {error, {agent, Why}}
    end.

read_all(S, Acc) when byte_size(Acc) > ?ANSWER_MAX ->
    gen_tcp:close(S),
    {ok, Acc};
read_all(S, Acc) ->
    case gen_tcp:recv(S, 0, timeout()) of
        {ok, B} -> read_all(S, <<Acc/binary, B/binary>>);
        {error, closed} -> {ok, Acc};
        {error, Why} -> {error, Why}
    end.

%% "name N at port P" lines, as erl_epmd:names/1 gives them.
parse_names(Text) ->
    Lines = string:split(binary_to_list(Text), "\n", all),
    [{N, list_to_integer(P)} ||
        L <- Lines,
        {match, [N, P]} <- [re:run(L, "^name (\\S+) at port ([0-9]+)$",
                                   [{capture, all_but_first, list}])]].

%% ---- which hosts are remote ----------------------------------------------

%% {ok, {Ip, Port}} of the agent for Host, or none when Host is not remote.
%% As the preload has it (config_match), a glob never matches localhost or
%% this machine's own name: the local machine is never remote by accident.
agent_for(Host) ->
    H = string:lowercase(to_list(Host)),
    first(H, entries()).

first(_, []) -> none;
first(H, [{Pattern, Agent} | T]) ->
    case glob(Pattern, H) andalso not (is_glob(Pattern) andalso local(H)) of
        true -> {ok, Agent};
        false -> first(H, T)
    end.

is_glob(Pattern) ->
    lists:any(fun(C) -> C =:= $* orelse C =:= $? end, Pattern).

local("localhost") -> true;
local(H) ->
    case inet:gethostname() of
        {ok, Self} ->
            S = string:lowercase(Self),
            H =:= S orelse lists:prefix(S ++ ".", H);
        _ ->
            false
    end.

entries() ->
    case init:get_argument(erlfwd_epmd) of
        {ok, Lists} ->
            [E || L <- Lists, A <- L, {ok, E} <- [entry(A)]];
        error ->
            []
    end.

%% "PATTERN=PORT" or "PATTERN=IP:PORT"; anything else is ignored (said
%% once in debug mode).
entry(Arg) ->
    case string:split(Arg, "=", trailing) of
        [Pattern, Where] when Pattern =/= "" ->
            case agent_addr(Where) of
                {ok, Addr} -> {ok, {string:lowercase(Pattern), Addr}};
                error -> debug("ignored -erlfwd_epmd ~s", [Arg]), error
            end;
        _ ->
            debug("ignored -erlfwd_epmd ~s", [Arg]),
            error
    end.

agent_addr(Where) ->
    {IpText, PortText} =
        case string:split(Where, ":", trailing) of
            [P] -> {"127.0.0.1", P};
            [I, P] -> {I, P}
        end,
    case {inet:parse_ipv4strict_address(IpText),
          catch list_to_integer(PortText)} of
        {{ok, Ip}, Port} when is_integer(Port), Port > 0, Port < 65536 ->
            {ok, {Ip, Port}};
        _ ->
            error
    end.

%% glob(Pattern, Name): erlfwd's host patterns.  '*' and '?' stay within
%% one DNS label; "*" alone matches every name.
glob("*", _) -> true;
glob(P, N) -> match(P, N).

match([], []) -> true;
match([$* | P], N) -> star(P, N);
match([$? | P], [C | N]) when C =/= $. -> match(P, N);
match([C | P], [C | N]) -> match(P, N);
match(_, _) -> false.

star(P, N) ->
    case match(P, N) of
        true -> true;
        false ->
            case N of
                [C | T] when C =/= $. -> star(P, T);
                _ -> false
            end
    end.

%% ---- small things --------------------------------------------------------

to_list(A) when is_atom(A) -> atom_to_list(A);
to_list(T) when is_tuple(T) -> inet:ntoa(T);
to_list(B) when is_binary(B) -> binary_to_list(B);
to_list(L) when is_list(L) -> L.

timeout() ->
    case init:get_argument(erlfwd_epmd_timeout) of
        {ok, [[T | _] | _]} ->
            case catch list_to_integer(T) of
                N when is_integer(N), N > 0 -> N;
                _ -> ?TIMEOUT
            end;
        _ ->
            ?TIMEOUT
    end.

local_epmd_port() ->
    case catch list_to_integer(os:getenv("ERL_EPMD_PORT", "4369")) of
        N when is_integer(N), N > 0, N < 65536 -> N;
        _ -> 4369
    end.

%% OTP 23+ creations are 32-bit; 0-3 are the old ones, left alone.
creation() ->
    3 + rand:uniform(16#fffffff0).

say_agent({Ip, Port}, {agent, Why}) ->
    say("the agent is gone (~s:~b: ~s): is `erlfwd` still running?",
        [inet:ntoa(Ip), Port, inet:format_error(Why)]);
say_agent({Ip, Port}, not_agent) ->
    say("what answers ~s:~b is not erlfwd's agent", [inet:ntoa(Ip), Port]);
say_agent(_, refused) ->
    say("the agent refused to listen for the node (out of ports?)", []);
say_agent(_, timeout) ->
    say("no answer through the tunnel in ~b ms", [timeout()]);
say_agent(_, closed) ->
    say("the tunnel closed the connection (is it down?)", []);
say_agent(_, Why) ->
    say("through the agent: ~0p", [Why]).

%% The server's own refusal, "erlfwd-server: OUTCOME: REASON\n": its
%% words, printable only.
say_server(Host, Why) ->
    Line = [C || C <- binary_to_list(hd(binary:split(Why, <<"\n">>))),
                 C >= 32, C < 127],
    say("the erlfwd-server on ~s refused: ~s", [Host, lists:sublist(Line, 200)]).

say(Fmt, Args) ->
    catch io:format(standard_error, "erlfwd: " ++ Fmt ++ "~n", Args),
    ok.

debug(Fmt, Args) ->
    case os:getenv("ERLFWD_DEBUG") of
        "1" -> say(Fmt, Args);
        _ -> ok
    end.
