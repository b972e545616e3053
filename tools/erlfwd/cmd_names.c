/*
 * cmd_names.c: `erlfwd names`, the remote host's epmd -names (cmd.h).
 */
#include <stdlib.h>

#include "cli.h"
#include "cmd.h"
#include "info.h"
#include "safe.h"

void
cmd_names_usage(FILE *f)
{
	fprintf(f,
"usage: erlfwd names [--tunnel ROUTE | --via COMMAND] [-q] [--no-preload]\n"
"\n"
"List the nodes registered with the remote host's epmd and their ports, as\n"
"`epmd -names` there would, after the remote host's name and the version\n"
"of its erlfwd-server.\n"
"\n"
CLI_ROUTE_HELP
"  -q, --quiet              print only the node names, one a line\n"
"      --no-preload         accepted, as run, remsh and doctor take it: names\n"
"                           starts no node, so it works the same in both modes\n"
"  -h, --help               this help\n"
"\n"
"The request is bounded by ERLFWD_TIMEOUT_MS (default 5000).\n"
CMD_EXIT_HELP);
}

int
cmd_names(int argc, char **argv)
{
	static const struct cli_cmd cmd = {
		.name = "names", .letters = "tvqPh", .max_operands = 0,
		.usage = cmd_names_usage,
	};
	struct cli_args a;
	struct frame_info *fi;
	struct info_result res;
	struct cli c;
	char err[512], hint[512];
	size_t i;
	int quiet, rc;

	if ((rc = cli_getopt(&c, &cmd, argc, argv, &a)) != CLI_OK || a.help)
		return rc;
	quiet = a.quiet;
	if ((rc = cli_carrier(&c)) != CLI_OK)
		return rc;
	if ((fi = malloc(sizeof(*fi))) == NULL) {
		cli_msg("out of memory");
		return CLI_LOCAL;
	}
	if (info_fetch(&c.cfg.tunnel, c.cfg.timeout_ms, fi, &res) != 0) {
		cli_msg("%s: %s", info_describe(&res, &c.cfg.tunnel, err,
		    sizeof(err)), cli_info_hint(res.status, &c.cfg.tunnel,
		    hint, sizeof(hint)));
		rc = cli_info_exit(res.status);
		goto out;
	}
	if (!quiet) {
		if (c.cfg.tunnel.kind == ROUTE_SOCKS5)
			printf("%s (SOCKS5: no erlfwd-server there)\n",
			    fi->host);
		else
			safe_line(stdout, "host %s, erlfwd-server %s, "
			    "through %s", fi->host, fi->version,
			    c.cfg.tunnel.text);
		if (fi->epmd_up)
			printf("epmd: up and running on port %u with data:\n",
			    (unsigned)fi->epmd_port);
	}
	if (!fi->epmd_up) {
		fflush(stdout);
		cli_msg("no epmd on %s port %u: no node runs there yet (erl "
		    "starts epmd with the first node)", fi->host,
		    (unsigned)fi->epmd_port);
		rc = CLI_BROKEN;
		goto out;
	}
	for (i = 0; i < fi->nnodes; i++) {
		/* The names are the remote epmd's: escaped, so that none can
		 * drive the terminal or forge a line. */
		if (quiet)
			safe_line(stdout, "%s", fi->nodes[i].name);
		else
			safe_line(stdout, "name %s at port %u",
			    fi->nodes[i].name, (unsigned)fi->nodes[i].port);
	}
	if (!quiet && fi->skipped > 0)
		safe_line(stdout, "(%u more name%s registered with epmd there "
		    "%s no node name: not shown)", (unsigned)fi->skipped,
		    fi->skipped == 1 ? "" : "s", fi->skipped == 1 ? "is" : "are");
	rc = fflush(stdout) == 0 ? CLI_OK : CLI_LOCAL;
out:
	free(fi);
	return rc;
}
