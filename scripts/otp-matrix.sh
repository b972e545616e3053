#!/usr/bin/env bash
# otp-matrix.sh: the core end-to-end scenarios with the local and the remote
# node on every pair of the OTP releases Debian carries: this machine's
# (Debian 12: OTP 25) and those of the suites named in OTP_MATRIX_SUITES
# (trixie: OTP 27, sid: OTP 29), each in a root filesystem of its own.
#
#   make otp-matrix                     (root; builds first)
#   scripts/otp-matrix.sh [SCENARIO...] (default: the core list below)
#
# Steps:
#   1. the root filesystems: mmdebstrap SUITE with erlang and elixir, cached
#      in OTP_MATRIX_DIR/rootfs/SUITE (build/otp-matrix; never committed);
#      OTP_MATRIX_REFRESH=1 builds them again;
#   2. the binaries built here need nothing newer than GLIBC_2.34 (objdump
#      -T), and run unchanged in every root filesystem (--version);
#   3. every local x remote pair runs the scenarios (tests/e2e/run.sh with
#      E2E_OTP_LOCAL and E2E_OTP_REMOTE, see tests/e2e/lib.sh), logs in
#      OTP_MATRIX_DIR/logs/LOCAL-REMOTE/;
#   4. one table, on stdout and in OTP_MATRIX_DIR/table.md.
# Exit status: 0 when every pair passed every scenario, else 1.
#
# Environment: OTP_MATRIX_SUITES (default "trixie sid"), OTP_MATRIX_MIRROR
# (default http://deb.debian.org/debian), OTP_MATRIX_DIR, OTP_MATRIX_REFRESH,
# E2E_BUILD (default REPO/build), E2E_TIMEOUT (per scenario).
set -u -o pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
dir=${OTP_MATRIX_DIR:-$repo/build/otp-matrix}
read -r -a suites <<<"${OTP_MATRIX_SUITES:-trixie sid}"
mirror=${OTP_MATRIX_MIRROR:-http://deb.debian.org/debian}
build=${E2E_BUILD:-$repo/build}
glibc_max=2.34
core=(t_rpc t_names t_longnames t_ipv6 t_remsh_erl t_bind t_bind_client
    t_cli_names t_cli_doctor t_cli_remsh_versions t_remsh_eof t_libfree)
if (( $# )); then
	scenarios=("$@")
else
	scenarios=("${core[@]}")
fi

say() { printf 'otp-matrix: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

[[ $EUID -eq 0 ]] ||
    die "needs root (root filesystems, chroot, network namespaces)"
"$repo/scripts/deps.sh" matrix || die "cannot install what it needs"
for b in liberlfwd.so erlfwd erlfwd-server; do
	[[ -e $build/$b ]] || die "no $build/$b: run make first"
done
mkdir -p "$dir/rootfs" "$dir/logs" || die "cannot make $dir"

# rootfs SUITE: make sure OTP_MATRIX_DIR/rootfs/SUITE holds a root filesystem
# of that Debian suite with erlang and elixir.  A half-made one is never
# used: it is built beside and renamed when complete.
rootfs() {
	local suite=$1 root=$dir/rootfs/$1 tmp=$dir/rootfs/$1.new
	if [[ -f $root/.erlfwd-rootfs && ${OTP_MATRIX_REFRESH:-0} != 1 ]]; then
		return 0
	fi
	say "building the $suite root filesystem (mmdebstrap, $mirror)"
	rm -rf "$tmp"
	# The suite's Release may be past its Valid-Until (sid, snapshots).
	nice -n 10 mmdebstrap --variant=apt \
	    --keyring=/usr/share/keyrings/debian-archive-keyring.gpg \
	    --aptopt='Acquire::Check-Valid-Until "false"' \
	    --include=elixir,erlang-base,erlang-crypto,procps \
	    "$suite" "$tmp" "$mirror" >"$dir/logs/mmdebstrap-$suite.log" 2>&1 ||
	    die "mmdebstrap $suite failed: see $dir/logs/mmdebstrap-$suite.log"
	# Names such as localhost resolve inside as they do here.
	cp /etc/hosts "$tmp/etc/hosts" || die "cannot write $tmp/etc/hosts"
	date -u +%FT%TZ >"$tmp/.erlfwd-rootfs"
	rm -rf "$root"
	mv "$tmp" "$root" || die "cannot move $tmp to $root"
}

# otp_of ROOT: "OTP 27.3.4.1, Elixir 1.18.3" of that root ("" for this one).
otp_of() {
	local otp ex
	otp=$(cat "$1"/usr/lib/erlang/releases/*/OTP_VERSION 2>/dev/null)
	ex=$(sed -n 's/.*{vsn,"\([^"]*\)"}.*/\1/p' \
	    "$1"/usr/lib/elixir/lib/elixir/ebin/elixir.app 2>/dev/null | head -n 1)
	printf 'OTP %s, Elixir %s' "${otp:-?}" "${ex:-none}"
}

# in_root ROOT CMD...: CMD in ROOT, with the build bound at its own path.
in_root() {
	local root=$1
	shift
	# shellcheck disable=SC2016 # expanded by the inner shell
	unshare -m /bin/sh -c 'root=$1 build=$2; shift 2
	    mkdir -p "$root$build" && mount --bind "$build" "$root$build" &&
	    exec chroot "$root" "$@"' sh "$root" "$build" "$@"
}

for s in "${suites[@]}"; do
	rootfs "$s"
done

# The binaries: nothing newer than GLIBC_2.34, and they run in every root.
glibc_ok=1
glibc_lines=()
for b in liberlfwd.so erlfwd erlfwd-server; do
	need=$(objdump -T "$build/$b" | grep -o 'GLIBC_[0-9][0-9.]*' |
	    sed 's/GLIBC_//' | sort -uV | tail -n 1)
	newest=$(printf '%s\n%s\n' "$need" "$glibc_max" | sort -V | tail -n 1)
	verdict=ok
	[[ $newest == "$glibc_max" ]] || { verdict=TOO-NEW; glibc_ok=0; }
	glibc_lines+=("$b needs GLIBC_$need at most ($verdict)")
done
runs_ok=1
for s in "${suites[@]}"; do
	for b in erlfwd erlfwd-server; do
		in_root "$dir/rootfs/$s" "$build/$b" --version >/dev/null 2>&1 ||
		    { runs_ok=0; say "$b --version fails in $s"; }
	done
done

# The sides: this machine (no root filesystem) and each suite.
sides=("bookworm")
roots=("")
for s in "${suites[@]}"; do
	sides+=("$s")
	roots+=("$dir/rootfs/$s")
done

declare -A cell=()
failures=()
all_ok=1
for l in "${!sides[@]}"; do
	for r in "${!sides[@]}"; do
		pair=${sides[$l]}-${sides[$r]}
		rm -rf "$dir/logs/$pair"
		say "local ${sides[$l]}, remote ${sides[$r]}: ${#scenarios[@]} scenarios"
		E2E_OTP_LOCAL=${roots[$l]} E2E_OTP_REMOTE=${roots[$r]} \
		    E2E_BUILD=$build E2E_LOGDIR=$dir/logs/$pair \
		    bash "$repo/tests/e2e/run.sh" "${scenarios[@]}" \
		    >"$dir/logs/$pair.out" 2>&1
		last=$(tail -n 1 "$dir/logs/$pair.out")
		if [[ $last =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed,\ ([0-9]+)\ skipped$ ]]; then
			p=${BASH_REMATCH[1]} f=${BASH_REMATCH[2]} k=${BASH_REMATCH[3]}
		else
			p=0 f=${#scenarios[@]} k=0
		fi
		cell[$l,$r]="$p/${#scenarios[@]}"
		(( k )) && cell[$l,$r]+=" ($k skipped)"
		if (( f || k || p != ${#scenarios[@]} )); then
			all_ok=0
			failures+=("local ${sides[$l]}, remote ${sides[$r]}: $(grep -oE '^(FAIL|SKIP) t_[a-z0-9_]+' \
			    "$dir/logs/$pair.out" | tr '\n' ' ')")
		fi
	done
done

{
	printf 'Scenarios passed, local node (rows) x remote node (columns):\n\n'
	printf '| local \\ remote |'
	for r in "${!sides[@]}"; do
		printf ' %s: %s |' "${sides[$r]}" "$(otp_of "${roots[$r]:-}")"
	done
	printf '\n|---|'
	for r in "${!sides[@]}"; do printf -- '---|'; done
	printf '\n'
	for l in "${!sides[@]}"; do
		printf '| %s: %s |' "${sides[$l]}" "$(otp_of "${roots[$l]:-}")"
		for r in "${!sides[@]}"; do
			printf ' %s |' "${cell[$l,$r]}"
		done
		printf '\n'
	done
	printf '\nScenarios: %s.\n' "${scenarios[*]}"
	printf 'Binaries built on %s: %s; they run unchanged in %s: %s.\n' \
	    "$(. /etc/os-release && printf '%s' "$PRETTY_NAME")" \
	    "$(printf '%s; ' "${glibc_lines[@]}" | sed 's/; $//')" "${suites[*]}" \
	    "$( (( runs_ok )) && echo yes || echo NO)"
	for f in "${failures[@]}"; do
		printf 'not passed: %s\n' "$f"
	done
} | tee "$dir/table.md"

(( all_ok && glibc_ok && runs_ok ))
