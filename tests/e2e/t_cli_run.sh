#!/usr/bin/env bash
# t_cli_run: `erlfwd run -- erl ...` reaches app@dyno through the real
# OpenSSH forward.  The library is added to an existing LD_PRELOAD, never
# replacing it; without --host the remote host's own name is the pattern;
# --host and ERLFWD_HOSTS work; the command's exit status is erlfwd's.  The
# same from a `make install` tree, whose erlfwd finds the library in
# lib/erlfwd and whose man pages render.
set -u -o pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=cli.sh
. "$(dirname "$0")/cli.sh"
e2e_init
cli_require
e2e_world
tunnel=127.0.0.1:$E2E_TUNNEL_PORT
pid=${E2E_NODE_PID[app@dyno]}
lib=$(readlink -f "$E2E_PRELOAD_LIB")
export ERL_EPMD_PORT=$E2E_LOCAL_EPMD

# A library that is already preloaded, and harmless: libm.
libm=$(ldconfig -p | awk '$1 == "libm.so.6" { print $NF; exit }')
[[ -f $libm ]] || e2e_skip "no libm.so.6 to preload"

# run_erl ERLFWD [RUN_ARGS...]: erlfwd run ... -- erl, which prints what it
# sees: the dyno node's pid and its own environment.
run_erl() {
	local bin=$1
	shift
	CLI_BIN=$bin cli_run run "$@" -- erl -sname "t$$" -setcookie "$E2E_COOKIE" \
	    -hidden -noinput -eval '
		io:format("~s~n", [io_lib:print({rpc:call(app@dyno, os, getpid, []),
		    os:getenv("LD_PRELOAD"), os:getenv("ERLFWD_HOSTS"),
		    os:getenv("ERLFWD_TUNNEL")}, 1, 100000, -1)]),
		halt().'
}

# The default: one carrier, and the preload pointed at the agent.
run_erl "$CLI_BIN" --tunnel "$tunnel"
e2e_assert_eq 0 "$CLI_RC" "run -- erl (carrier) exits 0"
e2e_assert_match "$CLI_OUT" "^\\{\"$pid\",\"$lib\",\"dyno\",\"127\\.0\\.0\\.1:[0-9]+\"\\}\$" \
    "erl reaches app@dyno over a carrier; ERLFWD_TUNNEL is the agent's"
[[ $CLI_OUT != *"\"$tunnel\""* ]] ||
	e2e_fail "ERLFWD_TUNNEL is the agent's, not the forward's: $CLI_OUT"

# Version 1, one forwarded connection per BEAM connection: what passes
# through to the program.
export ERLFWD_CARRIER=off
LD_PRELOAD=$libm run_erl "$CLI_BIN" --tunnel "$tunnel"
e2e_assert_eq 0 "$CLI_RC" "run -- erl exits 0"
e2e_assert_eq "{\"$pid\",\"$libm:$lib\",\"dyno\",\"$tunnel\"}" "$CLI_OUT" \
    "erl reaches app@dyno; LD_PRELOAD is appended to; the pattern is the remote host's name"

run_erl "$CLI_BIN" --tunnel "$tunnel" --host 'dy*' --host 'other'
e2e_assert_eq "{\"$pid\",\"$lib\",\"dy*,other\",\"$tunnel\"}" "$CLI_OUT" \
    "--host values replace ERLFWD_HOSTS, joined"

ERLFWD_HOSTS=dyno ERLFWD_TUNNEL=$tunnel LD_PRELOAD="$lib" run_erl "$CLI_BIN"
e2e_assert_eq "{\"$pid\",\"$lib\",\"dyno\",\"$tunnel\"}" "$CLI_OUT" \
    "ERLFWD_HOSTS and ERLFWD_TUNNEL pass through; the library is not added twice"

cli_run run --host dyno -- sh -c 'exit 7'
e2e_assert_eq 7 "$CLI_RC" "the command's exit status is erlfwd's"

# Without --host, a tunnel that is down cannot name the remote host.
e2e_tunnel_down dyno
cli_run run --tunnel "$tunnel" -- true
e2e_assert_eq 3 "$CLI_RC" "no --host and the forward down: exit 3"
cli_assert_one_line "no --host and the forward down"
e2e_assert_contains "$CLI_ERR" "pass --host" "the line says to pass --host"
e2e_tunnel_up dyno

# An installed tree: bin/erlfwd, lib/erlfwd/liberlfwd.so, the man pages.
root=$E2E_TMP/root
make -C "$E2E_ROOT" --no-print-directory B="$E2E_BUILD" DESTDIR="$root" \
    PREFIX=/opt/erlfwd install >"$E2E_TMP/install.log" 2>&1 ||
    e2e_fail "make install failed" "$(tail -n 20 "$E2E_TMP/install.log")"
for f in bin/erlfwd bin/erlfwd-server lib/erlfwd/liberlfwd.so \
    share/man/man1/erlfwd.1 share/man/man8/erlfwd-server.8; do
	e2e_assert_true "make install put $f" test -f "$root/opt/erlfwd/$f"
done
run_erl "$root/opt/erlfwd/bin/erlfwd" --tunnel "$tunnel"
e2e_assert_eq "{\"$pid\",\"$root/opt/erlfwd/lib/erlfwd/liberlfwd.so\",\"dyno\",\"$tunnel\"}" \
    "$CLI_OUT" "the installed erlfwd preloads the installed library"
if command -v man >/dev/null; then
	page=$(MANWIDTH=80 man -l "$root/opt/erlfwd/share/man/man1/erlfwd.1" 2>&1)
	e2e_assert_match "$page" "ERLFWD\\(1\\)" "erlfwd(1) renders"
	e2e_assert_contains "$page" "EXIT STATUS" "erlfwd(1) documents the exit statuses"
	page=$(MANWIDTH=80 man -l "$root/opt/erlfwd/share/man/man8/erlfwd-server.8" 2>&1)
	e2e_assert_match "$page" "ERLFWD-SERVER\\(8\\)" "erlfwd-server(8) renders"
fi
e2e_pass
