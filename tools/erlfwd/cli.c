/*
 * cli.c: shared pieces of the erlfwd command (cli.h).
 */
#include <netinet/in.h>

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "cli.h"
#include "transport.h"
#include "safe.h"

void
cli_msg(const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* One line, whatever the message carries: remote text in it has its
	 * line breaks and terminal controls escaped. */
	safe_line(stderr, "erlfwd: %s", line);
}

static void
env_of(struct config_env *e, const struct cli *c)
{
	memset(e, 0, sizeof(*e));
	e->hosts = c->hosts_given ? c->hosts : getenv("ERLFWD_HOSTS");
	e->tunnel = c->tunnel_arg != NULL ? c->tunnel_arg :
	    getenv("ERLFWD_TUNNEL");
	e->bind = getenv("ERLFWD_BIND");
	e->debug = getenv("ERLFWD_DEBUG");
	e->timeout_ms = getenv("ERLFWD_TIMEOUT_MS");
	e->epmd_port = getenv("ERL_EPMD_PORT");
	e->socks_password = c->socks_pass[0] != '\0' ? c->socks_pass : NULL;
}

/*
 * The password of socks5://USER@ routes into c->socks_pass: from
 * $ERLFWD_SOCKS_PASSWORD, else the first line of $ERLFWD_SOCKS_PASSWORD_FILE,
 * which is then put in $ERLFWD_SOCKS_PASSWORD for the programs erlfwd
 * starts (an environment is not shown by ps).  Returns 0, or -1 with err.
 */
static int
socks_password(struct cli *c, char *err, size_t errlen)
{
	const char *pw = getenv("ERLFWD_SOCKS_PASSWORD"), *path;
	size_t len;
	FILE *f;

	if (pw != NULL && *pw != '\0') {
		snprintf(c->socks_pass, sizeof(c->socks_pass), "%s", pw);
		return 0;
	}
	if ((path = getenv("ERLFWD_SOCKS_PASSWORD_FILE")) == NULL ||
	    *path == '\0')
		return 0;
	if ((f = fopen(path, "re")) == NULL) {
		snprintf(err, errlen, "ERLFWD_SOCKS_PASSWORD_FILE: cannot read "
		    "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fgets(c->socks_pass, sizeof(c->socks_pass), f) == NULL)
		c->socks_pass[0] = '\0';
	fclose(f);
	len = strcspn(c->socks_pass, "\r\n");
	c->socks_pass[len] = '\0';
	if (len == 0 || setenv("ERLFWD_SOCKS_PASSWORD", c->socks_pass, 1) != 0) {
		snprintf(err, errlen, "ERLFWD_SOCKS_PASSWORD_FILE: %s: %s",
		    path, len == 0 ? "no password on its first line" :
		    strerror(errno));
		return -1;
	}
	return 0;
}

int
cli_init(struct cli *c, char *err, size_t errlen)
{
	struct config_env e;

	memset(c, 0, sizeof(*c));
	if (socks_password(c, err, errlen) != 0)
		return -1;
	env_of(&e, c);
	return config_parse(&c->cfg, &e, err, errlen);
}

int
cli_tunnel(struct cli *c, const char *text, char *err, size_t errlen)
{
	char why[CONFIG_ERR_MAX];

	if (config_parse_route(&c->cfg.tunnel, text, why, sizeof(why)) != 0 ||
	    config_route_password(&c->cfg.tunnel, c->socks_pass[0] != '\0' ?
	    c->socks_pass : NULL, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "--tunnel: %s", why);
		return -1;
	}
	c->tunnel_arg = text;
	return 0;
}

int
cli_via(struct cli *c, const char *text, char *err, size_t errlen)
{
	if (*text == '\0') {
		snprintf(err, errlen, "--via: an empty command");
		return -1;
	}
	c->via = text;
	return 0;
}

int
cli_route_option(struct cli *c, int ch, const char *arg, char *err,
    size_t errlen)
{
	return ch == 'v' ? cli_via(c, arg, err, errlen) :
	    cli_tunnel(c, arg, err, errlen);
}

void
cli_agent_opts(const struct cli *c, struct agent_opts *o)
{
	const char *ping = getenv("ERLFWD_PING_MS");

	memset(o, 0, sizeof(*o));
	o->via = c->via;
	o->route = &c->cfg.tunnel;
	o->timeout_ms = c->cfg.timeout_ms;
	o->ping_ms = ping != NULL && atoi(ping) > 0 ? atoi(ping) :
	    AGENT_PING_MS;
	o->busy_ping_ms = o->ping_ms < AGENT_BUSY_PING_MS ? o->ping_ms :
	    AGENT_BUSY_PING_MS;
	o->dead_pings = AGENT_DEAD_PINGS;
	o->debug = c->cfg.debug;
}

int
cli_carrier(struct cli *c)
{
	char err[512];
	int rc, started;

	if ((rc = cli_carrier_start(c, &started, err, sizeof(err))) != CLI_OK)
		cli_msg("%s", err);
	return rc;
}

int
cli_carrier_start(struct cli *c, int *started, char *err, size_t errlen)
{
	struct agent_opts o = { 0 };
	const struct route *t = &c->cfg.tunnel;
	const char *mode = getenv("ERLFWD_CARRIER");
	struct transport tr;
	char text[ROUTE_TEXT_MAX], where[ROUTE_TEXT_MAX];
	enum agent_result res;
	uint16_t port;
	pid_t pid;
	int status;

	*started = 0;
	err[0] = '\0';
	if (c->via == NULL) {
		if (t->kind == ROUTE_SOCKS5 && t->server_port == 0)
			return CLI_OK;	/* one CONNECT per connection */
		if (t->kind == ROUTE_ERLFWD && mode != NULL &&
		    strcmp(mode, "off") == 0)
			return CLI_OK;
	}
	cli_agent_opts(c, &o);
	res = agent_start(&o, &port, &pid, err, errlen, &status,
	    &c->carrier_cause);
	if (res == AGENT_V1) {
		c->v1_answered = status;
		c->carrier_cause = MUX_END_V1;
		if (t->kind == ROUTE_ERLFWD)
			return CLI_OK;	/* an older server: one connection each */
		snprintf(err, errlen, "the erlfwd-server behind %s speaks only "
		    "protocol version 1: upgrade it, or drop server= to use "
		    "one SOCKS5 CONNECT per connection", t->text);
		return CLI_SERVER;
	}
	if (res != AGENT_UP)
		return status;
	transport_init(&tr, t, c->via, 0);
	snprintf(text, sizeof(text), "a carrier over %.100s",
	    transport_describe(&tr, where, sizeof(where)));
	snprintf(c->agent_tunnel, sizeof(c->agent_tunnel), "127.0.0.1:%u",
	    (unsigned)port);
	if (config_parse_route(&c->cfg.tunnel, c->agent_tunnel, err,
	    errlen) != 0)
		return CLI_LOCAL;
	snprintf(c->cfg.tunnel.text, sizeof(c->cfg.tunnel.text), "%s", text);
	c->tunnel_arg = c->agent_tunnel;
	c->agent_port = port;
	*started = 1;
	return CLI_OK;
}

int
cli_host(struct cli *c, const char *text, char *err, size_t errlen)
{
	struct config_env e;
	struct config *tmp;
	char why[CONFIG_ERR_MAX];
	size_t len = strlen(c->hosts);
	int n, rc;

	n = snprintf(c->hosts + len, sizeof(c->hosts) - len, "%s%s",
	    len > 0 ? "," : "", text);
	if (n < 0 || (size_t)n >= sizeof(c->hosts) - len) {
		c->hosts[len] = '\0';
		snprintf(err, errlen, "--host: too many hosts");
		return -1;
	}
	c->hosts_given = 1;
	/* Parse the whole list again: the same parser as the library's. */
	if ((tmp = malloc(sizeof(*tmp))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	env_of(&e, c);
	rc = config_parse(tmp, &e, why, sizeof(why));
	if (rc == 0)
		c->cfg = *tmp;
	else {
		c->hosts[len] = '\0';
		/* The parser speaks of the variable; the user wrote --host. */
		snprintf(err, errlen, "--host%s", strncmp(why, "ERLFWD_HOSTS",
		    12) == 0 ? why + 12 : why);
	}
	free(tmp);
	return rc;
}

/*
 * What getopt_long (opterr 0, an optstring that starts with ':') returned ch
 * for, in one line, for subcommand sub.  Returns CLI_USAGE.
 */
static int
cli_bad_option(const char *sub, int ch, char **argv)
{
	const char *arg = optind > 0 ? argv[optind - 1] : "?";

	/* A long option is named as typed (getopt's optopt is its letter). */
	if (ch == ':' && optopt != 0 && strncmp(arg, "--", 2) != 0)
		cli_msg("%s: option -%c needs a value", sub, optopt);
	else if (ch == ':')
		cli_msg("%s: option %s needs a value", sub, arg);
	else if (optopt != 0)
		cli_msg("%s: unknown option -%c (see erlfwd %s --help)", sub,
		    optopt, sub);
	else
		cli_msg("%s: unknown option %s (see erlfwd %s --help)", sub,
		    arg, sub);
	return CLI_USAGE;
}

/* Every subcommand's options, long and short; cli_cmd.letters picks. */
static const struct option all_options[] = {
	{ "tunnel", required_argument, NULL, 't' },
	{ "via", required_argument, NULL, 'v' },
	{ "host", required_argument, NULL, 'H' },
	{ "cookie-file", required_argument, NULL, 'c' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "iex", no_argument, NULL, 'I' },
	{ "erl", no_argument, NULL, 'E' },
	{ "allow-stop", no_argument, NULL, 'S' },
	{ "no-preload", no_argument, NULL, 'P' },
	{ "help", no_argument, NULL, 'h' },
};
#define NOPTIONS	(sizeof(all_options) / sizeof(all_options[0]))
/* The ones with a one-letter form. */
#define SHORT_LETTERS	"tcHqh"

int
cli_getopt(struct cli *c, const struct cli_cmd *cmd, int argc, char **argv,
    struct cli_args *a)
{
	struct option longopts[NOPTIONS + 1];
	char shorts[2 * NOPTIONS + 4], err[512];
	size_t i, nl = 0, ns = 0;
	int ch, nopt = argc;

	memset(a, 0, sizeof(*a));
	if (cli_init(c, err, sizeof(err)) != 0)
		goto usage_err;
	/* getopt's strings from the command's letters. */
	if (cmd->stop_at_operand)
		shorts[ns++] = '+';
	shorts[ns++] = ':';
	for (i = 0; i < NOPTIONS; i++) {
		int letter = all_options[i].val;

		if (strchr(cmd->letters, letter) == NULL)
			continue;
		longopts[nl++] = all_options[i];
		if (strchr(SHORT_LETTERS, letter) == NULL)
			continue;
		shorts[ns++] = (char)letter;
		if (all_options[i].has_arg == required_argument)
			shorts[ns++] = ':';
	}
	shorts[ns] = '\0';
	memset(&longopts[nl], 0, sizeof(longopts[nl]));
	/* Options and operands come before "--", what is passed on after. */
	if (cmd->after_dashdash) {
		for (nopt = 1; nopt < argc && strcmp(argv[nopt], "--") != 0;
		    nopt++)
			continue;
		if (nopt < argc) {
			a->passed = argv + nopt + 1;
			a->npassed = argc - nopt - 1;
		}
	}
	opterr = 0;
	/* A fresh parse, even in a process that parsed before (the unit
	 * tests): glibc starts over only at 0, where it also reads '+'. */
#ifdef __GLIBC__
	optind = 0;
#else
	optind = 1;
#endif
	while ((ch = getopt_long(nopt, argv, shorts, longopts, NULL)) != -1) {
		switch (ch) {
		case 't':
		case 'v':
			if (cli_route_option(c, ch, optarg, err,
			    sizeof(err)) != 0)
				goto usage_err;
			break;
		case 'H':
			if (cli_host(c, optarg, err, sizeof(err)) != 0)
				goto usage_err;
			break;
		case 'c':
			a->cookie_file = optarg;
			break;
		case 'q':
			a->quiet = 1;
			break;
		case 'I':
		case 'E':
			if (a->iex || a->erl) {
				snprintf(err, sizeof(err), "%s: --iex or --erl, "
				    "not both", cmd->name);
				goto usage_err;
			}
			*(ch == 'I' ? &a->iex : &a->erl) = 1;
			break;
		case 'S':
			a->allow_stop = 1;
			break;
		case 'P':
			a->no_preload = 1;
			break;
		case 'h':
			cmd->usage(stdout);
			a->help = 1;
			return CLI_OK;
		default:
			return cli_bad_option(cmd->name, ch, argv);
		}
	}
	a->operands = argv + optind;
	a->noperands = nopt - optind;
	if (a->noperands < cmd->min_operands) {
		snprintf(err, sizeof(err), "%s: no %s (see erlfwd %s --help)",
		    cmd->name, cmd->operand, cmd->name);
		goto usage_err;
	}
	if (cmd->max_operands >= 0 && a->noperands > cmd->max_operands) {
		snprintf(err, sizeof(err), "%s: unexpected argument '%s'%s",
		    cmd->name, a->operands[cmd->max_operands],
		    cmd->after_dashdash ? " (SHELL_ARGS go after --)" : "");
		goto usage_err;
	}
	return CLI_OK;
usage_err:
	cli_msg("%s", err);
	return CLI_USAGE;
}


int
cli_info_exit(enum info_status s)
{
	switch (s) {
	case INFO_OK:
		return CLI_OK;
	case INFO_REFUSED:
	case INFO_UNREACHABLE:
		return CLI_TUNNEL;
	case INFO_LOCAL:
		return CLI_LOCAL;
	case INFO_DECLINED:
		return CLI_BROKEN;	/* a working server, on a bad day */
	default:
		return CLI_SERVER;
	}
}

/* The port of route r, for hints. */
static unsigned
route_port(const struct route *r)
{
	const struct sockaddr_in *sin = (const void *)&r->addr;
	const struct sockaddr_in6 *sin6 = (const void *)&r->addr;

	return ntohs(r->addr.ss_family == AF_INET6 ? sin6->sin6_port :
	    sin->sin_port);
}

const char *
cli_info_hint(enum info_status s, const struct route *r, char *buf,
    size_t cap)
{
	unsigned port = route_port(r);

	if (r->kind == ROUTE_SOCKS5) {
		if (s == INFO_REFUSED || s == INFO_UNREACHABLE)
			snprintf(buf, cap, "start the SOCKS5 proxy and keep it "
			    "running: `heroku ps:socks -a APP` (it listens on "
			    "1080), or `ssh -D %u HOST`", port);
		else
			snprintf(buf, cap, "point --tunnel at a SOCKS5 proxy "
			    "into the remote host (socks5://HOST:PORT)");
		return buf;
	}
	switch (s) {
	case INFO_REFUSED:
	case INFO_UNREACHABLE:
		snprintf(buf, cap, "start `heroku ps:forward %u -a APP` (or "
		    "`ssh -L %u:127.0.0.1:9369 HOST`, `kubectl port-forward "
		    "POD %u:9369`) and keep it running", port, port, port);
		break;
	case INFO_CLOSED:
		snprintf(buf, cap, "start erlfwd-server on the remote host "
		    "(the buildpack starts it on web and worker dynos), and "
		    "forward the port it listens on ($ERLFWD_PORT, 9369)");
		break;
	case INFO_SILENT:
	case INFO_FOREIGN:
		snprintf(buf, cap, "forward the port erlfwd-server listens on "
		    "($ERLFWD_PORT, 9369), or point --tunnel at that forward");
		break;
	case INFO_DECLINED:
		snprintf(buf, cap, "try again once its connections are "
		    "fewer, or raise its --max-conns");
		break;
	case INFO_PROTOCOL:
		snprintf(buf, cap, "install the same erlfwd release here and "
		    "on the remote host (erlfwd %s here)", ERLFWD_VERSION);
		break;
	default:
		snprintf(buf, cap, "check this machine's resources");
		break;
	}
	return buf;
}
