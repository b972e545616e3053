#!/usr/bin/env bash
# run.sh: run erlfwd's Check unit suites and sum what they report.
#
#   tests/unit/run.sh build/tests/check_frame build/tests/check_config ...
#
# Each binary's own output is shown as it comes.  The counts come from the
# "NN%: Checks: C, Failures: F, Errors: E" line Check prints per run: C - F - E
# checks passed, F + E failed.  A binary that is missing, dies before that
# line, or exits nonzero without reporting a failure counts as one failed
# check.  Check has no notion of a skipped test, so skipped is always 0 here;
# the figure is printed to match tests/e2e/run.sh.  The last line is exactly
# "N passed, N failed, N skipped"; the exit status is 1 when any failed.
#
# Environment: whatever Check reads (CK_FORK=no, CK_VERBOSITY=verbose,
# CK_RUN_CASE=decode, CK_DEFAULT_TIMEOUT=10, ...).
set -u -o pipefail

if (( $# == 0 )); then
	echo "usage: $0 BINARY..." >&2
	exit 2
fi

passed=0 failed=0 skipped=0
out=$(mktemp /tmp/erlfwd-unit.XXXXXX)
trap 'rm -f "$out"' EXIT

for bin in "$@"; do
	name=${bin##*/}
	if [[ ! -x $bin ]]; then
		echo "$name: no such program ($bin)"
		failed=$(( failed + 1 ))
		continue
	fi
	"$bin" 2>&1 | tee "$out"
	rc=$?
	# A binary may run its suite more than once (check_relay: once per
	# relay mode): every summary line counts.
	mapfile -t lines < <(grep -E \
	    '^[0-9]+%: Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+' "$out")
	if (( ${#lines[@]} == 0 )); then
		echo "$name: exit status $rc and no Check summary"
		failed=$(( failed + 1 ))
		continue
	fi
	bad=0
	for line in "${lines[@]}"; do
		[[ $line =~ Checks:\ ([0-9]+),\ Failures:\ ([0-9]+),\ Errors:\ ([0-9]+) ]]
		c=${BASH_REMATCH[1]} f=${BASH_REMATCH[2]} e=${BASH_REMATCH[3]}
		passed=$(( passed + c - f - e ))
		bad=$(( bad + f + e ))
	done
	failed=$(( failed + bad ))
	if (( rc != 0 && bad == 0 )); then
		echo "$name: exit status $rc although every check passed"
		failed=$(( failed + 1 ))
	fi
done

printf '%d passed, %d failed, %d skipped\n' "$passed" "$failed" "$skipped"
(( failed == 0 ))
