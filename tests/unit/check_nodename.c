/*
 * check_nodename.c: node names as the erlfwd command handles them
 * (tools/erlfwd/nodename.h), and the pick of a node from an INFO list
 * (tools/erlfwd/target.h), one Check suite.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nodename.h"
#include "target.h"

/* --- parse --------------------------------------------------------------- */

static const char *const good[][3] = {
	{ "app", "app", "" },
	{ "app@dyno", "app", "dyno" },
	{ "my_app-2@web.1", "my_app-2", "web.1" },
	{ "app@127.0.0.1", "app", "127.0.0.1" },
	{ "App@Host-9.example.com", "App", "Host-9.example.com" },
};

START_TEST(parse_good)
{
	struct nodename n;

	ck_assert_int_eq(nodename_parse(&n, good[_i][0]), 0);
	ck_assert_str_eq(n.name, good[_i][1]);
	ck_assert_str_eq(n.host, good[_i][2]);
}
END_TEST

/* Empty parts, two '@', characters a shell, epmd or a pattern would choke on. */
static const char *const bad[] = {
	"", "@dyno", "app@", "a@b@c", "app dyno", "app@dy no", "app@web.*",
	"app@dyn?", "app@[::1]", "app@::1", "ap$p", "app@dyno,x", "app@dyno=1",
	"app@d/y",
};

START_TEST(parse_bad)
{
	struct nodename n;

	ck_assert_int_eq(nodename_parse(&n, bad[_i]), -1);
}
END_TEST

START_TEST(parse_lengths)
{
	char text[2 * NODENAME_MAX + 2];
	struct nodename n;

	memset(text, 'a', NODENAME_MAX - 1);
	text[NODENAME_MAX - 1] = '\0';
	ck_assert_int_eq(nodename_parse(&n, text), 0);
	text[NODENAME_MAX - 1] = 'a';
	text[NODENAME_MAX] = '\0';
	ck_assert_int_eq(nodename_parse(&n, text), -1);

	strcpy(text, "a@");
	memset(text + 2, 'h', NODENAME_MAX - 1);
	text[2 + NODENAME_MAX - 1] = '\0';
	ck_assert_int_eq(nodename_parse(&n, text), 0);
	ck_assert_uint_eq(strlen(n.host), NODENAME_MAX - 1);
	text[2 + NODENAME_MAX - 1] = 'h';
	text[2 + NODENAME_MAX] = '\0';
	ck_assert_int_eq(nodename_parse(&n, text), -1);
}
END_TEST

START_TEST(is_long)
{
	ck_assert_int_eq(nodename_is_long("dyno"), 0);
	ck_assert_int_eq(nodename_is_long("4d3c2b1a-uuid"), 0);
	ck_assert_int_eq(nodename_is_long("web.1"), 1);
	ck_assert_int_eq(nodename_is_long("127.0.0.1"), 1);
	ck_assert_int_eq(nodename_is_long("app.example.com"), 1);
}
END_TEST

START_TEST(local_names)
{
	char buf[32];

	ck_assert_int_eq(nodename_local(buf, sizeof(buf), "remsh", 4242, 0), 0);
	ck_assert_str_eq(buf, "remsh-4242");
	ck_assert_int_eq(nodename_local(buf, sizeof(buf), "remsh", 4242, 1), 0);
	ck_assert_str_eq(buf, "remsh-4242@127.0.0.1");
	/* "remsh-4242@127.0.0.1" is 20 characters: 21 bytes fit, 20 do not. */
	ck_assert_int_eq(nodename_local(buf, 21, "remsh", 4242, 1), 0);
	ck_assert_int_eq(nodename_local(buf, 20, "remsh", 4242, 1), -1);
}
END_TEST

START_TEST(join)
{
	char buf[8];

	ck_assert_int_eq(nodename_join(buf, sizeof(buf), "a", "dyno"), 0);
	ck_assert_str_eq(buf, "a@dyno");
	ck_assert_int_eq(nodename_join(buf, sizeof(buf), "app", "dyno"), -1);
}
END_TEST

/* What an INFO reply may name as the remote host for `erlfwd run`. */
START_TEST(remote_host)
{
	static const char *const good[] = {
		"dyno", "web.1", "4d3c2b1a-uuid", "app.example.com", "a_b",
		"localhostx", "laptopx",
	};
	static const char *const bad[] = {
		"*", "web.*", "dyn?", "", "127.0.0.1", "10.1.2.3", "1",
		"localhost", "LOCALHOST", "localhost.localdomain",
		"a.localhost", "laptop", "Laptop.example.com", "laptop.lan",
		"dyno=socks5://127.0.0.1:1080", "dyno,*", "::1", "dyno ",
		".dyno", "dyno.", "web\x1b[2J",
	};
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ck_assert_msg(nodename_remote_host(good[i], "laptop") == 0,
		    "refused %s", good[i]);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(nodename_remote_host(bad[i], i % 2 ?
		    "laptop" : "laptop.example.com") == -1, "took %s", bad[i]);
	ck_assert_int_eq(nodename_remote_host("laptop", NULL), 0);
}
END_TEST

/* --- target -------------------------------------------------------------- */

static struct frame_info fi;

static void
setup_info(void)
{
	memset(&fi, 0, sizeof(fi));
	strcpy(fi.host, "dyno");
	fi.epmd_up = 1;
}

static void
add(const char *name, uint16_t port)
{
	strcpy(fi.nodes[fi.nnodes].name, name);
	fi.nodes[fi.nnodes].port = port;
	fi.nnodes++;
}

START_TEST(pick_none_one_many)
{
	size_t idx = 99;

	ck_assert_int_eq(target_pick(&fi, NULL, &idx), TARGET_NONE);
	add("app", 4000);
	ck_assert_int_eq(target_pick(&fi, NULL, &idx), TARGET_OK);
	ck_assert_uint_eq(idx, 0);
	add("worker", 4001);
	ck_assert_int_eq(target_pick(&fi, NULL, &idx), TARGET_MANY);
}
END_TEST

START_TEST(pick_given)
{
	struct nodename n;
	size_t idx = 99;

	add("app", 4000);
	add("worker", 4001);
	ck_assert_int_eq(nodename_parse(&n, "worker@whatever"), 0);
	ck_assert_int_eq(target_pick(&fi, &n, &idx), TARGET_OK);
	ck_assert_uint_eq(idx, 1);
	ck_assert_int_eq(nodename_parse(&n, "work"), 0);
	ck_assert_int_eq(target_pick(&fi, &n, &idx), TARGET_MISSING);
	fi.nnodes = 0;
	ck_assert_int_eq(target_pick(&fi, &n, &idx), TARGET_MISSING);
}
END_TEST

START_TEST(list_text)
{
	char buf[64];

	ck_assert_str_eq(target_list(buf, sizeof(buf), &fi), "none");
	add("app", 4000);
	add("worker", 4001);
	ck_assert_str_eq(target_list(buf, sizeof(buf), &fi),
	    "app (port 4000), worker (port 4001)");
}
END_TEST

/* A list longer than the buffer is cut and marked, never overrun. */
START_TEST(list_cut)
{
	char buf[48];
	size_t i;

	for (i = 0; i < 10; i++)
		add("node", (uint16_t)(5000 + i));
	memset(buf, 'Z', sizeof(buf));
	target_list(buf, 40, &fi);
	ck_assert_uint_lt(strlen(buf), 40);
	ck_assert_str_eq(buf + strlen(buf) - 3, "...");
	ck_assert_int_eq(buf[40], 'Z');
	target_list(buf, 4, &fi);
	ck_assert_str_eq(buf, "...");
}
END_TEST

static Suite *
nodename_suite(void)
{
	Suite *s = suite_create("nodename");
	TCase *tc;

	tc = tcase_create("parse");
	tcase_add_loop_test(tc, parse_good, 0,
	    (int)(sizeof(good) / sizeof(good[0])));
	tcase_add_loop_test(tc, parse_bad, 0, (int)(sizeof(bad) / sizeof(bad[0])));
	tcase_add_test(tc, parse_lengths);
	tcase_add_test(tc, is_long);
	tcase_add_test(tc, local_names);
	tcase_add_test(tc, join);
	tcase_add_test(tc, remote_host);
	suite_add_tcase(s, tc);

	tc = tcase_create("target");
	tcase_add_checked_fixture(tc, setup_info, NULL);
	tcase_add_test(tc, pick_none_one_many);
	tcase_add_test(tc, pick_given);
	tcase_add_test(tc, list_text);
	tcase_add_test(tc, list_cut);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr;
	int failed;

	sr = srunner_create(nodename_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
