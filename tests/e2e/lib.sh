# shellcheck shell=bash
#
# lib.sh: the harness of erlfwd's end-to-end scenarios: reporting,
# assertions, setup and cleanup, waiting, raw bytes, tmux, small probes.
# It sources world.sh, the builder of what the scenarios run against
# (dynos, the ssh tunnel, nodes), so a scenario sources this file alone.
#
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
E2E_TMUX_SOCK=

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
		# A pane's capture ends with the window's empty rows: without
		# them, so that its last 30 lines are the ones with text.
		sed -e :a -e '/^[[:space:]]*$/{$d;N;ba' -e '}' "$f" |
		    tail -n 30 | sed 's/^/    /' >&2
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
	    ERLFWD_TIMEOUT_MS ERLFWD_COOKIE ERLFWD_LIB ERLFWD_SOCKS_PASSWORD \
	    ERLFWD_SOCKS_PASSWORD_FILE \
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
# that tmux server), "path DIR" (remove it, after the namespaces: e.g. a
# namespace's /etc/netns/NAME).
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
	rm -rf /etc/netns/erlfwd-"$id"-*	# hosts files of such namespaces
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
	local rc=$? i kind arg pids=() nss=() paths=()
	(( E2E_CLEANED )) && return "$rc"
	E2E_CLEANED=1
	trap '' INT TERM HUP
	for (( i = ${#E2E_UNDO[@]} - 1; i >= 0; i-- )); do
		read -r kind arg <<<"${E2E_UNDO[i]}"
		case $kind in
		pid)	e2e_alive "$arg" && pids+=("$arg") ;;
		tmux)	tmux -L "$arg" kill-server 2>/dev/null ;;
		netns)	nss+=("$arg") ;;
		path)	paths+=("$arg") ;;
		esac
	done
	E2E_UNDO=()
	(( ${#pids[@]} )) && e2e_stop "${pids[@]}"
	for arg in "${nss[@]}"; do
		e2e__ns_kill "$arg"
		ip netns del "$arg" 2>/dev/null
	done
	for arg in "${paths[@]}"; do
		rm -rf -- "$arg"
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
# Small probes: build a helper program, count log lines, look at a process

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

# The builder: dynos, the tunnel, nodes (world.sh).
# shellcheck source=world.sh
. "$E2E_DIR/world.sh"
