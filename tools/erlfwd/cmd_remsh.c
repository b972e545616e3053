/*
 * cmd_remsh.c: `erlfwd remsh`, a remote shell on a node (cmd.h).
 *
 * The local node is hidden, named remsh-PID, does not listen for
 * connections and does not connect to the remote node's peers: it sees one
 * node and nobody sees it.  The cookie reaches erl through a private HOME
 * (home.h), never through its arguments.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cmd.h"
#include "cookie.h"
#include "erlmod.h"
#include "flags.h"
#include "mode.h"
#include "home.h"
#include "info.h"
#include "launch.h"
#include "nodename.h"
#include "probe.h"
#include "safe.h"
#include "target.h"
#include "versions.h"

#define ARGV_MAX	64
#define EBINS_MAX	12	/* Elixir's libraries: elixir, iex, logger, ... */

enum shell { SHELL_AUTO, SHELL_IEX, SHELL_ERL };

/* What `remsh` works out before it starts the shell. */
struct remsh {
	struct cli		cli;
	struct cookie		cookie;
	struct frame_info	fi;
	const char		*node_arg;	/* NODE, or NULL */
	struct nodename		given;		/* NODE parsed, when given */
	const char		*cookie_file;
	enum shell		shell;
	int			shell_auto;	/* neither --iex nor --erl */
	char			node[DIST_NAME_MAX];	/* the node's full name */
	uint16_t		port;		/* its distribution port */
	struct nodename		target;
	char			local[NODENAME_MAX];
	struct mode		mode;		/* .lib: the library, preloaded */
	char			prog[PATH_MAX];
	int			allow_stop;	/* --allow-stop: the plain remsh */
	char			erl[PATH_MAX];	/* the erl that runs the guard */
	struct erlmod		mods;
	char			ebins[EBINS_MAX][PATH_MAX];	/* IEx: Elixir's */
	size_t			nebins;
};

void
cmd_remsh_usage(FILE *f)
{
	fprintf(f,
"usage: erlfwd remsh [NODE] [--tunnel HOST:PORT] [--cookie-file FILE]\n"
"                    [--host PATTERN[=ROUTE]]... [--iex | --erl]\n"
"                    [--allow-stop] [--no-preload] [-- SHELL_ARGS...]\n"
"\n"
"Open a remote shell on NODE (NAME or NAME@HOST) on the remote host.  With\n"
"no NODE, the one node the remote host lists (with several, pick one).  A\n"
"bare NAME takes the host part the node itself uses.  The local node is\n"
"hidden, named remsh-PID, -sname or -name as NODE is, and does not connect\n"
"to the remote node's cluster.\n"
"\n"
"  -t, --tunnel ROUTE       the forwarded port HOST:PORT, or a SOCKS5 proxy\n"
"                           into the remote host, socks5://HOST:PORT\n"
"                           (ERLFWD_TUNNEL; default 127.0.0.1:9369)\n"
CLI_PASSWORD_HELP
"  -c, --cookie-file FILE   the cookie; else $ERLFWD_COOKIE, else\n"
"                           $RELEASE_COOKIE, else ~/.erlang.cookie\n"
"  -H, --host PATTERN[=ROUTE]\n"
"                           another remote host the shell's node may reach\n"
"                           (repeatable), on its own ROUTE (HOST:PORT or\n"
"                           socks5://...) or the tunnel\n"
"      --iex                the IEx shell, whatever the versions (the default\n"
"                           when iex is installed and the node runs the same\n"
"                           Elixir and OTP release)\n"
"      --erl                the Erlang shell, without asking the node\n"
"      --allow-stop         let q(), halt(), init:stop(), System.halt() and\n"
"                           System.stop() through: the plain erl -remsh or\n"
"                           iex --remsh, which stop the remote node on them\n"
"                           and on the end of input\n"
CLI_NO_PRELOAD_HELP
"  -h, --help               this help\n"
"\n"
"Leaving the shell never stops the remote node: expressions that would (q(),\n"
"halt(), init:stop(), erlang:halt(), System.halt(), System.stop(),\n"
":init.stop()) are answered with one line and not sent, and the end of input\n"
"(a closed terminal or stdin) ends only the local node.  Leave with ^G then\n"
"q, or Ctrl+C twice.  When the connection drops, the shell comes back on the\n"
"same node by itself once it answers again.  The guard runs in the local\n"
"node only; nothing is loaded on the remote one.\n"
"\n"
"The cookie never appears on a command line: erl reads it from a private\n"
"HOME, deleted when the shell exits.  SHELL_ARGS go to erl (with\n"
"--allow-stop, to iex or erl).\n"
"\n"
"The shell's exit status is erlfwd's once it started.\n"
CMD_EXIT_HELP);
}

/* Ask which node, on a terminal.  Returns 0 with *index, or -1. */
static int
ask(const struct frame_info *fi, size_t *index)
{
	char line[256];
	size_t i, len;
	char *end;
	long v;

	if (!isatty(STDIN_FILENO) || !isatty(STDERR_FILENO))
		return -1;
	safe_line(stderr, "erlfwd: %s has %zu nodes:", fi->host, fi->nnodes);
	for (i = 0; i < fi->nnodes; i++)
		safe_line(stderr, "  %zu) %s (port %u)", i + 1,
		    fi->nodes[i].name, (unsigned)fi->nodes[i].port);
	for (;;) {
		fprintf(stderr, "Which one? [1-%zu] ", fi->nnodes);
		if (fgets(line, sizeof(line), stdin) == NULL)
			return -1;
		len = strcspn(line, "\r\n");
		line[len] = '\0';
		v = strtol(line, &end, 10);
		if (len > 0 && *end == '\0' && v >= 1 && (size_t)v <= fi->nnodes) {
			*index = (size_t)v - 1;
			return 0;
		}
		for (i = 0; i < fi->nnodes; i++)
			if (strcmp(line, fi->nodes[i].name) == 0) {
				*index = i;
				return 0;
			}
	}
}

/*
 * Find the node: the server's list, the pick, and a handshake probe that
 * tells its full name.  Returns an exit status; CLI_OK when r->node is set.
 */
static int
find_node(struct remsh *r)
{
	const struct nodename *gp = r->node_arg != NULL ? &r->given : NULL;
	struct info_result ires;
	struct probe_result pres;
	const struct route *t = &r->cli.cfg.tunnel;
	char why[512], hint[512], list[1024], self[64], want[DIST_NAME_MAX];
	size_t idx = 0;

	if (info_fetch(t, r->cli.cfg.timeout_ms, &r->fi, &ires) != 0) {
		cli_msg("%s: %s", info_describe(&ires, t, why, sizeof(why)),
		    cli_info_hint(ires.status, t, hint, sizeof(hint)));
		return cli_info_exit(ires.status);
	}
	if (!r->fi.epmd_up) {
		cli_msg("no epmd on %s port %u: start the node there first",
		    r->fi.host, (unsigned)r->fi.epmd_port);
		return CLI_BROKEN;
	}
	switch (target_pick(&r->fi, gp, &idx)) {
	case TARGET_OK:
		break;
	case TARGET_NONE:
		cli_msg("no node is registered with epmd on %s", r->fi.host);
		return CLI_BROKEN;
	case TARGET_MANY:
		if (ask(&r->fi, &idx) == 0)
			break;
		cli_msg("%s has several nodes, name one: %s", r->fi.host,
		    target_list(list, sizeof(list), &r->fi));
		return CLI_USAGE;
	default:
		cli_msg("no node '%s' on %s; registered: %s", gp->name,
		    r->fi.host, target_list(list, sizeof(list), &r->fi));
		return CLI_BROKEN;
	}
	snprintf(self, sizeof(self), "erlfwd-%ld@localhost", (long)getpid());
	if (probe_node(t, r->fi.nodes[idx].port, self, NULL,
	    r->cli.cfg.timeout_ms, &pres) != 0) {
		cli_msg("node %s is registered on port %u but does not answer "
		    "through the tunnel (see erlfwd doctor %s)",
		    r->fi.nodes[idx].name, (unsigned)r->fi.nodes[idx].port,
		    r->fi.nodes[idx].name);
		return pres.status == PROBE_TUNNEL ? CLI_TUNNEL : CLI_BROKEN;
	}
	if (gp != NULL && gp->host[0] != '\0' &&
	    (nodename_join(want, sizeof(want), gp->name, gp->host) != 0 ||
	    strcmp(want, pres.node) != 0)) {
		cli_msg("the node on port %u is %s, not %s: use that name",
		    (unsigned)r->fi.nodes[idx].port, pres.node, r->node_arg);
		return CLI_USAGE;
	}
	if (nodename_parse(&r->target, pres.node) != 0 ||
	    r->target.host[0] == '\0') {
		cli_msg("the node is named '%s': its host part cannot be "
		    "routed", pres.node);
		return CLI_BROKEN;
	}
	memcpy(r->node, pres.node, sizeof(r->node));
	r->port = r->fi.nodes[idx].port;
	return CLI_OK;
}

/* Choose iex or erl.  Returns 0 with r->prog, or -1. */
static int
pick_shell(struct remsh *r)
{
	r->shell_auto = r->shell == SHELL_AUTO;
	if (r->shell != SHELL_ERL &&
	    launch_which(r->prog, sizeof(r->prog), "iex") == 0) {
		r->shell = SHELL_IEX;
		return 0;
	}
	if (r->shell == SHELL_IEX) {
		cli_msg("--iex: iex is not installed (not on $PATH)");
		return -1;
	}
	if (launch_which(r->prog, sizeof(r->prog), "erl") == 0) {
		r->shell = SHELL_ERL;
		return 0;
	}
	cli_msg("neither iex nor erl is on $PATH: install Erlang (and Elixir)");
	return -1;
}

/*
 * IEx only when it can work: an IEx remote shell needs the node's Elixir
 * and OTP to be this machine's (versions.h).  When iex was picked by
 * default, ask the node (two rpc calls, within the timeout) and this
 * machine's elixir; unless they match, start erl instead, with one line
 * that says why and how to get IEx.  Returns 0, or -1 when erl is missing.
 */
static int
check_iex(struct remsh *r)
{
	struct probe_result pres;
	struct versions there, here = { .otp = "" };
	char self[64], why[512];

	if (!r->shell_auto || r->shell != SHELL_IEX)
		return 0;
	/* Not find_node()'s name: the node may still hold that connection. */
	snprintf(self, sizeof(self), "erlfwd-v%ld@localhost", (long)getpid());
	if (probe_versions(&r->cli.cfg.tunnel, r->port, self,
	    r->cookie.value, r->cli.cfg.timeout_ms, &pres, &there) != 0)
		snprintf(why, sizeof(why), "%s did not say which Elixir it "
		    "runs", r->node);
	else if (there.elixir[0] != '\0' &&
	    versions_local(r->prog, r->cli.cfg.timeout_ms, &here) != 0)
		snprintf(why, sizeof(why), "%s runs Elixir %s but this "
		    "machine's elixir --version did not answer", r->node,
		    there.elixir);
	else if (versions_iex_ok(&here, &there, why, sizeof(why)))
		return 0;
	if (launch_which(r->prog, sizeof(r->prog), "erl") != 0) {
		cli_msg("IEx cannot work here (%s) and erl is not on $PATH",
		    why);
		return -1;
	}
	r->shell = SHELL_ERL;
	cli_msg("the Erlang shell, not IEx: %s. IEx needs the same Elixir and "
	    "OTP on both ends: install those here, or run the release's own "
	    "`bin/APP remote` on the host (--iex forces IEx, --erl skips this "
	    "check)", why);
	return 0;
}

/*
 * Elixir's library directories as its own elixir tells them, one a line:
 * for an iex that is a wrapper (asdf's shims, a chroot) with no lib beside
 * it.  Returns 0, or -1.
 */
static int
elixir_ebins_asked(struct remsh *r)
{
	char elixir[PATH_MAX], out[EBINS_MAX * 256], *line, *save = NULL;
	char *argv[] = { elixir, "-e", "IO.puts(Enum.join(Path.wildcard("
	    "Path.join(Path.dirname(:code.lib_dir(:elixir)), \"*/ebin\")), "
	    "\"\\n\"))", NULL };

	launch_beside(elixir, sizeof(elixir), r->prog, "elixir");
	if (launch_capture(argv, out, sizeof(out), r->cli.cfg.timeout_ms) != 0)
		return -1;
	for (line = strtok_r(out, "\n", &save);
	    line != NULL && r->nebins < EBINS_MAX;
	    line = strtok_r(NULL, "\n", &save))
		if (line[0] == '/' && strlen(line) < PATH_MAX)
			strcpy(r->ebins[r->nebins++], line);
	return r->nebins > 0 ? 0 : -1;
}

/*
 * Elixir's library directories (LIB/NAME/ebin beside the iex at r->prog, as
 * the elixir script adds them) into r->ebins.  Returns 0, or -1 when there
 * are none.
 */
static int
elixir_ebins(struct remsh *r)
{
	char real[PATH_MAX], lib[PATH_MAX], *slash;
	struct dirent *e;
	DIR *d;

	r->nebins = 0;
	if (realpath(r->prog, real) == NULL ||
	    (slash = strrchr(real, '/')) == NULL)
		return -1;
	*slash = '\0';
	if ((size_t)snprintf(lib, sizeof(lib), "%s/../lib", real) >=
	    sizeof(lib) || (d = opendir(lib)) == NULL)
		return elixir_ebins_asked(r);
	while ((e = readdir(d)) != NULL && r->nebins < EBINS_MAX) {
		char *p = r->ebins[r->nebins];

		if (e->d_name[0] == '.' ||
		    (size_t)snprintf(p, PATH_MAX, "%s/%s/ebin", lib,
		    e->d_name) >= PATH_MAX || access(p, R_OK | X_OK) != 0)
			continue;
		r->nebins++;
	}
	closedir(d);
	return r->nebins > 0 ? 0 : -1;
}

/*
 * What the guarded shell or the library-free mode needs: the erl that runs
 * it, erlfwd's modules compiled for that erl's OTP, and (the guard with
 * IEx) Elixir's libraries.  Returns 0, or -1 after one line that says what
 * is missing.
 */
static int
prepare_modules(struct remsh *r)
{
	char err[PATH_MAX + 256];

	if (r->allow_stop && r->mode.kind == MODE_PRELOAD)
		return 0;
	if (launch_which(r->erl, sizeof(r->erl), "erl") != 0) {
		cli_msg("erl is not on $PATH: install Erlang");
		return -1;
	}
	if (erlmod_prepare(r->erl, r->cli.cfg.timeout_ms, &r->mods, err,
	    sizeof(err)) != 0) {
		cli_msg("%s", err);
		return -1;
	}
	if (!r->allow_stop && r->shell == SHELL_IEX && elixir_ebins(r) != 0) {
		cli_msg("cannot find Elixir's libraries beside %s (its "
		    "../lib/*/ebin)", r->prog);
		return -1;
	}
	return 0;
}

/*
 * erl's flags for the local node, from av[n]: hidden, named as the remote
 * node is (-sname or -name), no listener, no epmd registration (OTP 25 and
 * later; older releases ignore -dist_listen), and no connection to the
 * remote node's cluster.  Returns the new n (9 more).
 */
static int
erl_local_node(struct remsh *r, char **av, int n)
{
	av[n++] = nodename_is_long(r->target.host) ? "-name" : "-sname";
	av[n++] = r->local;
	av[n++] = "-hidden";
	av[n++] = "-dist_listen";
	av[n++] = "false";
	av[n++] = "-kernel";
	av[n++] = "connect_all";
	av[n++] = "false";
	return n;
}

/*
 * The guarded shell's argv: erl with the guard as its shell (OTP 25: as its
 * user, the way IEx starts; later: through shell:start_interactive/1).
 */
static int
build_guarded(struct remsh *r, char **av, char **extra, int nextra)
{
	int n = 0, i;
	size_t k;

	if ((size_t)nextra + 2 * r->nebins > ARGV_MAX - 24)
		return -1;
	av[n++] = r->erl;
	n = erl_local_node(r, av, n);
	av[n++] = "-noshell";
	if (r->mods.otp < 26) {
		av[n++] = "-user";
		av[n++] = ERLMOD_REMSH;
	} else {
		av[n++] = "-s";
		av[n++] = ERLMOD_REMSH;
		av[n++] = "main";
	}
	av[n++] = "-pa";
	av[n++] = r->mods.ebin;
	for (k = 0; k < r->nebins; k++) {
		av[n++] = "-pa";
		av[n++] = r->ebins[k];
	}
	av[n++] = "-" ERLMOD_REMSH;
	av[n++] = r->node;
	av[n++] = r->shell == SHELL_IEX ? "iex" : "erl";
	av[n++] = isatty(STDIN_FILENO) ? "tty" : "notty";
	for (i = 0; i < nextra; i++)
		av[n++] = extra[i];
	av[n] = NULL;
	return 0;
}

/* The shell's argv into av (ARGV_MAX entries); extra are SHELL_ARGS. */
static int
build_argv(struct remsh *r, char **av, char **extra, int nextra)
{
	int n = 0, longnames = nodename_is_long(r->target.host), i;

	if (!r->allow_stop)
		return build_guarded(r, av, extra, nextra);
	if (nextra > ARGV_MAX - 16)
		return -1;
	if (r->shell == SHELL_IEX) {
		av[n++] = "iex";
		av[n++] = longnames ? "--name" : "--sname";
		av[n++] = r->local;
		av[n++] = "--hidden";
		av[n++] = "--erl";
		av[n++] = "-dist_listen false -kernel connect_all false";
		av[n++] = "--remsh";
		av[n++] = r->node;
	} else {
		av[n++] = "erl";
		n = erl_local_node(r, av, n);
		av[n++] = "-remsh";
		av[n++] = r->node;
	}
	for (i = 0; i < nextra; i++)
		av[n++] = extra[i];
	av[n] = NULL;
	return 0;
}

/* Start the shell and wait for it; returns the exit status. */
static int
start(struct remsh *r, char **extra, int nextra)
{
	struct home h = { .dir = "" };
	char *av[ARGV_MAX], hosts[CLI_HOSTS_MAX + CONFIG_PATTERN_MAX + 1];
	char err[PATH_MAX + 512];
	int ws, rc = CLI_LOCAL;

	if (nodename_local(r->local, sizeof(r->local), "remsh", (long)getpid(),
	    nodename_is_long(r->target.host)) != 0 ||
	    build_argv(r, av, extra, nextra) != 0) {
		cli_msg("remsh: too many arguments");
		return CLI_USAGE;
	}
	if (r->allow_stop)
		av[0] = r->prog;
	if (r->cookie.source != COOKIE_HOME) {
		if (home_create(&h, getenv("TMPDIR"), r->cookie.value,
		    getenv("HOME")) != 0) {
			cli_msg("cannot make a private HOME for the cookie: %s",
			    strerror(errno));
			goto out;
		}
		if (setenv("HOME", h.dir, 1) != 0)
			goto out_env;
	}
	cookie_wipe(&r->cookie);
	/* The node's host first, on the tunnel; then the other remote hosts
	 * of --host, each on its route. */
	if ((size_t)snprintf(hosts, sizeof(hosts), "%s%s%s", r->target.host,
	    r->cli.hosts_given ? "," : "", r->cli.hosts) >= sizeof(hosts)) {
		cli_msg("remsh: too many hosts");
		rc = CLI_USAGE;
		goto out;
	}
	/* The child has what it needs; a secret it does not need stays here. */
	if (unsetenv("ERLFWD_COOKIE") != 0)
		goto out_env;
	if (r->mode.kind == MODE_FLAGS) {
		if ((rc = flags_env(&r->cli, hosts, r->mods.ebin, err,
		    sizeof(err))) != CLI_OK) {
			cli_msg("%s", err);
			goto out;
		}
		rc = CLI_LOCAL;
	} else if (launch_env(r->mode.lib, hosts, r->cli.tunnel_arg) != 0)
		goto out_env;
	cli_msg("remote shell on %s through %s (%s%s%s, cookie from %s)",
	    r->node, r->cli.cfg.tunnel.text,
	    r->shell == SHELL_IEX ? "iex" : "erl",
	    r->allow_stop ? ", --allow-stop" : "",
	    r->mode.kind == MODE_FLAGS ? ", library-free" : "",
	    r->cookie.origin);
	/* The cookie file goes once erl has read it: from then on a SIGKILL
	 * of erlfwd leaves no secret on disk. */
	if (launch_run_once(av, &ws, h.dir[0] != '\0' ? h.cookie : NULL) != 0) {
		cli_msg("cannot run %s: %s", r->prog, strerror(errno));
		goto out;
	}
	rc = launch_exit_code(ws);
	goto out;
out_env:
	cli_msg("cannot set the environment: %s", strerror(errno));
out:
	if (home_remove(&h) != 0)
		cli_msg("could not remove the private HOME %s: %s", h.dir,
		    strerror(errno));
	return rc;
}

int
cmd_remsh(int argc, char **argv)
{
	static const struct cli_cmd cmd = {
		.name = "remsh", .letters = "tvcHIESPh", .max_operands = 1,
		.after_dashdash = 1, .usage = cmd_remsh_usage,
	};
	struct cli_args a;
	struct cookie_env ce;
	struct remsh *r;
	char err[512];
	int rc;

	if ((r = calloc(1, sizeof(*r))) == NULL) {
		cli_msg("out of memory");
		return CLI_LOCAL;
	}
	/* Options and NODE come before "--", SHELL_ARGS after it. */
	if ((rc = cli_getopt(&r->cli, &cmd, argc, argv, &a)) != CLI_OK ||
	    a.help)
		goto out;
	r->cookie_file = a.cookie_file;
	r->shell = a.iex ? SHELL_IEX : a.erl ? SHELL_ERL : SHELL_AUTO;
	r->allow_stop = a.allow_stop;
	if (a.noperands > 0)
		r->node_arg = a.operands[0];
	/* Usage errors first: nothing of the environment (a cookie, a
	 * library, the tunnel) decides whether the command line is right. */
	if (r->node_arg != NULL &&
	    nodename_parse(&r->given, r->node_arg) != 0) {
		snprintf(err, sizeof(err), "remsh: '%s' is not a node name "
		    "(NAME or NAME@HOST)", r->node_arg);
		goto usage_err;
	}
	/* What an erlfwd remsh killed earlier left behind. */
	(void)home_sweep(getenv("TMPDIR"));
	ce.file = r->cookie_file;
	ce.erlfwd = getenv("ERLFWD_COOKIE");
	ce.release = getenv("RELEASE_COOKIE");
	ce.home = getenv("HOME");
	if (cookie_find(&r->cookie, &ce, err, sizeof(err)) != 0) {
		rc = CLI_LOCAL;
		goto fail;
	}
	if (r->cookie.source == COOKIE_NONE) {
		snprintf(err, sizeof(err), "no cookie: pass --cookie-file FILE "
		    "or set ERLFWD_COOKIE (e.g. from `heroku config:get "
		    "RELEASE_COOKIE -a APP`)");
		rc = CLI_LOCAL;
		goto fail;
	}
	rc = CLI_LOCAL;
	if (pick_shell(r) != 0)
		goto out;
	if (mode_pick(&r->mode, a.no_preload, err, sizeof(err)) != 0)
		goto fail;
	if ((rc = cli_carrier(&r->cli)) != CLI_OK ||
	    (rc = find_node(r)) != CLI_OK)
		goto out;
	if (check_iex(r) != 0 || prepare_modules(r) != 0) {
		rc = CLI_LOCAL;
		goto out;
	}
	rc = start(r, a.passed, a.npassed);
	goto out;
usage_err:
	rc = CLI_USAGE;
fail:
	cli_msg("%s", err);
out:
	cookie_wipe(&r->cookie);
	free(r);
	return rc;
}
