#!/usr/bin/env bash
# t_server_signal: erlfwd-server listens where -l says, and on SIGTERM stops
# listening and exits with status 0.
set -u -o pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init
e2e_require_build

e2e_dyno_start dyno
port=19369
log=$E2E_TMP/server.log
pidfile=$E2E_TMP/server.pid
# A shell stands between, to report the server's exit status; the server's
# own pid goes to a file so that the signal reaches the server alone.
# shellcheck disable=SC2016 # expanded by sh -c
e2e_dyno_spawn dyno server-wrapper sh -c '
	bin=$1 log=$2 pidfile=$3
	shift 3
	"$bin" "$@" 2>"$log" &
	echo $! >"$pidfile"
	wait $!
	echo "exit=$?"' sh "$E2E_SERVER_BIN" "$log" "$pidfile" -l "127.0.0.1:$port"
wrapper_log=$E2E_TMP/server-wrapper.log

e2e_wait_until 10 "msg=listening" e2e_file_has "$log" msg=listening
e2e_wait_port -n dyno "$port"
e2e_assert_true "-l 127.0.0.1:$port: nothing on the default 9369" \
    e2e_not e2e_is_listening -n dyno "$E2E_SERVER_PORT"
e2e_assert_match "$(grep msg=listening "$log")" "127\.0\.0\.1:$port" \
    "the listening line names the address"

kill -TERM "$(<"$pidfile")"
e2e_wait_until 5 "erlfwd-server to exit after SIGTERM" \
    e2e_file_has "$wrapper_log" "exit="
e2e_assert_eq "exit=0" "$(<"$wrapper_log")" "SIGTERM: exit status 0"
e2e_assert_true "SIGTERM: the port is closed" \
    e2e_not e2e_is_listening -n dyno "$port"
e2e_assert_not_contains "$(<"$log")" "level=error" "SIGTERM: no error logged"
e2e_pass
