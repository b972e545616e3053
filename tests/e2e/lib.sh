# shellcheck shell=bash
#
# lib.sh: the shared library of erlfwd's end-to-end scenarios.
#
# A scenario sources this file, calls e2e_init, builds its world out of real
# parts and asserts on what they do:
#
#   laptop: the machine's own namespace     dyno: a network namespace
#   -----------------------------------     ---------------------------------
#   erl/iex + liberlfwd.so                  epmd on 4369, app@dyno (a BEAM)
#     | connect 127.0.0.1:TUNNEL                  ^ relays epmd lookups and
#     v                                           | dist to listed ports
#   ssh -L TUNNEL:127.0.0.1:9369 ==stdio==> sshd -i --> erlfwd-server :9369
#   epmd on a free port (the laptop's)      (started by ssh's ProxyCommand)
#
# Nothing is mocked: the dyno is an "ip netns" with only its loopback up and
# its own host name (a UTS namespace per process), the tunnel is OpenSSH with
# throwaway keys, the nodes are real BEAMs.
#
# Conventions:
#   - Every exported name starts with e2e_; helpers private to this file start
#     with e2e__.
#   - Setup functions either succeed or end the scenario with e2e_fail: a
#     scenario reads as a list of steps and assertions, with no error handling.
#   - Everything started is recorded, and e2e_cleanup (an EXIT trap) stops it
#     in reverse order, then deletes the namespaces, then kills whatever still
#     carries this scenario's mark in its environment.  It runs once, whether
#     the scenario passed, failed, was interrupted or timed out.
#   - No fixed sleep is used to synchronise: every wait polls every 50 ms up to
#     a deadline and fails with the log of whatever did not come up.
#   - Exit status: 0 pass, 1 fail, 77 skip (E2E_SKIP).
#
# Knobs (environment): E2E_OTP_LOCAL and E2E_OTP_REMOTE (a Debian root
# filesystem with erlang and elixir, as `make otp-matrix` builds: the laptop's,
# or the dynos', erl/epmd/iex/elixir come from there; default this machine's),
# E2E_BUILD (default REPO/build), E2E_KEEP=1 keeps the
# temporary directory, E2E_ID names the namespaces and the mark (default $$;
# run.sh passes its own so that it can sweep after a scenario it had to kill).

E2E_SKIP=77
E2E_POLL=0.05
E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
E2E_ROOT=$(cd "$E2E_DIR/../.." && pwd)
E2E_BUILD=${E2E_BUILD:-$E2E_ROOT/build}
E2E_PRELOAD_LIB=$E2E_BUILD/liberlfwd.so
E2E_SERVER_BIN=$E2E_BUILD/erlfwd-server
E2E_COOKIE=erlfwd_e2e_cookie
E2E_SERVER_PORT=9369	# erlfwd-server's default, inside a dyno
E2E_MARK_VAR=ERLFWD_E2E_MARK

# The cleanup stack: one "KIND ARG..." entry per thing to undo.
E2E_UNDO=()
E2E_CLEANED=0
E2E_TMP=
E2E_TUNNEL_PORT=
E2E_LOCAL_EPMD=
E2E_TMUX_SOCK=
E2E_RESULT=
E2E_RC=
E2E_ERR=
E2E_ERL_SEQ=0
declare -A E2E_DYNO_HOST=()
declare -A E2E_DYNO_LOCAL=()	# dynos that play a laptop: the local OTP
declare -A E2E_NODE_PID=()
declare -A E2E_TUNNEL_PIDS=()
declare -A E2E_TUNNEL_PORTS=()
declare -A E2E_SOCKS_PORTS=()
declare -A E2E_SOCKS_PIDS=()

# ---------------------------------------------------------------------------
# Reporting

# e2e_log: a progress line on stderr, with the seconds since e2e_init.
e2e_log() {
	local now=${EPOCHREALTIME/./}
	printf '[%6.2fs] %s\n' "$(( (now - ${E2E_T0:-$now}) / 10000 ))e-2" "$*" >&2
}

# e2e_fail: report MSG (and any further lines) as the reason of the failure,
# dump the logs of everything started, and end the scenario with status 1.
e2e_fail() {
	local line
	printf 'FAIL %s: %s\n' "${E2E_NAME:-e2e}" "$1" >&2
	shift
	for line in "$@"; do
		printf '    %s\n' "$line" >&2
	done
	e2e__dump_logs
	exit 1
}

# e2e_skip: the scenario cannot run here (no root, no build, ...): say why and
# end it with status 77.
e2e_skip() {
	printf 'SKIP %s: %s\n' "${E2E_NAME:-e2e}" "$*" >&2
	exit "$E2E_SKIP"
}

# e2e_pass: the scenario's last line.
e2e_pass() {
	e2e_log "all checks passed"
	printf 'PASS %s\n' "$E2E_NAME" >&2
	exit 0
}

# e2e__dump_logs: the tail of every log in the temporary directory, so that a
# failure in CI carries its evidence.
e2e__dump_logs() {
	local f dyno
	for dyno in "${!E2E_DYNO_HOST[@]}"; do
		printf -- '---- listening sockets in dyno %s\n' "$dyno" >&2
		ip netns exec "$(e2e_ns "$dyno")" ss -Hltnp 2>&1 |
		    sed 's/^/    /' >&2
	done
	[[ -n $E2E_TMP && -d $E2E_TMP ]] || return 0
	for f in "$E2E_TMP"/*.log "$E2E_TMP"/*.err "$E2E_TMP"/*.pane; do
		[[ -s $f ]] || continue
		printf -- '---- %s (last 30 lines)\n' "${f##*/}" >&2
		tail -n 30 "$f" | sed 's/^/    /' >&2
	done
}

# ---------------------------------------------------------------------------
# Assertions: each prints what it expected and what it got, then fails.

# e2e_assert_eq EXPECTED ACTUAL WHAT
e2e_assert_eq() {
	[[ $1 == "$2" ]] ||
	    e2e_fail "$3" "expected: '$1'" "actual:   '$2'"
	e2e_log "ok: $3"
}

# e2e_assert_ne UNEXPECTED ACTUAL WHAT
e2e_assert_ne() {
	[[ $1 != "$2" ]] || e2e_fail "$3" "did not expect: '$1'"
	e2e_log "ok: $3"
}

# e2e_assert_contains HAYSTACK NEEDLE WHAT: NEEDLE is a fixed string.
e2e_assert_contains() {
	[[ $1 == *"$2"* ]] ||
	    e2e_fail "$3" "expected to contain: '$2'" "actual: '$1'"
	e2e_log "ok: $3"
}

# e2e_assert_not_contains HAYSTACK NEEDLE WHAT
e2e_assert_not_contains() {
	[[ $1 != *"$2"* ]] ||
	    e2e_fail "$3" "expected not to contain: '$2'" "actual: '$1'"
	e2e_log "ok: $3"
}

# e2e_assert_match STRING REGEX WHAT: REGEX is a bash extended regex.
e2e_assert_match() {
	[[ $1 =~ $2 ]] ||
	    e2e_fail "$3" "expected to match: /$2/" "actual: '$1'"
	e2e_log "ok: $3"
}

# e2e_assert_le SMALL BIG WHAT: integers.
e2e_assert_le() {
	(( $1 <= $2 )) || e2e_fail "$3" "expected $1 <= $2"
	e2e_log "ok: $3"
}

# e2e_assert_true WHAT CMD...: CMD exits 0.
e2e_assert_true() {
	local what=$1
	shift
	"$@" || e2e_fail "$what" "command failed: $*"
	e2e_log "ok: $what"
}

# ---------------------------------------------------------------------------
# Setup and cleanup

# e2e_require_root: network namespaces need root (CAP_SYS_ADMIN); skip when
# they cannot be made here.
e2e_require_root() {
	local probe="erlfwd-$E2E_ID-probe"
	[[ $EUID -eq 0 ]] ||
	    e2e_skip "needs root for network namespaces (ip netns); run as root"
	command -v ip >/dev/null || e2e_skip "needs iproute2 (ip)"
	ip netns add "$probe" 2>/dev/null ||
	    e2e_skip "ip netns add failed: no network namespaces here"
	ip netns del "$probe"
}

# e2e_require_cmd CMD...: skip unless every CMD is installed.
e2e_require_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null ||
		    e2e_skip "needs '$c' (apt-get install the package that has it)"
	done
}

# e2e_require_build: skip until `make` has built the library and the server.
e2e_require_build() {
	[[ -f $E2E_PRELOAD_LIB ]] ||
	    e2e_skip "no $E2E_PRELOAD_LIB: run make first"
	[[ -x $E2E_SERVER_BIN ]] ||
	    e2e_skip "no $E2E_SERVER_BIN: run make first"
}

# e2e_init: call first in every scenario.  Checks root and the tools every
# scenario uses, makes the temporary directory and installs the traps.
# Variables of the caller's environment that would steer our processes are
# removed: the dyno's epmd must be on 4369, the laptop's where we say.
e2e_init() {
	E2E_NAME=$(basename "$0" .sh)
	E2E_ID=${E2E_ID:-$$}
	E2E_T0=${EPOCHREALTIME/./}
	unset LD_PRELOAD ERL_EPMD_PORT ERL_EPMD_ADDRESS ERL_FLAGS ERL_AFLAGS \
	    ERL_ZFLAGS ERLFWD_HOSTS ERLFWD_TUNNEL ERLFWD_DEBUG ERLFWD_BIND \
	    ERLFWD_TIMEOUT_MS ERLFWD_COOKIE ERLFWD_LIB \
	    RELEASE_COOKIE XDG_CONFIG_HOME XDG_CACHE_HOME XDG_DATA_HOME \
	    XDG_STATE_HOME MIX_HOME HEX_HOME
	e2e_require_root
	e2e_require_cmd timeout unshare ss socat
	e2e_sweep "$E2E_ID"	# leftovers of a killed run that had our pid
	# The id in the name lets e2e_sweep find it after a kill.
	E2E_TMP=$(mktemp -d "/tmp/erlfwd-e2e.$E2E_NAME.$E2E_ID.XXXXXX") ||
	    e2e_fail "mktemp failed"
	# Every process started from here on carries the mark; the final sweep
	# kills what still has it.  /proc/$$/environ shows the environment bash
	# was started with, so the scenario's own shell is never matched.
	export "$E2E_MARK_VAR=$E2E_ID"
	# An empty HOME of its own: nothing a previous run, another tool or
	# the person running the tests left there (~/.erlang.cookie, ~/.erlang,
	# ~/.iex.exs, ~/.ssh, ~/.mix) can make a scenario pass or fail.
	export HOME=$E2E_TMP/home
	mkdir -m 700 "$HOME" || e2e_fail "mkdir $HOME failed"
	e2e__otp_side local "${E2E_OTP_LOCAL:-}"
	e2e__otp_side remote "${E2E_OTP_REMOTE:-}"
	# The laptop's programs come first on PATH; a dyno's, in the dyno.
	[[ -n ${E2E_OTP_LOCAL:-} ]] && export PATH=$E2E_TMP/otp-local:$PATH
	e2e_require_cmd erl epmd
	trap e2e_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP
	e2e_log "scenario $E2E_NAME, id $E2E_ID, tmp $E2E_TMP"
}

# e2e_defer KIND ARG: push an undo action for e2e_cleanup: "pid PID" (stop
# it), "netns NAME" (stop what runs inside, delete it), "tmux SOCKET" (kill
# that tmux server).
e2e_defer() {
	E2E_UNDO+=("$*")
}

# e2e_alive PID: true while PID runs (a zombie counts as gone).
e2e_alive() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[[ ${stat:0:1} != [ZX] ]]
}

# e2e_stop PID...: SIGTERM, up to 3 s to go, then SIGKILL; returns when all
# are gone.
e2e_stop() {
	local pid left deadline
	kill -TERM "$@" 2>/dev/null
	deadline=$(( ${EPOCHREALTIME/./} + 3000000 ))
	while :; do
		left=()
		for pid in "$@"; do
			e2e_alive "$pid" && left+=("$pid")
		done
		(( ${#left[@]} )) || return 0
		(( ${EPOCHREALTIME/./} < deadline )) || break
		sleep "$E2E_POLL"
	done
	kill -KILL "${left[@]}" 2>/dev/null
	deadline=$(( ${EPOCHREALTIME/./} + 2000000 ))
	for pid in "${left[@]}"; do
		while e2e_alive "$pid" &&
		    (( ${EPOCHREALTIME/./} < deadline )); do
			sleep "$E2E_POLL"
		done
	done
}

# e2e__ns_kill NS: stop every process inside network namespace NS.
e2e__ns_kill() {
	local pids
	pids=$(ip netns pids "$1" 2>/dev/null) || return 0
	[[ -n $pids ]] || return 0
	# shellcheck disable=SC2086 # one pid per word
	e2e_stop $pids
}

# e2e_sweep ID: kill every process whose environment carries mark ID, delete
# every namespace named erlfwd-ID-* and (unless E2E_KEEP=1) the temporary
# directories of scenario ID.  The last line of defence, used by
# e2e_cleanup and by run.sh after a scenario that it had to kill.
e2e_sweep() {
	local id=$1 ns pids=() f pid
	unset "$E2E_MARK_VAR"	# grep below must not carry the mark itself
	while read -r f; do
		pid=${f#/proc/}
		pid=${pid%/environ}
		[[ $pid == "$$" || $pid == "$BASHPID" ]] || pids+=("$pid")
	done < <(grep -laxz -- "$E2E_MARK_VAR=$id" /proc/[0-9]*/environ \
	    2>/dev/null)
	(( ${#pids[@]} )) && e2e_stop "${pids[@]}"
	for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do
		[[ $ns == "erlfwd-$id-"* ]] || continue
		e2e__ns_kill "$ns"
		ip netns del "$ns" 2>/dev/null
	done
	[[ ${E2E_KEEP:-0} == 1 ]] || rm -rf /tmp/erlfwd-e2e.*."$id".*
	return 0
}

# e2e_cleanup: undo everything in reverse order, sweep, remove the temporary
# directory (kept with E2E_KEEP=1).  Processes are signalled in reverse order
# of their start and then waited for together (a BEAM takes a moment to stop);
# namespaces go last, with anything still inside them.  Idempotent; signals
# are ignored while it runs so that a second ^C cannot leave half a world
# behind.
e2e_cleanup() {
	local rc=$? i kind arg pids=() nss=()
	(( E2E_CLEANED )) && return "$rc"
	E2E_CLEANED=1
	trap '' INT TERM HUP
	for (( i = ${#E2E_UNDO[@]} - 1; i >= 0; i-- )); do
		read -r kind arg <<<"${E2E_UNDO[i]}"
		case $kind in
		pid)	e2e_alive "$arg" && pids+=("$arg") ;;
		tmux)	tmux -L "$arg" kill-server 2>/dev/null ;;
		netns)	nss+=("$arg") ;;
		esac
	done
	E2E_UNDO=()
	(( ${#pids[@]} )) && e2e_stop "${pids[@]}"
	for arg in "${nss[@]}"; do
		e2e__ns_kill "$arg"
		ip netns del "$arg" 2>/dev/null
	done
	e2e_sweep "$E2E_ID"
	if [[ -n $E2E_TMP && -d $E2E_TMP ]]; then
		if [[ ${E2E_KEEP:-0} == 1 ]]; then
			printf 'kept %s\n' "$E2E_TMP" >&2
		else
			rm -rf "$E2E_TMP"
		fi
	fi
	return "$rc"
}

# e2e_spawn LOG CMD...: start CMD in the background, output in $E2E_TMP/LOG.log;
# its pid in E2E_LAST_PID.  Stopped by e2e_cleanup.
e2e_spawn() {
	local log=$1
	shift
	# A shell function would run in a subshell whose pid is not the
	# program's, and stopping it would leave the program running.
	[[ $(type -t "$1") == file ]] ||
	    e2e_fail "e2e_spawn: '$1' is not a program"
	"$@" >"$E2E_TMP/$log.log" 2>&1 </dev/null &
	E2E_LAST_PID=$!
	disown "$E2E_LAST_PID"	# no "Terminated" notices when cleanup kills it
	e2e_defer pid "$E2E_LAST_PID"
}

# ---------------------------------------------------------------------------
# Waiting

# e2e_wait_until SECONDS WHAT CMD...: poll CMD every 50 ms until it succeeds;
# fail after SECONDS.
e2e_wait_until() {
	local secs=$1 what=$2 deadline
	shift 2
	deadline=$(( ${EPOCHREALTIME/./} + secs * 1000000 ))
	until "$@"; do
		(( ${EPOCHREALTIME/./} < deadline )) ||
		    e2e_fail "timed out after ${secs}s waiting for $what"
		sleep "$E2E_POLL"
	done
}

# e2e_is_listening [-n DYNO] PORT: true when a TCP socket listens on PORT (in
# the dyno's namespace with -n).  Reads the socket table rather than
# connecting, so that a server that logs every connection logs none.
e2e_is_listening() {
	local pre=()
	if [[ $1 == -n ]]; then
		pre=(ip netns exec "$(e2e_ns "$2")")
		shift 2
	fi
	[[ $1 =~ ^[0-9]+$ ]] || e2e_fail "e2e_is_listening: bad port '$1'"
	[[ -n $("${pre[@]}" ss -Hltn "sport = :$1" 2>/dev/null) ]]
}

# e2e_wait_port [-n DYNO] PORT [SECONDS]: wait until a TCP port accepts
# connections (something listens on it); default 10 s.
e2e_wait_port() {
	local ns=()
	if [[ $1 == -n ]]; then
		ns=(-n "$2")
		shift 2
	fi
	e2e_wait_until "${2:-10}" "TCP port $1 ${ns[1]:+in ${ns[1]} }to listen" \
	    e2e_is_listening "${ns[@]}" "$1"
}

# e2e_wait_port_closed [-n DYNO] PORT [SECONDS]: the reverse.
e2e_wait_port_closed() {
	local ns=()
	if [[ $1 == -n ]]; then
		ns=(-n "$2")
		shift 2
	fi
	e2e_wait_until "${2:-10}" "TCP port $1 ${ns[1]:+in ${ns[1]} }to close" \
	    e2e_not e2e_is_listening "${ns[@]}" "$1"
}

# e2e_not CMD...: true when CMD fails (for e2e_wait_until, e2e_assert_true).
e2e_not() {
	! "$@"
}

# e2e_file_has FILE STRING: FILE exists and contains STRING.
e2e_file_has() {
	grep -qF -- "$2" "$1" 2>/dev/null
}

# e2e_free_port VAR: set VAR to a TCP port nothing listens on, below the
# ephemeral range so that no outgoing connection takes it in the meantime.
# Never the same one twice per scenario.  (A variable, not output: a command
# substitution would run in a subshell and forget the ports already given.)
e2e_free_port() {
	local e2e__p e2e__tries	# names unlike any caller's VAR
	for (( e2e__tries = 0; e2e__tries < 200; e2e__tries++ )); do
		e2e__p=$(( 20000 + (RANDOM * 32768 + RANDOM) % 12000 ))
		[[ " ${E2E_PORTS_TAKEN:-} " == *" $e2e__p "* ]] && continue
		e2e_is_listening "$e2e__p" && continue
		E2E_PORTS_TAKEN="${E2E_PORTS_TAKEN:-} $e2e__p"
		printf -v "$1" '%s' "$e2e__p"
		return 0
	done
	e2e_fail "no free TCP port found"
}

# ---------------------------------------------------------------------------
# Dynos: network namespaces with their own host name

# e2e_ns DYNO: the namespace's name.
e2e_ns() {
	printf 'erlfwd-%s-%s\n' "$E2E_ID" "$1"
}

# e2e_dyno_create DYNO [HOSTNAME]: a network namespace with only its loopback
# up; its processes see HOSTNAME (default DYNO) as the host name.
e2e_dyno_create() {
	local dyno=$1 ns
	ns=$(e2e_ns "$dyno")
	ip netns add "$ns" || e2e_fail "ip netns add $ns failed"
	e2e_defer netns "$ns"
	ip netns exec "$ns" ip link set lo up ||
	    e2e_fail "cannot bring lo up in $ns"
	E2E_DYNO_HOST[$dyno]=${2:-$dyno}
	e2e_log "dyno $dyno: namespace $ns, host name ${E2E_DYNO_HOST[$dyno]}"
}

# e2e__dyno_cmd DYNO: set E2E_DYNO_CMD to the command prefix that runs a
# program inside the dyno, in a UTS namespace of its own that carries the
# dyno's host name.  Every step execs the next: the pid of the prefix is the
# program's.
e2e__dyno_cmd() {
	local path=$PATH
	# A dyno runs the remote OTP, unless it plays a laptop (E2E_DYNO_LOCAL).
	if [[ -z ${E2E_DYNO_LOCAL[$1]:-} ]]; then
		path=${PATH#"$E2E_TMP/otp-local:"}
		[[ -n ${E2E_OTP_REMOTE:-} ]] && path=$E2E_TMP/otp-remote:$path
	fi
	# shellcheck disable=SC2016 # expanded by sh -c, not here
	E2E_DYNO_CMD=(ip netns exec "$(e2e_ns "$1")" unshare --uts
	    env PATH="$path" sh -c 'hostname "$0" && exec "$@"'
	    "${E2E_DYNO_HOST[$1]}")
}

# e2e__otp_side SIDE ROOT: with ROOT (a root filesystem with erlang and
# elixir), $E2E_TMP/otp-SIDE holds erl, epmd, iex, elixir, escript and erlc
# that run ROOT's, chrooted, in a mount namespace of their own where /proc,
# /dev, /sys, /tmp and the repository are bound at their own paths (the
# library, the build, the scenario's files and HOME are where the caller
# left them).  Each step execs the next: the pid is the program's.
e2e__otp_side() {
	local side=$1 root=$2 dir prog binds
	[[ -n $root ]] || return 0
	[[ -x $root/usr/bin/erl ]] || e2e_skip "no erl in $root (make otp-matrix)"
	e2e_log "the $side side runs OTP $(cat "$root"/usr/lib/erlang/releases/*/OTP_VERSION 2>/dev/null) from $root"
	dir=$E2E_TMP/otp-$side
	mkdir -p "$dir" || e2e_fail "mkdir $dir failed"
	binds="/proc /dev /sys /tmp $E2E_ROOT"
	[[ $E2E_BUILD == "$E2E_ROOT"/* ]] || binds+=" $E2E_BUILD"
	for prog in erl epmd iex elixir escript erlc; do
		# shellcheck disable=SC2016 # expanded by the wrapper's shells
		printf '#!/bin/bash\n# %s from %s (tests/e2e/lib.sh)\nexec unshare -m /bin/sh -c %q sh %q %q %q "$@"\n' \
		    "$prog" "$root" \
		    'root=$1 binds=$2; shift 2
		     for d in $binds; do
		         mkdir -p "$root$d" && mount --rbind "$d" "$root$d" || exit 126
		     done
		     exec chroot "$root" /usr/bin/env \
		         PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin \
		         /bin/sh -c "cd \"\$0\" 2>/dev/null || cd /; exec \"\$@\"" "$PWD" "$@"' \
		    "$root" "$binds" "$prog" >"$dir/$prog" &&
		    chmod 755 "$dir/$prog" || e2e_fail "cannot write $dir/$prog"
	done
}

# e2e_dyno_exec DYNO CMD...: run CMD in the foreground inside the dyno.
e2e_dyno_exec() {
	e2e__dyno_cmd "$1"
	shift
	"${E2E_DYNO_CMD[@]}" "$@"
}

# e2e_dyno_spawn DYNO LOG CMD...: the same in the background (see e2e_spawn).
e2e_dyno_spawn() {
	local dyno=$1 log=$2
	shift 2
	e2e__dyno_cmd "$dyno"
	e2e_spawn "$log" "${E2E_DYNO_CMD[@]}" "$@"
}

# e2e_epmd_start DYNO: the dyno's epmd, in the foreground on the default port
# 4369 (inside the namespace), and wait until it listens.
e2e_epmd_start() {
	e2e_dyno_spawn "$1" "epmd-$1" epmd
	E2E_EPMD_PID=$E2E_LAST_PID
	e2e_wait_port -n "$1" 4369
	e2e_log "dyno $1: epmd pid $E2E_EPMD_PID on 4369"
}

# e2e_dyno_start DYNO [HOSTNAME]: a dyno with its epmd running.
e2e_dyno_start() {
	e2e_dyno_create "$@"
	e2e_epmd_start "$1"
}

# e2e_epmd_names DYNO: `epmd -names` inside the dyno (its own 4369).
e2e_epmd_names() {
	ip netns exec "$(e2e_ns "$1")" timeout 10 epmd -names 2>&1
}

# e2e_node_port DYNO NAME: the port the dyno's epmd has for node NAME (the
# part before '@'); prints nothing when it is not registered.
e2e_node_port() {
	e2e_epmd_names "$1" |
	    awk -v n="$2" '$1 == "name" && $2 == n && $4 == "port" {print $5}'
}

# e2e_node_start DYNO NODE [ERL_ARGS...]: a real node "-sname NODE" in the
# dyno (cookie E2E_COOKIE, no shell), and wait until it has booted and is
# registered.  Its OS pid lands in E2E_NODE_PID[NODE].
e2e_node_start() {
	e2e__node_start -sname "$@"
}

# e2e_node_start_long DYNO NODE [ERL_ARGS...]: the same with "-name NODE"
# (app@web.1, app@127.0.0.1).
e2e_node_start_long() {
	e2e__node_start -name "$@"
}

e2e__node_start() {
	local flag=$1 dyno=$2 node=$3 ready
	shift 3
	ready="$E2E_TMP/node-$node.ready"
	# The node says it has booted by writing its pid; -eval runs last.
	e2e_dyno_spawn "$dyno" "node-$node" erl "$flag" "$node" \
	    -setcookie "$E2E_COOKIE" -noinput "$@" \
	    -eval "ok = file:write_file(\"$ready.tmp\", os:getpid()),
	           ok = file:rename(\"$ready.tmp\", \"$ready\")."
	e2e_wait_until 30 "node $node to boot in dyno $dyno" \
	    e2e__node_ready "$ready" "$E2E_LAST_PID"
	E2E_NODE_PID[$node]=$(<"$ready")
	e2e_wait_until 10 "node $node to register with epmd in dyno $dyno" \
	    e2e_node_registered "$dyno" "${node%@*}"
	e2e_log "dyno $dyno: node $node pid ${E2E_NODE_PID[$node]}," \
	    "port $(e2e_node_port "$dyno" "${node%@*}")"
}

e2e__node_ready() {
	[[ -s $1 ]] && return 0
	e2e_alive "$2" || e2e_fail "the node exited before it booted"
	return 1
}

# e2e_node_registered DYNO NAME: true when the dyno's epmd lists NAME.
e2e_node_registered() {
	[[ -n $(e2e_node_port "$1" "$2") ]]
}

# e2e_server_start DYNO [ARGS...]: build/erlfwd-server inside the dyno, and
# wait for its "msg=listening" line.  Its log is $E2E_TMP/server-DYNO.log, its
# pid E2E_SERVER_PID.
e2e_server_start() {
	local dyno=$1
	shift
	E2E_SERVER_LOG="$E2E_TMP/server-$dyno.log"
	e2e_dyno_spawn "$dyno" "server-$dyno" "$E2E_SERVER_BIN" "$@"
	E2E_SERVER_PID=$E2E_LAST_PID
	e2e_wait_until 10 "erlfwd-server to log msg=listening" \
	    e2e__server_ready "$E2E_SERVER_LOG" "$E2E_SERVER_PID"
	e2e_log "dyno $dyno: erlfwd-server pid $E2E_SERVER_PID $*"
}

e2e__server_ready() {
	e2e_file_has "$1" "msg=listening" && return 0
	e2e_alive "$2" || e2e_fail "erlfwd-server exited at start"
	return 1
}

# e2e_server_conn_lines: the server's per-connection lines so far (those with
# an outcome=), one a line.
e2e_server_conn_lines() {
	grep -a 'outcome=' "$E2E_SERVER_LOG" 2>/dev/null
}

# ---------------------------------------------------------------------------
# The tunnel: OpenSSH, as a developer would forward one port

# e2e__ssh_setup: throwaway host and client keys and an sshd_config in the
# temporary directory.  sshd runs on demand ("sshd -i", as inetd would) inside
# the dyno, started by ssh's ProxyCommand: no port, no daemon.
e2e__ssh_setup() {
	[[ -f $E2E_TMP/sshd_config ]] && return 0
	e2e_require_cmd ssh ssh-keygen
	[[ -x /usr/sbin/sshd ]] ||
	    e2e_skip "needs /usr/sbin/sshd (apt-get install openssh-server)"
	mkdir -p /run/sshd	# sshd's privilege separation directory
	ssh-keygen -q -t ed25519 -N '' -C e2e-host -f "$E2E_TMP/host_key" ||
	    e2e_fail "ssh-keygen (host key) failed"
	ssh-keygen -q -t ed25519 -N '' -C e2e-client -f "$E2E_TMP/client_key" ||
	    e2e_fail "ssh-keygen (client key) failed"
	cp "$E2E_TMP/client_key.pub" "$E2E_TMP/authorized_keys"
	cat >"$E2E_TMP/sshd_config" <<-EOF
		HostKey $E2E_TMP/host_key
		AuthorizedKeysFile $E2E_TMP/authorized_keys
		PermitRootLogin prohibit-password
		PasswordAuthentication no
		KbdInteractiveAuthentication no
		AllowTcpForwarding yes
		UsePAM no
		StrictModes no
		PidFile none
		LogLevel ERROR
	EOF
}

# e2e_tunnel_up DYNO [REMOTE_PORT]: "ssh -L PORT:127.0.0.1:REMOTE_PORT" into
# the dyno (default the server's 9369), and wait until PORT listens.  PORT is
# chosen free the first time and kept for that dyno (a tunnel taken down
# comes back on the same port), in E2E_TUNNEL_PORTS[DYNO]; E2E_TUNNEL_PORT is
# the port of the tunnel brought up last, the default route of local nodes.
e2e_tunnel_up() {
	local dyno=$1 rport=${2:-$E2E_SERVER_PORT} port
	port=${E2E_TUNNEL_PORTS[$dyno]:-}
	[[ -n $port ]] || e2e_free_port port
	E2E_TUNNEL_PORTS[$dyno]=$port
	E2E_TUNNEL_PORT=$port
	e2e__ssh "ssh-$dyno" "$dyno" -L "127.0.0.1:$port:127.0.0.1:$rport"
	E2E_TUNNEL_PIDS[$dyno]=$E2E_LAST_PID
	e2e_wait_until 15 "the ssh tunnel on 127.0.0.1:$port" \
	    e2e__tunnel_ready "$port" "$E2E_LAST_PID"
	e2e_log "tunnel: ssh pid $E2E_LAST_PID," \
	    "127.0.0.1:$port -> dyno $dyno 127.0.0.1:$rport"
}

# e2e__ssh LOG DYNO SSH_ARGS...: a background ssh -N into the dyno, through
# an sshd -i started inside its namespace by ProxyCommand.
e2e__ssh() {
	local log=$1 dyno=$2
	shift 2
	e2e__ssh_setup
	e2e_spawn "$log" ssh -F /dev/null -n -N "$@" \
	    -o "ProxyCommand=ip netns exec $(e2e_ns "$dyno") /usr/sbin/sshd -i -e -f $E2E_TMP/sshd_config" \
	    -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
	    -o BatchMode=yes -o ExitOnForwardFailure=yes -o LogLevel=ERROR \
	    -o ConnectTimeout=10 -o IdentitiesOnly=yes \
	    -i "$E2E_TMP/client_key" "root@${E2E_DYNO_HOST[$dyno]}"
}

# e2e_socks_up DYNO: "ssh -D PORT" into the dyno, a SOCKS5 proxy whose
# connections start inside it (what heroku ps:socks offers); wait until PORT
# listens.  PORT is free and chosen here, in E2E_SOCKS_PORTS[DYNO]; ssh's
# pid is E2E_SOCKS_PIDS[DYNO].
e2e_socks_up() {
	local dyno=$1 port
	e2e_free_port port
	# shellcheck disable=SC2034 # read by the scenarios
	E2E_SOCKS_PORTS[$dyno]=$port
	e2e__ssh "socks-$dyno" "$dyno" -D "127.0.0.1:$port"
	# shellcheck disable=SC2034 # read by the scenarios
	E2E_SOCKS_PIDS[$dyno]=$E2E_LAST_PID
	e2e_wait_until 15 "the ssh SOCKS proxy on 127.0.0.1:$port" \
	    e2e__tunnel_ready "$port" "$E2E_LAST_PID"
	e2e_log "socks: ssh pid $E2E_LAST_PID, 127.0.0.1:$port -> dyno $dyno"
}

# e2e_via DYNO [REMOTE_COMMAND]: set E2E_VIA to a command for `erlfwd
# --via` that runs REMOTE_COMMAND (a command line for the remote shell;
# default: build/erlfwd-server --stdio, by its absolute path) in the dyno through a real OpenSSH exec channel, the
# way `heroku run:inside DYNO COMMAND` does: "ssh ... root@HOST
# REMOTE_COMMAND", with no terminal, its stdin and stdout the byte pipe.
# ProxyCommand starts an sshd -i inside the dyno's namespace, in a UTS
# namespace carrying the dyno's host name (erlfwd-server's INFO names it)
# and a mount namespace whose /root (root's home there) is an empty tmpfs,
# so that no dotfile of this machine prints or decides anything.  E2E_VIA
# is one line for sh -c; ssh's command line holds "root@HOST", for finding
# it among a process's children.
e2e_via() {
	local dyno=$1 remote=${2:-"$E2E_SERVER_BIN --stdio"} proxy inner
	e2e__ssh_setup
	proxy="$E2E_TMP/proxy-$dyno.sh"
	printf -v inner 'hostname %q && mount -t tmpfs -o mode=0700 tmpfs /root && exec /usr/sbin/sshd -i -e -f %q' \
	    "${E2E_DYNO_HOST[$dyno]}" "$E2E_TMP/sshd_config"
	printf '#!/bin/sh\nexec ip netns exec %q unshare --uts --mount sh -c %q\n' \
	    "$(e2e_ns "$dyno")" "$inner" >"$proxy" ||
	    e2e_fail "cannot write $proxy"
	chmod +x "$proxy"
	printf -v E2E_VIA '%q ' ssh -F /dev/null -T -o "ProxyCommand=$proxy" \
	    -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
	    -o BatchMode=yes -o LogLevel=ERROR -o ConnectTimeout=10 \
	    -o IdentitiesOnly=yes -i "$E2E_TMP/client_key" \
	    "root@${E2E_DYNO_HOST[$dyno]}"
	E2E_VIA+=$(printf '%q' "$remote")
	e2e_log "via: $E2E_VIA"
}

e2e__tunnel_ready() {
	e2e_is_listening "$1" && return 0
	e2e_alive "$2" || e2e_fail "ssh exited"
	return 1
}

# e2e_tunnel_down DYNO: stop that dyno's tunnel; wait until its port no longer
# listens.
e2e_tunnel_down() {
	local dyno=$1 pid=${E2E_TUNNEL_PIDS[$1]:-}
	[[ -n $pid ]] || return 0
	e2e_stop "$pid"
	E2E_TUNNEL_PIDS[$dyno]=
	e2e_wait_port_closed "${E2E_TUNNEL_PORTS[$dyno]}"
	e2e_log "tunnel to $dyno: down"
}

# e2e_world [SERVER_ARGS...]: the usual world.  Dyno "dyno" (host name dyno)
# with its epmd and node app@dyno, erlfwd-server with SERVER_ARGS, the ssh
# tunnel to it, and the laptop's epmd.
e2e_world() {
	e2e_dyno_start dyno
	e2e_node_start dyno app@dyno
	e2e_server_start dyno "$@"
	e2e_tunnel_up dyno
	e2e_local_epmd_start
}

# ---------------------------------------------------------------------------
# The laptop: local epmd and local nodes under the preload

# e2e_local_epmd_start: an epmd for the local nodes on a free port (never
# 4369: the machine's own epmd, if any, is left alone, and the two sides of
# the tunnel use different epmd ports), loopback only.  Sets E2E_LOCAL_EPMD.
e2e_local_epmd_start() {
	e2e_free_port E2E_LOCAL_EPMD
	e2e_spawn local-epmd epmd -port "$E2E_LOCAL_EPMD" -address 127.0.0.1,::1
	e2e_wait_port "$E2E_LOCAL_EPMD"
	e2e_log "laptop: epmd pid $E2E_LAST_PID on $E2E_LOCAL_EPMD"
}

# e2e_local_epmd_names: `epmd -names` of the local epmd.
e2e_local_epmd_names() {
	ERL_EPMD_PORT=$E2E_LOCAL_EPMD timeout 10 epmd -names 2>&1
}

# e2e_preload_env: print the environment of a preloaded local process, one
# VAR=VALUE a line, from E2E_HOSTS (ERLFWD_HOSTS, default "dyno"),
# E2E_PRELOAD (0: no library), E2E_DEBUG (0: no ERLFWD_DEBUG) and E2E_BIND.
e2e_preload_env() {
	[[ ${E2E_PRELOAD:-1} == 1 ]] && printf 'LD_PRELOAD=%s\n' "$E2E_PRELOAD_LIB"
	printf 'ERLFWD_HOSTS=%s\n' "${E2E_HOSTS-dyno}"
	[[ -n $E2E_TUNNEL_PORT ]] &&
	    printf 'ERLFWD_TUNNEL=127.0.0.1:%s\n' "$E2E_TUNNEL_PORT"
	[[ ${E2E_DEBUG:-1} == 1 ]] && printf 'ERLFWD_DEBUG=1\n'
	[[ -n ${E2E_BIND:-} ]] && printf 'ERLFWD_BIND=%s\n' "$E2E_BIND"
	[[ -n $E2E_LOCAL_EPMD ]] && printf 'ERL_EPMD_PORT=%s\n' "$E2E_LOCAL_EPMD"
	return 0
}

# e2e_erl_eval NAMEFLAG NAME EXPR [ERL_ARGS...]: a short-lived local node
# (-sname or -name NAME, hidden, cookie E2E_COOKIE) under the preload (see
# e2e_preload_env) evaluates the Erlang expression EXPR and halts; bounded by
# `timeout 30`.  Sets E2E_RC (its exit status), E2E_RESULT (EXPR's value,
# printed on one line with ~p; {e2e_crash, Class, Reason} when it raised),
# E2E_ERR (its stderr) and E2E_ERR_FILE.
# Returns 0: the caller asserts on what it wants.
e2e_erl_eval() {
	local flag=$1 name=$2 expr=$3 out env
	shift 3
	E2E_ERL_SEQ=$(( E2E_ERL_SEQ + 1 ))
	out="$E2E_TMP/erl-$E2E_ERL_SEQ"
	E2E_ERR_FILE="$out.err"
	mapfile -t env < <(e2e_preload_env)
	printf '%s\n' "${env[@]}" "erl $flag $name $* -eval $expr" >"$out.cmd"
	timeout -k 5 30 env "${env[@]}" erl "$flag" "$name" \
	    -setcookie "$E2E_COOKIE" -hidden -noinput "$@" \
	    -eval "R = try begin $expr end catch C:E -> {e2e_crash, C, E} end,
	           io:format(\"E2E_RESULT=~s~n\", [io_lib:print(R, 1, 100000, -1)]),
	           halt()." >"$out.out" 2>"$E2E_ERR_FILE"
	E2E_RC=$?
	E2E_RESULT=$(sed -n 's/^E2E_RESULT=//p' "$out.out")
	# shellcheck disable=SC2034 # read by the scenarios
	E2E_ERR=$(<"$E2E_ERR_FILE")
	e2e_log "local erl #$E2E_ERL_SEQ ($flag $name): rc $E2E_RC," \
	    "result: ${E2E_RESULT:-<none>}"
	if [[ -z $E2E_RESULT ]]; then
		sed 's/^/    stdout: /' "$out.out" >&2
		sed 's/^/    stderr: /' "$E2E_ERR_FILE" >&2
	fi
	return 0
}

# ---------------------------------------------------------------------------
# Raw bytes against erlfwd-server

# e2e_frame TAG PORT LEN: print the 10-byte preamble as a printf format
# ("EFWD", version 1, TAG, PORT and LEN big endian).
e2e_frame() {
	printf 'EFWD\\x01\\x%02x\\x%02x\\x%02x\\x%02x\\x%02x' "$1" \
	    $(( $2 >> 8 )) $(( $2 & 255 )) $(( $3 >> 8 )) $(( $3 & 255 ))
}

# e2e_raw [-n DYNO] PORT FORMAT [SECONDS]: send printf FORMAT's bytes to
# 127.0.0.1:PORT (inside the dyno with -n), half-close, and collect what comes
# back until the peer closes, within SECONDS (default 5).  Sets E2E_RAW_FILE
# (the reply's bytes) and E2E_RAW_HEX (the same as one hex string).
e2e_raw() {
	local pre=()
	if [[ $1 == -n ]]; then
		pre=(ip netns exec "$(e2e_ns "$2")")
		shift 2
	fi
	E2E_RAW_SEQ=$(( ${E2E_RAW_SEQ:-0} + 1 ))
	E2E_RAW_FILE="$E2E_TMP/raw-$E2E_RAW_SEQ.bin"
	# shellcheck disable=SC2059 # FORMAT is a printf format on purpose
	printf "$2" | timeout -k 2 "${3:-5}" "${pre[@]}" \
	    socat -t "${3:-5}" - "TCP:127.0.0.1:$1" >"$E2E_RAW_FILE" 2>/dev/null
	# shellcheck disable=SC2034 # read by the scenarios
	E2E_RAW_HEX=$(od -An -v -tx1 "$E2E_RAW_FILE" | tr -d ' \n')
}

# e2e_hex STRING: STRING's bytes as hex, to compare with e2e_raw's output.
e2e_hex() {
	printf '%s' "$1" | od -An -v -tx1 | tr -d ' \n'
}

# ---------------------------------------------------------------------------
# tmux: interactive shells as a person would drive them

# e2e_tmux_start SESSION CMD...: run CMD in a detached 200x50 tmux window on
# this scenario's own tmux server.  The pane stays after CMD exits, so that
# its last screen can be read.
e2e_tmux_start() {
	local session=$1 cmd
	shift
	e2e_require_cmd tmux
	if [[ -z $E2E_TMUX_SOCK ]]; then
		E2E_TMUX_SOCK="erlfwd-e2e-$E2E_ID"
		e2e_defer tmux "$E2E_TMUX_SOCK"
	fi
	printf -v cmd '%q ' "$@"
	TERM=xterm-256color tmux -L "$E2E_TMUX_SOCK" -f /dev/null \
	    new-session -d -s "$session" -x 200 -y 50 "$cmd" ||
	    e2e_fail "tmux new-session failed"
	tmux -L "$E2E_TMUX_SOCK" set-option -t "$session" remain-on-exit on \
	    >/dev/null
	e2e_defer pid "$(tmux -L "$E2E_TMUX_SOCK" display-message -p \
	    -t "$session" '#{pane_pid}')"
}

# e2e_tmux_send SESSION KEYS...: type KEYS (tmux send-keys syntax: "Enter").
e2e_tmux_send() {
	local session=$1
	shift
	tmux -L "$E2E_TMUX_SOCK" send-keys -t "$session" "$@"
}

# e2e_tmux_screen SESSION: the pane's text, history included, wrapped lines
# joined; also saved in $E2E_TMP/SESSION.pane.
e2e_tmux_screen() {
	tmux -L "$E2E_TMUX_SOCK" capture-pane -p -J -S - -t "$1" |
	    tee "$E2E_TMP/$1.pane"
}

# e2e_tmux_wait SESSION REGEX [SECONDS]: wait until a line of the pane matches
# the extended regex REGEX (default 20 s).
e2e_tmux_wait() {
	e2e_wait_until "${3:-20}" "/$2/ in tmux session $1" \
	    e2e__tmux_has "$1" "$2"
	e2e_log "tmux $1: saw /$2/"
}

e2e__tmux_has() {
	e2e_tmux_screen "$1" | grep -qE -- "$2"
}

# ---------------------------------------------------------------------------
# Faults, restarts and long-lived local nodes (the fault, abuse, integrity
# and soak scenarios)

declare -A E2E_LNODE_PID=()
declare -A E2E_LNODE_SEQ=()

# e2e_cc NAME: build tests/e2e/NAME.c, linked with the deadline I/O the
# product uses (preload/common/tio.c), into $E2E_TMP/NAME with the machine's
# cc (C11; warnings are errors where the Makefile makes them so: CI or
# WERROR set); skip the scenario when there is no cc.
e2e_cc() {
	local src="$E2E_DIR/$1.c" common="$E2E_ROOT/preload/common" werror=()
	command -v cc >/dev/null || e2e_skip "needs a C compiler (cc) for $1.c"
	[[ -n ${CI:-}${WERROR:-} ]] && werror=(-Werror)
	cc -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra "${werror[@]}" \
	    -I"$common" -o "$E2E_TMP/$1" "$src" "$common/tio.c" \
	    >"$E2E_TMP/cc-$1.log" 2>&1 ||
	    e2e_fail "cc $src failed" "$(cat "$E2E_TMP/cc-$1.log")"
}

# e2e_frame_hex TAG PORT LEN: the preamble e2e_frame describes, as a hex
# string (for programs that take bytes in hex, like peer.c).
e2e_frame_hex() {
	# shellcheck disable=SC2059 # e2e_frame prints a printf format
	printf "$(e2e_frame "$@")" | od -An -v -tx1 | tr -d ' \n'
}

# e2e_count FILE STRING: print how many lines of FILE contain the fixed
# string STRING (0 when FILE does not exist).
e2e_count() {
	local n
	n=$(grep -acF -- "$2" "$1" 2>/dev/null)
	printf '%s\n' "${n:-0}"
}

# e2e_wait_count SECONDS FILE STRING N: wait until at least N lines of FILE
# contain STRING.
e2e_wait_count() {
	e2e_wait_until "$1" "$4 lines with '$3' in ${2##*/}" \
	    e2e__count_at_least "$2" "$3" "$4"
}

e2e__count_at_least() {
	(( $(e2e_count "$1" "$2") >= $3 ))
}

# e2e_proc_fds PID: how many file descriptors PID has open.
e2e_proc_fds() {
	local fds=("/proc/$1/fd/"*)
	[[ -e ${fds[0]} ]] || { echo 0; return 0; }
	echo "${#fds[@]}"
}

# e2e_proc_rss_kb PID: PID's resident set size in kB (VmRSS).
e2e_proc_rss_kb() {
	awk '$1 == "VmRSS:" {print $2}' "/proc/$1/status" 2>/dev/null
}

# e2e_server_start_watched DYNO [ARGS...]: e2e_server_start with a shell in
# between that writes the server's exit status to E2E_SERVER_EXIT ("exit=N")
# when it ends.  E2E_SERVER_PID is the server's own pid, so that a signal
# reaches the server alone.  The server's lines are appended to
# E2E_SERVER_LOG: a restarted server's lines follow the previous one's.
e2e_server_start_watched() {
	local dyno=$1 base before
	shift
	base="$E2E_TMP/server-$dyno"
	E2E_SERVER_LOG="$base.log"
	E2E_SERVER_EXIT="$base.exit"
	rm -f "$E2E_SERVER_EXIT" "$base.pid"
	before=$(e2e_count "$E2E_SERVER_LOG" msg=listening)
	# shellcheck disable=SC2016 # expanded by sh -c
	e2e_dyno_spawn "$dyno" "server-$dyno-watch" sh -c '
		base=$0
		"$@" 2>>"$base.log" &
		echo $! >"$base.pid"
		wait $!
		echo "exit=$?" >"$base.exit.tmp"
		mv "$base.exit.tmp" "$base.exit"' "$base" "$E2E_SERVER_BIN" "$@"
	e2e_wait_until 10 "the watched erlfwd-server's pid" \
	    e2e__server_watch_ready "$base.pid" "$E2E_LAST_PID"
	E2E_SERVER_PID=$(<"$base.pid")
	e2e_defer pid "$E2E_SERVER_PID"
	e2e_wait_until 10 "erlfwd-server to log msg=listening" \
	    e2e__count_above "$E2E_SERVER_LOG" msg=listening "$before"
	e2e_log "dyno $dyno: erlfwd-server pid $E2E_SERVER_PID (watched) $*"
}

e2e__server_watch_ready() {
	[[ -s $1 ]] && return 0
	e2e_alive "$2" || e2e_fail "erlfwd-server's watcher exited at start"
	return 1
}

e2e__count_above() {
	[[ -e $E2E_SERVER_EXIT ]] &&
	    e2e_fail "erlfwd-server exited at start: $(<"$E2E_SERVER_EXIT")"
	(( $(e2e_count "$1" "$2") > $3 ))
}

# e2e_server_wait_exit [SECONDS]: wait (default 10 s) until the server
# started by e2e_server_start_watched has ended; its "exit=N" line in
# E2E_SERVER_STATUS.
e2e_server_wait_exit() {
	e2e_wait_until "${1:-10}" "erlfwd-server to exit" \
	    test -e "$E2E_SERVER_EXIT"
	E2E_SERVER_STATUS=$(<"$E2E_SERVER_EXIT")
	e2e_log "erlfwd-server ended: $E2E_SERVER_STATUS"
}

# e2e_node_stop DYNO NODE: stop a node started by e2e_node_start (SIGTERM,
# which the BEAM takes as init:stop()), and wait until the dyno's epmd no
# longer lists it; e2e_node_start can then start it again.
e2e_node_stop() {
	local dyno=$1 node=$2
	[[ -n ${E2E_NODE_PID[$node]:-} ]] ||
	    e2e_fail "e2e_node_stop: no node $node was started"
	e2e_stop "${E2E_NODE_PID[$node]}"
	rm -f "$E2E_TMP/node-$node.ready"
	unset "E2E_NODE_PID[$node]"
	e2e_wait_until 10 "node $node to leave epmd in dyno $dyno" \
	    e2e_not e2e_node_registered "$dyno" "${node%@*}"
	e2e_log "dyno $dyno: node $node stopped"
}

# e2e_lnode_start NAME [ERL_ARGS...]: a long-lived local node "-sname NAME"
# (hidden, cookie E2E_COOKIE) under the preload (see e2e_preload_env), for
# scenarios that keep one node across faults.  It appends every nodeup and
# nodedown it sees (net_kernel:monitor_nodes, hidden nodes included) to
# $E2E_TMP/lnode-NAME/events, one "nodeup NODE" or "nodedown NODE" line each,
# and evaluates, one after the other, the expressions e2e_lnode_eval hands
# it.  Returns once it has booted; its OS pid is E2E_LNODE_PID[NAME].
e2e_lnode_start() {
	local name=$1 dir env
	shift
	dir="$E2E_TMP/lnode-$name"
	mkdir -p "$dir" || e2e_fail "mkdir $dir failed"
	mapfile -t env < <(e2e_preload_env)
	printf '%s\n' "${env[@]}" "erl -sname $name $*" >"$dir/cmd"
	# The agent reads requests in.N and writes answers out.N (written
	# aside and renamed, so that neither side sees half a file).
	e2e_spawn "lnode-$name" env "${env[@]}" erl -sname "$name" \
	    -setcookie "$E2E_COOKIE" -hidden -noinput "$@" -eval "
	Dir = \"$dir\",
	Put = fun(F, Data) ->
		ok = file:write_file(F ++ \".tmp\", Data),
		ok = file:rename(F ++ \".tmp\", F)
	end,
	Self = self(),
	spawn_link(fun() ->
		ok = net_kernel:monitor_nodes(true, [{node_type, all}]),
		Self ! monitoring,
		Watch = fun Watch() ->
			receive {E, N, _} ->
				ok = file:write_file(Dir ++ \"/events\",
				    io_lib:format(\"~s ~s~n\", [E, N]), [append]),
				Watch()
			end
		end,
		Watch()
	end),
	receive monitoring -> ok end,
	Put(Dir ++ \"/ready\", os:getpid()),
	Serve = fun Serve(Seq) ->
		F = Dir ++ \"/in.\" ++ integer_to_list(Seq),
		case file:read_file(F) of
		{ok, Src} ->
			R = try
				{ok, Ts, _} = erl_scan:string(binary_to_list(Src)),
				{ok, Es} = erl_parse:parse_exprs(Ts),
				{value, V, _} = erl_eval:exprs(Es, []),
				V
			catch C:E -> {e2e_crash, C, E}
			end,
			Put(Dir ++ \"/out.\" ++ integer_to_list(Seq),
			    io_lib:format(\"~s~n\", [io_lib:print(R, 1, 100000, -1)])),
			Serve(Seq + 1);
		{error, enoent} ->
			receive after 20 -> ok end,
			Serve(Seq)
		end
	end,
	Serve(1)."
	E2E_LNODE_PID[$name]=$E2E_LAST_PID
	e2e_wait_until 30 "local node $name to boot" \
	    e2e__node_ready "$dir/ready" "$E2E_LAST_PID"
	e2e_log "laptop: local node $name pid $(<"$dir/ready")"
}

# e2e_lnode_eval NAME EXPR [SECONDS]: have local node NAME evaluate the
# Erlang expression EXPR (no final dot), and wait for it up to SECONDS
# (default 30).  Sets E2E_RESULT (its value on one line, ~p; {e2e_crash,
# Class, Reason} when it raised).  Fails the scenario when the node exits or
# does not answer in time.
e2e_lnode_eval() {
	local name=$1 expr=$2 secs=${3:-30} dir seq
	dir="$E2E_TMP/lnode-$name"
	seq=$(( ${E2E_LNODE_SEQ[$name]:-0} + 1 ))
	E2E_LNODE_SEQ[$name]=$seq
	if ! printf '%s\n.\n' "$expr" >"$dir/in.$seq.tmp" ||
	    ! mv "$dir/in.$seq.tmp" "$dir/in.$seq"; then
		e2e_fail "cannot write $dir/in.$seq"
	fi
	e2e_wait_until "$secs" "local node $name to evaluate #$seq: $expr" \
	    e2e__lnode_answered "$dir/out.$seq" "${E2E_LNODE_PID[$name]}"
	E2E_RESULT=$(<"$dir/out.$seq")
	e2e_log "local node $name #$seq: ${E2E_RESULT:0:200}"
}

e2e__lnode_answered() {
	[[ -e $1 ]] && return 0
	e2e_alive "$2" || e2e_fail "the local node exited"
	return 1
}

# e2e_lnode_events NAME LINE: print how many times local node NAME has
# recorded the event LINE ("nodedown app@dyno").
e2e_lnode_events() {
	local n
	n=$(grep -cxF -- "$2" "$E2E_TMP/lnode-$1/events" 2>/dev/null)
	printf '%s\n' "${n:-0}"
}

# e2e_lnode_wait_event NAME LINE N [SECONDS]: wait (default 10 s) until
# local node NAME has recorded the event LINE at least N times.
e2e_lnode_wait_event() {
	e2e_wait_until "${4:-10}" "'$2' #$3 on local node $1" \
	    e2e__lnode_event_at_least "$1" "$2" "$3"
	e2e_log "local node $1: saw '$2' #$3"
}

e2e__lnode_event_at_least() {
	(( $(e2e_lnode_events "$1" "$2") >= $3 ))
}
