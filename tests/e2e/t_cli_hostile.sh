#!/usr/bin/env bash
# t_cli_hostile: the erlfwd command against whatever answers the forwarded
# port, when that is hostile (a fake erlfwd-server on loopback, no dyno):
#   - `erlfwd run` without --host takes the remote host's name from INFO
#     only when it is a plain host name: "*", a glob, localhost, an IP
#     address, this machine's own name or a name with a route ("=socks5://")
#     would send the command's other traffic into the tunnel, and are
#     refused (exit 4, one line saying to pass --host);
#   - names and host names with terminal controls (ESC, C1 CSI as UTF-8
#     c2 9b) reach the terminal escaped as \xNN, never raw.
set -u -o pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=cli.sh
. "$(dirname "$0")/cli.sh"
e2e_init
cli_require

# fake_info BODY: a fake erlfwd-server on a free port that answers every
# INFO request with BODY (printf format) in an INFO frame; its port in
# FAKE_PORT.  Each call starts a new one.
fake_info() {
	local body=$E2E_TMP/body.$RANDOM reply len
	# shellcheck disable=SC2059 # BODY is a printf format on purpose
	printf "$1" >"$body"
	len=$(stat -c %s "$body")
	reply=$body.frame
	# shellcheck disable=SC2059 # e2e_frame prints a printf format
	{ printf "$(e2e_frame 3 0 "$len")"; cat "$body"; } >"$reply"
	e2e_free_port FAKE_PORT
	e2e_spawn "fake-$FAKE_PORT" socat \
	    "TCP-LISTEN:$FAKE_PORT,bind=127.0.0.1,reuseaddr,fork" \
	    "SYSTEM:head -c 10 >/dev/null; cat $reply"
	e2e_wait_port "$FAKE_PORT"
}

info_body() {
	printf 'version=0.1.0\\nhost=%s\\nepmd_port=4369\\nepmd=up\\n%s' "$1" "${2:-}"
}

# run with the remote host named by the fake: refused, the command not run.
self=$(hostname)
for host in '*' 'web.*' localhost 127.0.0.1 10.1.2.3 "$self" \
    'dyno=socks5://127.0.0.1:1080'; do
	fake_info "$(info_body "$host")"
	rm -f "$E2E_TMP/ran"
	cli_run run --tunnel "127.0.0.1:$FAKE_PORT" -- touch "$E2E_TMP/ran"
	e2e_assert_eq 4 "$CLI_RC" "run: INFO host '$host' is refused (exit 4)"
	cli_assert_one_line "run: INFO host '$host'"
	e2e_assert_contains "$CLI_ERR" "pass --host" "run: INFO host '$host': the line says to pass --host"
	e2e_assert_true "run: INFO host '$host': the command did not run" \
	    e2e_not test -e "$E2E_TMP/ran"
done
# A plain name is taken.
fake_info "$(info_body dyno)"
# shellcheck disable=SC2016 # expanded by the command's sh
cli_run run --tunnel "127.0.0.1:$FAKE_PORT" -- sh -c 'printf %s "$ERLFWD_HOSTS"'
e2e_assert_eq 0 "$CLI_RC" "run: INFO host 'dyno' is taken"
e2e_assert_eq dyno "$CLI_OUT" "run: the pattern is the INFO host"

# Terminal controls from the other side: escaped wherever they are shown.
has_raw_controls() {
	LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f\x7f\x80-\x9f]' <<<"$1"
}
fake_info "$(info_body 'dy\xc2\x9b2Jno' 'node=a\xc2\x9b31m 4242\nnode=b\x9b2J 4243\n')"
cli_run names --tunnel "127.0.0.1:$FAKE_PORT"
e2e_assert_eq 0 "$CLI_RC" "names answers"
e2e_assert_true "names prints no raw control byte" \
    e2e_not has_raw_controls "$CLI_OUT$CLI_ERR"
e2e_assert_contains "$CLI_OUT" 'host dy\xc2\x9b2Jno,' "names: the host's C1 CSI shown as \\xNN"
e2e_assert_contains "$CLI_OUT" 'name a\xc2\x9b31m at port 4242' "names: a node's C1 CSI shown as \\xNN"
e2e_assert_contains "$CLI_OUT" 'name b\x9b2J at port 4243' "names: a raw C1 byte shown as \\xNN"
cli_run doctor --tunnel "127.0.0.1:$FAKE_PORT"
e2e_assert_true "doctor prints no raw control byte" \
    e2e_not has_raw_controls "$CLI_OUT$CLI_ERR"
e2e_assert_contains "$CLI_OUT" 'on host dy\xc2\x9b2Jno' "doctor: the host's C1 CSI shown as \\xNN"
ERLFWD_COOKIE=not-sent cli_run remsh nosuch --tunnel "127.0.0.1:$FAKE_PORT"
e2e_assert_true "remsh prints no raw control byte" \
    e2e_not has_raw_controls "$CLI_OUT$CLI_ERR"
e2e_assert_contains "$CLI_ERR" 'a\xc2\x9b31m (port 4242)' "remsh: the node list shown escaped"
e2e_pass
