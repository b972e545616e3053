#!/usr/bin/env bash
# t_server_badinput: erlfwd-server faces clients that are not erlfwd, broken
# or hostile.  Each is told why in one line ("erlfwd-server: rejected: ...")
# and closed, without anything being relayed, and logged in a line of its
# own; epmd cannot be changed or stopped through the server; a
# port that epmd does not list (a database here) cannot be reached; a client
# that stalls is cut off at the setup timeout.  Afterwards a legitimate rpc
# still works.
set -u -o pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init
e2e_require_build

timeout_ms=400
# The option's name, as this build spells it.
opt=--setup-timeout
"$E2E_SERVER_BIN" --help 2>&1 | grep -q -- --preamble-timeout &&
    opt=--preamble-timeout
e2e_world "$opt" "$timeout_ms"

# A database beside the node, on a port epmd knows nothing about.
db_port=5432
e2e_dyno_spawn dyno db socat -d -d \
    "TCP-LISTEN:$db_port,bind=127.0.0.1,reuseaddr,fork" \
    'SYSTEM:echo SECRET-DB-ROW'
e2e_wait_port -n dyno "$db_port"

bad_lines=0
# bad WHAT FORMAT [-t]: send FORMAT's bytes to the server, inside the dyno (or
# through the tunnel with -t).  The server must close the connection at once
# with one line of its own in reply (nothing relayed), and log one more
# line, that is not a relayed one (outcome=ok or outcome=closed).
bad() {
	local what=$1 fmt=$2 t0 ms line
	t0=${EPOCHREALTIME/./}
	if [[ ${3:-} == -t ]]; then
		e2e_raw "$E2E_TUNNEL_PORT" "$fmt"
	else
		e2e_raw -n dyno "$E2E_SERVER_PORT" "$fmt"
	fi
	ms=$(( (${EPOCHREALTIME/./} - t0) / 1000 ))
	bad_lines=$(( bad_lines + 1 ))
	e2e_wait_until 5 "the server's line for: $what" conn_lines_are \
	    $(( bad_lines + ok_lines ))
	line=$(e2e_server_conn_lines | tail -n 1)
	if ! [[ $(<"$E2E_RAW_FILE") =~ ^erlfwd-server:\ (rejected|denied):\ [^$'\n']+$ &&
	    $(tail -c 1 "$E2E_RAW_FILE" | od -An -tx1) == " 0a" ]]; then
		e2e_fail "$what: the reply is not one line of the server's" \
		    "reply: $E2E_RAW_HEX" "log: $line"
	fi
	(( ms <= 2000 )) || e2e_fail "$what: not closed at once (${ms} ms)"
	[[ $line != *outcome=ok* && $line != *outcome=closed* ]] ||
	    e2e_fail "$what: logged as relayed" "log: $line"
	e2e_log "ok: $what: closed after ${ms} ms, nothing relayed, logged:" \
	    "${line#*msg=conn }"
}

ok_lines=0
conn_lines_are() {
	(( $(e2e_server_conn_lines | wc -l) == $1 ))
}

epmd_req() {	# an epmd request: 2-byte length, then the bytes
	printf '\\x%02x\\x%02x%s' $(( ${#1} >> 8 )) $(( ${#1} & 255 )) "$1"
}

bad "wrong magic" "XFWD\\x01\\x01\\x00\\x00\\x00\\x00$(epmd_req n)"
bad "wrong magic, through the tunnel" "GET / HTTP/1.0\\r\\n\\r\\n" -t
bad "wrong version" "EFWD\\x02\\x01\\x00\\x00\\x00\\x00$(epmd_req n)"
bad "unknown tag" "$(e2e_frame 9 0 0)"
bad "truncated preamble, then close" 'EFWD\x01'
bad "body length over 64" "$(e2e_frame 1 4369 65)$(printf 'A%.0s' {1..65})"
bad "dist to port 0" "$(e2e_frame 2 0 0)"

# epmd requests that change the dyno: register a node, stop one, kill epmd.
# ALIVE2_REQ "evil" on port 5555: 'x', port, type 77, proto 0, 6, 5, name, extra.
alive2=$(printf 'x\\x15\\xb3M\\x00\\x00\\x06\\x00\\x05\\x00\\x04evil\\x00\\x00')
bad "epmd ALIVE2_REQ" "$(e2e_frame 1 4369 0)\\x00\\x11$alive2"
bad "epmd STOP_REQ app" "$(e2e_frame 1 4369 0)$(epmd_req sapp)"
bad "epmd KILL_REQ" "$(e2e_frame 1 4369 0)$(epmd_req k)"
bad "epmd KILL_REQ, through the tunnel" "$(e2e_frame 1 4369 0)$(epmd_req k)" -t
# The same KILL_REQ smuggled as distribution traffic to epmd's port.
bad "dist to epmd's port" "$(e2e_frame 2 4369 0)$(epmd_req k)"
bad "dist to the server's own port" "$(e2e_frame 2 "$E2E_SERVER_PORT" 0)"
bad "dist to the database, through the tunnel" \
    "$(e2e_frame 2 "$db_port" 0)hello" -t

names=$(e2e_epmd_names dyno)
e2e_assert_true "the dyno's epmd is still running" e2e_alive "$E2E_EPMD_PID"
e2e_assert_contains "$names" "name app at port" "epmd still lists app"
e2e_assert_not_contains "$names" "evil" "epmd never listed evil"
e2e_assert_not_contains "$(<"$E2E_TMP/db.log")" "accepting connection" \
    "the database never saw a connection"

# A client that sends one byte and stalls, and one that trickles a whole
# preamble one byte every 100 ms: both are cut off at the setup timeout.
stall() {
	local what=$1 script=$2 t0 ms rc
	t0=${EPOCHREALTIME/./}
	e2e_dyno_exec dyno timeout 10 bash -c "$script" \
	    >"$E2E_TMP/stall.out" 2>&1
	rc=$?
	ms=$(( (${EPOCHREALTIME/./} - t0) / 1000 ))
	e2e_log "$what: closed by the server after ${ms} ms" \
	    "(timeout ${timeout_ms} ms): $(<"$E2E_TMP/stall.out")"
	e2e_assert_eq 0 "$rc" "$what: the server closed the connection"
	e2e_assert_le "$ms" $(( timeout_ms + 1500 )) "$what: within the timeout"
	bad_lines=$(( bad_lines + 1 ))
	e2e_wait_until 5 "the server's line for: $what" conn_lines_are \
	    $(( bad_lines + ok_lines ))
	line=$(e2e_server_conn_lines | tail -n 1)
	e2e_log "logged: ${line#*msg=conn }"
	e2e_assert_not_contains "$line" "outcome=ok" "$what: not a success"
}
# read returns 1 at end of file (the server closed), more than 128 when its
# own 5 s ran out (the server did not).
stall "one byte, then silence" "
	exec 3<>/dev/tcp/127.0.0.1/$E2E_SERVER_PORT
	printf E >&3
	read -r -t 5 -N 1 <&3
	(( \$? == 1 ))"
stall "a trickled preamble" "
	exec 3<>/dev/tcp/127.0.0.1/$E2E_SERVER_PORT
	for b in E F W D '\\x01' '\\x01' '\\x10' '\\xe1' '\\x00' '\\x00'; do
		printf \"\$b\" >&3 2>/dev/null || exit 0
		read -r -t 0.1 -N 1 <&3
		(( \$? == 1 )) && exit 0
	done
	read -r -t 5 -N 1 <&3
	(( \$? == 1 ))"

e2e_erl_eval -sname "t$$" "rpc:call('app@dyno', erlang, node, [])"
e2e_assert_eq app@dyno "$E2E_RESULT" "after all that, a legitimate rpc works"
e2e_assert_true "erlfwd-server is still running" e2e_alive "$E2E_SERVER_PID"
e2e_pass
