/*
 * check_cookie.c: finding and reading the cookie (tools/erlfwd/cookie.h) and the
 * private HOME that carries it to erl (tools/erlfwd/home.h), one Check suite.
 *
 * Besides the order of the sources, the suite checks the one promise that
 * matters most: no message ever contains the cookie.
 */
#include <sys/stat.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cookie.h"
#include "home.h"

static char dir[64];

static void
setup_dir(void)
{
	strcpy(dir, "/tmp/check_cookie.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void
teardown_dir(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "/bin/rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* Write text to dir/name with mode; its path in out. */
static void
put(const char *name, const char *text, mode_t mode, char *out, size_t cap)
{
	FILE *f;

	snprintf(out, cap, "%s/%s", dir, name);
	ck_assert_ptr_nonnull(f = fopen(out, "w"));
	ck_assert_int_eq(fputs(text, f) >= 0, 1);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(chmod(out, mode), 0);
}

/* --- parse --------------------------------------------------------------- */

static const char *const parse_in[][2] = {
	{ "secret", "secret" },
	{ "secret\n", "secret" },
	{ "secret\r\n", "secret" },
	{ "secret\n\n  \n", "secret" },
	{ "with space", "with space" },
	{ "   ", "   " },		/* printable, so erl takes it too */
	{ "trailing  \n", "trailing  " },	/* as erl keeps them */
	{ "~!@#$%^&*()_+`-={}[]|:;'<>?,./\"\\", "~!@#$%^&*()_+`-={}[]|:;'<>?,./\"\\" },
};

START_TEST(parse_good)
{
	char out[COOKIE_MAX];

	ck_assert_int_eq(cookie_parse(parse_in[_i][0], strlen(parse_in[_i][0]),
	    out, sizeof(out)), 0);
	ck_assert_str_eq(out, parse_in[_i][1]);
}
END_TEST

static const char *const parse_bad[] = {
	"", "\n", "\r\n", "a\tb", "ab\nc", "a\x01", "caf\xc3\xa9",
};

START_TEST(parse_refused)
{
	char out[COOKIE_MAX];

	ck_assert_int_eq(cookie_parse(parse_bad[_i], strlen(parse_bad[_i]), out,
	    sizeof(out)), -1);
}
END_TEST

START_TEST(parse_nul_and_length)
{
	char out[COOKIE_MAX], in[COOKIE_MAX + 1];

	ck_assert_int_eq(cookie_parse("ab\0cd", 5, out, sizeof(out)), -1);
	memset(in, 'c', sizeof(in));
	ck_assert_int_eq(cookie_parse(in, COOKIE_MAX - 1, out, sizeof(out)), 0);
	ck_assert_int_eq(cookie_parse(in, COOKIE_MAX, out, sizeof(out)), -1);
}
END_TEST

/* --- find ---------------------------------------------------------------- */

START_TEST(find_order)
{
	struct cookie c;
	struct cookie_env env = { NULL, "fromerlfwd", "fromrelease", NULL };
	char file[128], err[256] = "";

	put(".erlang.cookie", "fromhome\n", 0400, file, sizeof(file));
	env.home = dir;
	put("file", "fromfile\n", 0600, file, sizeof(file));
	env.file = file;

	ck_assert_int_eq(cookie_find(&c, &env, err, sizeof(err)), 0);
	ck_assert_int_eq(c.source, COOKIE_FILE);
	ck_assert_str_eq(c.value, "fromfile");
	env.file = "";
	ck_assert_int_eq(cookie_find(&c, &env, err, sizeof(err)), 0);
	ck_assert_int_eq(c.source, COOKIE_ENV_ERLFWD);
	ck_assert_str_eq(c.value, "fromerlfwd");
	ck_assert_str_eq(c.origin, "$ERLFWD_COOKIE");
	env.erlfwd = NULL;
	ck_assert_int_eq(cookie_find(&c, &env, err, sizeof(err)), 0);
	ck_assert_int_eq(c.source, COOKIE_ENV_RELEASE);
	ck_assert_str_eq(c.value, "fromrelease");
	env.release = "";
	ck_assert_int_eq(cookie_find(&c, &env, err, sizeof(err)), 0);
	ck_assert_int_eq(c.source, COOKIE_HOME);
	ck_assert_str_eq(c.value, "fromhome");
	env.home = NULL;
	ck_assert_int_eq(cookie_find(&c, &env, err, sizeof(err)), 0);
	ck_assert_int_eq(c.source, COOKIE_NONE);
}
END_TEST

/* A HOME without .erlang.cookie is no cookie, not an error. */
START_TEST(find_home_without_cookie)
{
	struct cookie c;
	struct cookie_env env = { NULL, NULL, NULL, NULL };
	char err[256] = "";

	env.home = dir;
	ck_assert_int_eq(cookie_find(&c, &env, err, sizeof(err)), 0);
	ck_assert_int_eq(c.source, COOKIE_NONE);
}
END_TEST

/* Errors name the source and never the cookie. */
START_TEST(find_errors_keep_the_secret)
{
	struct cookie c;
	struct cookie_env env = { NULL, NULL, NULL, NULL };
	char file[128], err[256];

	put("bad", "hunter2\x01\n", 0600, file, sizeof(file));
	env.file = file;
	ck_assert_int_eq(cookie_find(&c, &env, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, file));
	ck_assert_ptr_null(strstr(err, "hunter2"));
	ck_assert_str_eq(c.value, "");

	env.file = "/nonexistent/cookie";
	ck_assert_int_eq(cookie_find(&c, &env, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/cookie"));
	ck_assert_ptr_nonnull(strstr(err, strerror(ENOENT)));

	env.file = dir;		/* a directory */
	ck_assert_int_eq(cookie_find(&c, &env, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "not a regular file"));

	env.file = NULL;
	env.erlfwd = "hunter2\t";
	ck_assert_int_eq(cookie_find(&c, &env, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "$ERLFWD_COOKIE"));
	ck_assert_ptr_null(strstr(err, "hunter2"));
}
END_TEST

START_TEST(find_file_too_large)
{
	struct cookie c;
	struct cookie_env env = { NULL, NULL, NULL, NULL };
	char file[128], err[256], *big;

	ck_assert_ptr_nonnull(big = malloc(COOKIE_FILE_MAX + 2));
	memset(big, 'x', COOKIE_FILE_MAX + 1);
	big[COOKIE_FILE_MAX + 1] = '\0';
	put("big", big, 0600, file, sizeof(file));
	free(big);
	env.file = file;
	ck_assert_int_eq(cookie_find(&c, &env, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "too large"));
}
END_TEST

START_TEST(wipe)
{
	struct cookie c;
	size_t i;

	memset(&c, 'x', sizeof(c));
	cookie_wipe(&c);
	for (i = 0; i < sizeof(c.value); i++)
		ck_assert_int_eq(c.value[i], 0);
}
END_TEST

/* --- the private HOME ---------------------------------------------------- */

START_TEST(home_made_and_removed)
{
	struct home h;
	struct stat st;
	char p[2 * PATH_MAX], buf[64], real[128], link[PATH_MAX], want[PATH_MAX];
	ssize_t n;
	int fd;

	/* A real home with startup files to link, and one it lacks. */
	snprintf(real, sizeof(real), "%s/real", dir);
	ck_assert_int_eq(mkdir(real, 0700), 0);
	snprintf(p, sizeof(p), "%s/.iex.exs", real);
	ck_assert_int_ge(fd = open(p, O_WRONLY | O_CREAT, 0600), 0);
	close(fd);

	ck_assert_int_eq(home_create(&h, dir, "s3cret", real), 0);
	ck_assert_int_eq(strncmp(h.dir, dir, strlen(dir)), 0);
	ck_assert_int_eq(stat(h.dir, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0700);
	snprintf(p, sizeof(p), "%s/.erlang.cookie", h.dir);
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0400);
	ck_assert_int_ge(fd = open(p, O_RDONLY), 0);
	n = read(fd, buf, sizeof(buf));
	close(fd);
	ck_assert_int_eq(n, 6);
	ck_assert_mem_eq(buf, "s3cret", 6);
	snprintf(p, sizeof(p), "%s/.iex.exs", h.dir);
	ck_assert_int_gt(n = readlink(p, link, sizeof(link) - 1), 0);
	link[n] = '\0';
	snprintf(want, sizeof(want), "%s/.iex.exs", real);
	ck_assert_str_eq(link, want);
	snprintf(p, sizeof(p), "%s/.erlang", h.dir);
	ck_assert_int_eq(lstat(p, &st), -1);

	/* erl may leave files behind; removal takes them, not the links' targets. */
	snprintf(p, sizeof(p), "%s/.cache-of-its-own", h.dir);
	ck_assert_int_eq(mkdir(p, 0700), 0);
	strcpy(link, h.dir);
	ck_assert_int_eq(home_remove(&h), 0);
	ck_assert_str_eq(h.dir, "");
	ck_assert_int_eq(stat(link, &st), -1);
	snprintf(p, sizeof(p), "%s/.iex.exs", real);
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_int_eq(home_remove(&h), 0);	/* twice is harmless */
}
END_TEST

START_TEST(home_bad_tmpdir)
{
	struct home h;

	ck_assert_int_eq(home_create(&h, "/nonexistent/tmp", "c", NULL), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_str_eq(h.dir, "");
}
END_TEST

static Suite *
cookie_suite(void)
{
	Suite *s = suite_create("cookie");
	TCase *tc;

	tc = tcase_create("parse");
	tcase_add_loop_test(tc, parse_good, 0,
	    (int)(sizeof(parse_in) / sizeof(parse_in[0])));
	tcase_add_loop_test(tc, parse_refused, 0,
	    (int)(sizeof(parse_bad) / sizeof(parse_bad[0])));
	tcase_add_test(tc, parse_nul_and_length);
	tcase_add_test(tc, wipe);
	suite_add_tcase(s, tc);

	tc = tcase_create("find");
	tcase_add_checked_fixture(tc, setup_dir, teardown_dir);
	tcase_add_test(tc, find_order);
	tcase_add_test(tc, find_home_without_cookie);
	tcase_add_test(tc, find_errors_keep_the_secret);
	tcase_add_test(tc, find_file_too_large);
	suite_add_tcase(s, tc);

	tc = tcase_create("home");
	tcase_add_checked_fixture(tc, setup_dir, teardown_dir);
	tcase_add_test(tc, home_made_and_removed);
	tcase_add_test(tc, home_bad_tmpdir);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr;
	int failed;

	sr = srunner_create(cookie_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
