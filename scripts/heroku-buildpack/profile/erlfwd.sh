# shellcheck shell=sh
# .profile.d/erlfwd.sh, installed by the erlfwd buildpack: Heroku sources it
# at dyno boot, before the dyno's command.  It starts erlfwd-server in the
# background beside the app's node, on 127.0.0.1 and $ERLFWD_PORT (9369), on
# long-running dynos only: not on one-off (run.*), release (release.*) or
# scheduler (scheduler.*) dynos, and not outside Heroku ($DYNO unset).
# ERLFWD_DISABLE=1 turns it off.  Its log lines go to the dyno's output,
# where Heroku collects them.

erlfwd_profile_start() {
	erlfwd_bin=${HOME:-/app}/.erlfwd/bin/erlfwd-server
	erlfwd_port=${ERLFWD_PORT:-9369}
	case ${DYNO:-} in
	"" | run.* | release.* | scheduler.*)
		return 0 ;;
	esac
	[ "${ERLFWD_DISABLE:-0}" = 1 ] && return 0
	case $erlfwd_port in
	"" | *[!0-9]*)
		echo "erlfwd: ERLFWD_PORT '$erlfwd_port' is not a port; erlfwd-server not started" >&2
		return 0 ;;
	esac
	if [ ! -x "$erlfwd_bin" ]; then
		echo "erlfwd: $erlfwd_bin is missing; erlfwd-server not started" >&2
		return 0
	fi
	# In the background, with the dyno's output; Heroku's SIGTERM at dyno
	# shutdown stops it cleanly with the app.
	"$erlfwd_bin" -l "127.0.0.1:$erlfwd_port" </dev/null &
	ERLFWD_SERVER_PID=$!
	export ERLFWD_SERVER_PID
}

erlfwd_profile_start
unset -f erlfwd_profile_start
unset erlfwd_bin erlfwd_port
