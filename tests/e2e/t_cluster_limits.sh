#!/usr/bin/env bash
# t_cluster_limits: the cluster helper's relays end when they hold sockets
# for nothing (hardening III finding 1).  One dyno of the clustering lab with
# its microsocks, a hung peer (web-hung:7102 accepts and never reads,
# writes or closes), one that leaves at once (web-hung:7101) and
# erlfwd-server --cluster --max-conns 8 --linger 1000 --idle-timeout 3000
# --setup-timeout 1000:
#   - 4 relays to the peer that left whose local client stays (the relay is
#     half-closed) and 4 silent ones to the hung peer fill --max-conns: a
#     LOOKUP is refused;
#   - the half-closed ones end after --linger (outcome=timeout
#     reason=half-closed), the silent ones after --idle-timeout
#     (reason=idle), each with its log line, and LOOKUPs are answered again
#     within those bounds;
#   - a LOOKUP client that says nothing is ended at the setup timeout;
#   - one process of another uid asks for 5,000 names (finding 5): it
#     churns through its own share of the name table (1,024), and this
#     uid's names keep their sentinels and new ones still get one.
set -u -o pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=cluster_lab.sh
. "$(dirname "$0")/cluster_lab.sh"
e2e_init
e2e_require_build
e2e_require_cmd microsocks iptables python3

peer=$E2E_DIR/cluster_peer.py
cl_overlay
cl_dyno 1
printf '127.0.0.1 web-hung\n' >>"/etc/netns/$(e2e_ns web-1)/hosts"
e2e_dyno_spawn web-1 hung python3 -c '
import socket, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 7102))
s.listen(64)
held = []
while True:
    held.append(s.accept()[0])'
e2e_dyno_spawn web-1 gone socat TCP-LISTEN:7101,bind=127.0.0.1,reuseaddr,fork \
    SYSTEM:'exit 0'
e2e_wait_port -n web-1 7102
e2e_wait_port -n web-1 7101
e2e_dyno_spawn web-1 helper "$E2E_SERVER_BIN" --cluster "$CL_ROUTE" \
    --max-conns 8 --linger 1000 --idle-timeout 3000 --setup-timeout 1000
log=$E2E_TMP/helper.log
e2e_wait_until 10 "the cluster helper" e2e_file_has "$log" "msg=listening"
e2e_log "$(grep -a msg=listening "$log")"

lookup_ok() {
	e2e_dyno_exec web-1 python3 "$peer" lookup 9370 web-2 >/dev/null 2>&1
}
e2e_assert_true "a LOOKUP is answered" lookup_ok

# Fill --max-conns: 4 half-closed relays, 4 silent ones.
t0=${EPOCHREALTIME/./}
e2e_dyno_spawn web-1 half python3 "$peer" hold 9370 web-hung 7101 4
e2e_dyno_spawn web-1 idle python3 "$peer" hold 9370 web-hung 7102 4
e2e_wait_until 10 "8 relays held" eval \
    "grep -q 'held 4' '$E2E_TMP/half.log' && grep -q 'held 4' '$E2E_TMP/idle.log'"
e2e_assert_true "with 8 relays held, a LOOKUP is refused (max-conns)" \
    e2e_not lookup_ok
e2e_assert_match "$(<"$log")" "outcome=refused reason=max-conns" \
    "the helper logged the refusal"

# The half-closed ones end after the linger, the silent ones after the idle
# limit: LOOKUPs are answered again, long before those relays' peers left.
e2e_wait_until 8 "a LOOKUP answered again" lookup_ok
back_ms=$(( (${EPOCHREALTIME/./} - t0) / 1000 ))
e2e_log "figure: a LOOKUP answered again $back_ms ms after 8 hung relays took --max-conns 8 (linger 1000, idle 3000)"
e2e_wait_count 8 "$log" "reason=idle" 4
e2e_assert_eq 4 "$(e2e_count "$log" "outcome=timeout reason=half-closed")" \
    "4 half-closed relays ended after --linger"
e2e_assert_eq 4 "$(e2e_count "$log" "outcome=timeout reason=idle")" \
    "4 silent relays ended after --idle-timeout"
for what in half-closed:1000:2500 idle:3000:4500; do
	IFS=: read -r reason lo hi <<<"$what"
	while read -r dur; do
		e2e_assert_le "$lo" "$dur" "$reason: not before $lo ms ($dur ms)"
		e2e_assert_le "$dur" "$hi" "$reason: nor long after ($dur ms)"
	done < <(grep -a "reason=$reason" "$log" | sed -n 's/.* dur_ms=\([0-9]*\) .*/\1/p')
done
e2e_assert_match "$(grep -a "reason=idle" "$log" | head -n 1)" \
    "msg=cluster .*tag=dist target=web-hung:7102 via=socks5h://127.0.0.1:$CL_PROXY_PORT .*outcome=timeout" \
    "each relay's line names its target and route, as any other"

# A LOOKUP's client that stays silent: ended at the setup timeout.
e2e_dyno_exec web-1 python3 "$peer" silent 9370 >"$E2E_TMP/silent.out"
read -r end ms < <(sed 's/end=//; s/ms=//' "$E2E_TMP/silent.out")
e2e_log "a silent LOOKUP client: end=$end after $ms ms"
e2e_assert_le 900 "$ms" "a silent client is kept up to the setup timeout ($ms ms)"
e2e_assert_le "$ms" 2500 "... and ended soon after it ($ms ms)"
e2e_assert_match "$(<"$log")" \
    "outcome=timeout reason=\"no complete request in time\"" \
    "its line says so"
e2e_assert_true "a LOOKUP is answered after the relays" lookup_ok

# One process (uid nobody) asks for 5,000 names as fast as it can.
before=$(e2e_dyno_exec web-1 python3 "$peer" lookup 9370 web-2)
e2e_dyno_exec web-1 setpriv --reuid=65534 --regid=65534 --clear-groups \
    /usr/bin/python3 "$peer" fill 9370 web-flood- 5000 >"$E2E_TMP/fill.out"
e2e_log "figure: 5000 names from one process: $(<"$E2E_TMP/fill.out")"
after=$(e2e_dyno_exec web-1 python3 "$peer" lookup 9370 web-2)
e2e_assert_eq "$before" "$after" "web-2 kept its sentinel through the flood"
e2e_assert_match "$(e2e_dyno_exec web-1 python3 "$peer" lookup 9370 web-late)" \
    "^sentinel " "a new name of this uid still gets a sentinel"
names=$(grep -a "msg=sentinel" "$log" | tail -n 1 | sed -n 's/.* names=\([0-9]*\) .*/\1/p')
e2e_assert_le "$names" 1030 "the flood held its uid's share of the table at most ($names names)"
e2e_assert_match "$(grep -a "name=web-flood-4999 " "$log")" "uid=65534 evicted=web-flood-" \
    "its last name took the place of one of its own"
e2e_pass
