/*
 * cmd: the erlfwd command's subcommands.  Each takes its own argv (argv[0]
 * is the subcommand's name), reports its errors on stderr and returns the
 * exit status (cli.h).
 */
#ifndef ERLFWD_CMD_H
#define ERLFWD_CMD_H

#include <stdio.h>

int	cmd_run(int argc, char **argv);
int	cmd_names(int argc, char **argv);
int	cmd_remsh(int argc, char **argv);
int	cmd_doctor(int argc, char **argv);
int	cmd_agent(int argc, char **argv);

/* The subcommands' --help texts. */
void	cmd_run_usage(FILE *f);
void	cmd_names_usage(FILE *f);
void	cmd_remsh_usage(FILE *f);
void	cmd_doctor_usage(FILE *f);
void	cmd_agent_usage(FILE *f);

/* The exit statuses, as every --help lists them. */
#define CMD_EXIT_HELP \
"Exit status: 0 ok; 1 the remote side is broken (epmd, node, port, cookie);\n" \
"2 usage; 3 nothing reachable listens on the tunnel; 4 the tunnel leads to\n" \
"no compatible erlfwd-server; 5 a local problem (library, erl/iex, cookie).\n"

#endif /* ERLFWD_CMD_H */
