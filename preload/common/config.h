/*
 * config: erlfwd's configuration, parsed from strings (the ERLFWD_* variables)
 * into a fixed-size structure.  Pure: no I/O, no allocation, no globals, so the
 * preload, the tools and the unit tests share it.
 *
 *   ERLFWD_HOSTS   PATTERN[=ROUTE],...   which host names are remote, and how
 *   ERLFWD_TUNNEL  ROUTE                 the default route (127.0.0.1:9369)
 *   ERLFWD_BIND    loopback | any        rewrite wildcard TCP binds (loopback)
 *   ERLFWD_DEBUG   0 | 1                 one line per decision on stderr
 *   ERLFWD_TIMEOUT_MS  N                 bound on a redirected connect (5000)
 *   ERL_EPMD_PORT  N                     the local epmd port (4369), unless
 *                                        the program has -epmd_port N
 *
 * A PATTERN is a host name ("dyno"), a glob with '*' and '?' ("web.*", "*"),
 * or an IPv4 literal ("127.0.0.1").  Matching ignores case.  A ROUTE is
 * either HOST:PORT, where an erlfwd-server answers (a forwarded port), or
 * socks5://[USER:PASS@]HOST:PORT[?target=ADDR&epmd=PORT&server=PORT], a
 * SOCKS5 proxy into the remote host that is asked to connect to ADDR
 * (127.0.0.1) there, with the remote epmd on PORT (4369); with server=, the
 * erlfwd command makes one CONNECT to erlfwd-server on that port there and
 * carries the whole session over it.  HOST is an IP address ("127.0.0.1",
 * "[::1]") or "localhost"; USER and PASS may use %XX escapes.
 *
 * socks5h://[USER:PASS@]HOST:PORT[?epmd=PORT&helper=PORT] is a cluster
 * route (cluster.h): the proxy (an overlay's, e.g. tailscaled's) is asked
 * for the host's own name, with the remote epmd on PORT (4369), by the
 * cluster helper on 127.0.0.1:PORT (9370), never by the preload itself.
 * It is a per-pattern route only (not ERLFWD_TUNNEL), and every socks5h
 * entry names the same helper.
 */
#ifndef ERLFWD_CONFIG_H
#define ERLFWD_CONFIG_H

#include <sys/socket.h>
#include <netinet/in.h>

#include <stddef.h>
#include <stdint.h>

#define CONFIG_ENTRIES_MAX	32
#define CONFIG_PATTERN_MAX	256	/* including the NUL */
#define CONFIG_ERR_MAX		256
#define CONFIG_DEFAULT_TUNNEL	"127.0.0.1:9369"
#define CONFIG_DEFAULT_EPMD	4369
#define CONFIG_DEFAULT_TIMEOUT	5000

#define ROUTE_TEXT_MAX		128
#define ROUTE_CRED_MAX		256	/* RFC 1929's 255 bytes and the NUL */
#define ROUTE_TARGET_MAX	256
#define ROUTE_DEFAULT_TARGET	"127.0.0.1"

enum route_kind {
	ROUTE_ERLFWD = 1,	/* an erlfwd-server behind a forwarded port */
	ROUTE_SOCKS5 = 2,	/* a SOCKS5 proxy into the remote host */
	ROUTE_SOCKS5H = 3,	/* an overlay's SOCKS5 proxy, asked for the
				 * host's name, through the cluster helper */
};

struct route {
	enum route_kind		kind;
	struct sockaddr_storage	addr;	/* where to connect, port included */
	socklen_t		addrlen;
	char			text[ROUTE_TEXT_MAX];	/* for messages: no password */
	/* SOCKS5 only: */
	char			user[ROUTE_CRED_MAX];	/* "": no authentication */
	char			pass[ROUTE_CRED_MAX];
	char			target[ROUTE_TARGET_MAX];
	uint16_t		epmd_port;	/* the remote host's epmd */
	uint16_t		server_port;	/* erlfwd-server's port there:
						 * the erlfwd command's agent
						 * runs one carrier to it; 0:
						 * one CONNECT per stream */
	/* SOCKS5H only: */
	uint16_t		helper_port;	/* the cluster helper, on
						 * 127.0.0.1 (cluster.h) */
};

struct config_entry {
	char		pattern[CONFIG_PATTERN_MAX];
	int		is_glob;
	int		has_route;	/* else the default route */
	struct route	route;
};

struct config {
	size_t			nentries;
	struct config_entry	entries[CONFIG_ENTRIES_MAX];
	struct route		tunnel;
	uint16_t		epmd_port;
	int			bind_any;
	int			debug;
	int			timeout_ms;
};

/* The environment, as strings; NULL means unset. */
struct config_env {
	const char	*hosts;
	const char	*tunnel;
	const char	*bind;
	const char	*debug;
	const char	*timeout_ms;
	const char	*epmd_port;
	const char	*socks_password;	/* ERLFWD_SOCKS_PASSWORD: for
						 * socks5://USER@HOST:PORT */
};

/*
 * config_parse: fill c from env.  Returns 0, or -1 with a one-line English
 * message in err (errlen bytes) naming the variable and the offending text.
 * On error c holds defaults with no entries, so a caller that fails open
 * still has a usable structure.
 */
int	config_parse(struct config *c, const struct config_env *env, char *err,
	    size_t errlen);

/*
 * config_parse_route: parse a ROUTE (see above) into r.  Returns 0 or -1 with
 * a message in err that never repeats a password.
 */
int	config_parse_route(struct route *r, const char *text, char *err,
	    size_t errlen);

/*
 * config_route_password: give r, a SOCKS5 route written USER@HOST:PORT
 * (a user and no password), the password pass, so that the password need
 * not sit on a command line (ps shows those to every user).  Other routes
 * are left alone.  Returns 0, or -1 with a message in err when r wants a
 * password and pass is NULL, empty or longer than 255 bytes.
 */
int	config_route_password(struct route *r, const char *pass, char *err,
	    size_t errlen);

/*
 * config_match: the index of the first entry whose pattern matches name, or
 * -1.  A glob never matches "localhost" or the names in skip (a NULL-ended
 * list, may be NULL): the local machine is never remote by accident.
 */
int	config_match(const struct config *c, const char *name,
	    const char *const *skip);

/*
 * config_epmd_arg: the port of the first "-epmd_port N" among args (before
 * any "-extra"), a list of len bytes of NUL-terminated arguments (as
 * /proc/self/cmdline holds them), or 0 when there is none or that N is not
 * a port.  OTP takes this argument before ERL_EPMD_PORT, and its first
 * value when there are several.
 */
uint16_t config_epmd_arg(const char *args, size_t len);

/*
 * config_glob: 1 when name matches the glob pattern, ignoring case.  '*'
 * and '?' match within one DNS label (never a '.'), except that the
 * pattern "*" alone matches every name.
 */
int	config_glob(const char *pattern, const char *name);

/* config_route: the route of entry i (its own, or the default). */
const struct route *config_route(const struct config *c, size_t i);

#endif /* ERLFWD_CONFIG_H */
