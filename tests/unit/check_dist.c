/*
 * check_dist.c: the distribution handshake messages (tools/common/dist.h) and the
 * MD5 they rest on (tools/common/md5.h), one Check suite.
 *
 * The digests are checked against RFC 1321's test suite and against what
 * erlang:md5/1 computes for a cookie and a challenge, so that the doctor's
 * cookie check agrees with a real node.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dist.h"
#include "md5.h"

static void
hex(const uint8_t d[MD5_LEN], char out[2 * MD5_LEN + 1])
{
	int i;

	for (i = 0; i < MD5_LEN; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static void
md5_of(const char *s, char out[2 * MD5_LEN + 1])
{
	struct md5 m;
	uint8_t d[MD5_LEN];

	md5_init(&m);
	md5_update(&m, s, strlen(s));
	md5_final(&m, d);
	hex(d, out);
}

/* --- md5 ----------------------------------------------------------------- */

/* RFC 1321, appendix A.5. */
static const char *const rfc_in[] = {
	"", "a", "abc", "message digest", "abcdefghijklmnopqrstuvwxyz",
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
	"1234567890123456789012345678901234567890"
	"1234567890123456789012345678901234567890",
};
static const char *const rfc_out[] = {
	"d41d8cd98f00b204e9800998ecf8427e", "0cc175b9c0f1b6a831c399e269772661",
	"900150983cd24fb0d6963f7d28e17f72", "f96b697d7cb7938d525a2f31aaf161d0",
	"c3fcd3d76192e4007dfb496cca67e13b", "d174ab98d277d9f5a5611c2c9f419d9f",
	"57edf4a22be3c955ac49da2e2107b67a",
};

START_TEST(md5_rfc1321)
{
	char got[2 * MD5_LEN + 1];

	md5_of(rfc_in[_i], got);
	ck_assert_str_eq(got, rfc_out[_i]);
}
END_TEST

/* Fed a byte at a time, across block boundaries: the same digest. */
START_TEST(md5_incremental)
{
	const char *s = rfc_in[6];
	struct md5 m;
	uint8_t d[MD5_LEN];
	char got[2 * MD5_LEN + 1];
	size_t i;

	md5_init(&m);
	for (i = 0; i < strlen(s); i++)
		md5_update(&m, s + i, 1);
	md5_final(&m, d);
	hex(d, got);
	ck_assert_str_eq(got, rfc_out[6]);
}
END_TEST

/* Lengths around the padding boundary (55, 56, 63, 64 bytes). */
START_TEST(md5_padding_edges)
{
	static const size_t lens[] = { 55, 56, 63, 64, 65 };
	/* python3 -c "import hashlib; print(hashlib.md5(b'a'*n).hexdigest())" */
	static const char *const want[] = {
		"ef1772b6dff9a122358552954ad0df65",
		"3b0c8ac703f828b04c6c197006d17218",
		"b06521f39153d618550606be297466d5",
		"014842d480b571495a4a0363793f7367",
		"c743a45e0d2e6a95cb859adae0248435",
	};
	char buf[80], got[2 * MD5_LEN + 1];

	memset(buf, 'a', lens[_i]);
	buf[lens[_i]] = '\0';
	md5_of(buf, got);
	ck_assert_str_eq(got, want[_i]);
}
END_TEST

/* --- digest -------------------------------------------------------------- */

/*
 * erl -noshell -eval 'io:format("~s~n", [[io_lib:format("~2.16.0b", [B]) ||
 *     <<B>> <= erlang:md5(["erlfwd_e2e_cookie" | integer_to_list(C)])]])'
 */
START_TEST(digest_matches_erlang)
{
	static const uint32_t challenge[] = { 4294967295u };
	static const char *const want[] = {
		"c78db1b966b22c2de6ea56c1810c1abe",
	};
	uint8_t d[MD5_LEN];
	char got[2 * MD5_LEN + 1];

	dist_digest("erlfwd_e2e_cookie", challenge[_i], d);
	hex(d, got);
	ck_assert_str_eq(got, want[_i]);
}
END_TEST

/* The challenge goes in as unsigned decimal text after the cookie. */
START_TEST(digest_is_md5_of_cookie_and_decimal)
{
	uint8_t d[MD5_LEN];
	char got[2 * MD5_LEN + 1], want[2 * MD5_LEN + 1];

	dist_digest("abc", 0, d);
	hex(d, got);
	md5_of("abc0", want);
	ck_assert_str_eq(got, want);
	dist_digest("", 123456789, d);
	hex(d, got);
	md5_of("123456789", want);
	ck_assert_str_eq(got, want);
}
END_TEST

/* --- messages ------------------------------------------------------------ */

START_TEST(name_layout)
{
	uint8_t buf[64];
	int n = dist_name(buf, sizeof(buf), "a@b", 0x01020304);

	ck_assert_int_eq(n, 2 + 15 + 3);
	ck_assert_uint_eq(buf[0], 0);
	ck_assert_uint_eq(buf[1], 18);
	ck_assert_uint_eq(buf[2], 'N');
	/* Flags, big endian: HANDSHAKE_23 (bit 24) is set, PUBLISHED is not. */
	ck_assert_uint_eq(buf[3 + 4] & 0x01, 0x01);
	ck_assert_uint_eq(buf[3 + 7] & 0x01, 0x00);
	ck_assert_mem_eq(buf + 11, "\x01\x02\x03\x04", 4);
	ck_assert_mem_eq(buf + 15, "\x00\x03" "a@b", 5);
}
END_TEST

/* Every flag OTP 25 and 26 require of a peer is announced. */
START_TEST(name_flags_mandatory)
{
	/* MANDATORY_DFLAGS_25, then OTP 26's V4_NC and UNLINK_ID. */
	const uint64_t otp25 = 0x4 | 0x10 | 0x100 | 0x80 | 0x200 | 0x400 |
	    0x800 | 0x10000 | 0x20000 | 0x40000 | 0x1000000;
	const uint64_t otp26 = otp25 | (0x4ULL << 32) | 0x2000000;

	ck_assert_uint_eq(DIST_FLAGS & otp26, otp26);
	ck_assert_uint_eq(DIST_FLAGS & 0x1, 0);	/* hidden */
}
END_TEST

START_TEST(name_refused)
{
	uint8_t buf[DIST_LEN_HDR + 15 + DIST_NAME_MAX];
	char longname[DIST_NAME_MAX + 1];

	memset(longname, 'x', DIST_NAME_MAX);
	longname[DIST_NAME_MAX] = '\0';
	ck_assert_int_eq(dist_name(buf, sizeof(buf), "", 1), -1);
	ck_assert_int_eq(dist_name(buf, sizeof(buf), longname, 1), -1);
	ck_assert_int_eq(dist_name(buf, 19, "a@b", 1), -1);
	ck_assert_int_eq(dist_name(buf, 20, "a@b", 1), 20);
}
END_TEST

START_TEST(status_parse)
{
	char text[16];

	ck_assert_int_eq(dist_status((const uint8_t *)"sok", 3, text,
	    sizeof(text)), 0);
	ck_assert_str_eq(text, "ok");
	ck_assert_int_eq(dist_status((const uint8_t *)"snot_allowed", 12, text,
	    sizeof(text)), 0);
	ck_assert_str_eq(text, "not_allowed");
	ck_assert_int_eq(dist_status((const uint8_t *)"s", 1, text,
	    sizeof(text)), 0);
	ck_assert_str_eq(text, "");
	ck_assert_int_eq(dist_status((const uint8_t *)"nok", 3, text,
	    sizeof(text)), -1);
	ck_assert_int_eq(dist_status((const uint8_t *)"", 0, text,
	    sizeof(text)), -1);
	ck_assert_int_eq(dist_status((const uint8_t *)"sok_simultaneous", 16,
	    text, 8), -1);
	ck_assert_int_eq(dist_status((const uint8_t *)"so\0k", 4, text,
	    sizeof(text)), -1);
}
END_TEST

/* A new-style ('N') challenge, as OTP 23+ sends it. */
START_TEST(challenge_new)
{
	static const uint8_t body[] = {
		'N', 0, 0, 0, 0x0d, 0x07, 0xdf, 0x7f, 0xbd,
		0xde, 0xad, 0xbe, 0xef,		/* challenge */
		0, 0, 0, 7,			/* creation */
		0, 8, 'a', 'p', 'p', '@', 'd', 'y', 'n', 'o',
	};
	struct dist_challenge ch;

	ck_assert_int_eq(dist_challenge(body, sizeof(body), &ch), 0);
	ck_assert_uint_eq(ch.challenge, 0xdeadbeef);
	ck_assert_uint_eq(ch.flags, 0x0d07df7fbdULL);
	ck_assert_str_eq(ch.node, "app@dyno");
}
END_TEST

/* An old-style ('n') challenge: version, 32-bit flags, the rest is the name. */
START_TEST(challenge_old)
{
	static const uint8_t body[] = {
		'n', 0, 5, 0, 0, 0x7f, 0xfd, 0, 0, 0, 42,
		'a', '@', 'b',
	};
	struct dist_challenge ch;

	ck_assert_int_eq(dist_challenge(body, sizeof(body), &ch), 0);
	ck_assert_uint_eq(ch.challenge, 42);
	ck_assert_uint_eq(ch.flags, 0x7ffd);
	ck_assert_str_eq(ch.node, "a@b");
}
END_TEST

START_TEST(challenge_malformed)
{
	uint8_t body[32] = { 'N' };
	struct dist_challenge ch;
	size_t len;

	/* Every length short of a whole header. */
	for (len = 0; len < 19; len++)
		ck_assert_int_eq(dist_challenge(body, len, &ch), -1);
	/* A name length past the end, an empty name, a NUL in the name. */
	body[18] = 5;
	memcpy(body + 19, "a@b", 3);
	ck_assert_int_eq(dist_challenge(body, 22, &ch), -1);
	body[18] = 0;
	ck_assert_int_eq(dist_challenge(body, 19, &ch), -1);
	body[18] = 3;
	body[20] = '\0';
	ck_assert_int_eq(dist_challenge(body, 22, &ch), -1);
	/* Neither 'N' nor 'n'. */
	body[0] = 'r';
	ck_assert_int_eq(dist_challenge(body, sizeof(body), &ch), -1);
	body[0] = 'n';
	ck_assert_int_eq(dist_challenge(body, 11, &ch), -1);
}
END_TEST

START_TEST(challenge_name_too_long)
{
	uint8_t body[19 + DIST_NAME_MAX];
	struct dist_challenge ch;

	memset(body, 'x', sizeof(body));
	body[0] = 'N';
	body[17] = (uint8_t)(DIST_NAME_MAX >> 8);
	body[18] = (uint8_t)DIST_NAME_MAX;
	ck_assert_int_eq(dist_challenge(body, sizeof(body), &ch), -1);
	body[17] = (uint8_t)((DIST_NAME_MAX - 1) >> 8);
	body[18] = (uint8_t)(DIST_NAME_MAX - 1);
	ck_assert_int_eq(dist_challenge(body, sizeof(body) - 1, &ch), 0);
	ck_assert_uint_eq(strlen(ch.node), DIST_NAME_MAX - 1);
}
END_TEST

START_TEST(reply_and_ack)
{
	uint8_t buf[64], d[MD5_LEN], ack[1 + MD5_LEN];
	int n;

	dist_digest("c", 7, d);
	n = dist_reply(buf, sizeof(buf), 0x0a0b0c0d, d);
	ck_assert_int_eq(n, 2 + 21);
	ck_assert_mem_eq(buf, "\x00\x15r\x0a\x0b\x0c\x0d", 7);
	ck_assert_mem_eq(buf + 7, d, MD5_LEN);
	ck_assert_int_eq(dist_reply(buf, 22, 1, d), -1);

	ack[0] = 'a';
	memcpy(ack + 1, d, MD5_LEN);
	ck_assert_int_eq(dist_ack(ack, sizeof(ack), d), 1);
	ack[MD5_LEN] ^= 1;
	ck_assert_int_eq(dist_ack(ack, sizeof(ack), d), 0);
	ack[MD5_LEN] ^= 1;
	ck_assert_int_eq(dist_ack(ack, sizeof(ack) - 1, d), 0);
	ack[0] = 's';
	ck_assert_int_eq(dist_ack(ack, sizeof(ack), d), 0);
}
END_TEST

/* A node's "sok" then its 'N' challenge, as OTP 23+ answers send_name. */
static const uint8_t answer_ok[] = {
	0, 3, 's', 'o', 'k',
	0, 27, 'N', 0, 0, 0, 0x0d, 0x07, 0xdf, 0x7f, 0xbd,
	0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 7,
	0, 8, 'a', 'p', 'p', '@', 'w', 'e', 'b', '1',
};

/* Every prefix wants more; the whole names the node; one byte more is
 * not looked at. */
START_TEST(answer_name_prefixes)
{
	uint8_t buf[sizeof(answer_ok) + 1];
	char name[DIST_NAME_MAX];
	size_t len;

	memcpy(buf, answer_ok, sizeof(answer_ok));
	buf[sizeof(answer_ok)] = 0xff;
	for (len = 0; len < sizeof(answer_ok); len++)
		ck_assert_msg(dist_answer_name(buf, len, name, sizeof(name)) == 0,
		    "%zu bytes: not yet", len);
	ck_assert_int_eq(dist_answer_name(buf, sizeof(answer_ok), name,
	    sizeof(name)), 1);
	ck_assert_str_eq(name, "app@web1");
	ck_assert_int_eq(dist_answer_name(buf, sizeof(buf), name,
	    sizeof(name)), 1);
	/* The name must fit with its NUL. */
	ck_assert_int_eq(dist_answer_name(answer_ok, sizeof(answer_ok), name,
	    9), 1);
	ck_assert_int_eq(dist_answer_name(answer_ok, sizeof(answer_ok), name,
	    8), -1);
}
END_TEST

/* A status that is not "go on", or a message no node sends: -1 at once. */
START_TEST(answer_name_refused)
{
	static const uint8_t alive[] = { 0, 6, 's', 'a', 'l', 'i', 'v', 'e' };
	static const uint8_t nok[] = { 0, 4, 's', 'n', 'o', 'k' };
	static const uint8_t simul[] = { 0, 16, 's', 'o', 'k', '_', 's', 'i',
	    'm', 'u', 'l', 't', 'a', 'n', 'e', 'o', 'u', 's',
	    0, 14, 'n', 0, 5, 0, 0, 0x7f, 0xfd, 0, 0, 0, 42, 'a', '@', 'b' };
	static const uint8_t empty[] = { 0, 0 };
	static const uint8_t huge[] = { 0xff, 0xff, 's' };
	static const uint8_t http[] = "HTTP/1.1 400 Bad Request\r\n";
	static const uint8_t bad_challenge[] = { 0, 3, 's', 'o', 'k', 0, 2,
	    'N', 0 };
	char name[DIST_NAME_MAX];

	ck_assert_int_eq(dist_answer_name(alive, sizeof(alive), name,
	    sizeof(name)), -1);
	ck_assert_int_eq(dist_answer_name(nok, sizeof(nok), name,
	    sizeof(name)), -1);
	ck_assert_int_eq(dist_answer_name(empty, sizeof(empty), name,
	    sizeof(name)), -1);
	ck_assert_int_eq(dist_answer_name(huge, sizeof(huge), name,
	    sizeof(name)), -1);
	ck_assert_int_eq(dist_answer_name(http, sizeof(http) - 1, name,
	    sizeof(name)), -1);
	ck_assert_int_eq(dist_answer_name(bad_challenge,
	    sizeof(bad_challenge), name, sizeof(name)), -1);
	ck_assert_int_eq(dist_answer_name(simul, sizeof(simul), name,
	    sizeof(name)), 1);
	ck_assert_str_eq(name, "a@b");
}
END_TEST

static Suite *
dist_suite(void)
{
	Suite *s = suite_create("dist");
	TCase *tc;

	tc = tcase_create("md5");
	tcase_add_loop_test(tc, md5_rfc1321, 0,
	    (int)(sizeof(rfc_in) / sizeof(rfc_in[0])));
	tcase_add_test(tc, md5_incremental);
	tcase_add_loop_test(tc, md5_padding_edges, 0, 5);
	suite_add_tcase(s, tc);

	tc = tcase_create("digest");
	tcase_add_loop_test(tc, digest_matches_erlang, 0, 1);
	tcase_add_test(tc, digest_is_md5_of_cookie_and_decimal);
	suite_add_tcase(s, tc);

	tc = tcase_create("messages");
	tcase_add_test(tc, name_layout);
	tcase_add_test(tc, name_flags_mandatory);
	tcase_add_test(tc, name_refused);
	tcase_add_test(tc, status_parse);
	tcase_add_test(tc, challenge_new);
	tcase_add_test(tc, challenge_old);
	tcase_add_test(tc, challenge_malformed);
	tcase_add_test(tc, challenge_name_too_long);
	tcase_add_test(tc, reply_and_ack);
	tcase_add_test(tc, answer_name_prefixes);
	tcase_add_test(tc, answer_name_refused);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr;
	int failed;

	sr = srunner_create(dist_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
