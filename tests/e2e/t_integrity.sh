#!/usr/bin/env bash
# t_integrity: every byte through the ssh forward and erlfwd-server's relay
# arrives, in order, unchanged, with --relay auto (splice through one shared
# pipe) and with --relay copy (one shared buffer):
#   - 64 MiB of random data as DIST to an --allow-port sink in the dyno: the
#     SHA-256 the sender computes equals the one the sink computes and sends
#     back after the EOF, and the server counts every byte both ways;
#   - 200 streams of 1 MiB each, distinct random content, all open through
#     the forward and the relay at the same time (each client sends its
#     preamble, then waits until all 200 have arrived at their sinks before
#     it sends its data; each sink waits the same before it reads a byte),
#     then all 200 carried at once: each stream's SHA-256 matches its own
#     content's.
# Knobs: INTEGRITY_MIB (64), INTEGRITY_STREAMS (200), INTEGRITY_KIB (1024,
# per stream).  64 MiB is many times every buffer on the path (the socket
# buffers, ssh's channel window, the relay's pipes), so it shows the same
# property as a bigger run within make check's time; `make long` runs it
# with 1 GiB (INTEGRITY_MIB=1024).
set -u -o pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init
e2e_require_build
e2e_require_cmd sha256sum flock mkfifo

mib=${INTEGRITY_MIB:-64}
streams=${INTEGRITY_STREAMS:-200}
kib=${INTEGRITY_KIB:-1024}
big=7001 many=7002

e2e_dyno_start dyno
# The big sink hashes what it reads and answers with the hash once the
# sender has shut its side.
e2e_dyno_spawn dyno sink-big socat \
    "TCP-LISTEN:$big,bind=127.0.0.1,reuseaddr,fork" EXEC:sha256sum
# A stream sink first says it has arrived, then waits for the gate (a lock
# this scenario holds until all have arrived), then does the same.
arrivals=$E2E_TMP/arrivals gate=$E2E_TMP/gate
cat >"$E2E_TMP/sink.sh" <<EOF
#!/bin/sh
echo arrived >>"$arrivals"
flock -s -w 60 "$gate" true || exit 1
exec sha256sum
EOF
chmod +x "$E2E_TMP/sink.sh"
e2e_dyno_spawn dyno sink-many socat \
    "TCP-LISTEN:$many,bind=127.0.0.1,reuseaddr,fork,backlog=1024" \
    "EXEC:$E2E_TMP/sink.sh"
e2e_wait_port -n dyno "$big"
e2e_wait_port -n dyno "$many"

# The streams' contents (s/d.N, N from 0), their hashes, and the preamble
# every stream starts with.
mkdir -p "$E2E_TMP/s" || e2e_fail "mkdir failed"
head -c $(( streams * kib << 10 )) /dev/urandom |
    split -b $(( kib << 10 )) -d -a 5 - "$E2E_TMP/s/d."
mapfile -t sums < <(sha256sum "$E2E_TMP"/s/d.* | cut -d' ' -f1)
e2e_assert_eq "$streams" "$(printf '%s\n' "${sums[@]}" | sort -u | wc -l)" \
    "$streams distinct contents"
# shellcheck disable=SC2059 # e2e_frame prints a printf format
printf "$(e2e_frame 2 "$many" 0)" >"$E2E_TMP/s/preamble"

# big_through MODE: one stream of MIB MiB of random data through the
# forward; the two hashes and the server's byte counts must agree.
big_through() {
	local mode=$1 bytes=$(( mib << 20 )) t0 ms src dst line hasher
	local fifo=$E2E_TMP/src.fifo.$mode
	mkfifo "$fifo" || e2e_fail "mkfifo failed"
	sha256sum <"$fifo" >"$E2E_TMP/src.sum.$mode" &
	hasher=$!
	t0=${EPOCHREALTIME/./}
	{
		# shellcheck disable=SC2059 # a printf format on purpose
		printf "$(e2e_frame 2 "$big" 0)"
		head -c "$bytes" /dev/urandom | tee "$fifo"
	} | timeout -k 5 $(( 60 + mib / 4 )) socat -b 262144 -t 60 - \
	    "TCP:127.0.0.1:$E2E_TUNNEL_PORT" >"$E2E_TMP/dst.sum.$mode"
	wait "$hasher"
	ms=$(( (${EPOCHREALTIME/./} - t0) / 1000 ))
	src=$(cut -d' ' -f1 "$E2E_TMP/src.sum.$mode")
	dst=$(cut -d' ' -f1 "$E2E_TMP/dst.sum.$mode")
	e2e_log "--relay $mode: $mib MiB in $ms ms" \
	    "($(( bytes / 1000 / (ms > 0 ? ms : 1) )) MB/s): sent $src, sink $dst"
	e2e_assert_match "$src" '^[0-9a-f]{64}$' "--relay $mode: the sender's hash"
	e2e_assert_eq "$src" "$dst" \
	    "--relay $mode: $mib MiB of random data arrive intact (SHA-256)"
	e2e_wait_count 10 "$E2E_SERVER_LOG" "target=127.0.0.1:$big " 1
	line=$(grep -aF "target=127.0.0.1:$big " "$E2E_SERVER_LOG")
	e2e_log "logged: ${line#*msg=conn }"
	e2e_assert_match "$line" \
	    " in=$bytes out=$(stat -c %s "$E2E_TMP/dst.sum.$mode") .*outcome=closed( |$)" \
	    "--relay $mode: the server counts every byte, both ways"
}

# many_through MODE: the streams at once through the forward.  A client
# sends its data only once the gate opens: sent at once, the first
# streams' 200 MiB would queue in the one SSH connection ahead of the last
# streams' preambles, and under load hold those back past the server's 5 s
# setup timeout (they were closed unopened and never arrived).
many_through() {
	local mode=$1 i d pids=() t0 ms bad=0 lines sum
	: >"$arrivals"
	exec {gate_fd}>"$gate"
	flock -x "$gate_fd" || e2e_fail "flock $gate failed"
	t0=${EPOCHREALTIME/./}
	for (( i = 1; i <= streams; i++ )); do
		printf -v d '%s/s/d.%05d' "$E2E_TMP" $(( i - 1 ))
		# The lock is taken on a descriptor of its own (not the
		# inherited one, which holds it exclusively).
		{
			cat "$E2E_TMP/s/preamble" &&
			    flock -s -w 60 "$gate" true &&
			    cat "$d"
		} | timeout -k 5 90 socat -t 60 - "TCP:127.0.0.1:$E2E_TUNNEL_PORT" \
		    >"$E2E_TMP/s/$i.out" 2>"$E2E_TMP/s/$i.err" &
		pids+=($!)
	done
	e2e_wait_count 60 "$arrivals" arrived "$streams"
	e2e_log "--relay $mode: all $streams streams open at once" \
	    "($(e2e_proc_fds "$E2E_SERVER_PID") fds in erlfwd-server)"
	# Opens the gate.  The clients inherited the descriptor, so closing
	# ours would not be enough: unlock it for every holder.
	flock -u "$gate_fd"
	exec {gate_fd}>&-
	for i in "${pids[@]}"; do
		wait "$i"
	done
	ms=$(( (${EPOCHREALTIME/./} - t0) / 1000 ))
	for (( i = 1; i <= streams; i++ )); do
		sum=$(cut -d' ' -f1 "$E2E_TMP/s/$i.out")
		[[ $sum == "${sums[i - 1]}" ]] && continue
		bad=$(( bad + 1 ))
		(( bad <= 5 )) && e2e_log "stream $i: sink ${sum:-nothing}," \
		    "sent ${sums[i - 1]} $(<"$E2E_TMP/s/$i.err")"
	done
	e2e_log "--relay $mode: $streams streams of $kib KiB in $ms ms"
	e2e_assert_eq 0 "$bad" \
	    "--relay $mode: each of $streams concurrent streams arrives intact"
	e2e_wait_count 10 "$E2E_SERVER_LOG" "target=127.0.0.1:$many " "$streams"
	lines=$(grep -aF "target=127.0.0.1:$many " "$E2E_SERVER_LOG")
	e2e_assert_eq "$streams" \
	    "$(grep -c " in=$(( kib << 10 )) out=68 .*outcome=closed" <<<"$lines")" \
	    "--relay $mode: the server counts every stream's bytes"
}

for mode in auto copy; do
	e2e_server_start dyno --allow-port "$big" --allow-port "$many" \
	    --relay "$mode"
	e2e_tunnel_up dyno
	big_through "$mode"
	many_through "$mode"
	e2e_tunnel_down dyno
	e2e_stop "$E2E_SERVER_PID"
	e2e_wait_port_closed -n dyno "$E2E_SERVER_PORT"
done
e2e_pass
