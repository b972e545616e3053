/*
 * check_helper.c: the preload's side of the cluster helper
 * (preload/helper.h), one Check suite.  The helper is a scripted far end
 * (fake.h) on 127.0.0.1: a lookup must come back with the sentinel it
 * answered and nothing else (never an address it did not give, whatever it
 * says or fails to say, within the bound), leave errno and the process's
 * descriptors as they were; a connect must write the 14-byte request and
 * leave the caller's socket connected with its flags as they were.
 */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cluster.h"
#include "config.h"
#include "fake.h"
#include "helper.h"
#include "libc.h"
#include "runtime.h"
#include "tio.h"

#define LOCAL_EPMD	4369
#define NODE_PORT	40000
#define NAME		"web-848cd4f64d-pvpr2"

static struct runtime rt;
static struct fake f;
static int fd = -1;

static void
setup(void)
{
	(void)libc_init();	/* falls back to the system calls here */
}

static void
teardown(void)
{
	if (fd >= 0)
		close(fd);
	fd = -1;
}

/* rt with a socks5h entry whose helper listens on port. */
static void
configure(uint16_t port, const char *timeout_ms)
{
	struct config_env env;
	char hosts[160], helper[32], err[CONFIG_ERR_MAX];

	snprintf(hosts, sizeof(hosts),
	    "web-*=socks5h://127.0.0.1:1055?helper=%u", (unsigned)port);
	memset(&env, 0, sizeof(env));
	env.hosts = hosts;
	env.timeout_ms = timeout_ms;
	memset(&rt, 0, sizeof(rt));
	ck_assert_msg(config_parse(&rt.cfg, &env, err, sizeof(err)) == 0,
	    "%s", err);
	snprintf(helper, sizeof(helper), "127.0.0.1:%u", (unsigned)port);
	ck_assert_int_eq(config_parse_route(&rt.helper, helper, err,
	    sizeof(err)), 0);
	rt.active = rt.cluster = 1;
}

static int
open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while (readdir(d) != NULL)
		n++;
	closedir(d);
	return n;
}

static uint8_t answer_42[CLUSTER_ANSWER_LEN];
static uint8_t answer_none[10];
static const uint8_t answer_v1[] = "EFWD\x01\x05\x00\x00\x00\x04\x7f\xf0\x00\x2a";
static const uint8_t answer_outside[] = "EFWD\x03\x05\x00\x00\x00\x04\x0a\x00\x00\x01";

/* The LOOKUP for NAME, then what the helper says. */
static struct fake_step lookup_steps[] = {
	{ FAKE_READ, NULL, 10 + sizeof(NAME) - 1 },
	{ FAKE_WRITE, NULL, 0 },
};

static void
play_lookup(const void *answer, size_t len)
{
	lookup_steps[1].data = answer;
	lookup_steps[1].len = len;
	fake_start(&f, lookup_steps, 2);
	configure(f.port, "2000");
}

START_TEST(lookup_answered)
{
	uint8_t want[CLUSTER_REQ_MAX];
	struct in_addr a;
	char text[INET_ADDRSTRLEN];
	int fds = open_fds(), n;

	ck_assert_int_eq(cluster_encode_answer(answer_42, sizeof(answer_42),
	    42), CLUSTER_ANSWER_LEN);
	play_lookup(answer_42, sizeof(answer_42));
	errno = EBADF;
	ck_assert_int_eq(helper_lookup(&rt, NAME, &a), 0);
	ck_assert_int_eq(errno, EBADF);
	ck_assert_str_eq(inet_ntop(AF_INET, &a, text, sizeof(text)),
	    "127.240.0.42");
	fake_stop(&f);
	n = cluster_encode_lookup(want, sizeof(want), NAME);
	ck_assert_uint_eq(f.gotlen, (size_t)n);
	ck_assert_mem_eq(f.got, want, (size_t)n);
	ck_assert_int_eq(open_fds(), fds);
}
END_TEST

/* "No such name", a version 1 frame, an address outside the range. */
START_TEST(lookup_refused_or_malformed)
{
	static const struct { const void *p; size_t len; } answers[] = {
		{ answer_none, sizeof(answer_none) },
		{ answer_v1, sizeof(answer_v1) - 1 },
		{ answer_outside, sizeof(answer_outside) - 1 },
		{ answer_42, 12 },	/* cut short, then closed */
	};
	struct in_addr a = { 0 };

	ck_assert_int_eq(cluster_encode_answer(answer_none, sizeof(answer_none),
	    0), 10);
	(void)cluster_encode_answer(answer_42, sizeof(answer_42), 42);
	play_lookup(answers[_i].p, answers[_i].len);
	ck_assert_int_eq(helper_lookup(&rt, NAME, &a), ENOENT);
	ck_assert_uint_eq(a.s_addr, 0);
	fake_stop(&f);
}
END_TEST

START_TEST(lookup_no_helper)
{
	struct in_addr a = { 0 };
	int fds = open_fds();

	configure(fake_closed_port(), "2000");
	errno = EINTR;
	ck_assert_int_eq(helper_lookup(&rt, NAME, &a), ENOENT);
	ck_assert_int_eq(errno, EINTR);
	ck_assert_uint_eq(a.s_addr, 0);
	ck_assert_int_eq(open_fds(), fds);
}
END_TEST

/* A helper that never answers: bounded by ERLFWD_TIMEOUT_MS (and 1 s). */
START_TEST(lookup_stall_is_bounded)
{
	static const struct fake_step stall[] = {
		{ FAKE_STALL, NULL, 0 },
	};
	struct in_addr a = { 0 };
	long t0;

	fake_start(&f, stall, 1);
	configure(f.port, "300");
	t0 = tio_now_ms();
	ck_assert_int_eq(helper_lookup(&rt, NAME, &a), ENOENT);
	ck_assert_int_ge(tio_now_ms() - t0, 250);
	ck_assert_int_lt(tio_now_ms() - t0, 1000);
	fake_stop(&f);
}
END_TEST

START_TEST(lookup_bad_name_asks_nobody)
{
	struct in_addr a = { 0 };

	configure(fake_closed_port(), "2000");
	ck_assert_int_eq(helper_lookup(&rt, "a b", &a), ENOENT);
	rt.cluster = 0;
	ck_assert_int_eq(helper_lookup(&rt, NAME, &a), ENOENT);
}
END_TEST

static const struct fake_step read_request[] = {
	{ FAKE_READ, NULL, 14 },
	{ FAKE_STALL, NULL, 0 },
};

/* Loop: blocking (0) or not (1), IPv4 (0, 1) or IPv6 (2, 3) sockets. */
START_TEST(connect_writes_request)
{
	uint8_t want[CLUSTER_REQ_MAX];
	int af = _i < 2 ? AF_INET : AF_INET6, before, n;
	uint16_t port = _i % 2 ? LOCAL_EPMD : NODE_PORT;

	fake_start(&f, read_request, 2);
	configure(f.port, "2000");
	fd = socket(af, SOCK_STREAM | (_i % 2 ? SOCK_NONBLOCK : 0), 0);
	ck_assert_int_ge(fd, 0);
	before = fcntl(fd, F_GETFL);
	ck_assert_int_eq(helper_connect(&rt, fd, af, 0x12345, port), 0);
	ck_assert_int_eq(fcntl(fd, F_GETFL), before);
	close(fd);
	fd = -1;
	fake_stop(&f);
	n = cluster_encode_connect(want, sizeof(want), port == LOCAL_EPMD ?
	    CLUSTER_TAG_EPMD : CLUSTER_TAG_DIST, port, 0x12345);
	ck_assert_uint_eq(f.gotlen, (size_t)n);
	ck_assert_mem_eq(f.got, want, (size_t)n);
}
END_TEST

START_TEST(connect_no_helper)
{
	configure(fake_closed_port(), "2000");
	fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_eq(helper_connect(&rt, fd, AF_INET, 1, NODE_PORT),
	    ECONNREFUSED);
	ck_assert_int_eq(helper_connect(&rt, fd, AF_INET, 1, 0), EADDRNOTAVAIL);
}
END_TEST

static Suite *
helper_suite(void)
{
	Suite *s = suite_create("helper");
	TCase *tc = tcase_create("lookup");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, lookup_answered);
	tcase_add_loop_test(tc, lookup_refused_or_malformed, 0, 4);
	tcase_add_test(tc, lookup_no_helper);
	tcase_add_test(tc, lookup_stall_is_bounded);
	tcase_add_test(tc, lookup_bad_name_asks_nobody);
	suite_add_tcase(s, tc);
	tc = tcase_create("connect");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, connect_writes_request, 0, 4);
	tcase_add_test(tc, connect_no_helper);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr;
	int failed;

	sr = srunner_create(helper_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
