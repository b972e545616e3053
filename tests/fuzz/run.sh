#!/usr/bin/env bash
# run.sh: run erlfwd's libFuzzer targets, each for a bounded time, and print
# one line per target: executions, executions per second, crashes.
#
#   tests/fuzz/run.sh [-t SECONDS] [-k DIR] build/fuzz/fuzz_frame ...
#
# Each target starts from its committed seeds (tests/fuzz/corpus/NAME, read
# only) and its dictionary (tests/fuzz/NAME.dict).  What it learns goes to
# DIR/NAME when -k is given (kept between runs: `make fuzz`), else to a
# temporary directory removed afterwards (`make fuzz-smoke`): nothing is ever
# written into tests/fuzz.  A crash, leak or timeout input is saved as
# ARTIFACTS/NAME/crash-... (beside the binary) and the sanitizer's report
# is shown; the exit status is 1 when any target found one.
#
# Environment: FUZZ_TIMEOUT (seconds one input may take, default 5: a
# matcher gone quadratic shows up here), FUZZ_MAX_LEN (default 4096, and for
# info a whole INFO frame of FRAME_INFO_BODY_MAX), FUZZ_ARGS (more libFuzzer
# flags).
set -u -o pipefail

here=$(cd "$(dirname "$0")" && pwd)
seconds=60 keep=
while getopts t:k: opt; do
	case $opt in
	t) seconds=$OPTARG ;;
	k) keep=$OPTARG ;;
	*)
		echo "usage: $0 [-t SECONDS] [-k DIR] BINARY..." >&2
		exit 2
		;;
	esac
done
shift $((OPTIND - 1))
if (( $# == 0 )); then
	echo "usage: $0 [-t SECONDS] [-k DIR] BINARY..." >&2
	exit 2
fi

tmp=$(mktemp -d /tmp/erlfwd-fuzz.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# stat NAME LOG: libFuzzer's final statistic NAME from LOG, or "?".
stat() {
	local v
	v=$(sed -n "s/^stat::$1: *//p" "$2" | tail -n 1)
	echo "${v:-?}"
}

total_crashes=0 total_execs=0
printf '%-12s %12s %10s %8s %8s\n' target executions exec/s new crashes
for bin in "$@"; do
	name=${bin##*/fuzz_}
	if [[ ! -x $bin ]]; then
		echo "fuzz: no such program: $bin" >&2
		total_crashes=$((total_crashes + 1))
		continue
	fi
	seeds=$here/corpus/$name
	if [[ -n $keep ]]; then
		work=$keep/$name
	else
		work=$tmp/$name
	fi
	mkdir -p "$work"
	art=$(dirname "$bin")/artifacts/$name
	log=$(dirname "$bin")/logs/$name.log
	rm -rf "$art"
	mkdir -p "$art" "$(dirname "$log")"
	maxlen=4096
	if [[ $name == info ]]; then
		# A whole reply: the header and the largest body frame.h allows.
		maxlen=$(sed -n 's/^#define FRAME_INFO_BODY_MAX[[:space:]]*\([0-9]*\).*/\1/p' \
		    "$here/../../tools/common/frame_info.h")
		maxlen=$((10 + ${maxlen:-16384}))
	fi
	args=(-max_total_time="$seconds" -timeout="${FUZZ_TIMEOUT:-5}"
	    -max_len="${FUZZ_MAX_LEN:-$maxlen}" -rss_limit_mb=2048
	    -print_final_stats=1 -artifact_prefix="$art/")
	[[ -f $here/$name.dict ]] && args+=(-dict="$here/$name.dict")
	# shellcheck disable=SC2206 # FUZZ_ARGS is a list of flags
	args+=(${FUZZ_ARGS:-})
	"$bin" "${args[@]}" "$work" "$seeds" >"$log" 2>&1
	rc=$?
	crashes=$(find "$art" -type f \( -name 'crash-*' -o -name 'leak-*' \
	    -o -name 'timeout-*' -o -name 'oom-*' \) | wc -l)
	if (( rc != 0 && crashes == 0 )); then
		crashes=1	# it died without leaving an input: count it
	fi
	execs=$(stat number_of_executed_units "$log")
	printf '%-12s %12s %10s %8s %8s\n' "$name" "$execs" \
	    "$(stat average_exec_per_sec "$log")" \
	    "$(stat new_units_added "$log")" "$crashes"
	if (( crashes > 0 )); then
		echo "--- $name: exit status $rc; the end of $log:"
		tail -n 40 "$log"
		find "$art" -type f -printf "--- reproduce: $bin %p\n"
	fi
	[[ $execs =~ ^[0-9]+$ ]] && total_execs=$((total_execs + execs))
	total_crashes=$((total_crashes + crashes))
done
printf '%d target(s), %d executions, %d crash(es)\n' $# "$total_execs" \
    "$total_crashes"
(( total_crashes == 0 ))
