#!/usr/bin/env bash
# t_carrier_session: erlfwd-server's side of resume (README "Resume.")
# against carriers that do not play by the rules (carrier_peer.py, straight
# to the server's port in the dyno), while a session's owner holds it:
#   - the owner: resume=1, the server's nonce, NEW for session S with key
#     K, a stream to an echo listener (--allow-port) kept open;
#   - NEW for S again (a replayed or colliding NEW): REFUSE 3 (busy); 20
#     of them on one carrier: the second refused ends it with GOAWAY
#     protocol, two log lines;
#   - RESUME for S with a proof under another key, and with K's proof for
#     the owner's nonce (a recorded RESUME played on another carrier):
#     REFUSE 2, a "carrier resume refused" line naming S by its first 4
#     bytes; 50 RESUMEs on one carrier: the first refused, then GOAWAY
#     protocol ("out of turn"), one log line;
#   - RESUME for a session nobody has: REFUSE 1;
#   - after each, the owner's carrier answers INFO on a new stream, and
#     each refused carrier starts a session of its own with NEW;
#   - the owner drops its socket with no GOAWAY: "carrier lost", streams=1;
#     NEW for S is still refused; RESUME with K's proof for its own nonce
#     and count 0: ACCEPT with the count of what the owner sent, the
#     owner's unacknowledged frames sent again (the echo, the INFO
#     answers), the echo stream alive, "carrier resumed ... was=OWNER";
#   - S, K and the unknown id never appear whole in the server's log.
set -u -o pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init
e2e_require_cmd python3
peer=$E2E_DIR/carrier_peer.py echoport=7102
e2e_dyno_start dyno
e2e_dyno_spawn dyno echo socat "TCP-LISTEN:$echoport,bind=127.0.0.1,reuseaddr,fork" PIPE
e2e_wait_port -n dyno "$echoport"
e2e_server_start dyno --allow-port "$echoport"
log=$E2E_SERVER_LOG

hex() {
	od -An -v -N"$1" -tx1 /dev/urandom | tr -d ' \n'
}
sid=$(hex 16) key=$(hex 32) unknown=$(hex 16)
short=${sid:0:8}
e2e_log "session $short..., unknown ${unknown:0:8}..."

# The owner: its commands appended to held.cmd, its lines in held.log.
held_cmd=$E2E_TMP/held.cmd held_log=$E2E_TMP/held.log
: >"$held_cmd"
e2e_dyno_spawn dyno held python3 "$peer" hold "$E2E_SERVER_PORT" "$sid" \
    "$key" "$echoport" "$held_cmd"
e2e_wait_count 10 "$held_log" "held " 1
held=$(grep -a '^held ' "$held_log")
e2e_log "owner: $held"
e2e_assert_match "$held" '^held offered=yes nonce=[0-9a-f]{32} local=127\.0\.0\.1:[0-9]+ echo=held-1$' \
    "the owner was offered resume, and its session's echo stream answers"
held_nonce=$(sed -n 's/.* nonce=\([0-9a-f]*\) .*/\1/p' <<<"$held")
held_peer=$(sed -n 's/.* local=\([0-9.:]*\) .*/\1/p' <<<"$held")

# probe AFTER: the owner opens a new INFO stream, which must be answered.
probe() {
	local n line
	n=$(e2e_count "$held_log" "probe=")
	echo probe >>"$held_cmd"
	e2e_wait_count 10 "$held_log" "probe=" $(( n + 1 ))
	line=$(grep -a 'probe=' "$held_log" | tail -n 1)
	e2e_assert_match "$line" '^probe=ok stream=[0-9]+$' \
	    "after $1: the owner's carrier still answers a new stream"
}

# session ARGS...: one carrier_peer.py session carrier; CASE_OUT its line.
session() {
	CASE_OUT=$(ip netns exec "$(e2e_ns dyno)" timeout -k 5 30 python3 \
	    "$peer" session "$E2E_SERVER_PORT" "$@" 2>&1)
	e2e_log "session $1: $CASE_OUT"
}
# refused CODE WHAT: the last session was refused with CODE, then its
# carrier took a fresh session and answered INFO.
refused() {
	e2e_assert_match "$CASE_OUT" "^offered=yes answer=refuse:$1 fresh=ok " \
	    "$2: REFUSE $1, and the same carrier then starts its own session"
	e2e_assert_match "$CASE_OUT" ' goaway=none end=eof$' \
	    "$2: the carrier ended at its own GOAWAY, with the server's FIN"
}

session new "$sid" "$key"
refused 3 "NEW for a session the owner holds"
e2e_wait_count 5 "$log" "carrier session refused" 1
e2e_assert_match "$(grep -a "carrier session refused" "$log")" \
    " session=$short reason=\"a session of that id is held\"" \
    "a colliding NEW is logged, the session named by its first 4 bytes"
probe "a colliding NEW"

# Colliding NEWs in a row on one carrier: the first refused, the second
# refused and GOAWAY protocol.  (Each was refused and logged before.)
nc=$(e2e_count "$log" "msg=carrier peer=")
session new "$sid" "$key" 20
e2e_assert_match "$CASE_OUT" '^offered=yes answer=refuse:3 .* refusals=1 goaway=1:SESSION: a second NEW refused end=eof$' \
    "20 colliding NEWs on one carrier: one refused, then GOAWAY protocol"
e2e_wait_count 5 "$log" "msg=carrier peer=" $(( nc + 1 ))
e2e_assert_eq 3 "$(e2e_count "$log" "carrier session refused")" \
    "20 colliding NEWs on one carrier: two log lines"
probe "a storm of colliding NEWs"

n=$(e2e_count "$log" "carrier resume refused")
session resume "$sid" "$key" wrongkey
refused 2 "RESUME under another key"
e2e_wait_count 5 "$log" "carrier resume refused" $(( n + 1 ))
line=$(grep -a "carrier resume refused" "$log" | tail -n 1)
e2e_log "server: ${line#*msg=}"
e2e_assert_match "$line" " session=$short reason=\"wrong proof\"" \
    "a wrong proof is logged, the session named by its first 4 bytes"
probe "a wrong proof"

session resume "$sid" "$key" "nonce=$held_nonce"
refused 2 "the owner's proof played again on another carrier"
e2e_wait_count 5 "$log" "carrier resume refused" $(( n + 2 ))
probe "a replayed proof"

# Guesses in a row on one carrier: the first refused, the second out of
# turn.  (Each was refused and logged: one carrier wrote a log line per
# 69 bytes it sent, as fast as it could send them.)
nc=$(e2e_count "$log" "msg=carrier peer=")
session resume "$sid" "$key" wrongkey 50
e2e_assert_match "$CASE_OUT" '^offered=yes answer=refuse:2 .* refusals=1 goaway=1:SESSION \(op 2\) out of turn end=eof$' \
    "50 RESUMEs on one carrier: one refused, then GOAWAY protocol"
e2e_wait_count 5 "$log" "msg=carrier peer=" $(( nc + 1 ))
line=$(grep -a "msg=carrier peer=" "$log" | tail -n 1)
e2e_log "server: ${line#*msg=}"
e2e_assert_match "$line" ' outcome=error reason="SESSION \(op 2\) out of turn"$' \
    "the server ends that carrier as a protocol error"
e2e_assert_eq $(( n + 3 )) "$(e2e_count "$log" "carrier resume refused")" \
    "50 RESUMEs on one carrier: one log line"
probe "a storm of guesses"

session resume "$unknown" "$key" right
refused 1 "RESUME for a session nobody has"
e2e_wait_count 5 "$log" "carrier resume refused" $(( n + 4 ))
e2e_assert_match "$(grep -a "carrier resume refused" "$log" | tail -n 1)" \
    " session=${unknown:0:8} reason=\"no such session" \
    "a RESUME for no session is logged, the id by its first 4 bytes"

# The owner's carrier dropped, no GOAWAY: the session waits for it.
echo drop >>"$held_cmd"
e2e_wait_count 5 "$held_log" "dropped " 1
sent=$(sed -n 's/^dropped sent_seq=\([0-9]*\)$/\1/p' "$held_log")
e2e_wait_count 5 "$log" "carrier lost" 1
line=$(grep -a "carrier lost" "$log")
e2e_log "server: ${line#*msg=}"
e2e_assert_match "$line" " peer=$held_peer session=$short streams=1 " \
    "the dropped carrier's session is kept, with its echo stream"

session new "$sid" "$key"
refused 3 "NEW for a session whose carrier was lost"

session resume "$sid" "$key" right
e2e_assert_match "$CASE_OUT" "^offered=yes answer=accept:$sent " \
    "RESUME with the right proof: ACCEPT, with the $sent sequenced bytes the owner sent"
e2e_assert_match "$CASE_OUT" " stream1=held-1after-resume " \
    "the owner's unacknowledged echo came again, and the echo stream lives on"
probed=$(sed -n 's/^probe=ok stream=\([0-9]*\)$/\1/p' "$held_log" | paste -sd, -)
e2e_assert_match "$CASE_OUT" " fins=$probed,101 info=ok " \
    "the owner's INFO answers came again, and a new stream is answered"
e2e_assert_match "$CASE_OUT" ' goaway=none end=eof$' \
    "the resumed carrier ended at its own GOAWAY, with the server's FIN"
line=$(grep -a "carrier resumed" "$log")
e2e_log "server: ${line#*msg=}"
e2e_assert_match "$line" " was=$held_peer session=$short away_ms=[0-9]+" \
    "the server logs the session resumed from the dropped carrier"
e2e_wait_count 5 "$log" " resumed=1 " 1
line=$(grep -a " resumed=1 " "$log")
e2e_assert_match "$line" " outcome=closed " \
    "the resumed session ends at its GOAWAY, in one carrier line"

for x in "session's id:$sid" "session's key:$key" "unknown session's id:$unknown"; do
	e2e_assert_eq 0 "$(e2e_count "$log" "${x#*:}")" \
	    "the ${x%%:*} never appears whole in the server's log"
done
e2e_pass
