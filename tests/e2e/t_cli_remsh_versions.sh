#!/usr/bin/env bash
# t_cli_remsh_versions: `erlfwd remsh` opens IEx only when the node runs this
# machine's Elixir on this machine's OTP; otherwise the Erlang shell, with
# one line saying why and how to get IEx.  `erlfwd doctor` reports the pair.
#
# Three nodes in one dyno, each asked through the real OpenSSH forward:
#   same@dyno   Elixir's libraries, iex started: IEx when the dyno's OTP and
#               Elixir are this machine's (always, but under make otp-matrix),
#               else erl and the notice naming both
#   plain@dyno  a plain erl node, no Elixir loaded -> erl and the notice
#   other@dyno  a stand-in Elixir 1.99.0 (an application spec with that vsn,
#               no code): another version -> erl and the notice naming both
# With --erl, no question is asked and no notice printed.
set -u -o pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=cli.sh
. "$(dirname "$0")/cli.sh"
e2e_init
cli_require
e2e_require_cmd tmux iex elixir
E2E_COOKIE="versions-secret-$RANDOM$RANDOM"

# versions WHERE...: "OTP ELIXIR" from `elixir --version` run by WHERE.
versions() {
	local out otp ex
	out=$("$@" elixir --version 2>&1)
	otp=$(sed -n 's/^Erlang\/OTP \([0-9]*\) .*/\1/p' <<<"$out")
	ex=$(sed -n 's/^Elixir \([^ ]*\) .*/\1/p' <<<"$out")
	[[ -n $otp && -n $ex ]] || e2e_fail "cannot read elixir --version" "$out"
	printf '%s %s\n' "$otp" "$ex"
}
read -r otp ex < <(versions)
e2e_log "this machine: OTP $otp, Elixir $ex"
e2e_dyno_start dyno
read -r rotp rex < <(versions e2e_dyno_exec dyno)
e2e_log "the dyno: OTP $rotp, Elixir $rex"

# IEx's remote shell runs IEx on the remote node: give it Elixir's libraries
# (the dyno's own), as a release has them.
ebins=$(e2e_dyno_exec dyno elixir -e 'IO.puts(Enum.join(Path.wildcard(
    Path.join(Path.dirname(to_string(:code.lib_dir(:elixir))), "*/ebin")), " "))')
[[ $ebins == */iex/ebin* ]] || e2e_skip "no IEx in the dyno's Elixir: $ebins"
# shellcheck disable=SC2086 # one directory per word
e2e_node_start dyno same@dyno -pa $ebins \
    -eval '{ok, _} = application:ensure_all_started(iex).'
e2e_node_start dyno plain@dyno
e2e_node_start dyno other@dyno -eval 'ok = application:load({application,
    elixir, [{description, "stand-in"}, {vsn, "1.99.0"}, {modules, []},
    {registered, []}, {applications, [kernel, stdlib]}]}).'
e2e_server_start dyno
e2e_tunnel_up dyno
e2e_local_epmd_start
tunnel=127.0.0.1:$E2E_TUNNEL_PORT
umask 077
printf '%s\n' "$E2E_COOKIE" >"$E2E_TMP/cookie"
export ERLFWD_TIMEOUT_MS=5000

# doctor's shell line for NODE.
shell_line() {
	cli_run doctor "$1" --tunnel "$tunnel" --cookie-file "$E2E_TMP/cookie"
	e2e_assert_eq 0 "$CLI_RC" "doctor $1: exit 0"
	grep -E '^ok +shell ' <<<"$CLI_OUT"
}
same=0
[[ "$otp $ex" == "$rotp $rex" ]] && same=1
if (( same )); then
	e2e_assert_eq "ok   shell   the node runs OTP $otp, Elixir $ex, as this machine: erlfwd remsh starts IEx" \
	    "$(shell_line same)" "doctor: same versions, IEx"
else
	e2e_assert_eq "ok   shell   the node runs OTP $rotp, Elixir $rex, this machine OTP $otp, Elixir $ex: erlfwd remsh starts the Erlang shell (IEx needs the same Elixir and OTP on both ends)" \
	    "$(shell_line same)" "doctor: other versions, erl"
fi
e2e_assert_eq "ok   shell   the node runs OTP $rotp without Elixir: erlfwd remsh starts the Erlang shell" \
    "$(shell_line plain)" "doctor: no Elixir on the node, erl"
e2e_assert_eq "ok   shell   the node runs OTP $rotp, Elixir 1.99.0, this machine OTP $otp, Elixir $ex: erlfwd remsh starts the Erlang shell (IEx needs the same Elixir and OTP on both ends)" \
    "$(shell_line other)" "doctor: another Elixir, erl"

# remsh NODE SESSION [ARGS...]: the shell on NODE in tmux session SESSION.
remsh() {
	local node=$1 s=$2
	shift 2
	e2e_tmux_start "$s" env ERL_EPMD_PORT="$E2E_LOCAL_EPMD" \
	    "$CLI_BIN" remsh "$node" --tunnel "$tunnel" \
	    --cookie-file "$E2E_TMP/cookie" "$@"
}

remsh same s1
if (( same )); then
	e2e_tmux_wait s1 '^iex\(same@dyno\)1> ' 30
	e2e_assert_not_contains "$(e2e_tmux_screen s1)" "not IEx" "same: no notice"
else
	e2e_tmux_wait s1 '^\(same@dyno\)1> ' 30
	e2e_tmux_wait s1 "^erlfwd: the Erlang shell, not IEx: the node runs OTP $rotp, Elixir ${rex//./\\.}, this machine OTP $otp, Elixir ${ex//./\\.}\\. IEx needs" 1
fi
cli_tmux_quit s1
e2e_assert_eq 0 "$(cli_tmux_status s1)" "same: remsh exits 0"

remsh plain s2
e2e_tmux_wait s2 '^\(plain@dyno\)1> ' 30
e2e_tmux_wait s2 '^erlfwd: the Erlang shell, not IEx: the node has no Elixir loaded\. IEx needs the same Elixir and OTP on both ends: install those here, or run the release.s own `bin/APP remote` on the host \(--iex forces IEx, --erl skips this check\)$' 1
e2e_tmux_wait s2 "^erlfwd: remote shell on plain@dyno through .*$tunnel \\(erl, " 1
e2e_tmux_send s2 'node().' Enter
e2e_tmux_wait s2 '^plain@dyno$'
cli_tmux_quit s2
e2e_assert_eq 0 "$(cli_tmux_status s2)" "plain: remsh exits 0"

remsh other s3
e2e_tmux_wait s3 '^\(other@dyno\)1> ' 30
e2e_tmux_wait s3 "^erlfwd: the Erlang shell, not IEx: the node runs OTP $rotp, Elixir 1\\.99\\.0, this machine OTP $otp, Elixir ${ex//./\\.}\\. IEx needs" 1
cli_tmux_quit s3

remsh other s4 --erl
e2e_tmux_wait s4 '^\(other@dyno\)1> ' 30
e2e_assert_not_contains "$(e2e_tmux_screen s4)" "not IEx" "--erl: no notice"
cli_tmux_quit s4
e2e_pass
