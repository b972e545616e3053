/*
 * check_probe.c: the distribution handshake through a route
 * (tools/erlfwd/probe.h), one Check suite.  The node is a scripted far end
 * (fake.h) on 127.0.0.1 that reads the DIST preamble and plays a node's
 * part; each status probe_node() can report is one script.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "dist.h"
#include "fake.h"
#include "frame.h"
#include "probe.h"

#define TIMEOUT_MS	2000
#define SHORT_MS	200
#define PORT		40000

static const uint8_t status_ok[] = { 0, 3, 's', 'o', 'k' };
static const uint8_t status_nok[] = { 0, 4, 's', 'n', 'o', 'k' };
static const uint8_t garbage[] = "HTTP/1.1 400 Bad Request\r\n\r\n";

static struct route r;
static struct probe_result res;
static struct fake f;
static uint8_t challenge[64];
static size_t challengelen;

static void
route_to(int socks5, uint16_t port)
{
	char text[64], err[CONFIG_ERR_MAX];

	ck_assert_msg(config_parse_route(&r, fake_route(text, sizeof(text),
	    socks5, port), err, sizeof(err)) == 0, "%s", err);
}

/* A node's challenge, the OTP 23+ form, from app@dyno, in challenge[]. */
static void
make_challenge(void)
{
	static const char name[] = "app@dyno";
	uint8_t *p = challenge + DIST_LEN_HDR;
	size_t nlen = sizeof(name) - 1, len = 1 + 8 + 4 + 4 + 2 + nlen;

	memset(challenge, 0, sizeof(challenge));
	challenge[0] = (uint8_t)(len >> 8);
	challenge[1] = (uint8_t)len;
	p[0] = 'N';
	p[5] = 0x01;			/* flags: the high word's low bit */
	p[9] = 0x12;			/* challenge 0x12345678 */
	p[10] = 0x34;
	p[11] = 0x56;
	p[12] = 0x78;
	p[16] = 7;			/* creation */
	p[18] = (uint8_t)nlen;
	memcpy(p + 19, name, nlen);
	challengelen = DIST_LEN_HDR + len;
}

static int
run(int socks5, const struct fake_step *steps, size_t n, const char *cookie,
    int timeout_ms)
{
	int rc;

	make_challenge();
	fake_start(&f, steps, n);
	route_to(socks5, f.port);
	rc = probe_node(&r, PORT, "me@laptop", cookie, timeout_ms, &res);
	fake_stop(&f);
	ck_assert_int_eq(f.failed, 0);
	return rc;
}

#define RUN(socks5, steps, cookie, ms) \
	run(socks5, steps, sizeof(steps) / sizeof(steps[0]), cookie, ms)

START_TEST(name_only)
{
	uint8_t want[FRAME_HDR_LEN];
	struct fake_step s[] = {
		{ FAKE_READ, NULL, FRAME_HDR_LEN },
		{ FAKE_READ_MSG, NULL, 0 },
		{ FAKE_WRITE, status_ok, sizeof(status_ok) },
		{ FAKE_WRITE, challenge, 0 },
		{ FAKE_STALL, NULL, 0 },
	};

	make_challenge();
	s[3].len = challengelen;
	ck_assert_int_eq(RUN(0, s, NULL, TIMEOUT_MS), 0);
	ck_assert_int_eq(res.status, PROBE_OK);
	ck_assert_str_eq(res.node, "app@dyno");
	/* A DIST preamble for the node's port, then our send_name. */
	ck_assert_int_eq(frame_encode(want, sizeof(want), FRAME_TAG_DIST, PORT,
	    NULL, 0), FRAME_HDR_LEN);
	ck_assert_mem_eq(f.got, want, FRAME_HDR_LEN);
	ck_assert_uint_eq(f.got[FRAME_HDR_LEN + 2], 'N');
	ck_assert_mem_eq(f.got + f.gotlen - 9, "me@laptop", 9);
}
END_TEST

START_TEST(cookie_right)
{
	struct fake_step s[] = {
		{ FAKE_READ, NULL, FRAME_HDR_LEN },
		{ FAKE_READ_MSG, NULL, 0 },
		{ FAKE_WRITE, status_ok, sizeof(status_ok) },
		{ FAKE_WRITE, challenge, 0 },
		{ FAKE_DIST_ACK, "sesame", 0 },
		{ FAKE_STALL, NULL, 0 },
	};

	make_challenge();
	s[3].len = challengelen;
	ck_assert_int_eq(RUN(0, s, "sesame", TIMEOUT_MS), 0);
	ck_assert_int_eq(res.status, PROBE_OK);
}
END_TEST

START_TEST(cookie_wrong_ack)
{
	/* The node's ack proves another cookie. */
	struct fake_step s[] = {
		{ FAKE_READ, NULL, FRAME_HDR_LEN },
		{ FAKE_READ_MSG, NULL, 0 },
		{ FAKE_WRITE, status_ok, sizeof(status_ok) },
		{ FAKE_WRITE, challenge, 0 },
		{ FAKE_DIST_ACK, "other", 0 },
		{ FAKE_STALL, NULL, 0 },
	};

	make_challenge();
	s[3].len = challengelen;
	ck_assert_int_eq(RUN(0, s, "sesame", TIMEOUT_MS), -1);
	ck_assert_int_eq(res.status, PROBE_COOKIE);
}
END_TEST

START_TEST(cookie_closed)
{
	/* What a node does with a digest it does not like: close. */
	struct fake_step s[] = {
		{ FAKE_READ, NULL, FRAME_HDR_LEN },
		{ FAKE_READ_MSG, NULL, 0 },
		{ FAKE_WRITE, status_ok, sizeof(status_ok) },
		{ FAKE_WRITE, challenge, 0 },
		{ FAKE_READ_MSG, NULL, 0 },
		{ FAKE_CLOSE, NULL, 0 },
	};

	make_challenge();
	s[3].len = challengelen;
	ck_assert_int_eq(RUN(0, s, "sesame", TIMEOUT_MS), -1);
	ck_assert_int_eq(res.status, PROBE_COOKIE);
	ck_assert_str_eq(res.node, "app@dyno");
}
END_TEST

START_TEST(refused_status)
{
	static const struct fake_step s[] = {
		{ FAKE_READ, NULL, FRAME_HDR_LEN },
		{ FAKE_READ_MSG, NULL, 0 },
		{ FAKE_WRITE, status_nok, sizeof(status_nok) },
		{ FAKE_CLOSE, NULL, 0 },
	};

	ck_assert_int_eq(RUN(0, s, NULL, TIMEOUT_MS), -1);
	ck_assert_int_eq(res.status, PROBE_REFUSED);
	ck_assert_str_eq(res.status_text, "nok");
}
END_TEST

START_TEST(closed_before_a_word)
{
	/* erlfwd-server closing a port it will not relay. */
	static const struct fake_step s[] = {
		{ FAKE_READ, NULL, FRAME_HDR_LEN },
		{ FAKE_CLOSE, NULL, 0 },
	};

	ck_assert_int_eq(RUN(0, s, NULL, TIMEOUT_MS), -1);
	ck_assert_int_eq(res.status, PROBE_CLOSED);
}
END_TEST

START_TEST(silent)
{
	static const struct fake_step s[] = {
		{ FAKE_STALL, NULL, 0 },
	};

	ck_assert_int_eq(RUN(0, s, NULL, SHORT_MS), -1);
	ck_assert_int_eq(res.status, PROBE_TIMEOUT);
	ck_assert_int_ge(res.elapsed_ms, SHORT_MS);
	ck_assert_int_lt(res.elapsed_ms, TIMEOUT_MS);
}
END_TEST

START_TEST(garbled)
{
	static const struct fake_step s[] = {
		{ FAKE_READ, NULL, FRAME_HDR_LEN },
		{ FAKE_WRITE, garbage, sizeof(garbage) - 1 },
		{ FAKE_STALL, NULL, 0 },
	};

	ck_assert_int_eq(RUN(0, s, NULL, TIMEOUT_MS), -1);
	ck_assert_int_eq(res.status, PROBE_GARBLED);
}
END_TEST

START_TEST(garbled_challenge)
{
	static const uint8_t odd[] = { 0, 3, 'x', 'y', 'z' };
	static const struct fake_step s[] = {
		{ FAKE_READ, NULL, FRAME_HDR_LEN },
		{ FAKE_READ_MSG, NULL, 0 },
		{ FAKE_WRITE, status_ok, sizeof(status_ok) },
		{ FAKE_WRITE, odd, sizeof(odd) },
		{ FAKE_STALL, NULL, 0 },
	};

	ck_assert_int_eq(RUN(0, s, NULL, TIMEOUT_MS), -1);
	ck_assert_int_eq(res.status, PROBE_GARBLED);
}
END_TEST

START_TEST(no_tunnel)
{
	route_to(0, fake_closed_port());
	ck_assert_int_eq(probe_node(&r, PORT, "me@laptop", NULL, TIMEOUT_MS,
	    &res), -1);
	ck_assert_int_eq(res.status, PROBE_TUNNEL);
	ck_assert_int_eq(res.err, ECONNREFUSED);
}
END_TEST

START_TEST(socks_port_unreachable)
{
	/* A proxy that cannot reach the port: as a server closing it. */
	static const struct fake_step s[] = {
		{ FAKE_SOCKS_FAIL, NULL, 5 },
	};

	ck_assert_int_eq(RUN(1, s, NULL, TIMEOUT_MS), -1);
	ck_assert_int_eq(res.status, PROBE_CLOSED);
	ck_assert_uint_eq(f.socks_port, PORT);
}
END_TEST

START_TEST(socks_name_only)
{
	struct fake_step s[] = {
		{ FAKE_SOCKS_OK, NULL, 0 },
		{ FAKE_READ_MSG, NULL, 0 },
		{ FAKE_WRITE, status_ok, sizeof(status_ok) },
		{ FAKE_WRITE, challenge, 0 },
		{ FAKE_STALL, NULL, 0 },
	};

	make_challenge();
	s[3].len = challengelen;
	ck_assert_int_eq(RUN(1, s, NULL, TIMEOUT_MS), 0);
	ck_assert_str_eq(res.node, "app@dyno");
	ck_assert_uint_eq(f.socks_port, PORT);
}
END_TEST

static Suite *
probe_suite(void)
{
	Suite *s = suite_create("probe");
	TCase *tc = tcase_create("node");

	tcase_add_test(tc, name_only);
	tcase_add_test(tc, cookie_right);
	tcase_add_test(tc, cookie_wrong_ack);
	tcase_add_test(tc, cookie_closed);
	tcase_add_test(tc, refused_status);
	tcase_add_test(tc, closed_before_a_word);
	tcase_add_test(tc, silent);
	tcase_add_test(tc, garbled);
	tcase_add_test(tc, garbled_challenge);
	tcase_add_test(tc, no_tunnel);
	suite_add_tcase(s, tc);

	tc = tcase_create("socks5");
	tcase_add_test(tc, socks_port_unreachable);
	tcase_add_test(tc, socks_name_only);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr;
	int failed;

	sr = srunner_create(probe_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
