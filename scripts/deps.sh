#!/usr/bin/env bash
# deps.sh PURPOSE: make sure the Debian/Ubuntu packages that PURPOSE needs are
# installed.  PURPOSE is "build", "test" (make check), "demo" (make demo),
# "bench" (make bench) or "matrix" (make otp-matrix).  As root it installs
# what is missing with apt-get; otherwise it prints the exact command to run
# and fails.
set -euo pipefail

build=(gcc make libc6-dev pkg-config)
runtime=(erlang-base openssh-server openssh-client iproute2 procps util-linux socat)
case "${1:-}" in
build) want=("${build[@]}") ;;
test) want=("${build[@]}" "${runtime[@]}" check elixir erlang-dev tmux psmisc microsocks clang libclang-rt-dev valgrind python3 iptables) ;;
demo) want=("${build[@]}" "${runtime[@]}") ;;
bench) want=("${build[@]}" "${runtime[@]}" iperf3 gnuplot-nox microsocks) ;;
matrix) want=("${build[@]}" "${runtime[@]}" check elixir erlang-dev tmux psmisc mmdebstrap debian-archive-keyring binutils) ;;
*)
	echo "usage: scripts/deps.sh build|test|demo|bench|matrix" >&2
	exit 2
	;;
esac

if ! command -v dpkg-query >/dev/null 2>&1; then
	echo "deps: not a Debian/Ubuntu system; make sure these are installed: ${want[*]}" >&2
	exit 0
fi

missing=()
for p in "${want[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
((${#missing[@]} == 0)) && exit 0

if [[ $(id -u) -ne 0 ]]; then
	echo "deps: missing packages: ${missing[*]}" >&2
	echo "deps: run: sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
