#!/usr/bin/env bash
# t_agent_emfile: the agent out of descriptors does not spin.  Local
# connections past its descriptor limit stay in the listener's backlog, which
# stays readable: accept(2) failing with EMFILE must pause the listener (as
# erlfwd-server does), not wake the loop again at once.  An agent with
# `ulimit -n 24` and 60 silent local connections must use almost no CPU while
# they wait, and still end on SIGTERM with status 0.  Its queue of local
# connections waiting for the carrier is bounded (128; the rest reset),
# and a local connection of another uid is refused.
set -u -o pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=cli.sh
. "$(dirname "$0")/cli.sh"
e2e_init
cli_require
e2e_require_cmd python3

out="$E2E_TMP/agent.out"
# The pending connections wait for a preamble up to the timeout: longer
# than the measure below.
(ulimit -n 24 && ERLFWD_TIMEOUT_MS=20000 exec "$CLI_BIN" agent \
    --via "exec $E2E_SERVER_BIN --stdio") >"$out" 2>"$E2E_TMP/agent.err" &
agent=$!
e2e_defer pid "$agent"
tunnel_up() { grep -q '^ERLFWD_TUNNEL=127\.0\.0\.1:[0-9]*$' "$out"; }
e2e_wait_until 10 "the agent's tunnel line" tunnel_up
port=$(sed -n 's/^ERLFWD_TUNNEL=127\.0\.0\.1:\([0-9]*\)$/\1/p' "$out")

# cpu_ticks PID: user + system time of PID so far, in clock ticks.
cpu_ticks() {
	awk '{ print $14 + $15 }' "/proc/$1/stat"
}
python3 - "$port" >"$E2E_TMP/clients.out" 2>&1 <<'PY' &
import socket, sys, time
held = []
for _ in range(60):
    held.append(socket.create_connection(("127.0.0.1", int(sys.argv[1]))))
print("connected", len(held), flush=True)
time.sleep(6)
PY
clients=$!
e2e_defer pid "$clients"
connected() { grep -q '^connected 60$' "$E2E_TMP/clients.out"; }
e2e_wait_until 10 "60 local connections (the backlog takes them)" connected
sleep 0.5
t0=$(cpu_ticks "$agent")
sleep 2
t1=$(cpu_ticks "$agent")
e2e_log "agent CPU over 2 s with its descriptors used up: $(( t1 - t0 )) ticks of $(getconf CLK_TCK)/s"
e2e_assert_le "$(( t1 - t0 ))" 20 "the agent does not spin on EMFILE"
kill "$clients" 2>/dev/null
wait "$clients" 2>/dev/null
kill -TERM "$agent"
wait "$agent"
e2e_assert_eq 0 "$?" "the agent ends on SIGTERM with status 0"

# The pending queue is bounded: 300 local connections that send no
# preamble (or wait for a carrier that is down) leave 128 waiting and the
# rest reset, with one line.
out2="$E2E_TMP/agent2.out"
ERLFWD_TIMEOUT_MS=20000 "$CLI_BIN" agent \
    --via "exec $E2E_SERVER_BIN --stdio" >"$out2" 2>"$E2E_TMP/agent2.err" &
agent=$!
e2e_defer pid "$agent"
tunnel_up() { grep -q '^ERLFWD_TUNNEL=127\.0\.0\.1:[0-9]*$' "$out2"; }
e2e_wait_until 10 "the second agent's tunnel line" tunnel_up
port=$(sed -n 's/^ERLFWD_TUNNEL=127\.0\.0\.1:\([0-9]*\)$/\1/p' "$out2")
PYTHONPATH=$E2E_DIR PYTHONDONTWRITEBYTECODE=1 python3 - "$port" >"$E2E_TMP/clients2.out" 2>&1 <<'PY'
import socket, sys
from held import count_gone
held, reset = [], 0
for _ in range(300):
    try:
        held.append(socket.create_connection(("127.0.0.1", int(sys.argv[1]))))
    except ConnectionResetError:
        reset += 1
# The agent takes them from its backlog at its pace (a loaded machine):
# look until 172 are reset, or 8 s (the kept ones wait 20 s), and no more.
reset += count_gone(held, 172 - reset, 8, 0.5)
print("reset", reset, flush=True)
PY
e2e_log "clients: $(cat "$E2E_TMP/clients2.out")"
e2e_assert_eq "reset 172" "$(cat "$E2E_TMP/clients2.out")" \
    "300 waiting local connections: 128 kept, 172 reset"
e2e_assert_eq 1 "$(grep -c "128 local connections wait for the tunnel" "$E2E_TMP/agent2.err")" \
    "one line says so, once"

# Another user's process gets nothing of the agent: reset at once, and one
# line says whose it was; ours are served as before.
e2e_require_cmd setpriv
foreign=$(setpriv --reuid=65534 --regid=65534 --clear-groups /usr/bin/python3 - "$port" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.settimeout(5)
try:
    print("eof" if s.recv(1) == b"" else "data")
except ConnectionResetError:
    print("reset")
except socket.timeout:
    print("kept")
PY
)
e2e_assert_match "$foreign" '^(reset|eof)$' "another uid's connection is closed at once ($foreign)"
e2e_assert_eq 1 "$(grep -c 'refused a local connection of uid 65534' "$E2E_TMP/agent2.err")" \
    "one line names the other uid"
# Whether an epmd runs on this host does not matter here (exit 0 or 1):
# the server's first line proves the agent carried our connection.
ERLFWD_TUNNEL=127.0.0.1:$port cli_run names
e2e_assert_match "$CLI_RC" '^[01]$' "this user's erlfwd names ends as names does ($CLI_RC)"
e2e_assert_match "$(head -n 1 <<<"$CLI_OUT")" "^host [^,]*, $("$E2E_SERVER_BIN" --version), through " \
    "this user's erlfwd names through the agent still reaches the server"
kill -TERM "$agent"
wait "$agent"
e2e_pass
