/*
 * check_runtime.c: liberlfwd's process-wide state (preload/runtime.h), one
 * Check suite.  The state is built once per process, from its environment
 * and its command line, by a constructor, before main: so each case runs
 * this program again with the environment and arguments it
 * needs, and the child prints what runtime_get() found.  The program is
 * found by its argv[0], not /proc/self/exe, which under valgrind is
 * valgrind.
 */
#include <sys/wait.h>

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime.h"

#define CHILD_VAR	"CHECK_RUNTIME_CHILD"	/* set: dump and exit */
#define NAMES_VAR	"CHECK_RUNTIME_NAMES"	/* names to match, commas */

static char out[4096], err[4096];
static const char *self;	/* this program, as it was started */

/* The child's part: one line of state, then one "NAME=ENTRY" per name. */
static int
dump(void)
{
	const struct runtime *rt = runtime_get();
	const char *names = getenv(NAMES_VAR);
	char buf[512], *name, *save = NULL;

	printf("active=%d entries=%zu epmd=%u tunnel=%s timeout=%d\n",
	    rt->active, rt->cfg.nentries, (unsigned)rt->cfg.epmd_port,
	    rt->cfg.tunnel.text, rt->cfg.timeout_ms);
	printf("self=%d\n", runtime_match(rt, rt->hostname));
	snprintf(buf, sizeof(buf), "%s", names != NULL ? names : "");
	for (name = strtok_r(buf, ",", &save); name != NULL;
	    name = strtok_r(NULL, ",", &save))
		printf("%s=%d\n", name, runtime_match(rt, name));
	printf("reported=%s\n", getenv("ERLFWD_CONFIG_ERROR_REPORTED") != NULL ?
	    getenv("ERLFWD_CONFIG_ERROR_REPORTED") : "-");
	return 0;
}

/* Read all of fd into buf (cap bytes, NUL-terminated). */
static void
slurp(int fd, char *buf, size_t cap)
{
	size_t len = 0;
	ssize_t n;

	while (len + 1 < cap && ((n = read(fd, buf + len, cap - 1 - len)) > 0 ||
	    (n < 0 && errno == EINTR)))
		if (n > 0)
			len += (size_t)n;
	buf[len] = '\0';
}

/*
 * Run this program with exactly the environment env (NULL-terminated) and
 * the extra arguments args; its stdout in out, stderr in err.
 */
static void
child(char *const env[], char *const args[])
{
	char *argv[8] = { "check_runtime" };
	int po[2], pe[2], st, i;
	pid_t pid;

	for (i = 0; args != NULL && args[i] != NULL && i < 6; i++)
		argv[i + 1] = args[i];
	ck_assert_int_eq(pipe(po), 0);
	ck_assert_int_eq(pipe(pe), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(po[1], 1);
		dup2(pe[1], 2);
		close(po[0]);
		close(pe[0]);
		execve(self, argv, env);
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	slurp(po[0], out, sizeof(out));
	slurp(pe[0], err, sizeof(err));
	close(po[0]);
	close(pe[0]);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "the child failed: %s", err);
}

/*
 * err without the line every child prints here: outside a preload,
 * dlsym(RTLD_NEXT) finds no libc connect behind our own, so libc_init says
 * some functions were not found.
 */
static const char *
err_rest(void)
{
	static char rest[sizeof(err)];
	const char *p = err, *nl;
	size_t len = 0;

	for (; *p != '\0'; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL)
			nl = p + strlen(p) - 1;
		if (memmem(p, (size_t)(nl - p), "libc functions were not found",
		    29) != NULL)
			continue;
		memcpy(rest + len, p, (size_t)(nl - p) + 1);
		len += (size_t)(nl - p) + 1;
	}
	rest[len] = '\0';
	return rest;
}

static void
assert_line(const char *line)
{
	char want[256];

	snprintf(want, sizeof(want), "%s\n", line);
	ck_assert_msg(strstr(out, want) != NULL, "no '%s' in:\n%s", line, out);
}

START_TEST(hosts_and_routes)
{
	char *env[] = { CHILD_VAR "=1",
	    "ERLFWD_HOSTS=dyno,web.*=127.0.0.1:9001,10.1.2.3",
	    "ERLFWD_TUNNEL=127.0.0.1:9400", "ERLFWD_TIMEOUT_MS=700",
	    NAMES_VAR "=dyno,DYNO,web.1,web,other,10.1.2.3", NULL };

	child(env, NULL);
	assert_line("active=1 entries=3 epmd=4369 tunnel=127.0.0.1:9400 "
	    "timeout=700");
	assert_line("dyno=0");
	assert_line("DYNO=0");
	assert_line("web.1=1");
	assert_line("web=-1");
	assert_line("other=-1");
	assert_line("10.1.2.3=2");
	ck_assert_str_eq(err_rest(), "");
}
END_TEST

START_TEST(glob_skips_this_host)
{
	/* "*" stands for every remote host, never for this one. */
	char *env[] = { CHILD_VAR "=1", "ERLFWD_HOSTS=*",
	    NAMES_VAR "=dyno", NULL };

	child(env, NULL);
	assert_line("dyno=0");
	assert_line("self=-1");
}
END_TEST

START_TEST(nothing_configured)
{
	char *env[] = { CHILD_VAR "=1", NAMES_VAR "=dyno", NULL };

	child(env, NULL);
	assert_line("active=1 entries=0 epmd=4369 tunnel=127.0.0.1:9369 "
	    "timeout=5000");
	assert_line("dyno=-1");
	ck_assert_str_eq(err_rest(), "");
}
END_TEST

START_TEST(bad_configuration)
{
	/* Reported once, then every call passes through untouched. */
	char *env[] = { CHILD_VAR "=1", "ERLFWD_HOSTS=dyno=nowhere",
	    NAMES_VAR "=dyno", NULL };
	char *quiet[] = { CHILD_VAR "=1", "ERLFWD_HOSTS=dyno=nowhere",
	    "ERLFWD_CONFIG_ERROR_REPORTED=1", NAMES_VAR "=dyno", NULL };

	child(env, NULL);
	assert_line("active=0 entries=0 epmd=4369 tunnel=127.0.0.1:9369 "
	    "timeout=5000");
	assert_line("dyno=-1");
	assert_line("reported=1");
	ck_assert_msg(strstr(err_rest(), "passing every call through "
	    "untouched") != NULL, "%s", err);
	/* One line. */
	ck_assert_ptr_eq(strchr(err_rest(), '\n'), err_rest() +
	    strlen(err_rest()) - 1);
	/* Its children (inet_gethost, epmd) stay quiet. */
	child(quiet, NULL);
	assert_line("dyno=-1");
	ck_assert_str_eq(err_rest(), "");
}
END_TEST

START_TEST(epmd_port_env)
{
	char *env[] = { CHILD_VAR "=1", "ERL_EPMD_PORT=4370", NULL };

	child(env, NULL);
	assert_line("active=1 entries=0 epmd=4370 tunnel=127.0.0.1:9369 "
	    "timeout=5000");
}
END_TEST

START_TEST(epmd_port_argument_first)
{
	/* OTP's order: -epmd_port on the command line, then ERL_EPMD_PORT. */
	char *env[] = { CHILD_VAR "=1", "ERL_EPMD_PORT=4370", NULL };
	char *args[] = { "-epmd_port", "4371", "-epmd_port", "4372", NULL };

	child(env, args);
	assert_line("active=1 entries=0 epmd=4371 tunnel=127.0.0.1:9369 "
	    "timeout=5000");
}
END_TEST

static Suite *
runtime_suite(void)
{
	Suite *s = suite_create("runtime");
	TCase *tc = tcase_create("once");

	tcase_add_test(tc, hosts_and_routes);
	tcase_add_test(tc, glob_skips_this_host);
	tcase_add_test(tc, nothing_configured);
	tcase_add_test(tc, bad_configuration);
	tcase_add_test(tc, epmd_port_env);
	tcase_add_test(tc, epmd_port_argument_first);
	suite_add_tcase(s, tc);
	return s;
}

int
main(int argc, char **argv)
{
	SRunner *sr;
	int failed;

	(void)argc;
	if (getenv(CHILD_VAR) != NULL)
		return dump();
	self = argv[0];
	sr = srunner_create(runtime_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
