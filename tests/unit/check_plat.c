/*
 * check_plat.c: plat_random() (tools/common/plat.h), one Check suite.
 *
 * Linked with the build's own backend alone: plat_linux.c here (`make
 * unit`), plat_posix.c in `make posix-unit`, so that both ways to the
 * system's generator are tried on this machine (the POSIX one reads
 * /dev/urandom; macOS's arc4random_buf is not built here).
 *
 * Randomness cannot be proven by a test; what is checked is that every
 * byte asked for is written (and no byte past them), that two draws
 * differ, and that a large draw is not grossly biased.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "plat.h"

#define GUARD	16	/* bytes past the buffer that must stay as they were */

/*
 * len bytes, drawn 8 times and ORed: a byte never written stays 0, while
 * one that was is 0 after 8 draws with a chance of 2^-64.
 */
static void
expect_filled(size_t len)
{
	uint8_t *acc, *buf;
	size_t i, k;

	acc = calloc(1, len + 1);
	buf = malloc(len + GUARD);
	ck_assert_ptr_nonnull(acc);
	ck_assert_ptr_nonnull(buf);
	for (k = 0; k < 8; k++) {
		memset(buf, 0, len + GUARD);
		ck_assert_int_eq(plat_random(buf, len), 0);
		for (i = 0; i < GUARD; i++)
			ck_assert_msg(buf[len + i] == 0, "byte %zu past %zu "
			    "written", i, len);
		for (i = 0; i < len; i++)
			acc[i] |= buf[i];
	}
	for (i = 0; i < len; i++)
		ck_assert_msg(acc[i] != 0, "byte %zu of %zu never written", i,
		    len);
	free(buf);
	free(acc);
}

/* 0 bytes, a byte, an id, a key, getrandom's 256-byte step and past it. */
static const size_t lens[] = { 0, 1, 16, 32, 255, 256, 257, 4096, 65537 };
#define NLENS	((int)(sizeof(lens) / sizeof(lens[0])))

START_TEST(random_fills)
{
	expect_filled(lens[_i]);
}
END_TEST

/* Two session ids, two keys: never the same (a chance of 2^-128, 2^-256). */
START_TEST(random_differs)
{
	uint8_t a[32], b[32];

	ck_assert_int_eq(plat_random(a, 16), 0);
	ck_assert_int_eq(plat_random(b, 16), 0);
	ck_assert(memcmp(a, b, 16) != 0);
	ck_assert_int_eq(plat_random(a, sizeof(a)), 0);
	ck_assert_int_eq(plat_random(b, sizeof(b)), 0);
	ck_assert(memcmp(a, b, sizeof(a)) != 0);
}
END_TEST

/*
 * 1 MiB in one call: every read the backend needs is made, and half of
 * its 8 Mi bits are set, within 1% (29 standard deviations: a generator
 * that works never fails this; a stuck or zeroed one always does).
 */
START_TEST(random_large)
{
	const size_t len = 1u << 20;
	uint8_t *buf = malloc(len);
	uint64_t ones = 0, want = (uint64_t)len * 4;
	size_t i;
	uint8_t v;

	ck_assert_ptr_nonnull(buf);
	memset(buf, 0, len);
	ck_assert_int_eq(plat_random(buf, len), 0);
	for (i = 0; i < len; i++)
		for (v = buf[i]; v != 0; v &= (uint8_t)(v - 1))
			ones++;
	ck_assert_msg(ones > want - want / 100 && ones < want + want / 100,
	    "%llu bits set of %llu", (unsigned long long)ones,
	    (unsigned long long)len * 8);
	free(buf);
}
END_TEST

static Suite *
plat_suite(void)
{
	Suite *s = suite_create("plat");
	TCase *tc;

	tc = tcase_create("random");
	tcase_set_timeout(tc, 30);	/* valgrind */
	tcase_add_loop_test(tc, random_fills, 0, NLENS);
	tcase_add_test(tc, random_differs);
	tcase_add_test(tc, random_large);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr;
	int failed;

	sr = srunner_create(plat_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
