/*
 * check_resolve.c: sentinel answers in resolver shapes (preload/resolve.h),
 * one Check suite.
 *
 * resolve_hostent serves gethostbyname_r and friends, whose callers hand in
 * buffers of any size and alignment: every size from nothing to comfortably
 * enough is tried at every misalignment, and everything the answer points at
 * must lie inside the buffer, with the bytes around it untouched.
 */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <check.h>
#include <errno.h>
#include <netdb.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resolve.h"
#include "sentinel.h"

#define CANARY		0xa5
#define GUARD		32	/* canary bytes on each side of the buffer */
#define SIZE_SLACK	96	/* sizes tried past the smallest that works */

static char	long_name[256];

static void
setup(void)
{
	memset(long_name, 'n', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
}

/* 1 when [p, p + len) lies inside [lo, hi). */
static int
inside(const void *p, size_t len, const char *lo, const char *hi)
{
	const char *c = p;

	return c >= lo && c <= hi && len <= (size_t)(hi - c);
}

/* Check a successful answer for name (entry, af) in [b, b + len). */
static void
assert_hostent(const struct hostent *he, const char *b, size_t len,
    const char *name, int af, int entry)
{
	const char *end = b + len;
	struct in_addr a4;
	struct in6_addr a6;

	ck_assert_int_eq(he->h_addrtype, af);
	ck_assert_ptr_nonnull(he->h_name);
	ck_assert_msg(inside(he->h_name, strlen(name) + 1, b, end),
	    "h_name outside the buffer");
	ck_assert_str_eq(he->h_name, name);
	ck_assert_msg(inside(he->h_aliases, sizeof(char *), b, end),
	    "h_aliases outside the buffer");
	ck_assert_uint_eq((uintptr_t)he->h_aliases % alignof(char *), 0);
	ck_assert_ptr_null(he->h_aliases[0]);
	ck_assert_msg(inside(he->h_addr_list, 2 * sizeof(char *), b, end),
	    "h_addr_list outside the buffer");
	ck_assert_uint_eq((uintptr_t)he->h_addr_list % alignof(char *), 0);
	ck_assert_ptr_nonnull(he->h_addr_list[0]);
	ck_assert_ptr_null(he->h_addr_list[1]);
	ck_assert_msg(inside(he->h_addr_list[0], (size_t)he->h_length, b, end),
	    "the address is outside the buffer");
	if (af == AF_INET) {
		ck_assert_int_eq(he->h_length, 4);
		ck_assert_int_eq(sentinel_v4((size_t)entry, &a4), 0);
		ck_assert_mem_eq(he->h_addr_list[0], &a4, 4);
	} else {
		ck_assert_int_eq(he->h_length, 16);
		ck_assert_int_eq(sentinel_v6((size_t)entry, &a6), 0);
		ck_assert_mem_eq(he->h_addr_list[0], &a6, 16);
	}
}

/*
 * Every buffer size at misalignment mis: ERANGE below some size, a complete
 * answer inside the buffer from there on, and no byte touched outside.
 */
static void
sweep(const char *name, int af, int entry, size_t mis)
{
	size_t need = 0, size, i, max;
	struct hostent he;
	char *block, *b;
	int rc;

	max = 2 * sizeof(char *) * 4 + 64 + strlen(name) + SIZE_SLACK;
	/* malloc's alignment plus mis: b is misaligned by exactly mis. */
	block = malloc(GUARD + max + GUARD + alignof(max_align_t));
	ck_assert_ptr_nonnull(block);
	for (size = 0; size <= max; size++) {
		b = block + GUARD + mis;
		memset(block, CANARY, GUARD + max + GUARD + alignof(max_align_t));
		memset(&he, 0, sizeof(he));
		rc = resolve_hostent(&he, b, size, name, af, entry);
		if (rc == ERANGE) {
			ck_assert_msg(need == 0, "%s af %d mis %zu: ERANGE at %zu "
			    "after success at %zu", name, af, mis, size, need);
		} else {
			ck_assert_msg(rc == 0, "%s af %d mis %zu size %zu: %d", name,
			    af, mis, size, rc);
			if (need == 0)
				need = size;
			assert_hostent(&he, b, size, name, af, entry);
		}
		/* Check records every passing assertion: test the canaries
		 * with plain ifs, or millions of records slow valgrind. */
		for (i = 0; i < GUARD + mis; i++)
			if ((unsigned char)block[i] != CANARY)
				ck_abort_msg("size %zu mis %zu: wrote %zu bytes "
				    "before the buffer", size, mis,
				    GUARD + mis - i);
		for (i = 0; i < GUARD; i++)
			if ((unsigned char)b[size + i] != CANARY)
				ck_abort_msg("size %zu mis %zu: wrote past the "
				    "end (+%zu)", size, mis, i);
	}
	ck_assert_msg(need > 0, "%s af %d mis %zu: no size up to %zu was enough",
	    name, af, mis, max);
	/* Not wasteful: the pointers, the address, the name, some alignment. */
	ck_assert_msg(need <= 3 * sizeof(char *) + 16 + strlen(name) + 1 +
	    alignof(max_align_t), "%s mis %zu: needs %zu bytes", name, mis, need);
	free(block);
}

START_TEST(hostent_every_size_and_alignment)
{
	size_t mis = (size_t)_i;

	sweep("web.1", AF_INET, 0, mis);
	sweep("web.1", AF_INET6, 0, mis);
	sweep("", AF_INET, 3, mis);
	sweep("x", AF_INET6, SENTINEL_ENTRIES_MAX - 1, mis);
	sweep(long_name, AF_INET, 31, mis);
	sweep(long_name, AF_INET6, 31, mis);
}
END_TEST

/* Exactly-sized heap buffers: ASan reports any byte past the end. */
START_TEST(hostent_exact_heap_buffers)
{
	struct hostent he;
	size_t size;
	char *b;
	int rc, ok = 0;

	for (size = 0; size < 256; size++) {
		b = malloc(size ? size : 1);
		ck_assert_ptr_nonnull(b);
		rc = resolve_hostent(&he, b, size, "dyno-1", AF_INET6, 7);
		ck_assert_msg(rc == 0 || rc == ERANGE, "size %zu: %d", size, rc);
		if (rc == 0) {
			assert_hostent(&he, b, size, "dyno-1", AF_INET6, 7);
			ok++;
		}
		free(b);
	}
	ck_assert_int_gt(ok, 0);
}
END_TEST

START_TEST(hostent_copies_the_name)
{
	char name[] = "web.7", buf[512];
	struct hostent he;

	ck_assert_int_eq(resolve_hostent(&he, buf, sizeof(buf), name, AF_INET, 6),
	    0);
	name[0] = 'X';
	ck_assert_str_eq(he.h_name, "web.7");
	ck_assert_ptr_ne(he.h_name, name);
	assert_hostent(&he, buf, sizeof(buf), "web.7", AF_INET, 6);
}
END_TEST

START_TEST(hostent_bad_family_or_entry)
{
	char buf[512];
	struct hostent he;

	ck_assert_int_eq(resolve_hostent(&he, buf, sizeof(buf), "a", AF_UNIX, 0),
	    EAFNOSUPPORT);
	ck_assert_int_eq(resolve_hostent(&he, buf, sizeof(buf), "a", AF_UNSPEC,
	    0), EAFNOSUPPORT);
	ck_assert_int_ne(resolve_hostent(&he, buf, sizeof(buf), "a", AF_INET,
	    SENTINEL_ENTRIES_MAX), 0);
	ck_assert_int_ne(resolve_hostent(&he, buf, sizeof(buf), "a", AF_INET6,
	    -1), 0);
}
END_TEST

/* --- text and reverse lookups ------------------------------------------- */

START_TEST(sentinel_text)
{
	char buf[INET6_ADDRSTRLEN];

	ck_assert_int_eq(resolve_sentinel_text(buf, sizeof(buf), AF_INET, 0), 0);
	ck_assert_str_eq(buf, "127.239.0.1");
	ck_assert_int_eq(resolve_sentinel_text(buf, sizeof(buf), AF_INET,
	    SENTINEL_ENTRIES_MAX - 1), 0);
	ck_assert_str_eq(buf, "127.239.0.254");
	ck_assert_int_eq(resolve_sentinel_text(buf, sizeof(buf), AF_INET6, 4), 0);
	ck_assert_str_eq(buf, "::ffff:127.239.0.5");
}
END_TEST

START_TEST(sentinel_text_refused)
{
	char buf[INET6_ADDRSTRLEN];

	ck_assert_int_eq(resolve_sentinel_text(buf, sizeof(buf), AF_INET,
	    SENTINEL_ENTRIES_MAX), -1);
	ck_assert_int_eq(resolve_sentinel_text(buf, sizeof(buf), AF_INET6, -1),
	    -1);
	ck_assert_int_eq(resolve_sentinel_text(buf, sizeof(buf), AF_UNIX, 0), -1);
	/* "127.239.0.1" needs 12 bytes with its NUL. */
	ck_assert_int_eq(resolve_sentinel_text(buf, 11, AF_INET, 0), -1);
	ck_assert_int_eq(resolve_sentinel_text(buf, 12, AF_INET, 0), 0);
	ck_assert_int_eq(resolve_sentinel_text(buf, 5, AF_INET6, 0), -1);
}
END_TEST

START_TEST(addr_entry)
{
	struct in_addr a;
	struct in6_addr a6;

	ck_assert_int_eq(sentinel_v4(9, &a), 0);
	ck_assert_int_eq(resolve_addr_entry(&a, sizeof(a), AF_INET, 10), 9);
	ck_assert_int_eq(resolve_addr_entry(&a, sizeof(a), AF_INET, 9), -1);
	ck_assert_int_eq(resolve_addr_entry(&a, sizeof(a) - 1, AF_INET, 10), -1);
	ck_assert_int_eq(resolve_addr_entry(&a, sizeof(a), AF_INET6, 10), -1);
	ck_assert_int_eq(sentinel_v6(9, &a6), 0);
	ck_assert_int_eq(resolve_addr_entry(&a6, sizeof(a6), AF_INET6, 10), 9);
	ck_assert_int_eq(resolve_addr_entry(&a6, sizeof(a6) - 1, AF_INET6, 10),
	    -1);
	ck_assert_int_eq(resolve_addr_entry(&a6, sizeof(a6), AF_UNIX, 10), -1);
	ck_assert_int_eq(resolve_addr_entry(NULL, 4, AF_INET, 10), -1);
}
END_TEST

/* Addresses from the wire are not aligned: the bytes are copied, not cast. */
START_TEST(addr_entry_unaligned)
{
	unsigned char raw[1 + sizeof(struct in6_addr)];
	struct in6_addr a6;
	struct in_addr a;

	ck_assert_int_eq(sentinel_v4(2, &a), 0);
	memcpy(raw + 1, &a, sizeof(a));
	ck_assert_int_eq(resolve_addr_entry(raw + 1, sizeof(a), AF_INET, 3), 2);
	ck_assert_int_eq(sentinel_v6(2, &a6), 0);
	memcpy(raw + 1, &a6, sizeof(a6));
	ck_assert_int_eq(resolve_addr_entry(raw + 1, sizeof(a6), AF_INET6, 3), 2);
}
END_TEST

START_TEST(hostent_and_reverse_agree)
{
	char buf[512];
	struct hostent he;
	int entry;

	for (entry = 0; entry < SENTINEL_ENTRIES_MAX; entry += 17) {
		ck_assert_int_eq(resolve_hostent(&he, buf, sizeof(buf), "h",
		    AF_INET6, entry), 0);
		ck_assert_int_eq(resolve_addr_entry(he.h_addr_list[0],
		    (size_t)he.h_length, AF_INET6, SENTINEL_ENTRIES_MAX), entry);
		ck_assert_int_eq(resolve_hostent(&he, buf, sizeof(buf), "h",
		    AF_INET, entry), 0);
		ck_assert_int_eq(resolve_addr_entry(he.h_addr_list[0],
		    (size_t)he.h_length, AF_INET, SENTINEL_ENTRIES_MAX), entry);
	}
}
END_TEST

/* libc's own answer for the sentinel's text gets the name asked for, and
 * freeaddrinfo() frees it (valgrind and ASan see to that). */
START_TEST(canonname_is_the_name_asked)
{
	struct addrinfo hints, *res = NULL;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_INET;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_CANONNAME;
	ck_assert_int_eq(getaddrinfo("127.239.0.1", NULL, &hints, &res), 0);
	ck_assert_ptr_nonnull(res->ai_canonname);
	ck_assert_int_eq(resolve_canonname(res, long_name), 0);
	ck_assert_str_eq(res->ai_canonname, long_name);
	freeaddrinfo(res);
}
END_TEST

START_TEST(canonname_none_asked)
{
	struct addrinfo hints, *res = NULL;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_INET;
	hints.ai_flags = AI_NUMERICHOST;
	ck_assert_int_eq(getaddrinfo("127.239.0.1", NULL, &hints, &res), 0);
	ck_assert_ptr_null(res->ai_canonname);
	ck_assert_int_eq(resolve_canonname(res, "dyno"), 0);
	ck_assert_ptr_null(res->ai_canonname);
	freeaddrinfo(res);
	ck_assert_int_eq(resolve_canonname(NULL, "dyno"), 0);
}
END_TEST

static Suite *
resolve_suite(void)
{
	Suite *s = suite_create("resolve");
	TCase *tc;

	tc = tcase_create("hostent");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_loop_test(tc, hostent_every_size_and_alignment, 0, 16);
	tcase_add_test(tc, hostent_exact_heap_buffers);
	tcase_add_test(tc, hostent_copies_the_name);
	tcase_add_test(tc, hostent_bad_family_or_entry);
	suite_add_tcase(s, tc);

	tc = tcase_create("text_and_reverse");
	tcase_add_test(tc, sentinel_text);
	tcase_add_test(tc, sentinel_text_refused);
	tcase_add_test(tc, addr_entry);
	tcase_add_test(tc, addr_entry_unaligned);
	tcase_add_test(tc, hostent_and_reverse_agree);
	suite_add_tcase(s, tc);

	tc = tcase_create("canonname");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, canonname_is_the_name_asked);
	tcase_add_test(tc, canonname_none_asked);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr;
	int failed;

	sr = srunner_create(resolve_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
