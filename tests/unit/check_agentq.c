/*
 * check_agentq.c: the agent's own request (tools/erlfwd/agentq.h): a
 * LISTEN is told from a version 1 preamble as soon as the fourth byte
 * arrives, every prefix of it waits for more, and a bad op or port 0 is
 * refused; the answer's bytes.  Also flags_aflags() (flags.h), the
 * library-free mode's ERL_AFLAGS, and mode_pick() (mode.h).
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agentq.h"
#include "flags.h"
#include "frame.h"
#include "mode.h"

static const uint8_t listen_4242[] = { 'E', 'F', 'W', 'A', 1, 0x10, 0x92 };

START_TEST(listen_whole)
{
	uint16_t port = 0;

	ck_assert_int_eq(agentq_decode(listen_4242, sizeof(listen_4242),
	    &port), AGENTQ_LEN);
	ck_assert_uint_eq(port, 4242);
}
END_TEST

/* Every prefix waits; the bytes after it are not looked at. */
START_TEST(listen_prefixes)
{
	uint8_t buf[16];
	uint16_t port = 0;
	size_t n;

	for (n = 0; n < AGENTQ_LEN; n++)
		ck_assert_int_eq(agentq_decode(listen_4242, n, &port), 0);
	memcpy(buf, listen_4242, sizeof(listen_4242));
	memset(buf + sizeof(listen_4242), 'x', sizeof(buf) -
	    sizeof(listen_4242));
	ck_assert_int_eq(agentq_decode(buf, sizeof(buf), &port), AGENTQ_LEN);
}
END_TEST

/* A preamble is not ours from its fourth byte on; "EFW" is undecided. */
START_TEST(preamble_is_not)
{
	uint8_t pre[FRAME_HDR_LEN];
	uint16_t port;
	int k = frame_encode(pre, sizeof(pre), FRAME_TAG_DIST, 4242, NULL, 0);

	ck_assert_int_eq(k, FRAME_HDR_LEN);
	ck_assert_int_eq(agentq_decode(pre, 3, &port), 0);
	ck_assert_int_eq(agentq_decode(pre, 4, &port), -1);
	ck_assert_int_eq(agentq_decode(pre, (size_t)k, &port), -1);
	ck_assert_int_eq(agentq_decode((const uint8_t *)"GET / HTTP", 10,
	    &port), -1);
}
END_TEST

START_TEST(bad_requests)
{
	uint8_t b[AGENTQ_LEN];
	uint16_t port;

	memcpy(b, listen_4242, sizeof(b));
	b[4] = 2;			/* no such op */
	ck_assert_int_eq(agentq_decode(b, sizeof(b), &port), -1);
	b[4] = 0;
	ck_assert_int_eq(agentq_decode(b, sizeof(b), &port), -1);
	b[4] = AGENTQ_LISTEN;
	b[5] = b[6] = 0;		/* port 0 */
	ck_assert_int_eq(agentq_decode(b, sizeof(b), &port), -1);
}
END_TEST

START_TEST(answer_bytes)
{
	uint8_t a[AGENTQ_LEN];
	static const uint8_t ok[] = { 'E', 'F', 'W', 'A', 0, 0xa4, 0x1f };

	agentq_answer(a, AGENTQ_OK, 42015);
	ck_assert_mem_eq(a, ok, sizeof(ok));
	agentq_answer(a, AGENTQ_REFUSED, 0);
	ck_assert_uint_eq(a[4], AGENTQ_REFUSED);
	ck_assert_uint_eq(a[5] | a[6], 0);
}
END_TEST

/* ERL_AFLAGS: ours first (the first -epmd_module wins), one -erlfwd_epmd
 * a host, then the user's own. */
START_TEST(aflags)
{
	const char *pats[] = { "dyno", "web.*" };
	const uint16_t ports[] = { 40001, 40002 };
	char out[512], small[40];

	ck_assert_int_eq(flags_aflags(out, sizeof(out), "+S 2", "/c/e", pats,
	    ports, 2, 5000), 0);
	ck_assert_str_eq(out, "-epmd_module erlfwd_epmd -pa /c/e "
	    "-erlfwd_epmd dyno=127.0.0.1:40001 -erlfwd_epmd "
	    "web.*=127.0.0.1:40002 -erlfwd_epmd_timeout 5000 +S 2");
	ck_assert_int_eq(flags_aflags(out, sizeof(out), NULL, "/c/e", pats,
	    ports, 1, 100), 0);
	ck_assert_str_eq(out, "-epmd_module erlfwd_epmd -pa /c/e "
	    "-erlfwd_epmd dyno=127.0.0.1:40001 -erlfwd_epmd_timeout 100");
	/* erlexec splits at blanks: a path with one cannot be passed. */
	ck_assert_int_eq(flags_aflags(out, sizeof(out), NULL, "/my cache/e",
	    pats, ports, 1, 100), -1);
	ck_assert_int_eq(flags_aflags(small, sizeof(small), NULL, "/c/e",
	    pats, ports, 2, 100), -1);
}
END_TEST

/* --no-preload and ERLFWD_PRELOAD pick the mode; a bad value is said. */
START_TEST(pick)
{
	struct mode m;
	char err[256];

	ck_assert_int_eq(unsetenv("ERLFWD_PRELOAD"), 0);
	ck_assert_int_eq(mode_pick(&m, 1, err, sizeof(err)), 0);
	ck_assert_int_eq(m.kind, MODE_FLAGS);
	ck_assert_str_eq(m.why, "asked with --no-preload");
	ck_assert_int_eq(setenv("ERLFWD_PRELOAD", "off", 1), 0);
	ck_assert_int_eq(mode_pick(&m, 0, err, sizeof(err)), 0);
	ck_assert_int_eq(m.kind, MODE_FLAGS);
	ck_assert_int_eq(setenv("ERLFWD_PRELOAD", "maybe", 1), 0);
	ck_assert_int_eq(mode_pick(&m, 0, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "ERLFWD_PRELOAD='maybe': use on, off or auto");
	/* No library anywhere: the library-free mode, unless insisted on. */
	ck_assert_int_eq(setenv("ERLFWD_LIB", "/nonexistent/liberlfwd.so",
	    1), 0);
	ck_assert_int_eq(setenv("ERLFWD_PRELOAD", "on", 1), 0);
	ck_assert_int_eq(mode_pick(&m, 0, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "ERLFWD_PRELOAD=on, but"));
	ck_assert_int_eq(setenv("ERLFWD_PRELOAD", "auto", 1), 0);
	ck_assert_int_eq(mode_pick(&m, 0, err, sizeof(err)), 0);
	ck_assert_int_eq(m.kind, MODE_FLAGS);
	ck_assert_str_eq(mode_name(m.kind), "library-free");
	ck_assert_int_eq(unsetenv("ERLFWD_LIB"), 0);
	ck_assert_int_eq(unsetenv("ERLFWD_PRELOAD"), 0);
}
END_TEST

static Suite *
agentq_suite(void)
{
	Suite *s = suite_create("agentq");
	TCase *tc = tcase_create("agentq");

	tcase_add_test(tc, listen_whole);
	tcase_add_test(tc, listen_prefixes);
	tcase_add_test(tc, preamble_is_not);
	tcase_add_test(tc, bad_requests);
	tcase_add_test(tc, answer_bytes);
	suite_add_tcase(s, tc);
	tc = tcase_create("libfree");
	tcase_add_test(tc, aflags);
	tcase_add_test(tc, pick);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr;
	int failed;

	sr = srunner_create(agentq_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
