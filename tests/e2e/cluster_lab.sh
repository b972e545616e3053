# shellcheck shell=bash
#
# cluster_lab.sh: the clustering scenarios' world (t_cluster_*), over lib.sh.
# Dynos that share no network but an overlay, as on Heroku with a userspace
# Tailscale:
#
#   dyno web-N (netns, host name web-N)            overlay (netns)
#   -------------------------------------          -------------------------
#   app@web-N + liberlfwd.so                       routes 10.77.N.0/24 <-> the
#     'web-*=socks5h://127.0.0.1:1055'             other dynos' (a router: a
#   erlfwd-server --cluster, 127.0.0.1:9370        dyno that is gone has no
#   microsocks 127.0.0.1:1055 (the overlay's       route, and a connect to it
#     SOCKS5 server; resolves web-M through        fails at once, as an
#     /etc/hosts: MagicDNS's stand-in)             overlay peer that left)
#   ovl0 10.77.N.2 <== veth ==> webN 10.77.N.1     (no route: "unreachable")
#   inbound TCP on ovl0 -> 127.0.0.1, same port
#     (DNAT, route_localnet: as tailscaled's netstack delivers it)
#
# Addresses exist only inside these namespaces.  The dynos' host files live in
# /etc/netns/NAMESPACE/hosts, which `ip netns exec` binds over /etc/hosts; a
# dyno that joins is appended to every file in place (the bind mounts see
# it), as MagicDNS would learn it.
#
# Exported names start with cl_.

CL_PROXY_PORT=1055
CL_ROUTE="web-*=socks5h://127.0.0.1:$CL_PROXY_PORT"
CL_DYNOS=()
CL_OVERLAY=

# cl_overlay: the overlay namespace, a router.
cl_overlay() {
	e2e_dyno_create overlay
	CL_OVERLAY=$(e2e_ns overlay)
	# No rate limit on "unreachable": every dial to a gone dyno hears it.
	ip netns exec "$CL_OVERLAY" sysctl -qw net.ipv4.ip_forward=1 \
	    net.ipv4.icmp_ratelimit=0 ||
	    e2e_fail "cannot enable forwarding in the overlay"
}

# cl_hosts_line N: the "MagicDNS" line for dyno web-N.
cl_hosts_line() {
	printf '10.77.%s.2 web-%s\n' "$1" "$1"
}

# cl_dyno N: dyno web-N on the overlay, with its hosts file, inbound DNAT to
# its loopback, its SOCKS5 server and its epmd; every other dyno's hosts file
# learns its name.
cl_dyno() {
	local n=$1 dyno=web-$1 ns dir m
	e2e_dyno_create "$dyno" "$dyno"
	ns=$(e2e_ns "$dyno")
	dir=/etc/netns/$ns
	mkdir -p "$dir" || e2e_fail "mkdir $dir failed"
	e2e_defer path "$dir"
	{
		printf '127.0.0.1 localhost\n'
		for m in "${CL_DYNOS[@]}" "$n"; do cl_hosts_line "$m"; done
	} >"$dir/hosts"
	# Names come from the hosts file alone: no DNS query leaves the dyno.
	printf 'hosts: files\n' >"$dir/nsswitch.conf"
	printf 'nameserver 127.0.0.1\n' >"$dir/resolv.conf"
	for m in "${CL_DYNOS[@]}"; do
		cl_hosts_line "$n" >>"/etc/netns/$(e2e_ns "web-$m")/hosts"
	done
	ip -n "$CL_OVERLAY" link add "web$n" type veth peer name ovl0 \
	    netns "$ns" || e2e_fail "cannot add the veth pair of $dyno"
	ip -n "$CL_OVERLAY" addr add "10.77.$n.1/24" dev "web$n" &&
	    ip -n "$CL_OVERLAY" link set "web$n" up &&
	    ip -n "$ns" addr add "10.77.$n.2/24" dev ovl0 &&
	    ip -n "$ns" link set ovl0 up &&
	    ip -n "$ns" route add default via "10.77.$n.1" ||
	    e2e_fail "cannot address $dyno on the overlay"
	ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.route_localnet=1 \
	    net.ipv4.conf.ovl0.route_localnet=1 &&
	    ip netns exec "$ns" iptables -t nat -A PREROUTING -i ovl0 -p tcp \
	    -j DNAT --to-destination 127.0.0.1 ||
	    e2e_fail "cannot deliver $dyno's inbound traffic to its loopback"
	e2e_dyno_spawn "$dyno" "socks-$dyno" microsocks -i 127.0.0.1 \
	    -p "$CL_PROXY_PORT"
	e2e_wait_port -n "$dyno" "$CL_PROXY_PORT"
	e2e_epmd_start "$dyno"
	CL_DYNOS+=("$n")
}

# cl_forget N: every dyno's hosts file forgets web-N, in place, as MagicDNS
# forgets a node that left the tailnet.
cl_forget() {
	local m f kept
	for m in "${CL_DYNOS[@]}"; do
		f=/etc/netns/$(e2e_ns "web-$m")/hosts
		[[ -f $f ]] || continue
		kept=$(grep -v " web-$1\$" "$f")
		printf '%s\n' "$kept" >"$f"	# same inode: the bind mounts see it
	done
}

# cl_helper N [ROUTES [NAME]]: erlfwd-server --cluster ROUTES (default the
# glob route) in dyno web-N, waited for; its log is $E2E_TMP/NAME.log
# (default helper-web-N).
cl_helper() {
	local dyno=web-$1 name=${3:-helper-web-$1} log
	log=$E2E_TMP/$name.log
	e2e_dyno_spawn "$dyno" "$name" "$E2E_SERVER_BIN" \
	    --cluster "${2:-$CL_ROUTE}"
	e2e_wait_until 10 "the cluster helper in $dyno" \
	    e2e_file_has "$log" "msg=listening"
}

# cl_member N SEEDS: app@web-N, an Elixir node under the preload with the
# glob route (the app's code knows nothing of it), running
# cluster_member.exs: it connects to the SEEDS (node names) in a loop, joins
# :pg group :members, registers {:member, node()} in :global, and writes
# what it sees to $E2E_TMP/status-web-N every 100 ms.  +S 1: one scheduler.
cl_member() {
	local dyno=web-$1
	e2e_dyno_spawn "$dyno" "member-$dyno" env LD_PRELOAD="$E2E_PRELOAD_LIB" \
	    ERLFWD_HOSTS="$CL_ROUTE" CL_STATUS="$E2E_TMP/status-$dyno" \
	    CL_SEEDS="$2" elixir --sname "app@$dyno" --cookie "$E2E_COOKIE" \
	    --erl "+S 1" "$E2E_DIR/cluster_member.exs"
	# shellcheck disable=SC2034 # read by the scenarios
	E2E_NODE_PID["app@$dyno"]=$E2E_LAST_PID
	e2e_wait_until 30 "app@$dyno to start" test -s "$E2E_TMP/status-$dyno"
}

# cl_status N KEY: the member's last view: nodes, global or pg (sorted,
# comma-separated node names).
cl_status() {
	sed -n "s/^$2=//p" "$E2E_TMP/status-web-$1" 2>/dev/null
}

# cl_status_is N KEY VALUE: true when the member's view of KEY is VALUE.
cl_status_is() {
	[[ $(cl_status "$1" "$2") == "$3" ]]
}

# cl_others N...: "app@web-M,..." for every M of the list but the first.
cl_others() {
	local self=$1 m out=()
	shift
	for m in "$@"; do
		[[ $m == "$self" ]] || out+=("app@web-$m")
	done
	local IFS=,
	printf '%s\n' "${out[*]}"
}

# cl_eval N NAME EXPR [ERL_ARGS...]: a short-lived Erlang node in dyno web-N
# evaluates EXPR and halts (bounded by `timeout 90`): -sname NAME@web-N
# (NAME@$CL_SNAME_HOST when set) under the preload with
# ERLFWD_HOSTS=$CL_HOSTS (default the glob route), or with a NAME holding
# '@', -name NAME without the preload (a direct path).  Sets E2E_RESULT
# (EXPR's value, ~p on one line) and E2E_ERR, as e2e_erl_eval does.
cl_eval() {
	local dyno=web-$1 name=$2 expr=$3 out
	local flag=(-sname "$2@${CL_SNAME_HOST:-web-$1}")
	local env=(ERL_CRASH_DUMP="$E2E_TMP/erl_crash.dump")
	shift 3
	E2E_ERL_SEQ=$(( E2E_ERL_SEQ + 1 ))
	out="$E2E_TMP/erl-$E2E_ERL_SEQ"
	e2e__dyno_cmd "$dyno"
	if [[ $name == *@* ]]; then
		flag=(-name "$name")
	else
		env+=(LD_PRELOAD="$E2E_PRELOAD_LIB"
		    ERLFWD_HOSTS="${CL_HOSTS:-$CL_ROUTE}")
		[[ -n ${CL_TIMEOUT_MS:-} ]] &&
		    env+=(ERLFWD_TIMEOUT_MS="$CL_TIMEOUT_MS")
	fi
	timeout -k 5 90 "${E2E_DYNO_CMD[@]}" env "${env[@]}" erl "${flag[@]}" \
	    -setcookie "$E2E_COOKIE" -hidden -noinput "$@" \
	    -eval "R = try begin $expr end catch C:E:S -> {e2e_crash, C, E, S} end,
	           io:format(\"E2E_RESULT=~s~n\", [io_lib:print(R, 1, 100000, -1)]),
	           halt()." >"$out.out" 2>"$out.err"
	E2E_RC=$?
	E2E_RESULT=$(sed -n 's/^E2E_RESULT=//p' "$out.out")
	# shellcheck disable=SC2034 # read by the scenarios
	E2E_ERR=$(<"$out.err")
	e2e_log "erl #$E2E_ERL_SEQ in $dyno ($name): rc $E2E_RC, result:" \
	    "${E2E_RESULT:-<none>}"
	if [[ -z $E2E_RESULT ]]; then
		sed 's/^/    stdout: /' "$out.out" >&2
		sed 's/^/    stderr: /' "$out.err" >&2
	fi
	return 0
}
