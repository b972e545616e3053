/*
 * erlfwd: the command users type.  main() and the dispatch to the
 * subcommands (cmd_*.c); the shared parts are in cli.c.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cmd.h"

struct subcommand {
	const char	*name;
	int		(*run)(int, char **);
	void		(*usage)(FILE *);
	const char	*summary;
};

static const struct subcommand subcommands[] = {
	{ "run", cmd_run, cmd_run_usage,
	    "run a command with the library preloaded" },
	{ "names", cmd_names, cmd_names_usage,
	    "list the remote host's nodes, like epmd -names there" },
	{ "remsh", cmd_remsh, cmd_remsh_usage,
	    "open a remote shell on a node" },
	{ "doctor", cmd_doctor, cmd_doctor_usage,
	    "check the path to a node step by step" },
	{ "agent", cmd_agent, cmd_agent_usage,
	    "keep one carrier up, for programs started by hand" },
	{ NULL, NULL, NULL, NULL },
};

static void
usage(FILE *f)
{
	const struct subcommand *s;

	fprintf(f,
"usage: erlfwd COMMAND [OPTIONS] [ARGS]\n"
"       erlfwd --help | --version\n"
"\n"
"Reach Erlang and Elixir nodes on a remote host (a Heroku dyno, a pod, a\n"
"server) through one forwarded port and erlfwd-server on that host.\n"
"\n"
"Commands:\n");
	for (s = subcommands; s->name != NULL; s++)
		fprintf(f, "  %-8s %s\n", s->name, s->summary);
	fprintf(f,
"\n"
"`erlfwd COMMAND --help` explains each.  The tunnel is --tunnel HOST:PORT,\n"
"else $ERLFWD_TUNNEL, else 127.0.0.1:9369.  See erlfwd(1).\n"
"\n" CMD_EXIT_HELP);
}

static const struct subcommand *
lookup(const char *name)
{
	const struct subcommand *s;

	for (s = subcommands; s->name != NULL; s++)
		if (strcmp(s->name, name) == 0)
			return s;
	return NULL;
}

int
main(int argc, char **argv)
{
	const struct subcommand *s;
	const char *a = argc > 1 ? argv[1] : NULL;

	if (a == NULL) {
		cli_msg("no command (see erlfwd --help)");
		return CLI_USAGE;
	}
	if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
		usage(stdout);
		return CLI_OK;
	}
	if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
		printf("erlfwd %s\n", ERLFWD_VERSION);
		return CLI_OK;
	}
	if (strcmp(a, "help") == 0) {
		if (argc < 3) {
			usage(stdout);
			return CLI_OK;
		}
		if ((s = lookup(argv[2])) == NULL) {
			cli_msg("no command '%s' (see erlfwd --help)", argv[2]);
			return CLI_USAGE;
		}
		s->usage(stdout);
		return CLI_OK;
	}
	if ((s = lookup(a)) == NULL) {
		cli_msg("no command '%s' (see erlfwd --help)", a);
		return CLI_USAGE;
	}
	return s->run(argc - 1, argv + 1);
}
