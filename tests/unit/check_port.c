/*
 * check_port.c: the decimal port parser every module uses
 * (preload/common/port.h), and that the places which take a port all take
 * the same ones: a route, ERL_EPMD_PORT, an INFO body, a NAMES line.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "epmd.h"
#include "frame_info.h"
#include "port.h"

static const struct {
	const char	*text;
	unsigned	 port;		/* 0: refused */
} cases[] = {
	{ "1", 1 },
	{ "80", 80 },
	{ "4369", 4369 },
	{ "65535", 65535 },
	{ "09369", 9369 },	/* five digits, a leading zero among them */
	{ "0", 0 },
	{ "00000", 0 },
	{ "65536", 0 },
	{ "99999", 0 },
	{ "009369", 0 },	/* six digits */
	{ "123456", 0 },
	{ "", 0 },
	{ "+80", 0 },
	{ "-80", 0 },
	{ " 80", 0 },
	{ "80 ", 0 },
	{ "8a", 0 },
	{ "0x50", 0 },
};
#define NCASES	((int)(sizeof(cases) / sizeof(cases[0])))

START_TEST(parse_cases)
{
	const char *t = cases[_i].text;
	uint16_t port = 7;
	int rc = port_parse(t, strlen(t), &port);

	if (cases[_i].port == 0) {
		ck_assert_msg(rc == -1, "'%s' was taken as %u", t, port);
		ck_assert_uint_eq(port, 7);
	} else {
		ck_assert_msg(rc == 0, "'%s' was refused", t);
		ck_assert_uint_eq(port, cases[_i].port);
	}
}
END_TEST

START_TEST(parse_reads_only_len)
{
	/* Not NUL-terminated: the bytes after len must not count. */
	static const char buf[] = { '6', '5', '5', '3', '6' };
	uint16_t port = 0;

	ck_assert_int_eq(port_parse(buf, 4, &port), 0);
	ck_assert_uint_eq(port, 6553);
	ck_assert_int_eq(port_parse(buf, 5, &port), -1);
	ck_assert_int_eq(port_parse(buf, 0, &port), -1);
	ck_assert_int_eq(port_parse("80x", 2, &port), 0);
	ck_assert_uint_eq(port, 80);
}
END_TEST

/* Every caller agrees with port_parse on every case. */
START_TEST(callers_agree)
{
	const char *t = cases[_i].text;
	int ok = cases[_i].port != 0;
	char text[128], err[CONFIG_ERR_MAX];
	struct config_env env;
	struct config c;
	struct route r;
	struct frame_info fi;
	uint16_t port = 0;
	char name[64];
	int n;

	snprintf(text, sizeof(text), "127.0.0.1:%s", t);
	ck_assert_int_eq(config_parse_route(&r, text, err, sizeof(err)) == 0, ok);

	snprintf(text, sizeof(text), "socks5://127.0.0.1:1080?epmd=%s", t);
	/* An empty value is refused before the port is looked at. */
	ck_assert_int_eq(config_parse_route(&r, text, err, sizeof(err)) == 0, ok);

	memset(&env, 0, sizeof(env));
	env.epmd_port = t;
	if (t[0] != '\0')	/* empty: not set */
		ck_assert_int_eq(config_parse(&c, &env, err, sizeof(err)) == 0,
		    ok);

	n = snprintf(text, sizeof(text), "-epmd_port%c%s%c", '\0', t, '\0');
	ck_assert_uint_eq(config_epmd_arg(text, (size_t)n), ok ? cases[_i].port :
	    0);

	n = snprintf(text, sizeof(text), "name app at port %s", t);
	ck_assert_int_eq(epmd_names_line(text, (size_t)n, name, sizeof(name),
	    &port) == 0, ok);

	n = snprintf(text, sizeof(text), "version=1\nepmd_port=%s\n", t);
	ck_assert_int_eq(frame_info_parse(text, (size_t)n, &fi) == 0, ok);
	n = snprintf(text, sizeof(text), "version=1\nnode=app %s\n", t);
	ck_assert_int_eq(frame_info_parse(text, (size_t)n, &fi) == 0, ok);
}
END_TEST

static Suite *
port_suite(void)
{
	Suite *s = suite_create("port");
	TCase *tc = tcase_create("parse");

	tcase_add_loop_test(tc, parse_cases, 0, NCASES);
	tcase_add_test(tc, parse_reads_only_len);
	tcase_add_loop_test(tc, callers_agree, 0, NCASES);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr;
	int failed;

	sr = srunner_create(port_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
