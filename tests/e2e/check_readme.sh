#!/usr/bin/env bash
# check_readme.sh: tests/e2e/README.md's table of scenarios lists every
# tests/e2e/t_*.sh, and nothing else.  Prints one line per difference and
# exits 1 when there is one; otherwise prints the count.  Run by `make unit`,
# so a new scenario without a row fails at once; needs no root.
set -u -o pipefail

dir=$(cd "$(dirname "$0")" && pwd)
readme=$dir/README.md
status=0 files=() rows=()

for f in "$dir"/t_*.sh; do
	f=${f##*/}
	files+=("${f%.sh}")
done
# A row: "| t_name | what it shows |".
while IFS= read -r name; do
	rows+=("$name")
done < <(sed -n 's/^| \(t_[A-Za-z0-9_]*\) |.*/\1/p' "$readme")

for f in "${files[@]}"; do
	# A here-string, not a pipe: grep -q leaving early would fail the
	# printf with SIGPIPE, and pipefail would report a missing row.
	grep -qx -- "$f" <<<"$(printf '%s\n' "${rows[@]}")" ||
		{ echo "tests/e2e/README.md: no row for $f.sh"; status=1; }
done
for r in "${rows[@]}"; do
	[[ -f $dir/$r.sh ]] ||
		{ echo "tests/e2e/README.md: a row for $r, but no $r.sh"; status=1; }
done
dups=$(printf '%s\n' "${rows[@]}" | sort | uniq -d)
[[ -z $dups ]] || { echo "tests/e2e/README.md: rows twice: $dups"; status=1; }
if (( status == 0 )); then
	echo "tests/e2e/README.md lists all ${#files[@]} scenarios"
fi
exit "$status"
