/*
 * check_distname.c: the first message of a distribution handshake
 * (tools/common/distname.h), one Check suite.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "distname.h"

/* A version 6 send_name for name, as OTP 23 and later send it. */
static size_t
name_v6(uint8_t *b, const char *name)
{
	size_t n = strlen(name), mlen = 15 + n;

	b[0] = (uint8_t)(mlen >> 8);
	b[1] = (uint8_t)mlen;
	b[2] = 'N';
	memset(b + 3, 0, 12);
	b[7] = 0x01;	/* some flags */
	b[15] = (uint8_t)(n >> 8);
	b[16] = (uint8_t)n;
	memcpy(b + 17, name, n);
	return 2 + mlen;
}

START_TEST(v6_every_prefix)
{
	uint8_t b[64];
	size_t len = name_v6(b, "remsh-42@laptop"), i;

	for (i = 0; i < DISTNAME_NEED; i++)
		ck_assert_int_eq(distname_check(b, i), i < 3 ||
		    i < DISTNAME_NEED ? DISTNAME_MORE : DISTNAME_OK);
	for (i = DISTNAME_NEED; i <= len; i++)
		ck_assert_int_eq(distname_check(b, i), DISTNAME_OK);
}
END_TEST

START_TEST(v5)
{
	static const uint8_t b[] = "\x00\x0dn\x00\x05\x00\x03\x7f\xbd" "a@dyno";

	ck_assert_int_eq(distname_check(b, 3), DISTNAME_MORE);
	ck_assert_int_eq(distname_check(b, 5), DISTNAME_OK);
	ck_assert_int_eq(distname_check(b, sizeof(b) - 1), DISTNAME_OK);
}
END_TEST

/* What another protocol's client sends first: refused on its first bytes. */
START_TEST(other_protocols)
{
	static const struct { const char *b; size_t n; } c[] = {
		{ "GET / HTTP/1.1\r\n", 16 },
		{ "\x00\x00\x00\x08\x04\xd2\x16\x2f", 8 },	/* Postgres SSL */
		{ "SSH-2.0-OpenSSH_9.2\r\n", 21 },
		{ "\x16\x03\x01\x02\x00", 5 },			/* TLS hello */
		{ "\x00\x01n", 3 },		/* epmd NAMES: too short */
		{ "\x00\x01k", 3 },		/* epmd KILL */
		{ "\x00\x0dn\x00\x04", 5 },	/* version 4 */
		{ "\x05\x01N", 3 },		/* longer than any name */
		{ "\x00\x0fN\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 17 },	/* no name */
		{ "\x00\x15N\0\0\0\0\0\0\0\0\0\0\0\0\0\x07", 17 },	/* nlen */
	};

	ck_assert_int_eq(distname_check((const uint8_t *)c[_i].b, c[_i].n),
	    DISTNAME_BAD);
}
END_TEST

START_TEST(name_length)
{
	uint8_t b[64];
	size_t len = name_v6(b, "remsh-42@laptop");

	ck_assert_uint_eq(distname_len(b), len);
}
END_TEST

/* A status message for text, as a node sends it. */
static size_t
status(uint8_t *b, const char *text, size_t tlen)
{
	b[0] = (uint8_t)((tlen + 1) >> 8);
	b[1] = (uint8_t)(tlen + 1);
	b[2] = 's';
	memcpy(b + 3, text, tlen);
	return 3 + tlen;
}

/* Every status a node answers: OK once whole, MORE before, never BAD. */
START_TEST(status_node)
{
	static const char named[] = "named:\x00\x0aapp@laptop\x01\x02\x03\x04";
	static const char *const t[] = { "ok", "ok_simultaneous", "nok",
	    "not_allowed", "alive" };
	uint8_t b[64];
	size_t len, i;

	len = _i < 5 ? status(b, t[_i], strlen(t[_i])) :
	    status(b, named, sizeof(named) - 1);
	for (i = 0; i < len; i++)
		ck_assert_int_eq(distname_status(b, i), DISTNAME_MORE);
	ck_assert_int_eq(distname_status(b, len), DISTNAME_OK);
	/* The challenge behind it in the same read: not looked at. */
	b[len] = 0;
	ck_assert_int_eq(distname_status(b, len + 1), DISTNAME_OK);
}
END_TEST

/* What a service that is no node answers a name message with. */
START_TEST(status_other)
{
	static const struct { const char *b; size_t n; } c[] = {
		{ "HTTP/1.1 400 Bad Request\r\n", 26 },
		{ "-ERR unknown command\r\n", 23 },	/* Redis */
		{ "SSH-2.0-OpenSSH_9.2\r\n", 21 },
		{ "\x00\x03sno", 6 },			/* no such status */
		{ "\x00\x03nok", 6 },			/* not tag 's' */
		{ "\x00\x02so", 5 },			/* "o": too short */
		{ "\x00\x07snamed:", 9 },		/* "named:" and nothing */
		{ "\x00\x04sokk", 7 },
		{ "\x7f\xffs", 3 },			/* longer than any status */
	};

	ck_assert_int_eq(distname_status((const uint8_t *)c[_i].b, c[_i].n),
	    DISTNAME_BAD);
}
END_TEST

static Suite *
distname_suite(void)
{
	Suite *s = suite_create("distname");
	TCase *tc = tcase_create("check");

	tcase_add_test(tc, v6_every_prefix);
	tcase_add_test(tc, v5);
	tcase_add_loop_test(tc, other_protocols, 0, 10);
	tcase_add_test(tc, name_length);
	suite_add_tcase(s, tc);
	tc = tcase_create("status");
	tcase_add_loop_test(tc, status_node, 0, 6);
	tcase_add_loop_test(tc, status_other, 0, 9);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr;
	int failed;

	sr = srunner_create(distname_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
