#!/usr/bin/env bash
# t_info: an INFO request (tag 3) through the tunnel is answered with one
# frame of the same layout whose body names the server's version, the host,
# its epmd port and state, and every node with its port; then the server
# closes.  With the dyno's epmd gone, epmd=down and no node.
set -u -o pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init
e2e_require_build
e2e_world
e2e_node_start dyno worker@dyno

# e2e_info: INFO through the tunnel; sets hdr (the reply's first 10 bytes, as
# hex) and body (the rest, as text).
info() {
	e2e_raw "$E2E_TUNNEL_PORT" "$(e2e_frame 3 0 0)"
	hdr=${E2E_RAW_HEX:0:20}
	body=$(tail -c +11 "$E2E_RAW_FILE")
	e2e_log "INFO reply header $hdr, body:"
	printf "    %s\n" "${body//$'\n'/$'\n    '}" >&2
}

info
len=$(( $(stat -c %s "$E2E_RAW_FILE") - 10 ))
e2e_assert_eq "$(e2e_hex EFWD)0103$(printf '0000%04x' "$len")" "$hdr" \
    "the reply is one INFO frame whose length is its body's"
version=$("$E2E_SERVER_BIN" --version 2>&1)
e2e_assert_match "$body" "(^|
)version=[^
]+" "the body has version="
e2e_assert_contains "$version" "$(sed -n 's/^version=//p' <<<"$body")" \
    "version= is erlfwd-server --version's"
e2e_assert_match "$body" "(^|
)host=dyno(
|$)" "host= is the dyno's host name"
e2e_assert_match "$body" "(^|
)epmd_port=4369(
|$)" "epmd_port= is the dyno's"
e2e_assert_match "$body" "(^|
)epmd=up(
|$)" "epmd=up"
expected=$(e2e_epmd_names dyno | awk '$1 == "name" { print "node=" $2 " " $5 }' | sort)
e2e_assert_eq "$expected" "$(grep '^node=' <<<"$body" | sort)" \
    "node= lines are the dyno's epmd -names"

e2e_stop "$E2E_EPMD_PID"
e2e_wait_port_closed -n dyno 4369
info
e2e_assert_match "$body" "(^|
)epmd=down(
|$)" "with the dyno's epmd stopped: epmd=down"
e2e_assert_not_contains "$body" "node=" "with the dyno's epmd stopped: no node="
e2e_pass
