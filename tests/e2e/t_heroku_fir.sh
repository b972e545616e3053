#!/usr/bin/env bash
# t_heroku_fir: scripts/heroku-remsh on a Fir app, end to end, with the
# stand-in Heroku CLI (heroku-standin) on PATH.  The erlfwd Cloud Native
# Buildpack is run as the lifecycle runs it (bin/detect, bin/build with the
# CNB_* variables, in a scratch app directory); the dyno runs nothing of
# erlfwd's, only a node with IEx; its sshd gives sessions the PATH of a CNB
# image (the lifecycle's directory, where the stand-in `launcher` is) and
# CNB_LAYERS_DIR.  heroku-remsh myapp finds Fir (apps:info --json, the
# generation as an object), the first running web dyno among others (ps
# --json), reads the cookie from the release's releases/COOKIE through
# `heroku run:inside` (no RELEASE_COOKIE config var), and reaches IEx over
# `heroku run:inside DYNO "erlfwd-server --stdio"`: the launcher puts the
# layer's bin/ on PATH.  The cookie is on no command line; after ^G q,
# Ctrl-C or a closed terminal no heroku, ssh or sshd process is left.  The
# CLI's ssh killed under the shell: noticed within 10 s, and the session
# resumes (the same shell, its variables kept) in the same pane.
# --doctor works the same way; --forward and ps:socks are refused on Fir.
set -u -o pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=cli.sh
. "$(dirname "$0")/cli.sh"
# shellcheck source=heroku.sh
. "$(dirname "$0")/heroku.sh"
e2e_init
cli_require
e2e_require_cmd tmux ssh iex elixir make cc setsid
E2E_COOKIE="fir-secret-$RANDOM$RANDOM"
dyno_name=web-848cd4f64d-pvpr2
node=app@$dyno_name

# The build, as the lifecycle runs it: the buildpack's layers directory is
# LAYERS/<id with / as _>.
bp=$E2E_ROOT/scripts/heroku-cnb
layers=$E2E_TMP/layers
app_src=$E2E_TMP/workspace
mkdir -p "$layers/erlfwd_erlfwd-server" "$E2E_TMP/platform/env" "$app_src"
: >"$E2E_TMP/plan.toml"
: >"$E2E_TMP/bp-plan.toml"
(cd "$app_src" && CNB_PLATFORM_DIR=$E2E_TMP/platform \
    CNB_BUILD_PLAN_PATH=$E2E_TMP/plan.toml CNB_BUILDPACK_DIR=$bp \
    "$bp/bin/detect") >"$E2E_TMP/detect.log" 2>&1
e2e_assert_eq 0 "$?" "bin/detect passes"
(cd "$app_src" && CNB_LAYERS_DIR=$layers/erlfwd_erlfwd-server \
    CNB_PLATFORM_DIR=$E2E_TMP/platform CNB_BP_PLAN_PATH=$E2E_TMP/bp-plan.toml \
    CNB_BUILDPACK_DIR=$bp "$bp/bin/build") >"$E2E_TMP/build.log" 2>&1
e2e_assert_eq 0 "$?" "bin/build builds the layer"
layer_bin=$layers/erlfwd_erlfwd-server/erlfwd-server/bin

# The lifecycle's directory on the dyno's PATH, with its launcher.
mkdir -p "$E2E_TMP/lifecycle"
ln -s "$E2E_DIR/cnb-launcher" "$E2E_TMP/lifecycle/launcher"
# The release's cookie file (a release built without RELEASE_COOKIE), put
# in the dyno's HOME by the sshd's setup.
(umask 077 && printf '%s' "$E2E_COOKIE" >"$E2E_TMP/release-cookie")
setup="mkdir -p /root/_build/prod/rel/myapp/releases && cp $E2E_TMP/release-cookie /root/_build/prod/rel/myapp/releases/COOKIE"

# The dyno: epmd and the node; nothing of erlfwd runs there.
e2e_dyno_create fir "$dyno_name"
e2e_epmd_start fir
heroku_iex_node fir "$node"
heroku_init
heroku_app myapp fir
heroku_dyno myapp "$dyno_name" fir "$setup" \
    "SetEnv PATH=$E2E_TMP/lifecycle:/usr/local/bin:/usr/bin:/bin CNB_LAYERS_DIR=$layers"
# Another dyno, listed first and not a web one: heroku-remsh passes it by.
mkdir -p "$E2E_TMP/heroku/apps/myapp/dynos/release-7c9d8f6b5-qwert"
heroku__ps_json myapp
e2e_local_epmd_start
prompt=$(heroku_prompt "$node")

session() {
	local s=$1
	shift
	(( $# )) || set -- myapp
	e2e_tmux_start "$s" env PATH="$HEROKU_BIN:$PATH" ERLFWD="$CLI_BIN" \
	    ERL_EPMD_PORT="$E2E_LOCAL_EPMD" "$E2E_ROOT/scripts/heroku-remsh" "$@"
}
calls() { cat "$E2E_TMP/heroku/calls" 2>/dev/null; }
server_pids() {
	local p
	for p in $(ip netns pids "$(e2e_ns fir)"); do
		[[ $(cat "/proc/$p/comm" 2>/dev/null) == erlfwd-server ]] && echo "$p"
	done
}

# 1. A whole session over run:inside, left with ^G q.
session one
e2e_tmux_wait one "$prompt" 90
e2e_tmux_send one 'System.pid()' Enter
e2e_tmux_wait one "^\"${E2E_NODE_PID[$node]}\"\$" 10
e2e_log "ok: IEx on $node over heroku run:inside"
cli_mode_check "heroku-remsh (Fir)"
c=$(calls)
e2e_assert_contains "$c" "apps:info -a myapp --json" "the generation from apps:info --json"
e2e_assert_contains "$c" "ps -a myapp --json" "the dyno from ps --json"
e2e_assert_contains "$c" "config:get RELEASE_COOKIE -a myapp" "config:get first"
e2e_assert_contains "$c" "run:inside $dyno_name for f in" "the cookie read through run:inside"
e2e_assert_contains "$c" "run:inside $dyno_name erlfwd-server --stdio -a myapp" \
    "the carrier: run:inside DYNO \"erlfwd-server --stdio\" -a myapp"
e2e_assert_not_contains "$c" "release-7c9d8f6b5-qwert" "a running non-web dyno listed first is passed by"
e2e_assert_not_contains "$c" "ps:socks" "no ps:socks on Fir"
e2e_assert_contains "$(cat "$E2E_TMP/heroku/connections")" \
    "run:inside launcher erlfwd-server --stdio" "the CLI prepends launcher"
pid=$(server_pids | head -n 1)
e2e_assert_eq "$layer_bin/erlfwd-server" "$(readlink "/proc/$pid/exe")" \
    "the dyno runs the layer's erlfwd-server, found on the launcher's PATH"
cli_assert_no_secret "$E2E_COOKIE" "$(cli_tmux_pid one)" "heroku-remsh (Fir)"
cli_tmux_quit one
e2e_assert_eq 0 "$(cli_tmux_status one)" "heroku-remsh exits 0 after ^G q"
heroku_none_left "after ^G q"
e2e_assert_eq "" "$(server_pids)" "no erlfwd-server is left on the dyno"

# 2. Ctrl-C: the BREAK menu, then (a)bort.
session two
e2e_tmux_wait two "$prompt" 90
e2e_tmux_send two C-c
e2e_tmux_wait two 'BREAK: \(a\)bort' 10
e2e_tmux_send two a Enter
e2e_wait_until 15 "heroku-remsh to exit after Ctrl-C" cli_tmux_dead two
heroku_none_left "after Ctrl-C"

# 3. The terminal closed under the shell (SIGHUP).
session three
e2e_tmux_wait three "$prompt" 90
tmux -L "$E2E_TMUX_SOCK" kill-session -t three
heroku_none_left "after the terminal was closed"
e2e_assert_eq "" "$(server_pids)" "no erlfwd-server is left on the dyno"

# 5. The CLI's ssh killed under an open IEx.  The CLI stays (as the real
# one does: no EOF reaches erlfwd); erlfwd's PINGs notice within 10 s, it
# runs run:inside again, and the session resumes in the keeper the first
# erlfwd-server --stdio started on the dyno: the same shell, its variables
# kept, with no ^G, and no status line is indented.
session five
e2e_tmux_wait five "$prompt" 90
e2e_tmux_send five 'System.pid()' Enter
e2e_tmux_wait five "^\"${E2E_NODE_PID[$node]}\"\$" 10
e2e_tmux_send five 'kept = 40' Enter
e2e_tmux_wait five '^40$' 10
sshpid=$(<"$E2E_TMP/heroku/run-inside-ssh.pid")
e2e_assert_true "run:inside's ssh runs" e2e_alive "$sshpid"
t0=${EPOCHREALTIME/./}
kill -KILL "$sshpid"
e2e_tmux_wait five '^erlfwd: tunnel lost' 20
lost_ms=$(( (${EPOCHREALTIME/./} - t0) / 1000 ))
e2e_log "the dead carrier was noticed $lost_ms ms after its ssh was killed"
e2e_assert_le "$lost_ms" 10000 "the dead carrier is noticed within 10 s"
e2e_tmux_wait five '^erlfwd: tunnel back after [0-9]+ s, nothing lost$' 90
e2e_tmux_send five 'kept + 2' Enter
e2e_tmux_wait five '^42$' 10
e2e_assert_eq 0 "$(e2e_tmux_screen five | grep -c 'is back: a new remote shell')" \
    "the session resumed: the same shell, not a new one"
e2e_log "ok: after tunnel back the same shell answers on $node, its variable kept, no ^G typed"
e2e_assert_eq "" "$(e2e_tmux_screen five | grep -E '^[[:space:]]+(erlfwd|heroku-remsh): ')" \
    "no status line is indented (a staircase)"
cli_tmux_quit five
heroku_none_left "after a killed ssh and ^G q"

# 4. --doctor over the same path; --forward and ps:socks refused on Fir.
out=$(PATH="$HEROKU_BIN:$PATH" ERLFWD="$CLI_BIN" ERL_EPMD_PORT="$E2E_LOCAL_EPMD" \
    timeout 120 "$E2E_ROOT/scripts/heroku-remsh" --doctor myapp 2>"$E2E_TMP/doctor.err" </dev/null)
rc=$?
sed 's/^/    | /' <<<"$out" >&2
e2e_assert_eq 0 "$rc" "--doctor: every step passes"
e2e_assert_match "$out" '(^|
)ok +carrier ' "--doctor: the carrier step"
heroku_none_left "after --doctor"
out=$(PATH="$HEROKU_BIN:$PATH" ERLFWD="$CLI_BIN" timeout 30 \
    "$E2E_ROOT/scripts/heroku-remsh" --forward myapp 2>&1 </dev/null)
e2e_assert_eq 2 "$?" "--forward on Fir: exit 2"
e2e_assert_contains "$out" "ps:forward is unavailable" "--forward on Fir: said why"
out=$(PATH="$HEROKU_BIN:$PATH" timeout 30 heroku ps:socks -a myapp 2>&1 </dev/null)
e2e_assert_contains "$out" "This command is unavailable for this app" \
    "the stand-in refuses ps:socks on Fir, as the CLI does"
out=$(PATH="$HEROKU_BIN:$PATH" timeout 30 heroku ps:forward 9369 -a myapp 2>&1 </dev/null)
e2e_assert_contains "$out" "This command is unavailable for this app" \
    "the stand-in refuses ps:forward on Fir, as the CLI does"
# 6. No SSH key for run:inside: one line that says heroku keys:add, exit 5,
# before anything runs.  A key the dyno does not know: the CLI swallows
# ssh's "Permission denied"; heroku-remsh asks again with HEROKU_DEBUG=1
# and shows it.
mkdir -p "$E2E_TMP/nokeys"
out=$(HOME=$E2E_TMP/nokeys SSH_AUTH_SOCK='' PATH="$HEROKU_BIN:$PATH" \
    ERLFWD="$CLI_BIN" timeout 60 "$E2E_ROOT/scripts/heroku-remsh" myapp 2>&1 </dev/null)
e2e_assert_eq 5 "$?" "no SSH key: exit 5"
e2e_assert_contains "$out" "no SSH key for heroku run:inside" "no SSH key: said so"
e2e_assert_contains "$out" "heroku keys:add" "no SSH key: said how"
mkdir -p "$E2E_TMP/otherkey/.ssh"
ssh-keygen -q -t ed25519 -N '' -f "$E2E_TMP/otherkey/.ssh/id_ed25519"
printf 'IdentityFile %s\nIdentitiesOnly yes\n' "$E2E_TMP/otherkey/.ssh/id_ed25519" \
    >"$E2E_TMP/otherkey/.ssh/config"
out=$(HOME=$E2E_TMP/otherkey SSH_AUTH_SOCK='' PATH="$HEROKU_BIN:$PATH" \
    ERLFWD="$CLI_BIN" timeout 60 "$E2E_ROOT/scripts/heroku-remsh" --names myapp 2>&1 </dev/null)
e2e_assert_ne 0 "$?" "an unknown key: heroku-remsh fails"
e2e_assert_contains "$out" "asking again with HEROKU_DEBUG=1" "an unknown key: asked again"
e2e_assert_contains "$out" "Permission denied" "an unknown key: ssh's own words shown"
heroku_none_left "after the key checks"

e2e_assert_true "the node still runs" e2e_alive "${E2E_NODE_PID[$node]}"
e2e_pass
