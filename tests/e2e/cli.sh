# shellcheck shell=bash
#
# cli.sh: helpers for the scenarios of the erlfwd command (t_cli_*.sh,
# t_buildpack.sh, t_heroku_remsh.sh, t_release.sh), over lib.sh.  Source it
# after lib.sh.  Names start with cli_.

CLI_BIN=${E2E_CLI_BIN:-$E2E_BUILD/erlfwd}	# E2E_CLI_BIN: another build of it
CLI_SEQ=0
# E2E_MODE=libfree (run.sh's library-free runs, with ERLFWD_PRELOAD=off):
# what erlfwd remsh says of its mode in its first line.
if [[ ${E2E_MODE:-} == libfree ]]; then
	CLI_MODE_NOTE=", library-free"
else
	CLI_MODE_NOTE=""
fi

# cli_mode_check WHAT: this scenario's local BEAMs (those outside every
# dyno's network namespace), at least one, are as their mode has them.
# Under the preload: liberlfwd.so is mapped in them.  Library-free
# (E2E_MODE=libfree): it is not, their environment has no LD_PRELOAD and
# no DYLD_* variable, and erlfwd_epmd is their epmd module (-epmd_module
# on their command line, from ERL_AFLAGS).
cli_mode_check() {
	local what=$1 pid n=0 self
	self=$(readlink /proc/self/ns/net)
	for pid in $(pgrep -x beam.smp); do
		tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null |
		    grep -qx "$E2E_MARK_VAR=$E2E_ID" || continue
		[[ $(readlink "/proc/$pid/ns/net" 2>/dev/null) == "$self" ]] ||
			continue
		n=$(( n + 1 ))
		if [[ ${E2E_MODE:-} == libfree ]]; then
			e2e_assert_true "$what: no liberlfwd.so in local node $pid" \
			    e2e_not grep -q liberlfwd "/proc/$pid/maps"
			e2e_assert_true "$what: no LD_PRELOAD or DYLD_* in its environment" \
			    e2e_not grep -qaE '(^|\x00)(LD_PRELOAD|DYLD_[A-Z_]*)=' \
			    "/proc/$pid/environ"
			e2e_assert_contains "$(tr '\0' ' ' <"/proc/$pid/cmdline")" \
			    "-epmd_module erlfwd_epmd" "$what: its epmd module is erlfwd_epmd"
		else
			e2e_assert_true "$what: liberlfwd.so is mapped in local node $pid" \
			    grep -q liberlfwd "/proc/$pid/maps"
		fi
	done
	(( n > 0 )) || e2e_fail "$what: no local node of this scenario is running"
}

# cli_require: skip until `make` has built build/erlfwd too.  Another build
# of it (E2E_CLI_BIN=build/posix/erlfwd: `make posix`) has no liberlfwd.so
# beside it: a copy runs from a directory of the scenario's where this
# build's library is, as `make` lays them out (ERLFWD_LIB would steer
# everything the scenario starts, the installed erlfwd of t_cli_run too).
cli_require() {
	local dir
	e2e_require_build
	[[ -x $CLI_BIN ]] || e2e_skip "no $CLI_BIN: run make first"
	[[ -n ${E2E_CLI_BIN:-} && $CLI_BIN == "$E2E_CLI_BIN" ]] || return 0
	dir=$(dirname "$E2E_CLI_BIN")
	mkdir -p "$E2E_TMP/cli" && cp "$E2E_CLI_BIN" "$E2E_TMP/cli/erlfwd" &&
	    ln -s "$E2E_PRELOAD_LIB" "$E2E_TMP/cli/liberlfwd.so" ||
	    e2e_fail "cannot lay out $E2E_CLI_BIN beside the library"
	[[ -d $dir/erlang ]] && ln -s "$(cd "$dir" && pwd)/erlang" "$E2E_TMP/cli/erlang"
	CLI_BIN=$E2E_TMP/cli/erlfwd
}

# cli_run ARGS...: build/erlfwd ARGS, bounded by `timeout 30`.  Sets CLI_RC,
# CLI_OUT (stdout), CLI_ERR (stderr) and CLI_MS (how long it took).  Returns 0:
# the caller asserts.
cli_run() {
	local base t0
	CLI_SEQ=$(( CLI_SEQ + 1 ))
	base="$E2E_TMP/cli-$CLI_SEQ"
	printf '%q ' erlfwd "$@" >"$base.cmd"
	t0=${EPOCHREALTIME/./}
	timeout -k 5 30 "$CLI_BIN" "$@" >"$base.out" 2>"$base.err" </dev/null
	CLI_RC=$?
	CLI_MS=$(( (${EPOCHREALTIME/./} - t0) / 1000 ))
	# shellcheck disable=SC2034 # read by the scenarios
	CLI_OUT=$(<"$base.out")
	CLI_ERR=$(<"$base.err")
	e2e_log "erlfwd $*: rc $CLI_RC in ${CLI_MS} ms"
	sed 's/^/    | /' "$base.out" "$base.err" >&2
	return 0
}

# cli_assert_one_line WHAT: CLI_ERR is exactly one line starting "erlfwd: ".
cli_assert_one_line() {
	e2e_assert_match "$CLI_ERR" '^erlfwd: [^
]+$' "$1: one 'erlfwd:' line on stderr"
}

# cli_tree PID: PID and all its descendants, one a line.
cli_tree() {
	local p kids
	printf '%s\n' "$1"
	kids=$(ps -o pid= --ppid "$1" 2>/dev/null) || return 0
	for p in $kids; do
		cli_tree "$p"
	done
}

# cli_assert_no_secret SECRET ROOTPID WHAT: SECRET is on the command line of
# no process of this machine but those inside a dyno's namespace (the remote
# nodes the harness starts with -setcookie), and on none of ROOTPID's tree.
# Logs the tree's command lines as evidence.
cli_assert_no_secret() {
	local secret=$1 root=$2 what=$3 pid args ns bad=()
	while read -r pid; do
		args=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || continue
		e2e_log "  $what: pid $pid: $args"
		[[ $args == *"$secret"* ]] && bad+=("pid $pid: $args")
	done < <(cli_tree "$root")
	while read -r pid args; do
		[[ $args == *"$secret"* ]] || continue
		ns=$(ip netns identify "$pid" 2>/dev/null)
		[[ $ns == "erlfwd-$E2E_ID-"* ]] && continue
		bad+=("pid $pid (outside the dyno): $args")
	done < <(ps -eo pid=,args=)
	(( ${#bad[@]} == 0 )) ||
	    e2e_fail "$what: the cookie is on a command line" "${bad[@]}"
	e2e_log "ok: $what: the cookie is on no command line of this machine"
}

# cli_tmux_pid SESSION: the pid of the process tmux started in SESSION's pane.
cli_tmux_pid() {
	tmux -L "$E2E_TMUX_SOCK" display-message -p -t "$1" '#{pane_pid}'
}

# cli_tmux_dead SESSION: true once the pane's program has exited.  tmux
# marks the pane dead some time after: a program that is a zombie already
# counts, as e2e_alive has it.
cli_tmux_dead() {
	local pid
	[[ $(tmux -L "$E2E_TMUX_SOCK" display-message -p -t "$1" \
	    '#{pane_dead}:#{pane_dead_status}#{pane_dead_signal}' 2>/dev/null) \
	    == 1:?* ]] && return 0
	pid=$(cli_tmux_pid "$1") || return 1
	! e2e_alive "$pid" && [[ -r /proc/$pid/stat ]]
}

# cli_tmux_status SESSION: the exit status of the pane's program, or
# "signal N": tmux's, else the zombie's own (the exit_code field of
# /proc/PID/stat, a wait status).
cli_tmux_status() {
	local st pid f ws
	st=$(tmux -L "$E2E_TMUX_SOCK" display-message -p -t "$1" \
	    '#{?pane_dead_signal,signal #{pane_dead_signal},#{pane_dead_status}}')
	if [[ -z $st ]]; then
		pid=$(cli_tmux_pid "$1")
		f=$(cat "/proc/$pid/stat" 2>/dev/null)
		read -r -a f <<<"${f##*) }"
		ws=${f[49]:-}
		if [[ -n $ws ]]; then
			if (( (ws & 127) == 0 )); then
				st=$(( (ws >> 8) & 255 ))
			else
				st="signal $(( ws & 127 ))"
			fi
		fi
	fi
	printf '%s\n' "$st"
}

# cli_home_of ROOTPID: the private HOME (-home DIR) of the beam.smp in
# ROOTPID's tree, or nothing.
cli_home_of() {
	local pid
	while read -r pid; do
		tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null |
		    grep -A1 -x -- -home | sed -n 2p
	done < <(cli_tree "$1") | grep -m1 erlfwd-home
}

# cli_tmux_quit SESSION: leave an erl or iex shell the way a person does, ^G
# then q at the user switch prompt, and wait (30 s) for the pane's program to
# exit.  Leaves the remote node alone (q(). in a remote shell would stop it).
# OTP 25's switch prompt can drop what is typed while it starts, so q is
# typed again while the prompt's line stays bare.
cli_tmux_quit() {
	local s=$1 deadline now last=0 line bare='^ --> *$'
	e2e_tmux_send "$s" C-g
	e2e_tmux_wait "$s" '^ --> ' 10
	deadline=$(( ${EPOCHREALTIME/./} + 30000000 ))
	until cli_tmux_dead "$s"; do
		now=${EPOCHREALTIME/./}
		(( now < deadline )) ||
		    e2e_fail "timed out after 30s waiting for the shell in tmux session $s to exit"
		line=$(e2e_tmux_screen "$s" | grep -v '^$' | tail -n 1)
		if [[ $line =~ $bare ]] && (( now - last > 2000000 )); then
			e2e_tmux_send "$s" q Enter
			last=$now
		fi
		sleep "$E2E_POLL"
	done
	e2e_log "tmux $s: the shell exited (^G q)"
}

# cli_agent_start NAME AGENT_ARGS...: `erlfwd agent AGENT_ARGS` in the
# background (with the caller's environment: `ERLFWD_PING_MS=1000
# cli_agent_start ...`), its stdout and stderr in $E2E_TMP/agent-NAME.log,
# and wait (30 s) until it prints its ERLFWD_TUNNEL= line.  Sets
# CLI_AGENT_PID, CLI_AGENT_PORT (that line's port) and CLI_AGENT_LOG.
cli_agent_start() {
	local name=$1 line
	shift
	CLI_AGENT_LOG=$E2E_TMP/agent-$name.log
	e2e_spawn "agent-$name" "$CLI_BIN" agent "$@"
	CLI_AGENT_PID=$E2E_LAST_PID
	e2e_wait_until 30 "erlfwd agent $name to print ERLFWD_TUNNEL=" \
	    cli__agent_up "$CLI_AGENT_LOG" "$CLI_AGENT_PID"
	line=$(grep -a -m1 '^ERLFWD_TUNNEL=' "$CLI_AGENT_LOG")
	[[ $line =~ ^ERLFWD_TUNNEL=127\.0\.0\.1:([0-9]+)$ ]] ||
	    e2e_fail "erlfwd agent $name printed '$line'"
	# shellcheck disable=SC2034 # read by the scenarios
	CLI_AGENT_PORT=${BASH_REMATCH[1]}
	e2e_log "laptop: erlfwd agent $name pid $CLI_AGENT_PID on 127.0.0.1:$CLI_AGENT_PORT"
}

cli__agent_up() {
	grep -aq '^ERLFWD_TUNNEL=' "$1" 2>/dev/null && return 0
	e2e_alive "$2" || e2e_fail "erlfwd agent exited" "$(cat "$1")"
	return 1
}
