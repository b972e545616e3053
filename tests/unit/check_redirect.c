/*
 * check_redirect.c: a connect aimed at a sentinel, sent to its route
 * instead (preload/redirect.h), one Check suite.  The routes lead to
 * scripted far ends (fake.h) on 127.0.0.1; the caller's socket is a real
 * one, blocking or not, IPv4 or IPv6, and must come back connected, with
 * its flags as they were, or with the errno a real connect could give.
 */
#include <sys/socket.h>
#include <netinet/in.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "fake.h"
#include "frame.h"
#include "libc.h"
#include "redirect.h"
#include "runtime.h"
#include "tio.h"

#define LOCAL_EPMD	4369
#define NODE_PORT	40000

static struct runtime rt;
static struct fake f;
static int fd = -1;

static void
setup(void)
{
	/* Here no hook stands between us and libc, so dlsym(RTLD_NEXT) finds
	 * our own connect and libc_init falls back to the system calls (and
	 * says so): the table works all the same. */
	(void)libc_init();
	ck_assert_ptr_nonnull(libc.connect);
}

static void
teardown(void)
{
	if (fd >= 0)
		close(fd);
	fd = -1;
}

/* rt with the one entry "dyno" on route (text), timeout_ms. */
static void
configure(const char *route, const char *timeout_ms)
{
	struct config_env env;
	char hosts[160], err[CONFIG_ERR_MAX];

	snprintf(hosts, sizeof(hosts), "dyno=%s", route);
	memset(&env, 0, sizeof(env));
	env.hosts = hosts;
	env.timeout_ms = timeout_ms;
	memset(&rt, 0, sizeof(rt));
	ck_assert_msg(config_parse(&rt.cfg, &env, err, sizeof(err)) == 0,
	    "%s", err);
	ck_assert_uint_eq(rt.cfg.epmd_port, LOCAL_EPMD);
	rt.active = 1;
}

static void
configure_to(int socks5, uint16_t port, const char *query)
{
	char text[96];

	fake_route(text, sizeof(text) - 32, socks5, port);
	strcat(text, query);
	configure(text, "2000");
}

static int
new_socket(int af, int nonblock)
{
	fd = socket(af, SOCK_STREAM | (nonblock ? SOCK_NONBLOCK : 0), 0);
	ck_assert_int_ge(fd, 0);
	return fd;
}

/* The preamble erlfwd-server must have read for port. */
static void
assert_preamble(uint16_t port, enum frame_tag tag)
{
	uint8_t want[FRAME_HDR_LEN];

	ck_assert_int_eq(frame_encode(want, sizeof(want), tag, port, NULL, 0),
	    FRAME_HDR_LEN);
	ck_assert_uint_ge(f.gotlen, FRAME_HDR_LEN);
	ck_assert_mem_eq(f.got, want, FRAME_HDR_LEN);
}

static const struct fake_step read_preamble[] = {
	{ FAKE_READ, NULL, FRAME_HDR_LEN },
	{ FAKE_STALL, NULL, 0 },
};

/* Loop over blocking (0) and non-blocking (1) sockets. */
START_TEST(epmd_and_flags_kept)
{
	int before;

	fake_start(&f, read_preamble, 2);
	configure_to(0, f.port, "");
	new_socket(AF_INET, _i);
	before = fcntl(fd, F_GETFL);
	ck_assert_int_eq(redirect_connect(&rt, fd, AF_INET, 0, LOCAL_EPMD), 0);
	ck_assert_int_eq(fcntl(fd, F_GETFL), before);
	close(fd);
	fd = -1;
	fake_stop(&f);
	assert_preamble(LOCAL_EPMD, FRAME_TAG_EPMD);
}
END_TEST

START_TEST(dist)
{
	fake_start(&f, read_preamble, 2);
	configure_to(0, f.port, "");
	new_socket(AF_INET, 0);
	ck_assert_int_eq(redirect_connect(&rt, fd, AF_INET, 0, NODE_PORT), 0);
	close(fd);
	fd = -1;
	fake_stop(&f);
	assert_preamble(NODE_PORT, FRAME_TAG_DIST);
}
END_TEST

START_TEST(ipv4_route_on_ipv6_socket)
{
	fake_start(&f, read_preamble, 2);
	configure_to(0, f.port, "");
	new_socket(AF_INET6, 0);
	ck_assert_int_eq(redirect_connect(&rt, fd, AF_INET6, 0, NODE_PORT), 0);
	close(fd);
	fd = -1;
	fake_stop(&f);
	assert_preamble(NODE_PORT, FRAME_TAG_DIST);
}
END_TEST

START_TEST(ipv6_route_on_ipv4_socket)
{
	configure("[::1]:9369", "2000");
	new_socket(AF_INET, 0);
	ck_assert_int_eq(redirect_connect(&rt, fd, AF_INET, 0, NODE_PORT),
	    EAFNOSUPPORT);
}
END_TEST

START_TEST(port_zero)
{
	configure("127.0.0.1:9369", "2000");
	new_socket(AF_INET, 0);
	ck_assert_int_eq(redirect_connect(&rt, fd, AF_INET, 0, 0),
	    EADDRNOTAVAIL);
}
END_TEST

/* Loop: an erlfwd route, a SOCKS5 route. */
START_TEST(refused)
{
	int before;

	configure_to(_i, fake_closed_port(), "");
	new_socket(AF_INET, 0);
	before = fcntl(fd, F_GETFL);
	ck_assert_int_eq(redirect_connect(&rt, fd, AF_INET, 0, NODE_PORT),
	    ECONNREFUSED);
	ck_assert_int_eq(fcntl(fd, F_GETFL), before);
}
END_TEST

START_TEST(socks_epmd_port)
{
	static const struct fake_step s[] = {
		{ FAKE_SOCKS_OK, NULL, 0 },
		{ FAKE_STALL, NULL, 0 },
	};

	fake_start(&f, s, 2);
	configure_to(1, f.port, "?epmd=4370");
	new_socket(AF_INET, 0);
	ck_assert_int_eq(redirect_connect(&rt, fd, AF_INET, 0, LOCAL_EPMD), 0);
	close(fd);
	fd = -1;
	fake_stop(&f);
	/* The remote epmd's port, not ours; and no preamble. */
	ck_assert_uint_eq(f.socks_port, 4370);
	ck_assert_int_ne(memcmp(f.got, FRAME_MAGIC, FRAME_MAGIC_LEN), 0);
}
END_TEST

START_TEST(socks_node_port)
{
	static const struct fake_step s[] = {
		{ FAKE_SOCKS_OK, NULL, 0 },
		{ FAKE_STALL, NULL, 0 },
	};

	fake_start(&f, s, 2);
	configure_to(1, f.port, "");
	new_socket(AF_INET, 1);
	ck_assert_int_eq(redirect_connect(&rt, fd, AF_INET, 0, NODE_PORT), 0);
	close(fd);
	fd = -1;
	fake_stop(&f);
	ck_assert_uint_eq(f.socks_port, NODE_PORT);
}
END_TEST

START_TEST(socks_target_refused)
{
	static const struct fake_step s[] = {
		{ FAKE_SOCKS_FAIL, NULL, 5 },	/* connection refused */
	};

	fake_start(&f, s, 1);
	configure_to(1, f.port, "");
	new_socket(AF_INET, 0);
	ck_assert_int_eq(redirect_connect(&rt, fd, AF_INET, 0, NODE_PORT),
	    ECONNREFUSED);
	fake_stop(&f);
}
END_TEST

START_TEST(socks_stall_times_out)
{
	static const struct fake_step s[] = {
		{ FAKE_STALL, NULL, 0 },
	};
	long t0;
	char text[64];

	fake_start(&f, s, 1);
	configure(fake_route(text, sizeof(text), 1, f.port), "300");
	new_socket(AF_INET, 0);
	t0 = tio_now_ms();
	ck_assert_int_eq(redirect_connect(&rt, fd, AF_INET, 0, NODE_PORT),
	    ETIMEDOUT);
	ck_assert_int_ge(tio_now_ms() - t0, 300);
	ck_assert_int_lt(tio_now_ms() - t0, 2000);
	close(fd);
	fd = -1;
	fake_stop(&f);
}
END_TEST

static Suite *
redirect_suite(void)
{
	Suite *s = suite_create("redirect");
	TCase *tc = tcase_create("erlfwd");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, epmd_and_flags_kept, 0, 2);
	tcase_add_test(tc, dist);
	tcase_add_test(tc, ipv4_route_on_ipv6_socket);
	tcase_add_test(tc, ipv6_route_on_ipv4_socket);
	tcase_add_test(tc, port_zero);
	tcase_add_loop_test(tc, refused, 0, 2);
	suite_add_tcase(s, tc);

	tc = tcase_create("socks5");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, socks_epmd_port);
	tcase_add_test(tc, socks_node_port);
	tcase_add_test(tc, socks_target_refused);
	tcase_add_test(tc, socks_stall_times_out);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr;
	int failed;

	sr = srunner_create(redirect_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
