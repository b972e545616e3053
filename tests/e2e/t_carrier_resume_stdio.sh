#!/usr/bin/env bash
# t_carrier_resume_stdio: t_carrier_resume under `erlfwd-server --stdio`,
# where each carrier is a process of its own that ends with it (as under
# `heroku run:inside`, `kubectl exec -i` or `ssh HOST erlfwd-server
# --stdio`): the sessions live in the user's keeper, which the first --stdio
# starts.  Carriers go through a real OpenSSH exec channel into the lab
# dyno, `--via 'ssh root@dyno erlfwd-server --stdio'`.  Two sessions:
#   - `erlfwd run --via ... -- erl`: resume.sh's watcher, a hidden node that
#     monitors app@dyno, fetches 32 MiB binaries (each checked against its
#     MD5) and makes a small rpc every 100 ms;
#   - `erlfwd remsh --via ...`: IEx on app@dyno in a tmux pane;
#   - while they run: one keeper and one --stdio a session in the dyno;
#   - every ssh of the scenario is killed with SIGKILL and the dyno refuses
#     ssh for 10 s, then again for 40 s: each agent says "tunnel lost (...),
#     resuming", then "tunnel back after N s, nothing lost"; the --stdio of
#     each dead carrier has ended (the keeper let go of it); the keeper logs
#     the carriers lost and the sessions resumed; no nodedown on either
#     side, no rpc failed, every binary intact, the IEx pane answers with
#     no ^G, its variable kept;
#   - the same once more, killing the dyno's --stdio processes instead;
#   - when the session ends, the keeper leaves: no keeper and no --stdio
#     are left in the dyno, and its socket is gone;
#   - the keeper's directory is its user's alone, and a --stdio that finds
#     it someone else's serves its carrier itself (one warning, no resume);
#   - a keeper takes carriers from its own user only: root's handoff to
#     nobody's keeper is refused, in one line.
set -u -o pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=cli.sh
. "$(dirname "$0")/cli.sh"
# shellcheck source=resume.sh
. "$(dirname "$0")/resume.sh"
e2e_init
cli_require
e2e_require_cmd tmux iex elixir
E2E_COOKIE="stdio-resume-$RANDOM$RANDOM"

e2e_dyno_start dyno
e2e_iex_node_start dyno app@dyno
e2e_local_epmd_start
umask 077
printf '%s\n' "$E2E_COOKIE" >"$E2E_TMP/cookie"
e2e_via dyno
via=$E2E_VIA

# dyno_procs KIND: the pids in the dyno of the keeper (keeper) or of
# erlfwd-server --stdio (stdio).
dyno_procs() {
	local p args want="$E2E_SERVER_BIN --stdio"
	# The keeper runs the same file under the name erlfwd-server.
	[[ $1 == keeper ]] && want="erlfwd-server --keeper-fd "
	for p in $(ip netns pids "$(e2e_ns dyno)" 2>/dev/null); do
		args=$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null) || continue
		[[ $args == "$want"* ]] && echo "$p"
	done
}
count_procs() {
	dyno_procs "$1" | grep -c .
}
none_left() {
	(( $(count_procs keeper) == 0 && $(count_procs stdio) == 0 ))
}

resume_watcher_start "$via" 32
e2e_tmux_start remsh env ERL_EPMD_PORT="$E2E_LOCAL_EPMD" \
    "$CLI_BIN" remsh --via "$via" --cookie-file "$E2E_TMP/cookie"
e2e_tmux_wait remsh '^iex\(app@dyno\)1> ' 30
e2e_tmux_send remsh 'kept = 40' Enter
e2e_tmux_wait remsh '^40$'
e2e_assert_eq "1 2" "$(count_procs keeper) $(count_procs stdio)" \
    "one keeper and one erlfwd-server --stdio a session in the dyno"
keeper=$(dyno_procs keeper)
klog=$(readlink -f "/proc/$keeper/fd/2")
# The log is the key's, kept across keepers (a dyno of an earlier run may
# have had this namespace's inode): ours, from its start line on.
klog_from=$(grep -n "msg=keeper sock=" "$klog" | tail -n 1 | cut -d: -f1)
klog_count() {
	tail -n +"$klog_from" "$klog" | grep -acF -- "$1"
}
e2e_assert_match "$klog" '^/tmp/erlfwd-0/keeper-[0-9a-f]{16}\.log$' \
    "the keeper logs to its file in /tmp/erlfwd-0"
e2e_assert_eq "700 0" "$(stat -c '%a %u' /tmp/erlfwd-0)" \
    "the keeper's directory is root's alone"
# sshd waits for the session's pipes to close: the keeper holds none but
# the carrier's, and lets go of those with it.
e2e_assert_eq "/dev/null /dev/null" \
    "$(readlink "/proc/$keeper/fd/0") $(readlink "/proc/$keeper/fd/1")" \
    "the keeper's own stdin and stdout are /dev/null"

# gone PID...: none of them runs.
gone() {
	local p
	for p; do
		e2e_alive "$p" && return 1
	done
	return 0
}

# drop N HOW SECS: end both carriers (HOW: the ssh clients on this side,
# or the dyno's --stdio processes), refuse ssh for SECS; both sessions
# resume, in the same keeper.
drop() {
	local n=$1 how=$2 secs=$3 pids old
	old=$(dyno_procs stdio)
	case $how in
	ssh)	pids=$(resume_ssh_pids) ;;
	stdio)	pids=$old ;;
	esac
	[[ -n $pids ]] || e2e_fail "drop $n: nothing to kill ($how)"
	# shellcheck disable=SC2086 # one pid a word
	resume_kill "$n" $pids
	# shellcheck disable=SC2086 # one pid a word
	e2e_wait_until 10 "the dead carriers' --stdio to end" gone $old
	resume_back "$n" "$secs"
	e2e_assert_eq "$keeper" "$(dyno_procs keeper)" \
	    "drop $n: the same keeper holds both sessions"
	e2e_assert_eq "$(( 2 * n ))" "$(klog_count "msg=carrier resumed ")" \
	    "drop $n: the keeper logged both sessions resumed"
	e2e_tmux_send remsh "kept + $n" Enter
	e2e_tmux_wait remsh "^$(( 40 + n ))\$" 10
	e2e_log "ok: drop $n: the same IEx shell answers, its variable kept, no ^G typed"
}

drop 1 ssh 10
drop 2 ssh 40
drop 3 stdio 2
e2e_tmux_screen remsh >/dev/null
e2e_assert_eq 0 "$(e2e_count "$E2E_TMP/remsh.pane" "Shell process terminated")" \
    "the IEx shell never died"
cli_tmux_quit remsh
# The rpcs go on after the last drop (one 32 MiB binary ahead of a small
# rpc on the node's one connection holds it a while).
sleep 3
resume_watcher_report
line=$RESUME_LINE
e2e_assert_match "$line" ' nodedown=0 ' "no nodedown on the local node"
e2e_assert_match "$line" ' remote_nodedown=0 ' "no nodedown on app@dyno"
e2e_assert_match "$line" ' big_bad=0 ' "every 32 MiB binary arrived with its MD5"
e2e_assert_match "$line" ' big_ok=([3-9]|[1-9][0-9]+) ' "binaries went on across the drops"
e2e_assert_match "$line" ' small_bad=0 ' "no small rpc failed"
e2e_assert_match "$line" ' small_since_mark=([3-9]|[1-9][0-9]+)$' \
    "small rpcs went on after the last drop"
e2e_assert_eq 6 "$(klog_count "msg=carrier lost ")" \
    "the keeper logged each carrier lost: two a drop"
e2e_wait_until 10 "the keeper and every --stdio to end with the session" none_left
e2e_assert_eq 0 "$(klog_count "not resumed in time")" "no session expired"
e2e_assert_eq 1 "$(klog_count "msg=keeper leaving ")" "the keeper said it was leaving"
e2e_assert_true "the keeper's socket is gone with it" e2e_not test -e "${klog%.log}.sock"
e2e_log "ok: the session over, no keeper and no --stdio are left"

# A keeper's directory that is not the user's alone: no keeper, the
# carrier served by its --stdio, one warning on the agent's stderr.
e2e_via dyno "TMPDIR=$E2E_TMP/shared $E2E_SERVER_BIN --stdio"
mkdir -p "$E2E_TMP/shared/erlfwd-0"
chmod 0755 "$E2E_TMP/shared/erlfwd-0"
cli_run names --via "$E2E_VIA"
e2e_assert_eq 0 "$CLI_RC" "names, the directory open to others: exit 0"
e2e_assert_match "$CLI_ERR" 'msg=no keeper reason=.*erlfwd-0 is not a directory of uid 0.s alone \(owner 0, mode 755\)" resume=none' \
    "names, the directory open to others: one warning, no resume"
e2e_assert_eq "" "$(ls "$E2E_TMP/shared/erlfwd-0")" "nothing was put in it"

# Only the keeper's own user hands it a carrier: a keeper of nobody's, and
# root (whom its directory's mode does not stop) handing it stdin and
# stdout: refused, one line, and nobody's carrier goes on.
nb=$E2E_TMP/nobody
mkdir -p "$nb"
chmod 711 "$E2E_TMP"
chmod 1777 "$nb"
cp "$E2E_SERVER_BIN" "$nb/erlfwd-server"
chmod 755 "$nb/erlfwd-server"
e2e_spawn nobody-stdio sh -c "sleep 8 | runuser -u nobody -- env TMPDIR='$nb' \
    '$nb/erlfwd-server' --stdio >/dev/null"
nbsock() {
	compgen -G "$nb/erlfwd-$(id -u nobody)/keeper-*.sock"
}
nb_up() {
	nbsock >/dev/null
}
e2e_wait_until 5 "nobody's keeper" nb_up
answer=$(python3 - "$(nbsock)" <<'PY'
import array, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.settimeout(3)
# The keeper may close before the handoff is even sent: closed, too.
try:
    s.sendmsg([b"\x01"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
        array.array("i", [0, 1]))])
    b = s.recv(1)
    print("taken" if b == b"\x01" else "closed" if b == b"" else "other")
except (ConnectionResetError, BrokenPipeError):
    print("closed")
except socket.timeout:
    print("no answer")
PY
)
e2e_assert_eq closed "$answer" "root's handoff to nobody's keeper: closed, not taken"
nblog=$(compgen -G "$nb/erlfwd-$(id -u nobody)/keeper-*.log")
e2e_wait_until 5 "nobody's keeper to log the refusal" \
    e2e_file_has "$nblog" 'outcome=refused reason="not our uid"'
e2e_assert_eq 0 "$(grep -c 'msg=carrier ' "$nblog")" \
    "nobody's own carrier goes on (no carrier line yet)"
e2e_pass
