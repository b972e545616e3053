/*
 * check_dial.c: opening a stream through a route, one Check suite for the
 * three modules that do it: stream (preload/common/stream.h, shared by the
 * preload and the command), dial (tools/erlfwd/dial.h, the command's) and
 * fd (tools/common/fd.h, their failure paths).  stream_open() is driven
 * over a socketpair with a stub connect; dial_route() against scripted far
 * ends (fake.h) on 127.0.0.1.
 */
#include <sys/socket.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "dial.h"
#include "fake.h"
#include "fd.h"
#include "frame.h"
#include "stream.h"
#include "tio.h"

#define TIMEOUT_MS	2000

static struct route r;
static struct fake f;
static int sp[2] = { -1, -1 };	/* [0] for stream_open, [1] the far end */

static void
route_text(const char *text)
{
	char err[CONFIG_ERR_MAX];

	ck_assert_msg(config_parse_route(&r, text, err, sizeof(err)) == 0,
	    "%s", err);
}

static void
route_to(int socks5, uint16_t port)
{
	char text[64];

	route_text(fake_route(text, sizeof(text), socks5, port));
}

static void
setup(void)
{
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
	    sp), 0);
}

static void
teardown(void)
{
	if (sp[0] >= 0)
		close(sp[0]);
	if (sp[1] >= 0)
		close(sp[1]);
	sp[0] = sp[1] = -1;
}

/* A stream_connect_fn: the socketpair's near end, "connected". */
static int
connect_pair(const void *ctx, long deadline)
{
	(void)deadline;
	return *(const int *)ctx;
}

/* A stream_connect_fn that fails as a refused connect does. */
static int
connect_refused(const void *ctx, long deadline)
{
	(void)ctx;
	(void)deadline;
	errno = ECONNREFUSED;
	return -1;
}

/* What the far end of the socketpair has received, into buf. */
static size_t
far_got(uint8_t *buf, size_t cap)
{
	ssize_t n = recv(sp[1], buf, cap, 0);

	return n > 0 ? (size_t)n : 0;
}

/* --- stream -------------------------------------------------------------- */

START_TEST(stream_preamble)
{
	static const struct {
		enum frame_tag	tag;
		uint16_t	port;
	} c[] = { { FRAME_TAG_EPMD, 4369 }, { FRAME_TAG_DIST, 40000 },
	    { FRAME_TAG_INFO, 0 } };
	uint8_t got[64], want[FRAME_HDR_LEN];
	struct stream_failure sf;
	int fd = -2;

	route_text("127.0.0.1:9369");
	ck_assert_int_eq(stream_open(&r, c[_i].tag, c[_i].port, tio_now_ms() +
	    TIMEOUT_MS, connect_pair, &sp[0], &fd, &sf), 0);
	ck_assert_int_eq(fd, sp[0]);
	ck_assert_int_eq(sf.connected, 1);
	ck_assert_int_eq(frame_encode(want, sizeof(want), c[_i].tag,
	    c[_i].port, NULL, 0), FRAME_HDR_LEN);
	ck_assert_uint_eq(far_got(got, sizeof(got)), FRAME_HDR_LEN);
	ck_assert_mem_eq(got, want, FRAME_HDR_LEN);
}
END_TEST

START_TEST(stream_socks5)
{
	/* The proxy's two answers, there before they are asked for. */
	static const uint8_t answers[] = { 5, 0, 5, 0, 0, 1, 127, 0, 0, 1, 0, 1 };
	uint8_t got[64];
	struct stream_failure sf;
	size_t n;
	int fd = -2;

	route_text("socks5://127.0.0.1:1080?epmd=4370");
	ck_assert_int_eq(send(sp[1], answers, sizeof(answers), 0),
	    (ssize_t)sizeof(answers));
	ck_assert_int_eq(stream_open(&r, FRAME_TAG_EPMD, 4369, tio_now_ms() +
	    TIMEOUT_MS, connect_pair, &sp[0], &fd, &sf), 0);
	ck_assert_int_eq(fd, sp[0]);
	/* The greeting (no auth), then CONNECT 127.0.0.1:4370, not 4369. */
	n = far_got(got, sizeof(got));
	ck_assert_uint_eq(n, 3 + 10);
	ck_assert_mem_eq(got, "\5\1\0", 3);
	ck_assert_mem_eq(got + 3, "\5\1\0\1\177\0\0\1\x11\x12", 10);
	/* Nothing read past the proxy's reply. */
	ck_assert_int_eq(recv(sp[0], got, 1, 0), -1);
	ck_assert_int_eq(errno, EAGAIN);
}
END_TEST

START_TEST(stream_socks5_target_refused)
{
	static const uint8_t answers[] = { 5, 0, 5, 5, 0, 1, 0, 0, 0, 0, 0, 0 };
	struct stream_failure sf;
	int fd = -2;

	route_text("socks5://127.0.0.1:1080");
	ck_assert_int_eq(send(sp[1], answers, sizeof(answers), 0),
	    (ssize_t)sizeof(answers));
	ck_assert_int_eq(stream_open(&r, FRAME_TAG_DIST, 40000, tio_now_ms() +
	    TIMEOUT_MS, connect_pair, &sp[0], &fd, &sf), -1);
	ck_assert_int_eq(errno, ECONNREFUSED);
	ck_assert_int_eq(fd, sp[0]);	/* the caller's to close */
	ck_assert_int_eq(sf.connected, 1);
	ck_assert_int_eq(sf.socks.target, 1);
	ck_assert_ptr_nonnull(sf.socks.why);
}
END_TEST

START_TEST(stream_connect_fails)
{
	struct stream_failure sf;
	int fd = -2;

	route_text("127.0.0.1:9369");
	ck_assert_int_eq(stream_open(&r, FRAME_TAG_DIST, 40000, tio_now_ms() +
	    TIMEOUT_MS, connect_refused, NULL, &fd, &sf), -1);
	ck_assert_int_eq(errno, ECONNREFUSED);
	ck_assert_int_eq(fd, -1);
	ck_assert_int_eq(sf.connected, 0);
}
END_TEST

START_TEST(stream_info_needs_erlfwd)
{
	struct stream_failure sf;
	int fd = -2;

	/* Only erlfwd-server answers INFO: no connect is even tried. */
	route_text("socks5://127.0.0.1:1080");
	ck_assert_int_eq(stream_open(&r, FRAME_TAG_INFO, 0, tio_now_ms() +
	    TIMEOUT_MS, connect_pair, &sp[0], &fd, &sf), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(fd, -1);
	ck_assert_int_eq(sf.connected, 0);
}
END_TEST

START_TEST(stream_remote)
{
	route_text("socks5://127.0.0.1:1080?epmd=4370");
	ck_assert_uint_eq(stream_remote_port(&r, FRAME_TAG_EPMD, 4369), 4370);
	ck_assert_uint_eq(stream_remote_port(&r, FRAME_TAG_DIST, 40000), 40000);
	/* erlfwd-server is told our epmd port, to answer NAMES in our terms. */
	route_text("127.0.0.1:9369");
	ck_assert_uint_eq(stream_remote_port(&r, FRAME_TAG_EPMD, 4369), 4369);
}
END_TEST

/* --- dial ---------------------------------------------------------------- */

START_TEST(dial_erlfwd)
{
	static const struct fake_step s[] = {
		{ FAKE_READ, NULL, FRAME_HDR_LEN },
		{ FAKE_STALL, NULL, 0 },
	};
	uint8_t want[FRAME_HDR_LEN];
	enum dial_stage stage = 0;
	int fd, fl;

	fake_start(&f, s, 2);
	route_to(0, f.port);
	fd = dial_route(&r, FRAME_TAG_DIST, 40000, tio_now_ms() + TIMEOUT_MS,
	    &stage);
	ck_assert_int_ge(fd, 0);
	/* Non-blocking and close-on-exec, as dial.h says. */
	ck_assert((fl = fcntl(fd, F_GETFL)) >= 0 && (fl & O_NONBLOCK));
	ck_assert((fl = fcntl(fd, F_GETFD)) >= 0 && (fl & FD_CLOEXEC));
	close(fd);
	fake_stop(&f);
	ck_assert_int_eq(f.failed, 0);
	ck_assert_int_eq(frame_encode(want, sizeof(want), FRAME_TAG_DIST,
	    40000, NULL, 0), FRAME_HDR_LEN);
	ck_assert_mem_eq(f.got, want, FRAME_HDR_LEN);
}
END_TEST

START_TEST(dial_refused)
{
	enum dial_stage stage = 0;

	route_to(_i, fake_closed_port());
	ck_assert_int_eq(dial_route(&r, FRAME_TAG_EPMD, 4369, tio_now_ms() +
	    TIMEOUT_MS, &stage), -1);
	ck_assert_int_eq(errno, ECONNREFUSED);
	ck_assert_int_eq(stage, DIAL_ROUTE);
}
END_TEST

START_TEST(dial_socks_target)
{
	static const struct fake_step s[] = {
		{ FAKE_SOCKS_FAIL, NULL, 5 },
	};
	enum dial_stage stage = 0;

	fake_start(&f, s, 1);
	route_to(1, f.port);
	ck_assert_int_eq(dial_route(&r, FRAME_TAG_DIST, 40000, tio_now_ms() +
	    TIMEOUT_MS, &stage), -1);
	ck_assert_int_eq(errno, ECONNREFUSED);
	ck_assert_int_eq(stage, DIAL_TARGET);
	fake_stop(&f);
	ck_assert_uint_eq(f.socks_port, 40000);
}
END_TEST

START_TEST(dial_not_a_proxy)
{
	/* A forward with nothing behind it takes the greeting and closes. */
	static const struct fake_step s[] = {
		{ FAKE_READ, NULL, 3 },
		{ FAKE_CLOSE, NULL, 0 },
	};
	enum dial_stage stage = 0;

	fake_start(&f, s, 2);
	route_to(1, f.port);
	ck_assert_int_eq(dial_route(&r, FRAME_TAG_EPMD, 4369, tio_now_ms() +
	    TIMEOUT_MS, &stage), -1);
	ck_assert_int_eq(errno, EPROTO);
	ck_assert_int_eq(stage, DIAL_ROUTE);
	fake_stop(&f);
}
END_TEST

START_TEST(dial_socks_epmd)
{
	static const struct fake_step s[] = {
		{ FAKE_SOCKS_OK, NULL, 0 },
		{ FAKE_STALL, NULL, 0 },
	};
	enum dial_stage stage = 0;
	char text[80];
	int fd;

	fake_start(&f, s, 2);
	snprintf(text, sizeof(text), "socks5://127.0.0.1:%u?epmd=4370",
	    (unsigned)f.port);
	route_text(text);
	fd = dial_route(&r, FRAME_TAG_EPMD, 4369, tio_now_ms() + TIMEOUT_MS,
	    &stage);
	ck_assert_int_ge(fd, 0);
	close(fd);
	fake_stop(&f);
	ck_assert_uint_eq(f.socks_port, 4370);
}
END_TEST

/* --- fd ------------------------------------------------------------------ */

START_TEST(close_keeps_errno)
{
	int fd = dup(sp[0]);

	ck_assert_int_ge(fd, 0);
	errno = ETIMEDOUT;
	ck_assert_int_eq(fd_close_keep_errno(fd), -1);
	ck_assert_int_eq(errno, ETIMEDOUT);
	ck_assert_int_eq(fcntl(fd, F_GETFD), -1);	/* closed */
	errno = EPROTO;
	ck_assert_int_eq(fd_close_keep_errno(-1), -1);
	ck_assert_int_eq(errno, EPROTO);
}
END_TEST

static Suite *
dial_suite(void)
{
	Suite *s = suite_create("dial");
	TCase *tc = tcase_create("stream");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, stream_preamble, 0, 3);
	tcase_add_test(tc, stream_socks5);
	tcase_add_test(tc, stream_socks5_target_refused);
	tcase_add_test(tc, stream_connect_fails);
	tcase_add_test(tc, stream_info_needs_erlfwd);
	tcase_add_test(tc, stream_remote);
	suite_add_tcase(s, tc);

	tc = tcase_create("dial");
	tcase_add_test(tc, dial_erlfwd);
	tcase_add_loop_test(tc, dial_refused, 0, 2);
	tcase_add_test(tc, dial_socks_target);
	tcase_add_test(tc, dial_not_a_proxy);
	tcase_add_test(tc, dial_socks_epmd);
	suite_add_tcase(s, tc);

	tc = tcase_create("fd");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, close_keeps_errno);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr;
	int failed;

	sr = srunner_create(dial_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
