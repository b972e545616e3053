#!/usr/bin/env bash
# t_tunnel: the harness itself, without erlfwd.  A plain "ssh -L" to the
# dyno's epmd shows the dyno's node list on this side, and after the tunnel
# is taken down the port is gone.  When this fails, the other scenarios'
# failures say nothing about erlfwd.
set -u -o pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init

e2e_dyno_start dyno
e2e_node_start dyno app@dyno
e2e_tunnel_up dyno 4369

names=$(ERL_EPMD_PORT=$E2E_TUNNEL_PORT epmd -names 2>&1)
e2e_assert_eq "$(e2e_epmd_names dyno)" "$names" \
    "epmd -names through the tunnel is the dyno's own"
e2e_assert_match "$names" "name app at port [0-9]+" \
    "the dyno's node is listed"

host=$(e2e_dyno_exec dyno hostname)
e2e_assert_eq dyno "$host" "the dyno has its own host name"
e2e_assert_ne "$(hostname)" "$host" "the laptop's host name is unchanged"

e2e_tunnel_down dyno
names=$(ERL_EPMD_PORT=$E2E_TUNNEL_PORT timeout 10 epmd -names 2>&1)
e2e_assert_not_contains "$names" "name app" \
    "without the tunnel the dyno's epmd is out of reach"

e2e_tunnel_up dyno 4369
names=$(ERL_EPMD_PORT=$E2E_TUNNEL_PORT epmd -names 2>&1)
e2e_assert_contains "$names" "name app at port" "the tunnel comes back up"

e2e_pass
