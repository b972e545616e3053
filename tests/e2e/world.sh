# shellcheck shell=bash
#
# world.sh: the builder of the end-to-end scenarios' world, over lib.sh's
# harness (lib.sh sources it; scenarios source lib.sh): dynos (network
# namespaces with their own host name, epmd, nodes and erlfwd-server), the
# tunnel into them (OpenSSH: ssh -L, ssh -D, sshd -i), and the laptop's
# side (its epmd, nodes under the preload, long-lived nodes across faults).
# The picture and the conventions are in lib.sh's header.
#
# The E2E_* names this file reads but does not set are lib.sh's, set before
# it sources this file.
# shellcheck disable=SC2153

E2E_TUNNEL_PORT=
E2E_LOCAL_EPMD=
E2E_RESULT=
E2E_RC=
E2E_ERR=
E2E_ERL_SEQ=0
declare -A E2E_DYNO_HOST=()
declare -A E2E_DYNO_LOCAL=()	# dynos that play a laptop: the local OTP
declare -A E2E_NODE_PID=()
declare -A E2E_TUNNEL_PIDS=()
declare -A E2E_TUNNEL_PORTS=()
declare -A E2E_SOCKS_PORTS=()
declare -A E2E_SOCKS_PIDS=()
declare -A E2E_LNODE_PID=()
declare -A E2E_LNODE_SEQ=()

# ---------------------------------------------------------------------------
# Dynos: network namespaces with their own host name

# e2e_ns DYNO: the namespace's name.
e2e_ns() {
	printf 'erlfwd-%s-%s\n' "$E2E_ID" "$1"
}

# e2e_dyno_create DYNO [HOSTNAME]: a network namespace with only its loopback
# up; its processes see HOSTNAME (default DYNO) as the host name.
e2e_dyno_create() {
	local dyno=$1 ns
	ns=$(e2e_ns "$dyno")
	ip netns add "$ns" || e2e_fail "ip netns add $ns failed"
	e2e_defer netns "$ns"
	ip netns exec "$ns" ip link set lo up ||
	    e2e_fail "cannot bring lo up in $ns"
	E2E_DYNO_HOST[$dyno]=${2:-$dyno}
	e2e_log "dyno $dyno: namespace $ns, host name ${E2E_DYNO_HOST[$dyno]}"
}

# e2e__dyno_cmd DYNO: set E2E_DYNO_CMD to the command prefix that runs a
# program inside the dyno, in a UTS namespace of its own that carries the
# dyno's host name.  Every step execs the next: the pid of the prefix is the
# program's.
e2e__dyno_cmd() {
	local path=$PATH
	# A dyno runs the remote OTP, unless it plays a laptop (E2E_DYNO_LOCAL).
	if [[ -z ${E2E_DYNO_LOCAL[$1]:-} ]]; then
		path=${PATH#"$E2E_TMP/otp-local:"}
		[[ -n ${E2E_OTP_REMOTE:-} ]] && path=$E2E_TMP/otp-remote:$path
	fi
	# shellcheck disable=SC2016 # expanded by sh -c, not here
	E2E_DYNO_CMD=(ip netns exec "$(e2e_ns "$1")" unshare --uts
	    env PATH="$path" sh -c 'hostname "$0" && exec "$@"'
	    "${E2E_DYNO_HOST[$1]}")
}

# e2e__otp_side SIDE ROOT: with ROOT (a root filesystem with erlang and
# elixir), $E2E_TMP/otp-SIDE holds erl, epmd, iex, elixir, escript and erlc
# that run ROOT's, chrooted, in a mount namespace of their own where /proc,
# /dev, /sys, /tmp and the repository are bound at their own paths (the
# library, the build, the scenario's files and HOME are where the caller
# left them).  Each step execs the next: the pid is the program's.
e2e__otp_side() {
	local side=$1 root=$2 dir prog binds
	[[ -n $root ]] || return 0
	[[ -x $root/usr/bin/erl ]] || e2e_skip "no erl in $root (make otp-matrix)"
	e2e_log "the $side side runs OTP $(cat "$root"/usr/lib/erlang/releases/*/OTP_VERSION 2>/dev/null) from $root"
	dir=$E2E_TMP/otp-$side
	mkdir -p "$dir" || e2e_fail "mkdir $dir failed"
	binds="/proc /dev /sys /tmp $E2E_ROOT"
	[[ $E2E_BUILD == "$E2E_ROOT"/* ]] || binds+=" $E2E_BUILD"
	for prog in erl epmd iex elixir escript erlc; do
		# shellcheck disable=SC2016 # expanded by the wrapper's shells
		printf '#!/bin/bash\n# %s from %s (tests/e2e/lib.sh)\nexec unshare -m /bin/sh -c %q sh %q %q %q "$@"\n' \
		    "$prog" "$root" \
		    'root=$1 binds=$2; shift 2
		     for d in $binds; do
		         mkdir -p "$root$d" && mount --rbind "$d" "$root$d" || exit 126
		     done
		     exec chroot "$root" /usr/bin/env \
		         PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin \
		         /bin/sh -c "cd \"\$0\" 2>/dev/null || cd /; exec \"\$@\"" "$PWD" "$@"' \
		    "$root" "$binds" "$prog" >"$dir/$prog" &&
		    chmod 755 "$dir/$prog" || e2e_fail "cannot write $dir/$prog"
	done
}

# e2e_dyno_exec DYNO CMD...: run CMD in the foreground inside the dyno.
e2e_dyno_exec() {
	e2e__dyno_cmd "$1"
	shift
	"${E2E_DYNO_CMD[@]}" "$@"
}

# e2e_dyno_spawn DYNO LOG CMD...: the same in the background (see e2e_spawn).
e2e_dyno_spawn() {
	local dyno=$1 log=$2
	shift 2
	e2e__dyno_cmd "$dyno"
	e2e_spawn "$log" "${E2E_DYNO_CMD[@]}" "$@"
}

# e2e_epmd_start DYNO: the dyno's epmd, in the foreground on the default port
# 4369 (inside the namespace), and wait until it listens.
e2e_epmd_start() {
	e2e_dyno_spawn "$1" "epmd-$1" epmd
	E2E_EPMD_PID=$E2E_LAST_PID
	e2e_wait_port -n "$1" 4369
	e2e_log "dyno $1: epmd pid $E2E_EPMD_PID on 4369"
}

# e2e_dyno_start DYNO [HOSTNAME]: a dyno with its epmd running.
e2e_dyno_start() {
	e2e_dyno_create "$@"
	e2e_epmd_start "$1"
}

# e2e_epmd_names DYNO: `epmd -names` inside the dyno (its own 4369).
e2e_epmd_names() {
	ip netns exec "$(e2e_ns "$1")" timeout 10 epmd -names 2>&1
}

# e2e_node_port DYNO NAME: the port the dyno's epmd has for node NAME (the
# part before '@'); prints nothing when it is not registered.
e2e_node_port() {
	e2e_epmd_names "$1" |
	    awk -v n="$2" '$1 == "name" && $2 == n && $4 == "port" {print $5}'
}

# e2e_node_start DYNO NODE [ERL_ARGS...]: a real node "-sname NODE" in the
# dyno (cookie E2E_COOKIE, no shell), and wait until it has booted and is
# registered.  Its OS pid lands in E2E_NODE_PID[NODE].
e2e_node_start() {
	e2e__node_start -sname "$@"
}

# e2e_iex_node_start DYNO NODE [ERL_ARGS...]: e2e_node_start with Elixir's
# libraries and IEx started, as a release has them: an IEx remote shell runs
# IEx on the node.  The remote side's Elixir (its root filesystem's under
# make otp-matrix).  Skips the scenario when there is no IEx.
e2e_iex_node_start() {
	local dyno=$1 node=$2 root="" lib d args=()
	shift 2
	if [[ -n ${E2E_OTP_REMOTE:-} ]]; then
		root=$E2E_OTP_REMOTE lib=/usr/lib/elixir/lib
	else
		# This machine's Elixir, not a local release's on PATH
		# (E2E_OTP_LOCAL puts its wrappers first).
		lib=$(dirname "$(dirname "$(readlink -f "$(PATH=${PATH#"$E2E_TMP/otp-local:"} command -v elixir)")")")/lib
	fi
	[[ -d $root$lib/iex/ebin ]] || e2e_skip "no IEx under $root$lib"
	for d in "$root$lib"/*/ebin; do
		args+=(-pa "${d#"$root"}")
	done
	e2e_node_start "$dyno" "$node" "${args[@]}" \
	    -eval '{ok, _} = application:ensure_all_started(iex).' "$@"
}

# e2e_node_start_long DYNO NODE [ERL_ARGS...]: the same with "-name NODE"
# (app@web.1, app@127.0.0.1).
e2e_node_start_long() {
	e2e__node_start -name "$@"
}

e2e__node_start() {
	local flag=$1 dyno=$2 node=$3 ready
	shift 3
	ready="$E2E_TMP/node-$node.ready"
	# The node says it has booted by writing its pid; -eval runs last.
	e2e_dyno_spawn "$dyno" "node-$node" erl "$flag" "$node" \
	    -setcookie "$E2E_COOKIE" -noinput "$@" \
	    -eval "ok = file:write_file(\"$ready.tmp\", os:getpid()),
	           ok = file:rename(\"$ready.tmp\", \"$ready\")."
	e2e_wait_until 30 "node $node to boot in dyno $dyno" \
	    e2e__node_ready "$ready" "$E2E_LAST_PID"
	E2E_NODE_PID[$node]=$(<"$ready")
	e2e_wait_until 10 "node $node to register with epmd in dyno $dyno" \
	    e2e_node_registered "$dyno" "${node%@*}"
	e2e_log "dyno $dyno: node $node pid ${E2E_NODE_PID[$node]}," \
	    "port $(e2e_node_port "$dyno" "${node%@*}")"
}

e2e__node_ready() {
	[[ -s $1 ]] && return 0
	e2e_alive "$2" || e2e_fail "the node exited before it booted"
	return 1
}

# e2e_node_registered DYNO NAME: true when the dyno's epmd lists NAME.
e2e_node_registered() {
	[[ -n $(e2e_node_port "$1" "$2") ]]
}

# e2e_server_start DYNO [ARGS...]: build/erlfwd-server inside the dyno, and
# wait for its "msg=listening" line.  Its log is $E2E_TMP/server-DYNO.log, its
# pid E2E_SERVER_PID.
e2e_server_start() {
	local dyno=$1
	shift
	E2E_SERVER_LOG="$E2E_TMP/server-$dyno.log"
	e2e_dyno_spawn "$dyno" "server-$dyno" "$E2E_SERVER_BIN" "$@"
	E2E_SERVER_PID=$E2E_LAST_PID
	e2e_wait_until 10 "erlfwd-server to log msg=listening" \
	    e2e__server_ready "$E2E_SERVER_LOG" "$E2E_SERVER_PID"
	e2e_log "dyno $dyno: erlfwd-server pid $E2E_SERVER_PID $*"
}

e2e__server_ready() {
	e2e_file_has "$1" "msg=listening" && return 0
	e2e_alive "$2" || e2e_fail "erlfwd-server exited at start"
	return 1
}

# e2e_server_conn_lines: the server's per-connection lines so far (those with
# an outcome=), one a line.
e2e_server_conn_lines() {
	grep -a 'outcome=' "$E2E_SERVER_LOG" 2>/dev/null
}

# ---------------------------------------------------------------------------
# The tunnel: OpenSSH, as a developer would forward one port

# e2e__ssh_setup: throwaway host and client keys and an sshd_config in the
# temporary directory.  sshd runs on demand ("sshd -i", as inetd would) inside
# the dyno, started by ssh's ProxyCommand: no port, no daemon.
e2e__ssh_setup() {
	[[ -f $E2E_TMP/sshd_config ]] && return 0
	e2e_require_cmd ssh ssh-keygen
	[[ -x /usr/sbin/sshd ]] ||
	    e2e_skip "needs /usr/sbin/sshd (apt-get install openssh-server)"
	mkdir -p /run/sshd	# sshd's privilege separation directory
	ssh-keygen -q -t ed25519 -N '' -C e2e-host -f "$E2E_TMP/host_key" ||
	    e2e_fail "ssh-keygen (host key) failed"
	ssh-keygen -q -t ed25519 -N '' -C e2e-client -f "$E2E_TMP/client_key" ||
	    e2e_fail "ssh-keygen (client key) failed"
	cp "$E2E_TMP/client_key.pub" "$E2E_TMP/authorized_keys"
	cat >"$E2E_TMP/sshd_config" <<-EOF
		HostKey $E2E_TMP/host_key
		AuthorizedKeysFile $E2E_TMP/authorized_keys
		PermitRootLogin prohibit-password
		PasswordAuthentication no
		KbdInteractiveAuthentication no
		AllowTcpForwarding yes
		UsePAM no
		StrictModes no
		PidFile none
		LogLevel ERROR
	EOF
}

# e2e_tunnel_up DYNO [REMOTE_PORT]: "ssh -L PORT:127.0.0.1:REMOTE_PORT" into
# the dyno (default the server's 9369), and wait until PORT listens.  PORT is
# chosen free the first time and kept for that dyno (a tunnel taken down
# comes back on the same port), in E2E_TUNNEL_PORTS[DYNO]; E2E_TUNNEL_PORT is
# the port of the tunnel brought up last, the default route of local nodes.
e2e_tunnel_up() {
	local dyno=$1 rport=${2:-$E2E_SERVER_PORT} port
	port=${E2E_TUNNEL_PORTS[$dyno]:-}
	[[ -n $port ]] || e2e_free_port port
	E2E_TUNNEL_PORTS[$dyno]=$port
	E2E_TUNNEL_PORT=$port
	e2e__ssh "ssh-$dyno" "$dyno" -L "127.0.0.1:$port:127.0.0.1:$rport"
	E2E_TUNNEL_PIDS[$dyno]=$E2E_LAST_PID
	e2e_wait_until 15 "the ssh tunnel on 127.0.0.1:$port" \
	    e2e__tunnel_ready "$port" "$E2E_LAST_PID"
	e2e_log "tunnel: ssh pid $E2E_LAST_PID," \
	    "127.0.0.1:$port -> dyno $dyno 127.0.0.1:$rport"
}

# e2e__ssh LOG DYNO SSH_ARGS...: a background ssh -N into the dyno, through
# an sshd -i started inside its namespace by ProxyCommand.  E2E_SSH_LOGLEVEL
# (default ERROR) is its LogLevel: DEBUG1 logs every channel it opens (one
# "new direct-tcpip" line per forwarded connection) in $E2E_TMP/LOG.log.
# E2E_SSH_VIA, when set, is a command prefix that sshd is started through
# (the benchmarks' delaypipe, a link with latency).
e2e__ssh() {
	local log=$1 dyno=$2
	shift 2
	e2e__ssh_setup
	e2e_spawn "$log" ssh -F /dev/null -n -N "$@" \
	    -o "ProxyCommand=${E2E_SSH_VIA:+$E2E_SSH_VIA }ip netns exec $(e2e_ns "$dyno") /usr/sbin/sshd -i -e -f $E2E_TMP/sshd_config" \
	    -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
	    -o BatchMode=yes -o ExitOnForwardFailure=yes \
	    -o "LogLevel=${E2E_SSH_LOGLEVEL:-ERROR}" -o ConnectTimeout=10 \
	    -o IdentitiesOnly=yes \
	    -i "$E2E_TMP/client_key" "root@${E2E_DYNO_HOST[$dyno]}"
}

# e2e_socks_up DYNO: "ssh -D PORT" into the dyno, a SOCKS5 proxy whose
# connections start inside it (what heroku ps:socks offers); wait until PORT
# listens.  PORT is free and chosen here, in E2E_SOCKS_PORTS[DYNO]; ssh's
# pid is E2E_SOCKS_PIDS[DYNO].
e2e_socks_up() {
	local dyno=$1 port
	e2e_free_port port
	# shellcheck disable=SC2034 # read by the scenarios
	E2E_SOCKS_PORTS[$dyno]=$port
	e2e__ssh "socks-$dyno" "$dyno" -D "127.0.0.1:$port"
	# shellcheck disable=SC2034 # read by the scenarios
	E2E_SOCKS_PIDS[$dyno]=$E2E_LAST_PID
	e2e_wait_until 15 "the ssh SOCKS proxy on 127.0.0.1:$port" \
	    e2e__tunnel_ready "$port" "$E2E_LAST_PID"
	e2e_log "socks: ssh pid $E2E_LAST_PID, 127.0.0.1:$port -> dyno $dyno"
}

# e2e_via DYNO [REMOTE_COMMAND]: set E2E_VIA to a command for `erlfwd
# --via` that runs REMOTE_COMMAND (a command line for the remote shell;
# default: build/erlfwd-server --stdio, by its absolute path) in the dyno
# through a real OpenSSH exec channel, the way `heroku run:inside DYNO
# COMMAND` does: "ssh ... root@HOST REMOTE_COMMAND", with no terminal, its
# stdin and stdout the byte pipe.  ProxyCommand starts an sshd -i inside
# the dyno's namespace, in a UTS namespace carrying the dyno's host name
# (erlfwd-server's INFO names it) and a mount namespace whose /root (root's
# home there) is an empty tmpfs, so that no dotfile of this machine prints
# or decides anything.  While $E2E_TMP/proxy-DYNO.down exists, the
# ProxyCommand fails at once instead (the dyno cannot be reached, as while
# it restarts).  E2E_VIA is one line for sh -c; ssh's command line holds
# "root@HOST", for finding it among a process's children.
e2e_via() {
	local dyno=$1 remote=${2:-"$E2E_SERVER_BIN --stdio"} proxy inner
	e2e__ssh_setup
	proxy="$E2E_TMP/proxy-$dyno.sh"
	printf -v inner 'hostname %q && mount -t tmpfs -o mode=0700 tmpfs /root && exec /usr/sbin/sshd -i -e -f %q' \
	    "${E2E_DYNO_HOST[$dyno]}" "$E2E_TMP/sshd_config"
	printf '#!/bin/sh\n[ -e %q ] && { echo "dyno %s is down" >&2; exit 1; }\nexec ip netns exec %q unshare --uts --mount sh -c %q\n' \
	    "$proxy.down" "$dyno" "$(e2e_ns "$dyno")" "$inner" >"$proxy" ||
	    e2e_fail "cannot write $proxy"
	chmod +x "$proxy"
	printf -v E2E_VIA '%q ' ssh -F /dev/null -T -o "ProxyCommand=$proxy" \
	    -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
	    -o BatchMode=yes -o LogLevel=ERROR -o ConnectTimeout=10 \
	    -o IdentitiesOnly=yes -i "$E2E_TMP/client_key" \
	    "root@${E2E_DYNO_HOST[$dyno]}"
	E2E_VIA+=$(printf '%q' "$remote")
	e2e_log "via: $E2E_VIA"
}

e2e__tunnel_ready() {
	e2e_is_listening "$1" && return 0
	e2e_alive "$2" || e2e_fail "ssh exited"
	return 1
}

# e2e_tunnel_down DYNO: stop that dyno's tunnel; wait until its port no longer
# listens.
e2e_tunnel_down() {
	local dyno=$1 pid=${E2E_TUNNEL_PIDS[$1]:-}
	[[ -n $pid ]] || return 0
	e2e_stop "$pid"
	E2E_TUNNEL_PIDS[$dyno]=
	e2e_wait_port_closed "${E2E_TUNNEL_PORTS[$dyno]}"
	e2e_log "tunnel to $dyno: down"
}

# e2e_world [SERVER_ARGS...]: the usual world.  Dyno "dyno" (host name dyno)
# with its epmd and node app@dyno, erlfwd-server with SERVER_ARGS, the ssh
# tunnel to it, and the laptop's epmd.
e2e_world() {
	e2e_dyno_start dyno
	e2e_node_start dyno app@dyno
	e2e_server_start dyno "$@"
	e2e_tunnel_up dyno
	e2e_local_epmd_start
}

# ---------------------------------------------------------------------------
# The laptop: local epmd and local nodes under the preload

# e2e_local_epmd_start: an epmd for the local nodes on a free port (never
# 4369: the machine's own epmd, if any, is left alone, and the two sides of
# the tunnel use different epmd ports), loopback only.  Sets E2E_LOCAL_EPMD.
e2e_local_epmd_start() {
	e2e_free_port E2E_LOCAL_EPMD
	e2e_spawn local-epmd epmd -port "$E2E_LOCAL_EPMD" -address 127.0.0.1,::1
	e2e_wait_port "$E2E_LOCAL_EPMD"
	e2e_log "laptop: epmd pid $E2E_LAST_PID on $E2E_LOCAL_EPMD"
}

# e2e_local_epmd_names: `epmd -names` of the local epmd.
e2e_local_epmd_names() {
	ERL_EPMD_PORT=$E2E_LOCAL_EPMD timeout 10 epmd -names 2>&1
}

# e2e_preload_env: print the environment of a preloaded local process, one
# VAR=VALUE a line, from E2E_HOSTS (ERLFWD_HOSTS, default "dyno"),
# E2E_PRELOAD (0: no library), E2E_DEBUG (0: no ERLFWD_DEBUG) and E2E_BIND.
e2e_preload_env() {
	[[ ${E2E_PRELOAD:-1} == 1 ]] && printf 'LD_PRELOAD=%s\n' "$E2E_PRELOAD_LIB"
	printf 'ERLFWD_HOSTS=%s\n' "${E2E_HOSTS-dyno}"
	[[ -n $E2E_TUNNEL_PORT ]] &&
	    printf 'ERLFWD_TUNNEL=127.0.0.1:%s\n' "$E2E_TUNNEL_PORT"
	[[ ${E2E_DEBUG:-1} == 1 ]] && printf 'ERLFWD_DEBUG=1\n'
	[[ -n ${E2E_BIND:-} ]] && printf 'ERLFWD_BIND=%s\n' "$E2E_BIND"
	[[ -n $E2E_LOCAL_EPMD ]] && printf 'ERL_EPMD_PORT=%s\n' "$E2E_LOCAL_EPMD"
	return 0
}

# e2e_erl_eval NAMEFLAG NAME EXPR [ERL_ARGS...]: a short-lived local node
# (-sname or -name NAME, hidden, cookie E2E_COOKIE) under the preload (see
# e2e_preload_env) evaluates the Erlang expression EXPR and halts; bounded by
# `timeout 30`.  Sets E2E_RC (its exit status), E2E_RESULT (EXPR's value,
# printed on one line with ~p; {e2e_crash, Class, Reason} when it raised),
# E2E_ERR (its stderr) and E2E_ERR_FILE.
# Returns 0: the caller asserts on what it wants.
e2e_erl_eval() {
	local flag=$1 name=$2 expr=$3 out env
	shift 3
	E2E_ERL_SEQ=$(( E2E_ERL_SEQ + 1 ))
	out="$E2E_TMP/erl-$E2E_ERL_SEQ"
	E2E_ERR_FILE="$out.err"
	mapfile -t env < <(e2e_preload_env)
	printf '%s\n' "${env[@]}" "erl $flag $name $* -eval $expr" >"$out.cmd"
	timeout -k 5 30 env "${env[@]}" erl "$flag" "$name" \
	    -setcookie "$E2E_COOKIE" -hidden -noinput "$@" \
	    -eval "R = try begin $expr end catch C:E -> {e2e_crash, C, E} end,
	           io:format(\"E2E_RESULT=~s~n\", [io_lib:print(R, 1, 100000, -1)]),
	           halt()." >"$out.out" 2>"$E2E_ERR_FILE"
	E2E_RC=$?
	E2E_RESULT=$(sed -n 's/^E2E_RESULT=//p' "$out.out")
	# shellcheck disable=SC2034 # read by the scenarios
	E2E_ERR=$(<"$E2E_ERR_FILE")
	e2e_log "local erl #$E2E_ERL_SEQ ($flag $name): rc $E2E_RC," \
	    "result: ${E2E_RESULT:-<none>}"
	if [[ -z $E2E_RESULT ]]; then
		sed 's/^/    stdout: /' "$out.out" >&2
		sed 's/^/    stderr: /' "$E2E_ERR_FILE" >&2
	fi
	return 0
}

# ---------------------------------------------------------------------------
# Faults and restarts, and long-lived local nodes (the fault, abuse,
# integrity and soak scenarios)

# e2e_server_start_watched DYNO [ARGS...]: e2e_server_start with a shell in
# between that writes the server's exit status to E2E_SERVER_EXIT ("exit=N")
# when it ends.  E2E_SERVER_PID is the server's own pid, so that a signal
# reaches the server alone.  The server's lines are appended to
# E2E_SERVER_LOG: a restarted server's lines follow the previous one's.
e2e_server_start_watched() {
	local dyno=$1 base before
	shift
	base="$E2E_TMP/server-$dyno"
	E2E_SERVER_LOG="$base.log"
	E2E_SERVER_EXIT="$base.exit"
	rm -f "$E2E_SERVER_EXIT" "$base.pid"
	before=$(e2e_count "$E2E_SERVER_LOG" msg=listening)
	# shellcheck disable=SC2016 # expanded by sh -c
	e2e_dyno_spawn "$dyno" "server-$dyno-watch" sh -c '
		base=$0
		"$@" 2>>"$base.log" &
		echo $! >"$base.pid"
		wait $!
		echo "exit=$?" >"$base.exit.tmp"
		mv "$base.exit.tmp" "$base.exit"' "$base" "$E2E_SERVER_BIN" "$@"
	e2e_wait_until 10 "the watched erlfwd-server's pid" \
	    e2e__server_watch_ready "$base.pid" "$E2E_LAST_PID"
	E2E_SERVER_PID=$(<"$base.pid")
	e2e_defer pid "$E2E_SERVER_PID"
	e2e_wait_until 10 "erlfwd-server to log msg=listening" \
	    e2e__count_above "$E2E_SERVER_LOG" msg=listening "$before"
	e2e_log "dyno $dyno: erlfwd-server pid $E2E_SERVER_PID (watched) $*"
}

e2e__server_watch_ready() {
	[[ -s $1 ]] && return 0
	e2e_alive "$2" || e2e_fail "erlfwd-server's watcher exited at start"
	return 1
}

e2e__count_above() {
	[[ -e $E2E_SERVER_EXIT ]] &&
	    e2e_fail "erlfwd-server exited at start: $(<"$E2E_SERVER_EXIT")"
	(( $(e2e_count "$1" "$2") > $3 ))
}

# e2e_server_wait_exit [SECONDS]: wait (default 10 s) until the server
# started by e2e_server_start_watched has ended; its "exit=N" line in
# E2E_SERVER_STATUS.
e2e_server_wait_exit() {
	e2e_wait_until "${1:-10}" "erlfwd-server to exit" \
	    test -e "$E2E_SERVER_EXIT"
	E2E_SERVER_STATUS=$(<"$E2E_SERVER_EXIT")
	e2e_log "erlfwd-server ended: $E2E_SERVER_STATUS"
}

# e2e_node_stop DYNO NODE: stop a node started by e2e_node_start (SIGTERM,
# which the BEAM takes as init:stop()), and wait until the dyno's epmd no
# longer lists it; e2e_node_start can then start it again.
e2e_node_stop() {
	local dyno=$1 node=$2
	[[ -n ${E2E_NODE_PID[$node]:-} ]] ||
	    e2e_fail "e2e_node_stop: no node $node was started"
	e2e_stop "${E2E_NODE_PID[$node]}"
	rm -f "$E2E_TMP/node-$node.ready"
	unset "E2E_NODE_PID[$node]"
	e2e_wait_until 10 "node $node to leave epmd in dyno $dyno" \
	    e2e_not e2e_node_registered "$dyno" "${node%@*}"
	e2e_log "dyno $dyno: node $node stopped"
}

# e2e_lnode_start NAME [ERL_ARGS...]: a long-lived local node "-sname NAME"
# (hidden, cookie E2E_COOKIE) under the preload (see e2e_preload_env), for
# scenarios that keep one node across faults.  It appends every nodeup and
# nodedown it sees (net_kernel:monitor_nodes, hidden nodes included) to
# $E2E_TMP/lnode-NAME/events, one "nodeup NODE" or "nodedown NODE" line each,
# and evaluates, one after the other, the expressions e2e_lnode_eval hands
# it.  Returns once it has booted; its OS pid is E2E_LNODE_PID[NAME].
e2e_lnode_start() {
	local name=$1 dir env
	shift
	dir="$E2E_TMP/lnode-$name"
	mkdir -p "$dir" || e2e_fail "mkdir $dir failed"
	mapfile -t env < <(e2e_preload_env)
	printf '%s\n' "${env[@]}" "erl -sname $name $*" >"$dir/cmd"
	# The agent reads requests in.N and writes answers out.N (written
	# aside and renamed, so that neither side sees half a file).
	e2e_spawn "lnode-$name" env "${env[@]}" erl -sname "$name" \
	    -setcookie "$E2E_COOKIE" -hidden -noinput "$@" -eval "
	Dir = \"$dir\",
	Put = fun(F, Data) ->
		ok = file:write_file(F ++ \".tmp\", Data),
		ok = file:rename(F ++ \".tmp\", F)
	end,
	Self = self(),
	spawn_link(fun() ->
		ok = net_kernel:monitor_nodes(true, [{node_type, all}]),
		Self ! monitoring,
		Watch = fun Watch() ->
			receive {E, N, _} ->
				ok = file:write_file(Dir ++ \"/events\",
				    io_lib:format(\"~s ~s~n\", [E, N]), [append]),
				Watch()
			end
		end,
		Watch()
	end),
	receive monitoring -> ok end,
	Put(Dir ++ \"/ready\", os:getpid()),
	Serve = fun Serve(Seq) ->
		F = Dir ++ \"/in.\" ++ integer_to_list(Seq),
		case file:read_file(F) of
		{ok, Src} ->
			R = try
				{ok, Ts, _} = erl_scan:string(binary_to_list(Src)),
				{ok, Es} = erl_parse:parse_exprs(Ts),
				{value, V, _} = erl_eval:exprs(Es, []),
				V
			catch C:E -> {e2e_crash, C, E}
			end,
			Put(Dir ++ \"/out.\" ++ integer_to_list(Seq),
			    io_lib:format(\"~s~n\", [io_lib:print(R, 1, 100000, -1)])),
			Serve(Seq + 1);
		{error, enoent} ->
			receive after 20 -> ok end,
			Serve(Seq)
		end
	end,
	Serve(1)."
	E2E_LNODE_PID[$name]=$E2E_LAST_PID
	e2e_wait_until 30 "local node $name to boot" \
	    e2e__node_ready "$dir/ready" "$E2E_LAST_PID"
	e2e_log "laptop: local node $name pid $(<"$dir/ready")"
}

# e2e_lnode_eval NAME EXPR [SECONDS]: have local node NAME evaluate the
# Erlang expression EXPR (no final dot), and wait for it up to SECONDS
# (default 30).  Sets E2E_RESULT (its value on one line, ~p; {e2e_crash,
# Class, Reason} when it raised).  Fails the scenario when the node exits or
# does not answer in time.
e2e_lnode_eval() {
	local name=$1 expr=$2 secs=${3:-30} dir seq
	dir="$E2E_TMP/lnode-$name"
	seq=$(( ${E2E_LNODE_SEQ[$name]:-0} + 1 ))
	E2E_LNODE_SEQ[$name]=$seq
	if ! printf '%s\n.\n' "$expr" >"$dir/in.$seq.tmp" ||
	    ! mv "$dir/in.$seq.tmp" "$dir/in.$seq"; then
		e2e_fail "cannot write $dir/in.$seq"
	fi
	e2e_wait_until "$secs" "local node $name to evaluate #$seq: $expr" \
	    e2e__lnode_answered "$dir/out.$seq" "${E2E_LNODE_PID[$name]}"
	E2E_RESULT=$(<"$dir/out.$seq")
	e2e_log "local node $name #$seq: ${E2E_RESULT:0:200}"
}

e2e__lnode_answered() {
	[[ -e $1 ]] && return 0
	e2e_alive "$2" || e2e_fail "the local node exited"
	return 1
}

# e2e_lnode_events NAME LINE: print how many times local node NAME has
# recorded the event LINE ("nodedown app@dyno").
e2e_lnode_events() {
	local n
	n=$(grep -cxF -- "$2" "$E2E_TMP/lnode-$1/events" 2>/dev/null)
	printf '%s\n' "${n:-0}"
}

# e2e_lnode_wait_event NAME LINE N [SECONDS]: wait (default 10 s) until
# local node NAME has recorded the event LINE at least N times.
e2e_lnode_wait_event() {
	e2e_wait_until "${4:-10}" "'$2' #$3 on local node $1" \
	    e2e__lnode_event_at_least "$1" "$2" "$3"
	e2e_log "local node $1: saw '$2' #$3"
}

e2e__lnode_event_at_least() {
	(( $(e2e_lnode_events "$1" "$2") >= $3 ))
}
