#!/usr/bin/env bash
# t_cli_remsh_kill: `erlfwd remsh` killed with SIGKILL leaves nothing behind
# that matters.  While the shell runs, the cookie file of its private HOME is
# already gone (erl read it at boot); the shell (beam.smp) dies with erlfwd
# (PR_SET_PDEATHSIG); and the next `erlfwd remsh` of this user sweeps the
# private HOME the killed one could not remove.
set -u -o pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=cli.sh
. "$(dirname "$0")/cli.sh"
e2e_init
cli_require
e2e_require_cmd tmux
E2E_COOKIE="kill-secret-$RANDOM$RANDOM"
e2e_world
tunnel=127.0.0.1:$E2E_TUNNEL_PORT
umask 077
printf '%s\n' "$E2E_COOKIE" >"$E2E_TMP/cookie"
export TMPDIR=$E2E_TMP	# private HOMEs here: this scenario's own

# erlfwd under a shell that stays, as from a terminal: the terminal's
# hangup (SIGHUP to the session) does not come, so only PR_SET_PDEATHSIG
# can end the shell erlfwd started.
# shellcheck disable=SC2016 # expanded by bash -c
e2e_tmux_start remsh bash -c '"$@"; exec sleep 600' sh env \
    ERL_EPMD_PORT="$E2E_LOCAL_EPMD" "$CLI_BIN" remsh --erl --tunnel "$tunnel" \
    --cookie-file "$E2E_TMP/cookie"
e2e_tmux_wait remsh '^\(app@dyno\)1> ' 30
root=$(pgrep -P "$(cli_tmux_pid remsh)" -x erlfwd)
e2e_assert_match "$root" '^[0-9]+$' "erlfwd runs under the terminal's shell ($root)"
home=$(cli_home_of "$root")
e2e_assert_match "$home" "^$E2E_TMP/erlfwd-home\\.$root\\." \
    "the private HOME is named after erlfwd's pid"
beam=$(cli_tree "$root" | while read -r p; do
	[[ $(cat "/proc/$p/comm" 2>/dev/null) == beam.smp ]] && echo "$p"
done | head -n 1)
e2e_assert_match "$beam" '^[0-9]+$' "the shell's beam.smp runs ($beam)"
e2e_wait_until 10 "the cookie file to go once erl has read it" \
    e2e_not test -e "$home/.erlang.cookie"
e2e_log "ok: the cookie file is gone while the shell runs"
e2e_tmux_send remsh 'node().' Enter
e2e_tmux_wait remsh '^app@dyno$'
e2e_log "ok: the shell works without the file"

kill -KILL "$root"
e2e_wait_until 10 "the shell to die with erlfwd" e2e_not e2e_alive "$beam"
e2e_log "ok: beam.smp $beam ended with erlfwd"
e2e_assert_true "the killed erlfwd's private HOME is still there" test -d "$home"

# The next remsh of this user sweeps it, whatever it then does.
cli_run remsh nosuchnode --tunnel "$tunnel" --cookie-file "$E2E_TMP/cookie"
e2e_assert_eq 1 "$CLI_RC" "a remsh to a node that is not there exits 1"
e2e_assert_true "... and has swept the stale private HOME" e2e_not test -e "$home"
e2e_pass
