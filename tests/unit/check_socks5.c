/*
 * check_socks5.c: the SOCKS5 client state machine (preload/common/socks5.h), one
 * Check suite.  Each test plays a proxy's side as scripted bytes.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "socks5.h"

static struct socks5	s;
static uint8_t		out[SOCKS5_MSG_MAX];
static size_t		outlen;

/* Feed the scripted bytes; they must be exactly what the machine wants. */
static int
feed(const uint8_t *in, size_t len)
{
	ck_assert_uint_eq(socks5_need(&s), len);
	return socks5_feed(&s, in, len, out, sizeof(out), &outlen);
}

/* Begin a no-auth CONNECT to 127.0.0.1:4369 and take method 0. */
static void
begin_noauth(void)
{
	static const uint8_t method[] = { 5, 0 };

	ck_assert_int_eq(socks5_begin(&s, "127.0.0.1", 4369, NULL, NULL, out,
	    sizeof(out)), 3);
	ck_assert_int_eq(feed(method, sizeof(method)), SOCKS5_CONTINUE);
}

/* --- the greeting and the request ------------------------------------- */

START_TEST(greeting_noauth)
{
	static const uint8_t want[] = { 5, 1, 0 };

	ck_assert_int_eq(socks5_begin(&s, "127.0.0.1", 1, NULL, NULL, out,
	    sizeof(out)), 3);
	ck_assert_mem_eq(out, want, sizeof(want));
	ck_assert_uint_eq(socks5_need(&s), 2);
}
END_TEST

START_TEST(greeting_userpass)
{
	static const uint8_t want[] = { 5, 2, 0, 2 };

	ck_assert_int_eq(socks5_begin(&s, "127.0.0.1", 1, "u", "p", out,
	    sizeof(out)), 4);
	ck_assert_mem_eq(out, want, sizeof(want));
}
END_TEST

START_TEST(request_ipv4)
{
	static const uint8_t want[] = { 5, 1, 0, 1, 127, 0, 0, 1, 0x11, 0x11 };

	begin_noauth();
	ck_assert_uint_eq(outlen, sizeof(want));
	ck_assert_mem_eq(out, want, sizeof(want));
	ck_assert_uint_eq(socks5_need(&s), 4);
}
END_TEST

START_TEST(request_ipv6)
{
	static const uint8_t method[] = { 5, 0 };
	uint8_t want[4 + 16 + 2] = { 5, 1, 0, 4 };

	want[4 + 15] = 1;	/* ::1 */
	want[20] = 0xff;
	want[21] = 0xfe;
	ck_assert_int_gt(socks5_begin(&s, "::1", 65534, NULL, NULL, out,
	    sizeof(out)), 0);
	ck_assert_int_eq(feed(method, 2), SOCKS5_CONTINUE);
	ck_assert_uint_eq(outlen, sizeof(want));
	ck_assert_mem_eq(out, want, sizeof(want));
}
END_TEST

START_TEST(request_domain)
{
	static const uint8_t method[] = { 5, 0 };
	static const uint8_t want[] = { 5, 1, 0, 3, 9, 'l', 'o', 'c', 'a', 'l',
	    'h', 'o', 's', 't', 0, 80 };

	ck_assert_int_gt(socks5_begin(&s, "localhost", 80, NULL, NULL, out,
	    sizeof(out)), 0);
	ck_assert_int_eq(feed(method, 2), SOCKS5_CONTINUE);
	ck_assert_uint_eq(outlen, sizeof(want));
	ck_assert_mem_eq(out, want, sizeof(want));
}
END_TEST

START_TEST(begin_rejects_what_does_not_fit)
{
	char host[300], cred[300];

	memset(host, 'h', sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	memset(cred, 'c', 256);
	cred[256] = '\0';
	ck_assert_int_eq(socks5_begin(&s, host, 1, NULL, NULL, out, sizeof(out)),
	    -1);
	ck_assert_int_eq(socks5_begin(&s, "", 1, NULL, NULL, out, sizeof(out)),
	    -1);
	ck_assert_int_eq(socks5_begin(&s, "h", 1, cred, "p", out, sizeof(out)),
	    -1);
	ck_assert_int_eq(socks5_begin(&s, "h", 1, "u", cred, out, sizeof(out)),
	    -1);
	ck_assert_int_eq(socks5_begin(&s, "h", 1, "u", NULL, out, sizeof(out)),
	    -1);
	ck_assert_int_eq(socks5_begin(&s, "h", 1, "", "p", out, sizeof(out)),
	    -1);
	ck_assert_int_eq(socks5_begin(&s, "h", 1, "u", "", out, sizeof(out)),
	    -1);	/* RFC 1929: PLEN is 1 to 255 */
	ck_assert_int_eq(socks5_begin(&s, "h", 1, NULL, NULL, out, 16), -1);
	/* The longest that fits does. */
	host[255] = '\0';
	cred[255] = '\0';
	ck_assert_int_eq(socks5_begin(&s, host, 1, cred, cred, out, sizeof(out)),
	    4);
}
END_TEST

/* --- methods and authentication --------------------------------------- */

START_TEST(userpass_accepted)
{
	static const uint8_t method[] = { 5, 2 }, ok[] = { 1, 0 };
	static const uint8_t auth[] = { 1, 4, 'u', 's', 'e', 'r', 2, 'p', 'w' };

	ck_assert_int_gt(socks5_begin(&s, "127.0.0.1", 1, "user", "pw", out,
	    sizeof(out)), 0);
	ck_assert_int_eq(feed(method, 2), SOCKS5_CONTINUE);
	ck_assert_uint_eq(outlen, sizeof(auth));
	ck_assert_mem_eq(out, auth, sizeof(auth));
	ck_assert_int_eq(feed(ok, 2), SOCKS5_CONTINUE);
	ck_assert_uint_eq(outlen, 10);	/* the CONNECT request */
	ck_assert_uint_eq(out[1], SOCKS5_CMD_CONNECT);
}
END_TEST

START_TEST(userpass_refused)
{
	static const uint8_t method[] = { 5, 2 }, no[] = { 1, 1 };

	ck_assert_int_gt(socks5_begin(&s, "127.0.0.1", 1, "u", "p", out,
	    sizeof(out)), 0);
	ck_assert_int_eq(feed(method, 2), SOCKS5_CONTINUE);
	ck_assert_int_eq(feed(no, 2), SOCKS5_EAUTH);
	ck_assert_int_eq(socks5_errno(&s, SOCKS5_EAUTH), EACCES);
	ck_assert_uint_eq(socks5_need(&s), 0);
}
END_TEST

START_TEST(userpass_bad_version)
{
	static const uint8_t method[] = { 5, 2 }, bad[] = { 5, 0 };

	ck_assert_int_gt(socks5_begin(&s, "127.0.0.1", 1, "u", "p", out,
	    sizeof(out)), 0);
	ck_assert_int_eq(feed(method, 2), SOCKS5_CONTINUE);
	ck_assert_int_eq(feed(bad, 2), SOCKS5_EPROTO);
}
END_TEST

START_TEST(method_unacceptable)
{
	static const uint8_t none[] = { 5, SOCKS5_AUTH_NO_ACCEPTABLE };

	ck_assert_int_gt(socks5_begin(&s, "127.0.0.1", 1, NULL, NULL, out,
	    sizeof(out)), 0);
	ck_assert_int_eq(feed(none, 2), SOCKS5_EAUTH);
}
END_TEST

/* A proxy may not pick a method we did not offer. */
START_TEST(method_not_offered)
{
	static const uint8_t userpass[] = { 5, 2 }, gssapi[] = { 5, 1 };

	ck_assert_int_gt(socks5_begin(&s, "127.0.0.1", 1, NULL, NULL, out,
	    sizeof(out)), 0);
	ck_assert_int_eq(feed(userpass, 2), SOCKS5_EAUTH);
	ck_assert_int_gt(socks5_begin(&s, "127.0.0.1", 1, "u", "p", out,
	    sizeof(out)), 0);
	ck_assert_int_eq(feed(gssapi, 2), SOCKS5_EAUTH);
}
END_TEST

START_TEST(method_bad_version)
{
	static const uint8_t v4[] = { 4, 0 };

	ck_assert_int_gt(socks5_begin(&s, "127.0.0.1", 1, NULL, NULL, out,
	    sizeof(out)), 0);
	ck_assert_int_eq(feed(v4, 2), SOCKS5_EPROTO);
	ck_assert_int_eq(socks5_errno(&s, SOCKS5_EPROTO), EPROTO);
}
END_TEST

/* --- the reply ----------------------------------------------------------- */

START_TEST(reply_ipv4_done)
{
	static const uint8_t head[] = { 5, 0, 0, 1 };
	static const uint8_t addr[] = { 10, 0, 0, 1, 0x12, 0x34 };

	begin_noauth();
	ck_assert_int_eq(feed(head, 4), SOCKS5_CONTINUE);
	ck_assert_int_eq(feed(addr, 6), SOCKS5_DONE);
	ck_assert_uint_eq(socks5_need(&s), 0);
}
END_TEST

START_TEST(reply_ipv6_done)
{
	static const uint8_t head[] = { 5, 0, 0, 4 };
	uint8_t addr[18] = { 0 };

	begin_noauth();
	ck_assert_int_eq(feed(head, 4), SOCKS5_CONTINUE);
	ck_assert_int_eq(feed(addr, 18), SOCKS5_DONE);
}
END_TEST

START_TEST(reply_domain_done)
{
	static const uint8_t head[] = { 5, 0, 0, 3 }, len[] = { 4 };
	static const uint8_t addr[] = { 'h', 'o', 's', 't', 0, 1 };

	begin_noauth();
	ck_assert_int_eq(feed(head, 4), SOCKS5_CONTINUE);
	ck_assert_int_eq(feed(len, 1), SOCKS5_CONTINUE);
	ck_assert_int_eq(feed(addr, 6), SOCKS5_DONE);
}
END_TEST

START_TEST(reply_domain_empty)
{
	static const uint8_t head[] = { 5, 0, 0, 3 }, len[] = { 0 };

	begin_noauth();
	ck_assert_int_eq(feed(head, 4), SOCKS5_CONTINUE);
	ck_assert_int_eq(feed(len, 1), SOCKS5_EPROTO);
}
END_TEST

START_TEST(reply_bad_atyp)
{
	static const uint8_t head[] = { 5, 0, 0, 9 };

	begin_noauth();
	ck_assert_int_eq(feed(head, 4), SOCKS5_EPROTO);
}
END_TEST

START_TEST(reply_bad_version)
{
	static const uint8_t head[] = { 4, 0, 0, 1 };

	begin_noauth();
	ck_assert_int_eq(feed(head, 4), SOCKS5_EPROTO);
}
END_TEST

/* Each failure code and the errno a connect reports for it. */
START_TEST(reply_codes_map_to_errno)
{
	static const struct { uint8_t rep; int err; } m[] = {
		{ SOCKS5_REP_GENERAL, ECONNREFUSED },
		{ SOCKS5_REP_NOT_ALLOWED, EACCES },
		{ SOCKS5_REP_NET_UNREACH, ENETUNREACH },
		{ SOCKS5_REP_HOST_UNREACH, EHOSTUNREACH },
		{ SOCKS5_REP_REFUSED, ECONNREFUSED },
		{ SOCKS5_REP_TTL, ETIMEDOUT },
		{ SOCKS5_REP_CMD, EPROTO },
		{ SOCKS5_REP_ATYP, EPROTO },
		{ 0x42, ECONNREFUSED },
	};
	uint8_t head[] = { 5, 0, 0, 1 };

	begin_noauth();
	head[1] = m[_i].rep;
	ck_assert_int_eq(feed(head, 4), SOCKS5_EREPLY);
	ck_assert_int_eq(socks5_errno(&s, SOCKS5_EREPLY), m[_i].err);
	ck_assert_ptr_nonnull(socks5_rep_text(m[_i].rep));
	ck_assert_uint_eq(socks5_need(&s), 0);
}
END_TEST

/* --- misuse: truncated input, feeding after the end ----------------------- */

START_TEST(short_feed_is_an_error)
{
	static const uint8_t head[] = { 5, 0, 0 };

	begin_noauth();
	ck_assert_int_eq(socks5_feed(&s, head, sizeof(head), out, sizeof(out),
	    &outlen), SOCKS5_EPROTO);
	ck_assert_uint_eq(socks5_need(&s), 0);
}
END_TEST

START_TEST(feed_after_done_is_an_error)
{
	static const uint8_t head[] = { 5, 0, 0, 1 }, addr[6] = { 0 };

	begin_noauth();
	ck_assert_int_eq(feed(head, 4), SOCKS5_CONTINUE);
	ck_assert_int_eq(feed(addr, 6), SOCKS5_DONE);
	ck_assert_int_eq(socks5_feed(&s, addr, 2, out, sizeof(out), &outlen),
	    SOCKS5_EPROTO);
}
END_TEST

/* Every prefix of a whole scripted exchange leaves the machine waiting. */
START_TEST(every_prefix_waits)
{
	static const uint8_t script[] = { 5, 0, 5, 0, 0, 1, 1, 2, 3, 4, 0, 9 };
	size_t at = 0, need;
	int step = SOCKS5_CONTINUE;

	ck_assert_int_gt(socks5_begin(&s, "127.0.0.1", 1, NULL, NULL, out,
	    sizeof(out)), 0);
	while (step == SOCKS5_CONTINUE) {
		need = socks5_need(&s);
		ck_assert_uint_gt(need, 0);
		ck_assert_uint_le(at + need, sizeof(script));
		step = feed(script + at, need);
		at += need;
	}
	ck_assert_int_eq(step, SOCKS5_DONE);
	ck_assert_uint_eq(at, sizeof(script));	/* not one byte more */
}
END_TEST

static Suite *
socks5_suite(void)
{
	Suite *su = suite_create("socks5");
	TCase *tc;

	tc = tcase_create("request");
	tcase_add_test(tc, greeting_noauth);
	tcase_add_test(tc, greeting_userpass);
	tcase_add_test(tc, request_ipv4);
	tcase_add_test(tc, request_ipv6);
	tcase_add_test(tc, request_domain);
	tcase_add_test(tc, begin_rejects_what_does_not_fit);
	suite_add_tcase(su, tc);

	tc = tcase_create("auth");
	tcase_add_test(tc, userpass_accepted);
	tcase_add_test(tc, userpass_refused);
	tcase_add_test(tc, userpass_bad_version);
	tcase_add_test(tc, method_unacceptable);
	tcase_add_test(tc, method_not_offered);
	tcase_add_test(tc, method_bad_version);
	suite_add_tcase(su, tc);

	tc = tcase_create("reply");
	tcase_add_test(tc, reply_ipv4_done);
	tcase_add_test(tc, reply_ipv6_done);
	tcase_add_test(tc, reply_domain_done);
	tcase_add_test(tc, reply_domain_empty);
	tcase_add_test(tc, reply_bad_atyp);
	tcase_add_test(tc, reply_bad_version);
	tcase_add_loop_test(tc, reply_codes_map_to_errno, 0, 9);
	suite_add_tcase(su, tc);

	tc = tcase_create("misuse");
	tcase_add_test(tc, short_feed_is_an_error);
	tcase_add_test(tc, feed_after_done_is_an_error);
	tcase_add_test(tc, every_prefix_waits);
	suite_add_tcase(su, tc);
	return su;
}

int
main(void)
{
	SRunner *sr;
	int failed;

	sr = srunner_create(socks5_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
