#!/usr/bin/env bash
# run.sh: erlfwd's benchmarks (`make bench`).  Every figure is erlfwd against
# a baseline measured in the same run, round after round, interleaved; the
# table gives medians.
#
#   tests/bench/run.sh            all of them
#   BENCH_ONLY="bulk dist" ...    only these (bulk setup routes hook scale
#                                 dist carrier libfree resume)
#
# It prints one table (metric, erlfwd, baseline, ratio, target, met) and
# writes it with the machine's description and the per-round samples to
# build/bench/results.md, and a chart to build/bench/chart.png.  Progress
# goes to stderr.
#
# The world (tests/e2e/lib.sh):
#
#   this namespace           dyno (network namespace)            lap (netns)
#   ---------------------    ---------------------------------   -----------
#   ssh -L A -> dyno :5201   iperf3 -s :5201, echod :7000         epmd 4369
#   ssh -L B -> dyno :9369   socat :9500 -> :5201, :9501 -> :7000 escript =
#   iperf3 -c (ssh paths)    erlfwd-server :9369 (bulk, setup),    node A
#                              :9370 (--relay copy), :94xx and      |
#                              echod :71xx (scale, fresh each round) veth
#                            epmd 4369, node app@dyno                |
#                            erlfwd-server 10.77.0.2:9369 -----------'
#   carrier:
#   ssh -L C -> dyno :9369   erlfwd agent -> :9369 (a carrier on loopback)
#   erlfwd agent -> C        nodes nodea@dyno, nodeb@dyno
#   echod, epmd, escript     erlfwd-server :945x and agents (memory, fresh
#                              each round)
#   resume:
#   ssh -L D -> dyno :9381   erlfwd-server :9381 (resume offered, default
#   ssh -L E -> dyno :9382     window), :9382 (--resume-window 0); agents
#   erlfwd agent -> D, -> E    to both on loopback; :96xx, :97xx and agents
#   resumertt -> D, -> F       (memory, fresh each round)
#   ssh -L F -> dyno :9381 (sshd through delaypipe: a 20 ms round trip)
#
# Every client in the dyno runs in it too, on its loopback; the ssh paths
# start here and enter the dyno through sshd.
#
# Knobs: BENCH_ROUNDS (5), BENCH_SECS (iperf3 seconds per run, 3),
# BENCH_SETUPS (2000), BENCH_CONNS (10000), BENCH_CARRIER_SETUPS (1000),
# BENCH_CARRIER_STREAMS (1000), BENCH_CARRIER_WAN_SETUPS (100),
# BENCH_RESUME_RTTS (2000), BENCH_RESUME_ITERS (100),
# BENCH_RESUME_WAN_ITERS (20), BENCH_RESUME_STREAMS (1000),
# BENCH_OUT (build/bench),
# BENCH_ONLY, BENCH_RELAY (erlfwd-server's --relay for every server; default
# its own choice); lib.sh's E2E_BUILD and E2E_KEEP.  Needs root (namespaces).
# shellcheck source-path=SCRIPTDIR
set -u -o pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../e2e/lib.sh
. "$here/../e2e/lib.sh"

ROUNDS=${BENCH_ROUNDS:-5}
SECS=${BENCH_SECS:-3}
SETUPS=${BENCH_SETUPS:-2000}
CONNS=${BENCH_CONNS:-10000}
ONLY=${BENCH_ONLY:-bulk setup routes hook scale dist carrier libfree resume}
OUT=${BENCH_OUT:-$E2E_ROOT/build/bench}
BIN=$E2E_BUILD/bench
KIB=4			# what each held connection moves, per direction
DIST_MIB=64
DIST_BIG=5		# 64 MiB round trips per node, after one warm-up
DIST_SMALL=10000
DIST_SMALL_MS=5000	# ... or as many small calls as fit in this time
HOST=benchhost		# the name the preloaded clients ask for
CARRIER_SETUPS=${BENCH_CARRIER_SETUPS:-1000}
CARRIER_STREAMS=${BENCH_CARRIER_STREAMS:-1000}
CARRIER_WAN_SETUPS=${BENCH_CARRIER_WAN_SETUPS:-100}
CARRIER_WAN_MS=10	# each way, on the link with latency: a 20 ms round trip
CARRIER_AGENTS=10	# idle carriers added to measure one's cost
HOL_BIG=5		# 64 MiB round trips to one node while another is timed
HOL_IDLE_MS=1000	# small calls timed with nothing else moving
RESUME_RTTS=${BENCH_RESUME_RTTS:-2000}
RESUME_RTT_RUNS=5	# ... in as many connrtt -k runs per side, alternating
RESUME_ITERS=${BENCH_RESUME_ITERS:-100}
RESUME_WAN_ITERS=${BENCH_RESUME_WAN_ITERS:-20}
RESUME_STREAMS=${BENCH_RESUME_STREAMS:-1000}
RESUME_CPU_MIB=2048	# moved through each loopback agent, CPU timed
CLK_TCK=$(getconf CLK_TCK)
RESUME_ON_PORT=9381	# erlfwd-server offering resume (its default window)
RESUME_OFF_PORT=9382	# the same with --resume-window 0

IPERF_PORT=5201
SOCAT_PORT=9500		# socat to iperf3
SOCAT_ECHO_PORT=9501	# socat to echod
RELAY_PORT=9369		# erlfwd-server for bulk and setup
ECHO_PORT=7000
VETH_LAP=10.77.0.1
VETH_DYNO=10.77.0.2

T_START=${EPOCHREALTIME/./}
LOAD_START=$(cut -d ' ' -f 1 /proc/loadavg)

# ---------------------------------------------------------------------------
# Samples: one file per series, one number a line, one line per round.

bench_add() {
	printf '%s\n' "$2" >>"$SAMPLES/$1"
}

# bench_med NAME: the median of series NAME (nothing when it is empty).
bench_med() {
	[[ -s $SAMPLES/$1 ]] || return 0
	sort -g "$SAMPLES/$1" | awk '{ v[NR] = $1 }
	    END { print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# bench_div A B: A / B with enough digits for a ratio.
bench_div() {
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.6g\n", b == 0 ? 0 : a / b }'
}

# bench_kv KEY LINE: the value of KEY=VALUE in LINE.
bench_kv() {
	sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<<"$2"
}

bench_want() {
	[[ " $ONLY " == *" $1 "* ]]
}

# ---------------------------------------------------------------------------
# Processes

bench__gone() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
	stat=${stat##*) }
	[[ ${stat:0:1} == [ZX] ]]
}

# bench_stop PID: SIGTERM, and wait until it has exited.
bench_stop() {
	kill -TERM "$1" 2>/dev/null
	e2e_wait_until 5 "pid $1 to exit" bench__gone "$1"
}

bench__logged() {
	grep -qF -- "$2" "$1" 2>/dev/null && return 0
	bench__gone "$3" && e2e_fail "pid $3 exited at start" "$(tail -n 5 "$1")"
	return 1
}

# bench_spawn LOG READY CMD...: CMD in the dyno, output in $E2E_TMP/LOG.log;
# wait until that log contains READY.  Its pid in BENCH_PID.
bench_spawn() {
	local log=$1 ready=$2
	shift 2
	e2e_dyno_spawn dyno "$log" "$@"
	BENCH_PID=$E2E_LAST_PID
	e2e_wait_until 10 "$log to start" \
	    bench__logged "$E2E_TMP/$log.log" "$ready" "$BENCH_PID"
}

# bench_server LOG ARGS...: erlfwd-server in the dyno (with --relay
# BENCH_RELAY when that is set).
bench_server() {
	local log=$1
	shift
	bench_spawn "$log" msg=listening "$E2E_SERVER_BIN" \
	    ${BENCH_RELAY:+--relay "$BENCH_RELAY"} "$@"
}

# bench_echod PORT: the echo server in the dyno on 127.0.0.1:PORT.
bench_echod() {
	bench_spawn "echod-$1" "listening port=$1" "$BIN/echod" \
	    -l "127.0.0.1:$1"
}

in_dyno() {
	e2e_dyno_exec dyno "$@"
}

# preload TUNNEL_PORT: the environment of a client under liberlfwd.so that
# sends $HOST through 127.0.0.1:TUNNEL_PORT.
preload() {
	PRE=(env "LD_PRELOAD=$E2E_PRELOAD_LIB" "ERLFWD_HOSTS=$HOST"
	    "ERLFWD_TUNNEL=127.0.0.1:$1")
}

# bench_conn_lines LOG WHAT: how many connections erlfwd-server's LOG has
# ended with WHAT (a fixed string) in their line.
bench_conn_lines() {
	grep -a 'outcome=' "$E2E_TMP/$1.log" 2>/dev/null | grep -cF -- "$2"
}

bench__at_least() {
	(( $(bench_conn_lines "$1" "$2") >= $3 ))
}

# bench_expect_relayed LOG WHAT N: the server relayed at least N such
# connections: what was measured went through it.
bench_expect_relayed() {
	e2e_wait_until 10 "$3 connections with '$2' in $1" \
	    bench__at_least "$1" "$2" "$3"
	e2e_log "ok: $1 relayed $(bench_conn_lines "$1" "$2") connections" \
	    "with $2"
}

# ---------------------------------------------------------------------------
# 1. Bulk throughput of one stream

# bench_iperf SERIES [-n] ARGS...: one run of the iperf3 client with ARGS
# (inside the dyno with -n, else here); the receiver's rate in Gbit/s goes to
# SERIES.  ARGS may start with env and the preload's variables.
bench_iperf() {
	local series=$1 out mbit try pre=()
	shift
	if [[ $1 == -n ]]; then
		pre=(e2e_dyno_exec dyno)
		shift
	fi
	for try in 1 2; do
		out=$("${pre[@]}" timeout -k 5 $(( SECS + 30 )) "$@" -t "$SECS" \
		    -O 1 -f m 2>&1)
		mbit=$(awk '/receiver/ { for (i = 2; i <= NF; i++)
		    if ($i == "Mbits/sec") print $(i - 1) }' <<<"$out")
		[[ -n $mbit ]] && break
		e2e_log "iperf3 ($series) failed, try $try:" "$out"
	done
	[[ -n $mbit ]] || e2e_fail "iperf3 for $series failed twice" "$out"
	bench_add "$series" "$(bench_div "$mbit" 1000)"
	e2e_log "bulk $series: $mbit Mbit/s"
}

bench_bulk() {
	local r s n out ssh_direct ssh_relay
	e2e_log "== 1. bulk throughput, ${SECS} s per run (after 1 s omitted)"
	e2e_dyno_spawn dyno iperf3-server iperf3 -s -p "$IPERF_PORT"
	e2e_wait_port -n dyno "$IPERF_PORT"
	e2e_dyno_spawn dyno socat socat \
	    "TCP-LISTEN:$SOCAT_PORT,bind=127.0.0.1,reuseaddr,fork" \
	    "TCP:127.0.0.1:$IPERF_PORT"
	e2e_wait_port -n dyno "$SOCAT_PORT"
	# Two forwards into the same dyno; lib.sh keeps one local port per
	# dyno, so the second is given a fresh one.
	e2e_tunnel_up dyno "$IPERF_PORT"
	ssh_direct=$E2E_TUNNEL_PORT
	E2E_TUNNEL_PORTS["dyno"]=
	e2e_tunnel_up dyno "$RELAY_PORT"
	ssh_relay=$E2E_TUNNEL_PORT
	# A server that can move bytes either way is measured both ways: the
	# copy relay is one more (informative) row.
	COPY_PORT=
	if [[ -z ${BENCH_RELAY:-} ]] &&
	    "$E2E_SERVER_BIN" --help 2>&1 | grep -q -- '--relay auto|copy'; then
		COPY_PORT=9370
		bench_server server-copy -l "127.0.0.1:$COPY_PORT" \
		    --allow-port "$IPERF_PORT" --relay copy
	fi

	# That the preload routes iperf3 is checked, not assumed.
	preload "$RELAY_PORT"
	out=$(in_dyno "${PRE[@]}" ERLFWD_DEBUG=1 iperf3 -c "$HOST" \
	    -p "$IPERF_PORT" -t 1 2>&1)
	e2e_assert_contains "$out" \
	    "$HOST:$IPERF_PORT -> 127.0.0.1:$RELAY_PORT dist $IPERF_PORT" \
	    "iperf3 under the preload connects through erlfwd-server"

	for (( r = 1; r <= ROUNDS; r++ )); do
		e2e_log "bulk: round $r of $ROUNDS"
		bench_iperf bulk_direct -n iperf3 -c 127.0.0.1 \
		    -p "$IPERF_PORT"
		preload "$RELAY_PORT"
		bench_iperf bulk_erlfwd -n "${PRE[@]}" iperf3 -c "$HOST" \
		    -p "$IPERF_PORT"
		bench_iperf bulk_socat -n iperf3 -c 127.0.0.1 \
		    -p "$SOCAT_PORT"
		bench_iperf bulk_ssh iperf3 -c 127.0.0.1 -p "$ssh_direct"
		preload "$ssh_relay"
		bench_iperf bulk_ssh_erlfwd "${PRE[@]}" iperf3 -c "$HOST" \
		    -p "$IPERF_PORT"
		if [[ -n $COPY_PORT ]]; then
			preload "$COPY_PORT"
			bench_iperf bulk_copy -n "${PRE[@]}" iperf3 -c "$HOST" \
			    -p "$IPERF_PORT"
			bench_add bulk_ratio_copy "$(bench_div \
			    "$(tail -n 1 "$SAMPLES/bulk_copy")" \
			    "$(tail -n 1 "$SAMPLES/bulk_direct")")"
		fi
		for s in direct socat; do
			bench_add "bulk_ratio_$s" "$(bench_div \
			    "$(tail -n 1 "$SAMPLES/bulk_erlfwd")" \
			    "$(tail -n 1 "$SAMPLES/bulk_$s")")"
		done
		bench_add bulk_ratio_ssh "$(bench_div \
		    "$(tail -n 1 "$SAMPLES/bulk_ssh_erlfwd")" \
		    "$(tail -n 1 "$SAMPLES/bulk_ssh")")"
	done
	# iperf3 opens a control and a data connection: two per run, plus
	# the check above.
	n=$(( 4 * ROUNDS + 2 ))
	bench_expect_relayed server-relay "target=127.0.0.1:$IPERF_PORT " "$n"
}

# ---------------------------------------------------------------------------
# 2. Connection setup

bench_setup() {
	local r line
	e2e_log "== 2. connection setup: $SETUPS connect + first byte, sequential"
	e2e_dyno_spawn dyno socat-echo socat \
	    "TCP-LISTEN:$SOCAT_ECHO_PORT,bind=127.0.0.1,reuseaddr,fork" \
	    "TCP:127.0.0.1:$ECHO_PORT"
	e2e_wait_port -n dyno "$SOCAT_ECHO_PORT"
	for (( r = 1; r <= ROUNDS; r++ )); do
		line=$(in_dyno "$BIN/connrtt" 127.0.0.1 "$ECHO_PORT" \
		    "$SETUPS") || e2e_fail "connrtt (direct) failed"
		bench_add setup_direct "$(bench_kv p50_us "$line")"
		bench_add setup_mean_direct "$(bench_kv mean_us "$line")"
		e2e_log "setup direct: $line"
		preload "$RELAY_PORT"
		line=$(in_dyno "${PRE[@]}" "$BIN/connrtt" "$HOST" "$ECHO_PORT" \
		    "$SETUPS") || e2e_fail "connrtt (erlfwd) failed"
		bench_add setup_erlfwd "$(bench_kv p50_us "$line")"
		bench_add setup_mean_erlfwd "$(bench_kv mean_us "$line")"
		e2e_log "setup erlfwd: $line"
		line=$(in_dyno "$BIN/connrtt" 127.0.0.1 "$SOCAT_ECHO_PORT" \
		    "$SETUPS") || e2e_fail "connrtt (socat) failed"
		bench_add setup_socat "$(bench_kv p50_us "$line")"
		e2e_log "setup socat: $line"
		bench_add setup_ratio "$(bench_div \
		    "$(tail -n 1 "$SAMPLES/setup_erlfwd")" \
		    "$(tail -n 1 "$SAMPLES/setup_direct")")"
		bench_add setup_ratio_socat "$(bench_div \
		    "$(tail -n 1 "$SAMPLES/setup_erlfwd")" \
		    "$(tail -n 1 "$SAMPLES/setup_socat")")"
	done
	bench_expect_relayed server-relay "target=127.0.0.1:$ECHO_PORT " \
	    $(( SETUPS * ROUNDS ))
}

# ---------------------------------------------------------------------------
# 2b. Connection setup per route kind, through real SSH

# bench_routes: connect + first byte through each kind of route into the dyno,
# from here: ssh -L straight to the echo server (no erlfwd: the baseline),
# ssh -L to erlfwd-server, ssh -D (SOCKS5, nothing on the remote side) and
# microsocks in the dyno behind ssh -L.  Fewer connections than "setup":
# each one opens an SSH channel.
bench_routes() {
	local r k n=${BENCH_ROUTE_SETUPS:-300} fwd_echo fwd_srv fwd_ms socks line
	e2e_log "== 2b. setup per route kind: $n connect + first byte each"
	e2e_require_cmd microsocks
	e2e_dyno_spawn dyno microsocks microsocks -i 127.0.0.1 -p 1080
	e2e_wait_port -n dyno 1080
	e2e_free_port fwd_echo
	e2e_free_port fwd_srv
	e2e_free_port fwd_ms
	e2e__ssh routes-fwd dyno -L "127.0.0.1:$fwd_echo:127.0.0.1:$ECHO_PORT" \
	    -L "127.0.0.1:$fwd_srv:127.0.0.1:$RELAY_PORT" \
	    -L "127.0.0.1:$fwd_ms:127.0.0.1:1080"
	e2e_wait_port "$fwd_ms"
	e2e_socks_up dyno
	socks=${E2E_SOCKS_PORTS[dyno]}
	for (( r = 1; r <= ROUNDS; r++ )); do
		line=$("$BIN/connrtt" 127.0.0.1 "$fwd_echo" "$n") ||
		    e2e_fail "connrtt (ssh -L) failed"
		bench_add route_ssh "$(bench_kv p50_us "$line")"
		line=$(env "LD_PRELOAD=$E2E_PRELOAD_LIB" "ERLFWD_HOSTS=$HOST" \
		    "ERLFWD_TUNNEL=127.0.0.1:$fwd_srv" \
		    "$BIN/connrtt" "$HOST" "$ECHO_PORT" "$n") ||
		    e2e_fail "connrtt (ssh -L + erlfwd-server) failed"
		bench_add route_server "$(bench_kv p50_us "$line")"
		line=$(env "LD_PRELOAD=$E2E_PRELOAD_LIB" "ERLFWD_HOSTS=$HOST" \
		    "ERLFWD_TUNNEL=socks5://127.0.0.1:$socks" \
		    "$BIN/connrtt" "$HOST" "$ECHO_PORT" "$n") ||
		    e2e_fail "connrtt (ssh -D) failed"
		bench_add route_sshd "$(bench_kv p50_us "$line")"
		line=$(env "LD_PRELOAD=$E2E_PRELOAD_LIB" "ERLFWD_HOSTS=$HOST" \
		    "ERLFWD_TUNNEL=socks5://127.0.0.1:$fwd_ms" \
		    "$BIN/connrtt" "$HOST" "$ECHO_PORT" "$n") ||
		    e2e_fail "connrtt (microsocks) failed"
		bench_add route_microsocks "$(bench_kv p50_us "$line")"
		for k in server sshd microsocks; do
			bench_add "route_ratio_$k" "$(bench_div \
			    "$(tail -n 1 "$SAMPLES/route_$k")" \
			    "$(tail -n 1 "$SAMPLES/route_ssh")")"
		done
		e2e_log "routes round $r: ssh $(tail -n 1 "$SAMPLES/route_ssh")" \
		    "server $(tail -n 1 "$SAMPLES/route_server")" \
		    "ssh -D $(tail -n 1 "$SAMPLES/route_sshd")" \
		    "microsocks $(tail -n 1 "$SAMPLES/route_microsocks") us"
	done
}

# ---------------------------------------------------------------------------
# 3. Hook cost on pass-through calls

bench_hook() {
	local r cpu mode line l op
	cpu=$(( $(nproc) - 1 ))
	e2e_log "== 3. hook cost on pass-through calls (pinned to CPU $cpu)"
	preload "$RELAY_PORT"
	for (( r = 1; r <= ROUNDS; r++ )); do
		# Preloaded: hooked against libc's own, batch by batch.  Not
		# preloaded: the same measurement of one function against
		# itself, the method's noise floor.
		for mode in erlfwd plain; do
			if [[ $mode == plain ]]; then
				line=$(in_dyno taskset -c "$cpu" \
				    "$BIN/hookcost") ||
				    e2e_fail "hookcost failed"
			else
				line=$(in_dyno taskset -c "$cpu" "${PRE[@]}" \
				    "$BIN/hookcost") ||
				    e2e_fail "hookcost (preloaded) failed"
			fi
			while read -r l; do
				op=$(bench_kv op "$l")
				[[ $op == clock ]] && continue
				if [[ $mode == erlfwd ]]; then
					bench_add "hook_${op}_erlfwd" \
					    "$(bench_kv ns "$l")"
					bench_add "hook_${op}_libc" \
					    "$(bench_kv libc_ns "$l")"
					bench_add "hook_${op}_ratio" \
					    "$(bench_kv ratio "$l")"
				else
					bench_add "hook_${op}_plain" \
					    "$(bench_kv ns "$l")"
					bench_add "hook_${op}_noise" \
					    "$(bench_kv ratio "$l")"
				fi
			done <<<"$line"
			e2e_log "hook $mode: ${line//$'\n'/ }"
		done
	done
}

# ---------------------------------------------------------------------------
# 4. Server scale

# bench_scale_record SIDE LINE: the figures of one conns run.
bench_scale_record() {
	local side=$1 line=$2 n
	n=$(bench_kv conns "$line")
	bench_add "scale_mem_$side" "$(bench_div $(( $(bench_kv rss_idle_kib \
	    "$line") - $(bench_kv rss_before_kib "$line") )) "$n")"
	bench_add "scale_fds_$side" "$(bench_div $(( $(bench_kv fds_idle \
	    "$line") - $(bench_kv fds_before "$line") )) "$n")"
	bench_add "scale_est_$side" "$(bench_kv establish_ms "$line")"
	bench_add "scale_move_$side" "$(bench_kv move_ms "$line")"
	bench_add "scale_ok_$side" "$(bench_kv verified "$line")"
}

bench_scale() {
	local r line echo_port relay_port hard echod_pid server_pid
	# Two fds per relayed connection: the fd limit bounds N.  Without
	# CAP_SYS_RESOURCE the hard limit cannot be raised.
	hard=$(ulimit -Hn)
	[[ $hard == unlimited ]] || (( (hard - 32) / 2 >= CONNS )) ||
	    SCALE_NOTE="only $(( (hard - 32) / 2 )) connections, not $CONNS: the hard limit on open files here is $hard and cannot be raised (no CAP_SYS_RESOURCE); erlfwd-server needs two per connection"
	[[ -n ${SCALE_NOTE:-} ]] && SCALE_N=$(( (hard - 32) / 2 ))
	e2e_log "== 4. server scale: $SCALE_N connections held, $KIB KiB each" \
	    "${SCALE_NOTE:+($SCALE_NOTE)}"
	for (( r = 1; r <= ROUNDS; r++ )); do
		# Fresh processes and ports every round: memory is measured
		# from a clean start, and no TIME_WAIT is in the way.
		echo_port=$(( 7100 + r ))
		relay_port=$(( 9400 + r ))
		bench_echod "$echo_port"
		echod_pid=$BENCH_PID
		bench_server "server-scale-$r" -l "127.0.0.1:$relay_port" \
		    --allow-port "$echo_port" --max-conns 20000
		server_pid=$BENCH_PID
		line=$(in_dyno "$BIN/conns" -p "$echod_pid" 127.0.0.1 \
		    "$echo_port" "$SCALE_N" "$KIB") ||
		    e2e_fail "conns (direct) lost connections" "$line"
		e2e_log "scale direct: $line"
		bench_scale_record direct "$line"
		preload "$relay_port"
		line=$(in_dyno "${PRE[@]}" "$BIN/conns" -p "$server_pid" \
		    "$HOST" "$echo_port" "$SCALE_N" "$KIB")
		e2e_log "scale erlfwd: $line"
		[[ -n $(bench_kv verified "$line") ]] ||
		    e2e_fail "conns (erlfwd) failed" "$line"
		bench_scale_record erlfwd "$line"
		bench_add scale_est_ratio "$(bench_div \
		    "$(tail -n 1 "$SAMPLES/scale_est_erlfwd")" \
		    "$(tail -n 1 "$SAMPLES/scale_est_direct")")"
		bench_add scale_move_ratio "$(bench_div \
		    "$(tail -n 1 "$SAMPLES/scale_move_erlfwd")" \
		    "$(tail -n 1 "$SAMPLES/scale_move_direct")")"
		bench_add scale_fds_ratio "$(bench_div \
		    "$(tail -n 1 "$SAMPLES/scale_fds_erlfwd")" \
		    "$(tail -n 1 "$SAMPLES/scale_fds_direct")")"
		bench_stop "$server_pid"
		bench_stop "$echod_pid"
	done
}

# ---------------------------------------------------------------------------
# 5. Distribution end to end

# bench_dist_run SERIES CMD...: one dist.escript run in the lap; the median of its big
# round trips as MiB/s (both ways) and its small calls' microseconds.
bench_dist_run() {
	local series=$1 line ms
	shift
	line=$(e2e_dyno_exec lap timeout -k 5 300 "$@" 2>&1) ||
	    e2e_fail "dist.escript ($series) failed" "$line"
	line=$(grep '^big_ms=' <<<"$line")
	[[ -n $line ]] || e2e_fail "dist.escript ($series) printed no figures"
	e2e_log "dist $series: $line"
	ms=$(bench_kv big_ms "$line" | tr , '\n' | sort -g |
	    awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
	bench_add "dist_big_$series" "$(bench_div $(( 2 * DIST_MIB * 1000 )) \
	    "$ms")"
	bench_add "dist_small_$series" "$(bench_kv small_us "$line")"
	bench_add "dist_small_calls_$series" "$(bench_kv small_calls "$line")"
}

bench_dist() {
	local r ns_lap ns_dyno cookie=$E2E_COOKIE app=app@dyno inetrc
	e2e_log "== 5. distribution: $DIST_BIG x $DIST_MIB MiB round trips" \
	    "and $DIST_SMALL rpc:calls per node, direct vs tunnel"
	e2e_dyno_create lap
	e2e_epmd_start lap
	ns_lap=$(e2e_ns lap)
	ns_dyno=$(e2e_ns dyno)
	# One veth between the two namespaces carries both paths.
	ip link add veth0 netns "$ns_lap" type veth peer name veth0 \
	    netns "$ns_dyno" || e2e_fail "cannot create the veth pair"
	ip -n "$ns_lap" addr add "$VETH_LAP/24" dev veth0
	ip -n "$ns_dyno" addr add "$VETH_DYNO/24" dev veth0
	ip -n "$ns_lap" link set veth0 up
	ip -n "$ns_dyno" link set veth0 up
	e2e_node_start dyno "$app"
	bench_server server-dist -l "$VETH_DYNO:9369"
	# The direct node finds "dyno" across the veth in its own host table;
	# the tunnelled one gets the sentinel from the preload.
	inetrc=$E2E_TMP/inetrc
	printf '{host, {%s}, ["dyno"]}.\n{lookup, [file, native]}.\n' \
	    "${VETH_DYNO//./,}" >"$inetrc"
	for (( r = 1; r <= ROUNDS; r++ )); do
		e2e_log "dist: round $r of $ROUNDS"
		bench_dist_run direct env \
		    "ERL_INETRC=$inetrc" escript "$here/dist.escript" \
		    "benchd$r" "$app" "$cookie" "$DIST_MIB" "$DIST_BIG" \
		    "$DIST_SMALL" "$DIST_SMALL_MS"
		bench_dist_run erlfwd env \
		    "LD_PRELOAD=$E2E_PRELOAD_LIB" ERLFWD_HOSTS=dyno \
		    "ERLFWD_TUNNEL=$VETH_DYNO:9369" escript "$here/dist.escript" \
		    "bencht$r" "$app" "$cookie" "$DIST_MIB" "$DIST_BIG" \
		    "$DIST_SMALL" "$DIST_SMALL_MS"
		bench_add dist_big_ratio "$(bench_div \
		    "$(tail -n 1 "$SAMPLES/dist_big_erlfwd")" \
		    "$(tail -n 1 "$SAMPLES/dist_big_direct")")"
		bench_add dist_small_ratio "$(bench_div \
		    "$(tail -n 1 "$SAMPLES/dist_small_erlfwd")" \
		    "$(tail -n 1 "$SAMPLES/dist_small_direct")")"
	done
	bench_expect_relayed server-dist "tag=dist" "$ROUNDS"
}

# ---------------------------------------------------------------------------
# 6. Carriers: the erlfwd command's agent, many streams over one connection

# bench_agent WHERE LOG TUNNEL: `erlfwd agent --tunnel TUNNEL` here (WHERE
# "here") or in the dyno ("dyno"), output in $E2E_TMP/LOG.log; wait until it
# prints its ERLFWD_TUNNEL line.  Its port in BENCH_AGENT_PORT, its pid in
# BENCH_PID.
bench_agent() {
	local where=$1 log=$2 tunnel=$3
	if [[ $where == dyno ]]; then
		e2e_dyno_spawn dyno "$log" "$CLI" agent --tunnel "$tunnel"
	else
		e2e_spawn "$log" "$CLI" agent --tunnel "$tunnel"
	fi
	BENCH_PID=$E2E_LAST_PID
	e2e_wait_until 15 "$log to be up" \
	    bench__logged "$E2E_TMP/$log.log" ERLFWD_TUNNEL= "$BENCH_PID"
	BENCH_AGENT_PORT=$(sed -n 's/^ERLFWD_TUNNEL=127\.0\.0\.1:\([0-9]*\)$/\1/p' \
	    "$E2E_TMP/$log.log" | head -n 1)
	[[ -n $BENCH_AGENT_PORT ]] ||
	    e2e_fail "$log printed no ERLFWD_TUNNEL=127.0.0.1:PORT line" \
	    "$(cat "$E2E_TMP/$log.log")"
}

# bench_stream_lines LOG PORT: how many carrier streams (peer ADDR#ID) to
# 127.0.0.1:PORT erlfwd-server's LOG has ended.
bench_stream_lines() {
	grep -a 'outcome=' "$E2E_TMP/$1.log" 2>/dev/null |
	    grep -cE "peer=[^ ]+#[0-9]+ tag=dist target=127\.0\.0\.1:$2 "
}

bench__streams_at_least() {
	(( $(bench_stream_lines "$1" "$2") >= $3 ))
}

# bench_expect_streams LOG PORT N: at least N streams of a carrier reached
# PORT through the server of LOG: what was measured crossed a carrier.
bench_expect_streams() {
	e2e_wait_until 10 "$3 carrier streams to port $2 in $1" \
	    bench__streams_at_least "$1" "$2" "$3"
	e2e_log "ok: $1 carried $(bench_stream_lines "$1" "$2") streams to" \
	    "port $2"
}

# bench_last SERIES: the last sample of SERIES.
bench_last() {
	tail -n 1 "$SAMPLES/$1"
}

# bench_ratio RATIO A B: add the last sample of A over the last of B to RATIO.
bench_ratio() {
	bench_add "$1" "$(bench_div "$(bench_last "$2")" "$(bench_last "$3")")"
}

# bench_connrtt SERIES CMD...: one connrtt run; its median in SERIES.
bench_connrtt() {
	local series=$1 line
	shift
	line=$("$@") || e2e_fail "connrtt ($series) failed" "$line"
	bench_add "$series" "$(bench_kv p50_us "$line")"
	e2e_log "carrier $series: $line"
}

# bench_hol_run SERIES CMD...: one hol.escript run here; the small calls'
# median and p99 under load, and idle, in ms.
bench_hol_run() {
	local series=$1 line k
	shift
	line=$(timeout -k 5 300 "$@" 2>&1) ||
	    e2e_fail "hol.escript ($series) failed" "$line"
	line=$(grep '^idle_n=' <<<"$line")
	[[ -n $line ]] || e2e_fail "hol.escript ($series) printed no figures"
	e2e_log "hol $series: $line"
	for k in loaded_p50 loaded_p99 idle_p50 idle_p99; do
		bench_add "hol_${k}_$series" \
		    "$(bench_div "$(bench_kv "${k}_us" "$line")" 1000)"
	done
	bench_add "hol_loaded_calls_$series" "$(bench_kv loaded_n "$line")"
}

# bench_carrier_memory R: a fresh erlfwd-server and CARRIER_AGENTS + 1
# agents in the dyno, all idle: what one more carrier costs the server and
# an idle agent weighs; then CARRIER_STREAMS idle streams through one agent,
# against as many version 1 connections to the same server.
bench_carrier_memory() {
	local r=$1 spid apid aport k before after sum=0 line
	local port=$(( 9450 + r )) n=$CARRIER_STREAMS pids=()
	bench_server "server-carrier-$r" -l "127.0.0.1:$port" \
	    --allow-port "$ECHO_PORT" --max-conns 20000
	spid=$BENCH_PID
	bench_agent dyno "agent-mem-$r-0" "127.0.0.1:$port"
	apid=$BENCH_PID
	aport=$BENCH_AGENT_PORT
	sleep 0.2
	before=$(e2e_proc_rss_kb "$spid")
	for (( k = 1; k <= CARRIER_AGENTS; k++ )); do
		bench_agent dyno "agent-mem-$r-$k" "127.0.0.1:$port"
		pids+=("$BENCH_PID")
	done
	sleep 0.2
	after=$(e2e_proc_rss_kb "$spid")
	for k in "${pids[@]}"; do
		sum=$(( sum + $(e2e_proc_rss_kb "$k") ))
	done
	bench_add carrier_mem_server "$(bench_div $(( after - before )) \
	    "$CARRIER_AGENTS")"
	bench_add carrier_mem_agent "$(bench_div "$sum" "$CARRIER_AGENTS")"
	e2e_log "carrier memory: server $before -> $after KiB with" \
	    "$CARRIER_AGENTS more carriers; agents $(( sum / CARRIER_AGENTS ))" \
	    "KiB each"
	for k in "${pids[@]}"; do
		bench_stop "$k"
	done
	preload "$aport"
	line=$(in_dyno "${PRE[@]}" "$BIN/conns" -p "$apid" -p "$spid" \
	    "$HOST" "$ECHO_PORT" "$n" "$KIB") ||
	    e2e_fail "conns (carrier streams) lost connections" "$line"
	e2e_log "carrier streams: $line"
	bench_add stream_mem_agent "$(bench_div $(( \
	    $(bench_kv rss_idle_kib "$line" | cut -d , -f 1) - \
	    $(bench_kv rss_before_kib "$line" | cut -d , -f 1) )) "$n")"
	bench_add stream_mem_server "$(bench_div $(( \
	    $(bench_kv rss_idle_kib "$line" | cut -d , -f 2) - \
	    $(bench_kv rss_before_kib "$line" | cut -d , -f 2) )) "$n")"
	bench_add stream_est_carrier "$(bench_kv establish_ms "$line")"
	bench_expect_streams "server-carrier-$r" "$ECHO_PORT" "$n"
	bench_stop "$apid"
	bench_stop "$spid"
	# A server of its own: the one above would reuse what the streams
	# freed.
	bench_server "server-carrier-v1-$r" -l "127.0.0.1:$(( port + 20 ))" \
	    --allow-port "$ECHO_PORT" --max-conns 20000
	spid=$BENCH_PID
	preload "$(( port + 20 ))"
	line=$(in_dyno "${PRE[@]}" "$BIN/conns" -p "$spid" \
	    "$HOST" "$ECHO_PORT" "$n" "$KIB") ||
	    e2e_fail "conns (version 1) lost connections" "$line"
	e2e_log "carrier memory, version 1 connections: $line"
	bench_add stream_mem_v1 "$(bench_div $(( \
	    $(bench_kv rss_idle_kib "$line") - \
	    $(bench_kv rss_before_kib "$line") )) "$n")"
	bench_add stream_est_v1 "$(bench_kv establish_ms "$line")"
	bench_stop "$spid"
	bench_ratio stream_mem_ratio stream_mem_server stream_mem_v1
	bench_ratio stream_est_ratio stream_est_carrier stream_est_v1
}

bench_carrier() {
	local r n=$CARRIER_SETUPS wn=$CARRIER_WAN_SETUPS fwd wan ssh_agent hop
	local wan_agent lo_agent local_echo
	e2e_log "== 6. carriers: stream open, bulk, head-of-line, memory"
	e2e_is_listening -n dyno "$IPERF_PORT" || {
		e2e_dyno_spawn dyno iperf3-server iperf3 -s -p "$IPERF_PORT"
		e2e_wait_port -n dyno "$IPERF_PORT"
	}
	# One forward carries both the agent's carrier and the version 1
	# connections measured against it.
	e2e_free_port fwd
	e2e__ssh carrier-fwd dyno -L "127.0.0.1:$fwd:127.0.0.1:$RELAY_PORT"
	e2e_wait_port "$fwd" 15
	bench_agent here agent-ssh "127.0.0.1:$fwd"
	ssh_agent=$BENCH_AGENT_PORT
	# The same through a link with latency: sshd started through
	# delaypipe, which holds every chunk CARRIER_WAN_MS each way.
	e2e_free_port wan
	E2E_SSH_VIA="$BIN/delaypipe $CARRIER_WAN_MS" e2e__ssh carrier-wan dyno \
	    -L "127.0.0.1:$wan:127.0.0.1:$RELAY_PORT"
	e2e_wait_port "$wan" 30
	bench_agent here agent-wan "127.0.0.1:$wan"
	wan_agent=$BENCH_AGENT_PORT
	bench_agent dyno agent-lo "127.0.0.1:$RELAY_PORT"
	lo_agent=$BENCH_AGENT_PORT
	# The ceiling of any process between a local node and the forward:
	# a plain copy relay, version 1 behind it (what the agent adds, but
	# its frames and windows).
	e2e_free_port hop
	e2e_spawn socat-hop socat -b 262144 \
	    "TCP-LISTEN:$hop,bind=127.0.0.1,reuseaddr,fork" "TCP:127.0.0.1:$fwd"
	e2e_wait_port "$hop"
	# The floor of a stream's open: a local connect and echo, here.
	e2e_free_port local_echo
	e2e_spawn echod-here "$BIN/echod" -l "127.0.0.1:$local_echo"
	e2e_wait_port "$local_echo"
	e2e_local_epmd_start
	e2e_node_start dyno nodea@dyno
	e2e_node_start dyno nodeb@dyno

	for (( r = 1; r <= ROUNDS; r++ )); do
		e2e_log "carrier: round $r of $ROUNDS"
		preload "$ssh_agent"
		bench_connrtt copen_carrier "${PRE[@]}" "$BIN/connrtt" \
		    "$HOST" "$ECHO_PORT" "$n"
		preload "$fwd"
		bench_connrtt copen_v1 "${PRE[@]}" "$BIN/connrtt" \
		    "$HOST" "$ECHO_PORT" "$n"
		bench_connrtt copen_local "$BIN/connrtt" 127.0.0.1 \
		    "$local_echo" "$n"
		preload "$ssh_agent"
		bench_connrtt copen_rtt "${PRE[@]}" "$BIN/connrtt" -k \
		    "$HOST" "$ECHO_PORT" "$n"
		bench_add copen_floor "$(awk -v a="$(bench_last copen_local)" \
		    -v b="$(bench_last copen_rtt)" 'BEGIN { print a + b }')"
		bench_ratio copen_ratio_v1 copen_carrier copen_v1
		bench_ratio copen_ratio_floor copen_carrier copen_floor
		preload "$wan_agent"
		bench_connrtt copen_wan_carrier "${PRE[@]}" "$BIN/connrtt" \
		    "$HOST" "$ECHO_PORT" "$wn"
		preload "$wan"
		bench_connrtt copen_wan_v1 "${PRE[@]}" "$BIN/connrtt" \
		    "$HOST" "$ECHO_PORT" "$wn"
		preload "$wan_agent"
		bench_connrtt copen_wan_rtt "${PRE[@]}" "$BIN/connrtt" -k \
		    "$HOST" "$ECHO_PORT" "$wn"
		bench_add copen_wan_floor "$(awk -v a="$(bench_last copen_local)" \
		    -v b="$(bench_last copen_wan_rtt)" 'BEGIN { print a + b }')"
		bench_ratio copen_wan_ratio_v1 copen_wan_carrier copen_wan_v1
		bench_ratio copen_wan_ratio_floor copen_wan_carrier \
		    copen_wan_floor

		preload "$ssh_agent"
		bench_iperf cbulk_ssh_carrier "${PRE[@]}" iperf3 -c "$HOST" \
		    -p "$IPERF_PORT"
		preload "$fwd"
		bench_iperf cbulk_ssh_v1 "${PRE[@]}" iperf3 -c "$HOST" \
		    -p "$IPERF_PORT"
		preload "$hop"
		bench_iperf cbulk_ssh_hop "${PRE[@]}" iperf3 -c "$HOST" \
		    -p "$IPERF_PORT"
		preload "$lo_agent"
		bench_iperf cbulk_lo_carrier -n "${PRE[@]}" iperf3 -c "$HOST" \
		    -p "$IPERF_PORT"
		preload "$RELAY_PORT"
		bench_iperf cbulk_lo_v1 -n "${PRE[@]}" iperf3 -c "$HOST" \
		    -p "$IPERF_PORT"
		bench_ratio cbulk_ratio_ssh cbulk_ssh_carrier cbulk_ssh_v1
		bench_ratio cbulk_ratio_hop cbulk_ssh_hop cbulk_ssh_v1
		bench_ratio cbulk_ratio_lo cbulk_lo_carrier cbulk_lo_v1

		# The local node under the preload, here; both remote nodes
		# on the dyno, through the same forward.
		for k in carrier v1; do
			if [[ $k == carrier ]]; then
				preload "$ssh_agent"
			else
				preload "$fwd"
			fi
			bench_hol_run "$k" "${PRE[@]}" ERLFWD_HOSTS=dyno \
			    "ERL_EPMD_PORT=$E2E_LOCAL_EPMD" escript \
			    "$here/hol.escript" "hol$k$r" nodea@dyno nodeb@dyno \
			    "$E2E_COOKIE" "$DIST_MIB" "$HOL_BIG" "$HOL_IDLE_MS"
		done
		bench_ratio hol_ratio_p50 hol_loaded_p50_carrier \
		    hol_loaded_p50_v1
		bench_ratio hol_ratio_p99 hol_loaded_p99_carrier \
		    hol_loaded_p99_v1

		bench_carrier_memory "$r"
	done
	# connrtt's connections and its -k one, each round, both links.
	bench_expect_streams server-relay "$ECHO_PORT" \
	    $(( (n + 1 + wn + 1) * ROUNDS ))
	bench_expect_streams server-relay "$IPERF_PORT" $(( 4 * ROUNDS ))
}

# ---------------------------------------------------------------------------
# 7. The library-free mode against the preload: the same local node, the
# same agent and carrier through one ssh -L, alternately with
# liberlfwd.so preloaded and with -epmd_module erlfwd_epmd in ERL_AFLAGS.

# bench_libfree_run MODE ENV...: dist.escript against nodea@dyno, its
# figures into libfree_{first,small,big}_MODE.
bench_libfree_run() {
	local mode=$1 line ms
	shift
	line=$(env "$@" "ERL_EPMD_PORT=$E2E_LOCAL_EPMD" timeout -k 5 300 \
	    escript "$here/dist.escript" "lf$mode$RANDOM" nodea@dyno \
	    "$E2E_COOKIE" "$DIST_MIB" "$DIST_BIG" "$DIST_SMALL" \
	    "$DIST_SMALL_MS" 2>&1) || e2e_fail "dist.escript ($mode) failed" "$line"
	line=$(grep '^big_ms=' <<<"$line")
	[[ -n $line ]] || e2e_fail "dist.escript ($mode) printed no figures"
	e2e_log "libfree $mode: $line"
	ms=$(bench_kv big_ms "$line" | tr , '\n' | sort -g |
	    awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
	bench_add "libfree_big_$mode" "$(bench_div $(( 2 * DIST_MIB * 1000 )) "$ms")"
	bench_add "libfree_small_$mode" "$(bench_kv small_us "$line")"
	bench_add "libfree_first_$mode" "$(bench_kv first_ms "$line")"
}

bench_libfree() {
	local r fwd agent ebin
	e2e_log "== 7. library-free vs preload: first rpc, small rpcs," \
	    "$DIST_MIB MiB rpcs, over one carrier"
	ebin=$(ls -d "$E2E_BUILD"/erlang/otp*/ 2>/dev/null | head -n 1)
	[[ -n $ebin && -f $ebin/erlfwd_epmd.beam ]] ||
	    e2e_fail "no $E2E_BUILD/erlang/otp*/erlfwd_epmd.beam: make (with erlc)"
	e2e_free_port fwd
	e2e__ssh libfree-fwd dyno -L "127.0.0.1:$fwd:127.0.0.1:$RELAY_PORT"
	e2e_wait_port "$fwd" 15
	bench_agent here agent-libfree "127.0.0.1:$fwd"
	agent=$BENCH_AGENT_PORT
	[[ -n $E2E_LOCAL_EPMD ]] || e2e_local_epmd_start
	[[ -n ${E2E_NODE_PID[nodea@dyno]:-} ]] || e2e_node_start dyno nodea@dyno
	for (( r = 1; r <= ROUNDS; r++ )); do
		e2e_log "libfree: round $r of $ROUNDS"
		bench_libfree_run preload "LD_PRELOAD=$E2E_PRELOAD_LIB" \
		    ERLFWD_HOSTS=dyno "ERLFWD_TUNNEL=127.0.0.1:$agent"
		bench_libfree_run flags "ERL_AFLAGS=-epmd_module erlfwd_epmd -pa ${ebin%/} -erlfwd_epmd dyno=127.0.0.1:$agent"
		bench_ratio libfree_first_ratio libfree_first_flags \
		    libfree_first_preload
		bench_ratio libfree_small_ratio libfree_small_flags \
		    libfree_small_preload
		bench_ratio libfree_big_ratio libfree_big_flags \
		    libfree_big_preload
	done
}

# ---------------------------------------------------------------------------
# 8. Resume: what keeping a session across a carrier drop costs

# bench_median X...: the median of the numbers X.
bench_median() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
	    END { print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# bench_cpu_ticks PID...: the clock ticks (user and system) the processes
# have used so far.
bench_cpu_ticks() {
	local p st f t=0
	for p in "$@"; do
		st=$(cat "/proc/$p/stat") || e2e_fail "pid $p is gone"
		read -ra f <<<"${st##*) }"
		t=$(( t + f[11] + f[12] ))
	done
	echo "$t"
}

# bench_resume_cpu K: RESUME_CPU_MIB through the loopback agent of side K
# (on, off: bench_resume's lo_agent), iperf3 -n; the CPU time that agent
# and its server took, in ms per GiB, into rcpu_lo_K.  Throughput on two
# shared CPUs follows the scheduler; the work per byte does not.
bench_resume_cpu() {
	local k=$1 t0 t1 out
	# shellcheck disable=SC2086 # the pids, one a word
	t0=$(bench_cpu_ticks ${lo_pids[$k]})
	preload "${lo_agent[$k]}"
	out=$(in_dyno timeout -k 5 120 "${PRE[@]}" iperf3 -c "$HOST" \
	    -p "$IPERF_PORT" -n "${RESUME_CPU_MIB}M" 2>&1) ||
	    e2e_fail "iperf3 -n (resume $k) failed" "$out"
	# shellcheck disable=SC2086
	t1=$(bench_cpu_ticks ${lo_pids[$k]})
	bench_add "rcpu_lo_$k" "$(awk -v t=$(( t1 - t0 )) -v hz="$CLK_TCK" \
	    -v mib="$RESUME_CPU_MIB" 'BEGIN { printf "%.1f\n",
	    t * 1000 / hz / (mib / 1024) }')"
	e2e_log "resume cpu $k: $(bench_last "rcpu_lo_$k") ms per GiB" \
	    "(agent and server, $(( t1 - t0 )) ticks)"
}

# bench_resume_rtt R: one-byte round trips on an open stream through each
# ssh agent (bench_resume's ssh_agent), RESUME_RTTS per side in
# RESUME_RTT_RUNS connrtt -k runs that alternate between the sides: a
# round's figures, the median of the runs' medians per side and of the
# ratios of the runs made side by side, follow the machine less than one
# long run each would (which process shares a CPU with which moves the
# medians by tens of percent from one run to the next).
bench_resume_rtt() {
	local r=$1 i k line order on=() off=() ratios=()
	for (( i = 0; i < RESUME_RTT_RUNS; i++ )); do
		(( (r + i) % 2 )) && order="on off" || order="off on"
		for k in $order; do
			preload "${ssh_agent[$k]}"
			line=$("${PRE[@]}" "$BIN/connrtt" -k "$HOST" "$ECHO_PORT" \
			    $(( RESUME_RTTS / RESUME_RTT_RUNS ))) ||
			    e2e_fail "connrtt -k (resume $k) failed" "$line"
			if [[ $k == on ]]; then
				on+=("$(bench_kv p50_us "$line")")
			else
				off+=("$(bench_kv p50_us "$line")")
			fi
		done
		ratios+=("$(bench_div "${on[i]}" "${off[i]}")")
	done
	bench_add rrtt_on "$(bench_median "${on[@]}")"
	bench_add rrtt_off "$(bench_median "${off[@]}")"
	bench_add rrtt_ratio "$(bench_median "${ratios[@]}")"
	e2e_log "resume small request/answer, p50 of each run: with resume" \
	    "${on[*]}, without ${off[*]} us"
}

# bench_resumertt SUFFIX PORT N: one resumertt run through the forward on
# PORT, N iterations; its medians into rfirst_*SUFFIX.
bench_resumertt() {
	local sfx=$1 port=$2 n=$3 line k
	line=$(timeout -k 5 300 "$BIN/resumertt" 127.0.0.1 "$port" \
	    "$ECHO_PORT" "$n" 2>&1) || e2e_fail "resumertt failed" "$line"
	e2e_log "resume first byte$sfx: $line"
	for k in resume fresh resume_hello fresh_hello; do
		bench_add "rfirst_$k$sfx" "$(bench_kv "${k}_p50_us" "$line")"
	done
	bench_add "rfirst_ratio$sfx" "$(bench_kv ratio_p50 "$line")"
}

# bench_resume_memory R: a fresh erlfwd-server (resume offered) and an agent
# in the dyno; RESUME_STREAMS idle streams through it (conns -H holds them);
# the server's VmRSS before, with the carrier up, and once the agent is
# killed (SIGKILL: no GOAWAY, so the server keeps the session and every
# stream's socket for its window).  Then the same up to the streams against
# a server with --resume-window 0: what a stream costs with no resume.
bench_resume_memory() {
	local r=$1 k port spid apid cpid line before up detached fds n
	n=$RESUME_STREAMS
	for k in on off; do
		if [[ $k == on ]]; then
			port=$(( 9600 + r ))
			bench_server "server-resume-mem-$r" \
			    -l "127.0.0.1:$port" --allow-port "$ECHO_PORT" \
			    --max-conns 20000
		else
			port=$(( 9700 + r ))
			bench_server "server-resume-mem-off-$r" \
			    -l "127.0.0.1:$port" --allow-port "$ECHO_PORT" \
			    --max-conns 20000 --resume-window 0
		fi
		spid=$BENCH_PID
		bench_agent dyno "agent-resume-mem-$k-$r" "127.0.0.1:$port"
		apid=$BENCH_PID
		sleep 0.2
		preload "$BENCH_AGENT_PORT"
		e2e_dyno_spawn dyno "conns-hold-$k-$r" "${PRE[@]}" \
		    "$BIN/conns" -H -p "$spid" "$HOST" "$ECHO_PORT" "$n" "$KIB"
		cpid=$E2E_LAST_PID
		e2e_wait_until 60 "conns to hold $n streams" \
		    bench__logged "$E2E_TMP/conns-hold-$k-$r.log" conns= "$cpid"
		line=$(grep -a '^conns=' "$E2E_TMP/conns-hold-$k-$r.log")
		[[ $(bench_kv lost "$line") == 0 ]] ||
		    e2e_fail "conns (resume memory, $k) lost streams" "$line"
		before=$(bench_kv rss_before_kib "$line")
		up=$(bench_kv rss_idle_kib "$line")
		bench_add "resume_mem_up_$k" "$(bench_div $(( up - before )) "$n")"
		if [[ $k == on ]]; then
			# The carrier goes without a word: the session stays.
			kill -KILL "$apid"
			e2e_wait_until 10 "the server to keep $n streams" \
			    grep -qaE "msg=carrier lost .* streams=$n " \
			    "$E2E_TMP/server-resume-mem-$r.log"
			sleep 0.2
			detached=$(e2e_proc_rss_kb "$spid")
			fds=$(e2e_proc_fds "$spid")
			(( fds >= n )) || e2e_fail "the detached session holds" \
			    "$fds descriptors, not the $n streams' sockets"
			bench_add resume_mem_detached "$(bench_div \
			    $(( detached - before )) "$n")"
			e2e_log "resume memory: server $before KiB, $up with" \
			    "$n streams up, $detached with them suspended" \
			    "($fds fds)"
		else
			e2e_log "resume memory, --resume-window 0: server" \
			    "$before KiB, $up with $n streams up"
			bench_stop "$apid"
		fi
		bench_stop "$cpid"
		bench_stop "$spid"
	done
	bench_ratio resume_mem_up_ratio resume_mem_up_on resume_mem_up_off
}

bench_resume() {
	local r k order line port fwd_on fwd_off wan
	local -A ssh_agent lo_agent lo_pids
	e2e_log "== 8. resume: bulk, small round trips, the first byte after" \
	    "a drop, memory per suspended stream"
	e2e_is_listening -n dyno "$IPERF_PORT" || {
		e2e_dyno_spawn dyno iperf3-server iperf3 -s -p "$IPERF_PORT"
		e2e_wait_port -n dyno "$IPERF_PORT"
	}
	# Two servers alike but for resume, each with its own forward.
	bench_server server-resume-on -l "127.0.0.1:$RESUME_ON_PORT" \
	    --allow-port "$IPERF_PORT" --allow-port "$ECHO_PORT"
	lo_pids[on]=$BENCH_PID
	bench_server server-resume-off -l "127.0.0.1:$RESUME_OFF_PORT" \
	    --allow-port "$IPERF_PORT" --allow-port "$ECHO_PORT" \
	    --resume-window 0
	lo_pids[off]=$BENCH_PID
	e2e_free_port fwd_on
	e2e__ssh resume-fwd-on dyno \
	    -L "127.0.0.1:$fwd_on:127.0.0.1:$RESUME_ON_PORT"
	e2e_free_port fwd_off
	e2e__ssh resume-fwd-off dyno \
	    -L "127.0.0.1:$fwd_off:127.0.0.1:$RESUME_OFF_PORT"
	# The first byte again on a link with latency, as section 6 has it.
	e2e_free_port wan
	E2E_SSH_VIA="$BIN/delaypipe $CARRIER_WAN_MS" e2e__ssh resume-wan dyno \
	    -L "127.0.0.1:$wan:127.0.0.1:$RESUME_ON_PORT"
	e2e_wait_port "$fwd_on" 15
	e2e_wait_port "$fwd_off" 15
	e2e_wait_port "$wan" 30
	# The baseline is one: no resume is offered there.
	line=$("$BIN/resumertt" 127.0.0.1 "$fwd_off" "$ECHO_PORT" 1 2>&1) &&
	    e2e_fail "resumertt resumed through --resume-window 0" "$line"
	e2e_assert_contains "$line" "offered no resume" \
	    "erlfwd-server --resume-window 0 offers no resume"
	for k in on off; do
		[[ $k == on ]] && port=$fwd_on || port=$fwd_off
		bench_agent here "agent-resume-ssh-$k" "127.0.0.1:$port"
		ssh_agent[$k]=$BENCH_AGENT_PORT
		[[ $k == on ]] && port=$RESUME_ON_PORT || port=$RESUME_OFF_PORT
		bench_agent dyno "agent-resume-lo-$k" "127.0.0.1:$port"
		lo_agent[$k]=$BENCH_AGENT_PORT
		lo_pids[$k]+=" $BENCH_PID"
	done

	for (( r = 1; r <= ROUNDS; r++ )); do
		e2e_log "resume: round $r of $ROUNDS"
		# Which goes first alternates: neither always meets a machine
		# the other just warmed (or loaded).
		(( r % 2 )) && order="on off" || order="off on"
		for k in $order; do
			preload "${ssh_agent[$k]}"
			bench_iperf "rbulk_ssh_$k" "${PRE[@]}" iperf3 -c "$HOST" \
			    -p "$IPERF_PORT"
		done
		for k in $order; do
			preload "${lo_agent[$k]}"
			bench_iperf "rbulk_lo_$k" -n "${PRE[@]}" iperf3 -c "$HOST" \
			    -p "$IPERF_PORT"
		done
		for k in $order; do
			bench_resume_cpu "$k"
		done
		bench_ratio rcpu_ratio_lo rcpu_lo_on rcpu_lo_off
		bench_resume_rtt "$r"
		bench_ratio rbulk_ratio_ssh rbulk_ssh_on rbulk_ssh_off
		bench_ratio rbulk_ratio_lo rbulk_lo_on rbulk_lo_off

		bench_resumertt "" "$fwd_on" "$RESUME_ITERS"
		bench_resumertt _wan "$wan" "$RESUME_WAN_ITERS"

		bench_resume_memory "$r"
	done
	# What was measured crossed the servers: iperf3's two connections
	# per run on both paths; connrtt's one, and resumertt's streams.
	bench_expect_streams server-resume-on "$IPERF_PORT" $(( 4 * ROUNDS ))
	bench_expect_streams server-resume-off "$IPERF_PORT" $(( 4 * ROUNDS ))
	bench_expect_streams server-resume-on "$ECHO_PORT" \
	    $(( (1 + RESUME_ITERS + 1 + RESUME_WAN_ITERS + 1) * ROUNDS ))
	bench_expect_streams server-resume-off "$ECHO_PORT" "$ROUNDS"
}

# ---------------------------------------------------------------------------
# The table, results.md and the chart

# bench_row LABEL SHORT ERL BASE RATIO KIND TARGET: one row of the table
# (SHORT: its name in the chart) from the series ERL, BASE and RATIO (any may
# be "-").  KIND says what TARGET bounds: ge/le the ratio, vle/veq erlfwd's
# own figure, none nothing.
bench_row() {
	local label=$1 short=$2 erl base ratio
	shift 2
	erl=$([[ $1 == - ]] || bench_med "$1")
	base=$([[ $2 == - ]] || bench_med "$2")
	ratio=$([[ $3 == - ]] || bench_med "$3")
	awk -v label="$label" -v short="$short" -v erl="$erl" -v base="$base" \
	    -v ratio="$ratio" -v kind="$4" -v target="${5:-}" -F '\t' '
	function fmt(x) {
		if (x == "") return "-"
		x += 0
		if (x >= 100 || x == int(x)) return sprintf("%.0f", x)
		if (x >= 10) return sprintf("%.1f", x)
		return sprintf("%.2f", x)
	}
	BEGIN {
		met = "-"; score = ""; t = "-"
		if (kind == "ge") { t = ">= " target "x"; v = ratio }
		if (kind == "le") { t = "<= " target "x"; v = ratio }
		if (kind == "vle") { t = "<= " target; v = erl }
		if (kind == "veq") { t = "= " target; v = erl }
		if (kind != "none" && v == "") met = "not run"
		else if (kind == "ge") { met = v >= target; score = v / target }
		else if (kind == "le") { met = v <= target; score = target / v }
		else if (kind == "vle") { met = v <= target; score = v > 0 ? target / v : 10 }
		else if (kind == "veq") { met = v == target; score = v / target }
		if (met == "1") met = "yes"; else if (met == "0") met = "NO"
		r = ratio == "" ? "-" : sprintf("%.3f", ratio)
		# The chart labels a bar with the figure its target bounds.
		shown = kind ~ /^v/ ? fmt(erl) : sprintf("%.2f", ratio)
		printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", label, fmt(erl),
		    fmt(base), r, t, met, score, short, shown
	}' >>"$ROWS"
}

bench_rows() {
	local n=$SCALE_N
	: >"$ROWS"
	bench_row "bulk, 1 stream: erlfwd-server vs direct loopback (Gbit/s)" \
	    "relay / direct" bulk_erlfwd bulk_direct bulk_ratio_direct ge 0.7
	bench_row "bulk, 1 stream: erlfwd-server vs socat relay (Gbit/s)" \
	    "relay / socat" bulk_erlfwd bulk_socat bulk_ratio_socat ge 2
	bench_row "bulk, 1 stream: ssh -L + erlfwd-server vs ssh -L (Gbit/s)" \
	    "ssh + relay / ssh" bulk_ssh_erlfwd bulk_ssh bulk_ratio_ssh ge 0.95
	[[ -s $SAMPLES/bulk_copy ]] &&
	    bench_row "bulk, 1 stream: erlfwd-server --relay copy vs direct (Gbit/s)" \
	    "copy relay / direct" bulk_copy bulk_direct bulk_ratio_copy none
	bench_row "setup: connect + 1st byte round trip, median, preload+server vs direct (us)" \
	    "setup" setup_erlfwd setup_direct setup_ratio le 1.3
	bench_row "setup: the same, preload+server vs socat relay (us)" \
	    "setup vs socat" setup_erlfwd setup_socat setup_ratio_socat none
	bench_row "route setup: ssh -L + erlfwd-server vs ssh -L alone (us)" \
	    "route: server" route_server route_ssh route_ratio_server none
	bench_row "route setup: ssh -D SOCKS5 vs ssh -L alone (us)" \
	    "route: ssh -D" route_sshd route_ssh route_ratio_sshd none
	bench_row "route setup: microsocks behind ssh -L vs ssh -L alone (us)" \
	    "route: microsocks" route_microsocks route_ssh \
	    route_ratio_microsocks none
	bench_row "hook: connect() TCP, unmatched, refused, hooked vs libc (ns)" \
	    "hook connect TCP" hook_connect_tcp_erlfwd hook_connect_tcp_libc \
	    hook_connect_tcp_ratio le 1.05
	bench_row "hook: connect() UDP, unmatched (ns)" \
	    "hook connect UDP" hook_connect_udp_erlfwd hook_connect_udp_libc \
	    hook_connect_udp_ratio le 1.05
	bench_row "hook: gethostbyname(\"localhost\") (ns)" \
	    "hook gethostbyname" hook_gethostbyname_erlfwd \
	    hook_gethostbyname_libc hook_gethostbyname_ratio le 1.05
	bench_row "hook: getaddrinfo(\"localhost\") (ns)" \
	    "hook getaddrinfo" hook_getaddrinfo_erlfwd hook_getaddrinfo_libc \
	    hook_getaddrinfo_ratio le 1.05
	bench_row "scale: user-space memory per idle conn, server vs echod (KiB)" \
	    "memory per conn" scale_mem_erlfwd scale_mem_direct - vle 8
	bench_row "scale: fds per conn, server vs echod" \
	    "fds per conn" scale_fds_erlfwd scale_fds_direct scale_fds_ratio none
	bench_row "scale: establish $n conns + 1-byte echo each (ms)" \
	    "establish" scale_est_erlfwd scale_est_direct scale_est_ratio none
	bench_row "scale: $n conns x $KIB KiB echoed at once, verified (ms)" \
	    "echo all" scale_move_erlfwd scale_move_direct scale_move_ratio none
	bench_row "scale: conns verified, nothing lost (of $n)" \
	    "nothing lost" scale_ok_erlfwd scale_ok_direct - veq "$n"
	bench_row "dist: $DIST_MIB MiB rpc:call round trip, tunnel vs direct (MiB/s)" \
	    "dist $DIST_MIB MiB" dist_big_erlfwd dist_big_direct dist_big_ratio \
	    ge 0.9
	bench_row "dist: small rpc:call, tunnel vs direct (us per call)" \
	    "dist small rpc" dist_small_erlfwd dist_small_direct \
	    dist_small_ratio none
	bench_row "carrier: open a stream (connect + 1st byte) vs a new connection through ssh -L to erlfwd-server (us)" \
	    "stream open / ssh -L" copen_carrier copen_v1 copen_ratio_v1 le 0.5
	bench_row "carrier: the same vs a local connect + 1 round trip on an open stream (us)" \
	    "stream open / floor" copen_carrier copen_floor copen_ratio_floor \
	    le 1.2
	bench_row "carrier, $(( 2 * CARRIER_WAN_MS )) ms RTT link: open a stream vs a new connection through ssh -L (us)" \
	    "RTT link: open / ssh -L" copen_wan_carrier copen_wan_v1 \
	    copen_wan_ratio_v1 le 0.5
	bench_row "carrier, $(( 2 * CARRIER_WAN_MS )) ms RTT link: the same vs a local connect + 1 round trip on an open stream (us)" \
	    "RTT link: open / floor" copen_wan_carrier copen_wan_floor \
	    copen_wan_ratio_floor le 1.2
	bench_row "carrier bulk, 1 stream, through ssh -L: carrier vs version 1 (Gbit/s)" \
	    "carrier bulk, ssh -L" cbulk_ssh_carrier cbulk_ssh_v1 \
	    cbulk_ratio_ssh ge 0.9
	bench_row "carrier bulk through ssh -L, the ceiling of a process in between: version 1 behind a plain copy relay (socat -b 262144) vs version 1 (Gbit/s)" \
	    "copy relay, ssh -L" cbulk_ssh_hop cbulk_ssh_v1 cbulk_ratio_hop none
	bench_row "carrier bulk, 1 stream, loopback: carrier vs version 1 (Gbit/s)" \
	    "carrier bulk, loopback" cbulk_lo_carrier cbulk_lo_v1 \
	    cbulk_ratio_lo ge 0.8
	bench_row "carrier: small rpc to node B while $DIST_MIB MiB rpcs go to node A, median, vs version 1 through the same ssh -L (ms)" \
	    "rpc under load, median" hol_loaded_p50_carrier hol_loaded_p50_v1 \
	    hol_ratio_p50 vle 20
	bench_row "carrier: the same, p99 (ms)" "rpc under load, p99" \
	    hol_loaded_p99_carrier hol_loaded_p99_v1 hol_ratio_p99 none
	bench_row "carrier: the same small rpc with nothing else moving, median (ms)" \
	    "rpc idle" hol_idle_p50_carrier hol_idle_p50_v1 - none
	bench_row "carrier memory: server, per idle stream ($CARRIER_STREAMS held) vs per version 1 connection (KiB)" \
	    "server per stream" stream_mem_server stream_mem_v1 \
	    stream_mem_ratio none
	bench_row "carrier memory: agent, per idle stream (KiB)" \
	    "agent per stream" stream_mem_agent - - none
	bench_row "carrier memory: server, per idle carrier ($CARRIER_AGENTS more) (KiB)" \
	    "server per carrier" carrier_mem_server - - none
	bench_row "carrier memory: an idle agent and its carrier, whole process VmRSS (KiB)" \
	    "agent" carrier_mem_agent - - none
	bench_row "carrier: establish $CARRIER_STREAMS streams + 1-byte echo each vs as many version 1 connections (ms)" \
	    "establish streams" stream_est_carrier stream_est_v1 \
	    stream_est_ratio none
	bench_row "library-free vs preload, one carrier: first rpc of a session, set-up included (ms)" \
	    "libfree first rpc" libfree_first_flags libfree_first_preload \
	    libfree_first_ratio le 1.2
	bench_row "library-free vs preload: small rpc:call (us per call)" \
	    "libfree small rpc" libfree_small_flags libfree_small_preload \
	    libfree_small_ratio le 1.1
	bench_row "library-free vs preload: $DIST_MIB MiB rpc:call round trip (MiB/s)" \
	    "libfree $DIST_MIB MiB" libfree_big_flags libfree_big_preload \
	    libfree_big_ratio ge 0.9
	bench_row "resume, nothing dropped: bulk, 1 stream through ssh -L, server offering resume vs --resume-window 0 (Gbit/s)" \
	    "resume bulk, ssh -L" rbulk_ssh_on rbulk_ssh_off rbulk_ratio_ssh \
	    ge 0.95
	bench_row "resume, nothing dropped: bulk, 1 stream on the dyno's loopback, the same (Gbit/s)" \
	    "resume bulk, loopback" rbulk_lo_on rbulk_lo_off rbulk_ratio_lo \
	    ge 0.95
	bench_row "resume, nothing dropped: CPU time of the loopback agent and its server per GiB moved (ms/GiB)" \
	    "resume CPU per GiB" rcpu_lo_on rcpu_lo_off rcpu_ratio_lo none
	bench_row "resume, nothing dropped: a small request/answer on an open stream (1 byte each way), through ssh -L, median of $RESUME_RTT_RUNS runs of $(( RESUME_RTTS / RESUME_RTT_RUNS )) (us)" \
	    "resume small req/answer" rrtt_on rrtt_off rrtt_ratio le 1.05
	bench_row "resume: a new carrier through ssh -L to the first byte echoed, resuming a session vs a fresh session and stream, median of $RESUME_ITERS (us)" \
	    "resume first byte" rfirst_resume rfirst_fresh rfirst_ratio le 1.2
	bench_row "resume: the same, up to the server's hello on the new carrier (us)" \
	    "resume hello" rfirst_resume_hello rfirst_fresh_hello - none
	bench_row "resume, $(( 2 * CARRIER_WAN_MS )) ms RTT link: a new carrier to the first byte echoed, resuming vs fresh, median of $RESUME_WAN_ITERS (us)" \
	    "RTT link: resume first byte" rfirst_resume_wan rfirst_fresh_wan \
	    rfirst_ratio_wan none
	bench_row "resume memory: server, per idle stream ($RESUME_STREAMS held), carrier up, resume offered vs not (KiB)" \
	    "resume mem up" resume_mem_up_on resume_mem_up_off \
	    resume_mem_up_ratio none
	bench_row "resume memory: server, per suspended stream (carrier lost, session kept) (KiB)" \
	    "resume mem suspended" resume_mem_detached - - none
}

# bench_table_text: the table for the terminal.
bench_table_text() {
	awk -F '\t' '
	BEGIN { w = 6; h[1] = "metric"; h[2] = "erlfwd"; h[3] = "baseline"
		h[4] = "ratio"; h[5] = "target"; h[6] = "met" }
	{ n++; for (i = 1; i <= w; i++) c[n, i] = $i }
	END {
		for (i = 1; i <= w; i++) width[i] = length(h[i])
		for (r = 1; r <= n; r++) for (i = 1; i <= w; i++)
			if (length(c[r, i]) > width[i]) width[i] = length(c[r, i])
		line = ""
		for (i = 1; i <= w; i++) line = line sprintf(i == 1 ? "%-*s" : "  %*s", width[i], h[i])
		print line
		for (r = 1; r <= n; r++) {
			line = ""
			for (i = 1; i <= w; i++) line = line sprintf(i == 1 ? "%-*s" : "  %*s", width[i], c[r, i])
			print line
		}
	}' "$ROWS"
}

bench_table_md() {
	printf '| metric | erlfwd | baseline | ratio | target | met |\n'
	printf '|---|---:|---:|---:|---:|:---:|\n'
	awk -F '\t' '{ printf "| %s | %s | %s | %s | %s | %s |\n",
	    $1, $2, $3, $4, $5, $6 }' "$ROWS"
}

bench_machine() {
	local mem model relay
	model=$(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' |
	    head -n 1)
	mem=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' \
	    /proc/meminfo)
	printf -- '- date: %s\n' "$(date -u '+%Y-%m-%d %H:%M:%S UTC')"
	printf -- '- erlfwd: %s\n' "$(git -C "$E2E_ROOT" describe --always \
	    --dirty 2>/dev/null || echo unknown)"
	printf -- '- CPU: %s, %s CPUs (nproc)\n' "${model:-unknown}" "$(nproc)"
	printf -- '- memory: %s\n' "$mem"
	printf -- '- load average (1 min) at start / end: %s / %s\n' \
	    "$LOAD_START" "$(cut -d ' ' -f 1 /proc/loadavg)"
	printf -- '- kernel: %s %s\n' "$(uname -s)" "$(uname -r)"
	printf -- '- open files: soft %s, hard %s\n' "$(ulimit -Sn)" \
	    "$(ulimit -Hn)"
	relay=$(sed -n 's/.*msg=listening.* relay=\([a-z]*\).*/\1/p' \
	    "$E2E_TMP/server-relay.log" | head -n 1)
	printf -- '- erlfwd-server relay: %s\n' "${relay:-not reported}"
	printf -- '- iperf3 %s, socat %s, %s, OTP %s\n' \
	    "$(iperf3 --version 2>&1 | awk 'NR == 1 { print $2 }')" \
	    "$(socat -V 2>/dev/null | awk '/socat version/ { print $3 }')" \
	    "$(ssh -V 2>&1 | awk '{ print $1 }' | tr -d ,)" \
	    "$(erl -noshell -eval 'io:put_chars(erlang:system_info(otp_release)), halt().' 2>/dev/null)"
}

# bench_noise: the median noise ratio of the hook measurement, all calls.
bench_noise() {
	cat "$SAMPLES"/hook_*_noise 2>/dev/null | sort -g |
	    awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'
}

bench_samples_md() {
	local f
	printf '| series | per round |\n|---|---|\n'
	for f in "$SAMPLES"/*; do
		[[ -s $f ]] || continue
		printf '| %s | %s |\n' "${f##*/}" "$(paste -sd ' ' "$f")"
	done
}

bench_results_md() {
	local met total
	total=$(awk -F '\t' '$6 == "yes" || $6 == "NO"' "$ROWS" | wc -l)
	met=$(awk -F '\t' '$6 == "yes"' "$ROWS" | wc -l)
	cat <<-EOF
	# erlfwd benchmarks

	\`make bench\` ($ROUNDS rounds; $met of $total targets met).

	![erlfwd against its baselines](chart.png)

	## Machine

	$(bench_machine)

	## Results

	Each figure is the median of $ROUNDS rounds; in a round erlfwd and its
	baseline run one right after the other.  "ratio" is the median of the
	per-round ratios erlfwd / baseline, so it can differ a little from the
	ratio of the two medians.

	$(bench_table_md)

	${SCALE_NOTE:+**Scale:** $SCALE_NOTE.}

	## What each row measures

	- **bulk**: one iperf3 stream for ${SECS} s (the first second omitted),
	  receiver's rate.  *direct*: iperf3 client and server on the loopback of
	  one network namespace.  *erlfwd-server*: the same client under
	  liberlfwd.so (\`ERLFWD_HOSTS=$HOST\`), through erlfwd-server
	  \`--allow-port $IPERF_PORT\` on the same loopback (control and data
	  connections both go through it; the server's log is checked).  *socat*:
	  \`socat TCP-LISTEN,fork TCP:127.0.0.1:$IPERF_PORT\`, the same hop.
	  *ssh -L*: OpenSSH's forward (default cipher) into the namespace, sshd
	  started by ProxyCommand (as tests/e2e do); *ssh -L + erlfwd-server*:
	  the forward ends at erlfwd-server, which relays to iperf3 (the Heroku
	  path).  Every process shares the machine's $(nproc) CPUs.
	- **setup**: $SETUPS sequential iterations of socket, connect, send one
	  byte, receive its echo (echod, a one-thread epoll echo server in
	  tests/bench), timed up to the echo; TCP_NODELAY on the client.  The
	  median iteration: on a shared machine the mean follows a few stalls
	  (the means are in the samples, setup_mean_*).  For scale, the same
	  through \`socat TCP-LISTEN,fork\` to echod (a process per connection).
	- **hook**: tests/bench/hookcost.c under liberlfwd.so
	  (\`ERLFWD_HOSTS=$HOST\`, so the hooks have a pattern to check), pinned
	  to one CPU.  It makes each call two ways, in 21 alternating pairs of
	  batches of 1000: through the linked symbol (the hook) and through
	  libc.so.6's own function (found with dlsym, never the hook); the ratio
	  is the median of the per-pair ratios, so the rest of the machine's load
	  falls on both sides alike.  The same program without the preload
	  compares libc with itself: that is the method's noise (hook_*_noise,
	  median $(bench_noise)), and its figures (hook_*_plain) are the calls
	  with no library loaded at all.  The TCP connect is timed call by call,
	  less the clock's own cost, and refused by a bound, non-listening port;
	  names come from /etc/hosts.
	- **scale**: tests/bench/conns.c opens $SCALE_N connections one after the
	  other and echoes one byte on each (*establish*), then reads the
	  server's VmRSS and /proc/PID/fd count while all are idle, then all move
	  $KIB KiB each way at once, every byte checked against a per-connection
	  pattern (*echoed*).  *erlfwd*: through a fresh erlfwd-server
	  (\`--allow-port\`, \`--max-conns 20000\`) to echod; memory and fds are
	  the server's, less what it held before the first connect.  Baseline:
	  the same client straight to echod, whose own figures are given.
	- **dist**: node A (escript tests/bench/dist.escript, hidden, short
	  names) in namespace *lap*, node app@dyno in namespace *dyno*, joined by
	  one veth pair.  *direct*: A reaches app@dyno's epmd and node port over
	  the veth (A's host table maps dyno to $VETH_DYNO).  *tunnel*: A runs
	  under liberlfwd.so with \`ERLFWD_TUNNEL=$VETH_DYNO:9369\`, where
	  erlfwd-server listens in the dyno and relays to epmd and to the node
	  over the dyno's loopback.  Both paths cross the same veth with no ssh,
	  so the difference is erlfwd alone: the preload, one more TCP hop and
	  the relay.  (The ssh part of the real path is measured under bulk.)
	  The same app@dyno serves both; A is a new node each time, as the
	  preload is fixed when a program starts.  Per A: one warm-up round
	  trip, then $DIST_BIG round trips of a $DIST_MIB MiB binary
	  (\`rpc:call(App, erlang, element, [1, {Bin}])\`, checked), whose median
	  is given as MiB/s moved (2 x $DIST_MIB MiB per round trip), then
	  $DIST_SMALL sequential \`rpc:call(App, erlang, node, [])\`, or as many
	  as fit in $(( DIST_SMALL_MS / 1000 )) s (median calls made, direct / tunnel:
	  $(bench_med dist_small_calls_direct) / $(bench_med dist_small_calls_erlfwd)).
	- **carrier**: the erlfwd command's agent (\`erlfwd agent --tunnel
	  127.0.0.1:C\`, its one carrier through a forward \`ssh -L
	  C:127.0.0.1:$RELAY_PORT\` into the dyno, the server above), against the
	  version 1 path the preload takes today (\`ERLFWD_TUNNEL=127.0.0.1:C\`:
	  a new SSH channel and a new connection to erlfwd-server per
	  connection) through the same forward.  Clients run here under
	  liberlfwd.so.  *Stream open*: tests/bench/connrtt.c as under setup,
	  $CARRIER_SETUPS connections to echod in the dyno each way.  Its *floor*
	  is, per round, the median of the same connect + echo to an echod in
	  this namespace (copen_local) plus the median of one byte's round trip
	  on a stream already open through the same agent and carrier
	  (\`connrtt -k\`, copen_rtt): the local connect a stream's open starts
	  with and the one trip across the carrier and back it cannot avoid.
	  The lab's ssh crosses no network (ProxyCommand starts sshd in the
	  dyno through a pipe), so the same is measured again through a second
	  forward and agent whose sshd is started through tests/bench/delaypipe.c,
	  which holds every chunk $CARRIER_WAN_MS ms each way (a $(( 2 * CARRIER_WAN_MS )) ms round
	  trip, as to a dyno across a continent; the kernel here has no netem):
	  $CARRIER_WAN_SETUPS connections each way, the floor's round trip taken on that link.
	  *Bulk*: iperf3 as under bulk, through the agent against straight to
	  erlfwd-server, once through the forward and once on the dyno's loopback
	  (an agent in the dyno, \`--tunnel 127.0.0.1:$RELAY_PORT\`).  *rpc
	  under load*: tests/bench/hol.escript, a hidden node here (its own epmd)
	  with nodea@dyno and nodeb@dyno in the dyno: after $(( HOL_IDLE_MS / 1000 )) s of
	  sequential \`rpc:call(B, erlang, node, [])\` alone (*idle*), the same
	  calls, each timed, while another process makes $HOL_BIG round trips of a
	  $DIST_MIB MiB binary to node A (median calls made under load, carrier /
	  version 1: $(bench_med hol_loaded_calls_carrier) / $(bench_med hol_loaded_calls_v1)).
	  Through the agent both nodes' connections are streams of the one
	  carrier; in version 1 each is an SSH channel of its own in the same
	  SSH connection.  *Memory*: every round a fresh erlfwd-server in the
	  dyno and an agent on its loopback; then $CARRIER_AGENTS more agents:
	  the server's VmRSS growth per carrier, and their mean VmRSS (an agent
	  holds one carrier: the figure is the whole process).  Then
	  tests/bench/conns.c holds $CARRIER_STREAMS streams through the first
	  agent (one byte echoed on each, then idle): the growth of the agent's
	  and the server's VmRSS per stream; then as many version 1 connections
	  straight to another fresh server: its growth per connection, the
	  baseline.
	  User-space memory only; the server holds 3 descriptors per stream (a
	  socketpair and the connection to the target), the agent 1.
	- **resume**: two erlfwd-servers in the dyno alike but for resume
	  (\`:$RESUME_ON_PORT\`, its default \`--resume-window\`, and \`:$RESUME_OFF_PORT\`,
	  \`--resume-window 0\`), each behind its own \`ssh -L\`, an agent here
	  through each forward and one in the dyno on each's loopback; in each
	  round the two of a pair run one right after the other, in turns
	  first.  The agent always asks for resume, so against the first its
	  session is resumable (every sequenced frame kept until acknowledged,
	  an ACK every 64 KiB and with each PING) and against the second it is
	  not.  *Bulk*: iperf3 as under bulk, through each agent; and the CPU
	  time (/proc/PID/stat) the dyno's agent and its server take to move
	  $RESUME_CPU_MIB MiB (\`iperf3 -n\`), per GiB.  *Small
	  request/answer*: \`connrtt -k\`, one-byte round trips on one stream
	  already open (the transport under a small rpc), $RESUME_RTTS per side
	  in $RESUME_RTT_RUNS runs that alternate between the sides; per round,
	  the median of the runs' medians, and of the ratios of the runs made
	  side by side.
	  *First byte*: tests/bench/resumertt.c drives the carrier engine
	  (tools/common/mux.c) as the agent does, through the first forward:
	  $RESUME_ITERS times, a fresh carrier (a new session, a stream to echod,
	  one byte echoed), then that carrier dropped (\`shutdown\`, no GOAWAY:
	  the session detached), one byte written on the stream meanwhile, and
	  after 20 ms a new carrier that resumes the session; each timed from
	  its \`connect()\` returning to the echo read back (the fresh one also
	  after a 20 ms pause, so that both start from the same idle machine).
	  The same, $RESUME_WAN_ITERS times, through a forward whose sshd is started
	  through delaypipe ($(( 2 * CARRIER_WAN_MS )) ms round trip, as under carrier).
	  *Memory*: every round a fresh server and an agent on its loopback,
	  $RESUME_STREAMS idle streams held through it (\`conns -H\`): the server's
	  VmRSS growth per stream with the carrier up, then with the agent
	  killed (SIGKILL: no GOAWAY), the session and its streams' sockets
	  kept; the same up to the streams against a \`--resume-window 0\`
	  server.

	## Per-round samples

	$(bench_samples_md)
	EOF
}

bench_chart() {
	local gp=$OUT/chart.gp s label
	command -v gnuplot >/dev/null || {
		e2e_log "no gnuplot: no chart"
		return 0
	}
	for s in direct erlfwd copy socat ssh ssh_erlfwd; do
		[[ -s $SAMPLES/bulk_$s ]] || continue
		case $s in
		direct)	label="direct loopback" ;;
		erlfwd)	label="erlfwd-server" ;;
		copy)	label="erlfwd-server --relay copy" ;;
		socat)	label="socat" ;;
		ssh)	label="ssh -L" ;;
		ssh_erlfwd) label="ssh -L + erlfwd-server" ;;
		esac
		printf '"%s"\t%s\n' "$label" "$(bench_med "bulk_$s")"
	done >"$OUT/chart-bulk.dat"
	# How far each target is met: 1 is the target; taller is better.
	awk -F '\t' '$7 != "" {
		printf "\"%s (%s)\"\t%s\t%s\t\"%s\"\n", $8, $5, $7,
		    $6 == "yes" ? "0x2e8b57" : "0xcd3333", $9
	}' "$ROWS" >"$OUT/chart-targets.dat"
	cat >"$gp" <<-EOF
	set terminal pngcairo size 1400,650 font "DejaVu Sans,10"
	set output "$OUT/chart.png"
	set multiplot layout 1,2 title "erlfwd benchmarks: $(date -u +%Y-%m-%d), $(nproc) CPUs, medians of $ROUNDS rounds"
	set style fill solid 0.8 border -1
	set boxwidth 0.6
	set grid ytics
	set xtics rotate by -35 left nomirror
	set lmargin 8
	set bmargin 9
	set title "Bulk throughput, one stream (Gbit/s)"
	set yrange [0:*]
	plot "$OUT/chart-bulk.dat" using 0:2:xtic(1) with boxes lc rgb "#4682b4" notitle, \\
	     "" using 0:2:(sprintf("%.2f", \$2)) with labels offset 0,0.8 notitle
	set title "Targets: bar = measured / target, inverted for upper bounds (>= 1: met; capped at 3)"
	set yrange [0:3.3]
	set rmargin 16
	plot "$OUT/chart-targets.dat" using 0:(\$2 > 3 ? 3 : \$2):3:xtic(1) with boxes lc rgb variable notitle, \\
	     1 with lines lw 2 dt 2 lc rgb "black" notitle, \\
	     "" using 0:(\$2 > 3 ? 3 : \$2):4 with labels offset 0,0.8 font ",8" notitle
	unset multiplot
	EOF
	gnuplot "$gp" 2>"$OUT/chart.err" ||
	    e2e_log "gnuplot failed: $(cat "$OUT/chart.err")"
	[[ -s $OUT/chart.err ]] || rm -f "$OUT/chart.err"
}

# ---------------------------------------------------------------------------

e2e_init
e2e_require_build
e2e_require_cmd iperf3 ssh escript taskset nproc lscpu
for b in echod connrtt conns hookcost resumertt; do
	[[ -x $BIN/$b ]] || e2e_skip "no $BIN/$b: run make bench-bins first"
done
CLI=$E2E_BUILD/erlfwd
{ ! bench_want carrier && ! bench_want libfree; } || [[ -x $CLI ]] ||
    e2e_skip "no $CLI: run make first"
# Two fds per relayed connection, and the clients hold theirs too.
ulimit -Sn "$(ulimit -Hn)"
SAMPLES=$E2E_TMP/samples
ROWS=$E2E_TMP/rows.tsv
SCALE_N=$CONNS
SCALE_NOTE=
mkdir -p "$SAMPLES" "$OUT"
e2e_log "rounds $ROUNDS; running: $ONLY"

e2e_dyno_start dyno
bench_echod "$ECHO_PORT"
bench_server server-relay -l "127.0.0.1:$RELAY_PORT" \
    --allow-port "$IPERF_PORT" --allow-port "$ECHO_PORT"

bench_want bulk && bench_bulk
bench_want setup && bench_setup
bench_want routes && bench_routes
bench_want hook && bench_hook
bench_want scale && bench_scale
bench_want dist && bench_dist
bench_want carrier && bench_carrier
bench_want libfree && bench_libfree
bench_want resume && bench_resume

bench_rows
bench_results_md >"$OUT/results.md"
bench_chart
e2e_log "done in $(( (${EPOCHREALTIME/./} - T_START) / 1000000 )) s;" \
    "wrote $OUT/results.md and $OUT/chart.png"
echo
bench_table_text
echo
echo "results: ${OUT#"$E2E_ROOT"/}/results.md, chart: ${OUT#"$E2E_ROOT"/}/chart.png"
