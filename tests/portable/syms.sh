#!/usr/bin/env bash
# syms.sh BINARY...: fail when a dynamically linked binary of the POSIX build
# (make posix) asks its C library for a call only Linux has.  Prints the
# culprits, or one line per binary with how many symbols were looked at.
#
#   tests/portable/syms.sh build/posix/erlfwd
#   tests/portable/syms.sh --self-test   # prove that it can fail
#
# --self-test links a small program that calls epoll_create1 and memmem and
# expects the check to reject it, and one that does not and expects it to
# pass: a check that never fails checks nothing.
set -u -o pipefail

# Linux's own calls: a word of any of these in an undefined symbol's name.
LINUX_ONLY='epoll|signalfd|splice|inotify|prctl|accept4|pipe2|eventfd|timerfd|close_range|memmem|getrandom'

# check BINARY: 0 when clean, 1 with the culprits listed.
check() {
	local bin=$1 syms bad n
	if ! syms=$(nm -D --undefined-only "$bin" 2>&1); then
		echo "syms: cannot read the symbols of $bin: $syms" >&2
		return 1
	fi
	n=$(grep -c . <<<"$syms")
	# Every program needs a few (at least exit and a write of some kind):
	# none at all means nm read nothing, not a clean binary.
	if (( n < 5 )); then
		echo "syms: $bin: only $n undefined symbols: not a dynamic binary?" >&2
		return 1
	fi
	bad=$(awk '{ print $NF }' <<<"$syms" | grep -E "$LINUX_ONLY")
	if [[ -n $bad ]]; then
		echo "syms: $bin needs what only Linux has:" >&2
		sed 's/^/  /' <<<"$bad" >&2
		return 1
	fi
	echo "syms: $bin: $n undefined symbols, none Linux-only"
}

self_test() {
	local dir rc=0
	dir=$(mktemp -d /tmp/erlfwd-syms.XXXXXX) || return 1
	cat >"$dir/linux.c" <<'C'
#define _GNU_SOURCE
#include <sys/epoll.h>
#include <string.h>
int main(int argc, char **argv) {
	(void)argv;
	return epoll_create1(0) + (memmem("ab", 2, "b", (size_t)argc) != 0);
}
C
	cat >"$dir/posix.c" <<'C'
#include <poll.h>
#include <stdio.h>
int main(void) { puts("hi"); return poll(NULL, 0, 0); }
C
	if ! ${CC:-cc} -o "$dir/linux" "$dir/linux.c" ||
	    ! ${CC:-cc} -o "$dir/posix" "$dir/posix.c"; then
		echo "syms: self-test: cannot build its programs" >&2
		rm -rf "$dir"
		return 1
	fi
	if check "$dir/linux" 2>"$dir/err"; then
		echo "syms: self-test: a call of epoll_create1 and memmem went unseen" >&2
		rc=1
	elif ! grep -q epoll_create1 "$dir/err" || ! grep -q memmem "$dir/err"; then
		echo "syms: self-test: not both culprits named: $(cat "$dir/err")" >&2
		rc=1
	fi
	if ! check "$dir/posix" >/dev/null; then
		echo "syms: self-test: a POSIX program was rejected" >&2
		rc=1
	fi
	rm -rf "$dir"
	(( rc == 0 )) && echo "syms: self-test: a planted epoll_create1 and memmem are caught"
	return $rc
}

if (( $# == 0 )); then
	echo "usage: $0 --self-test | BINARY..." >&2
	exit 2
fi
rc=0
for a in "$@"; do
	if [[ $a == --self-test ]]; then
		self_test || rc=1
	else
		check "$a" || rc=1
	fi
done
exit $rc
