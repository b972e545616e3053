/*
 * cli: what the erlfwd command's subcommands share: exit statuses, the
 * tunnel and host options over the ERLFWD_* environment, and one-line
 * messages on stderr.
 */
#ifndef ERLFWD_CLI_H
#define ERLFWD_CLI_H

#include <stdio.h>

#include "config.h"
#include "info.h"
#include "mux.h"

/* Exit statuses, the same for every subcommand (erlfwd(1), EXIT STATUS). */
enum cli_exit {
	CLI_OK = 0,
	CLI_BROKEN = 1,		/* the remote side: epmd, node, port, cookie */
	CLI_USAGE = 2,		/* bad options or configuration */
	CLI_TUNNEL = 3,		/* nothing (reachable) listens on the tunnel */
	CLI_SERVER = 4,		/* the tunnel leads to no compatible
				 * erlfwd-server */
	CLI_LOCAL = 5,		/* this machine: library, erl/iex, cookie,
				 * temporary files */
	CLI_NOEXEC = 126,	/* run: the command cannot be executed */
	CLI_NOTFOUND = 127,	/* run: the command was not found */
};

#define CLI_HOSTS_MAX	4096

/* The configuration a subcommand works with. */
struct cli {
	struct config	cfg;		/* from the environment, then options */
	char		hosts[CLI_HOSTS_MAX];	/* --host values, joined */
	int		hosts_given;
	const char	*tunnel_arg;	/* --tunnel as given (a socks5 route's
					 * password is not in cfg.tunnel.text) */
	const char	*via;		/* --via COMMAND */
	char		 socks_pass[256];	/* for socks5://USER@ routes */
	char		 agent_tunnel[32];	/* the agent's 127.0.0.1:PORT */
	uint16_t	 agent_port;	/* its PORT; 0: no agent started */
	int		 v1_answered;	/* the carrier's try through a forward
					 * was taken, then got no carrier */
	enum mux_end_cause carrier_cause;	/* why the first carrier
						 * failed (cli_carrier_start) */
};

/* cli_msg: "erlfwd: " and a formatted line on stderr. */
void	cli_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * cli_init: read ERLFWD_HOSTS, ERLFWD_TUNNEL, ERLFWD_TIMEOUT_MS and the rest
 * of the environment into c.  Returns 0, or -1 with a message in err.
 */
int	cli_init(struct cli *c, char *err, size_t errlen);

/* cli_tunnel: --tunnel HOST:PORT.  Returns 0 or -1 with a message in err. */
int	cli_tunnel(struct cli *c, const char *text, char *err, size_t errlen);

/*
 * cli_host: --host PATTERN[=ROUTE], validated; the --host values together
 * replace ERLFWD_HOSTS.  Returns 0 or -1 with a message in err.
 */
int	cli_host(struct cli *c, const char *text, char *err, size_t errlen);

/*
 * One subcommand's command line, as tmux's command table has it: the
 * letters of the options it takes (from the one table every subcommand
 * shares, below) and how many operands.
 *
 *   -t --tunnel ROUTE  -v --via COMMAND  -H --host PATTERN[=ROUTE]
 *   -c --cookie-file FILE  -q --quiet  -I --iex  -E --erl
 *   -S --allow-stop  -P --no-preload  -h --help
 *
 * Only -t, -c, -H, -q and -h have a one-letter form on the command line; the
 * others are long options only.
 */
struct cli_cmd {
	const char	*name;		/* "remsh" */
	const char	*letters;	/* the options it takes: "tvHcIESh" */
	int		 min_operands;
	int		 max_operands;	/* -1: no limit */
	const char	*operand;	/* for "no COMMAND": "COMMAND" */
	int		 stop_at_operand;	/* run: COMMAND's options are
						 * COMMAND's own */
	int		 after_dashdash;	/* remsh: what follows "--" is
						 * passed on (SHELL_ARGS) */
	void		(*usage)(FILE *f);
};

/* What cli_getopt() parsed beyond what goes into struct cli. */
struct cli_args {
	char		**operands;	/* into argv */
	int		 noperands;
	char		**passed;	/* after "--" (after_dashdash) */
	int		 npassed;
	const char	*cookie_file;	/* -c */
	int		 quiet;		/* -q */
	int		 iex, erl;	/* --iex, --erl: at most one */
	int		 allow_stop;	/* --allow-stop */
	int		 no_preload;	/* --no-preload */
	int		 help;		/* --help: usage printed, nothing to do */
};

/*
 * cli_getopt: cli_init(c), then argv for cmd: --tunnel, --via and --host
 * into c, the rest into a; --help prints cmd's usage on stdout and sets
 * a->help.  Usage errors come before anything that reads more than the
 * environment.  Returns CLI_OK, or CLI_USAGE after one line on stderr.
 */
int	cli_getopt(struct cli *c, const struct cli_cmd *cmd, int argc,
	    char **argv, struct cli_args *a);

/* cli_via: --via COMMAND.  Returns 0 or -1 with a message in err. */
int	cli_via(struct cli *c, const char *text, char *err, size_t errlen);

/*
 * cli_route_option: the options every subcommand takes for its route, as
 * getopt_long returned them: 't' (-t, --tunnel) or 'v' (--via) with arg.
 * Returns 0, or -1 with a message in err.
 */
int	cli_route_option(struct cli *c, int ch, const char *arg, char *err,
	    size_t errlen);

/*
 * cli_carrier: start the agent (agent.h) when the session goes over a
 * carrier: always with --via or a socks5 route with server=, and with a
 * HOST:PORT tunnel whose erlfwd-server speaks version 2 (unless
 * ERLFWD_CARRIER=off).  Then cfg.tunnel and tunnel_arg lead to the agent,
 * so everything after it works as with a plain tunnel.  Returns CLI_OK, or
 * an exit status after a one-line message.
 */
int	cli_carrier(struct cli *c);

struct agent_opts;

/* cli_agent_opts: the agent's options from c's route, --via and environment. */
void	cli_agent_opts(const struct cli *c, struct agent_opts *o);

/*
 * cli_carrier_start: cli_carrier() with its message in err instead of on
 * stderr ("" when it started none: *started is 0).  Returns CLI_OK or an
 * exit status.
 */
int	cli_carrier_start(struct cli *c, int *started, char *err,
	    size_t errlen);

/* Next to every --tunnel: where a SOCKS5 password may come from instead. */
#define CLI_PASSWORD_HELP \
"                           socks5://USER@HOST:PORT takes the password\n" \
"                           from $ERLFWD_SOCKS_PASSWORD, or from the file\n" \
"                           $ERLFWD_SOCKS_PASSWORD_FILE names: never on a\n" \
"                           command line, where ps shows it\n"

/* The --tunnel/--via lines of every subcommand's --help. */
#define CLI_ROUTE_HELP \
"  -t, --tunnel ROUTE       the forwarded port HOST:PORT, or a SOCKS5 proxy\n" \
"                           into the remote host, socks5://HOST:PORT, with\n" \
"                           ?server=PORT for one carrier to erlfwd-server\n" \
"                           there (ERLFWD_TUNNEL; default 127.0.0.1:9369)\n" \
CLI_PASSWORD_HELP \
"      --via COMMAND        carry the session over COMMAND's stdin and\n" \
"                           stdout (run with sh -c), e.g. 'ssh HOST\n" \
"                           erlfwd-server --stdio' or 'kubectl exec -i POD\n" \
"                           -- erlfwd-server --stdio'\n"

/* The --no-preload line of the help of run, remsh and doctor. */
#define CLI_NO_PRELOAD_HELP \
"      --no-preload         nothing of erlfwd in the local node but flags\n" \
"                           (OTP's -epmd_module): the default where the\n" \
"                           library cannot work, e.g. macOS\n" \
"                           (ERLFWD_PRELOAD=off; =on insists on the library)\n"

/* cli_info_exit: the exit status for a failed INFO request. */
int	cli_info_exit(enum info_status s);

/*
 * cli_info_hint: the one-line fix for a failed INFO request on route r, into
 * buf; returns buf.
 */
const char *cli_info_hint(enum info_status s, const struct route *r,
	    char *buf, size_t cap);

#endif /* ERLFWD_CLI_H */
