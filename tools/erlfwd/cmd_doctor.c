/*
 * cmd_doctor.c: `erlfwd doctor`, the path to a node checked step by step
 * (cmd.h).
 *
 *   library  liberlfwd.so is here (or "mode": the library-free mode, and why)
 *   tunnel   something listens on the forwarded port
 *   server   it is a compatible erlfwd-server
 *   epmd     the remote host's epmd runs
 *   node     the node is registered
 *   port     its port answers through the tunnel (a handshake)
 *   cookie   it accepts our cookie (when there is one)
 *   shell    its OTP and Elixir, against this machine's: IEx or erl
 *
 * Each step is bounded by ERLFWD_TIMEOUT_MS; the first broken one ends the
 * walk with a one-line fix and the exit status of its kind.
 */
#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cmd.h"
#include "cookie.h"
#include "erlmod.h"
#include "mode.h"
#include "info.h"
#include "launch.h"
#include "nodename.h"
#include "plat.h"
#include "probe.h"
#include "safe.h"
#include "target.h"
#include "versions.h"

/* The carrier's first try through a forward got an answer, not a carrier. */
static int forward_answered;

void
cmd_doctor_usage(FILE *f)
{
	fprintf(f,
"usage: erlfwd doctor [NODE] [--tunnel HOST:PORT] [--cookie-file FILE]\n"
"                     [--no-preload]\n"
"\n"
"Walk the path to NODE (NAME or NAME@HOST; default: the only node) and stop\n"
"at the first broken step, with a one-line fix: the library (or the\n"
"library-free mode, and why), the tunnel,\n"
"erlfwd-server, the remote epmd, the node's registration, its port through\n"
"the tunnel, and its cookie (when one is found: --cookie-file, else\n"
"$ERLFWD_COOKIE, $RELEASE_COOKIE, ~/.erlang.cookie), then which OTP and\n"
"Elixir the node runs against this machine's (IEx or the Erlang shell for\n"
"remsh).  Each step takes at most ERLFWD_TIMEOUT_MS (default 5000)\n"
"milliseconds.\n"
"\n"
"  -t, --tunnel ROUTE       the forwarded port HOST:PORT, or a SOCKS5 proxy\n"
"                           into the remote host, socks5://HOST:PORT\n"
"                           (ERLFWD_TUNNEL; default 127.0.0.1:9369)\n"
CLI_PASSWORD_HELP
"  -c, --cookie-file FILE   the cookie to check\n"
CLI_NO_PRELOAD_HELP
"  -h, --help               this help\n"
"\n"
CMD_EXIT_HELP);
}

/* One step's verdict line: "ok   tunnel   ...". */
static void
step(const char *verdict, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
step(const char *verdict, const char *name, const char *fmt, ...)
{
	char line[SAFE_LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* Node names and the server's host name come from the other side. */
	safe_line(stdout, "%-4s %-7s %s", verdict, name, line);
}

/* A broken step: its line, its fix, and the walk's exit status. */
static int
broken(int status, const char *name, const char *what, const char *fix)
{
	step("FAIL", name, "%s", what);
	printf("     fix: %s\n", fix);
	fflush(stdout);
	return status;
}

/*
 * The carrier step, when the session goes over one (cli_carrier()): the
 * --via command, the forward or the proxy, and the CARRIER frames.
 */
static int
carrier_step(struct cli *c)
{
	char err[512];
	const char *fix;
	int rc, started;

	rc = cli_carrier_start(c, &started, err, sizeof(err));
	if (rc == CLI_OK) {
		if (started)
			step("ok", "carrier", "%s is up", c->cfg.tunnel.text);
		forward_answered = !started && c->v1_answered;
		return CLI_OK;
	}
	if (c->carrier_cause == MUX_END_NOT_CARRIER)
		fix = "the command printed something before erlfwd-server "
		    "started: make it print nothing else on stdout (no login "
		    "banner or motd; ssh -T; a non-interactive shell)";
	else if (c->carrier_cause == MUX_END_V1)
		fix = "upgrade erlfwd-server on the remote host";
	else if (c->carrier_cause == MUX_END_NO_ANSWER)
		fix = "erlfwd-server did not start or is stuck: run the command "
		    "by hand and look at what it prints";
	else if (c->via != NULL)
		fix = "run the --via command by hand: it must start "
		    "`erlfwd-server --stdio` on the remote host";
	else
		fix = "start the forward or the proxy, and erlfwd-server behind "
		    "it";
	return broken(rc, "carrier", err, fix);
}

/*
 * refuses_now: whether a forward on this machine's loopback refuses
 * connections now, asked a few times over one second (a plain connect, at
 * once on loopback).  Returns 1 when it does, else 0.
 */
static int
refuses_now(const struct route *t)
{
	const struct sockaddr_in *sin = (const void *)&t->addr;
	const struct sockaddr_in6 *sin6 = (const void *)&t->addr;
	struct timespec pause = { 0, 250 * 1000 * 1000 };
	int i, fd, refused = 0;

	/* Never a remote address: a connect there may take minutes. */
	if (!(t->addr.ss_family == AF_INET &&
	    (ntohl(sin->sin_addr.s_addr) >> 24) == 127) &&
	    !(t->addr.ss_family == AF_INET6 &&
	    IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr)))
		return 0;
	for (i = 0; i < 4 && !refused; i++) {
		(void)nanosleep(&pause, NULL);
		if ((fd = plat_socket(t->addr.ss_family, SOCK_STREAM, 0)) < 0)
			break;
		refused = connect(fd, (const struct sockaddr *)&t->addr,
		    t->addrlen) != 0 && errno == ECONNREFUSED;
		close(fd);
	}
	return refused;
}

/* The tunnel and server steps; fills fi.  Returns an exit status. */
static int
check_server(const struct route *t, int timeout, struct frame_info *fi)
{
	struct info_result res;
	char what[512], fix[512];

	info_fetch(t, timeout, fi, &res);
	info_describe(&res, t, what, sizeof(what));
	cli_info_hint(res.status, t, fix, sizeof(fix));
	/*
	 * A forward that took a connection, closed it without a word and now
	 * refuses: what `heroku ps:forward` does when the dyno refuses one
	 * connection (it exits).  The carrier's first try may have been that
	 * connection.
	 */
	if (t->kind == ROUTE_ERLFWD &&
	    ((res.status == INFO_REFUSED && forward_answered) ||
	    (res.status == INFO_CLOSED && refuses_now(t))))
		snprintf(fix, sizeof(fix), "the forward took a connection, "
		    "closed it without a word and is gone: `heroku ps:forward` "
		    "exits at the first connection the dyno refuses or resets, "
		    "so it has probably just exited; start erlfwd-server on "
		    "the dyno (the buildpack does on web and worker dynos), "
		    "then the forward again, or use scripts/heroku-remsh "
		    "(heroku ps:socks survives this)");
	switch (res.status) {
	case INFO_REFUSED:
	case INFO_UNREACHABLE:
		return broken(CLI_TUNNEL, "tunnel", what, fix);
	case INFO_LOCAL:
		return broken(CLI_LOCAL, "tunnel", what, fix);
	default:
		break;
	}
	step("ok", "tunnel", "%s accepts connections", t->text);
	if (res.status != INFO_OK)
		return broken(cli_info_exit(res.status),
		    t->kind == ROUTE_SOCKS5 ? "proxy" : "server", what, fix);
	if (t->kind == ROUTE_SOCKS5) {
		step("ok", "proxy", "a SOCKS5 proxy: no erlfwd-server needed, "
		    "epmd asked directly (%ld ms)", res.elapsed_ms);
		return CLI_OK;
	}
	step("ok", "server", "erlfwd-server %s on host %s (%ld ms)%s",
	    fi->version, fi->host, res.elapsed_ms,
	    strcmp(fi->version, ERLFWD_VERSION) != 0 ?
	    ", a different release from this erlfwd " ERLFWD_VERSION : "");
	return CLI_OK;
}

/*
 * The shell step: the node's OTP and Elixir against this machine's, and
 * which shell `erlfwd remsh` starts.  Informative: the path works either
 * way, so it never ends the walk.
 */
static void
check_shell(const struct route *t, int timeout, uint16_t port,
    const struct cookie *ck)
{
	struct probe_result res;
	struct versions there, here;
	char iex[PATH_MAX], a[160], b[160], why[512], self[64];

	/* A name of its own: the node may not have dropped the cookie step's
	 * connection yet, and would answer "alive" to the same name. */
	snprintf(self, sizeof(self), "erlfwd-doctor-v%ld@localhost",
	    (long)getpid());
	if (probe_versions(t, port, self, ck->value, timeout, &res,
	    &there) != 0) {
		step("skip", "shell", "the node did not say which OTP and "
		    "Elixir it runs (rpc through rex failed)");
		return;
	}
	versions_describe(&there, a, sizeof(a));
	if (there.elixir[0] == '\0') {
		step("ok", "shell", "the node runs OTP %s without Elixir: erlfwd "
		    "remsh starts the Erlang shell", there.otp);
		return;
	}
	if (launch_which(iex, sizeof(iex), "iex") != 0) {
		step("ok", "shell", "the node runs %s; no iex here: erlfwd "
		    "remsh starts the Erlang shell", a);
		return;
	}
	if (versions_local(iex, timeout, &here) != 0) {
		step("ok", "shell", "the node runs %s; %s --version did not "
		    "answer: erlfwd remsh starts the Erlang shell", a, iex);
		return;
	}
	versions_describe(&here, b, sizeof(b));
	if (versions_iex_ok(&here, &there, why, sizeof(why)))
		step("ok", "shell", "the node runs %s, as this machine: erlfwd "
		    "remsh starts IEx", a);
	else
		step("ok", "shell", "the node runs %s, this machine %s: erlfwd "
		    "remsh starts the Erlang shell (IEx needs the same Elixir "
		    "and OTP on both ends)", a, b);
}

/* The port and cookie steps for node idx.  Returns an exit status. */
static int
check_node(const struct route *t, int timeout, const struct frame_info *fi,
    size_t idx, const struct nodename *given, const struct cookie *ck)
{
	struct probe_result res;
	const struct frame_info_node *n = &fi->nodes[idx];
	char self[64], what[4608], want[DIST_NAME_MAX];

	snprintf(self, sizeof(self), "erlfwd-doctor-%ld@localhost",
	    (long)getpid());
	if (probe_node(t, n->port, self, NULL, timeout, &res) != 0) {
		switch (res.status) {
		case PROBE_REFUSED:
			snprintf(what, sizeof(what), "%s on port %u refused a "
			    "hidden node (status '%s')", n->name,
			    (unsigned)n->port, res.status_text);
			return broken(CLI_BROKEN, "port", what, "allow hidden "
			    "connections to the node (net_kernel:allow/1 "
			    "lists the nodes it accepts)");
		case PROBE_TIMEOUT:
			snprintf(what, sizeof(what), "%s on port %u did not "
			    "answer the handshake in %d ms", n->name,
			    (unsigned)n->port, timeout);
			break;
		case PROBE_TUNNEL:
			snprintf(what, sizeof(what), "the tunnel %s went away",
			    t->text);
			return broken(CLI_TUNNEL, "port", what, "restart the "
			    "forward and keep it running");
		default:
			snprintf(what, sizeof(what), "%s is registered on port "
			    "%u but that port does not answer through the "
			    "tunnel", n->name, (unsigned)n->port);
			break;
		}
		return broken(CLI_BROKEN, "port", what, "check the node on the "
		    "remote host (stuck or restarting?), and that "
		    "erlfwd-server runs beside it on the same host");
	}
	if (given != NULL && given->host[0] != '\0' &&
	    (nodename_join(want, sizeof(want), given->name, given->host) != 0 ||
	    strcmp(want, res.node) != 0)) {
		snprintf(what, sizeof(what), "the node on port %u is %s, not "
		    "%s@%s", (unsigned)n->port, res.node, given->name,
		    given->host);
		return broken(CLI_BROKEN, "port", what, "use the node's own "
		    "name, or just its part before '@'");
	}
	step("ok", "port", "%s answers on port %u through the tunnel (%ld ms)",
	    res.node, (unsigned)n->port, res.elapsed_ms);
	if (ck->source == COOKIE_NONE) {
		step("skip", "cookie", "no cookie found (--cookie-file, "
		    "$ERLFWD_COOKIE, $RELEASE_COOKIE, ~/.erlang.cookie)");
		return CLI_OK;
	}
	if (probe_node(t, n->port, self, ck->value, timeout, &res) != 0) {
		if (res.status == PROBE_COOKIE) {
			snprintf(what, sizeof(what), "%s rejected the cookie "
			    "from %s", res.node, ck->origin);
			return broken(CLI_BROKEN, "cookie", what, "use the "
			    "node's cookie, e.g. ERLFWD_COOKIE=$(heroku "
			    "config:get RELEASE_COOKIE -a APP)");
		}
		snprintf(what, sizeof(what), "the handshake with %s failed "
		    "before the cookie was checked", res.node);
		return broken(CLI_BROKEN, "cookie", what, "run erlfwd doctor "
		    "again; if it persists, check the node's logs");
	}
	step("ok", "cookie", "%s accepts the cookie from %s (%ld ms)", res.node,
	    ck->origin, res.elapsed_ms);
	check_shell(t, timeout, n->port, ck);
	return CLI_OK;
}

/*
 * The library-free mode's step: erlfwd's Erlang modules, ready for the erl
 * on $PATH.  Returns CLI_OK or the exit status of a broken step.
 */
static int
check_modules(int timeout_ms, const struct mode *m)
{
	struct erlmod mods;
	char erl[PATH_MAX], err[PATH_MAX + 256];

	if (launch_which(erl, sizeof(erl), "erl") != 0)
		return broken(CLI_LOCAL, "mode", "library-free, but erl is not "
		    "on $PATH", "install Erlang (Homebrew, asdf, apt)");
	if (erlmod_prepare(erl, timeout_ms, &mods, err, sizeof(err)) != 0)
		return broken(CLI_LOCAL, "mode", err, "install Erlang's "
		    "compiler (erlc) beside erl");
	step("ok", "mode", "library-free (%s): -epmd_module erlfwd_epmd "
	    "from %s", m->why, mods.ebin);
	return CLI_OK;
}

/*
 * The preload's step: the erl on $PATH loads the library (a musl or a
 * 32-bit erl would not: the loader says so and goes on without it).  The
 * node itself looks at its own memory map.  Returns CLI_OK or the exit
 * status of a broken step.
 */
static int
check_library(int timeout_ms, const struct mode *m)
{
	char erl[PATH_MAX], out[512], what[2 * PATH_MAX + 600];

	if (launch_which(erl, sizeof(erl), "erl") != 0) {
		step("skip", "library", "%s (%s); no erl on $PATH to load it",
		    m->lib, m->why);
		return CLI_OK;
	}
	if (mode_probe(erl, m->lib, timeout_ms, out, sizeof(out)) == 1) {
		step("ok", "library", "%s (%s; %s loads it)", m->lib, m->why,
		    erl);
		return CLI_OK;
	}
	snprintf(what, sizeof(what), "%s does not load %s%s%s", erl, m->lib,
	    out[0] != '\0' ? ": " : "", out);
	return broken(CLI_LOCAL, "library", what, "use --no-preload "
	    "(ERLFWD_PRELOAD=off): nothing in the node but flags");
}

/* The whole walk after the options.  Returns the exit status. */
static int
walk(const struct cli *c, const struct nodename *gp, const struct cookie *ck,
    struct frame_info *fi, int *partial, int no_preload)
{
	const struct route *t = &c->cfg.tunnel;
	struct mode m;
	char what[2048], list[1024];
	size_t idx = 0;
	int rc;

	if (mode_pick(&m, no_preload, what, sizeof(what)) != 0)
		return broken(CLI_LOCAL, "library", what, "install erlfwd with "
		    "`make install`, set ERLFWD_LIB, or use --no-preload");
	if (m.kind == MODE_PRELOAD) {
		if ((rc = check_library(c->cfg.timeout_ms, &m)) != CLI_OK)
			return rc;
	} else {
		if ((rc = check_modules(c->cfg.timeout_ms, &m)) != CLI_OK)
			return rc;
	}
	if ((rc = check_server(t, c->cfg.timeout_ms, fi)) != CLI_OK)
		return rc;
	if (!fi->epmd_up) {
		snprintf(what, sizeof(what), "no epmd on %s port %u", fi->host,
		    (unsigned)fi->epmd_port);
		return broken(CLI_BROKEN, "epmd", what, "start the node on the "
		    "remote host (erl starts epmd), or give erlfwd-server the "
		    "port epmd uses (-e, ERL_EPMD_PORT)");
	}
	step("ok", "epmd", "up on %s port %u, %zu node%s", fi->host,
	    (unsigned)fi->epmd_port, fi->nnodes, fi->nnodes == 1 ? "" : "s");
	target_list(list, sizeof(list), fi);
	switch (target_pick(fi, gp, &idx)) {
	case TARGET_OK:
		break;
	case TARGET_NONE:
		snprintf(what, sizeof(what), "no node is registered on %s",
		    fi->host);
		return broken(CLI_BROKEN, "node", what, "start the node with "
		    "--sname or --name (a release: RELEASE_DISTRIBUTION)");
	case TARGET_MANY:
		step("ok", "node", "%zu registered: %s", fi->nnodes, list);
		step("skip", "port", "name one NODE to check its port and "
		    "cookie");
		*partial = 1;
		return CLI_OK;
	default:
		snprintf(what, sizeof(what), "%s is not registered on %s; "
		    "registered: %s", gp->name, fi->host, list);
		return broken(CLI_BROKEN, "node", what, "start it, or name one "
		    "of those");
	}
	step("ok", "node", "%s is registered, port %u", fi->nodes[idx].name,
	    (unsigned)fi->nodes[idx].port);
	return check_node(t, c->cfg.timeout_ms, fi, idx, gp, ck);
}

int
cmd_doctor(int argc, char **argv)
{
	static const struct cli_cmd cmd = {
		.name = "doctor", .letters = "tvcPh", .max_operands = 1,
		.usage = cmd_doctor_usage,
	};
	struct cli_args a;
	struct cookie_env ce = { NULL, NULL, NULL, NULL };
	struct frame_info *fi = NULL;
	struct cookie *ck = NULL;
	struct cli c;
	struct nodename given;
	const char *node_arg = NULL;
	char err[512];
	int rc = CLI_USAGE, partial = 0;

	if ((rc = cli_getopt(&c, &cmd, argc, argv, &a)) != CLI_OK || a.help)
		return rc;
	ce.file = a.cookie_file;
	if (a.noperands > 0)
		node_arg = a.operands[0];
	/* Usage errors before anything that reads the environment. */
	if (node_arg != NULL && nodename_parse(&given, node_arg) != 0) {
		cli_msg("doctor: '%s' is not a node name (NAME or NAME@HOST)",
		    node_arg);
		return CLI_USAGE;
	}
	if ((fi = malloc(sizeof(*fi))) == NULL ||
	    (ck = calloc(1, sizeof(*ck))) == NULL) {
		cli_msg("out of memory");
		rc = CLI_LOCAL;
		goto out;
	}
	ce.erlfwd = getenv("ERLFWD_COOKIE");
	ce.release = getenv("RELEASE_COOKIE");
	ce.home = getenv("HOME");
	if (cookie_find(ck, &ce, err, sizeof(err)) != 0) {
		rc = broken(CLI_LOCAL, "cookie", err, "give a readable cookie "
		    "file, or set ERLFWD_COOKIE");
		goto out;
	}
	if ((rc = carrier_step(&c)) != CLI_OK)
		goto out;
	rc = walk(&c, node_arg != NULL ? &given : NULL, ck, fi, &partial,
	    a.no_preload);
	if (rc == CLI_OK)
		printf("the path works%s\n", partial ? " as far as it was "
		    "checked" : "");
out:
	if (ck != NULL)
		cookie_wipe(ck);
	free(ck);
	free(fi);
	return rc;
}
