/*
 * check_info.c: the INFO client of the erlfwd command
 * (tools/erlfwd/info.h), one Check suite.  Each status info_fetch() can
 * report is one scripted far end (fake.h) on 127.0.0.1: an erlfwd-server,
 * nothing, a forward with nothing behind it, a silent or foreign service,
 * another protocol version, and a SOCKS5 proxy in front of epmd.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fake.h"
#include "frame.h"
#include "frame_info.h"
#include "info.h"

#define TIMEOUT_MS	2000
#define SHORT_MS	200

static struct route r;
static struct frame_info fi;
static struct info_result res;
static struct fake f;
static uint8_t reply[FRAME_HDR_LEN + 512];
static size_t replylen;

static void
route_to(int socks5, uint16_t port)
{
	char text[64], err[CONFIG_ERR_MAX];

	ck_assert_msg(config_parse_route(&r, fake_route(text, sizeof(text),
	    socks5, port), err, sizeof(err)) == 0, "%s", err);
}

/* An INFO reply frame as erlfwd-server writes it, in reply[]. */
static void
make_reply(void)
{
	struct frame_info in;
	char body[512];
	int n;

	memset(&in, 0, sizeof(in));
	strcpy(in.version, "9.9.9");
	strcpy(in.host, "dyno");
	in.epmd_port = 4369;
	in.epmd_up = 1;
	in.nnodes = 2;
	strcpy(in.nodes[0].name, "app");
	in.nodes[0].port = 40000;
	strcpy(in.nodes[1].name, "job");
	in.nodes[1].port = 40001;
	n = frame_info_format(body, sizeof(body), &in);
	ck_assert_int_gt(n, 0);
	n = frame_encode(reply, sizeof(reply), FRAME_TAG_INFO, 0, body,
	    (size_t)n);
	ck_assert_int_gt(n, 0);
	replylen = (size_t)n;
}

/* Run info_fetch against the script; returns its result. */
static int
fetch(int socks5, const struct fake_step *steps, size_t n, int timeout_ms)
{
	int rc;

	fake_start(&f, steps, n);
	route_to(socks5, f.port);
	rc = info_fetch(&r, timeout_ms, &fi, &res);
	fake_stop(&f);
	ck_assert_int_eq(f.failed, 0);
	return rc;
}

#define FETCH(socks5, steps, ms) \
	fetch(socks5, steps, sizeof(steps) / sizeof(steps[0]), ms)

START_TEST(ok)
{
	uint8_t want[FRAME_HDR_LEN];
	struct fake_step s[] = {
		{ FAKE_READ, NULL, FRAME_HDR_LEN },
		{ FAKE_WRITE, reply, 0 },
	};

	make_reply();
	s[1].len = replylen;
	ck_assert_int_eq(FETCH(0, s, TIMEOUT_MS), 0);
	ck_assert_int_eq(res.status, INFO_OK);
	/* It asked with an INFO preamble, nothing more. */
	ck_assert_int_eq(frame_encode(want, sizeof(want), FRAME_TAG_INFO, 0,
	    NULL, 0), FRAME_HDR_LEN);
	ck_assert_uint_eq(f.gotlen, FRAME_HDR_LEN);
	ck_assert_mem_eq(f.got, want, FRAME_HDR_LEN);
	ck_assert_str_eq(fi.version, "9.9.9");
	ck_assert_str_eq(fi.host, "dyno");
	ck_assert_uint_eq(fi.epmd_port, 4369);
	ck_assert_int_eq(fi.epmd_up, 1);
	ck_assert_uint_eq(fi.nnodes, 2);
	ck_assert_str_eq(fi.nodes[1].name, "job");
	ck_assert_uint_eq(fi.nodes[1].port, 40001);
}
END_TEST

START_TEST(ok_in_pieces)
{
	struct fake_step s[] = {
		{ FAKE_READ, NULL, FRAME_HDR_LEN },
		{ FAKE_WRITE, reply, 3 },
		{ FAKE_WRITE, NULL, 0 },
	};

	make_reply();
	s[2].data = reply + 3;
	s[2].len = replylen - 3;
	ck_assert_int_eq(FETCH(0, s, TIMEOUT_MS), 0);
	ck_assert_int_eq(res.status, INFO_OK);
	ck_assert_uint_eq(fi.nnodes, 2);
}
END_TEST

START_TEST(refused)
{
	route_to(0, fake_closed_port());
	ck_assert_int_eq(info_fetch(&r, TIMEOUT_MS, &fi, &res), -1);
	ck_assert_int_eq(res.status, INFO_REFUSED);
	ck_assert_int_eq(res.err, ECONNREFUSED);
}
END_TEST

START_TEST(closed)
{
	static const struct fake_step s[] = {
		{ FAKE_READ, NULL, FRAME_HDR_LEN },
		{ FAKE_CLOSE, NULL, 0 },
	};

	ck_assert_int_eq(FETCH(0, s, TIMEOUT_MS), -1);
	ck_assert_int_eq(res.status, INFO_CLOSED);
}
END_TEST

START_TEST(reset_without_a_word)
{
	static const struct fake_step s[] = {
		{ FAKE_READ, NULL, FRAME_HDR_LEN },
		{ FAKE_RESET, NULL, 0 },
	};

	ck_assert_int_eq(FETCH(0, s, TIMEOUT_MS), -1);
	ck_assert_int_eq(res.status, INFO_CLOSED);
}
END_TEST

START_TEST(silent)
{
	static const struct fake_step s[] = {
		{ FAKE_STALL, NULL, 0 },
	};

	ck_assert_int_eq(FETCH(0, s, SHORT_MS), -1);
	ck_assert_int_eq(res.status, INFO_SILENT);
	ck_assert_int_ge(res.elapsed_ms, SHORT_MS);
	ck_assert_int_lt(res.elapsed_ms, TIMEOUT_MS);
}
END_TEST

START_TEST(foreign_banner)
{
	static const char banner[] = "SSH-2.0-OpenSSH_9.2\r\n";
	static const struct fake_step s[] = {
		{ FAKE_WRITE, banner, sizeof(banner) - 1 },
		{ FAKE_STALL, NULL, 0 },
	};

	ck_assert_int_eq(FETCH(0, s, TIMEOUT_MS), -1);
	ck_assert_int_eq(res.status, INFO_FOREIGN);
	ck_assert_str_eq(res.peek, "SSH-2.0-OpenSSH_9.2");
}
END_TEST

START_TEST(foreign_echo)
{
	/* An echo service sends the request back: a frame, but no INFO. */
	uint8_t pre[FRAME_HDR_LEN];
	struct fake_step s[] = {
		{ FAKE_READ, NULL, FRAME_HDR_LEN },
		{ FAKE_WRITE, pre, sizeof(pre) },
		{ FAKE_STALL, NULL, 0 },
	};

	ck_assert_int_eq(frame_encode(pre, sizeof(pre), FRAME_TAG_INFO, 0,
	    NULL, 0), FRAME_HDR_LEN);
	ck_assert_int_eq(FETCH(0, s, TIMEOUT_MS), -1);
	ck_assert_int_eq(res.status, INFO_FOREIGN);
	ck_assert_str_eq(res.peek, "EFWD......");
}
END_TEST

START_TEST(foreign_cut_short)
{
	/* Half a frame, then EOF: not an erlfwd-server either. */
	struct fake_step s[] = {
		{ FAKE_READ, NULL, FRAME_HDR_LEN },
		{ FAKE_WRITE, reply, FRAME_HDR_LEN + 4 },
		{ FAKE_CLOSE, NULL, 0 },
	};

	make_reply();
	ck_assert_int_eq(FETCH(0, s, TIMEOUT_MS), -1);
	ck_assert_int_eq(res.status, INFO_FOREIGN);
}
END_TEST

START_TEST(other_version)
{
	static const uint8_t v9[] = { 'E', 'F', 'W', 'D', 9, 3, 0, 0, 0, 0 };
	static const struct fake_step s[] = {
		{ FAKE_READ, NULL, FRAME_HDR_LEN },
		{ FAKE_WRITE, v9, sizeof(v9) },
		{ FAKE_STALL, NULL, 0 },
	};

	ck_assert_int_eq(FETCH(0, s, TIMEOUT_MS), -1);
	ck_assert_int_eq(res.status, INFO_PROTOCOL);
	ck_assert_uint_eq(res.version, 9);
}
END_TEST

START_TEST(socks_names)
{
	static const uint8_t names[] =
	    "\0\0\x11\x11name app at port 40000\nname job at port 40001\n";
	static const struct fake_step s[] = {
		{ FAKE_SOCKS_OK, NULL, 0 },
		{ FAKE_READ, NULL, 3 },
		{ FAKE_WRITE, names, sizeof(names) - 1 },
	};

	ck_assert_int_eq(FETCH(1, s, TIMEOUT_MS), 0);
	ck_assert_int_eq(res.status, INFO_OK);
	/* The CONNECT went to the route's epmd port, then NAMES. */
	ck_assert_uint_eq(f.socks_port, r.epmd_port);
	ck_assert_mem_eq(f.got + f.gotlen - 3, "\0\1n", 3);
	ck_assert_int_eq(fi.epmd_up, 1);
	ck_assert_uint_eq(fi.nnodes, 2);
	ck_assert_str_eq(fi.nodes[0].name, "app");
	ck_assert_str_eq(fi.version, "");
}
END_TEST

START_TEST(socks_epmd_down)
{
	/* The proxy cannot reach epmd: no epmd there, as INFO would say. */
	static const struct fake_step s[] = {
		{ FAKE_SOCKS_FAIL, NULL, 5 },
	};

	ck_assert_int_eq(FETCH(1, s, TIMEOUT_MS), 0);
	ck_assert_int_eq(res.status, INFO_OK);
	ck_assert_int_eq(fi.epmd_up, 0);
	ck_assert_uint_eq(fi.nnodes, 0);
}
END_TEST

START_TEST(socks_not_a_proxy)
{
	/* As a forward with nothing behind it: takes the greeting, closes. */
	static const struct fake_step s[] = {
		{ FAKE_READ, NULL, 3 },
		{ FAKE_CLOSE, NULL, 0 },
	};

	ck_assert_int_eq(FETCH(1, s, TIMEOUT_MS), -1);
	ck_assert_int_eq(res.status, INFO_FOREIGN);
	ck_assert_str_eq(res.peek, "not SOCKS5");
}
END_TEST

START_TEST(socks_refused)
{
	route_to(1, fake_closed_port());
	ck_assert_int_eq(info_fetch(&r, TIMEOUT_MS, &fi, &res), -1);
	ck_assert_int_eq(res.status, INFO_REFUSED);
}
END_TEST

/* Every status has its own line, naming the route. */
START_TEST(describe)
{
	static const enum info_status all[] = { INFO_OK, INFO_REFUSED,
	    INFO_UNREACHABLE, INFO_CLOSED, INFO_SILENT, INFO_FOREIGN,
	    INFO_PROTOCOL, INFO_LOCAL };
	char lines[8][512];
	size_t i, j;

	route_to(0, 9369);
	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		memset(&res, 0, sizeof(res));
		res.status = all[i];
		res.err = ETIMEDOUT;
		res.version = 7;
		strcpy(res.peek, "HTTP/1.1 400");
		ck_assert_ptr_eq(info_describe(&res, &r, lines[i],
		    sizeof(lines[i])), lines[i]);
		ck_assert_msg(strstr(lines[i], "127.0.0.1:9369") != NULL,
		    "%s", lines[i]);
		for (j = 0; j < i; j++)
			ck_assert_str_ne(lines[i], lines[j]);
	}
	ck_assert_ptr_nonnull(strstr(lines[5], "HTTP/1.1 400"));
	ck_assert_ptr_nonnull(strstr(lines[6], "version 7"));
}
END_TEST

static Suite *
info_suite(void)
{
	Suite *s = suite_create("info");
	TCase *tc = tcase_create("fetch");

	tcase_add_test(tc, ok);
	tcase_add_test(tc, ok_in_pieces);
	tcase_add_test(tc, refused);
	tcase_add_test(tc, closed);
	tcase_add_test(tc, reset_without_a_word);
	tcase_add_test(tc, silent);
	tcase_add_test(tc, foreign_banner);
	tcase_add_test(tc, foreign_echo);
	tcase_add_test(tc, foreign_cut_short);
	tcase_add_test(tc, other_version);
	suite_add_tcase(s, tc);

	tc = tcase_create("socks5");
	tcase_add_test(tc, socks_names);
	tcase_add_test(tc, socks_epmd_down);
	tcase_add_test(tc, socks_not_a_proxy);
	tcase_add_test(tc, socks_refused);
	suite_add_tcase(s, tc);

	tc = tcase_create("describe");
	tcase_add_test(tc, describe);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr;
	int failed;

	sr = srunner_create(info_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
