/*
 * check_launch.c: starting programs under the preload (tools/erlfwd/launch.h), one
 * Check suite: the LD_PRELOAD value, the library's lookup, PATH search, and
 * running a child with its exit status and exec errors.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "launch.h"

/* --- LD_PRELOAD ---------------------------------------------------------- */

static const char *const preload_cases[][3] = {
	/* existing, lib, want */
	{ NULL, "/l/liberlfwd.so", "/l/liberlfwd.so" },
	{ "", "/l/liberlfwd.so", "/l/liberlfwd.so" },
	{ "/x/libm.so.6", "/l/liberlfwd.so", "/x/libm.so.6:/l/liberlfwd.so" },
	{ "/a.so /b.so", "/l/liberlfwd.so", "/a.so /b.so:/l/liberlfwd.so" },
	/* Already there, in any position and with either separator. */
	{ "/l/liberlfwd.so", "/l/liberlfwd.so", "/l/liberlfwd.so" },
	{ "/a.so:/l/liberlfwd.so", "/l/liberlfwd.so", "/a.so:/l/liberlfwd.so" },
	{ "/l/liberlfwd.so /a.so", "/l/liberlfwd.so", "/l/liberlfwd.so /a.so" },
	/* A longer name that contains ours is another library. */
	{ "/l/liberlfwd.so.old", "/l/liberlfwd.so",
	    "/l/liberlfwd.so.old:/l/liberlfwd.so" },
};

START_TEST(preload_value)
{
	char out[128];

	ck_assert_int_eq(launch_preload(out, sizeof(out), preload_cases[_i][0],
	    preload_cases[_i][1]), 0);
	ck_assert_str_eq(out, preload_cases[_i][2]);
}
END_TEST

START_TEST(preload_refused)
{
	char out[16];

	/* The loader splits on ':' and blanks: such a path cannot be preloaded. */
	ck_assert_int_eq(launch_preload(out, sizeof(out), NULL, "/a b/l.so"), -1);
	ck_assert_int_eq(launch_preload(out, sizeof(out), NULL, "/a:b/l.so"), -1);
	ck_assert_int_eq(launch_preload(out, sizeof(out), NULL, ""), -1);
	/* Too long for out, exactly fitting. */
	ck_assert_int_eq(launch_preload(out, sizeof(out), "/012345678", "/l.so"),
	    -1);
	ck_assert_int_eq(launch_preload(out, sizeof(out), "/01234567", "/l.so"), 0);
	ck_assert_str_eq(out, "/01234567:/l.so");	/* 15 + NUL */
}
END_TEST

/* --- lookup -------------------------------------------------------------- */

static char dir[64];

static void
setup_dir(void)
{
	strcpy(dir, "/tmp/check_launch.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void
teardown_dir(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "/bin/rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static void
touch(const char *path, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "#!/bin/sh\n", 10), 10);
	close(fd);
	ck_assert_int_eq(chmod(path, mode), 0);
}

START_TEST(find_lib_override)
{
	char lib[PATH_MAX], out[PATH_MAX], real[PATH_MAX];

	snprintf(lib, sizeof(lib), "%s/%s", dir, LAUNCH_LIB_NAME);
	touch(lib, 0644);
	ck_assert_ptr_nonnull(realpath(lib, real));
	ck_assert_int_eq(launch_find_lib(out, sizeof(out), lib), 0);
	ck_assert_str_eq(out, real);
	/* Relative paths come back absolute: LD_PRELOAD needs that. */
	ck_assert_int_eq(chdir(dir), 0);
	ck_assert_int_eq(launch_find_lib(out, sizeof(out), LAUNCH_LIB_NAME), 0);
	ck_assert_str_eq(out, real);
	ck_assert_int_eq(launch_find_lib(out, sizeof(out), "/nonexistent.so"),
	    -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(launch_find_lib(out, 4, lib), -1);
}
END_TEST

START_TEST(which)
{
	char a[256], b[256], p[1024], out[PATH_MAX], *saved;

	snprintf(a, sizeof(a), "%s/a", dir);
	snprintf(b, sizeof(b), "%s/b", dir);
	ck_assert_int_eq(mkdir(a, 0755), 0);
	ck_assert_int_eq(mkdir(b, 0755), 0);
	snprintf(p, sizeof(p), "%s/prog", a);
	touch(p, 0644);			/* not executable: skipped */
	snprintf(p, sizeof(p), "%s/prog", b);
	touch(p, 0755);
	snprintf(p, sizeof(p), "/nonexistent:%s:%s", a, b);
	ck_assert_ptr_nonnull(saved = strdup(getenv("PATH")));
	ck_assert_int_eq(setenv("PATH", p, 1), 0);
	ck_assert_int_eq(launch_which(out, sizeof(out), "prog"), 0);
	snprintf(p, sizeof(p), "%s/prog", b);
	ck_assert_str_eq(out, p);
	ck_assert_int_eq(launch_which(out, sizeof(out), "nothere"), -1);
	/* A name with a '/' is taken as it is. */
	ck_assert_int_eq(launch_which(out, sizeof(out), p), 0);
	ck_assert_str_eq(out, p);
	snprintf(p, sizeof(p), "%s/prog", a);
	ck_assert_int_eq(launch_which(out, sizeof(out), p), -1);
	/* A directory is not a program. */
	ck_assert_int_eq(launch_which(out, sizeof(out), dir), -1);
	ck_assert_int_eq(setenv("PATH", saved, 1), 0);
	free(saved);
}
END_TEST

/* --- run ----------------------------------------------------------------- */

START_TEST(run_status)
{
	char *ok[] = { "sh", "-c", "exit 0", NULL };
	char *three[] = { "sh", "-c", "exit 3", NULL };
	char *killed[] = { "sh", "-c", "kill -TERM $$", NULL };
	int ws;

	ck_assert_int_eq(launch_run(ok, &ws), 0);
	ck_assert_int_eq(launch_exit_code(ws), 0);
	ck_assert_int_eq(launch_run(three, &ws), 0);
	ck_assert_int_eq(launch_exit_code(ws), 3);
	ck_assert_int_eq(launch_run(killed, &ws), 0);
	ck_assert_int_eq(launch_exit_code(ws), 128 + 15);
}
END_TEST

/* An exec that fails is an error of launch_run, with the exec's errno. */
START_TEST(run_exec_errors)
{
	char path[PATH_MAX];
	char *missing[] = { "/nonexistent/program", NULL };
	char *noexec[] = { path, NULL };
	int ws;

	errno = 0;
	ck_assert_int_eq(launch_run(missing, &ws), -1);
	ck_assert_int_eq(errno, ENOENT);
	snprintf(path, sizeof(path), "%s/data", dir);
	touch(path, 0644);
	ck_assert_int_eq(launch_run(noexec, &ws), -1);
	ck_assert_int_eq(errno, EACCES);
}
END_TEST

/*
 * The child gets SIGINT and SIGQUIT back (bits 1 and 2 of SigIgn) although
 * launch_run ignores them while it waits.
 */
START_TEST(run_child_signals)
{
	char *probe[] = { "sh", "-c",
	    "m=$(sed -n 's/^SigIgn:[[:space:]]*//p' /proc/$$/status); "
	    "[ $(( 0x$m & 6 )) -eq 0 ]", NULL };
	int ws;

	ck_assert_int_eq(launch_run(probe, &ws), 0);
	ck_assert_int_eq(launch_exit_code(ws), 0);
}
END_TEST

/* The file goes once the child has read it (while the child runs), and
 * stays when it does not. */
START_TEST(run_once)
{
	char path[PATH_MAX], script[2 * PATH_MAX + 64];
	char *reader[] = { "sh", "-c", script, NULL };
	char *idle[] = { "sh", "-c", "sleep 0.3", NULL };
	int ws;

	snprintf(path, sizeof(path), "%s/cookie", dir);
	touch(path, 0400);
	snprintf(script, sizeof(script), "cat '%s' >/dev/null; sleep 0.5; "
	    "[ ! -e '%s' ]", path, path);
	ck_assert_int_eq(launch_run_once(reader, &ws, path), 0);
	ck_assert_int_eq(launch_exit_code(ws), 0);	/* gone while it ran */
	ck_assert_int_eq(access(path, F_OK), -1);
	touch(path, 0400);
	ck_assert_int_eq(launch_run_once(idle, &ws, path), 0);
	ck_assert_int_eq(access(path, F_OK), 0);
}
END_TEST

static Suite *
launch_suite(void)
{
	Suite *s = suite_create("launch");
	TCase *tc;

	tc = tcase_create("preload");
	tcase_add_loop_test(tc, preload_value, 0,
	    (int)(sizeof(preload_cases) / sizeof(preload_cases[0])));
	tcase_add_test(tc, preload_refused);
	suite_add_tcase(s, tc);

	tc = tcase_create("lookup");
	tcase_add_checked_fixture(tc, setup_dir, teardown_dir);
	tcase_add_test(tc, find_lib_override);
	tcase_add_test(tc, which);
	suite_add_tcase(s, tc);

	tc = tcase_create("run");
	tcase_add_checked_fixture(tc, setup_dir, teardown_dir);
	tcase_add_test(tc, run_status);
	tcase_add_test(tc, run_exec_errors);
	tcase_add_test(tc, run_child_signals);
	tcase_add_test(tc, run_once);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr;
	int failed;

	sr = srunner_create(launch_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
