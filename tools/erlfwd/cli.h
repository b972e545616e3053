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
 * cli_bad_option: report what getopt_long (with opterr 0 and an optstring
 * that starts with ':') returned ch for, in one line, for subcommand sub.
 * Returns CLI_USAGE.
 */
int	cli_bad_option(const char *sub, int ch, char **argv);

/* cli_info_exit: the exit status for a failed INFO request. */
int	cli_info_exit(enum info_status s);

/*
 * cli_info_hint: the one-line fix for a failed INFO request on route r, into
 * buf; returns buf.
 */
const char *cli_info_hint(enum info_status s, const struct route *r,
	    char *buf, size_t cap);

#endif /* ERLFWD_CLI_H */
