/*
 * runtime.c: parse the environment once, resolve libc once (runtime.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libc.h"
#include "log.h"
#include "runtime.h"

/* Set in the environment once a bad configuration was reported, so that the
 * children the BEAM starts (inet_gethost, erl_child_setup, epmd) stay quiet. */
#define REPORTED_VAR	"ERLFWD_CONFIG_ERROR_REPORTED"

static struct runtime rt;
static pthread_once_t once = PTHREAD_ONCE_INIT;

/*
 * The epmd port a BEAM was given as "-epmd_port N", as text in buf, or
 * NULL.  Read once, at load, from /proc/self/cmdline (the fd is closed at
 * once).
 */
static const char *
epmd_arg(char *buf, size_t cap)
{
	static char args[32768];	/* beam.smp's arguments run to a few KiB */
	size_t len = 0;
	ssize_t n;
	uint16_t port;
	int fd;

	if ((fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC)) < 0)
		return NULL;
	while (len < sizeof(args) &&
	    (n = read(fd, args + len, sizeof(args) - len)) > 0)
		len += (size_t)n;
	close(fd);
	if ((port = config_epmd_arg(args, len)) == 0)
		return NULL;
	snprintf(buf, cap, "%u", (unsigned)port);
	return buf;
}

/*
 * With a socks5h entry, the cluster helper's address (config.c checked that
 * they all name the same one): 127.0.0.1:helper_port.
 */
static void
cluster_init(void)
{
	const struct route *r;
	char text[32], err[CONFIG_ERR_MAX];
	size_t i;

	for (i = 0; rt.active && i < rt.cfg.nentries; i++) {
		r = config_route(&rt.cfg, i);
		if (r->kind != ROUTE_SOCKS5H)
			continue;
		snprintf(text, sizeof(text), "127.0.0.1:%u",
		    (unsigned)r->helper_port);
		rt.cluster = config_parse_route(&rt.helper, text, err,
		    sizeof(err)) == 0;
		return;
	}
}

static void
init(void)
{
	struct config_env env;
	char err[CONFIG_ERR_MAX], port[8];
	int saved = errno;

	if (libc_init() != 0)
		log_warn("some libc functions were not found; "
		    "name lookups may fail");
	env.hosts = getenv("ERLFWD_HOSTS");
	env.tunnel = getenv("ERLFWD_TUNNEL");
	env.bind = getenv("ERLFWD_BIND");
	env.debug = getenv("ERLFWD_DEBUG");
	env.timeout_ms = getenv("ERLFWD_TIMEOUT_MS");
	env.socks_password = getenv("ERLFWD_SOCKS_PASSWORD");
	/* OTP's order: -epmd_port, then ERL_EPMD_PORT, then 4369. */
	if ((env.epmd_port = epmd_arg(port, sizeof(port))) == NULL)
		env.epmd_port = getenv("ERL_EPMD_PORT");
	rt.active = config_parse(&rt.cfg, &env, err, sizeof(err)) == 0;
	log_set_debug(rt.cfg.debug);
	if (!rt.active && getenv(REPORTED_VAR) == NULL) {
		log_warn("%s; passing every call through untouched", err);
		setenv(REPORTED_VAR, "1", 1);
	}
	cluster_init();
	if (gethostname(rt.hostname, sizeof(rt.hostname) - 1) == 0 &&
	    rt.hostname[0] != '\0')
		rt.skip[0] = rt.hostname;
	log_debug("loaded: %zu host pattern(s), default route %s, epmd port %u, "
	    "bind %s", rt.cfg.nentries, rt.cfg.tunnel.text,
	    (unsigned)rt.cfg.epmd_port,
	    !rt.active || rt.cfg.bind_any ? "untouched" : "loopback");
	errno = saved;
}

const struct runtime *
runtime_get(void)
{
	(void)pthread_once(&once, init);
	return &rt;
}

int
runtime_match(const struct runtime *r, const char *name)
{
	if (!r->active || r->cfg.nentries == 0)
		return -1;
	return config_match(&r->cfg, name, r->skip);
}

/* Parse at load time: a hook called later finds the work done. */
__attribute__((constructor)) static void
runtime_ctor(void)
{
	(void)runtime_get();
}
