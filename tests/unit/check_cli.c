/*
 * check_cli.c: what the erlfwd command's subcommands share
 * (tools/erlfwd/cli.h), one Check suite: the configuration from the
 * environment and the options, the exit status and the one-line fix for
 * each way INFO can fail.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "info.h"

static struct cli c;
static char err[512];

static void
setup(void)
{
	static const char *const vars[] = { "ERLFWD_HOSTS", "ERLFWD_TUNNEL",
	    "ERLFWD_BIND", "ERLFWD_DEBUG", "ERLFWD_TIMEOUT_MS",
	    "ERL_EPMD_PORT" };
	size_t i;

	for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		unsetenv(vars[i]);
	err[0] = '\0';
}

START_TEST(init_defaults)
{
	ck_assert_int_eq(cli_init(&c, err, sizeof(err)), 0);
	ck_assert_str_eq(c.cfg.tunnel.text, "127.0.0.1:9369");
	ck_assert_uint_eq(c.cfg.nentries, 0);
	ck_assert_uint_eq(c.cfg.epmd_port, 4369);
	ck_assert_int_eq(c.hosts_given, 0);
	ck_assert_ptr_null(c.tunnel_arg);
}
END_TEST

START_TEST(init_environment)
{
	setenv("ERLFWD_HOSTS", "dyno,web.*", 1);
	setenv("ERLFWD_TUNNEL", "127.0.0.1:9400", 1);
	setenv("ERLFWD_TIMEOUT_MS", "1500", 1);
	setenv("ERL_EPMD_PORT", "4370", 1);
	ck_assert_int_eq(cli_init(&c, err, sizeof(err)), 0);
	ck_assert_uint_eq(c.cfg.nentries, 2);
	ck_assert_str_eq(c.cfg.tunnel.text, "127.0.0.1:9400");
	ck_assert_int_eq(c.cfg.timeout_ms, 1500);
	ck_assert_uint_eq(c.cfg.epmd_port, 4370);
}
END_TEST

START_TEST(init_bad_environment)
{
	setenv("ERLFWD_TUNNEL", "nowhere", 1);
	ck_assert_int_eq(cli_init(&c, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "ERLFWD_TUNNEL") != NULL, "%s", err);
}
END_TEST

START_TEST(tunnel_option)
{
	ck_assert_int_eq(cli_init(&c, err, sizeof(err)), 0);
	ck_assert_int_eq(cli_tunnel(&c, "127.0.0.1:9500", err, sizeof(err)),
	    0);
	ck_assert_str_eq(c.cfg.tunnel.text, "127.0.0.1:9500");
	ck_assert_str_eq(c.tunnel_arg, "127.0.0.1:9500");
	ck_assert_int_eq(cli_tunnel(&c, "127.0.0.1:0", err, sizeof(err)), -1);
	ck_assert_msg(strncmp(err, "--tunnel: ", 10) == 0, "%s", err);
}
END_TEST

START_TEST(host_options_replace_the_environment)
{
	setenv("ERLFWD_HOSTS", "fromenv", 1);
	ck_assert_int_eq(cli_init(&c, err, sizeof(err)), 0);
	ck_assert_uint_eq(c.cfg.nentries, 1);
	ck_assert_int_eq(cli_host(&c, "web.1", err, sizeof(err)), 0);
	ck_assert_int_eq(cli_host(&c, "worker=socks5://127.0.0.1:1080", err,
	    sizeof(err)), 0);
	ck_assert_int_eq(c.hosts_given, 1);
	ck_assert_str_eq(c.hosts, "web.1,worker=socks5://127.0.0.1:1080");
	ck_assert_uint_eq(c.cfg.nentries, 2);
	ck_assert_str_eq(c.cfg.entries[0].pattern, "web.1");
}
END_TEST

START_TEST(host_option_refused)
{
	ck_assert_int_eq(cli_init(&c, err, sizeof(err)), 0);
	ck_assert_int_eq(cli_host(&c, "web.1", err, sizeof(err)), 0);
	ck_assert_int_eq(cli_host(&c, "bad=nowhere", err, sizeof(err)), -1);
	/* It speaks of --host, not of the variable, and keeps the rest. */
	ck_assert_msg(strncmp(err, "--host", 6) == 0 &&
	    strstr(err, "ERLFWD_HOSTS") == NULL, "%s", err);
	ck_assert_str_eq(c.hosts, "web.1");
	ck_assert_uint_eq(c.cfg.nentries, 1);
}
END_TEST

START_TEST(host_option_too_many)
{
	char big[1100];
	int i, rc = 0;

	ck_assert_int_eq(cli_init(&c, err, sizeof(err)), 0);
	memset(big, 'h', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	for (i = 0; i < 8 && rc == 0; i++)
		rc = cli_host(&c, big, err, sizeof(err));
	ck_assert_int_eq(rc, -1);
	ck_assert_uint_lt(strlen(c.hosts), CLI_HOSTS_MAX);
}
END_TEST

/* The exit statuses of erlfwd(1) for every INFO failure. */
START_TEST(info_exit)
{
	ck_assert_int_eq(cli_info_exit(INFO_OK), CLI_OK);
	ck_assert_int_eq(cli_info_exit(INFO_REFUSED), CLI_TUNNEL);
	ck_assert_int_eq(cli_info_exit(INFO_UNREACHABLE), CLI_TUNNEL);
	ck_assert_int_eq(cli_info_exit(INFO_CLOSED), CLI_SERVER);
	ck_assert_int_eq(cli_info_exit(INFO_SILENT), CLI_SERVER);
	ck_assert_int_eq(cli_info_exit(INFO_FOREIGN), CLI_SERVER);
	ck_assert_int_eq(cli_info_exit(INFO_PROTOCOL), CLI_SERVER);
	ck_assert_int_eq(cli_info_exit(INFO_LOCAL), CLI_LOCAL);
	ck_assert_int_eq(CLI_USAGE, 2);
	ck_assert_int_eq(CLI_BROKEN, 1);
	ck_assert_int_eq(CLI_LOCAL, 5);
}
END_TEST

START_TEST(info_hint)
{
	char buf[512];

	ck_assert_int_eq(cli_init(&c, err, sizeof(err)), 0);
	ck_assert_int_eq(cli_tunnel(&c, "127.0.0.1:9401", err, sizeof(err)),
	    0);
	/* Nothing listens: start the forward, on the tunnel's own port. */
	cli_info_hint(INFO_REFUSED, &c.cfg.tunnel, buf, sizeof(buf));
	ck_assert_msg(strstr(buf, "heroku ps:forward 9401") != NULL, "%s", buf);
	ck_assert_msg(strstr(buf, "ssh -L 9401:") != NULL, "%s", buf);
	cli_info_hint(INFO_CLOSED, &c.cfg.tunnel, buf, sizeof(buf));
	ck_assert_msg(strstr(buf, "start erlfwd-server") != NULL, "%s", buf);
	cli_info_hint(INFO_PROTOCOL, &c.cfg.tunnel, buf, sizeof(buf));
	ck_assert_msg(strstr(buf, ERLFWD_VERSION) != NULL, "%s", buf);
	ck_assert_int_eq(cli_tunnel(&c, "socks5://127.0.0.1:1081", err,
	    sizeof(err)), 0);
	cli_info_hint(INFO_REFUSED, &c.cfg.tunnel, buf, sizeof(buf));
	ck_assert_msg(strstr(buf, "ssh -D 1081") != NULL, "%s", buf);
	cli_info_hint(INFO_FOREIGN, &c.cfg.tunnel, buf, sizeof(buf));
	ck_assert_msg(strstr(buf, "socks5://") != NULL, "%s", buf);
}
END_TEST

START_TEST(info_hint_ipv6)
{
	char buf[512];

	ck_assert_int_eq(cli_init(&c, err, sizeof(err)), 0);
	ck_assert_int_eq(cli_tunnel(&c, "[::1]:9402", err, sizeof(err)), 0);
	cli_info_hint(INFO_UNREACHABLE, &c.cfg.tunnel, buf, sizeof(buf));
	ck_assert_msg(strstr(buf, "heroku ps:forward 9402") != NULL, "%s", buf);
}
END_TEST

static Suite *
cli_suite(void)
{
	Suite *s = suite_create("cli");
	TCase *tc = tcase_create("config");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, init_defaults);
	tcase_add_test(tc, init_environment);
	tcase_add_test(tc, init_bad_environment);
	tcase_add_test(tc, tunnel_option);
	tcase_add_test(tc, host_options_replace_the_environment);
	tcase_add_test(tc, host_option_refused);
	tcase_add_test(tc, host_option_too_many);
	suite_add_tcase(s, tc);

	tc = tcase_create("info");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, info_exit);
	tcase_add_test(tc, info_hint);
	tcase_add_test(tc, info_hint_ipv6);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr;
	int failed;

	sr = srunner_create(cli_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
