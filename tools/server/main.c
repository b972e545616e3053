/*
 * erlfwd-server: runs on the remote host beside the BEAM node and carries
 * epmd lookups and distribution over the one port that is forwarded to it.
 * main() and its options; the work is in server.c.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster.h"
#include "clusterd.h"
#include "config.h"
#include "keeper.h"
#include "port.h"
#include "server.h"

/* Bad options: 2, as the erlfwd command's CLI_USAGE (not sysexits' 64). */
#define STATUS_USAGE	2

static void
usage(FILE *f)
{
	fprintf(f,
"usage: erlfwd-server [-l ADDR:PORT | --stdio] [-e PORT] [--allow-port PORT]...\n"
"                     [--max-conns N] [--setup-timeout MS] [--idle-timeout MS]\n"
"                     [--linger MS] [--relay auto|copy] [--carrier-idle MS]\n"
"                     [--resume-window MS]\n"
"       erlfwd-server --cluster 'PATTERN=socks5h://HOST:PORT,...' [-e PORT]\n"
"                     [--max-conns N] [--setup-timeout MS] [--idle-timeout MS]\n"
"                     [--linger MS] [--relay auto|copy] [--self NAME]...\n"
"\n"
"Relay erlfwd tunnel connections to this host's epmd and BEAM nodes.\n"
"Run it beside the node; forward one port to it (heroku ps:forward,\n"
"kubectl port-forward, ssh -L).  Only epmd lookups and the ports that epmd\n"
"lists right now are reachable through it, and a distribution stream is\n"
"relayed only when its first bytes are a handshake's name message and the\n"
"port answers it with a node's status message, never to this server's own\n"
"port or epmd's, and (where /proc/net/tcp is readable) only to a port\n"
"whose listening socket belongs to this server's uid: run it as the user\n"
"the nodes run as.\n"
"\n"
"  -l, --listen ADDR:PORT   where to listen (default 127.0.0.1:9369)\n"
"      --stdio              serve one carrier on stdin and stdout, listen\n"
"                           nowhere, and exit when it ends: the mode for\n"
"                           erlfwd --via ('heroku run:inside DYNO\n"
"                           \"erlfwd-server --stdio\"', 'kubectl exec -i POD --\n"
"                           erlfwd-server --stdio', 'ssh HOST erlfwd-server\n"
"                           --stdio')\n"
"  -e, --epmd-port PORT     this host's epmd port (default $ERL_EPMD_PORT,\n"
"                           else 4369)\n"
"      --allow-port PORT    also allow this port for distribution, even if\n"
"                           epmd does not list it, whoever owns it and\n"
"                           whatever its first bytes (repeatable)\n"
"      --max-conns N        refuse connections beyond N (default 1024); a\n"
"                           carrier and each of its streams count, and one\n"
"                           carrier may hold at most N/4 streams (its first\n"
"                           frame says so)\n"
"      --setup-timeout MS   close a connection that has not sent its\n"
"                           preamble, or finished its setup, in MS\n"
"                           milliseconds (default 5000)\n"
"      --idle-timeout MS    close a relay that moved no byte either way in\n"
"                           MS milliseconds (default 600000, above any\n"
"                           distribution tick; 0: never)\n"
"      --linger MS          close a half-closed relay (one side sent its\n"
"                           EOF) that moved no byte in MS milliseconds\n"
"                           (default 30000; 0: never)\n"
"      --relay auto|copy    auto: move bytes with splice(2) when the kernel\n"
"                           can (the log says which); copy: read/write\n"
"      --carrier-idle MS    end a carrier (the erlfwd command's one\n"
"                           connection for a whole session) that has sent\n"
"                           nothing for MS milliseconds; its agent pings\n"
"                           every 15 s (default 60000)\n"
"      --resume-window MS   keep the session of a carrier lost without a\n"
"                           goodbye for MS milliseconds: its streams, and\n"
"                           their bytes, wait for the erlfwd command to\n"
"                           come back on another carrier and resume it, as\n"
"                           the node's net_ticktime waits (default 60000;\n"
"                           0: offer no resume); with --stdio the session\n"
"                           lives in this user's keeper: an erlfwd-server\n"
"                           that the first --stdio starts, that each hands\n"
"                           its stdin and stdout to, and that exits when it\n"
"                           holds no session (its log: $TMPDIR, else /tmp,\n"
"                           /erlfwd-UID/keeper-*.log)\n"
"      --cluster ROUTES     be the cluster helper instead: on 127.0.0.1:9370\n"
"                           (the routes' helper= port) give this host's\n"
"                           preloaded nodes a sentinel per peer host name\n"
"                           that matches a PATTERN, and connect them to it\n"
"                           through that route's SOCKS5 proxy (an overlay's:\n"
"                           tailscaled --socks5-server), by name; ROUTES is\n"
"                           the nodes' ERLFWD_HOSTS, e.g.\n"
"                           'web-*=socks5h://127.0.0.1:1055'; its relays end\n"
"                           after --idle-timeout and --linger too\n"
"      --self NAME          with --cluster: NAME is this host's own (the\n"
"                           name the overlay knows it by): it resolves to\n"
"                           127.0.0.1 and never goes through the proxy, as\n"
"                           the host name does, and the host part of each\n"
"                           node registered in this host's epmd (-e), which\n"
"                           the helper asks the node for (repeatable)\n"
"  -h, --help               this help\n"
"  -V, --version            print the version\n"
"\n"
"Logs go to stderr in logfmt, one line per connection (or carrier stream)\n"
"when it ends, and one per carrier.  A connection it refuses gets one line\n"
"saying why, then a FIN, never a reset.\n"
"SIGTERM or SIGINT stop it cleanly.\n");
}

static int
number(const char *opt, const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) {
		fprintf(stderr, "erlfwd-server: %s '%s' must be a number from "
		    "%ld to %ld\n", opt, s, lo, hi);
		return -1;
	}
	*out = v;
	return 0;
}

/* Parse the port option opt's argument s into *port; 0, or -1 (said why). */
static int
port_arg(const char *opt, const char *s, uint16_t *port)
{
	if (port_parse(s, strlen(s), port) == 0)
		return 0;
	fprintf(stderr, "erlfwd-server: %s '%s' must be a number from 1 to "
	    "65535\n", opt, s);
	return -1;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "epmd-port", required_argument, NULL, 'e' },
		{ "allow-port", required_argument, NULL, 'a' },
		{ "max-conns", required_argument, NULL, 'm' },
		{ "setup-timeout", required_argument, NULL, 't' },
		{ "idle-timeout", required_argument, NULL, 'I' },
		{ "linger", required_argument, NULL, 'g' },
		{ "preamble-timeout", required_argument, NULL, 't' },
		{ "relay", required_argument, NULL, 'r' },
		{ "stdio", no_argument, NULL, 's' },
		{ "carrier-idle", required_argument, NULL, 'i' },
		{ "resume-window", required_argument, NULL, 'R' },
		{ "cluster", required_argument, NULL, 'c' },
		{ "self", required_argument, NULL, 'S' },
		{ "keeper-fd", required_argument, NULL, 'K' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct server_opts o;
	static struct clusterd_opts co;	/* a config is large: not on the stack */
	struct config_env cenv;
	struct route r;
	const char *listen = NULL, *env, *cluster = NULL;
	size_t nself = 0;
	char err[CONFIG_ERR_MAX];
	uint16_t port;
	long v;
	int ch;

	memset(&o, 0, sizeof(o));
	o.epmd_port = CONFIG_DEFAULT_EPMD;
	o.max_conns = 1024;
	o.setup_timeout_ms = 5000;
	o.carrier_idle_ms = 60000;
	o.resume_ms = 60000;
	o.keeper_fd = -1;
	o.idle_ms = SERVER_IDLE_MS;
	o.linger_ms = SERVER_LINGER_MS;
	if ((env = getenv("ERL_EPMD_PORT")) != NULL && *env != '\0') {
		if (port_arg("ERL_EPMD_PORT", env, &o.epmd_port) != 0)
			return STATUS_USAGE;
	}
	while ((ch = getopt_long(argc, argv, "l:e:hV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'l':
			listen = optarg;
			break;
		case 'e':
			if (port_arg("--epmd-port", optarg, &o.epmd_port) != 0)
				return STATUS_USAGE;
			break;
		case 'a':
			if (port_arg("--allow-port", optarg, &port) != 0)
				return STATUS_USAGE;
			if (o.nallow == SERVER_ALLOW_MAX) {
				fprintf(stderr, "erlfwd-server: at most %d "
				    "--allow-port\n", SERVER_ALLOW_MAX);
				return STATUS_USAGE;
			}
			o.allow[o.nallow++] = port;
			break;
		case 'm':
			if (number("--max-conns", optarg, 1, 1000000, &v) != 0)
				return STATUS_USAGE;
			o.max_conns = (int)v;
			break;
		case 't':
			if (number("--setup-timeout", optarg, 1, 600000, &v) != 0)
				return STATUS_USAGE;
			o.setup_timeout_ms = (int)v;
			break;
		case 's':
			o.stdio = 1;
			break;
		case 'c':
			cluster = optarg;
			break;
		case 'S':
			if (!cluster_name_valid(optarg, strlen(optarg))) {
				fprintf(stderr, "erlfwd-server: --self '%s' "
				    "must be a host name\n", optarg);
				return STATUS_USAGE;
			}
			if (nself == CLUSTERD_SELF_MAX) {
				fprintf(stderr, "erlfwd-server: at most %d "
				    "--self\n", CLUSTERD_SELF_MAX);
				return STATUS_USAGE;
			}
			co.self[nself++] = optarg;
			break;
		case 'i':
			if (number("--carrier-idle", optarg, 100, 86400000,
			    &v) != 0)
				return STATUS_USAGE;
			o.carrier_idle_ms = (int)v;
			break;
		case 'R':
			if (number("--resume-window", optarg, 0, 86400000,
			    &v) != 0)
				return STATUS_USAGE;
			o.resume_ms = (int)v;
			break;
		case 'K':
			/* Not the user's: how --stdio starts the keeper
			 * (keeper.h), the listener given as this fd. */
			if (number("--keeper-fd", optarg, 3, 1000000, &v) != 0)
				return STATUS_USAGE;
			o.keeper_fd = (int)v;
			break;
		case 'I':
			if (number("--idle-timeout", optarg, 0, 86400000, &v) != 0)
				return STATUS_USAGE;
			o.idle_ms = (int)v;
			break;
		case 'g':
			if (number("--linger", optarg, 0, 86400000, &v) != 0)
				return STATUS_USAGE;
			o.linger_ms = (int)v;
			break;
		case 'r':
			if (strcmp(optarg, "copy") == 0)
				o.copy = 1;
			else if (strcmp(optarg, "auto") != 0) {
				fprintf(stderr, "erlfwd-server: --relay '%s' "
				    "must be auto or copy\n", optarg);
				return STATUS_USAGE;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("erlfwd-server %s\n", ERLFWD_VERSION);
			return 0;
		default:
			usage(stderr);
			return STATUS_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "erlfwd-server: unexpected argument '%s' "
		    "(see --help)\n", argv[optind]);
		return STATUS_USAGE;
	}
	if (o.keeper_fd >= 0 && (o.stdio || listen != NULL ||
	    cluster != NULL || o.resume_ms == 0)) {
		fprintf(stderr, "erlfwd-server: --keeper-fd is how --stdio "
		    "starts its keeper, not an option of its own\n");
		return STATUS_USAGE;
	}
	if (o.stdio && listen != NULL) {
		fprintf(stderr, "erlfwd-server: --stdio listens nowhere: drop "
		    "--listen\n");
		return STATUS_USAGE;
	}
	if (nself > 0 && cluster == NULL) {
		fprintf(stderr, "erlfwd-server: --self goes with --cluster\n");
		return STATUS_USAGE;
	}
	if (cluster != NULL) {
		if (o.stdio || listen != NULL) {
			fprintf(stderr, "erlfwd-server: --cluster listens on "
			    "127.0.0.1 at the routes' helper= port: drop "
			    "--stdio and --listen\n");
			return STATUS_USAGE;
		}
		memset(&cenv, 0, sizeof(cenv));
		cenv.hosts = cluster;
		if (config_parse(&co.cfg, &cenv, err, sizeof(err)) != 0 ||
		    clusterd_check(&co.cfg, err, sizeof(err)) != 0) {
			fprintf(stderr, "erlfwd-server: --cluster: %s\n", err);
			return STATUS_USAGE;
		}
		co.max_conns = o.max_conns;
		co.setup_timeout_ms = o.setup_timeout_ms;
		co.idle_ms = o.idle_ms;
		co.linger_ms = o.linger_ms;
		co.copy = o.copy;
		co.epmd_port = o.epmd_port;
		return clusterd_run(&co);
	}
	/* With --stdio nothing listens, but the default address still names
	 * the port a server beside us listens on: never a DIST target. */
	if (listen == NULL)
		listen = CONFIG_DEFAULT_TUNNEL;
	if (config_parse_route(&r, listen, err, sizeof(err)) != 0 ||
	    r.kind != ROUTE_ERLFWD) {
		fprintf(stderr, "erlfwd-server: --listen: %s\n",
		    r.kind != 0 ? "want ADDR:PORT" : err);
		return STATUS_USAGE;
	}
	o.listen = r.addr;
	o.listen_len = r.addrlen;
	snprintf(o.listen_text, sizeof(o.listen_text), "%s", r.text);
	/* --stdio's session lives in the keeper, where it can outlive this
	 * process and so resume; without one, here, as it always did. */
	if (o.stdio && o.resume_ms > 0 && (v = keeper_stdio(&o)) >= 0)
		return (int)v;
	return server_run(&o);
}
