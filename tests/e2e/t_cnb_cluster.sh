#!/usr/bin/env bash
# t_cnb_cluster: the Cloud Native Buildpack with ERLFWD_CLUSTER.  bin/build
# runs as the lifecycle runs it (temporary layers, platform and plan); the
# launch layer holds erlfwd-server, liberlfwd.so and exec.d/erlfwd-cluster.
# A process started through the launcher (tests/e2e/cnb-launcher, a
# stand-in that runs exec.d) in a namespaced dyno: without ERLFWD_CLUSTER
# it gets nothing; with it, the cluster helper runs (once, whatever the
# number of processes), and the process has the library preloaded with the
# route: a Fir dyno's name resolves to the helper's sentinel, and the names
# of ERLFWD_CLUSTER_SELF ({dyno}: the dyno's) to 127.0.0.1 (its --self).
set -u -o pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init
e2e_require_build
e2e_require_cmd make cc getent

root=$E2E_TMP/layers
layers=$root/erlfwd_erlfwd-server
mkdir -p "$layers" "$E2E_TMP/platform/env"
: >"$E2E_TMP/plan.toml"
CNB_LAYERS_DIR=$layers CNB_PLATFORM_DIR=$E2E_TMP/platform \
    CNB_BP_PLAN_PATH=$E2E_TMP/plan.toml \
    CNB_BUILDPACK_DIR=$E2E_ROOT/scripts/heroku-cnb \
    "$E2E_ROOT/scripts/heroku-cnb/bin/build" >"$E2E_TMP/build.log" 2>&1
e2e_assert_eq 0 "$?" "bin/build exits 0"
layer=$layers/erlfwd-server
e2e_assert_true "the launch layer has the library" test -r "$layer/lib/liberlfwd.so"
e2e_assert_true "and exec.d/erlfwd-cluster" test -x "$layer/exec.d/erlfwd-cluster"

e2e_dyno_create dyno web-848cd4f64d-pvpr2
launch() {
	# shellcheck disable=SC2016 # expanded by the launched sh
	e2e_dyno_exec dyno env CNB_LAYERS_DIR="$root" TMPDIR="$E2E_TMP" "$@" \
	    "$E2E_DIR/cnb-launcher" sh -c '
		for i in 1 2 3 4 5 6 7 8 9 10; do
			getent ahostsv4 web-5c9d7-abcde && break
			sleep 0.2	# the helper starts in the background
		done
		echo "preload=${LD_PRELOAD:-} hosts=${ERLFWD_HOSTS:-} bind=${ERLFWD_BIND:-}"'
}
helpers() {
	local p n=0
	for p in $(ip netns pids "$(e2e_ns dyno)"); do
		[[ $(cat "/proc/$p/comm" 2>/dev/null) == erlfwd-server ]] && n=$(( n + 1 ))
	done
	echo "$n"
}

out=$(launch 2>"$E2E_TMP/plain.err")
e2e_assert_contains "$out" "preload= hosts= bind=" \
    "without ERLFWD_CLUSTER the process gets nothing"
e2e_assert_eq 0 "$(helpers)" "and no helper runs"

route='web-*=socks5h://127.0.0.1:1055'
# ERLFWD_CLUSTER_SELF: {dyno} is the dyno's name, its dots as dashes.
out=$(launch ERLFWD_CLUSTER="$route" ERLFWD_CLUSTER_SELF='{dyno},web-self' \
    DYNO=web.1 2>"$E2E_TMP/cluster.err")
e2e_assert_contains "$out" "preload=$layer/lib/liberlfwd.so hosts=$route bind=any" \
    "with ERLFWD_CLUSTER: the library, the route, binds untouched"
e2e_assert_match "$out" "127\.2(4[0-9]|5[0-5])\.[0-9]+\.[0-9]+ +STREAM web-5c9d7-abcde" \
    "a dyno's name resolves to the helper's sentinel"
out=$(launch ERLFWD_CLUSTER="$route" 2>>"$E2E_TMP/cluster.err")
e2e_assert_contains "$out" "preload=$layer/lib/liberlfwd.so" "a second process too"
for n in web-1 web-self; do
	e2e_assert_match "$(e2e_dyno_exec dyno env LD_PRELOAD="$layer/lib/liberlfwd.so" \
	    ERLFWD_HOSTS="$route" getent ahostsv4 "$n" | head -n 1)" \
	    '^127\.0\.0\.1 ' "ERLFWD_CLUSTER_SELF: $n is the dyno's own, 127.0.0.1"
done
e2e_assert_true "the helper names them" \
    e2e_file_has "$E2E_TMP/cluster.err" 'msg=cluster self name=web-1'
e2e_assert_eq 1 "$(helpers)" "one helper for the dyno, whatever the processes"
e2e_pass
