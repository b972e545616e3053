/*
 * cmd_agent.c: `erlfwd agent`, the carrier's agent alone in the foreground
 * (cmd.h), for a preloaded program started by hand.
 */
#include <stdlib.h>

#include "agent.h"
#include "cli.h"
#include "cmd.h"

void
cmd_agent_usage(FILE *f)
{
	fprintf(f,
"usage: erlfwd agent [--tunnel ROUTE | --via COMMAND]\n"
"\n"
"Open one carrier to erlfwd-server and keep it up, in the foreground, until\n"
"^C.  Once it is up, print the line to use for a preloaded program started\n"
"by hand:\n"
"\n"
"  ERLFWD_TUNNEL=127.0.0.1:PORT\n"
"\n"
"e.g. `LD_PRELOAD=.../liberlfwd.so ERLFWD_TUNNEL=127.0.0.1:PORT\n"
"ERLFWD_HOSTS=web.1 iex --sname me --remsh app@web.1`.  Every connection to\n"
"that port becomes a stream of the carrier.\n"
"\n"
CLI_ROUTE_HELP
"  -h, --help               this help\n"
"\n"
"It pings erlfwd-server every 15 s (ERLFWD_PING_MS; every 2 s while streams\n"
"are open), gives up on a carrier after 3 unanswered pings, and reconnects\n"
"with backoff (1, 2, 4 ... 30 s), printing one line per loss and per\n"
"recovery.\n"
"\n" CMD_EXIT_HELP);
}

int
cmd_agent(int argc, char **argv)
{
	static const struct cli_cmd cmd = {
		.name = "agent", .letters = "tvh", .max_operands = 0,
		.usage = cmd_agent_usage,
	};
	struct cli_args a;
	struct agent_opts o;
	struct cli c;
	char err[512];
	int rc;

	if ((rc = cli_getopt(&c, &cmd, argc, argv, &a)) != CLI_OK || a.help)
		return rc;
	cli_agent_opts(&c, &o);
	if (o.via == NULL && o.route->kind == ROUTE_SOCKS5 &&
	    o.route->server_port == 0) {
		snprintf(err, sizeof(err), "agent: a SOCKS5 route needs "
		    "?server=PORT (erlfwd-server's port on the remote host)");
		goto usage_err;
	}
	return agent_run(&o);
usage_err:
	cli_msg("%s", err);
	return CLI_USAGE;
}
