#!/usr/bin/env bash
# t_bind: under liberlfwd a local node's listening sockets stay on the
# loopback: its distribution port and the epmd it starts itself (in a fresh
# namespace, where no epmd runs yet) are bound to 127.0.0.1 / ::1, not to
# the wildcard.  With ERLFWD_BIND=any the wildcard is left alone.
set -u -o pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init
e2e_require_build

# listeners LAPTOP: "PROGRAM ADDRESS:PORT" for each listening TCP socket of
# beam.smp and epmd in that namespace, sorted.
listeners() {
	ip netns exec "$(e2e_ns "$1")" ss -Hltnp |
	    awk '{ if (match($0, /\("[^"]+"/)) print substr($0, RSTART + 2, RLENGTH - 3), $4 }' |
	    grep -E '^(beam\.smp|epmd) ' | sort
}

# node_up LAPTOP BIND [ERL_ARGS...]: a fresh namespace with a preloaded
# "erl -sname x" that starts its own epmd; wait until x is registered.
node_up() {
	local laptop=$1 bind=$2
	shift 2
	e2e_dyno_create "$laptop" laptop
	E2E_DYNO_LOCAL[$laptop]=1	# a local node, under the preload
	mapfile -t env < <(E2E_BIND=$bind e2e_preload_env)
	e2e_dyno_spawn "$laptop" "node-$laptop" env "${env[@]}" \
	    erl -sname x -setcookie "$E2E_COOKIE" -noinput "$@"
	e2e_wait_until 20 "x to register with the epmd it started" \
	    e2e_node_registered "$laptop" x
	e2e_log "$laptop (ERLFWD_BIND=${bind:-unset}) listens on:"
	listeners "$laptop" | sed 's/^/    /' >&2
}

# Without a tunnel nothing goes anywhere; only the binds matter here.
E2E_TUNNEL_PORT=

node_up lo ""
socks=$(listeners lo)
e2e_assert_match "$socks" "(^|
)beam\.smp 127\.0\.0\.1:[0-9]+" "the node's distribution port is on 127.0.0.1"
e2e_assert_match "$socks" "(^|
)epmd (127\.0\.0\.1|\[::1\]):4369" "the epmd it started is on the loopback"
e2e_assert_not_contains "$socks" "0.0.0.0:" "no IPv4 wildcard listener"
e2e_assert_not_contains "$socks" "*:" "no wildcard listener"
e2e_assert_not_contains "$socks" "[::]:" "no IPv6 wildcard listener"

node_up lo6 "" -proto_dist inet6_tcp
socks=$(listeners lo6)
e2e_assert_match "$socks" "(^|
)beam\.smp \[::1\]:[0-9]+" "an inet6_tcp node's distribution port is on ::1"
e2e_assert_not_contains "$socks" "[::]:" "inet6_tcp: no IPv6 wildcard listener"
e2e_assert_not_contains "$socks" "*:" "inet6_tcp: no wildcard listener"

node_up any any
socks=$(listeners any)
e2e_assert_match "$socks" "(^|
)beam\.smp (0\.0\.0\.0|\*):[0-9]+" \
    "ERLFWD_BIND=any: the distribution port is on the wildcard"
e2e_assert_match "$socks" "(^|
)epmd (0\.0\.0\.0|\*|\[::\]):4369" \
    "ERLFWD_BIND=any: epmd is on the wildcard"
e2e_pass
