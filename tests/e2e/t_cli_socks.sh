#!/usr/bin/env bash
# t_cli_socks: `erlfwd names` and `erlfwd doctor` over a SOCKS5 route, with
# no erlfwd-server on the remote side: a real OpenSSH SOCKS proxy (ssh -D)
# into the dyno, and the commands speak epmd's NAMES and the distribution
# handshake through it.  Then the broken steps: a wrong cookie (1), the
# dyno's epmd gone (1), the proxy gone (3).
set -u -o pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=cli.sh
. "$(dirname "$0")/cli.sh"
e2e_init
cli_require
E2E_COOKIE="socks-secret-$RANDOM$RANDOM"
e2e_dyno_start dyno
e2e_node_start dyno app@dyno
e2e_node_start dyno worker@dyno
e2e_socks_up dyno
e2e_assert_eq "" "$(ip netns exec "$(e2e_ns dyno)" ss -Hltn 'sport = :9369')" \
    "no erlfwd-server listens in the dyno"
tunnel=socks5://127.0.0.1:${E2E_SOCKS_PORTS[dyno]}
export ERLFWD_TIMEOUT_MS=2000 HOME=$E2E_TMP/home
unset ERLFWD_COOKIE RELEASE_COOKIE ERLFWD_TUNNEL
mkdir -p "$HOME"

cli_run names --tunnel "$tunnel"
e2e_assert_eq 0 "$CLI_RC" "names over SOCKS5 exits 0"
e2e_assert_eq "the host behind $tunnel (SOCKS5: no erlfwd-server there)" \
    "$(head -n 1 <<<"$CLI_OUT")" "the first line says how the host was reached"
expected=$(e2e_epmd_names dyno | grep '^name ' | LC_ALL=C sort)
e2e_assert_eq "$expected" "$(grep '^name ' <<<"$CLI_OUT" | LC_ALL=C sort)" \
    "the node lines are the dyno's own epmd -names"
e2e_assert_match "$expected" "name worker at port [0-9]+" "both nodes are there"

ERLFWD_COOKIE=$E2E_COOKIE cli_run doctor --tunnel "$tunnel" app
e2e_assert_eq 0 "$CLI_RC" "doctor over SOCKS5: the path works"
for step in tunnel proxy epmd node port cookie; do
	e2e_assert_match "$CLI_OUT" "(^|
)ok +$step " "step $step is ok"
done
e2e_assert_contains "$CLI_OUT" "app@dyno accepts the cookie" \
    "the cookie was proven through the proxy"

ERLFWD_COOKIE=wrong-cookie cli_run doctor --tunnel "$tunnel" app
e2e_assert_eq 1 "$CLI_RC" "doctor: a wrong cookie is a broken path"
e2e_assert_match "$CLI_OUT" "(^|
)FAIL +cookie " "... at the cookie step"

e2e_stop "$E2E_EPMD_PID"	# epmd -kill refuses while nodes are registered
e2e_wait_port_closed -n dyno 4369
cli_run names --tunnel "$tunnel"
e2e_assert_eq 1 "$CLI_RC" "names: no epmd behind the proxy exits 1"
cli_assert_one_line "names without epmd"
e2e_assert_contains "$CLI_ERR" "no epmd on the host behind $tunnel port 4369" \
    "... and says there is no epmd"

e2e_stop "${E2E_SOCKS_PIDS[dyno]}"
e2e_wait_port_closed "${E2E_SOCKS_PORTS[dyno]}"
cli_run names --tunnel "$tunnel"
e2e_assert_eq 3 "$CLI_RC" "names: the proxy gone exits 3"
cli_assert_one_line "names without the proxy"
e2e_assert_contains "$CLI_ERR" "ssh -D" "the fix says how to start a proxy"
e2e_pass
