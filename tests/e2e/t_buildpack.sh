#!/usr/bin/env bash
# t_buildpack: the Heroku buildpack, run as Heroku runs it: from the bin/
# at the top of the repository (Heroku clones the buildpack's repository and
# runs its top bin/, links into scripts/heroku-buildpack).  bin/detect,
# bin/compile BUILD_DIR CACHE_DIR ENV_DIR (twice: the second from the cache)
# and bin/release with temporary directories; then the installed
# .profile.d/erlfwd.sh is sourced inside the namespaced dyno the way a dyno
# boots: with DYNO=web.1 it starts erlfwd-server on $ERLFWD_PORT and the node
# is reached through it over the real OpenSSH forward; with DYNO=run.1,
# release.1, scheduler.1 or no DYNO it starts nothing.  With ERLFWD_CLUSTER
# it starts the cluster helper too (ERLFWD_CLUSTER_SELF's names, {dyno}
# for the dyno's, as its --self), and the dyno's command runs with the
# library preloaded and the route: a name of the pattern resolves to a
# sentinel the helper gave.
set -u -o pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=cli.sh
. "$(dirname "$0")/cli.sh"
e2e_init
cli_require
e2e_require_cmd make cc
bp=$E2E_ROOT
build=$E2E_TMP/build cache=$E2E_TMP/cache envd=$E2E_TMP/env
mkdir -p "$build" "$cache" "$envd"
printf 'web: mix phx.server\n' >"$build/Procfile"
port=9400
printf '%s' "$port" >"$envd/ERLFWD_PORT"

out=$("$bp/bin/detect" "$build" 2>&1)
e2e_assert_eq "0 erlfwd" "$? $out" "bin/detect applies and names the buildpack"

"$bp/bin/compile" "$build" "$cache" "$envd" >"$E2E_TMP/compile.log" 2>&1
rc=$?
sed 's/^/    | /' "$E2E_TMP/compile.log" >&2
e2e_assert_eq 0 "$rc" "bin/compile exits 0"
e2e_assert_true "the server is in the slug, executable" \
    test -x "$build/.erlfwd/bin/erlfwd-server"
e2e_assert_eq "$("$E2E_SERVER_BIN" --version)" \
    "$("$build/.erlfwd/bin/erlfwd-server" --version)" \
    "the slug's server is this repository's release"
e2e_assert_true "the profile script is installed" test -f "$build/.profile.d/erlfwd.sh"
e2e_assert_contains "$(<"$E2E_TMP/compile.log")" "-----> erlfwd" \
    "bin/compile reports in Heroku's style"
e2e_assert_contains "$(<"$E2E_TMP/compile.log")" "127.0.0.1:$port" \
    "bin/compile reads ERLFWD_PORT from ENV_DIR"
e2e_assert_true "the objects are cached" test -s "$cache/erlfwd/build/erlfwd-server"

"$bp/bin/compile" "$build" "$cache" "$envd" >"$E2E_TMP/compile2.log" 2>&1
e2e_assert_eq 0 "$?" "bin/compile again, from the cache, exits 0"
e2e_assert_not_contains "$(<"$E2E_TMP/compile2.log")" " -c -o " \
    "the second build compiles nothing"

out=$("$bp/bin/release" "$build")
e2e_assert_eq "0 --- {}" "$? $out" "bin/release prints an empty YAML map"

# The dyno: its epmd and node, no server yet.
e2e_dyno_start dyno
e2e_node_start dyno app@dyno
pid=${E2E_NODE_PID[app@dyno]}
ns=$(e2e_ns dyno)

# boot DYNO_NAME LOG: a dyno boots as Heroku boots one: HOME is the slug, the
# profile scripts are sourced, then the dyno's command runs (here a sleep).
# LOG.ready says what the profile left in ERLFWD_SERVER_PID.
boot() {
	local dyno=$1 log=$2
	# shellcheck disable=SC2016 # expanded by the dyno's bash
	e2e_dyno_spawn dyno "$log" env HOME="$build" ${dyno:+DYNO="$dyno"} \
	    ERLFWD_PORT="$port" READY="$E2E_TMP/$log.ready" bash -c '
		cd "$HOME" || exit 1
		for f in .profile.d/*.sh; do . "$f"; done
		echo "server=${ERLFWD_SERVER_PID:-none}" >"$READY"
		exec sleep 600'
	e2e_wait_until 10 "dyno $log to boot" test -s "$E2E_TMP/$log.ready"
}

servers() {
	local p n=0
	for p in $(ip netns pids "$ns"); do
		[[ $(cat "/proc/$p/comm" 2>/dev/null) == erlfwd-server ]] && n=$(( n + 1 ))
	done
	echo "$n"
}

for d in run.1 release.1 scheduler.1 ""; do
	boot "$d" "boot-${d:-nodyno}"
	e2e_assert_eq "server=none" "$(<"$E2E_TMP/boot-${d:-nodyno}.ready")" \
	    "DYNO=${d:-unset}: the profile starts no server"
done
e2e_assert_eq 0 "$(servers)" "no erlfwd-server runs in the dyno"
e2e_assert_true "nothing listens on $port" e2e_not e2e_is_listening -n dyno "$port"

boot web.1 web
e2e_assert_match "$(<"$E2E_TMP/web.ready")" '^server=[0-9]+$' \
    "DYNO=web.1: the profile started the server"
e2e_wait_port -n dyno "$port"
e2e_wait_until 5 "the server's first log line in the dyno's output" \
    e2e_file_has "$E2E_TMP/web.log" "msg=listening addr=127.0.0.1:$port"
e2e_assert_eq 1 "$(servers)" "one erlfwd-server runs in the dyno"

# Reach the node through it, over the real OpenSSH forward.
e2e_tunnel_up dyno "$port"
e2e_local_epmd_start
tunnel=127.0.0.1:$E2E_TUNNEL_PORT
export ERL_EPMD_PORT=$E2E_LOCAL_EPMD
cli_run names --tunnel "$tunnel"
e2e_assert_eq 0 "$CLI_RC" "names through the buildpack's server"
e2e_assert_contains "$CLI_OUT" "name app at port $(e2e_node_port dyno app)" \
    "names lists app"
ERLFWD_COOKIE=$E2E_COOKIE cli_run doctor --tunnel "$tunnel" app
e2e_assert_eq 0 "$CLI_RC" "doctor: the path through the buildpack's server works"
cli_run run --tunnel "$tunnel" -- erl -sname "t$$" -setcookie "$E2E_COOKIE" \
    -hidden -noinput -eval 'io:format("~s~n", [rpc:call(app@dyno, os, getpid, [])]), halt().'
e2e_assert_eq "$pid" "$CLI_OUT" "rpc reaches app@dyno through the buildpack's server"
e2e_assert_true "the server logs its connections to the dyno's output" \
    e2e_file_has "$E2E_TMP/web.log" "tag=dist"

# ERLFWD_CLUSTER: the helper beside the app, the preload in its command.
# (Its server on another port: web.1's holds $port.)  Neither the server
# nor the helper runs preloaded.
# shellcheck disable=SC2016 # expanded by the dyno's bash
e2e_dyno_spawn dyno cluster env HOME="$build" DYNO=web.2 ERLFWD_PORT=$(( port + 1 )) \
    ERLFWD_CLUSTER='web-*=socks5h://127.0.0.1:1055' \
    ERLFWD_CLUSTER_SELF='{dyno}, web-self' \
    READY="$E2E_TMP/cluster.ready" bash -c '
	cd "$HOME" || exit 1
	for f in .profile.d/*.sh; do . "$f"; done
	for i in 1 2 3 4 5 6 7 8 9 10; do
		getent ahostsv4 web-848cd4f64d-pvpr2 >"$READY.tmp" && break
		sleep 0.2	# the helper starts in the background
	done
	for n in web-2 web-self; do
		echo "self $n: $(getent ahostsv4 "$n" | head -n 1)" >>"$READY.tmp"
	done
	printf "preload=%s\nhosts=%s\nbind=%s\n" "$LD_PRELOAD" \
	    "$ERLFWD_HOSTS" "$ERLFWD_BIND" >>"$READY.tmp"
	mv "$READY.tmp" "$READY"
	exec sleep 600'
e2e_wait_until 10 "the clustered dyno to boot" test -s "$E2E_TMP/cluster.ready"
ready=$(<"$E2E_TMP/cluster.ready")
e2e_assert_contains "$ready" "preload=$build/.erlfwd/lib/liberlfwd.so" \
    "ERLFWD_CLUSTER: the dyno's command runs with the library preloaded"
e2e_assert_contains "$ready" "hosts=web-*=socks5h://127.0.0.1:1055" \
    "and the cluster route"
e2e_assert_contains "$ready" "bind=any" \
    "and the app's own listeners untouched (the web server on \$PORT)"
e2e_assert_match "$ready" "^127\.2(4[0-9]|5[0-5])\.[0-9]+\.[0-9]+ +STREAM web-848cd4f64d-pvpr2" \
    "a dyno name of the pattern resolves to the helper's sentinel"
# ERLFWD_CLUSTER_SELF: the dyno's own names in the overlay ({dyno}: web.2
# as web-2) are the helper's --self: 127.0.0.1, never a sentinel.
e2e_assert_match "$ready" "self web-2: 127\.0\.0\.1 " \
    "ERLFWD_CLUSTER_SELF: {dyno} (web-2) is the dyno's own: 127.0.0.1"
e2e_assert_match "$ready" "self web-self: 127\.0\.0\.1 " \
    "ERLFWD_CLUSTER_SELF: and so is web-self"
e2e_assert_true "the helper names them" \
    e2e_file_has "$E2E_TMP/cluster.log" 'msg=cluster self name=web-self'
e2e_assert_true "the helper logs to the dyno's output" \
    e2e_file_has "$E2E_TMP/cluster.log" "msg=sentinel name=web-848cd4f64d-pvpr2"
e2e_wait_port -n dyno $(( port + 1 ))
e2e_assert_eq 3 "$(servers)" "web.2: its server and its helper run beside web.1's"
for p in $(ip netns pids "$ns"); do
	[[ $(cat "/proc/$p/comm" 2>/dev/null) == erlfwd-server ]] || continue
	e2e_assert_not_contains "$(tr '\0' '\n' <"/proc/$p/environ")" \
	    "LD_PRELOAD=" "erlfwd-server $p does not run preloaded"
done
e2e_pass
