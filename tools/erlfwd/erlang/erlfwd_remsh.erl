%% erlfwd_remsh: the guarded remote shell of `erlfwd remsh`.
%%
%% In a remote shell the evaluator runs on the remote node and the group
%% leader (the process that reads the terminal) runs on the local one.  The
%% guard lives only on the local node, between the two: it is the remote
%% shell's group leader.  Output passes straight through to the real group
%% leader; every expression the user typed is read by the guard before the
%% remote evaluator gets it, and one that would stop the remote node
%% (q(), halt(), init:stop(), System.halt(), ...) is answered here with one
%% line and never sent.  End of input is never sent either: OTP's shell and
%% IEx answer it by halting the node they run on, which is the remote one.
%% Nothing is loaded on the remote node, so nothing is left there.
%%
%% The local node starts it (tools/erlfwd/cmd_remsh.c):
%%   OTP 26 and later:  erl -noshell -s erlfwd_remsh main -erlfwd_remsh ARGS
%%   OTP 25:            erl -noshell -user erlfwd_remsh   -erlfwd_remsh ARGS
%% with ARGS = NODE erl|iex tty|notty.  When the node drops (a carrier
%% lost), the guard waits for it and starts a new remote shell there by
%% itself.
-module(erlfwd_remsh).

-export([start/0, main/0, shell/0, vet_erl/1, vet_iex/1]).

-record(st, {
    node,              % the remote node
    kind,              % erl | iex
    group,             % the real group leader (local)
    shell,             % the remote shell's pid, or undefined
    started = 0,       % when it started (monotonic ms)
    out,               % {Ref, Req}: our input request to the group
    out_req,           % the Req of the last answered one
    waiter,            % {From, ReplyAs, Req}: the remote reader, or undefined
    queue = [],        % further remote input requests, oldest first
    buf = <<>>,        % IEx: the lines of an unfinished expression
    stash,             % {Req, Reply}: input that found no reader, or undefined
    connector          % the pid trying to reach the node again, or undefined
}).

-define(LEAVE, "leave with ^G then q, or Ctrl+C twice").

%% OTP 25: `-user erlfwd_remsh`.  The terminal driver with our shell, as
%% IEx.CLI does for iex.
start() ->
    try open_port({spawn, "tty_sl -c -e"}, [eof]) of
        Port ->
            port_close(Port),
            user_drv:start(['tty_sl -c -e', {?MODULE, shell, []}])
    catch
        _:_ ->
            %% No terminal (stdin a pipe or a file): the line-mode io
            %% server, and the guard on it.
            User = user:start(),
            {Node, Kind, _} = args(),
            spawn(fun() -> init(User, Node, Kind) end),
            User
    end.

%% OTP 26 and later: `-noshell -s erlfwd_remsh main`.  Without a terminal
%% the line-mode io server that -noshell started serves (OTP 27's
%% interactive shell never answers on a pipe).
main() ->
    case args() of
        {Node, Kind, notty} ->
            User = whereis(user),
            _ = spawn(fun() -> init(User, Node, Kind) end),
            ok;
        _ ->
            case shell:start_interactive({?MODULE, shell, []}) of
                ok -> ok;
                {error, Why} -> die("cannot start the shell: ~p", [Why])
            end
    end.

%% Called by the group process, whose group leader is itself for the
%% duration: the guard's pid is what the group takes for its shell.
shell() ->
    Group = self(),
    {Node, Kind, _} = args(),
    spawn(fun() -> init(Group, Node, Kind) end).

%% -erlfwd_remsh NODE erl|iex tty|notty (stdin a terminal or not).
args() ->
    case init:get_argument(erlfwd_remsh) of
        {ok, [[Node, Kind, Tty | _]]} when (Kind =:= "erl" orelse
                                           Kind =:= "iex") andalso
                                          (Tty =:= "tty" orelse
                                           Tty =:= "notty") ->
            {list_to_atom(Node), list_to_atom(Kind), list_to_atom(Tty)};
        _ ->
            die("usage: -erlfwd_remsh NODE erl|iex tty|notty", [])
    end.

init(Group, Node, Kind) ->
    process_flag(trap_exit, true),
    link(Group),
    %% Whatever the remote side spawns from here has us as group leader.
    group_leader(self(), self()),
    St = #st{node = Node, kind = Kind, group = Group},
    case net_kernel:connect_node(Node) of
        true -> ok;
        _ -> die("cannot reach ~s", [Node])
    end,
    case rpc:call(Node, net_kernel, get_net_ticktime, []) of
        T when is_integer(T) -> _ = net_kernel:set_net_ticktime(T);
        _ -> ok
    end,
    line(St, "remote shell on ~s: ~s (~s would stop ~s and are "
         "refused here)", [Node, ?LEAVE, stoppers(Kind), Node]),
    loop(start_remote(St)).

stoppers(erl) -> "q(), halt() and init:stop()";
stoppers(iex) -> "System.halt(), System.stop() and :init.stop()".

%% A remote shell on the node, its group leader us.
start_remote(#st{node = Node, kind = erl} = St) ->
    _ = io:setopts(St#st.group, [{expand_fun, fun(B) ->
            rpc:call(Node, edlin_expand, expand, [B]) end}]),
    remote_shell(St, rpc:call(Node, shell, start, []));
start_remote(#st{node = Node, kind = iex} = St) ->
    %% What IEx.start/2 does there, with calls every Elixir release has.
    _ = rpc:call(Node, application, ensure_all_started, [iex]),
    Exp = case rpc:call(Node, erlang, function_exported,
                        ['Elixir.IEx.Autocomplete', expand, 1]) of
              true -> [{expand_fun, fun 'Elixir.IEx.Autocomplete':expand/1}];
              _ -> []
          end,
    _ = io:setopts(St#st.group, Exp ++ [binary, {encoding, unicode}]),
    remote_shell(St, spawn(Node, 'Elixir.IEx.Server', run_from_shell,
                           [[], {erlang, node, []}])).

remote_shell(St, Pid) when is_pid(Pid) ->
    link(Pid),
    St#st{shell = Pid, started = erlang:monotonic_time(millisecond)};
remote_shell(St, Err) ->
    line(St, "cannot start a shell on ~s: ~p", [St#st.node, Err]),
    gone(St).

loop(St) ->
    receive
        {io_request, From, ReplyAs, Req} when is_pid(From) ->
            loop(request(St, From, ReplyAs, Req));
        {io_reply, Ref, Reply} when element(1, St#st.out) =:= Ref ->
            loop(reply(St#st{out = undefined,
                             out_req = element(2, St#st.out)}, Reply));
        {io_reply, _Stale, _} ->
            loop(St);
        {'EXIT', _From, interrupt} ->
            %% ^G i: the group interrupts its shell, which is us.
            _ = [exit(St#st.shell, interrupt) || is_pid(St#st.shell)],
            loop(St);
        {'EXIT', Group, Why} when Group =:= St#st.group ->
            exit(Why);
        {'EXIT', Shell, Why} when Shell =:= St#st.shell ->
            loop(shell_ended(St#st{shell = undefined}, Why));
        {'EXIT', C, _} when C =:= St#st.connector ->
            loop(St#st{connector = undefined});
        {connected, C} when C =:= St#st.connector ->
            line(St, "~s is back: a new remote shell (the old one's "
                 "variables are gone)", [St#st.node]),
            loop(start_remote(St#st{connector = undefined}));
        _ ->
            loop(St)
    end.

%% The remote shell ended.  The node gone: wait for it and start again.
%% Otherwise (exit(), a crash) a new one at once, as the group would,
%% unless it ended as soon as it started: that one would too.
shell_ended(St, Why) ->
    St1 = St#st{waiter = undefined, queue = [], buf = <<>>},
    Lived = erlang:monotonic_time(millisecond) - St#st.started,
    case lists:member(St#st.node, nodes(hidden) ++ nodes()) of
        true when Lived < 1000 ->
            line(St, "the remote shell on ~s ended at once (~P)",
                 [St#st.node, Why, 8]),
            gone(St);
        true ->
            start_remote(St1);
        false ->
            line(St, "lost ~s (the connection dropped): the shell comes "
                 "back by itself when the node answers again; ~s",
                 [St#st.node, ?LEAVE]),
            Self = self(),
            Node = St#st.node,
            C = spawn_link(fun() -> reconnect(Self, Node) end),
            St1#st{connector = C}
    end.

reconnect(Parent, Node) ->
    case net_kernel:connect_node(Node) of
        true ->
            Parent ! {connected, self()};
        _ ->
            receive after 1000 -> ok end,
            reconnect(Parent, Node)
    end.

%% An input request is ours to answer; anything else goes to the group,
%% which answers the remote process itself.
request(St, From, ReplyAs, Req) ->
    case input(Req) of
        false ->
            St#st.group ! {io_request, From, ReplyAs, Req},
            St;
        true when St#st.waiter =:= undefined; St#st.shell =:= undefined ->
            ask(St#st{waiter = {From, ReplyAs, Req}});
        true ->
            St#st{queue = St#st.queue ++ [{From, ReplyAs, Req}]}
    end.

input(Req) when is_tuple(Req) ->
    lists:member(element(1, Req), [get_until, get_line, get_chars,
                                   get_password]);
input(_) ->
    false.

%% Ask the group for the waiter's input, unless a question is out already
%% (a reader of a shell that is gone asked it: the answer is the new one's),
%% or a line typed for that reader waits: it answers the new one when it
%% asks the same kind of question.
ask(#st{stash = {Old, Reply}, waiter = {_, _, Req}} = St) ->
    case same_kind(Old, Req) of
        true -> reply(St#st{stash = undefined, out_req = Req}, Reply);
        false ->
            line(St, "not sent: what was typed while ~s was away",
                 [St#st.node]),
            ask(St#st{stash = undefined})
    end;
ask(#st{out = undefined, waiter = {_, _, Req}} = St) ->
    Ref = make_ref(),
    St#st.group ! {io_request, self(), Ref, Req},
    St#st{out = {Ref, Req}};
ask(St) ->
    St.

reply(St, Reply) when Reply =:= eof; element(1, Reply) =:= eof ->
    %% Input closed (a closed terminal, stdin at its end).  The remote
    %% shell would halt its node on it: leave instead, the node running.
    line(St, "input closed: leaving ~s running", [St#st.node]),
    halt_local(0);
reply(#st{waiter = undefined, out_req = Req} = St, Reply) ->
    %% Typed at a prompt whose shell is gone (the connection dropped): kept
    %% for the next shell's first question.
    St#st{stash = {Req, Reply}};
reply(#st{waiter = {From, ReplyAs, Req}} = St, Reply) ->
    case vet(St, Req, Reply) of
        {pass, Buf} ->
            From ! {io_reply, ReplyAs, Reply},
            next(St#st{waiter = undefined, buf = Buf});
        {stop, What, Pending} ->
            line(St, "~s would stop ~s, the node you are visiting: not "
                 "sent. To leave the shell: ^G then q, or Ctrl+C twice; "
                 "to stop the node on purpose: erlfwd remsh --allow-stop",
                 [What, St#st.node]),
            case Pending of
                %% Lines of this expression went already: IEx drops them.
                true ->
                    From ! {io_reply, ReplyAs, <<"#iex:break\n">>},
                    next(St#st{waiter = undefined, buf = <<>>});
                false ->
                    ask(St#st{buf = <<>>})
            end
    end.

same_kind({get_until, _, _, M, F, _}, {get_until, _, _, M, F, _}) -> true;
same_kind(A, B) when is_tuple(A), is_tuple(B) ->
    element(1, A) =:= element(1, B) andalso element(1, A) =/= get_until;
same_kind(_, _) -> false.

next(#st{queue = [W | Q]} = St) -> ask(St#st{waiter = W, queue = Q});
next(St) -> St.

vet(#st{kind = erl}, {get_until, _, _, erl_scan, _, _}, {ok, Toks, _}) ->
    case vet_erl(Toks) of
        ok -> {pass, <<>>};
        {stop, What} -> {stop, What, false}
    end;
vet(#st{kind = iex}, _Req, {ok, Parsed, _}) when is_function(Parsed) ->
    %% IEx 1.18 and later parse in the group, here: what comes back is a
    %% closure over the expression's quoted form.
    case walk(element(2, erlang:fun_info(Parsed, env))) of
        ok -> {pass, <<>>};
        What -> {stop, What, false}
    end;
vet(#st{kind = iex, buf = Buf}, _Req, Line)
  when is_list(Line); is_binary(Line) ->
    %% A line of text: IEx 1.14-1.17, and any IEx without a terminal (the
    %% line-mode io server hands __parse__'s question the raw line).
    case unicode:characters_to_binary(Line) of
        Bin when is_binary(Bin) ->
            Text = <<Buf/binary, Bin/binary>>,
            case vet_iex(Text) of
                ok -> {pass, <<>>};
                more -> {pass, Text};
                {stop, What} -> {stop, What, Buf =/= <<>>}
            end;
        _ ->
            {pass, <<>>}
    end;
vet(_St, _Req, _Reply) ->
    {pass, <<>>}.

%% Erlang tokens: a call that stops the node, as the user would type it.
%% Returns ok or {stop, "init:stop()"}.
vet_erl(Toks) ->
    vet_erl(Toks, none).

vet_erl([{atom, _, M}, {':', _}, {atom, _, F} | Rest], _Prev) ->
    case stops(M, F) of
        true -> {stop, io_lib:format("~s:~s()", [M, F])};
        false -> vet_erl(Rest, atom)
    end;
vet_erl([{atom, _, F}, {'(', _} | Rest], Prev) when Prev =/= ':' ->
    case lists:member(F, [q, halt]) of
        true -> {stop, io_lib:format("~s()", [F])};
        false -> vet_erl(Rest, '(')
    end;
vet_erl([{'fun', _}, {atom, _, F}, {'/', _} | Rest], _Prev) ->
    case lists:member(F, [q, halt]) of
        true -> {stop, io_lib:format("fun ~s/0", [F])};
        false -> vet_erl(Rest, '/')
    end;
vet_erl([{atom, _, apply}, {'(', _}, {atom, _, M}, {',', _}, {atom, _, F}
         | Rest], _Prev) ->
    case stops(M, F) of
        true -> {stop, io_lib:format("apply(~s, ~s, ...)", [M, F])};
        false -> vet_erl(Rest, atom)
    end;
vet_erl([T | Rest], _Prev) ->
    vet_erl(Rest, element(1, T));
vet_erl([], _Prev) ->
    ok.

stops(init, F) -> lists:member(F, [stop, restart, reboot]);
stops(erlang, halt) -> true;
stops(c, q) -> true;
stops(shell_default, q) -> true;
stops('Elixir.System', F) -> lists:member(F, [halt, stop, restart]);
stops(_, _) -> false.

%% Elixir text: ok, more (an unfinished expression) or {stop, What}.
vet_iex(Text) ->
    try 'Elixir.Code':string_to_quoted(Text) of
        {ok, Ast} ->
            case walk(Ast) of
                ok -> ok;
                What -> {stop, What}
            end;
        %% Unfinished: the error is at the end of the text, as IEx decides.
        {error, {_, _, <<>>}} -> more;
        {error, {_, _, ""}} -> more;
        _ -> ok
    catch
        _:_ -> ok
    end.

walk({{'.', _, [Mod, F]}, _, Args} = Node) when is_list(Args) ->
    case stops(module(Mod), F) of
        true -> io_lib:format("~s.~s()", [show(Mod), F]);
        false -> walk_list(tuple_to_list(Node))
    end;
walk({apply, _, [Mod, F, _]} = Node) when is_atom(F) ->
    case stops(module(Mod), F) of
        true -> io_lib:format("apply(~s, :~s, ...)", [show(Mod), F]);
        false -> walk_list(tuple_to_list(Node))
    end;
walk(T) when is_tuple(T) ->
    walk_list(tuple_to_list(T));
walk(L) when is_list(L) ->
    walk_list(L);
walk(_) ->
    ok.

walk_list([]) -> ok;
walk_list([H | T]) ->
    case walk(H) of
        ok -> walk_list(T);
        What -> What
    end;
walk_list(_Improper) -> ok.

module({'__aliases__', _, ['System']}) -> 'Elixir.System';
module({'__aliases__', _, ['Elixir', 'System']}) -> 'Elixir.System';
module(M) when is_atom(M) -> M;
module(_) -> none.

show({'__aliases__', _, _}) -> "System";
show('Elixir.System') -> "System";
show(M) -> [$: | atom_to_list(M)].

%% One line to the user, from column 0 whatever the terminal's mode.
line(St, Fmt, Args) ->
    io:put_chars(St#st.group, ["erlfwd: ", io_lib:format(Fmt, Args), "\n"]).

gone(St) ->
    line(St, "the session is over", []),
    halt_local(1).

die(Fmt, Args) ->
    io:format(standard_error, "erlfwd: " ++ Fmt ++ "~n", Args),
    halt_local(1).

%% Halts this, the local, node: the remote one is never touched.
halt_local(Status) ->
    receive after 100 -> ok end,
    erlang:halt(Status, [{flush, true}]).
