# shellcheck shell=sh
# .profile.d/erlfwd.sh, installed by the erlfwd buildpack: Heroku sources it
# at dyno boot, before the dyno's command.  It starts erlfwd-server in the
# background beside the app's node, on 127.0.0.1 and $ERLFWD_PORT (9369), on
# long-running dynos only: not on one-off (run.*), release (release.*) or
# scheduler (scheduler.*) dynos, and not outside Heroku ($DYNO unset).
# ERLFWD_DISABLE=1 turns it off.  Its log lines go to the dyno's output,
# where Heroku collects them.
#
# With ERLFWD_CLUSTER set (e.g. 'myapp-*=socks5h://127.0.0.1:1055': the
# dynos' names in the overlay and its SOCKS5 server), it also starts the
# cluster helper (erlfwd-server --cluster) and preloads liberlfwd.so into the
# dyno's command with that route, so that the app's node reaches its peers
# by name through the overlay, its code unchanged.  ERLFWD_BIND=any: the
# app's listeners (the web server on $PORT) stay on every address.
# ERLFWD_CLUSTER_SELF (e.g. 'myapp-{dyno}'): this dyno's own names in the
# overlay, for the helper's --self.

# erlfwd_self_names: the names of ERLFWD_CLUSTER_SELF (comma-separated),
# one a line; {dyno} in one is this dyno's name with its dots as dashes
# (web.1: web-1, as a tailnet name must be).
erlfwd_self_names() {
	printf '%s\n' "${ERLFWD_CLUSTER_SELF:-}" | tr ' ' ',' | tr ',' '\n' |
	    sed "s/{dyno}/$(printf '%s' "${DYNO:-}" | tr . - | tr -cd 'A-Za-z0-9-')/g" |
	    grep -v '^$'
}

# The cluster helper, and the preload for the dyno's command: after the
# server, so that neither of them runs preloaded.  Each name of
# ERLFWD_CLUSTER_SELF is the helper's --self: this dyno's own name in the
# overlay, which resolves to 127.0.0.1 and never goes through the proxy.
erlfwd_profile_cluster() {
	erlfwd_bin=${HOME:-/app}/.erlfwd/bin/erlfwd-server
	erlfwd_lib=${HOME:-/app}/.erlfwd/lib/liberlfwd.so
	case ${DYNO:-} in
	"" | run.* | release.* | scheduler.*)
		return 0 ;;
	esac
	[ -n "${ERLFWD_CLUSTER:-}" ] || return 0
	if [ ! -x "$erlfwd_bin" ] || [ ! -r "$erlfwd_lib" ]; then
		echo "erlfwd: $erlfwd_bin or $erlfwd_lib is missing; clustering is off" >&2
		return 0
	fi
	set --
	while IFS= read -r erlfwd_self; do
		[ -n "$erlfwd_self" ] && set -- "$@" --self "$erlfwd_self"
	done <<EOF
$(erlfwd_self_names)
EOF
	"$erlfwd_bin" --cluster "$ERLFWD_CLUSTER" "$@" </dev/null &
	ERLFWD_CLUSTER_PID=$!
	LD_PRELOAD="${LD_PRELOAD:+$LD_PRELOAD }$erlfwd_lib"
	ERLFWD_HOSTS="${ERLFWD_HOSTS:+$ERLFWD_HOSTS,}$ERLFWD_CLUSTER"
	ERLFWD_BIND=${ERLFWD_BIND:-any}
	export ERLFWD_CLUSTER_PID LD_PRELOAD ERLFWD_HOSTS ERLFWD_BIND
}

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
erlfwd_profile_cluster
unset -f erlfwd_profile_start erlfwd_profile_cluster erlfwd_self_names
unset erlfwd_bin erlfwd_port erlfwd_lib erlfwd_self
