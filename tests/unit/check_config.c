/*
 * check_config.c: the ERLFWD_* variables, routes (erlfwd and socks5://) and
 * host matching (preload/common/config.h), one Check suite.
 *
 * The preload fails open: a bad variable must leave a usable structure with
 * no remote hosts, and an error message that names the variable and never
 * a password.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"

static struct config	*c;
static struct config_env env;
static char		 err[CONFIG_ERR_MAX];

static void
setup(void)
{
	c = malloc(sizeof(*c));
	ck_assert_ptr_nonnull(c);
	memset(c, 0x5a, sizeof(*c));	/* config_parse must set every field */
	memset(&env, 0, sizeof(env));
	err[0] = '\0';
}

static void
teardown(void)
{
	free(c);
}

static int
parse(void)
{
	return config_parse(c, &env, err, sizeof(err));
}

/* An AF_INET route to a.b.c.d:port, as the user wrote it. */
static void
assert_route_v4(const struct route *r, const char *addr, uint16_t port,
    const char *text)
{
	const struct sockaddr_in *sin = (const void *)&r->addr;
	struct in_addr want;

	ck_assert_int_eq(inet_pton(AF_INET, addr, &want), 1);
	ck_assert_int_eq(r->kind, ROUTE_ERLFWD);
	ck_assert_int_eq(sin->sin_family, AF_INET);
	ck_assert_uint_eq(r->addrlen, sizeof(*sin));
	ck_assert_uint_eq(sin->sin_addr.s_addr, want.s_addr);
	ck_assert_uint_eq(ntohs(sin->sin_port), port);
	ck_assert_str_eq(r->text, text);
}

static void
assert_defaults(void)
{
	ck_assert_uint_eq(c->nentries, 0);
	assert_route_v4(&c->tunnel, "127.0.0.1", 9369, CONFIG_DEFAULT_TUNNEL);
	ck_assert_uint_eq(c->epmd_port, CONFIG_DEFAULT_EPMD);
	ck_assert_int_eq(c->bind_any, 0);
	ck_assert_int_eq(c->timeout_ms, CONFIG_DEFAULT_TIMEOUT);
}

/* A failed parse: -1, an error naming var and what, and defaults. */
static void
assert_refused(const char *var, const char *what)
{
	ck_assert_msg(parse() == -1, "%s: '%s' accepted", var, what);
	ck_assert_msg(strstr(err, var) != NULL, "'%s' does not name %s", err,
	    var);
	ck_assert_msg(strstr(err, what) != NULL, "'%s' does not quote '%s'",
	    err, what);
	ck_assert_msg(strchr(err, '\n') == NULL, "'%s' is not one line", err);
	assert_defaults();
}

/* --- the variables -------------------------------------------------------- */

START_TEST(defaults_when_unset)
{
	ck_assert_int_eq(parse(), 0);
	assert_defaults();
	ck_assert_int_eq(c->debug, 0);
	ck_assert_uint_eq(CONFIG_DEFAULT_EPMD, 4369);
	ck_assert_int_eq(CONFIG_DEFAULT_TIMEOUT, 5000);
}
END_TEST

START_TEST(defaults_when_empty)
{
	env.hosts = env.tunnel = env.bind = env.debug = env.timeout_ms =
	    env.epmd_port = "";
	ck_assert_int_eq(parse(), 0);
	assert_defaults();
	ck_assert_int_eq(c->debug, 0);
}
END_TEST

START_TEST(tunnel_good)
{
	const struct sockaddr_in6 *sin6 = (const void *)&c->tunnel.addr;

	env.tunnel = "127.0.0.2:9000";
	ck_assert_int_eq(parse(), 0);
	assert_route_v4(&c->tunnel, "127.0.0.2", 9000, "127.0.0.2:9000");
	env.tunnel = "localhost:1";
	ck_assert_int_eq(parse(), 0);
	assert_route_v4(&c->tunnel, "127.0.0.1", 1, "localhost:1");
	env.tunnel = "[::1]:65535";
	ck_assert_int_eq(parse(), 0);
	ck_assert_int_eq(sin6->sin6_family, AF_INET6);
	ck_assert_int_eq(IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr), 1);
	ck_assert_uint_eq(ntohs(sin6->sin6_port), 65535);
}
END_TEST

START_TEST(tunnel_bad)
{
	static const char *const bad[] = { "nohost", "127.0.0.1", "127.0.0.1:",
	    "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:12a", ":9369",
	    "dyno.example.com:9369", "[::1]", "127.0.0.1:-1", "127.0.0.1: 1" };

	env.tunnel = bad[_i];
	assert_refused("ERLFWD_TUNNEL", bad[_i]);
}
END_TEST

START_TEST(epmd_port_good)
{
	env.epmd_port = "4370";
	ck_assert_int_eq(parse(), 0);
	ck_assert_uint_eq(c->epmd_port, 4370);
	env.epmd_port = "1";
	ck_assert_int_eq(parse(), 0);
	ck_assert_uint_eq(c->epmd_port, 1);
	env.epmd_port = "65535";
	ck_assert_int_eq(parse(), 0);
	ck_assert_uint_eq(c->epmd_port, 65535);
}
END_TEST

START_TEST(epmd_port_bad)
{
	static const char *const bad[] = { "0", "65536", "abc", "12a", " 1",
	    "1 ", "-1", "+1", "4369x", "99999999999999999999999" };

	env.epmd_port = bad[_i];
	assert_refused("ERL_EPMD_PORT", bad[_i]);
}
END_TEST

START_TEST(bind_values)
{
	env.bind = "loopback";
	ck_assert_int_eq(parse(), 0);
	ck_assert_int_eq(c->bind_any, 0);
	env.bind = "any";
	ck_assert_int_eq(parse(), 0);
	ck_assert_int_eq(c->bind_any, 1);
}
END_TEST

START_TEST(bind_bad)
{
	static const char *const bad[] = { "ANY", "all", "0.0.0.0", "1",
	    "loopback " };

	env.bind = bad[_i];
	assert_refused("ERLFWD_BIND", bad[_i]);
}
END_TEST

START_TEST(debug_values)
{
	env.debug = "0";
	ck_assert_int_eq(parse(), 0);
	ck_assert_int_eq(c->debug, 0);
	env.debug = "1";
	ck_assert_int_eq(parse(), 0);
	ck_assert_int_eq(c->debug, 1);
	env.debug = "";
	ck_assert_int_eq(parse(), 0);
	ck_assert_int_eq(c->debug, 0);
}
END_TEST

START_TEST(timeout_good)
{
	env.timeout_ms = "1";
	ck_assert_int_eq(parse(), 0);
	ck_assert_int_eq(c->timeout_ms, 1);
	env.timeout_ms = "600000";
	ck_assert_int_eq(parse(), 0);
	ck_assert_int_eq(c->timeout_ms, 600000);
	env.timeout_ms = "250";
	ck_assert_int_eq(parse(), 0);
	ck_assert_int_eq(c->timeout_ms, 250);
}
END_TEST

START_TEST(timeout_bad)
{
	static const char *const bad[] = { "0", "600001", "abc", "5s", "-5",
	    "1.5", " 100", "99999999999999999999999" };

	env.timeout_ms = bad[_i];
	assert_refused("ERLFWD_TIMEOUT_MS", bad[_i]);
}
END_TEST

/* --- ERLFWD_HOSTS ----------------------------------------------------------- */

START_TEST(hosts_single)
{
	env.hosts = "dyno";
	ck_assert_int_eq(parse(), 0);
	ck_assert_uint_eq(c->nentries, 1);
	ck_assert_str_eq(c->entries[0].pattern, "dyno");
	ck_assert_int_eq(c->entries[0].is_glob, 0);
	ck_assert_int_eq(c->entries[0].has_route, 0);
	ck_assert_ptr_eq(config_route(c, 0), &c->tunnel);
}
END_TEST

START_TEST(hosts_whitespace_trimmed)
{
	env.hosts = " a ,\tb\t, c.d ,e*  ";
	ck_assert_int_eq(parse(), 0);
	ck_assert_uint_eq(c->nentries, 4);
	ck_assert_str_eq(c->entries[0].pattern, "a");
	ck_assert_str_eq(c->entries[1].pattern, "b");
	ck_assert_str_eq(c->entries[2].pattern, "c.d");
	ck_assert_str_eq(c->entries[3].pattern, "e*");
	ck_assert_int_eq(c->entries[3].is_glob, 1);
}
END_TEST

START_TEST(hosts_empty_entry)
{
	static const char *const bad[] = { ",,", "a,,b", "a,", ",a", " ",
	    "a, ,b", "\t" };

	env.hosts = bad[_i];
	ck_assert_int_eq(parse(), -1);
	ck_assert_msg(strstr(err, "ERLFWD_HOSTS") != NULL, "'%s'", err);
	ck_assert_msg(strstr(err, "empty") != NULL, "'%s'", err);
	assert_defaults();
}
END_TEST

/* "h0,h1,...,h(n-1)" into buf. */
static const char *
host_list(char *buf, size_t cap, int n)
{
	size_t off = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; i < n; i++)
		off += (size_t)snprintf(buf + off, cap - off, "%sh%d",
		    i ? "," : "", i);
	ck_assert_uint_lt(off, cap - 1);
	return buf;
}

START_TEST(hosts_max_entries)
{
	char buf[512];

	env.hosts = host_list(buf, sizeof(buf), CONFIG_ENTRIES_MAX);
	ck_assert_int_eq(parse(), 0);
	ck_assert_uint_eq(c->nentries, CONFIG_ENTRIES_MAX);
	ck_assert_str_eq(c->entries[CONFIG_ENTRIES_MAX - 1].pattern, "h31");
	env.hosts = host_list(buf, sizeof(buf), CONFIG_ENTRIES_MAX + 1);
	ck_assert_int_eq(parse(), -1);
	ck_assert_msg(strstr(err, "ERLFWD_HOSTS") != NULL, "'%s'", err);
	ck_assert_msg(strstr(err, "32") != NULL, "'%s'", err);
	assert_defaults();
}
END_TEST

START_TEST(hosts_bad_characters)
{
	static const char *const bad[] = { "web 1", "a/b", "a:b", "::1",
	    "h@x", "caf\xc3\xa9", "a;b", "[x]", "a\\b", "*.example.com." "\n" };

	env.hosts = bad[_i];
	ck_assert_int_eq(parse(), -1);
	ck_assert_msg(strstr(err, "ERLFWD_HOSTS") != NULL, "'%s'", err);
	assert_defaults();
}
END_TEST

START_TEST(hosts_good_patterns)
{
	env.hosts = "dyno,web.*,*,web?,10.0.0.5,my-host_1.example.com,A-Z";
	ck_assert_int_eq(parse(), 0);
	ck_assert_uint_eq(c->nentries, 7);
	ck_assert_int_eq(c->entries[0].is_glob, 0);
	ck_assert_int_eq(c->entries[1].is_glob, 1);
	ck_assert_int_eq(c->entries[2].is_glob, 1);
	ck_assert_int_eq(c->entries[3].is_glob, 1);
	ck_assert_int_eq(c->entries[4].is_glob, 0);
	ck_assert_int_eq(c->entries[5].is_glob, 0);
}
END_TEST

START_TEST(hosts_pattern_length)
{
	char buf[CONFIG_PATTERN_MAX + 512];

	memset(buf, 'a', CONFIG_PATTERN_MAX - 1);
	buf[CONFIG_PATTERN_MAX - 1] = '\0';
	env.hosts = buf;
	ck_assert_int_eq(parse(), 0);
	ck_assert_uint_eq(strlen(c->entries[0].pattern), CONFIG_PATTERN_MAX - 1);
	memset(buf, 'a', CONFIG_PATTERN_MAX);
	buf[CONFIG_PATTERN_MAX] = '\0';
	ck_assert_int_eq(parse(), -1);
	ck_assert_msg(strstr(err, "ERLFWD_HOSTS") != NULL, "'%s'", err);
	memset(buf, 'a', sizeof(buf) - 1);
	buf[sizeof(buf) - 1] = '\0';
	ck_assert_int_eq(parse(), -1);
	ck_assert_msg(strstr(err, "ERLFWD_HOSTS") != NULL, "'%s'", err);
	ck_assert_msg(strstr(err, "too long") != NULL, "'%s'", err);
	ck_assert_uint_lt(strlen(err), sizeof(err) - 1);	/* not truncated */
}
END_TEST

START_TEST(hosts_entry_routes)
{
	const struct sockaddr_in6 *sin6;

	env.hosts = "web.*=127.0.0.1:9000, db , v6=[::1]:9001";
	env.tunnel = "127.0.0.3:9369";
	ck_assert_int_eq(parse(), 0);
	ck_assert_uint_eq(c->nentries, 3);
	ck_assert_str_eq(c->entries[0].pattern, "web.*");
	ck_assert_int_eq(c->entries[0].has_route, 1);
	ck_assert_ptr_eq(config_route(c, 0), &c->entries[0].route);
	assert_route_v4(config_route(c, 0), "127.0.0.1", 9000, "127.0.0.1:9000");
	ck_assert_int_eq(c->entries[1].has_route, 0);
	ck_assert_ptr_eq(config_route(c, 1), &c->tunnel);
	assert_route_v4(config_route(c, 1), "127.0.0.3", 9369, "127.0.0.3:9369");
	ck_assert_str_eq(c->entries[2].pattern, "v6");
	sin6 = (const void *)&config_route(c, 2)->addr;
	ck_assert_int_eq(sin6->sin6_family, AF_INET6);
	ck_assert_uint_eq(ntohs(sin6->sin6_port), 9001);
	/* Past the last entry there is only the default route. */
	ck_assert_ptr_eq(config_route(c, 3), &c->tunnel);
	ck_assert_ptr_eq(config_route(c, (size_t)-1), &c->tunnel);
}
END_TEST

START_TEST(hosts_entry_socks5_route)
{
	env.hosts = "web=socks5://u:p%2Cq@127.0.0.1:1080?target=10.0.0.2&epmd=4370,"
	    "db";
	env.tunnel = "socks5://127.0.0.1:1081";
	ck_assert_int_eq(parse(), 0);
	ck_assert_uint_eq(c->nentries, 2);
	ck_assert_str_eq(c->entries[0].pattern, "web");
	ck_assert_int_eq(config_route(c, 0)->kind, ROUTE_SOCKS5);
	ck_assert_str_eq(config_route(c, 0)->pass, "p,q");
	ck_assert_str_eq(config_route(c, 0)->target, "10.0.0.2");
	ck_assert_uint_eq(config_route(c, 0)->epmd_port, 4370);
	ck_assert_ptr_eq(config_route(c, 1), &c->tunnel);
	ck_assert_int_eq(c->tunnel.kind, ROUTE_SOCKS5);
}
END_TEST

START_TEST(hosts_entry_socks5h_route)
{
	env.hosts = "web-*=socks5h://u:p@127.0.0.1:1055?epmd=4370,"
	    "*.*.ts.net=socks5h://127.0.0.1:1056";
	ck_assert_int_eq(parse(), 0);
	ck_assert_int_eq(config_route(c, 0)->kind, ROUTE_SOCKS5H);
	ck_assert_uint_eq(config_route(c, 0)->epmd_port, 4370);
	ck_assert_uint_eq(config_route(c, 0)->helper_port, 9370);
	ck_assert_str_eq(config_route(c, 0)->user, "u");
	ck_assert_str_eq(config_route(c, 0)->text, "socks5h://***@127.0.0.1:1055");
	ck_assert_uint_eq(config_route(c, 1)->epmd_port, 4369);
	ck_assert_int_eq(config_match(c, "web-848cd4f64d-pvpr2", NULL), 0);
	/* web-* stays within its label: the tailnet name is the second's. */
	ck_assert_int_eq(config_match(c, "web-1.tail1234.ts.net", NULL), 1);
	ck_assert_int_eq(config_match(c, "db.tail1234.ts.net", NULL), 1);
	ck_assert_int_eq(config_match(c, "db.ts.net", NULL), -1);
}
END_TEST

/* A cluster sentinel says nothing of its entry: one helper for all. */
START_TEST(hosts_socks5h_one_helper)
{
	env.hosts = "web-*=socks5h://127.0.0.1:1055?helper=9400,"
	    "db-*=socks5h://127.0.0.1:1055?helper=9400";
	ck_assert_int_eq(parse(), 0);
	ck_assert_uint_eq(config_route(c, 1)->helper_port, 9400);
	env.hosts = "web-*=socks5h://127.0.0.1:1055?helper=9400,"
	    "db-*=socks5h://127.0.0.1:1055";
	ck_assert_int_eq(parse(), -1);
	ck_assert_msg(strstr(err, "same helper") != NULL, "'%s'", err);
}
END_TEST

START_TEST(socks5h_not_a_tunnel)
{
	env.tunnel = "socks5h://127.0.0.1:1055";
	ck_assert_int_eq(parse(), -1);
	ck_assert_msg(strstr(err, "belongs to a pattern") != NULL, "'%s'", err);
}
END_TEST

START_TEST(hosts_entry_route_bad)
{
	static const char *const bad[] = { "web=nohost:1", "web=",
	    "web=127.0.0.1", "web=127.0.0.1:0", "web=127.0.0.1:65536",
	    "web=dyno.example:9369", "=127.0.0.1:1", "a b=127.0.0.1:1" };

	env.hosts = bad[_i];
	ck_assert_int_eq(parse(), -1);
	ck_assert_msg(strstr(err, "ERLFWD_HOSTS") != NULL, "'%s'", err);
	assert_defaults();
}
END_TEST

/* A failed parse leaves defaults even where other variables were good. */
START_TEST(fail_open_resets_good_values)
{
	env.tunnel = "127.0.0.2:1000";
	env.epmd_port = "4400";
	env.bind = "any";
	env.timeout_ms = "100";
	env.hosts = "good,also-good,bad/one";
	ck_assert_int_eq(parse(), -1);
	assert_defaults();
	ck_assert_msg(strstr(err, "bad/one") != NULL, "'%s'", err);
}
END_TEST

/*
 * "Fail open, but keep the user's wish to hear about it": ERLFWD_DEBUG=1
 * survives a failure in any other variable.
 */
START_TEST(fail_open_keeps_debug)
{
	static const char *const vars[] = { "ERLFWD_TUNNEL", "ERL_EPMD_PORT",
	    "ERLFWD_BIND", "ERLFWD_TIMEOUT_MS", "ERLFWD_HOSTS" };

	env.debug = "1";
	switch (_i) {
	case 0:
		env.tunnel = "nohost";
		break;
	case 1:
		env.epmd_port = "0";
		break;
	case 2:
		env.bind = "everywhere";
		break;
	case 3:
		env.timeout_ms = "0";
		break;
	default:
		env.hosts = "a/b";
		break;
	}
	ck_assert_int_eq(parse(), -1);
	ck_assert_msg(strstr(err, vars[_i]) != NULL, "'%s'", err);
	assert_defaults();
	ck_assert_msg(c->debug == 1, "ERLFWD_DEBUG=1 lost after a bad %s (%s)",
	    vars[_i], err);
}
END_TEST

START_TEST(err_may_be_null_or_small)
{
	char tiny[8];

	env.bind = "nowhere";
	ck_assert_int_eq(config_parse(c, &env, NULL, 0), -1);
	assert_defaults();
	memset(tiny, 'x', sizeof(tiny));
	ck_assert_int_eq(config_parse(c, &env, tiny, sizeof(tiny)), -1);
	ck_assert_uint_eq(strlen(tiny), sizeof(tiny) - 1);
}
END_TEST

/* --- routes --------------------------------------------------------------- */

static struct route	route;

START_TEST(route_v4)
{
	ck_assert_int_eq(config_parse_route(&route, "127.0.0.1:9369", err,
	    sizeof(err)), 0);
	assert_route_v4(&route, "127.0.0.1", 9369, "127.0.0.1:9369");
	ck_assert_int_eq(config_parse_route(&route, "10.1.2.3:1", err,
	    sizeof(err)), 0);
	assert_route_v4(&route, "10.1.2.3", 1, "10.1.2.3:1");
}
END_TEST

START_TEST(route_v6)
{
	const struct sockaddr_in6 *sin6 = (const void *)&route.addr;
	struct in6_addr want;

	ck_assert_int_eq(config_parse_route(&route, "[::1]:9369", err,
	    sizeof(err)), 0);
	ck_assert_int_eq(route.kind, ROUTE_ERLFWD);
	ck_assert_int_eq(sin6->sin6_family, AF_INET6);
	ck_assert_uint_eq(route.addrlen, sizeof(*sin6));
	ck_assert_int_eq(IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr), 1);
	ck_assert_uint_eq(ntohs(sin6->sin6_port), 9369);
	ck_assert_str_eq(route.text, "[::1]:9369");
	ck_assert_int_eq(config_parse_route(&route, "[fd00::1:2]:65535", err,
	    sizeof(err)), 0);
	ck_assert_int_eq(inet_pton(AF_INET6, "fd00::1:2", &want), 1);
	ck_assert_mem_eq(&sin6->sin6_addr, &want, sizeof(want));
	ck_assert_uint_eq(ntohs(sin6->sin6_port), 65535);
}
END_TEST

START_TEST(route_localhost)
{
	ck_assert_int_eq(config_parse_route(&route, "localhost:1", err,
	    sizeof(err)), 0);
	assert_route_v4(&route, "127.0.0.1", 1, "localhost:1");
	ck_assert_int_eq(config_parse_route(&route, "LocalHost:2", err,
	    sizeof(err)), 0);
	assert_route_v4(&route, "127.0.0.1", 2, "LocalHost:2");
}
END_TEST

/* A bad route: -1, and a message that quotes it and says what is wrong. */
static void
assert_route_refused(const char *text, const char *why)
{
	err[0] = '\0';
	ck_assert_msg(config_parse_route(&route, text, err, sizeof(err)) == -1,
	    "route '%s' accepted", text);
	ck_assert_msg(strstr(err, why) != NULL, "'%s': '%s' lacks '%s'", text,
	    err, why);
}

START_TEST(route_bad)
{
	assert_route_refused("127.0.0.1", "no port");
	assert_route_refused("", "no port");
	assert_route_refused("127.0.0.1:", "bad port");
	assert_route_refused("127.0.0.1:0", "bad port");
	assert_route_refused("127.0.0.1:65536", "bad port");
	assert_route_refused("127.0.0.1:12a", "bad port");
	assert_route_refused("127.0.0.1:-9", "bad port");
	assert_route_refused(":9369", "no host");
	assert_route_refused("[]:9369", "no host");
	assert_route_refused("example.com:9369", "IP address");
	assert_route_refused("dyno:9369", "dyno:9369");
	assert_route_refused("1.2.3:9369", "IP address");
	assert_route_refused("[::1:9369", "IP address");
}
END_TEST

START_TEST(route_too_long)
{
	char text[ROUTE_TEXT_MAX + 64];

	memset(text, '1', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	assert_route_refused(text, "too long");
	ck_assert_int_eq(config_parse_route(&route, "x", NULL, 0), -1);
}
END_TEST

START_TEST(route_unknown_scheme)
{
	assert_route_refused("http://127.0.0.1:8080", "socks5:// and socks5h://");
	assert_route_refused("socks4://127.0.0.1:1080", "socks5://");
}
END_TEST

START_TEST(route_socks5h_bad)
{
	assert_route_refused("socks5h://127.0.0.1:1055?target=10.0.0.1",
	    "want epmd= or helper=");
	assert_route_refused("socks5h://127.0.0.1:1055?server=9369",
	    "want epmd= or helper=");
	assert_route_refused("socks5h://127.0.0.1:1055?helper=0", "helper port");
	assert_route_refused("socks5h://tailscale:1055", "IP address");
	assert_route_refused("socks5h://:s3cret@127.0.0.1:1055", "USER:PASS");
	ck_assert_ptr_null(strstr(err, "s3cret"));
}
END_TEST

START_TEST(route_socks5_plain)
{
	ck_assert_int_eq(config_parse_route(&route, "socks5://127.0.0.1:1080",
	    err, sizeof(err)), 0);
	ck_assert_int_eq(route.kind, ROUTE_SOCKS5);
	ck_assert_uint_eq(((struct sockaddr_in *)(void *)&route.addr)->sin_family,
	    AF_INET);
	ck_assert_uint_eq(ntohs(((struct sockaddr_in *)(void *)
	    &route.addr)->sin_port), 1080);
	ck_assert_str_eq(route.user, "");
	ck_assert_str_eq(route.pass, "");
	ck_assert_str_eq(route.target, ROUTE_DEFAULT_TARGET);
	ck_assert_uint_eq(route.epmd_port, CONFIG_DEFAULT_EPMD);
	ck_assert_str_eq(route.text, "socks5://127.0.0.1:1080");
	ck_assert_int_eq(config_parse_route(&route, "socks5://localhost:9",
	    err, sizeof(err)), 0);
	ck_assert_int_eq(route.kind, ROUTE_SOCKS5);
	ck_assert_uint_eq(ntohs(((struct sockaddr_in *)(void *)
	    &route.addr)->sin_port), 9);
}
END_TEST

START_TEST(route_socks5_full)
{
	const struct sockaddr_in6 *sin6 = (const void *)&route.addr;

	ck_assert_int_eq(config_parse_route(&route,
	    "socks5://alice:s%40cr%3At@[::1]:1080?target=10.0.0.7&epmd=4370",
	    err, sizeof(err)), 0);
	ck_assert_int_eq(route.kind, ROUTE_SOCKS5);
	ck_assert_int_eq(sin6->sin6_family, AF_INET6);
	ck_assert_uint_eq(route.addrlen, sizeof(*sin6));
	ck_assert_uint_eq(ntohs(sin6->sin6_port), 1080);
	ck_assert_str_eq(route.user, "alice");
	ck_assert_str_eq(route.pass, "s@cr:t");
	ck_assert_str_eq(route.target, "10.0.0.7");
	ck_assert_uint_eq(route.epmd_port, 4370);
	ck_assert_ptr_null(strstr(route.text, "cr"));
	ck_assert_ptr_nonnull(strstr(route.text, "[::1]:1080"));
	ck_assert_int_eq(config_parse_route(&route,
	    "socks5://127.0.0.1:1080?epmd=1&target=db.internal", err,
	    sizeof(err)), 0);
	ck_assert_str_eq(route.target, "db.internal");
	ck_assert_uint_eq(route.epmd_port, 1);
}
END_TEST

START_TEST(route_socks5_credential_lengths)
{
	char text[2 * ROUTE_CRED_MAX + 64], user[ROUTE_CRED_MAX + 1];

	memset(user, 'u', ROUTE_CRED_MAX - 1);
	user[ROUTE_CRED_MAX - 1] = '\0';
	snprintf(text, sizeof(text), "socks5://%s:p@127.0.0.1:1080", user);
	ck_assert_int_eq(config_parse_route(&route, text, err, sizeof(err)), 0);
	ck_assert_uint_eq(strlen(route.user), ROUTE_CRED_MAX - 1);
	ck_assert_str_eq(route.pass, "p");
	memset(user, 'u', ROUTE_CRED_MAX);
	user[ROUTE_CRED_MAX] = '\0';
	snprintf(text, sizeof(text), "socks5://%s:p@127.0.0.1:1080", user);
	assert_route_refused(text, "credentials");
	snprintf(text, sizeof(text), "socks5://p:%s@127.0.0.1:1080", user);
	assert_route_refused(text, "credentials");
}
END_TEST

/*
 * socks5://USER@HOST:PORT: the password comes from ERLFWD_SOCKS_PASSWORD,
 * not from the text, which then sits in no command line.
 */
START_TEST(route_socks5_password_elsewhere)
{
	static const char pw[] = "s3cr,t@:x";

	ck_assert_int_eq(config_parse_route(&route, "socks5://erl@127.0.0.1:1080",
	    err, sizeof(err)), 0);
	ck_assert_str_eq(route.user, "erl");
	ck_assert_str_eq(route.pass, "");
	ck_assert_str_eq(route.text, "socks5://***@127.0.0.1:1080");
	ck_assert_int_eq(config_route_password(&route, NULL, err, sizeof(err)),
	    -1);
	ck_assert_ptr_nonnull(strstr(err, "ERLFWD_SOCKS_PASSWORD"));
	ck_assert_int_eq(config_route_password(&route, pw, err, sizeof(err)), 0);
	ck_assert_str_eq(route.pass, pw);
	/* A password given in the text is kept; no route is touched twice. */
	ck_assert_int_eq(config_parse_route(&route,
	    "socks5://erl:own@127.0.0.1:1080", err, sizeof(err)), 0);
	ck_assert_int_eq(config_route_password(&route, pw, err, sizeof(err)), 0);
	ck_assert_str_eq(route.pass, "own");
	ck_assert_int_eq(config_parse_route(&route, "127.0.0.1:9369", err,
	    sizeof(err)), 0);
	ck_assert_int_eq(config_route_password(&route, NULL, err, sizeof(err)),
	    0);
	/* Through the environment: the tunnel and every pattern's route. */
	env.tunnel = "socks5://erl@127.0.0.1:1080";
	env.hosts = "dyno,web=socks5h://erl@127.0.0.1:1055";
	ck_assert_int_eq(parse(), -1);
	ck_assert_ptr_nonnull(strstr(err, "ERLFWD_TUNNEL"));
	ck_assert_ptr_nonnull(strstr(err, "ERLFWD_SOCKS_PASSWORD"));
	env.socks_password = pw;
	ck_assert_int_eq(parse(), 0);
	ck_assert_str_eq(c->tunnel.pass, pw);
	ck_assert_str_eq(c->entries[1].route.pass, pw);
	ck_assert_ptr_null(strstr(c->tunnel.text, pw));
}
END_TEST

START_TEST(route_socks5_bad)
{
	assert_route_refused("socks5://", "no port");
	assert_route_refused("socks5://127.0.0.1", "no port");
	assert_route_refused("socks5://127.0.0.1:0", "bad port");
	assert_route_refused("socks5://proxy.example:1080", "IP address");
	assert_route_refused("socks5://:pass@127.0.0.1:1080", "credentials");
	assert_route_refused("socks5://user:@127.0.0.1:1080", "credentials");
	assert_route_refused("socks5://u:%zz@127.0.0.1:1080", "credentials");
	assert_route_refused("socks5://u:%00@127.0.0.1:1080", "credentials");
	assert_route_refused("socks5://u:ab%4@127.0.0.1:1080", "credentials");
	assert_route_refused("socks5://127.0.0.1:1080?target=", "target");
	assert_route_refused("socks5://127.0.0.1:1080?target", "KEY=VALUE");
	assert_route_refused("socks5://127.0.0.1:1080?epmd=0", "epmd");
	assert_route_refused("socks5://127.0.0.1:1080?epmd=65536", "epmd");
	assert_route_refused("socks5://127.0.0.1:1080?epmd=4x", "epmd");
	assert_route_refused("socks5://127.0.0.1:1080?colour=red", "colour");
}
END_TEST

/* 1 when err holds any three bytes in a row of secret. */
static int
leaks(const char *msg, const char *secret)
{
	char piece[4];
	size_t i;

	for (i = 0; i + 3 <= strlen(secret); i++) {
		memcpy(piece, secret + i, 3);
		piece[3] = '\0';
		if (strstr(msg, piece) != NULL)
			return 1;
	}
	return 0;
}

/*
 * "A message in err that never repeats a password", whatever is wrong with
 * the route and however it was given.  The password is Zq9Xw7 throughout.
 */
START_TEST(route_error_never_repeats_password)
{
	static const char *const bad[] = {
		"socks5://u:Zq9Xw7@127.0.0.1:0",
		"socks5://u:Zq9Xw7@127.0.0.1",
		"socks5://u:Zq9Xw7@dyno.example:1080",
		"socks5://u:Zq9Xw7@127.0.0.1:1080?x=1",
		"socks5://u:Zq9Xw7@127.0.0.1:1080?epmd=0",
		"socks5://u:Zq9Xw7%zz@127.0.0.1:1080",
		"socks5://u:pa@Zq9Xw7@127.0.0.1:1080",	/* '@' not escaped */
		"socks://u:Zq9Xw7@127.0.0.1:1080",	/* scheme misspelt */
		"SOCKS5://u:Zq9Xw7@127.0.0.1:1080",
		"socks5://u:Zq?9Xw7@127.0.0.1:1080",	/* '?' not escaped */
		"socks5://u:Zq9",			/* cut at a ',' */
		"socks5:/u:Zq9Xw7@127.0.0.1:1080",	/* scheme mistyped */
		"u:Zq9Xw7@127.0.0.1:1080",		/* scheme forgotten */
		"socks5://u:Zq9Xw7@127.0.0.1:1080?target=",
	};
	char hosts[512];
	int rc;

	err[0] = '\0';
	rc = config_parse_route(&route, bad[_i], err, sizeof(err));
	/* An unescaped '@' in the password and a scheme in capitals (URL
	 * schemes ignore case) are taken, and so is a '?' in a password:
	 * none may leak. */
	ck_assert_msg(rc == -1 || strcmp(route.pass, "pa@Zq9Xw7") == 0 ||
	    strcmp(route.pass, "Zq?9Xw7") == 0 ||
	    (strncmp(bad[_i], "SOCKS5", 6) == 0 &&
	    strcmp(route.pass, "Zq9Xw7") == 0), "'%s' accepted", bad[_i]);
	ck_assert_msg(!leaks(err, "Zq9Xw7"), "config_parse_route('%s'): '%s'",
	    bad[_i], err);
	ck_assert_msg(!leaks(route.text, "Zq9Xw7"), "route text '%s'",
	    route.text);
	env.tunnel = bad[_i];
	err[0] = '\0';
	(void)parse();
	ck_assert_msg(!leaks(err, "Zq9Xw7"), "ERLFWD_TUNNEL='%s': '%s'",
	    bad[_i], err);
	env.tunnel = NULL;
	snprintf(hosts, sizeof(hosts), "web=%s", bad[_i]);
	env.hosts = hosts;
	err[0] = '\0';
	(void)parse();
	ck_assert_msg(!leaks(err, "Zq9Xw7"), "ERLFWD_HOSTS='%s': '%s'", hosts,
	    err);
}
END_TEST

/* An entry too long to hold is refused without quoting its route. */
START_TEST(hosts_too_long_entry_hides_password)
{
	char hosts[CONFIG_PATTERN_MAX + 200];
	size_t off;

	off = (size_t)snprintf(hosts, sizeof(hosts),
	    "web=socks5://u:Zq9Xw7@127.0.0.1:1080?target=");
	memset(hosts + off, 't', sizeof(hosts) - off - 1);
	hosts[sizeof(hosts) - 1] = '\0';
	env.hosts = hosts;
	ck_assert_int_eq(parse(), -1);
	ck_assert_msg(strstr(err, "ERLFWD_HOSTS") != NULL, "'%s'", err);
	ck_assert_msg(!leaks(err, "Zq9Xw7"), "'%s'", err);
}
END_TEST

/* --- globs and matching ----------------------------------------------------- */

START_TEST(glob_cases)
{
	ck_assert_int_eq(config_glob("web.*", "web.1"), 1);
	/* Within one label: the name's labels are the pattern's. */
	ck_assert_int_eq(config_glob("web.*", "web.10.example"), 0);
	ck_assert_int_eq(config_glob("web-*", "web-1.attacker.example"), 0);
	ck_assert_int_eq(config_glob("web-*", "web-1.169.254.169.254.nip.io"), 0);
	ck_assert_int_eq(config_glob("web-*", "web-1"), 1);
	ck_assert_int_eq(config_glob("web-?", "web-."), 0);
	ck_assert_int_eq(config_glob("*.x", "a.b.x"), 0);
	ck_assert_int_eq(config_glob("*.*.x", "a.b.x"), 1);
	ck_assert_int_eq(config_glob("*", "a.b.c"), 1);
	ck_assert_int_eq(config_glob("web.*", "web."), 1);
	ck_assert_int_eq(config_glob("web.*", "web"), 0);
	ck_assert_int_eq(config_glob("web.*", "xweb.1"), 0);
	ck_assert_int_eq(config_glob("*", "anything.at.all"), 1);
	ck_assert_int_eq(config_glob("*", "x"), 1);
	ck_assert_int_eq(config_glob("?", "a"), 1);
	ck_assert_int_eq(config_glob("?", ""), 0);
	ck_assert_int_eq(config_glob("?", "ab"), 0);
	ck_assert_int_eq(config_glob("web?", "web1"), 1);
	ck_assert_int_eq(config_glob("web?", "web12"), 0);
	ck_assert_int_eq(config_glob("web?", "web"), 0);
	ck_assert_int_eq(config_glob("w?b", "wxb"), 1);
	ck_assert_int_eq(config_glob("*.example.com", "a.example.com"), 1);
	ck_assert_int_eq(config_glob("*.example.com", "a.b.example.com"), 0);
	ck_assert_int_eq(config_glob("*.example.com", "example.com"), 0);
	ck_assert_int_eq(config_glob("a*b*c", "axxbyyc"), 1);
	ck_assert_int_eq(config_glob("a*b*c", "abc"), 1);
	ck_assert_int_eq(config_glob("a*b*c", "acb"), 0);
	ck_assert_int_eq(config_glob("a*b", "abab"), 1);
	ck_assert_int_eq(config_glob("a*b", "abba"), 0);
	ck_assert_int_eq(config_glob("*a", "aaab"), 0);
	ck_assert_int_eq(config_glob("**", "x"), 1);
	ck_assert_int_eq(config_glob("*?", ""), 0);
	ck_assert_int_eq(config_glob("*?", "x"), 1);
	ck_assert_int_eq(config_glob("dyno", "dyno"), 1);
	ck_assert_int_eq(config_glob("dyno", "dyno1"), 0);
	ck_assert_int_eq(config_glob("dyno", "dyn"), 0);
}
END_TEST

START_TEST(glob_ignores_case)
{
	ck_assert_int_eq(config_glob("Web.*", "wEB.1"), 1);
	ck_assert_int_eq(config_glob("WEB?", "web1"), 1);
	ck_assert_int_eq(config_glob("*.EXAMPLE.com", "a.example.COM"), 1);
}
END_TEST

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Patterns that make a backtracking glob exponential must stay quick. */
START_TEST(glob_pathological_is_fast)
{
	static const char *const patterns[] = { "a*a*a*a*a*b",
	    "*a*a*a*a*a*a*a*a*a*a*a*a*b", "*aaaaaaaaaaaaaaaaaaaaaaaaaaaaab",
	    "?*?*?*?*?*?*?*?*b" };
	size_t n = 100000, i;
	char *name;
	double t0, dt;

	name = malloc(n + 1);
	ck_assert_ptr_nonnull(name);
	memset(name, 'a', n);
	name[n] = '\0';
	for (i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++) {
		t0 = now();
		ck_assert_int_eq(config_glob(patterns[i], name), 0);
		dt = now() - t0;
		ck_assert_msg(dt < 0.5, "'%s' against %zu a's took %.3fs",
		    patterns[i], n, dt);
	}
	name[n - 1] = 'b';
	ck_assert_int_eq(config_glob("a*a*a*a*a*b", name), 1);
	free(name);
}
END_TEST

START_TEST(match_basic)
{
	env.hosts = "dyno,web.*,10.0.0.5";
	ck_assert_int_eq(parse(), 0);
	ck_assert_int_eq(config_match(c, "dyno", NULL), 0);
	ck_assert_int_eq(config_match(c, "DYNO", NULL), 0);
	ck_assert_int_eq(config_match(c, "dyno1", NULL), -1);
	ck_assert_int_eq(config_match(c, "web.1", NULL), 1);
	ck_assert_int_eq(config_match(c, "WEB.2", NULL), 1);
	ck_assert_int_eq(config_match(c, "web", NULL), -1);
	ck_assert_int_eq(config_match(c, "10.0.0.5", NULL), 2);
	ck_assert_int_eq(config_match(c, "10.0.0.50", NULL), -1);
	ck_assert_int_eq(config_match(c, "", NULL), -1);
	ck_assert_int_eq(config_match(c, NULL, NULL), -1);
}
END_TEST

START_TEST(match_star_spares_local_names)
{
	static const char *const skip[] = { "myhost", "myhost.local", NULL };
	static const char *const empty[] = { NULL };

	env.hosts = "*";
	ck_assert_int_eq(parse(), 0);
	ck_assert_int_eq(config_match(c, "anything", skip), 0);
	ck_assert_int_eq(config_match(c, "x", NULL), 0);
	ck_assert_int_eq(config_match(c, "localhost", NULL), -1);
	ck_assert_int_eq(config_match(c, "LOCALHOST", skip), -1);
	ck_assert_int_eq(config_match(c, "myhost", skip), -1);
	ck_assert_int_eq(config_match(c, "MyHost", skip), -1);
	ck_assert_int_eq(config_match(c, "myhost.local", skip), -1);
	ck_assert_int_eq(config_match(c, "myhost", NULL), 0);
	ck_assert_int_eq(config_match(c, "myhost", empty), 0);
	ck_assert_int_eq(config_match(c, "myhost2", skip), 0);
}
END_TEST

START_TEST(match_other_globs_spare_local_names)
{
	static const char *const skip[] = { "web.me", NULL };

	env.hosts = "local*,?ocalhost,web.*";
	ck_assert_int_eq(parse(), 0);
	ck_assert_int_eq(config_match(c, "localhost", skip), -1);
	ck_assert_int_eq(config_match(c, "localnet", skip), 0);
	ck_assert_int_eq(config_match(c, "web.me", skip), -1);
	ck_assert_int_eq(config_match(c, "web.you", skip), 2);
}
END_TEST

/* Only globs are stopped: a name written out in full is the user's choice. */
START_TEST(match_exact_names_are_not_skipped)
{
	static const char *const skip[] = { "myhost", NULL };

	env.hosts = "*.x,localhost,myhost";
	ck_assert_int_eq(parse(), 0);
	ck_assert_int_eq(config_match(c, "localhost", skip), 1);
	ck_assert_int_eq(config_match(c, "myhost", skip), 2);
	ck_assert_int_eq(config_match(c, "a.x", skip), 0);
}
END_TEST

START_TEST(match_first_wins)
{
	env.hosts = "web.*=127.0.0.1:1,web.1=127.0.0.1:2,*";
	ck_assert_int_eq(parse(), 0);
	ck_assert_int_eq(config_match(c, "web.1", NULL), 0);
	assert_route_v4(config_route(c, 0), "127.0.0.1", 1, "127.0.0.1:1");
	ck_assert_int_eq(config_match(c, "db", NULL), 2);
	ck_assert_ptr_eq(config_route(c, 2), &c->tunnel);
	env.hosts = "web.1=127.0.0.1:2,web.*=127.0.0.1:1";
	ck_assert_int_eq(parse(), 0);
	ck_assert_int_eq(config_match(c, "web.1", NULL), 0);
	ck_assert_int_eq(config_match(c, "web.2", NULL), 1);
}
END_TEST

START_TEST(match_nothing_configured)
{
	ck_assert_int_eq(parse(), 0);
	ck_assert_int_eq(config_match(c, "dyno", NULL), -1);
	ck_assert_ptr_eq(config_route(c, 0), &c->tunnel);
}
END_TEST

/* "-epmd_port N" in a NUL-separated argument list, as /proc/self/cmdline. */
START_TEST(epmd_arg_found)
{
	static const char args[] = "beam.smp\0--\0-epmd_port\0" "4370\0-sname\0a";

	ck_assert_uint_eq(config_epmd_arg(args, sizeof(args)), 4370);
}
END_TEST

/* erlexec turns ERL_EPMD_PORT into a leading "-epmd_port", and OTP's
 * erl_epmd takes the first value init:get_argument(epmd_port) lists. */
START_TEST(epmd_arg_first_wins)
{
	static const char args[] = "-epmd_port\0" "1\0-epmd_port\0" "65535\0";
	static const char beam[] = "beam.smp\0--\0-home\0/root\0-epmd_port\0"
	    "4370\0--\0-epmd_port\0" "4371\0-noshell";

	ck_assert_uint_eq(config_epmd_arg(args, sizeof(args) - 1), 1);
	ck_assert_uint_eq(config_epmd_arg(beam, sizeof(beam)), 4370);
}
END_TEST

/* After -extra, arguments are the program's, not the emulator's flags. */
START_TEST(epmd_arg_not_after_extra)
{
	static const char args[] = "-sname\0a\0-extra\0-epmd_port\0" "4370\0";

	ck_assert_uint_eq(config_epmd_arg(args, sizeof(args) - 1), 0);
}
END_TEST

START_TEST(epmd_arg_absent_or_bad)
{
	static const struct { const char *a; size_t n; } c[] = {
		{ "beam.smp\0-sname\0a\0", 18 },
		{ "-epmd_port\0", 11 },		/* no value */
		{ "-epmd_port\0" "0\0", 13 },		/* not a port */
		{ "-epmd_port\0" "65536\0", 17 },
		{ "-epmd_port\0" "43x\0", 15 },
		{ "-epmd_port\0" "4370", 15 },		/* cut short: no NUL */
		{ "x-epmd_port\0" "4370\0", 17 },	/* not the flag */
		{ "", 0 },
	};

	ck_assert_uint_eq(config_epmd_arg(c[_i].a, c[_i].n), 0);
}
END_TEST

static Suite *
config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc;

	tc = tcase_create("variables");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, defaults_when_unset);
	tcase_add_test(tc, defaults_when_empty);
	tcase_add_test(tc, tunnel_good);
	tcase_add_loop_test(tc, tunnel_bad, 0, 11);
	tcase_add_test(tc, epmd_port_good);
	tcase_add_loop_test(tc, epmd_port_bad, 0, 10);
	tcase_add_test(tc, bind_values);
	tcase_add_loop_test(tc, bind_bad, 0, 5);
	tcase_add_test(tc, debug_values);
	tcase_add_test(tc, timeout_good);
	tcase_add_loop_test(tc, timeout_bad, 0, 8);
	tcase_add_test(tc, fail_open_resets_good_values);
	tcase_add_loop_test(tc, fail_open_keeps_debug, 0, 5);
	tcase_add_test(tc, err_may_be_null_or_small);
	suite_add_tcase(s, tc);

	tc = tcase_create("epmd_arg");
	tcase_add_test(tc, epmd_arg_found);
	tcase_add_test(tc, epmd_arg_first_wins);
	tcase_add_test(tc, epmd_arg_not_after_extra);
	tcase_add_loop_test(tc, epmd_arg_absent_or_bad, 0, 8);
	suite_add_tcase(s, tc);

	tc = tcase_create("hosts");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, hosts_single);
	tcase_add_test(tc, hosts_whitespace_trimmed);
	tcase_add_loop_test(tc, hosts_empty_entry, 0, 7);
	tcase_add_test(tc, hosts_max_entries);
	tcase_add_loop_test(tc, hosts_bad_characters, 0, 10);
	tcase_add_test(tc, hosts_good_patterns);
	tcase_add_test(tc, hosts_pattern_length);
	tcase_add_test(tc, hosts_entry_routes);
	tcase_add_test(tc, hosts_entry_socks5_route);
	tcase_add_test(tc, hosts_too_long_entry_hides_password);
	tcase_add_loop_test(tc, hosts_entry_route_bad, 0, 8);
	suite_add_tcase(s, tc);

	tc = tcase_create("routes");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, route_v4);
	tcase_add_test(tc, route_v6);
	tcase_add_test(tc, route_localhost);
	tcase_add_test(tc, route_bad);
	tcase_add_test(tc, route_too_long);
	tcase_add_test(tc, route_unknown_scheme);
	tcase_add_test(tc, route_socks5_plain);
	tcase_add_test(tc, route_socks5_full);
	tcase_add_test(tc, route_socks5_credential_lengths);
	tcase_add_test(tc, route_socks5_password_elsewhere);
	tcase_add_test(tc, route_socks5_bad);
	tcase_add_loop_test(tc, route_error_never_repeats_password, 0, 14);
	suite_add_tcase(s, tc);

	tc = tcase_create("match");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, glob_cases);
	tcase_add_test(tc, glob_ignores_case);
	tcase_add_test(tc, glob_pathological_is_fast);
	tcase_add_test(tc, match_basic);
	tcase_add_test(tc, match_star_spares_local_names);
	tcase_add_test(tc, match_other_globs_spare_local_names);
	tcase_add_test(tc, match_exact_names_are_not_skipped);
	tcase_add_test(tc, match_first_wins);
	tcase_add_test(tc, match_nothing_configured);
	tcase_add_test(tc, hosts_entry_socks5h_route);
	tcase_add_test(tc, hosts_socks5h_one_helper);
	tcase_add_test(tc, socks5h_not_a_tunnel);
	tcase_add_test(tc, route_socks5h_bad);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr;
	int failed;

	sr = srunner_create(config_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
