/*
 * check_cli.c: what the erlfwd command's subcommands share
 * (tools/erlfwd/cli.h), one Check suite: the configuration from the
 * environment and the options, the exit status and the one-line fix for
 * each way INFO can fail.
 */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "info.h"

static struct cli c;
static char err[512];
static int usage_calls;		/* cli_getopt's --help, below */

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
	usage_calls = 0;
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

/* ---- cli_getopt ------------------------------------------------------------ */

static void
fake_usage(FILE *f)
{
	(void)f;
	usage_calls++;
}

static const struct cli_cmd remsh_like = {
	.name = "remsh", .letters = "tvcHIESh", .max_operands = 1,
	.after_dashdash = 1, .usage = fake_usage,
};
static const struct cli_cmd run_like = {
	.name = "run", .letters = "tvHh", .min_operands = 1, .max_operands = -1,
	.operand = "COMMAND", .stop_at_operand = 1, .usage = fake_usage,
};
static const struct cli_cmd names_like = {
	.name = "names", .letters = "tvqh", .max_operands = 0,
	.usage = fake_usage,
};

/* Parse a NULL-terminated command line; the argv is kept for a's pointers. */
static char *line[16];

static int
parse(const struct cli_cmd *cmd, struct cli_args *a, ...)
{
	va_list ap;
	int n = 0;

	va_start(ap, a);
	line[n++] = (char *)cmd->name;
	while (n < 15 && (line[n] = va_arg(ap, char *)) != NULL)
		n++;
	va_end(ap);
	line[n] = NULL;
	return cli_getopt(&c, cmd, n, line, a);
}

/* A remote shell's line: routes into cli, the rest into a, SHELL_ARGS kept. */
START_TEST(getopt_remsh)
{
	struct cli_args a;

	ck_assert_int_eq(parse(&remsh_like, &a, "--via", "ssh -T h x",
	    "-c", "/tmp/k", "--iex", "--allow-stop", "app@web.1", "--",
	    "-e", "IO.puts 1", NULL), CLI_OK);
	ck_assert_str_eq(c.via, "ssh -T h x");
	ck_assert_str_eq(a.cookie_file, "/tmp/k");
	ck_assert_int_eq(a.iex, 1);
	ck_assert_int_eq(a.erl, 0);
	ck_assert_int_eq(a.allow_stop, 1);
	ck_assert_int_eq(a.noperands, 1);
	ck_assert_str_eq(a.operands[0], "app@web.1");
	ck_assert_int_eq(a.npassed, 2);
	ck_assert_str_eq(a.passed[0], "-e");
	ck_assert_int_eq(a.help, 0);
	/* The same option letters parse again from the start. */
	ck_assert_int_eq(parse(&remsh_like, &a, "--tunnel", "127.0.0.1:9001",
	    NULL), CLI_OK);
	ck_assert_str_eq(c.cfg.tunnel.text, "127.0.0.1:9001");
	ck_assert_int_eq(a.noperands, 0);
	ck_assert_ptr_null(a.passed);
}
END_TEST

/* run: options end at COMMAND, whose own options are its own. */
START_TEST(getopt_run)
{
	struct cli_args a;

	ck_assert_int_eq(parse(&run_like, &a, "-H", "web.1", "iex", "-S",
	    "mix", "-h", NULL), CLI_OK);
	ck_assert_int_eq(usage_calls, 0);
	ck_assert_int_eq(a.noperands, 4);
	ck_assert_str_eq(a.operands[0], "iex");
	ck_assert_str_eq(a.operands[3], "-h");
	ck_assert_ptr_null(a.operands[4]);
	ck_assert_int_eq(c.hosts_given, 1);
}
END_TEST

/* Usage errors: one line, CLI_USAGE; --help: usage, nothing else. */
START_TEST(getopt_errors)
{
	struct cli_args a;

	ck_assert_int_eq(parse(&run_like, &a, NULL), CLI_USAGE);
	ck_assert_int_eq(parse(&names_like, &a, "extra", NULL), CLI_USAGE);
	ck_assert_int_eq(parse(&remsh_like, &a, "a", "b", NULL), CLI_USAGE);
	ck_assert_int_eq(parse(&remsh_like, &a, "--iex", "--erl", NULL),
	    CLI_USAGE);
	/* A command's letters are all it takes: names has no cookie. */
	ck_assert_int_eq(parse(&names_like, &a, "--cookie-file", "x", NULL),
	    CLI_USAGE);
	ck_assert_int_eq(parse(&names_like, &a, "-c", "x", NULL), CLI_USAGE);
	ck_assert_int_eq(parse(&names_like, &a, "--tunnel", NULL), CLI_USAGE);
	ck_assert_int_eq(parse(&names_like, &a, "--tunnel", "nohost", NULL),
	    CLI_USAGE);
	ck_assert_int_eq(usage_calls, 0);
	ck_assert_int_eq(parse(&names_like, &a, "-q", "--help", "extra", NULL),
	    CLI_OK);
	ck_assert_int_eq(a.help, 1);
	ck_assert_int_eq(usage_calls, 1);
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

	tc = tcase_create("getopt");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, getopt_remsh);
	tcase_add_test(tc, getopt_run);
	tcase_add_test(tc, getopt_errors);
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
