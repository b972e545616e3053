#!/usr/bin/env bash
# t_remsh_eof: the ends of input that stopped the remote node on some OTP
# releases (erlang/otp#9852: `erl -remsh node < /dev/null`) leave it running
# under `erlfwd remsh`, whatever the pair of releases (make otp-matrix runs
# it on OTP 25, 27 and 29 on each side): stdin at its end, stoppers piped in
# then the end, and a closed terminal (the tmux pane killed).  The Erlang
# shell on every pair; IEx too when both sides run the same Elixir (an IEx
# remote shell needs that).  After each the node runs, epmd lists it and an
# rpc through erlfwd answers.
set -u -o pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=cli.sh
. "$(dirname "$0")/cli.sh"
e2e_init
cli_require
e2e_require_cmd tmux
E2E_COOKIE="eof-secret-$RANDOM$RANDOM"

# IEx where both sides run the same Elixir (an IEx remote shell needs it).
e2e_dyno_start dyno
shells=(erl)
if [[ ${E2E_OTP_LOCAL:-} == "${E2E_OTP_REMOTE:-}" ]] && command -v elixir >/dev/null; then
	shells+=(iex)
	e2e_iex_node_start dyno app@dyno
else
	e2e_node_start dyno app@dyno
fi
e2e_log "shells: ${shells[*]}"
e2e_server_start dyno
e2e_tunnel_up dyno
e2e_local_epmd_start
tunnel=127.0.0.1:$E2E_TUNNEL_PORT
pid=${E2E_NODE_PID[app@dyno]}
umask 077
printf '%s\n' "$E2E_COOKIE" >"$E2E_TMP/cookie"

alive() {
	e2e_assert_true "$1: the node's process runs" e2e_alive "$pid"
	e2e_assert_contains "$(e2e_epmd_names dyno)" "name app at port" \
	    "$1: epmd still lists app"
	ERL_EPMD_PORT=$E2E_LOCAL_EPMD cli_run doctor app --tunnel "$tunnel" \
	    --cookie-file "$E2E_TMP/cookie"
	e2e_assert_eq 0 "$CLI_RC" "$1: erlfwd doctor reaches the node, cookie and all"
}

for shell in "${shells[@]}"; do
	ERL_EPMD_PORT=$E2E_LOCAL_EPMD cli_run remsh --tunnel "$tunnel" \
	    --cookie-file "$E2E_TMP/cookie" "--$shell"
	e2e_assert_eq 0 "$CLI_RC" "$shell, stdin at its end: exit 0"
	e2e_assert_contains "$CLI_OUT" "input closed: leaving app@dyno running" \
	    "$shell, stdin at its end: one line says so"
	alive "$shell, stdin at its end"

	out=$(printf 'q().\ninit:stop().\nSystem.halt()\n' |
	    ERL_EPMD_PORT=$E2E_LOCAL_EPMD timeout 60 "$CLI_BIN" remsh \
	    --tunnel "$tunnel" --cookie-file "$E2E_TMP/cookie" "--$shell" 2>&1)
	e2e_assert_contains "$out" "would stop app@dyno" \
	    "$shell, piped stoppers: answered by the guard"
	alive "$shell, piped stoppers then the end"

	e2e_tmux_start "hup-$shell" env ERL_EPMD_PORT="$E2E_LOCAL_EPMD" \
	    "$CLI_BIN" remsh --tunnel "$tunnel" --cookie-file "$E2E_TMP/cookie" \
	    "--$shell"
	e2e_tmux_wait "hup-$shell" '\(app@dyno\)1> ' 60
	tmux -L "$E2E_TMUX_SOCK" kill-session -t "hup-$shell"
	e2e_wait_until 15 "the local node to go with its terminal" \
	    e2e_not pgrep -f -- "-erlfwd_remsh app@dyno $shell"
	alive "$shell, terminal closed"
done
e2e_pass
