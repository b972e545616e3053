#!/usr/bin/env bash
# t_socks_failures: what a local node sees when a SOCKS5 route fails, each
# within ERLFWD_TIMEOUT_MS, and that the node keeps running afterwards:
#   - the proxy refuses: the port is closed on the remote side;
#   - the proxy is down: nothing listens on its local port;
#   - the proxy stalls mid-handshake: a listener that never answers;
#   - the proxy answers a refused CONNECT with VER REP alone and closes, as
#     heroku ps:socks does ("05 02", then EOF): a refusal in its own words.
set -u -o pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=cli.sh
. "$(dirname "$0")/cli.sh"
e2e_init
cli_require

e2e_dyno_start dyno
e2e_node_start dyno app@dyno
e2e_socks_up dyno
e2e_local_epmd_start
live=${E2E_SOCKS_PORTS[dyno]}
down='' stall=''
e2e_free_port down
e2e_free_port stall
e2e_spawn stall-listener socat "TCP-LISTEN:$stall,bind=127.0.0.1,reuseaddr,fork" \
    SYSTEM:'sleep 30'
e2e_wait_port "$stall"
e2e_free_port E2E_TUNNEL_PORT

# Each probe: {Result, Milliseconds}.  Port 5999 has no listener in the dyno.
E2E_HOSTS="live=socks5://127.0.0.1:$live,down=socks5://127.0.0.1:$down,stall=socks5://127.0.0.1:$stall,dyno=socks5://127.0.0.1:$live" \
ERLFWD_TIMEOUT_MS=1500 e2e_erl_eval -sname "t$$" '
	T = fun(H, P) ->
		{Us, R} = timer:tc(gen_tcp, connect, [H, P, [], 10000]),
		{R, Us div 1000}
	    end,
	{T("live", 5999), T("down", 4369), T("stall", 4369),
	 rpc:call(app@dyno, erlang, node, [])}'
e2e_assert_eq 0 "$E2E_RC" "the local node exits cleanly"
res=$E2E_RESULT
e2e_assert_match "$res" '^\{\{\{error,econnrefused\},[0-9]+\},' \
    "the proxy refuses (closed port on the remote): econnrefused"
e2e_assert_match "$res" '^\{\{\{error,[a-z]+\},[0-9]+\},\{\{error,econnrefused\},[0-9]+\},' \
    "the proxy is down: econnrefused"
e2e_assert_match "$res" '\{\{error,etimedout\},[0-9]+\},app@dyno\}$' \
    "the proxy stalls: etimedout, and afterwards the node still works"
stall_ms=$(sed -E 's/.*\{\{error,etimedout\},([0-9]+)\}.*/\1/' <<<"$res")
e2e_assert_le 1400 "$stall_ms" "the stall is cut at the timeout, not before"
e2e_assert_le "$stall_ms" 4000 "... and not much after it (1500 ms)"
e2e_assert_match "$E2E_ERR" "nothing is listening on socks5://127.0.0.1:$down, the SOCKS5 proxy" \
    "the down proxy is named in the one warning line"

# A stand-in for heroku ps:socks refusing: no authentication, then "05 02"
# and EOF in answer to the CONNECT (its ruleset refuses the target).
short=''
e2e_free_port short
cat >"$E2E_TMP/short.sh" <<'SH'
#!/bin/sh
head -c 3 >/dev/null
printf '\005\000'
head -c 10 >/dev/null
printf '\005\002'
SH
chmod +x "$E2E_TMP/short.sh"
e2e_spawn short-refusal socat "TCP-LISTEN:$short,bind=127.0.0.1,reuseaddr,fork" \
    "EXEC:$E2E_TMP/short.sh"
e2e_wait_port "$short"
cli_run names --tunnel "socks5://127.0.0.1:$short?server=9369"
e2e_assert_eq 3 "$CLI_RC" "a refused carrier CONNECT: names exits 3"
e2e_assert_contains "$CLI_ERR" "not allowed by ruleset" \
    "the refusal is read as the proxy's reply 2, not as a vanished proxy"
e2e_pass
