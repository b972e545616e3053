/*
 * check_policy.c: erlfwd-server's policy (tools/server/policy.h): which
 * DIST targets are refused and why, and the INFO answer from epmd's NAMES
 * text (a host whose epmd is down, nodes, lines that are no node's).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "procnet.h"

START_TEST(dist_refusals)
{
	ck_assert_str_eq(policy_dist(9369, 9369, 4369, PROCNET_SAME),
	    "own-port");
	ck_assert_str_eq(policy_dist(4369, 9369, 4369, PROCNET_SAME),
	    "epmd-port");
	/* With another epmd port, 4369 is a port like any other. */
	ck_assert_ptr_null(policy_dist(4369, 9369, 4370, PROCNET_SAME));
	ck_assert_str_eq(policy_dist(40000, 9369, 4369, PROCNET_OTHER),
	    "other-uid");
	ck_assert_ptr_null(policy_dist(40000, 9369, 4369, PROCNET_SAME));
	/* Unreadable tables: no verdict, and epmd listed it. */
	ck_assert_ptr_null(policy_dist(40000, 9369, 4369, PROCNET_UNKNOWN));
	/* The cheap refusals win over the owner. */
	ck_assert_str_eq(policy_dist(9369, 9369, 4369, PROCNET_OTHER),
	    "own-port");
}
END_TEST

START_TEST(info_epmd_down)
{
	struct frame_info *fi = malloc(sizeof(*fi));

	ck_assert_ptr_nonnull(fi);
	ck_assert_uint_eq(policy_info(fi, "0.1.0", "dyno", 4369, NULL, 0), 0);
	ck_assert_str_eq(fi->version, "0.1.0");
	ck_assert_str_eq(fi->host, "dyno");
	ck_assert_uint_eq(fi->epmd_port, 4369);
	ck_assert_int_eq(fi->epmd_up, 0);
	ck_assert_uint_eq(fi->nnodes, 0);
	free(fi);
}
END_TEST

START_TEST(info_nodes_and_odd_lines)
{
	static const char names[] =
	    "name app at port 40001\n"
	    "name worker at port 40002\n"
	    "garbage, not a node\n"
	    "name bad at port 99999999\n";
	struct frame_info *fi = malloc(sizeof(*fi));

	ck_assert_ptr_nonnull(fi);
	ck_assert_uint_eq(policy_info(fi, "0.1.0", "web-1", 4370, names,
	    sizeof(names) - 1), 2);
	ck_assert_int_eq(fi->epmd_up, 1);
	ck_assert_uint_eq(fi->epmd_port, 4370);
	ck_assert_uint_eq(fi->nnodes, 2);
	ck_assert_str_eq(fi->nodes[0].name, "app");
	ck_assert_uint_eq(fi->nodes[0].port, 40001);
	ck_assert_str_eq(fi->nodes[1].name, "worker");
	ck_assert_uint_eq(fi->skipped, 2);
	free(fi);
}
END_TEST

static Suite *
policy_suite(void)
{
	Suite *s = suite_create("policy");
	TCase *tc = tcase_create("policy");

	tcase_add_test(tc, dist_refusals);
	tcase_add_test(tc, info_epmd_down);
	tcase_add_test(tc, info_nodes_and_odd_lines);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr;
	int failed;

	sr = srunner_create(policy_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
