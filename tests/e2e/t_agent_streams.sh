#!/usr/bin/env bash
# t_agent_streams: the agent keeps its streams under the server's limit
# (hardening III finding 2).  erlfwd-server --max-conns 32 takes 8 streams
# on one carrier and says so in its hello (streams=8); the agent opens at
# most 7 (a margin of one) and queues the rest.  A local node keeps its
# distribution connection to app@dyno open (a stream) throughout.
#   1. 30 local connections, each an EPMD preamble and nothing more: 6 become
#      streams, 24 wait, and one agent line says so.  Served one after the
#      other (NAMES, then the reply until EOF), every one is answered: the
#      waiting ones start in order (a later one started first would hold a
#      slot no one serves), and the first of them as soon as a slot frees.
#   2. 6 held, 128 waiting, 12 more: those 12 are reset (the queue's bound),
#      with one more line for this episode and none per connection.
#   3. The node's stream lived through both: no nodedown, rpc works; and the
#      server refused no stream (its carrier line says refused=0).
set -u -o pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=cli.sh
. "$(dirname "$0")/cli.sh"
e2e_init
cli_require
e2e_require_cmd python3
e2e_dyno_start dyno
e2e_node_start dyno app@dyno
e2e_server_start dyno --max-conns 32
e2e_tunnel_up dyno
e2e_local_epmd_start
ERLFWD_TIMEOUT_MS=15000 cli_agent_start cap --tunnel "127.0.0.1:$E2E_TUNNEL_PORT"
agent_log=$CLI_AGENT_LOG agent_port=$CLI_AGENT_PORT
E2E_TUNNEL_PORT=$agent_port
e2e_lnode_start me
e2e_lnode_eval me "net_adm:ping(app@dyno)"
e2e_assert_eq pong "$E2E_RESULT" "the local node reaches app@dyno (one stream held)"
line="streams open, near erlfwd-server's limit of 8"

# clients PHASE: the local connections of phase 1 or 2, in python.
clients() {
	PYTHONPATH=$E2E_DIR PYTHONDONTWRITEBYTECODE=1 python3 - "$agent_port" "$agent_log" "$1" <<'PY'
import select, socket, struct, sys, time
from held import count_gone
port, log, phase = int(sys.argv[1]), sys.argv[2], sys.argv[3]
PRE = b"EFWD\x01\x01" + struct.pack(">HH", 4369, 0)   # v1 EPMD preamble
NAMES = b"\x00\x01n"

def conn():
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(PRE)
    return s

def lines():
    with open(log, "rb") as f:
        return f.read().count(b"streams open, near erlfwd-server's limit")

def wait_line(n):
    deadline = time.monotonic() + 5
    while lines() < n and time.monotonic() < deadline:
        time.sleep(0.02)
    return lines() >= n

# reply S: what comes back until EOF (None: a reset), then S closed, as
# a node closes after epmd's answer: only then is its stream over.
def reply(s, timeout=3.0):
    s.settimeout(timeout)
    got = b""
    try:
        while True:
            b = s.recv(4096)
            if not b:
                return got
            got += b
    except ConnectionResetError:
        return None
    except socket.timeout:
        return b"TIMEOUT" + got
    finally:
        s.close()

def answered(r):
    return r is not None and r[4:].startswith(b"name app at port ")

if phase == "1":
    held = [conn() for _ in range(30)]
    if not wait_line(1):
        print("no line", flush=True)
        sys.exit(0)
    # The first waiting one asks first: it starts when the first held one
    # ends, not later.
    held[6].sendall(NAMES)
    time.sleep(0.3)
    r, _, _ = select.select([held[6]], [], [], 0)
    early = "early" if r else "waited"
    held[0].sendall(NAMES)
    ok0 = answered(reply(held[0]))
    t0 = time.monotonic()
    ok6 = answered(reply(held[6]))
    wake = (time.monotonic() - t0) * 1000
    served, reset, worst = int(ok0) + int(ok6), 0, 0.0
    for i in list(range(1, 6)) + list(range(7, 30)):
        t = time.monotonic()
        try:
            held[i].sendall(NAMES)
        except (ConnectionResetError, BrokenPipeError):
            pass
        r = reply(held[i])
        worst = max(worst, (time.monotonic() - t) * 1000)
        if r is None:
            reset += 1
        elif answered(r):
            served += 1
        else:
            print("conn", i, r[:40], flush=True)
    print("served=%d reset=%d first=%s wake_ms=%.1f worst_ms=%.1f" %
          (served, reset, early, wake, worst), flush=True)
else:
    held, reset = [], 0
    for _ in range(146):
        try:
            held.append(conn())
        except (ConnectionResetError, BrokenPipeError):
            reset += 1
    wait_line(2)
    # Those reset after their connect completed read as such now, and no
    # more than 12.
    reset += count_gone(held, 12 - reset, 5, 0.3)
    print("reset=%d lines=%d" % (reset, lines()), flush=True)
PY
}

# ---- 1. 30 at once: 6 streams, 24 wait, all served in order
out=$(clients 1)
e2e_log "phase 1: $out"
e2e_assert_match "$out" '^served=30 reset=0 first=waited ' \
    "30 local connections past the cap: all answered, none reset, the waiting ones in order"
wake=$(sed -n 's/.* wake_ms=\([0-9.]*\) .*/\1/p' <<<"$out")
e2e_assert_le "${wake%.*}" 500 "the first waiting connection starts once a stream ends (${wake} ms)"
e2e_assert_eq 1 "$(e2e_count "$agent_log" "$line")" "one agent line for the episode"
e2e_log "agent: $(grep -a "$line" "$agent_log")"
e2e_assert_match "$(grep -a "$line" "$agent_log")" \
    "^erlfwd: 7 $line: new local connections wait for one to end \(up to 128 of them, for 15000 ms at most; more are refused\)$" \
    "the line says how many are open and the server's limit"
sleep 0.5

# ---- 2. the queue's bound: 6 streams, 128 waiting, 12 reset
out=$(clients 2)
e2e_log "phase 2: $out"
e2e_assert_eq "reset=12 lines=2" "$out" \
    "146 more: 6 streams, 128 waiting, 12 reset, one line for this episode"
e2e_assert_eq 0 "$(e2e_count "$agent_log" "wait for the tunnel")" \
    "no line per refused connection, nor a 'tunnel' one: the tunnel is up"

# ---- 3. the node's stream lived on; the server refused nothing
e2e_lnode_eval me "rpc:call(app@dyno, erlang, node, [])"
e2e_assert_eq app@dyno "$E2E_RESULT" "rpc on the node's stream after both bursts"
e2e_assert_eq 0 "$(e2e_lnode_events me "nodedown app@dyno")" "the local node saw no nodedown"
e2e_assert_eq 0 "$(e2e_count "$agent_log" "tunnel lost")" "the agent lost no carrier"
kill -TERM "$CLI_AGENT_PID"
e2e_wait_count 10 "$E2E_SERVER_LOG" msg=carrier 1
carrier=$(grep -a msg=carrier "$E2E_SERVER_LOG")
e2e_log "server: ${carrier#*msg=carrier }"
e2e_assert_contains "$carrier" " refused=0 " "erlfwd-server refused no stream of the carrier"
e2e_assert_eq 0 "$(e2e_count "$E2E_SERVER_LOG" "reason=max-conns")" \
    "nor any connection for --max-conns"
e2e_pass
