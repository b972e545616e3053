#!/usr/bin/env bash
# run.sh: run erlfwd's end-to-end scenarios, one after the other.
#
#   bash tests/e2e/run.sh                 every tests/e2e/t_*.sh, then the
#                                         core ones again, library-free
#   bash tests/e2e/run.sh t_rpc t_names   only these (names or paths)
#   bash tests/e2e/run.sh --libfree [T..] only the library-free runs (of
#                                         these)
#
# A library-free run is the scenario with ERLFWD_PRELOAD=off, E2E_MODE=
# libfree and the POSIX build of erlfwd (build/posix/erlfwd, `make posix`;
# E2E_LIBFREE_CLI another), reported as NAME~libfree.  Those scenarios check
# their local nodes with cli_mode_check (cli.sh).
#
# One line per scenario (PASS t_rpc (2.1s) / FAIL ... / SKIP t_x: reason),
# the tail of a failing scenario's log below its line, and last exactly
# "N passed, N failed, N skipped".  Exits 1 when any scenario failed.
#
# Environment: E2E_TIMEOUT (seconds per scenario, default 120), E2E_LOGDIR
# (where the full logs go; default a new directory under /tmp, kept), and
# whatever lib.sh reads (E2E_BUILD, E2E_KEEP).
set -u -o pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

timeout_s=${E2E_TIMEOUT:-120}
logdir=${E2E_LOGDIR:-$(mktemp -d /tmp/erlfwd-e2e-logs.XXXXXX)}
mkdir -p "$logdir"

# The core paths, run again in the library-free mode: IEx and erl remote
# shells, rpc, names, two hosts, --via, a release's remote, Heroku's Cedar
# and Fir through their stand-ins.
libfree_core=(t_libfree t_cli_remsh t_cli_names t_release t_carrier_via
    t_heroku_remsh t_heroku_fir)

scenarios=() libfree_only=0
if [[ ${1:-} == --libfree ]]; then
	libfree_only=1
	shift
fi
if (( $# )); then
	for a in "$@"; do
		a=${a##*/}
		a=${a%.sh}
		[[ -f $here/$a.sh ]] || { echo "run.sh: no scenario $a" >&2; exit 2; }
		scenarios+=("$here/$a.sh")
	done
elif (( libfree_only )); then
	scenarios=("${libfree_core[@]/#/$here/}")
	scenarios=("${scenarios[@]/%/.sh}")
else
	scenarios=("$here"/t_*.sh)
fi
# Each entry: PATH or PATH~libfree.
runs=()
(( libfree_only )) || runs=("${scenarios[@]}")
if (( libfree_only )) || (( $# == 0 )); then
	for f in "${scenarios[@]}"; do
		for c in "${libfree_core[@]}"; do
			[[ ${f##*/} == "$c.sh" ]] && runs+=("$f~libfree")
		done
	done
fi
libfree_cli=${E2E_LIBFREE_CLI:-$E2E_BUILD/posix/erlfwd}

passed=0 failed=0 skipped=0 child="" id="" name=""
exec 3>&1	# on_signal may run inside the "wait 2>/dev/null" below
t_start=${EPOCHREALTIME/./}

# On ^C or SIGTERM: stop the running scenario (its own trap cleans up), then
# sweep whatever it could not, and stop.
on_signal() {
	trap '' INT TERM HUP
	if [[ -n $child ]]; then
		kill -TERM "$child" 2>/dev/null
		wait "$child" 2>/dev/null
	fi
	[[ -n $id ]] && e2e_sweep "$id"
	if [[ -n $name ]]; then
		failed=$(( failed + 1 ))
		echo "FAIL $name (interrupted)" >&3
	fi
	printf '%d passed, %d failed, %d skipped\n' "$passed" "$failed" \
	    "$skipped" >&3
	exit 130
}
trap on_signal INT TERM HUP

n=0
for r in "${runs[@]}"; do
	f=${r%~libfree}
	name=$(basename "$f" .sh)
	mode=()
	if [[ $r == *~libfree ]]; then
		name+="~libfree"
		if [[ ! -x $libfree_cli ]]; then
			skipped=$(( skipped + 1 ))
			echo "SKIP $name: no $libfree_cli (make posix)"
			name=
			continue
		fi
		mode=(E2E_MODE=libfree ERLFWD_PRELOAD=off E2E_CLI_BIN="$libfree_cli")
	fi
	log="$logdir/$name.log"
	n=$(( n + 1 ))
	id="r$$-$n"
	t0=${EPOCHREALTIME/./}
	# In the background and waited for, so that a signal reaches on_signal
	# at once rather than when the scenario ends.
	env "${mode[@]}" E2E_ID=$id timeout -k 20 "$timeout_s" bash "$f" \
	    >"$log" 2>&1 </dev/null &
	child=$!
	{ wait "$child"; } 2>/dev/null	# no "Killed" notice: reported below
	rc=$?
	child=
	# A scenario that was killed could not clean up after itself.
	e2e_sweep "$id"
	id=
	secs=$(( (${EPOCHREALTIME/./} - t0) / 100000 ))
	dur="$(( secs / 10 )).$(( secs % 10 ))s"
	case $rc in
	0)	passed=$(( passed + 1 ))
		echo "PASS $name ($dur)" ;;
	"$E2E_SKIP")
		skipped=$(( skipped + 1 ))
		reason=$(sed -n "s/^SKIP $name: //p" "$log" | tail -n 1)
		echo "SKIP $name: ${reason:-no reason given}" ;;
	*)	failed=$(( failed + 1 ))
		case $rc in
		124)	why="timed out after ${timeout_s}s" ;;
		137)	why="killed (timed out after ${timeout_s}s + 20s, or SIGKILL)" ;;
		1)	why="failed" ;;
		*)	why="exit status $rc" ;;
		esac
		echo "FAIL $name ($dur, $why; log: $log)"
		tail -n 40 "$log" | sed 's/^/    | /' ;;
	esac
	name=
done

secs=$(( (${EPOCHREALTIME/./} - t_start) / 1000000 ))
echo "e2e: ${#runs[@]} runs of ${#scenarios[@]} scenarios in ${secs}s, logs in $logdir"
printf '%d passed, %d failed, %d skipped\n' "$passed" "$failed" "$skipped"
(( failed == 0 ))
