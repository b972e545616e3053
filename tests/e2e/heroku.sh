# shellcheck shell=bash
#
# heroku.sh: helpers for the Heroku scenarios (t_heroku_*.sh), over lib.sh
# and cli.sh.  Source it after them.  Names start with heroku_.
#
# The Heroku CLI is tests/e2e/heroku-standin (a stand-in: see its header),
# on PATH as `heroku` in $HEROKU_BIN; its apps and dynos are files under
# $HEROKU_STANDIN_DIR, its dynos the scenario's network namespaces, reached
# by OpenSSH through an sshd -i that ProxyCommand starts inside the dyno
# (its own UTS and mount namespaces, an empty tmpfs for /root).  Every SSH
# connection into dyno D adds a line to $E2E_TMP/sshd-D.count: the count the
# Cedar scenario asserts on is the dyno's own, not the stand-in's.

# heroku_init: the stand-in on PATH (HEROKU_BIN first), its state
# directory, and its SOCKS port: a free one, given to heroku-remsh too.
heroku_init() {
	HEROKU_BIN=$E2E_TMP/heroku-bin
	mkdir -p "$HEROKU_BIN" "$E2E_TMP/heroku/apps" ||
	    e2e_fail "cannot make $HEROKU_BIN"
	ln -s "$E2E_DIR/heroku-standin" "$HEROKU_BIN/heroku"
	export HEROKU_STANDIN_DIR=$E2E_TMP/heroku
	export HEROKU_STANDIN_CREDENTIALS_S=${HEROKU_STANDIN_CREDENTIALS_S:-1}
	e2e_free_port HEROKU_STANDIN_SOCKS_PORT
	export HEROKU_STANDIN_SOCKS_PORT
	export ERLFWD_HEROKU_SOCKS_PORT=$HEROKU_STANDIN_SOCKS_PORT
	e2e__ssh_setup
	# The user's own key, registered with `heroku keys:add`: run:inside's
	# ssh has no -i and finds it in ~/.ssh (the scenario's empty HOME).
	mkdir -p "$HOME/.ssh" && chmod 700 "$HOME/.ssh" &&
	    cp "$E2E_TMP/client_key" "$HOME/.ssh/id_ed25519" &&
	    printf 'IdentityFile %s/.ssh/id_ed25519\nIdentitiesOnly yes\nLogLevel ERROR\n' \
	    "$HOME" >"$HOME/.ssh/config" ||
	    e2e_fail "cannot put the client key in $HOME/.ssh"
}

# heroku_app APP GENERATION: an app of that generation (fir or cedar).
# apps:info --json gives Fir's generation as an object and Cedar's as a
# string: the CLI's own reader takes both.
heroku_app() {
	local app=$1 gen=$2 genjson d=$E2E_TMP/heroku/apps/$1
	mkdir -p "$d/config" "$d/dynos" || e2e_fail "cannot make $d"
	echo "$gen" >"$d/generation"
	if [[ $gen == fir ]]; then
		genjson='{
      "id": "a6d7c3a0-1c4b-4f6e-9d57-8e2f0b1c9a3e",
      "name": "fir"
    }'
		stack=cnb
	else
		genjson='"cedar"'
		stack=heroku-24
	fi
	cat >"$d/info.json" <<-EOF
	{
	  "addons": [],
	  "app": {
	    "acm": false,
	    "build_stack": {
	      "id": "ee582d3c-717d-4a57-ba5f-8b3a39f3a817",
	      "name": "$stack"
	    },
	    "generation": $genjson,
	    "name": "$app",
	    "owner": {
	      "email": "dev@example.com",
	      "id": "2f3e4d5c-6b7a-4988-8776-655443322110"
	    },
	    "region": {
	      "name": "us"
	    },
	    "stack": {
	      "name": "$stack"
	    }
	  },
	  "collaborators": [],
	  "dynos": [],
	  "pipeline_coupling": null
	}
	EOF
	echo '[]' >"$d/ps.json"
	echo "$stack" >"$d/stack"
}

# heroku_config APP VAR VALUE: a config var (the file is 0600).
heroku_config() {
	(umask 077 && printf '%s\n' "$3" >"$E2E_TMP/heroku/apps/$1/config/$2")
}

# heroku_dyno APP NAME DYNO [SETUP [SSHD_LINES]]: the app's dyno NAME (web.1,
# web-848cd4f64d-pvpr2) is the scenario's dyno DYNO.  SETUP is a command
# line run as root inside the dyno's mount namespace before each sshd -i
# (with /root an empty tmpfs); SSHD_LINES are added to that sshd's config
# (SetEnv ...).  `heroku ps --json` lists it, up.
heroku_dyno() {
	local app=$1 name=$2 dyno=$3 setup=${4:-:} extra=${5:-} d proxy inner cfg
	d=$E2E_TMP/heroku/apps/$app/dynos/$name
	mkdir -p "$d" || e2e_fail "cannot make $d"
	cfg=$E2E_TMP/sshd_config-$dyno
	{ cat "$E2E_TMP/sshd_config"; printf '%s\n' "$extra"; } >"$cfg"
	proxy=$E2E_TMP/proxy-heroku-$dyno.sh
	# HEROKU_STANDIN_FORCE (heroku-standin's run:inside): a file holding
	# the command the API was given, which the session runs whatever ssh
	# asks for.
	printf -v inner 'hostname %q && mount -t tmpfs -o mode=0700 tmpfs /root && { %s; } && if [ -n "$HEROKU_STANDIN_FORCE" ]; then exec /usr/sbin/sshd -i -e -f %q -o "ForceCommand=/bin/sh $HEROKU_STANDIN_FORCE"; else exec /usr/sbin/sshd -i -e -f %q; fi' \
	    "${E2E_DYNO_HOST[$dyno]}" "$setup" "$cfg" "$cfg"
	printf '#!/bin/sh\necho "$$" >>%q\nexec ip netns exec %q unshare --uts --mount sh -c %q\n' \
	    "$E2E_TMP/sshd-$dyno.count" "$(e2e_ns "$dyno")" "$inner" >"$proxy" ||
	    e2e_fail "cannot write $proxy"
	chmod +x "$proxy"
	printf '%s\n' -F /dev/null -o "ProxyCommand=$proxy" \
	    -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
	    -o BatchMode=yes -o IdentitiesOnly=yes -i "$E2E_TMP/client_key" \
	    "root@${E2E_DYNO_HOST[$dyno]}" >"$d/ssh"
	heroku__ps_json "$app"
	e2e_log "heroku: $app's dyno $name is dyno $dyno (host ${E2E_DYNO_HOST[$dyno]})"
}

# heroku__ps_json APP: `heroku ps --json` from the app's dynos, sorted by
# name, in the API's shape (nested app and release objects included).
heroku__ps_json() {
	local app=$1 d n first=1 type
	d=$E2E_TMP/heroku/apps/$app
	{
		echo "["
		for n in $(ls -1 "$d/dynos" | LC_ALL=C sort); do
			type=${n%%[.-]*}
			(( first )) || echo "  ,"
			first=0
			cat <<-EOF
			  {
			    "app": {
			      "id": "5b1e4f2a-8c3d-4e6f-a7b8-c9d0e1f2a3b4",
			      "name": "$app"
			    },
			    "attach_url": null,
			    "command": "bin/$app start",
			    "created_at": "2026-11-29T20:00:00Z",
			    "id": "0c9d8e7f-6a5b-4c3d-2e1f-0a9b8c7d6e5f",
			    "name": "$n",
			    "release": {
			      "id": "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
			      "version": 7
			    },
			    "size": "Standard-1X",
			    "state": "up",
			    "type": "$type",
			    "updated_at": "2026-11-29T20:00:00Z"
			  }
			EOF
		done
		echo "]"
	} >"$d/ps.json"
}

# heroku_ssh_count DYNO: how many SSH connections were made into DYNO.
heroku_ssh_count() {
	local n
	n=$(grep -c . "$E2E_TMP/sshd-$1.count" 2>/dev/null)
	echo "${n:-0}"
}

# heroku_iex_node DYNO NODE: NODE in DYNO with Elixir's libraries and IEx
# started, as a mix release runs it (an IEx remote shell needs them there).
heroku_iex_node() {
	local ebins
	ebins=$(e2e_dyno_exec "$1" elixir -e 'IO.puts(Enum.join(Path.wildcard(
	    Path.join(Path.dirname(to_string(:code.lib_dir(:elixir))), "*/ebin")), " "))')
	[[ $ebins == */iex/ebin* ]] || e2e_skip "no IEx in the dyno's Elixir: $ebins"
	# shellcheck disable=SC2086 # one directory per word
	e2e_node_start "$1" "$2" -pa $ebins \
	    -eval '{ok, _} = application:ensure_all_started(iex).'
}

# heroku_prompt NODE: the shell prompt heroku-remsh must reach on NODE, as
# an extended regex: IEx's when both sides run this machine's Elixir and
# OTP, else either shell (erlfwd remsh then picks erl and says why).
heroku_prompt() {
	if [[ -z ${E2E_OTP_LOCAL:-}${E2E_OTP_REMOTE:-} ]]; then
		printf '^iex\\(%s\\)[0-9]+> \n' "$1"
	else
		printf '^(iex)?\\(%s\\)[0-9]+> \n' "$1"
	fi
}

# heroku_procs: the heroku stand-in, ssh, sshd (the dyno's side), socat and
# erlfwd processes that carry this scenario's mark, one "PID ARGS" a line.
heroku_procs() {
	local f pid args
	for f in $(grep -laxz -- "$E2E_MARK_VAR=$E2E_ID" /proc/[0-9]*/environ 2>/dev/null); do
		pid=${f#/proc/}
		pid=${pid%/environ}
		args=$({ tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null) || continue
		e2e_alive "$pid" || continue
		case $args in
		tmux\ *) ;;	# the harness's terminal, whose command line names them
		*heroku-standin* | ssh\ * | *sshd\ -i* | sshd:* | socat\ * | */erlfwd\ *)
			printf '%s %s\n' "$pid" "$args" ;;
		esac
	done
}

# heroku_none_left WHAT: no heroku, ssh or socat process of this scenario
# runs (the harness's own tunnels aside): waits up to 15 s for them to go,
# then fails with those left.
heroku_none_left() {
	local deadline left
	deadline=$(( ${EPOCHREALTIME/./} + 15000000 ))
	while left=$(heroku_procs) && [[ -n $left ]]; do
		(( ${EPOCHREALTIME/./} < deadline )) ||
		    e2e_fail "$1: processes left after 15 s" "$left" \
		    "$(ps -eo pid,ppid,pgid,sid,stat,wchan:24,args | grep -v ' ps -eo' |
		    grep -E 'heroku|erlfwd|socat|ssh|beam|sleep')"
		sleep "$E2E_POLL"
	done
	e2e_log "ok: $1: no heroku, ssh or socat process left"
}
