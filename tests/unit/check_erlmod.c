/*
 * check_erlmod: the Erlang modules' cache (erlmod.h): its key, the OTP release
 * of an installation, compiling once with that release's erlc, and a cache
 * directory that is not private refused.  The "erl" and "erlc" here are
 * small scripts in a scratch directory: an OTP layout, not an OTP.
 */
#include <sys/stat.h>

#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "erlmod.h"
#include "launch.h"

static char	 tmp[256];	/* short: the paths built on it fit */

/* Write text to path with mode. */
static void
put(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	ck_assert_int_eq(chmod(path, mode), 0);
}

static void
setup(void)
{
	snprintf(tmp, sizeof(tmp), "%s/check_erlmod.XXXXXX",
	    getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(tmp));
}

static void
teardown(void)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	ck_assert_int_eq(system(cmd), 0);
}

/*
 * An installation under tmp/otp: bin/erl (answers `otp` when asked, as a
 * last resort), bin/erlc (writes the .beam where -o says, counting its
 * runs in tmp/erlc.runs; fails when tmp/erlc.fail exists), and, when rel
 * is given, releases/N/OTP_VERSION.
 */
static void
install(const char *rel, const char *otp)
{
	char p[PATH_MAX], text[1024];

	snprintf(p, sizeof(p), "%s/otp", tmp);
	ck_assert_int_eq(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/otp/bin", tmp);
	ck_assert_int_eq(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/otp/bin/erl", tmp);
	snprintf(text, sizeof(text), "#!/bin/sh\nprintf %s\n", otp);
	put(p, text, 0755);
	snprintf(p, sizeof(p), "%s/otp/bin/erlc", tmp);
	snprintf(text, sizeof(text), "#!/bin/sh\necho run >>'%s/erlc.runs'\n"
	    "[ -e '%s/erlc.fail' ] && { echo 'syntax error'; exit 1; }\n"
	    "[ \"$1\" = -o ] || exit 2\nd=$2; shift 2\n"
	    "for f; do : >\"$d/$(basename \"$f\" .erl).beam\"; done\n",
	    tmp, tmp);
	put(p, text, 0755);
	if (rel == NULL)
		return;
	snprintf(p, sizeof(p), "%s/otp/releases", tmp);
	ck_assert_int_eq(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/otp/releases/%.*s", tmp, 2, rel);
	ck_assert_int_eq(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/otp/releases/%.*s/OTP_VERSION", tmp, 2, rel);
	snprintf(text, sizeof(text), "%s\n", rel);
	put(p, text, 0644);
}

static int
runs(void)
{
	char p[PATH_MAX], line[16];
	FILE *f;
	int n = 0;

	snprintf(p, sizeof(p), "%s/erlc.runs", tmp);
	if ((f = fopen(p, "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		n++;
	fclose(f);
	return n;
}

/* The key: the release and 12 hex digits of the source's digest. */
START_TEST(cache_key)
{
	char a[64], b[64], c[64], small[8];

	ck_assert_int_eq(erlmod_cache_key(a, sizeof(a), 27, "x", 1), 0);
	ck_assert_uint_eq(strlen(a), strlen("otp27-") + 12);
	ck_assert_int_eq(strncmp(a, "otp27-", 6), 0);
	ck_assert_int_eq(erlmod_cache_key(b, sizeof(b), 27, "y", 1), 0);
	ck_assert_str_ne(a, b);
	ck_assert_int_eq(erlmod_cache_key(c, sizeof(c), 25, "x", 1), 0);
	ck_assert_str_ne(a, c);
	ck_assert_str_eq(a + 6, c + 6);		/* the same source */
	ck_assert_int_eq(erlmod_cache_key(small, sizeof(small), 27, "x", 1), -1);
}
END_TEST

/* The release from releases/N/OTP_VERSION beside the real erl. */
START_TEST(otp_from_file)
{
	char erl[PATH_MAX];

	install("27.3.4.1", "99");
	snprintf(erl, sizeof(erl), "%s/otp/bin/erl", tmp);
	ck_assert_int_eq(erlmod_otp(erl, 5000), 27);
}
END_TEST

/* No releases directory (a wrapper, a shim): erl itself is asked. */
START_TEST(otp_asked)
{
	char erl[PATH_MAX];

	install(NULL, "26");
	snprintf(erl, sizeof(erl), "%s/otp/bin/erl", tmp);
	ck_assert_int_eq(erlmod_otp(erl, 5000), 26);
}
END_TEST

/* Compiled once into XDG_CACHE_HOME/erlfwd/otpN-..., then found there. */
START_TEST(prepare_once)
{
	char erl[PATH_MAX], err[512], beam[PATH_MAX * 2];
	struct erlmod g;
	struct stat st;

	install("25.2.3", "0");
	snprintf(erl, sizeof(erl), "%s/otp/bin/erl", tmp);
	ck_assert_int_eq(setenv("XDG_CACHE_HOME", tmp, 1), 0);
	ck_assert_msg(erlmod_prepare(erl, 5000, &g, err, sizeof(err)) == 0,
	    "%s", err);
	ck_assert_int_eq(g.otp, 25);
	ck_assert_ptr_nonnull(strstr(g.ebin, "/erlfwd/otp25-"));
	snprintf(beam, sizeof(beam), "%s/%s.beam", g.ebin, ERLMOD_EPMD);
	ck_assert_int_eq(stat(beam, &st), 0);
	snprintf(beam, sizeof(beam), "%s/%s.beam", g.ebin, ERLMOD_REMSH);
	ck_assert_int_eq(stat(beam, &st), 0);
	ck_assert_int_eq(runs(), 1);
	ck_assert_int_eq(erlmod_prepare(erl, 5000, &g, err, sizeof(err)), 0);
	ck_assert_int_eq(runs(), 1);
}
END_TEST

/*
 * What `make` compiled beside the program (SELF/erlang/KEY) is taken
 * without compiling; a copy others may write into is not.
 */
START_TEST(prepare_built)
{
	char erl[PATH_MAX], err[512], self[PATH_MAX], key[64];
	char dir[PATH_MAX * 2], p[PATH_MAX * 3], cmd[PATH_MAX * 2 + 16];
	struct erlmod g;

	install("25.2.3", "0");
	snprintf(erl, sizeof(erl), "%s/otp/bin/erl", tmp);
	ck_assert_int_eq(setenv("XDG_CACHE_HOME", tmp, 1), 0);
	ck_assert_int_eq(launch_self_dir(self, sizeof(self)), 0);
	ck_assert_int_eq(erlmod_key(key, sizeof(key), 25), 0);
	snprintf(dir, sizeof(dir), "%s/erlang", self);
	(void)mkdir(dir, 0755);
	snprintf(dir, sizeof(dir), "%s/erlang/%s", self, key);
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	ck_assert_int_eq(chmod(dir, 0755), 0);
	snprintf(p, sizeof(p), "%s/%s.beam", dir, ERLMOD_REMSH);
	put(p, "", 0644);
	snprintf(p, sizeof(p), "%s/%s.beam", dir, ERLMOD_EPMD);
	put(p, "", 0644);
	ck_assert_msg(erlmod_prepare(erl, 5000, &g, err, sizeof(err)) == 0,
	    "%s", err);
	ck_assert_str_eq(g.ebin, dir);
	ck_assert_int_eq(runs(), 0);
	ck_assert_int_eq(chmod(dir, 0777), 0);
	ck_assert_int_eq(erlmod_prepare(erl, 5000, &g, err, sizeof(err)), 0);
	ck_assert_str_ne(g.ebin, dir);
	ck_assert_int_eq(runs(), 1);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* A cache others may write into is never used; erlc's failure is said. */
START_TEST(prepare_refused)
{
	char erl[PATH_MAX], err[512], p[PATH_MAX];
	struct erlmod g;

	install("27.1", "0");
	snprintf(erl, sizeof(erl), "%s/otp/bin/erl", tmp);
	ck_assert_int_eq(setenv("XDG_CACHE_HOME", tmp, 1), 0);
	snprintf(p, sizeof(p), "%s/erlfwd", tmp);
	ck_assert_int_eq(mkdir(p, 0700), 0);
	ck_assert_int_eq(chmod(p, 0777), 0);
	ck_assert_int_eq(erlmod_prepare(erl, 5000, &g, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "not a private directory") != NULL, "%s", err);
	ck_assert_int_eq(runs(), 0);
	ck_assert_int_eq(chmod(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/erlc.fail", tmp);
	put(p, "", 0644);
	ck_assert_int_eq(erlmod_prepare(erl, 5000, &g, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "could not compile erlfwd's Erlang modules: "
	    "syntax error") != NULL, "%s", err);
}
END_TEST

static Suite *
erlmod_suite(void)
{
	Suite *s = suite_create("erlmod");
	TCase *tc = tcase_create("cache");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, cache_key);
	tcase_add_test(tc, otp_from_file);
	tcase_add_test(tc, otp_asked);
	tcase_add_test(tc, prepare_once);
	tcase_add_test(tc, prepare_built);
	tcase_add_test(tc, prepare_refused);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(erlmod_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
