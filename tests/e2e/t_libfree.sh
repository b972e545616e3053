#!/usr/bin/env bash
# t_libfree: the library-free mode (--no-preload, ERLFWD_PRELOAD=off).  The
# local node gets nothing of erlfwd but flags (OTP's -epmd_module seam, with
# erlfwd_epmd asking the agent): no library in its memory, no LD_PRELOAD or
# DYLD_* or ERLFWD_* variable in its environment, proven from inside it.
# Through the real OpenSSH forwards: rpc and net_adm:names on app@dyno;
# two remote hosts in one session (job@worker on its own route); -name;
# a carrier over --via; the guarded `erlfwd remsh` in erl and in IEx; and
# bad input: a node that is not there, a host that is not remote, another
# uid asking the agent, the agent killed mid-session.  Each is one line at
# most and pang, and the local node lives on.
set -u -o pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=cli.sh
. "$(dirname "$0")/cli.sh"
e2e_init
cli_require
e2e_require_cmd tmux setpriv python3

# IEx's remote shell needs the same Elixir on both sides: with the OTP
# matrix's pairs of releases (make otp-matrix), only where they match.
shells=(erl)
e2e_dyno_start dyno
if [[ ${E2E_OTP_LOCAL:-} == "${E2E_OTP_REMOTE:-}" ]]; then
	shells+=(iex)
	e2e_iex_node_start dyno app@dyno
else
	e2e_node_start dyno app@dyno
fi
e2e_server_start dyno
e2e_tunnel_up dyno
e2e_local_epmd_start
tunnel=127.0.0.1:$E2E_TUNNEL_PORT
pid=${E2E_NODE_PID[app@dyno]}
e2e_dyno_start worker
e2e_node_start worker job@worker
e2e_node_start_long worker long@worker.lan
e2e_server_start worker
e2e_tunnel_up worker
tunnel2=127.0.0.1:${E2E_TUNNEL_PORTS[worker]}
jobpid=${E2E_NODE_PID[job@worker]}
export ERL_EPMD_PORT=$E2E_LOCAL_EPMD

# What the local node says of itself: no library mapped, none of the
# variables the preload needs (the dynamic loader's, ERLFWD_HOSTS and
# ERLFWD_TUNNEL), and the epmd module is ours.
proof='{binary:match(element(2, file:read_file("/proc/self/maps")),
	     <<"liberlfwd">>),
	 [V || V <- os:getenv(), lists:prefix("LD_PRELOAD", V) orelse
	       lists:prefix("DYLD_", V) orelse lists:prefix("ERLFWD_HOSTS", V)
	       orelse lists:prefix("ERLFWD_TUNNEL", V)],
	 net_kernel:epmd_module()}'
want_proof='{nomatch,[],erlfwd_epmd}'
want_proof_re='\{nomatch,\[\],erlfwd_epmd\}'

# node_eval NAMEFLAG NAME EXPR RUN_ARGS...: erlfwd RUN_ARGS run -- erl,
# which prints EXPR's value on one line.
node_eval() {
	local flag=$1 name=$2 expr=$3
	shift 3
	cli_run run "$@" -- erl "$flag" "$name" -setcookie "$E2E_COOKIE" \
	    -hidden -noinput -eval "R = try begin $expr end catch C:E ->
	        {crash, C, E} end, io:format(\"~s~n\", [io_lib:print(R, 1,
	        100000, -1)]), halt()."
}

node_eval -sname "t$$" "{rpc:call(app@dyno, os, getpid, []),
	net_adm:names(dyno), $proof}" --no-preload --tunnel "$tunnel"
e2e_assert_eq 0 "$CLI_RC" "run --no-preload -- erl exits 0"
e2e_assert_match "$CLI_OUT" \
    "^\\{\"$pid\",\\{ok,\\[\\{\"app\",[0-9]+\\}\\]\\},$want_proof_re\\}\$" \
    "rpc and names reach app@dyno; nothing of erlfwd in the node but flags"
e2e_assert_eq "" "$CLI_ERR" "nothing on stderr"

# The default where the library is there but erl does not load it (a musl
# or a 32-bit erl; here a file that is no ELF object): library-free by
# itself, after asking erl once.
printf 'not an ELF object\n' >"$E2E_TMP/liberlfwd.so"
ERLFWD_LIB=$E2E_TMP/liberlfwd.so node_eval -sname "y$$" \
    "{rpc:call(app@dyno, os, getpid, []), $proof}" --tunnel "$tunnel"
e2e_assert_eq "{\"$pid\",$want_proof}" "$CLI_OUT" \
    "a library erl cannot load: the library-free mode by default"
e2e_assert_eq "" "$CLI_ERR" "and nothing on stderr"

# Two remote hosts, each on its own route, chosen by ERLFWD_PRELOAD=off;
# a node that is not there, and a host that is not remote: pang, the
# first with one line.
ERLFWD_PRELOAD=off node_eval -sname "u$$" "{rpc:call(app@dyno, os, getpid,
	[]), rpc:call(job@worker, os, getpid, []), net_adm:ping(nope@dyno),
	net_adm:ping(x@elsewhere), rpc:call(app@dyno, erlang, node, [])}" \
    --tunnel "$tunnel" --host dyno --host "worker=$tunnel2"
e2e_assert_eq "{\"$pid\",\"$jobpid\",pang,pang,app@dyno}" "$CLI_OUT" \
    "two hosts in one session; pang for a missing node and a local host; the node lives on"
e2e_assert_eq "erlfwd: no node nope on dyno" "$CLI_ERR" \
    "one line for the missing node"

# No carrier (ERLFWD_CARRIER=off: one forwarded connection each), nobody
# to answer the module: one line, a usage error, before erl starts.
ERLFWD_CARRIER=off cli_run run --no-preload --tunnel "$tunnel" -- erl -noshell \
    -eval 'halt().'
e2e_assert_eq 2 "$CLI_RC" "library-free with no carrier: a usage error"
cli_assert_one_line "library-free with no carrier"
e2e_assert_contains "$CLI_ERR" "needs a carrier" "the line says a carrier is needed"

# -name: the long-named node on the second host.
node_eval -name "v$$@127.0.0.1" "rpc:call('long@worker.lan', os, getpid,
	[])" --no-preload --tunnel "$tunnel2" --host worker.lan
e2e_assert_eq "\"${E2E_NODE_PID[long@worker.lan]}\"" "$CLI_OUT" \
    "-name: long@worker.lan answers"

# A carrier over --via (a real OpenSSH exec channel into the dyno).
e2e_via dyno
node_eval -sname "w$$" "{rpc:call(app@dyno, os, getpid, []), $proof}" \
    --no-preload --via "$E2E_VIA" --host dyno
e2e_assert_eq "{\"$pid\",$want_proof}" "$CLI_OUT" "--via: rpc reaches app@dyno"

# Another uid asking an agent for a port gets a reset and no answer.
"$CLI_BIN" agent --tunnel "$tunnel" >"$E2E_TMP/agent.out" \
    2>"$E2E_TMP/agent.err" &
e2e_defer pid $!
agent_up() { grep -q '^ERLFWD_TUNNEL=127\.0\.0\.1:[0-9]*$' "$E2E_TMP/agent.out"; }
e2e_wait_until 10 "the agent's tunnel line" agent_up
aport=$(sed -n 's/^ERLFWD_TUNNEL=127\.0\.0\.1:\([0-9]*\)$/\1/p' "$E2E_TMP/agent.out")
foreign=$(setpriv --reuid=65534 --regid=65534 --clear-groups /usr/bin/python3 - \
    "$aport" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.settimeout(5)
# The reset may come before the request is out, or after.
try:
    s.sendall(b"EFWA\x01\x10\x00")
    print("answer" if s.recv(7) else "eof")
except (ConnectionResetError, BrokenPipeError):
    print("reset")
except Exception as e:
    print(type(e).__name__)
PY
)
e2e_assert_match "$foreign" '^(reset|eof)$' "another uid's LISTEN request gets nothing ($foreign)"
e2e_assert_eq 1 "$(grep -c 'refused a local connection of uid 65534' "$E2E_TMP/agent.err")" \
    "the agent says whose it refused"

# The agent killed mid-session: one line, pang, and the node goes on.  The
# node waits for the scenario to kill it (the agent is the process that
# still has erlfwd's command line; the node's became erl's at exec).
# erlfwd-server keeps the killed agent's session for its resume window, so
# app@dyno still lists k for that long: the shells below pick their own
# node among its hidden ones.
"$CLI_BIN" run --no-preload --tunnel "$tunnel" -- erl -sname "k$$" \
    -setcookie "$E2E_COOKIE" -hidden -noinput -eval "
	pong = net_adm:ping(app@dyno),
	ok = file:write_file(\"$E2E_TMP/k.ready\", <<>>),
	Wait = fun W() -> case filelib:is_file(\"$E2E_TMP/k.killed\") of
		true -> ok; false -> timer:sleep(50), W() end end,
	Wait(),
	erlang:disconnect_node(app@dyno),
	io:format(\"~p~n\", [{net_adm:ping(app@dyno), lists:sum([1, 2])}]),
	halt()." >"$E2E_TMP/k.out" 2>"$E2E_TMP/k.err" </dev/null &
knode=$!
e2e_defer pid "$knode"
e2e_wait_until 20 "the node's first ping" test -e "$E2E_TMP/k.ready"
# The POSIX build adds a watcher of the agent's parent, forked as well.
agents=$(pgrep -f -- "^$CLI_BIN run --no-preload --tunnel $tunnel -- erl -sname k$$")
e2e_assert_match "$agents" '^[0-9]+' "the session's agent runs ($(tr '\n' ' ' <<<"$agents"))"
# shellcheck disable=SC2086 # one pid a word
kill -KILL $agents
touch "$E2E_TMP/k.killed"
e2e_wait_until 20 "the node to end" e2e_not e2e_alive "$knode"
e2e_assert_eq "{pang,3}" "$(<"$E2E_TMP/k.out")" \
    "with the agent gone: pang, and the node goes on"
e2e_assert_match "$(<"$E2E_TMP/k.err")" "^erlfwd: the agent is gone \\(127\\.0\\.0\\.1:[0-9]+: connection refused\\): is \`erlfwd\` still running\\?\$" \
    "one line says the agent is gone"

# The guarded remote shell, library-free: erl, then IEx (with the same
# Elixir on both sides).
umask 077
printf '%s\n' "$E2E_COOKIE" >"$E2E_TMP/cookie"
for shell in "${shells[@]}"; do
	s=sh-$shell
	e2e_tmux_start "$s" "$CLI_BIN" remsh app --"$shell" --no-preload \
	    --tunnel "$tunnel" --cookie-file "$E2E_TMP/cookie"
	if [[ $shell == erl ]]; then
		e2e_tmux_wait "$s" '^\(app@dyno\)1> ' 30
		# Plain rpc calls: a shell's fun would not run on a local
		# node of another OTP release (the matrix's pairs).
		e2e_tmux_send "$s" '[L] = [N || N <- nodes(hidden), lists:prefix("remsh", atom_to_list(N))], {os:getpid(), rpc:call(L, binary, match, [element(2, rpc:call(L, file, read_file, ["/proc/self/maps"])), <<"liberlfwd">>]), rpc:call(L, os, getenv, ["LD_PRELOAD"]), rpc:call(L, net_kernel, epmd_module, [])}.' Enter
		e2e_tmux_wait "$s" "^\\{\"$pid\",nomatch,false,erlfwd_epmd\\}\$" 20
	else
		e2e_tmux_wait "$s" '^iex\(app@dyno\)1> ' 30
		e2e_tmux_send "$s" 'IO.puts("pid=#{System.pid()} local=#{inspect(:rpc.call(hd(Enum.filter(Node.list(:hidden), &String.starts_with?(Atom.to_string(&1), "remsh"))), :net_kernel, :epmd_module, []))}")' Enter
		e2e_tmux_wait "$s" "^pid=$pid local=:erlfwd_epmd\$" 20
	fi
	e2e_tmux_wait "$s" "^erlfwd: remote shell on app@dyno through a carrier over $tunnel \\($shell, library-free, cookie from --cookie-file" 1
	e2e_log "ok: remsh --$shell --no-preload evaluates on app@dyno, with nothing of erlfwd in the local node"
	cli_tmux_quit "$s"
	e2e_assert_eq 0 "$(cli_tmux_status "$s")" "remsh --$shell --no-preload exits 0"
done
e2e_assert_true "the remote node still runs" e2e_alive "$pid"
e2e_pass
