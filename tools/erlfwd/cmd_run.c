/*
 * cmd_run.c: `erlfwd run`, a command under the preload (cmd.h).
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cmd.h"
#include "erlmod.h"
#include "flags.h"
#include "info.h"
#include "launch.h"
#include "mode.h"
#include "nodename.h"

void
cmd_run_usage(FILE *f)
{
	fprintf(f,
"usage: erlfwd run [--tunnel HOST:PORT] [--host PATTERN[=ROUTE]]...\n"
"                  [--no-preload] [--] COMMAND [ARGS...]\n"
"\n"
"Run COMMAND so that its Erlang nodes reach the remote host's nodes\n"
"through the tunnel: with liberlfwd.so preloaded (added to LD_PRELOAD,\n"
"never replacing it) and the configuration in its environment, the way\n"
"`proxychains4 COMMAND` does; or, library-free, with flags in ERL_AFLAGS\n"
"(-epmd_module erlfwd_epmd ...) that every erl, iex, elixir and release\n"
"script reads.\n"
"\n"
"  -t, --tunnel ROUTE        the forwarded port HOST:PORT, or a SOCKS5 proxy\n"
"                            socks5://HOST:PORT (ERLFWD_TUNNEL; default\n"
"                            127.0.0.1:9369)\n"
CLI_PASSWORD_HELP
"  -H, --host PATTERN[=ROUTE]\n"
"                            a host name or glob that is remote (repeatable;\n"
"                            replaces ERLFWD_HOSTS).  Without --host and\n"
"                            ERLFWD_HOSTS, the remote host's own name, as\n"
"                            erlfwd-server reports it\n"
CLI_NO_PRELOAD_HELP
"  -h, --help                this help\n"
"\n"
"Examples:\n"
"  erlfwd run -- iex --sname me --cookie \"$C\" --remsh app@web-1\n"
"  erlfwd run --host 127.0.0.1 -- _build/prod/rel/app/bin/app remote\n"
"\n"
"The library is found beside this program, in ../lib/erlfwd from it, or in\n"
"$ERLFWD_LIB.  COMMAND's exit status is erlfwd's; 126 when it cannot be\n"
"executed, 127 when it is not found.\n"
CMD_EXIT_HELP);
}

/*
 * Ask the server for its host name: the pattern when none was given.  The
 * name comes from whatever answers the forwarded port, so only a plain
 * remote host name is taken (nodename_remote_host): "*", "localhost", an
 * address or this machine's name would send the command's other traffic
 * into the tunnel.
 */
static int
remote_host(struct cli *c, char *err, size_t errlen, int *status)
{
	struct frame_info *fi;
	struct info_result res;
	char why[256], self[256] = "";
	int rc = -1;

	if ((fi = malloc(sizeof(*fi))) == NULL) {
		snprintf(err, errlen, "out of memory");
		*status = CLI_LOCAL;
		return -1;
	}
	if (info_fetch(&c->cfg.tunnel, c->cfg.timeout_ms, fi, &res) != 0) {
		snprintf(err, errlen, "pass --host PATTERN or set ERLFWD_HOSTS: "
		    "the remote host's name is unknown (%s)",
		    info_describe(&res, &c->cfg.tunnel, why, sizeof(why)));
		*status = cli_info_exit(res.status);
		goto out;
	}
	if (gethostname(self, sizeof(self) - 1) != 0)
		self[0] = '\0';
	if (nodename_remote_host(fi->host, self) != 0) {
		snprintf(err, errlen, "pass --host PATTERN: the server behind "
		    "%.100s names the remote host '%.100s', not a plain host "
		    "name (a glob, an address, localhost or this machine)",
		    c->cfg.tunnel.text, fi->host);
		*status = CLI_SERVER;
		goto out;
	}
	if (cli_host(c, fi->host, err, errlen) != 0) {
		*status = CLI_SERVER;
		goto out;
	}
	rc = 0;
out:
	free(fi);
	return rc;
}

/*
 * The library-free mode's environment: erlfwd's Erlang modules compiled
 * for the erl on $PATH (what COMMAND's scripts run, as a rule), and
 * ERL_AFLAGS (flags.h).
 */
static int
library_free(struct cli *c, const char *hosts, char *err, size_t errlen)
{
	struct erlmod mods;
	char erl[PATH_MAX];

	if (launch_which(erl, sizeof(erl), "erl") != 0) {
		snprintf(err, errlen, "erl is not on $PATH: the library-free "
		    "mode compiles its module with it (install Erlang)");
		return CLI_LOCAL;
	}
	if (erlmod_prepare(erl, c->cfg.timeout_ms, &mods, err, errlen) != 0)
		return CLI_LOCAL;
	return flags_env(c, hosts, mods.ebin, err, errlen);
}

int
cmd_run(int argc, char **argv)
{
	static const struct cli_cmd cmd = {
		.name = "run", .letters = "tvHPh", .min_operands = 1,
		.max_operands = -1, .operand = "COMMAND",
		/* COMMAND's own options are COMMAND's. */
		.stop_at_operand = 1, .usage = cmd_run_usage,
	};
	struct cli_args a;
	struct cli c;
	struct mode m;
	char err[PATH_MAX + 512];
	const char *hosts = NULL, *env;
	int status, err_no;

	if ((status = cli_getopt(&c, &cmd, argc, argv, &a)) != CLI_OK ||
	    a.help)
		return status;
	if (mode_pick(&m, a.no_preload, err, sizeof(err)) != 0) {
		cli_msg("%s", err);
		return CLI_LOCAL;
	}
	if ((status = cli_carrier(&c)) != CLI_OK)
		return status;
	if (c.hosts_given)
		hosts = c.hosts;
	else if ((env = getenv("ERLFWD_HOSTS")) == NULL || *env == '\0') {
		if (c.cfg.tunnel.kind != ROUTE_ERLFWD) {
			cli_msg("run: pass --host PATTERN or set ERLFWD_HOSTS "
			    "(the SOCKS5 tunnel %s cannot name the remote host)",
			    c.cfg.tunnel.text);
			return CLI_USAGE;
		}
		if (remote_host(&c, err, sizeof(err), &status) != 0)
			goto fail;
		hosts = c.hosts;
	}
	if (m.kind == MODE_FLAGS) {
		if ((status = library_free(&c, hosts, err, sizeof(err))) !=
		    CLI_OK)
			goto fail;
	} else if (launch_env(m.lib, hosts, c.tunnel_arg) != 0) {
		cli_msg("cannot set the environment: %s%s", strerror(errno),
		    errno == EINVAL ? " (the library's path has ':' or a "
		    "blank)" : "");
		return CLI_LOCAL;
	}
	execvp(a.operands[0], a.operands);
	err_no = errno;
	cli_msg("cannot run '%s': %s", a.operands[0], strerror(err_no));
	return err_no == ENOENT ? CLI_NOTFOUND : CLI_NOEXEC;
fail:
	cli_msg("%s", err);
	return status;
}
