/*
 * check_cluster.c: the preload <-> cluster helper requests and sentinels
 * (preload/common/cluster.h) and the helper's name table
 * (tools/server/names.h), one Check suite.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster.h"
#include "frame.h"
#include "names.h"

START_TEST(lookup_round_trip)
{
	uint8_t buf[CLUSTER_REQ_MAX];
	struct cluster_req r;
	int n, i;

	n = cluster_encode_lookup(buf, sizeof(buf), "web-848cd4f64d-pvpr2");
	ck_assert_int_eq(n, 10 + 20);
	ck_assert_int_eq(memcmp(buf, "EFWD\x03\x05\x00\x00\x00\x14", 10), 0);
	/* Every prefix wants more; the whole is the request. */
	for (i = 0; i < n; i++)
		ck_assert_int_eq(cluster_decode_req(buf, (size_t)i, &r), 0);
	ck_assert_int_eq(cluster_decode_req(buf, (size_t)n, &r), n);
	ck_assert_uint_eq(r.tag, CLUSTER_TAG_LOOKUP);
	ck_assert_str_eq(r.name, "web-848cd4f64d-pvpr2");
}
END_TEST

START_TEST(connect_round_trip)
{
	uint8_t buf[CLUSTER_REQ_MAX];
	struct cluster_req r;
	int n;

	n = cluster_encode_connect(buf, sizeof(buf), CLUSTER_TAG_DIST, 40123,
	    0x12345);
	ck_assert_int_eq(n, 14);
	ck_assert_int_eq(memcmp(buf, "EFWD\x03\x02\x9c\xbb\x00\x04"
	    "\x7f\xf1\x23\x45", 14), 0);
	ck_assert_int_eq(cluster_decode_req(buf, 20, &r), 14);
	ck_assert_uint_eq(r.tag, CLUSTER_TAG_DIST);
	ck_assert_uint_eq(r.port, 40123);
	ck_assert_uint_eq(r.slot, 0x12345);
	ck_assert_int_eq(cluster_encode_connect(buf, sizeof(buf),
	    CLUSTER_TAG_EPMD, 4369, CLUSTER_SLOT_MAX), 14);
	ck_assert_int_eq(cluster_decode_req(buf, 14, &r), 14);
	ck_assert_uint_eq(r.slot, CLUSTER_SLOT_MAX);
}
END_TEST

START_TEST(encode_refuses)
{
	uint8_t buf[CLUSTER_REQ_MAX + 8];
	char name[CLUSTER_NAME_MAX + 2];

	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	ck_assert_int_eq(cluster_encode_lookup(buf, sizeof(buf), name), -1);
	name[CLUSTER_NAME_MAX] = '\0';
	ck_assert_int_eq(cluster_encode_lookup(buf, sizeof(buf), name),
	    10 + CLUSTER_NAME_MAX);
	ck_assert_int_eq(cluster_encode_lookup(buf, 10 + 3, "abcd"), -1);
	ck_assert_int_eq(cluster_encode_lookup(buf, sizeof(buf), ""), -1);
	ck_assert_int_eq(cluster_encode_lookup(buf, sizeof(buf), "a b"), -1);
	ck_assert_int_eq(cluster_encode_lookup(buf, sizeof(buf), "a\n"), -1);
	ck_assert_int_eq(cluster_encode_connect(buf, sizeof(buf),
	    CLUSTER_TAG_LOOKUP, 1, 1), -1);
	ck_assert_int_eq(cluster_encode_connect(buf, sizeof(buf),
	    CLUSTER_TAG_DIST, 0, 1), -1);
	ck_assert_int_eq(cluster_encode_connect(buf, sizeof(buf),
	    CLUSTER_TAG_DIST, 1, 0), -1);
	ck_assert_int_eq(cluster_encode_connect(buf, sizeof(buf),
	    CLUSTER_TAG_DIST, 1, CLUSTER_SLOT_MAX + 1), -1);
	ck_assert_int_eq(cluster_encode_connect(buf, 13, CLUSTER_TAG_DIST, 1,
	    1), -1);
	ck_assert_int_eq(cluster_encode_answer(buf, 13, 1), -1);
	ck_assert_int_eq(cluster_encode_answer(buf, 10, 0), 10);
}
END_TEST

static const struct {
	const char	*bytes;
	size_t		 len;
	int		 want;
} bad_reqs[] = {
	{ "EFWX", 4, FRAME_EMAGIC },
	{ "X", 1, FRAME_EMAGIC },
	{ "EFWD\x01", 5, FRAME_EVERSION },	/* a v1 preamble is not ours */
	{ "EFWD\x02", 5, FRAME_EVERSION },
	{ "EFWD\x03\x03", 6, FRAME_ETAG },
	{ "EFWD\x03\x04", 6, FRAME_ETAG },
	{ "EFWD\x03\x05\x00\x01\x00\x03", 10, FRAME_EPORT },
	{ "EFWD\x03\x02\x00\x00\x00\x04", 10, FRAME_EPORT },
	{ "EFWD\x03\x05\x00\x00\x00\x00", 10, FRAME_ELENGTH },
	{ "EFWD\x03\x05\x00\x00\x00\xfe", 10, FRAME_ELENGTH },
	{ "EFWD\x03\x02\x00\x01\x00\x05", 10, FRAME_ELENGTH },
	{ "EFWD\x03\x05\x00\x00\x00\x03" "a/b", 13, FRAME_EFIELD },
	{ "EFWD\x03\x02\x00\x01\x00\x04\x7f\xf0\x00\x00", 14, FRAME_EFIELD },
	{ "EFWD\x03\x02\x00\x01\x00\x04\x7f\xef\x00\x01", 14, FRAME_EFIELD },
	{ "EFWD\x03\x02\x00\x01\x00\x04\x7f\xff\xff\xff", 14, FRAME_EFIELD },
	{ "EFWD\x03\x02\x00\x01\x00\x04\x0a\xf0\x00\x01", 14, FRAME_EFIELD },
};

START_TEST(decode_refuses)
{
	struct cluster_req r;

	ck_assert_int_eq(cluster_decode_req((const uint8_t *)bad_reqs[_i].bytes,
	    bad_reqs[_i].len, &r), bad_reqs[_i].want);
}
END_TEST

START_TEST(answer_round_trip)
{
	uint8_t buf[CLUSTER_ANSWER_LEN];
	uint32_t slot = 7;

	ck_assert_int_eq(cluster_encode_answer(buf, sizeof(buf), 42), 14);
	ck_assert_int_eq(cluster_decode_answer(buf, 13, &slot), 0);
	ck_assert_int_eq(cluster_decode_answer(buf, 14, &slot), 14);
	ck_assert_uint_eq(slot, 42);
	ck_assert_int_eq(cluster_encode_answer(buf, sizeof(buf), 0), 10);
	ck_assert_int_eq(cluster_decode_answer(buf, 10, &slot), 10);
	ck_assert_uint_eq(slot, 0);
	/* A request is no answer, nor an address outside the range. */
	cluster_encode_connect(buf, sizeof(buf), CLUSTER_TAG_DIST, 1, 1);
	ck_assert_int_eq(cluster_decode_answer(buf, 14, &slot), FRAME_ETAG);
	cluster_encode_answer(buf, sizeof(buf), 42);
	buf[10] = 10;
	ck_assert_int_eq(cluster_decode_answer(buf, 14, &slot), FRAME_EFIELD);
	/* This host's own name: 127.0.0.1, and only that loopback address. */
	ck_assert_int_eq(cluster_encode_answer(buf, sizeof(buf),
	    CLUSTER_SLOT_SELF), 14);
	ck_assert_mem_eq(buf + 10, "\x7f\0\0\x01", 4);
	ck_assert_int_eq(cluster_decode_answer(buf, 14, &slot), 14);
	ck_assert_uint_eq(slot, CLUSTER_SLOT_SELF);
	buf[13] = 2;
	ck_assert_int_eq(cluster_decode_answer(buf, 14, &slot), FRAME_EFIELD);
	/* Never a request's sentinel. */
	ck_assert_int_eq(cluster_encode_connect(buf, sizeof(buf),
	    CLUSTER_TAG_DIST, 1, CLUSTER_SLOT_SELF), -1);
}
END_TEST

START_TEST(sentinel_range)
{
	struct in_addr a;
	struct in6_addr v6;
	char text[INET_ADDRSTRLEN];

	ck_assert_int_eq(cluster_v4(1, &a), 0);
	ck_assert_str_eq(inet_ntop(AF_INET, &a, text, sizeof(text)),
	    "127.240.0.1");
	ck_assert_int_eq(cluster_v4(CLUSTER_SLOT_MAX, &a), 0);
	ck_assert_str_eq(inet_ntop(AF_INET, &a, text, sizeof(text)),
	    "127.255.255.254");
	ck_assert_uint_eq(cluster_slot_v4(&a), CLUSTER_SLOT_MAX);
	ck_assert_int_eq(cluster_v4(0, &a), -1);
	ck_assert_int_eq(cluster_v4(CLUSTER_SLOT_MAX + 1, &a), -1);
	inet_pton(AF_INET, "127.239.0.1", &a);	/* a static sentinel */
	ck_assert_uint_eq(cluster_slot_v4(&a), 0);
	inet_pton(AF_INET, "127.0.0.1", &a);
	ck_assert_uint_eq(cluster_slot_v4(&a), 0);
	inet_pton(AF_INET6, "::ffff:127.240.1.2", &v6);
	ck_assert_uint_eq(cluster_slot_v6(&v6), 0x102);
	inet_pton(AF_INET6, "::1", &v6);
	ck_assert_uint_eq(cluster_slot_v6(&v6), 0);
}
END_TEST

START_TEST(hint_ignores_case)
{
	uint32_t h = cluster_slot_hint("Web-1");

	ck_assert_uint_eq(h, cluster_slot_hint("web-1"));
	ck_assert(h >= 1 && h <= CLUSTER_SLOT_MAX);
}
END_TEST

/* names_slot() for uid, with what it says on the side dropped. */
static uint32_t
slot_of(struct names *t, const char *name, uid_t uid, int *fresh)
{
	char evicted[CLUSTER_NAME_MAX + 1];
	enum names_why why;

	return names_slot(t, name, uid, fresh, evicted, &why);
}

START_TEST(names_stable_and_distinct)
{
	struct names t, u;
	char name[32];
	uint32_t *slots;
	int fresh, i, j, dups = 0;

	ck_assert_int_eq(names_init(&t), 0);
	ck_assert_int_eq(names_init(&u), 0);
	slots = calloc(NAMES_MAX, sizeof(*slots));
	ck_assert_ptr_nonnull(slots);
	for (i = 0; i < NAMES_MAX; i++) {
		snprintf(name, sizeof(name), "web-%d", i);
		/* Four uids, a share each: the table is full at the end. */
		slots[i] = slot_of(&t, name, (uid_t)(i / NAMES_QUOTA), &fresh);
		if (slots[i] == 0 || !fresh ||
		    strcmp(names_name(&t, slots[i]), name) != 0)
			ck_abort_msg("'%s' got slot %u", name, slots[i]);
	}
	/* No two names share a slot, and asking again changes nothing. */
	/* (Counted, then asserted once: Check records every assertion.) */
	for (i = 0; i < NAMES_MAX; i++)
		for (j = i + 1; j < NAMES_MAX; j++)
			dups += slots[i] == slots[j];
	ck_assert_int_eq(dups, 0);
	ck_assert_uint_eq(slot_of(&t, "WEB-7", 0, &fresh), slots[7]);
	ck_assert_int_eq(fresh, 0);
	/* Full: a known one keeps its own; a new one takes the place of the
	 * least recently used, web-0 (web-7 and web-1 were asked again). */
	ck_assert_uint_eq(slot_of(&t, "web-1", 5, &fresh), slots[1]);
	{
		char evicted[CLUSTER_NAME_MAX + 1];
		enum names_why why;

		ck_assert_uint_ne(names_slot(&t, "web-new", 7, &fresh, evicted,
		    &why), 0);
		ck_assert_int_eq(fresh, 1);
		ck_assert_str_eq(evicted, "web-0");
		ck_assert_ptr_null(names_name(&t, slots[0]));
	}
	/* A second table (a restarted helper) asked in the same order agrees. */
	for (i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "web-%d", i);
		ck_assert_uint_eq(slot_of(&u, name, 0, &fresh), slots[i]);
	}
	ck_assert_ptr_null(names_name(&u, 0));
	ck_assert_uint_eq(slot_of(&u, "bad name", 0, &fresh), 0);
	free(slots);
	names_free(&t);
	names_free(&u);
}
END_TEST

/* Two names whose hints collide: the second takes the next free slot. */
START_TEST(names_collision_probes)
{
	struct names t;
	char a[16], b[16];
	uint32_t *seen, h = 0, sa, sb;
	int fresh, i, first = -1;

	/* The birthday bound: a collision among ~1,300 names, expected. */
	seen = calloc(CLUSTER_SLOT_MAX + 1, sizeof(*seen));
	ck_assert_ptr_nonnull(seen);
	for (i = 1; i < 1000000 && first < 0; i++) {
		snprintf(b, sizeof(b), "n%d", i);
		h = cluster_slot_hint(b);
		if (seen[h] != 0)
			first = (int)seen[h];
		seen[h] = (uint32_t)i;
	}
	free(seen);
	ck_assert_msg(first > 0, "no collision found");
	snprintf(a, sizeof(a), "n%d", first);
	ck_assert_int_eq(names_init(&t), 0);
	sa = slot_of(&t, a, 0, &fresh);
	sb = slot_of(&t, b, 0, &fresh);
	ck_assert_uint_eq(sa, h);
	ck_assert_uint_eq(sb, h == CLUSTER_SLOT_MAX ? 1 : h + 1);
	ck_assert_str_eq(names_name(&t, sa), a);
	ck_assert_str_eq(names_name(&t, sb), b);
	names_free(&t);
}
END_TEST

/*
 * One uid past its share (hardening III finding 5): its own least recently
 * used name makes room, never another uid's, never a held one; with all of
 * its share held it gets none, and the others are served on.
 */
START_TEST(names_quota)
{
	char evicted[CLUSTER_NAME_MAX + 1], name[32];
	enum names_why why;
	struct names t;
	uint32_t other, held;
	const char *p;
	int fresh, i;

	ck_assert_int_eq(names_init(&t), 0);
	t.quota = 4;
	other = slot_of(&t, "web-other", 2, &fresh);
	for (i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "web-a%d", i);
		ck_assert_uint_ne(slot_of(&t, name, 1, &fresh), 0);
	}
	held = slot_of(&t, "web-a0", 1, &fresh);	/* used again: newest */
	ck_assert_ptr_nonnull(p = names_hold(&t, held));
	/* A flood of new names from uid 1: each takes one of its own. */
	for (i = 4; i < 1000; i++) {
		snprintf(name, sizeof(name), "web-a%d", i);
		if (names_slot(&t, name, 1, &fresh, evicted, &why) == 0 ||
		    evicted[0] == '\0' || strcmp(evicted, "web-a0") == 0 ||
		    strcmp(evicted, "web-other") == 0)
			ck_abort_msg("'%s': evicted '%s'", name, evicted);
	}
	ck_assert_str_eq(names_name(&t, other), "web-other");
	ck_assert_str_eq(names_name(&t, held), "web-a0");
	ck_assert_str_eq(p, "web-a0");		/* a held name never moves */
	ck_assert_uint_eq(t.n, 5);
	/* Every one of uid 1's names held: it gets none, uid 3 one. */
	for (i = 997; i < 1000; i++) {
		snprintf(name, sizeof(name), "web-a%d", i);
		ck_assert_ptr_nonnull(names_hold(&t, slot_of(&t, name, 1,
		    &fresh)));
	}
	ck_assert_uint_eq(names_slot(&t, "web-b", 1, &fresh, evicted, &why), 0);
	ck_assert_int_eq(why, NAMES_QUOTA_HELD);
	ck_assert_uint_ne(slot_of(&t, "web-c", 3, &fresh), 0);
	/* Released: the least recently used of its own makes room again. */
	names_release(&t, held);
	ck_assert_uint_ne(names_slot(&t, "web-b", 1, &fresh, evicted, &why), 0);
	ck_assert_str_eq(evicted, "web-a0");
	names_free(&t);
}
END_TEST

/* A full table whose names are all held: none for a new one, said why. */
START_TEST(names_full_held)
{
	char evicted[CLUSTER_NAME_MAX + 1], name[32];
	enum names_why why;
	struct names t;
	uint32_t s0 = 0;
	int fresh, i;

	ck_assert_int_eq(names_init(&t), 0);
	t.max = 8;
	for (i = 0; i < 8; i++) {
		snprintf(name, sizeof(name), "web-%d", i);
		ck_assert_ptr_nonnull(names_hold(&t, slot_of(&t, name,
		    (uid_t)i, &fresh)));
		if (i == 0)
			s0 = slot_of(&t, name, 0, &fresh);
	}
	ck_assert_uint_eq(names_slot(&t, "web-new", 9, &fresh, evicted, &why),
	    0);
	ck_assert_int_eq(why, NAMES_FULL);
	names_release(&t, s0);
	ck_assert_uint_ne(names_slot(&t, "web-new", 9, &fresh, evicted, &why),
	    0);
	ck_assert_str_eq(evicted, "web-0");
	ck_assert_uint_eq(t.n, 8);
	names_free(&t);
}
END_TEST

static Suite *
cluster_suite(void)
{
	Suite *s = suite_create("cluster");
	TCase *tc = tcase_create("wire");
	TCase *tn = tcase_create("names");

	tcase_add_test(tc, lookup_round_trip);
	tcase_add_test(tc, connect_round_trip);
	tcase_add_test(tc, encode_refuses);
	tcase_add_loop_test(tc, decode_refuses, 0,
	    (int)(sizeof(bad_reqs) / sizeof(bad_reqs[0])));
	tcase_add_test(tc, answer_round_trip);
	tcase_add_test(tc, sentinel_range);
	tcase_add_test(tc, hint_ignores_case);
	suite_add_tcase(s, tc);
	tcase_set_timeout(tn, 30);
	tcase_add_test(tn, names_stable_and_distinct);
	tcase_add_test(tn, names_collision_probes);
	tcase_add_test(tn, names_quota);
	tcase_add_test(tn, names_full_held);
	suite_add_tcase(s, tn);
	return s;
}

int
main(void)
{
	SRunner *sr;
	int failed;

	sr = srunner_create(cluster_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
