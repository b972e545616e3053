#!/usr/bin/env bash
# t_remsh_safe: no way out of `erlfwd remsh` stops the node it visits.
# Through the real OpenSSH forward, in erl and in IEx: q(), init:stop(),
# halt(), erlang:halt() and System.halt(), System.stop(), :init.stop(),
# :erlang.halt() typed at the prompt are each answered with one line and not
# sent; a closed stdin, a closed terminal (tmux's pane killed), Ctrl+C twice,
# a SIGKILLed local node and a dropped tunnel leave it running, and after
# the tunnel is back the same pane answers on the same node with no ^G.
# After each, the node is alive, epmd still lists it and an rpc answers.
# code:all_loaded() on the node is the same after the sessions as before
# them (after one plain --allow-stop session of each shell, which loads
# OTP's and IEx's own shell modules there as any remote shell does).
set -u -o pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=cli.sh
. "$(dirname "$0")/cli.sh"
e2e_init
cli_require
e2e_require_cmd tmux iex elixir
E2E_COOKIE="safe-secret-$RANDOM$RANDOM"

e2e_dyno_start dyno
e2e_iex_node_start dyno app@dyno
e2e_server_start dyno
e2e_tunnel_up dyno
e2e_local_epmd_start
tunnel=127.0.0.1:$E2E_TUNNEL_PORT
pid=${E2E_NODE_PID[app@dyno]}
umask 077
printf '%s\n' "$E2E_COOKIE" >"$E2E_TMP/cookie"
remsh=(env ERL_EPMD_PORT="$E2E_LOCAL_EPMD" "$CLI_BIN" remsh --tunnel "$tunnel"
    --cookie-file "$E2E_TMP/cookie")

# remote EXPR: EXPR evaluated on app@dyno by an rpc from a node inside the
# dyno (not through erlfwd); its printed value in REMOTE.
PROBE_SEQ=0
remote() {
	PROBE_SEQ=$(( PROBE_SEQ + 1 ))
	REMOTE=$(e2e_dyno_exec dyno timeout 20 erl -sname "probe$PROBE_SEQ" \
	    -setcookie "$E2E_COOKIE" -hidden -noinput -eval "
	    io:format(\"~s~n\", [io_lib:print(rpc:call('app@dyno', erlang,
	        apply, [fun() -> $1 end, []]), 1, 100000, -1)]), halt().")
}

# running WHAT: the node's process runs and epmd still lists it.
running() {
	e2e_assert_true "$1: the node's process runs" e2e_alive "$pid"
	e2e_assert_contains "$(e2e_epmd_names dyno)" "name app at port" \
	    "$1: epmd still lists app"
}

# alive WHAT: running, and an rpc answers.
alive() {
	running "$1"
	remote 'node()'
	e2e_assert_eq app@dyno "$REMOTE" "$1: an rpc answers"
}

# no_staircase SESSION: every erlfwd line of the pane starts at column 0.
no_staircase() {
	e2e_assert_eq "" "$(e2e_tmux_screen "$1" | grep -E '^[[:space:]]+erlfwd: ')" \
	    "$1: no erlfwd line is indented (a staircase)"
}

modules() {
	remote "lists:sort([M || {M, _} <- code:all_loaded()])"
	MODS=$REMOTE
}

# One plain session of each shell first: what they load is OTP's and IEx's
# shell, which any remote shell loads; the snapshot is taken after them.
# They evaluate what the guarded sessions below evaluate.
e2e_tmux_start warm-erl "${remsh[@]}" --erl --allow-stop
e2e_tmux_wait warm-erl '^\(app@dyno\)1> ' 30
e2e_tmux_send warm-erl 'X = 6 * 7.' Enter
e2e_tmux_wait warm-erl '^42$'
e2e_tmux_send warm-erl 'node().' Enter
e2e_tmux_wait warm-erl '^app@dyno$'
cli_tmux_quit warm-erl
e2e_tmux_start warm-iex "${remsh[@]}" --iex --allow-stop
e2e_tmux_wait warm-iex '^iex\(app@dyno\)1> ' 30
e2e_tmux_send warm-iex 'Enum.sum([40, 2])' Enter
e2e_tmux_wait warm-iex '^42$'
e2e_tmux_send warm-iex 'node()' Enter
e2e_tmux_wait warm-iex '^:app@dyno$'
cli_tmux_quit warm-iex
modules
before=$MODS
e2e_log "loaded on app@dyno before: $before"

# stoppers SESSION PROMPT EXPR...: each EXPR typed, the one line, no stop.
stoppers() {
	local s=$1 prompt=$2 e re
	shift 2
	for e in "$@"; do
		e2e_tmux_send "$s" "$e" Enter
		re="^erlfwd: .* would stop app@dyno, the node you are visiting: not sent\\. To leave the shell: \\^G then q, or Ctrl\\+C twice"
		e2e_wait_until 10 "the guard's line for $e" e2e__tmux_count "$s" "$re" \
		    "$(( ++STOP_LINES ))"
		e2e_log "ok: $e was answered by the guard"
		running "$e in $s"
	done
	e2e_tmux_wait "$s" "$prompt" 5
}

e2e__tmux_count() {
	(( $(e2e_tmux_screen "$1" | grep -cE -- "$2") >= $3 ))
}

# --- erl: the stoppers, then ^G q ---------------------------------------------
STOP_LINES=0
e2e_tmux_start erl "${remsh[@]}" --erl
e2e_tmux_wait erl '^\(app@dyno\)1> ' 30
e2e_tmux_wait erl '^erlfwd: remote shell on app@dyno: leave with \^G then q, or Ctrl\+C twice' 1
e2e_log "ok: the banner says how to leave"
stoppers erl '^\(app@dyno\)1> ' 'q().' 'init:stop().' 'halt().' \
    'erlang:halt().' 'init:stop(), ok.' 'spawn(fun() -> halt() end).'
e2e_tmux_send erl 'X = 6 * 7.' Enter
e2e_tmux_wait erl '^42$'
e2e_log "ok: other expressions are evaluated on the node as before"
e2e_tmux_send erl 'node().' Enter
e2e_tmux_wait erl '^app@dyno$'
cli_tmux_quit erl
e2e_assert_eq 0 "$(cli_tmux_status erl)" "erl: ^G q exits 0"
alive "erl, ^G q"

# --- IEx: the stoppers, then Ctrl+C twice ------------------------------------
STOP_LINES=0
e2e_tmux_start iex "${remsh[@]}" --iex
e2e_tmux_wait iex '^iex\(app@dyno\)1> ' 30
e2e_tmux_wait iex '^erlfwd: remote shell on app@dyno: leave with \^G then q' 1
stoppers iex '^iex\(app@dyno\)1> ' 'System.halt()' 'System.stop()' \
    ':init.stop()' ':erlang.halt()' 'System.halt(0)' \
    'Task.start(fn -> System.stop() end)'
e2e_tmux_send iex 'Enum.sum([40, 2])' Enter
e2e_tmux_wait iex '^42$'
e2e_tmux_send iex C-c
e2e_tmux_wait iex 'BREAK: \(a\)bort' 10
e2e_tmux_send iex C-c
e2e_wait_until 15 "the shell to exit on Ctrl+C twice" cli_tmux_dead iex
alive "iex, Ctrl+C twice"

# --- end of input, no terminal ------------------------------------------------
for shell in erl iex; do
	cli_run remsh --tunnel "$tunnel" --cookie-file "$E2E_TMP/cookie" \
	    "--$shell"
	e2e_assert_eq 0 "$CLI_RC" "$shell, stdin at its end: exit 0"
	e2e_assert_match "$CLI_OUT" "erlfwd: input closed: leaving app@dyno running" \
	    "$shell, stdin at its end: one line says the node runs on"
	alive "$shell, stdin at its end"
	out=$(printf 'q().\nSystem.halt()\n' | ERL_EPMD_PORT=$E2E_LOCAL_EPMD \
	    timeout 30 "$CLI_BIN" remsh --tunnel "$tunnel" \
	    --cookie-file "$E2E_TMP/cookie" "--$shell" 2>&1)
	e2e_assert_match "$out" "would stop app@dyno" \
	    "$shell, a stopper in piped input is answered"
	alive "$shell, piped input ending"
done

# --- a closed terminal, a killed local node ----------------------------------
for shell in erl iex; do
	e2e_tmux_start "hup-$shell" "${remsh[@]}" "--$shell"
	e2e_tmux_wait "hup-$shell" '(\(app@dyno\)1> )' 30
	tmux -L "$E2E_TMUX_SOCK" kill-session -t "hup-$shell"
	sleep 1
	alive "$shell, terminal closed"

	e2e_tmux_start "kill-$shell" "${remsh[@]}" "--$shell"
	e2e_tmux_wait "kill-$shell" '(\(app@dyno\)1> )' 30
	beam=$(pgrep -f -- "-erlfwd_remsh app@dyno $shell" | head -n 1)
	[[ -n $beam ]] || e2e_fail "no local node found for $shell"
	kill -KILL "$beam"
	e2e_wait_until 15 "erlfwd to exit with its node" cli_tmux_dead "kill-$shell"
	alive "$shell, local node SIGKILLed"
done

# --- a dropped tunnel: the node runs on, the session resumes ------------------
# (erlfwd-server keeps it: the same shell.  Where the session cannot be
# kept, a new shell comes by itself: t_carrier_resume's last part.)
e2e_tmux_start drop "${remsh[@]}" --iex
e2e_tmux_wait drop '^iex\(app@dyno\)1> ' 30
e2e_tunnel_down dyno
e2e_tmux_wait drop '^erlfwd: tunnel lost \(.*\), resuming$' 30
alive "tunnel dropped"
e2e_tunnel_up dyno
e2e_tmux_wait drop '^erlfwd: tunnel back after [0-9]+ s, nothing lost$' 60
no_staircase drop
e2e_tmux_send drop 'node()' Enter
e2e_tmux_wait drop '^:app@dyno$' 10
e2e_assert_eq 0 "$(e2e_tmux_screen drop | grep -c 'is back: a new remote shell')" \
    "the session resumed: the same remote shell, not a new one"
e2e_log "ok: after the tunnel came back, the same pane answers on app@dyno"
cli_tmux_quit drop
alive "after the drop"

modules
e2e_log "loaded on app@dyno after: $MODS"
e2e_assert_eq "$before" "$MODS" "code:all_loaded() on app@dyno is as before"
remote "[M || {M, _} <- code:all_loaded(), lists:prefix(\"erlfwd\", atom_to_list(M))]"
e2e_assert_eq "[]" "$REMOTE" "no erlfwd module on the node"
e2e_pass
