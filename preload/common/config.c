/*
 * config.c: parse and query erlfwd's configuration (config.h).
 */
#include <arpa/inet.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cluster.h"
#include "config.h"
#include "port.h"

#define SOCKS5_SCHEME	"socks5://"
#define SOCKS5H_SCHEME	"socks5h://"

static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* Parse a decimal number in [lo, hi] that fills all of s. */
static int
parse_num(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	v = strtol(s, &end, 10);
	if (*end != '\0' || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

/*
 * Parse "HOST:PORT" (HOST an IP literal, [IPv6] or localhost), len bytes of
 * text, into r->addr.  Messages quote the text only when quote is set and it
 * holds no '@': a SOCKS5 route, or a mistyped one, may hold a password.
 */
static int
parse_hostport(struct route *r, const char *text, size_t len, int quote,
    char *err, size_t errlen)
{
	char host[64], buf[ROUTE_TEXT_MAX], shown[ROUTE_TEXT_MAX + 2];
	const char *colon, *h;
	size_t hlen;
	uint16_t port;
	struct sockaddr_in *sin = (struct sockaddr_in *)(void *)&r->addr;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)(void *)&r->addr;

	if (len >= sizeof(buf))
		return fail(err, errlen, "route address is too long");
	memcpy(buf, text, len);
	buf[len] = '\0';
	if (quote && strchr(buf, '@') == NULL)
		snprintf(shown, sizeof(shown), "'%s'", buf);
	else
		strcpy(shown, "address");
	colon = strrchr(buf, ':');
	if (colon == NULL)
		return fail(err, errlen,
		    "route %s has no port (want HOST:PORT)", shown);
	h = buf;
	hlen = (size_t)(colon - buf);
	if (hlen >= 2 && h[0] == '[' && h[hlen - 1] == ']') {
		h++;
		hlen -= 2;
	}
	if (hlen == 0 || hlen >= sizeof(host))
		return fail(err, errlen, "route %s has no host", shown);
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	if (port_parse(colon + 1, strlen(colon + 1), &port) != 0)
		return fail(err, errlen, "route %s has a bad port", shown);
	if (strcasecmp(host, "localhost") == 0)
		strcpy(host, "127.0.0.1");
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		r->addrlen = sizeof(*sin);
	} else if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		r->addrlen = sizeof(*sin6);
	} else {
		/* Resolving here would re-enter the resolver we hook. */
		return fail(err, errlen,
		    "route %s: the host must be an IP address or localhost",
		    shown);
	}
	return 0;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Copy len bytes of s into dst (cap bytes), decoding %XX.  -1 if bad. */
static int
unescape(char *dst, size_t cap, const char *s, size_t len)
{
	size_t i, n = 0;
	int hi, lo;

	for (i = 0; i < len; i++) {
		if (n + 1 >= cap)
			return -1;
		if (s[i] != '%') {
			dst[n++] = s[i];
			continue;
		}
		if (i + 2 >= len)
			return -1;
		if ((hi = hexval(s[i + 1])) < 0 || (lo = hexval(s[i + 2])) < 0 ||
		    (hi == 0 && lo == 0))
			return -1;
		dst[n++] = (char)(hi << 4 | lo);
		i += 2;
	}
	dst[n] = '\0';
	return 0;
}

/*
 * Parse the "?target=ADDR&epmd=PORT&server=PORT" of a SOCKS5 route, or the
 * "?epmd=PORT&helper=PORT" of a SOCKS5H one.
 */
static int
parse_query(struct route *r, const char *q, char *err, size_t errlen)
{
	const char *p, *amp, *eq;
	size_t klen, vlen;
	char val[ROUTE_TARGET_MAX];

	for (p = q; *p != '\0'; p = *amp == '\0' ? amp : amp + 1) {
		amp = strchr(p, '&');
		if (amp == NULL)
			amp = p + strlen(p);
		eq = memchr(p, '=', (size_t)(amp - p));
		if (eq == NULL)
			return fail(err, errlen, "socks5 route: '%.*s' is not "
			    "KEY=VALUE", (int)(amp - p), p);
		klen = (size_t)(eq - p);
		vlen = (size_t)(amp - eq - 1);
		if (vlen == 0 || vlen >= sizeof(val))
			return fail(err, errlen, "socks5 route: empty or long "
			    "value for '%.*s'", (int)klen, p);
		memcpy(val, eq + 1, vlen);
		val[vlen] = '\0';
		if (r->kind == ROUTE_SOCKS5H && klen == 6 &&
		    memcmp(p, "helper", 6) == 0) {
			if (port_parse(val, vlen, &r->helper_port) != 0)
				return fail(err, errlen, "socks5h route: helper "
				    "port '%s' is not a port", val);
		} else if (r->kind == ROUTE_SOCKS5H &&
		    !(klen == 4 && memcmp(p, "epmd", 4) == 0))
			return fail(err, errlen, "socks5h route: unknown "
			    "parameter '%.*s' (want epmd= or helper=)",
			    (int)klen, p);
		else if (klen == 6 && memcmp(p, "target", 6) == 0)
			strcpy(r->target, val);
		else if (klen == 4 && memcmp(p, "epmd", 4) == 0) {
			if (port_parse(val, vlen, &r->epmd_port) != 0)
				return fail(err, errlen, "socks5 route: epmd "
				    "port '%s' is not a port", val);
		} else if (klen == 6 && memcmp(p, "server", 6) == 0) {
			if (port_parse(val, vlen, &r->server_port) != 0)
				return fail(err, errlen, "socks5 route: server "
				    "port '%s' is not a port", val);
		} else
			return fail(err, errlen, "socks5 route: unknown "
			    "parameter '%.*s' (want target=, epmd= or "
			    "server=)", (int)klen, p);
	}
	return 0;
}

/* A socks5:// route, or with kind ROUTE_SOCKS5H a socks5h:// one. */
static int
parse_socks5(struct route *r, enum route_kind kind, const char *text,
    char *err, size_t errlen)
{
	const char *scheme = kind == ROUTE_SOCKS5H ? SOCKS5H_SCHEME :
	    SOCKS5_SCHEME;
	const char *p = text + strlen(scheme), *at, *q, *colon;
	size_t hplen;

	r->kind = kind;
	strcpy(r->target, ROUTE_DEFAULT_TARGET);
	r->epmd_port = CONFIG_DEFAULT_EPMD;
	r->helper_port = CLUSTER_DEFAULT_HELPER;
	/* A password may hold '@' and '?'; a host and a query cannot. */
	at = strrchr(p, '@');
	q = strchr(at != NULL ? at : p, '?');
	if (q == NULL)
		q = p + strlen(p);
	if (at != NULL) {
		/* Credentials: user:pass, unescaped; never echoed back.  USER
		 * alone: the password comes from elsewhere (config_route_
		 * password), not from a command line. */
		colon = memchr(p, ':', (size_t)(at - p));
		if (colon == NULL)
			colon = at;
		if (colon == p ||
		    unescape(r->user, sizeof(r->user), p,
		    (size_t)(colon - p)) != 0 ||
		    (colon < at && (unescape(r->pass, sizeof(r->pass),
		    colon + 1, (size_t)(at - colon - 1)) != 0 ||
		    strlen(r->pass) == 0)) ||
		    strlen(r->user) > 255 || strlen(r->pass) > 255)
			return fail(err, errlen, "socks5 route: credentials "
			    "must be USER:PASS or USER (1 to 255 bytes each)");
		p = at + 1;
	}
	hplen = (size_t)(q - p);
	if (parse_hostport(r, p, hplen, 0, err, errlen) != 0)
		return -1;
	if (*q == '?' && parse_query(r, q + 1, err, errlen) != 0)
		return -1;
	snprintf(r->text, sizeof(r->text), "%s%s%.*s", scheme,
	    at != NULL ? "***@" : "", (int)hplen, p);
	return 0;
}

int
config_route_password(struct route *r, const char *pass, char *err,
    size_t errlen)
{
	if ((r->kind != ROUTE_SOCKS5 && r->kind != ROUTE_SOCKS5H) ||
	    r->user[0] == '\0' || r->pass[0] != '\0')
		return 0;
	if (pass == NULL || *pass == '\0')
		return fail(err, errlen, "%s has a user and no password: set "
		    "ERLFWD_SOCKS_PASSWORD (or give USER:PASS)", r->text);
	if (strlen(pass) >= sizeof(r->pass) || strlen(pass) > 255)
		return fail(err, errlen, "ERLFWD_SOCKS_PASSWORD is longer than "
		    "255 bytes");
	strcpy(r->pass, pass);
	return 0;
}

int
config_parse_route(struct route *r, const char *text, char *err, size_t errlen)
{
	const char *scheme;
	int rc;

	memset(r, 0, sizeof(*r));
	if (strncasecmp(text, SOCKS5_SCHEME, strlen(SOCKS5_SCHEME)) == 0)
		rc = parse_socks5(r, ROUTE_SOCKS5, text, err, errlen);
	else if (strncasecmp(text, SOCKS5H_SCHEME,
	    strlen(SOCKS5H_SCHEME)) == 0)
		rc = parse_socks5(r, ROUTE_SOCKS5H, text, err, errlen);
	else if ((scheme = strstr(text, "://")) != NULL)
		/* Name the scheme only: what follows may hold a password. */
		rc = fail(err, errlen, "route scheme '%.*s://' is unknown: the "
		    "schemes are socks5:// and socks5h://", (int)(scheme - text > 16 ? 16 :
		    scheme - text), text);
	else if ((rc = parse_hostport(r, text, strlen(text), 1, err,
	    errlen)) == 0) {
		r->kind = ROUTE_ERLFWD;
		snprintf(r->text, sizeof(r->text), "%s", text);
	}
	if (rc != 0)
		memset(r, 0, sizeof(*r));
	return rc;
}

static int
pattern_valid(const char *p)
{
	if (*p == '\0')
		return 0;
	for (; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '.' || *p == '-' ||
		    *p == '_' || *p == '*' || *p == '?'))
			return 0;
	return 1;
}

/* Parse one "PATTERN[=ROUTE]" item of len bytes into e. */
static int
parse_entry(struct config_entry *e, const char *item, size_t len, char *err,
    size_t errlen)
{
	char buf[CONFIG_PATTERN_MAX + 80], rerr[CONFIG_ERR_MAX];
	char *eq;

	/* Spaces around items are a typing habit, not part of a name. */
	while (len > 0 && (*item == ' ' || *item == '\t')) {
		item++;
		len--;
	}
	while (len > 0 && (item[len - 1] == ' ' || item[len - 1] == '\t'))
		len--;
	if (len == 0)
		return fail(err, errlen, "ERLFWD_HOSTS has an empty entry");
	if (len >= sizeof(buf))
		return fail(err, errlen, "ERLFWD_HOSTS entry '%.*s...' is too "
		    "long", (int)strcspn(item, "=") < 40 ?
		    (int)strcspn(item, "=") : 40, item);
	memcpy(buf, item, len);
	buf[len] = '\0';
	memset(e, 0, sizeof(*e));
	if ((eq = strchr(buf, '=')) != NULL) {
		*eq = '\0';
		if (config_parse_route(&e->route, eq + 1, rerr,
		    sizeof(rerr)) != 0)
			return fail(err, errlen, "ERLFWD_HOSTS entry '%s': %s", buf,
			    rerr);
		e->has_route = 1;
	}
	if (strlen(buf) >= sizeof(e->pattern) || !pattern_valid(buf))
		return fail(err, errlen, "ERLFWD_HOSTS: '%s' is not a host name, "
		    "glob or IPv4 address", buf);
	strcpy(e->pattern, buf);
	e->is_glob = strpbrk(buf, "*?") != NULL;
	return 0;
}

static void
defaults(struct config *c)
{
	char ignored[CONFIG_ERR_MAX];

	memset(c, 0, sizeof(*c));
	(void)config_parse_route(&c->tunnel, CONFIG_DEFAULT_TUNNEL, ignored,
	    sizeof(ignored));
	c->epmd_port = CONFIG_DEFAULT_EPMD;
	c->timeout_ms = CONFIG_DEFAULT_TIMEOUT;
}

/*
 * Every socks5h entry names the same helper: a cluster sentinel does not say
 * which entry it came from (cluster.h), so its connect must find one helper.
 */
static int
check_helpers(const struct config *c, char *err, size_t errlen)
{
	uint16_t port = 0;
	size_t i;

	for (i = 0; i < c->nentries; i++) {
		if (!c->entries[i].has_route ||
		    c->entries[i].route.kind != ROUTE_SOCKS5H)
			continue;
		if (port != 0 && c->entries[i].route.helper_port != port)
			return fail(err, errlen, "ERLFWD_HOSTS: every socks5h "
			    "route must name the same helper= port");
		port = c->entries[i].route.helper_port;
	}
	return 0;
}

/* The body of config_parse; leaves c half-filled on error. */
static int
parse(struct config *c, const struct config_env *env, char *err, size_t errlen)
{
	char rerr[CONFIG_ERR_MAX];
	const char *p, *comma;
	long v;

	/* First, so that a later error is still reported in debug mode. */
	if (env->debug != NULL && *env->debug != '\0')
		c->debug = strcmp(env->debug, "0") != 0;
	if (env->tunnel != NULL && *env->tunnel != '\0' &&
	    config_parse_route(&c->tunnel, env->tunnel, rerr, sizeof(rerr)) != 0)
		return fail(err, errlen, "ERLFWD_TUNNEL: %s", rerr);
	if (c->tunnel.kind == ROUTE_SOCKS5H)
		return fail(err, errlen, "ERLFWD_TUNNEL: a socks5h:// route "
		    "belongs to a pattern (ERLFWD_HOSTS='web-*=socks5h://...')");
	if (config_route_password(&c->tunnel, env->socks_password, rerr,
	    sizeof(rerr)) != 0)
		return fail(err, errlen, "ERLFWD_TUNNEL: %s", rerr);
	if (env->epmd_port != NULL && *env->epmd_port != '\0') {
		if (port_parse(env->epmd_port, strlen(env->epmd_port),
		    &c->epmd_port) != 0)
			return fail(err, errlen, "ERL_EPMD_PORT '%s' is not a port",
			    env->epmd_port);
	}
	if (env->bind != NULL && *env->bind != '\0') {
		if (strcmp(env->bind, "any") == 0)
			c->bind_any = 1;
		else if (strcmp(env->bind, "loopback") != 0)
			return fail(err, errlen, "ERLFWD_BIND '%s' is not "
			    "'loopback' or 'any'", env->bind);
	}
	if (env->timeout_ms != NULL && *env->timeout_ms != '\0') {
		if (parse_num(env->timeout_ms, 1, 600000, &v) != 0)
			return fail(err, errlen, "ERLFWD_TIMEOUT_MS '%s' is not "
			    "a number of milliseconds (1-600000)", env->timeout_ms);
		c->timeout_ms = (int)v;
	}
	if (env->hosts == NULL || *env->hosts == '\0')
		return 0;
	for (p = env->hosts;; p = comma + 1) {
		comma = strchr(p, ',');
		if (comma == NULL)
			comma = p + strlen(p);
		if (c->nentries == CONFIG_ENTRIES_MAX)
			return fail(err, errlen, "ERLFWD_HOSTS has more than %d "
			    "entries", CONFIG_ENTRIES_MAX);
		if (parse_entry(&c->entries[c->nentries], p, (size_t)(comma - p),
		    err, errlen) != 0)
			return -1;
		if (config_route_password(&c->entries[c->nentries].route,
		    env->socks_password, rerr, sizeof(rerr)) != 0)
			return fail(err, errlen, "ERLFWD_HOSTS: %s", rerr);
		c->nentries++;
		if (*comma == '\0')
			break;
	}
	return check_helpers(c, err, errlen);
}

int
config_parse(struct config *c, const struct config_env *env, char *err,
    size_t errlen)
{
	int debug;

	defaults(c);
	if (parse(c, env, err, errlen) == 0)
		return 0;
	/* Fail open, but keep the user's wish to hear about it. */
	debug = c->debug;
	defaults(c);
	c->debug = debug;
	return -1;
}

uint16_t
config_epmd_arg(const char *args, size_t len)
{
	static const char flag[] = "-epmd_port";
	const char *p = args, *end = args + len, *next, *val;
	uint16_t v;

	for (; p < end; p = next) {
		if ((next = memchr(p, '\0', (size_t)(end - p))) == NULL)
			break;	/* a last argument cut short: ignore it */
		next++;
		/* What follows -extra is the program's, not init's flags. */
		if (strcmp(p, "-extra") == 0)
			break;
		if (strcmp(p, flag) != 0 || next >= end)
			continue;
		/* The first one decides, as in OTP (erl_epmd takes the head of
		 * init:get_argument(epmd_port); erlexec puts ERL_EPMD_PORT's
		 * first). */
		val = next;
		if (memchr(val, '\0', (size_t)(end - val)) != NULL &&
		    port_parse(val, strlen(val), &v) == 0)
			return v;
		return 0;
	}
	return 0;
}

static char
lower(char ch)
{
	return ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
}

int
config_glob(const char *pattern, const char *name)
{
	const char *star = NULL, *resume = NULL;

	/* "*" alone is every name; any other '*' or '?' stays within one
	 * label: web-* is not web-1.attacker.example. */
	if (strcmp(pattern, "*") == 0)
		return 1;
	/* Iterative glob with one backtrack point: linear, no recursion.
	 * Labels align dot for dot, so the last star is the only one that
	 * could take more, and never a dot. */
	while (*name != '\0') {
		if (*pattern == '*') {
			star = ++pattern;
			resume = name;
			continue;
		}
		if (*pattern != '\0' && ((*pattern == '?' && *name != '.') ||
		    lower(*pattern) == lower(*name))) {
			pattern++;
			name++;
			continue;
		}
		if (star == NULL || *resume == '.')
			return 0;
		pattern = star;
		name = ++resume;
	}
	while (*pattern == '*')
		pattern++;
	return *pattern == '\0';
}

int
config_match(const struct config *c, const char *name, const char *const *skip)
{
	const struct config_entry *e;
	size_t i;
	int local = -1;

	if (name == NULL || *name == '\0')
		return -1;
	for (i = 0; i < c->nentries; i++) {
		e = &c->entries[i];
		if (!e->is_glob) {
			if (strcasecmp(e->pattern, name) == 0)
				return (int)i;
			continue;
		}
		if (local < 0) {
			local = strcasecmp(name, "localhost") == 0;
			for (; !local && skip != NULL && *skip != NULL; skip++)
				local = strcasecmp(name, *skip) == 0;
		}
		if (!local && config_glob(e->pattern, name))
			return (int)i;
	}
	return -1;
}

const struct route *
config_route(const struct config *c, size_t i)
{
	if (i < c->nentries && c->entries[i].has_route)
		return &c->entries[i].route;
	return &c->tunnel;
}
