#!/usr/bin/env bash
# t_cli_usage: the erlfwd command's surface without a dyno: --version, --help
# for every subcommand (with the exit statuses), and one 'erlfwd:' line on
# stderr with exit status 2 for every kind of usage error.
set -u -o pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=cli.sh
. "$(dirname "$0")/cli.sh"
e2e_init
cli_require

cli_run --version
e2e_assert_eq 0 "$CLI_RC" "--version exits 0"
e2e_assert_match "$CLI_OUT" '^erlfwd [0-9]+\.[0-9]+\.[0-9]+$' "--version prints the version"
server_version=$("$E2E_SERVER_BIN" --version)
e2e_assert_eq "${server_version#erlfwd-server }" "${CLI_OUT#erlfwd }" \
    "erlfwd and erlfwd-server are the same release"

cli_run --help
e2e_assert_eq 0 "$CLI_RC" "--help exits 0"
for sub in run names remsh doctor; do
	e2e_assert_contains "$CLI_OUT" "  $sub " "--help lists $sub"
done
for sub in run names remsh doctor; do
	cli_run "$sub" --help
	e2e_assert_eq 0 "$CLI_RC" "$sub --help exits 0"
	e2e_assert_match "$CLI_OUT" "^usage: erlfwd $sub" "$sub --help starts with its usage"
	e2e_assert_contains "$CLI_OUT" "3 nothing reachable listens on the tunnel" \
	    "$sub --help lists the exit statuses"
	cli_run help "$sub"
	e2e_assert_match "$CLI_OUT" "^usage: erlfwd $sub" "erlfwd help $sub is $sub --help"
done

# Usage errors: exit 2, one line.
usage_error() {
	cli_run "$@"
	e2e_assert_eq 2 "$CLI_RC" "erlfwd $* exits 2"
	cli_assert_one_line "erlfwd $*"
}
usage_error
usage_error frobnicate
usage_error names --tunnel nohost
usage_error names --tunnel example.com:9369
usage_error names extra
usage_error run
usage_error run --host 'bad pattern!' -- true
e2e_assert_contains "$CLI_ERR" "--host: 'bad pattern!'" "a bad --host is named as such"
# A bad NODE is a usage error whatever the environment holds: no cookie
# anywhere (this HOME is empty) and a cookie file that is not there.
usage_error remsh 'bad node!'
usage_error remsh 'bad node!' --cookie-file "$E2E_TMP/no-such-cookie"
usage_error doctor 'bad node!' --cookie-file "$E2E_TMP/no-such-cookie"
usage_error remsh --iex --erl app
usage_error doctor a b
ERLFWD_SOCKS_PASSWORD_FILE=$E2E_TMP/no-such-file usage_error names
e2e_assert_contains "$CLI_ERR" "ERLFWD_SOCKS_PASSWORD_FILE" "an unreadable password file is named"
usage_error names --tunnel socks5://erl@127.0.0.1:1080
e2e_assert_contains "$CLI_ERR" "ERLFWD_SOCKS_PASSWORD" "USER@ without a password names the variable"
ERLFWD_TUNNEL=127.0.0.1:0 usage_error names
e2e_assert_contains "$CLI_ERR" "ERLFWD_TUNNEL" "a bad ERLFWD_TUNNEL is named"

# An unknown option or a missing value: one line too.
cli_run names --bogus
e2e_assert_eq 2 "$CLI_RC" "an unknown option exits 2"
cli_assert_one_line "an unknown option"
cli_run doctor --tunnel
e2e_assert_eq 2 "$CLI_RC" "a missing value exits 2"
cli_assert_one_line "a missing value"

# run: a command that is not there, or not executable (the tunnel is not
# asked: --host is given).
cli_run run --host dyno -- /nonexistent/cmd
e2e_assert_eq 127 "$CLI_RC" "run: a missing command exits 127"
cli_assert_one_line "run: a missing command"
printf 'data\n' >"$E2E_TMP/not-a-program"
chmod 644 "$E2E_TMP/not-a-program"
cli_run run --host dyno -- "$E2E_TMP/not-a-program"
e2e_assert_eq 126 "$CLI_RC" "run: a command that cannot be executed exits 126"
e2e_pass
