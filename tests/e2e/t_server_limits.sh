#!/usr/bin/env bash
# t_server_limits: erlfwd-server's --max-conns and --allow-port.  Beyond N
# open connections a new one is told "busy", refused and logged, and served again once
# the others are gone; a port named with --allow-port is reachable as DIST
# although epmd does not list it, and one that is not named is not.
set -u -o pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init
e2e_require_build

e2e_dyno_start dyno
e2e_node_start dyno app@dyno
allowed=5432 other=5433
for port in "$allowed" "$other"; do
	e2e_dyno_spawn dyno "svc-$port" socat \
	    "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr,fork" "SYSTEM:echo svc-$port"
	e2e_wait_port -n dyno "$port"
done
e2e_server_start dyno --max-conns 2 --allow-port "$allowed"

info=$(e2e_frame 3 0 0)
conn_lines_at_least() {
	(( $(e2e_server_conn_lines | wc -l) >= $1 ))
}

# Two idle connections (each within the setup timeout) fill the server.
e2e_dyno_spawn dyno holder bash -c "
	exec 3<>/dev/tcp/127.0.0.1/$E2E_SERVER_PORT
	exec 4<>/dev/tcp/127.0.0.1/$E2E_SERVER_PORT
	echo held
	exec sleep 30"
holder=$E2E_LAST_PID
e2e_wait_until 5 "two connections held" \
    e2e_file_has "$E2E_TMP/holder.log" held
# The server accepts in order: the held two come first.
e2e_raw -n dyno "$E2E_SERVER_PORT" "$info"
e2e_assert_eq "$(e2e_hex "erlfwd-server: refused: busy (max-conns 2)
")" "$E2E_RAW_HEX" "--max-conns 2: a third connection is told the server is busy"
e2e_wait_until 5 "the server's line for the refused connection" \
    conn_lines_at_least 1
line=$(e2e_server_conn_lines | head -n 1)
e2e_log "logged: ${line#*msg=conn }"
e2e_assert_not_contains "$line" "outcome=ok" "--max-conns 2: refused in the log"
# The erlfwd command tells the user the truth: busy, not "something else".
ip netns exec "$(e2e_ns dyno)" timeout 10 "$E2E_BUILD/erlfwd" names \
    --tunnel "127.0.0.1:$E2E_SERVER_PORT" >"$E2E_TMP/names.out" 2>&1
e2e_assert_eq 1 "$?" "--max-conns 2: erlfwd names exits 1 (the remote side)"
e2e_assert_contains "$(<"$E2E_TMP/names.out")" \
    "declined: refused: busy (max-conns 2)" "erlfwd names says the server is busy"

e2e_stop "$holder"
e2e_wait_until 5 "the server's lines for the held connections" \
    conn_lines_at_least 3
e2e_raw -n dyno "$E2E_SERVER_PORT" "$info"
e2e_assert_eq "$(e2e_hex EFWD)0103" "${E2E_RAW_HEX:0:12}" \
    "--max-conns 2: served again once the others closed"

e2e_raw -n dyno "$E2E_SERVER_PORT" "$(e2e_frame 2 "$allowed" 0)"
e2e_assert_eq "$(e2e_hex "svc-$allowed
")" "$E2E_RAW_HEX" "--allow-port $allowed: DIST reaches it"
e2e_raw -n dyno "$E2E_SERVER_PORT" "$(e2e_frame 2 "$other" 0)"
e2e_assert_eq "$(e2e_hex "erlfwd-server: denied: not-dist
")" "$E2E_RAW_HEX" "port $other (not allowed): DIST does not"
e2e_pass
