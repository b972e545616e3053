/*
 * check_sentinel.c: entry i <-> 127.239.0.(i + 1) and ::ffff:127.239.0.(i + 1)
 * (preload/sentinel.h), one Check suite.
 */
#include <sys/socket.h>
#include <sys/un.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "config.h"
#include "sentinel.h"

static struct in_addr
v4(const char *text)
{
	struct in_addr a;

	ck_assert_int_eq(inet_pton(AF_INET, text, &a), 1);
	return a;
}

static struct in6_addr
v6(const char *text)
{
	struct in6_addr a;

	ck_assert_int_eq(inet_pton(AF_INET6, text, &a), 1);
	return a;
}

/* --- entry to address ---------------------------------------------------- */

START_TEST(v4_first_and_last)
{
	struct in_addr a;

	ck_assert_int_eq(sentinel_v4(0, &a), 0);
	ck_assert_uint_eq(a.s_addr, v4("127.239.0.1").s_addr);
	ck_assert_int_eq(sentinel_v4(SENTINEL_ENTRIES_MAX - 1, &a), 0);
	ck_assert_uint_eq(a.s_addr, v4("127.239.0.254").s_addr);
}
END_TEST

START_TEST(v4_out_of_range)
{
	struct in_addr a = { .s_addr = 0x12345678 };

	ck_assert_int_eq(sentinel_v4(SENTINEL_ENTRIES_MAX, &a), -1);
	ck_assert_int_eq(sentinel_v4(255, &a), -1);
	ck_assert_int_eq(sentinel_v4(SIZE_MAX, &a), -1);
	ck_assert_int_eq(sentinel_v4((size_t)-1 / 2, &a), -1);
}
END_TEST

START_TEST(v6_first_and_last)
{
	struct in6_addr a, want;

	ck_assert_int_eq(sentinel_v6(0, &a), 0);
	want = v6("::ffff:127.239.0.1");
	ck_assert_mem_eq(&a, &want, sizeof(a));
	ck_assert_int_eq(IN6_IS_ADDR_V4MAPPED(&a), 1);
	ck_assert_int_eq(sentinel_v6(SENTINEL_ENTRIES_MAX - 1, &a), 0);
	want = v6("::ffff:127.239.0.254");
	ck_assert_mem_eq(&a, &want, sizeof(a));
}
END_TEST

START_TEST(v6_out_of_range)
{
	struct in6_addr a;

	ck_assert_int_eq(sentinel_v6(SENTINEL_ENTRIES_MAX, &a), -1);
	ck_assert_int_eq(sentinel_v6(SIZE_MAX, &a), -1);
}
END_TEST

/* Every entry, both families, both ways. */
START_TEST(round_trip_every_entry)
{
	struct in_addr a;
	struct in6_addr a6;
	char text[INET6_ADDRSTRLEN], want[INET6_ADDRSTRLEN];
	size_t i;

	for (i = 0; i < SENTINEL_ENTRIES_MAX; i++) {
		ck_assert_int_eq(sentinel_v4(i, &a), 0);
		ck_assert_ptr_nonnull(inet_ntop(AF_INET, &a, text, sizeof(text)));
		snprintf(want, sizeof(want), "127.239.0.%zu", i + 1);
		ck_assert_str_eq(text, want);
		ck_assert_int_eq(sentinel_entry_v4(&a, SENTINEL_ENTRIES_MAX),
		    (int)i);
		ck_assert_int_eq(sentinel_entry_v4(&a, i + 1), (int)i);
		/* Entry i of a configuration with only i entries: not ours. */
		ck_assert_int_eq(sentinel_entry_v4(&a, i), -1);

		ck_assert_int_eq(sentinel_v6(i, &a6), 0);
		ck_assert_ptr_nonnull(inet_ntop(AF_INET6, &a6, text,
		    sizeof(text)));
		snprintf(want, sizeof(want), "::ffff:127.239.0.%zu", i + 1);
		ck_assert_str_eq(text, want);
		ck_assert_int_eq(sentinel_entry_v6(&a6, SENTINEL_ENTRIES_MAX),
		    (int)i);
		ck_assert_int_eq(sentinel_entry_v6(&a6, i + 1), (int)i);
		ck_assert_int_eq(sentinel_entry_v6(&a6, i), -1);
	}
}
END_TEST

/* --- address to entry ------------------------------------------------------- */

START_TEST(v4_not_sentinels)
{
	static const char *const others[] = { "127.239.0.0", "127.239.0.255",
	    "127.239.1.1", "127.238.0.1", "127.0.0.1", "10.239.0.1",
	    "0.0.0.0", "255.255.255.255", "1.0.239.127" };
	struct in_addr a;
	size_t i;

	for (i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		a = v4(others[i]);
		ck_assert_msg(sentinel_entry_v4(&a, SENTINEL_ENTRIES_MAX) == -1,
		    "%s taken for a sentinel", others[i]);
	}
}
END_TEST

START_TEST(no_entries_no_sentinels)
{
	struct in_addr a = v4("127.239.0.1");
	struct in6_addr a6 = v6("::ffff:127.239.0.1");

	ck_assert_int_eq(sentinel_entry_v4(&a, 0), -1);
	ck_assert_int_eq(sentinel_entry_v6(&a6, 0), -1);
	/* More entries than sentinels exist changes nothing. */
	a = v4("127.239.0.255");
	ck_assert_int_eq(sentinel_entry_v4(&a, 1000), -1);
	a = v4("127.239.0.254");
	ck_assert_int_eq(sentinel_entry_v4(&a, 1000), 253);
}
END_TEST

START_TEST(v6_not_sentinels)
{
	static const char *const others[] = { "::1", "::", "::127.239.0.1",
	    "64:ff9b::127.239.0.1", "::ffff:127.239.0.0", "::ffff:127.239.0.255",
	    "::ffff:127.0.0.1", "fe80::ffff:127.239.0.1", "::fffe:127.239.0.1",
	    "2001:db8::7fef:1" };
	struct in6_addr a;
	size_t i;

	for (i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		a = v6(others[i]);
		ck_assert_msg(sentinel_entry_v6(&a, SENTINEL_ENTRIES_MAX) == -1,
		    "%s taken for a sentinel", others[i]);
	}
}
END_TEST

/* --- socket addresses ------------------------------------------------------- */

START_TEST(sa_v4)
{
	struct sockaddr_in sin;
	uint16_t port = 0;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr = v4("127.239.0.3");
	sin.sin_port = htons(4370);
	ck_assert_int_eq(sentinel_entry_sa((struct sockaddr *)&sin, sizeof(sin),
	    3, &port), 2);
	ck_assert_uint_eq(port, 4370);
	ck_assert_int_eq(sentinel_entry_sa((struct sockaddr *)&sin, sizeof(sin),
	    3, NULL), 2);
	ck_assert_int_eq(sentinel_entry_sa((struct sockaddr *)&sin, sizeof(sin),
	    2, &port), -1);
	ck_assert_int_eq(sentinel_entry_sa((struct sockaddr *)&sin,
	    sizeof(sin) - 1, 3, &port), -1);
}
END_TEST

START_TEST(sa_v6)
{
	struct sockaddr_in6 sin6;
	uint16_t port = 0;

	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_addr = v6("::ffff:127.239.0.1");
	sin6.sin6_port = htons(65535);
	ck_assert_int_eq(sentinel_entry_sa((struct sockaddr *)&sin6, sizeof(sin6),
	    1, &port), 0);
	ck_assert_uint_eq(port, 65535);
	ck_assert_int_eq(sentinel_entry_sa((struct sockaddr *)&sin6,
	    sizeof(sin6) - 1, 1, &port), -1);
	/* A sockaddr_in's worth of bytes is not enough for AF_INET6. */
	ck_assert_int_eq(sentinel_entry_sa((struct sockaddr *)&sin6,
	    sizeof(struct sockaddr_in), 1, &port), -1);
}
END_TEST

/* Port stays untouched when the address is not a sentinel. */
START_TEST(sa_not_sentinels)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)(void *)&ss;
	struct sockaddr_un *sun = (struct sockaddr_un *)(void *)&ss;
	uint16_t port = 7;

	memset(&ss, 0, sizeof(ss));
	sin->sin_family = AF_INET;
	sin->sin_addr = v4("127.0.0.1");
	sin->sin_port = htons(4369);
	ck_assert_int_eq(sentinel_entry_sa((struct sockaddr *)&ss, sizeof(ss), 5,
	    &port), -1);
	ck_assert_uint_eq(port, 7);
	memset(&ss, 0, sizeof(ss));
	sun->sun_family = AF_UNIX;
	ck_assert_int_eq(sentinel_entry_sa((struct sockaddr *)&ss, sizeof(ss), 5,
	    &port), -1);
	ss.ss_family = AF_UNSPEC;
	ck_assert_int_eq(sentinel_entry_sa((struct sockaddr *)&ss, sizeof(ss), 5,
	    &port), -1);
	ck_assert_int_eq(sentinel_entry_sa(NULL, 0, 5, &port), -1);
	ck_assert_int_eq(sentinel_entry_sa((struct sockaddr *)&ss, 0, 5, &port),
	    -1);
	ck_assert_uint_eq(port, 7);
}
END_TEST

/* Every configuration entry has a sentinel. */
/* The mapped form, as inet_pton writes it (preload/addr.h). */
START_TEST(v4mapped)
{
	static const char *const v4[] = { "127.239.0.1", "0.0.0.0",
	    "255.255.255.255", "10.1.2.3" };
	struct in_addr a;
	struct in6_addr got, want;
	char text[64];
	size_t i;

	for (i = 0; i < sizeof(v4) / sizeof(v4[0]); i++) {
		ck_assert_int_eq(inet_pton(AF_INET, v4[i], &a), 1);
		snprintf(text, sizeof(text), "::ffff:%s", v4[i]);
		ck_assert_int_eq(inet_pton(AF_INET6, text, &want), 1);
		memset(&got, 0xee, sizeof(got));
		addr_v4mapped(&a, &got);
		ck_assert_mem_eq(&got, &want, sizeof(got));
		ck_assert(IN6_IS_ADDR_V4MAPPED(&got));
	}
}
END_TEST

START_TEST(room_for_every_entry)
{
	ck_assert_uint_ge(SENTINEL_ENTRIES_MAX, CONFIG_ENTRIES_MAX);
	ck_assert_uint_eq(SENTINEL_NET, 0x7fef0000u);
}
END_TEST

static Suite *
sentinel_suite(void)
{
	Suite *s = suite_create("sentinel");
	TCase *tc;

	tc = tcase_create("to_address");
	tcase_add_test(tc, v4_first_and_last);
	tcase_add_test(tc, v4_out_of_range);
	tcase_add_test(tc, v6_first_and_last);
	tcase_add_test(tc, v6_out_of_range);
	tcase_add_test(tc, round_trip_every_entry);
	tcase_add_test(tc, room_for_every_entry);
	tcase_add_test(tc, v4mapped);
	suite_add_tcase(s, tc);

	tc = tcase_create("to_entry");
	tcase_add_test(tc, v4_not_sentinels);
	tcase_add_test(tc, no_entries_no_sentinels);
	tcase_add_test(tc, v6_not_sentinels);
	suite_add_tcase(s, tc);

	tc = tcase_create("sockaddr");
	tcase_add_test(tc, sa_v4);
	tcase_add_test(tc, sa_v6);
	tcase_add_test(tc, sa_not_sentinels);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr;
	int failed;

	sr = srunner_create(sentinel_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
