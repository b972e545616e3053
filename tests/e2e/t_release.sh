#!/usr/bin/env bash
# t_release: a tiny Elixir release built here (`mix new`, `mix release`, no
# Hex dependency, offline) runs in the dyno as a Heroku app would, and its own
# `bin/APP rpc` and `bin/APP remote` reach it under `erlfwd run`, through the
# real OpenSSH forward, with nothing but RELEASE_NODE and RELEASE_COOKIE set.
set -u -o pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=cli.sh
. "$(dirname "$0")/cli.sh"
e2e_init
cli_require
e2e_require_cmd mix elixir iex tmux
E2E_COOKIE="release-secret-$RANDOM$RANDOM"

# Build the release: offline, in the temporary directory, nothing global.
export MIX_ENV=prod HEX_OFFLINE=1 MIX_HOME=$E2E_TMP/mix HEX_HOME=$E2E_TMP/hex
(cd "$E2E_TMP" && mix new tinyapp --sup) >"$E2E_TMP/mix-new.log" 2>&1 ||
    e2e_skip "mix new failed: $(tail -n 1 "$E2E_TMP/mix-new.log")"
(cd "$E2E_TMP/tinyapp" && mix release --quiet) >"$E2E_TMP/mix-release.log" 2>&1 ||
    e2e_skip "mix release failed offline: $(tail -n 1 "$E2E_TMP/mix-release.log")"
rel=$E2E_TMP/tinyapp/_build/prod/rel/tinyapp
[[ -x $rel/bin/tinyapp ]] || e2e_fail "mix release made no $rel/bin/tinyapp"
e2e_log "release built: $rel"

# The dyno runs it as a web dyno would: `bin/tinyapp start`, sname tinyapp.
e2e_dyno_start dyno
e2e_dyno_spawn dyno release env RELEASE_COOKIE="$E2E_COOKIE" \
    RELEASE_DISTRIBUTION=sname RELEASE_NODE=tinyapp "$rel/bin/tinyapp" start
e2e_wait_until 30 "the release to register as tinyapp" \
    e2e_node_registered dyno tinyapp
e2e_server_start dyno
e2e_tunnel_up dyno
e2e_local_epmd_start
beam=
for p in $(ip netns pids "$(e2e_ns dyno)"); do
	[[ $(cat "/proc/$p/comm" 2>/dev/null) == beam.smp ]] &&
	    grep -qa tinyapp "/proc/$p/cmdline" && beam=$p
done
[[ -n $beam ]] || e2e_fail "no beam.smp of the release in the dyno"
e2e_log "the release's beam.smp: pid $beam"

# What a developer sets on the laptop: the node and its cookie.
export RELEASE_NODE=tinyapp@dyno RELEASE_COOKIE=$E2E_COOKIE
export ERL_EPMD_PORT=$E2E_LOCAL_EPMD ERLFWD_TUNNEL=127.0.0.1:$E2E_TUNNEL_PORT

cli_run run -- "$rel/bin/tinyapp" rpc 'IO.puts(System.pid())'
e2e_assert_eq 0 "$CLI_RC" "erlfwd run -- bin/tinyapp rpc exits 0"
e2e_assert_eq "$beam" "$CLI_OUT" "bin/tinyapp rpc runs on the dyno's release"

e2e_tmux_start remote "$CLI_BIN" run -- "$rel/bin/tinyapp" remote
e2e_tmux_wait remote '^iex\(tinyapp@dyno\)1> ' 30
e2e_tmux_send remote 'System.pid()' Enter
e2e_tmux_wait remote "^\"$beam\"\$"
e2e_log "ok: bin/tinyapp remote opened IEx on the dyno's release"
cli_mode_check "bin/tinyapp remote"
e2e_tmux_send remote 'Application.started_applications() |> Enum.any?(&match?({:tinyapp, _, _}, &1))' Enter
e2e_tmux_wait remote '^true$'
e2e_log "ok: the shell sees the tinyapp application running"
cli_tmux_quit remote
e2e_assert_eq 0 "$(cli_tmux_status remote)" "bin/tinyapp remote exits 0"
e2e_assert_true "the release still runs" e2e_alive "$beam"
e2e_pass
