#!/usr/bin/env bash
# run.sh: erlfwd under valgrind's memcheck.  Every run must end with no error
# and no leak (definite, indirect or possible); valgrind's own report for
# each run is kept in LOGDIR/NAME.log.
#
#   tests/valgrind/run.sh -o LOGDIR -s SERVER -l LIB -c CLIENT -d DRIVER UNIT...
#
#   UNIT...    the Check unit test binaries, run in one process (CK_FORK=no)
#              so that memcheck sees the code under test
#   SERVER     erlfwd-server, started by DRIVER (tests/valgrind/server_load)
#              under valgrind and sent a few hundred connections and
#              carriers of every kind, then SIGTERM; then once more with
#              --stdio, one carrier on its stdin and stdout through pipes,
#              which it must leave by itself when the carrier ends
#   LIB        liberlfwd.so, preloaded into CLIENT (tests/stress/
#              preload_stress built without a sanitizer): a few threads of
#              connects and lookups through the hooks
#
# The last line is "N passed, N failed, N skipped"; the exit status is 1 when
# any run failed.  Environment: VALGRIND (default valgrind), SERVER_ROUNDS
# (default 10), CLIENT_SECONDS (default 3), CLIENT_THREADS (default 4).
set -u -o pipefail

usage() {
	echo "usage: $0 -o LOGDIR -s SERVER -l LIB -c CLIENT -d DRIVER UNIT..." >&2
	exit 2
}

logdir='' server='' lib='' client='' driver=''
while getopts o:s:l:c:d: opt; do
	case $opt in
	o) logdir=$OPTARG ;;
	s) server=$OPTARG ;;
	l) lib=$OPTARG ;;
	c) client=$OPTARG ;;
	d) driver=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[[ -n $logdir && -n $server && -n $lib && -n $client && -n $driver ]] || usage

vg=${VALGRIND:-valgrind}
if ! command -v "$vg" >/dev/null 2>&1; then
	echo "valgrind: $vg not found (apt-get install valgrind)" >&2
	exit 1
fi
mkdir -p "$logdir"
rm -f "$logdir"/*.log
vgflags=(--error-exitcode=1 --leak-check=full
    '--errors-for-leak-kinds=definite,indirect,possible'
    '--show-leak-kinds=definite,indirect,possible' --track-fds=no)

passed=0 failed=0

# verdict NAME RC SECONDS DETAIL: one line per run, and the counts.
verdict() {
	local errs
	errs=$(grep -h 'ERROR SUMMARY' "$logdir/$1"*.log 2>/dev/null |
	    sed 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/' |
	    awk '{ s += $1 } END { print s + 0 }')
	if (( $2 == 0 )); then
		passed=$((passed + 1))
		printf 'ok    %-22s %6ss  %s errors  %s\n' "$1" "$3" "$errs" "$4"
	else
		failed=$((failed + 1))
		printf 'FAIL  %-22s %6ss  %s errors  %s (exit %d; see %s)\n' \
		    "$1" "$3" "$errs" "$4" "$2" "$logdir/$1.log"
		grep -h -A 20 -E 'Invalid|uninitialised|definitely|indirectly|possibly|Mismatched|FAIL' \
		    "$logdir/$1"*.log 2>/dev/null | head -n 60
	fi
}

secs() {
	echo "$(( ($(date +%s%N) - $1) / 100000000 ))" |
	    sed -E 's/^([0-9]*)([0-9])$/\1.\2/; s/^\./0./'
}

for bin in "$@"; do
	name=${bin##*/}
	t=$(date +%s%N)
	out=$(CK_FORK=no CK_DEFAULT_TIMEOUT=0 "$vg" "${vgflags[@]}" \
	    --log-file="$logdir/$name.log" "$bin" 2>&1)
	rc=$?
	verdict "$name" "$rc" "$(secs "$t")" "$(grep -E '^[0-9]+%: Checks' <<<"$out" | tail -n 1)"
done

t=$(date +%s%N)
out=$("$driver" -r "${SERVER_ROUNDS:-10}" -- "$vg" "${vgflags[@]}" \
    --log-file="$logdir/erlfwd-server.log" "$server" 2>"$logdir/erlfwd-server.stderr")
rc=$?
verdict erlfwd-server "$rc" "$(secs "$t")" "$(tail -n 1 <<<"$out")"
grep -v '^server_load: [0-9]' <<<"$out" || true

# The name must not start with "erlfwd-server": verdict globs NAME*.log.
t=$(date +%s%N)
out=$("$driver" -S -r "${SERVER_ROUNDS:-10}" -- "$vg" "${vgflags[@]}" \
    --log-file="$logdir/stdio-server.log" "$server" \
    2>"$logdir/stdio-server.stderr")
rc=$?
verdict stdio-server "$rc" "$(secs "$t")" "$(tail -n 1 <<<"$out")"
grep -v '^server_load: [0-9]' <<<"$out" || true

t=$(date +%s%N)
out=$("$vg" "${vgflags[@]}" --trace-children=yes \
    --trace-children-skip='/bin/true,/usr/bin/true' \
    --log-file="$logdir/liberlfwd-client.%p.log" "$client" \
    -t "${CLIENT_THREADS:-4}" -s "${CLIENT_SECONDS:-3}" "$lib" "$lib" \
    2>"$logdir/liberlfwd-client.stderr")
rc=$?
verdict liberlfwd-client "$rc" "$(secs "$t")" "$(head -n 1 <<<"$out" | cut -c1-120)"
[[ $rc == 0 ]] || cat "$logdir/liberlfwd-client.stderr"

printf '%d passed, %d failed, 0 skipped\n' "$passed" "$failed"
(( failed == 0 ))
