/*
 * check_keeper.c: the keeper of --stdio sessions (tools/server/keeper.h),
 * one Check suite.
 *
 * Its paths: one keeper per set of options that decide what a session may
 * reach (another epmd port, another --allow-port, another resume window:
 * another keeper), under $TMPDIR/erlfwd-UID, a TMPDIR too long for a
 * socket refused.  Its directory: made 0700, and refused when it is open
 * to others, a symlink, or not a directory.  The handoff: two descriptors
 * and one byte over a Unix socket arrive as the same files; anything else
 * (a wrong byte, one descriptor, three, an EOF) is refused with nothing
 * left open; nothing yet is "not yet".  Its peer check: our own uid.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "keeper.h"
#include "server.h"

static char tmp[64];	/* /tmp/check_keeper.XXXXXX */

static void
setup(void)
{
	snprintf(tmp, sizeof(tmp), "/tmp/check_keeper.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmp));
	ck_assert_int_eq(setenv("TMPDIR", tmp, 1), 0);
}

static void
teardown(void)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	ck_assert_int_eq(system(cmd), 0);
}

static void
opts(struct server_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->epmd_port = 4369;
	o->max_conns = 1024;
	o->setup_timeout_ms = 5000;
	o->idle_ms = 600000;
	o->linger_ms = 30000;
	o->carrier_idle_ms = 60000;
	o->resume_ms = 60000;
	o->keeper_fd = -1;
}

/* How many descriptors this process has open. */
static int
open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1;	/* the directory's own */
}

/* ---- paths ---------------------------------------------------------------- */

START_TEST(argv_says_every_option)
{
	struct server_opts o;
	char *argv[KEEPER_ARGV_MAX], buf[1024], line[1024] = "";
	int n, i;

	opts(&o);
	o.copy = 1;
	o.allow[o.nallow++] = 5000;
	o.allow[o.nallow++] = 5001;
	n = keeper_argv(&o, argv, KEEPER_ARGV_MAX, buf, sizeof(buf));
	ck_assert_int_eq(n, 23);
	ck_assert_ptr_null(argv[n]);
	for (i = 0; i < n; i++) {
		strcat(line, argv[i]);
		strcat(line, i + 1 < n ? " " : "");
	}
	ck_assert_str_eq(line, "erlfwd-server --keeper-fd 3 --epmd-port 4369 "
	    "--max-conns 1024 --setup-timeout 5000 --idle-timeout 600000 "
	    "--linger 30000 --carrier-idle 60000 --resume-window 60000 "
	    "--relay copy --allow-port 5000 --allow-port 5001");
	/* Too small: -1, never a cut command line. */
	ck_assert_int_eq(keeper_argv(&o, argv, 10, buf, sizeof(buf)), -1);
	ck_assert_int_eq(keeper_argv(&o, argv, KEEPER_ARGV_MAX, buf, 40), -1);
}
END_TEST

START_TEST(paths_one_keeper_per_option_set)
{
	struct server_opts o;
	struct keeper_paths a, b;
	char err[300], want[PATH_MAX];

	opts(&o);
	ck_assert_int_eq(keeper_paths(&o, &a, err, sizeof(err)), 0);
	snprintf(want, sizeof(want), "%s/erlfwd-%lu", tmp,
	    (unsigned long)geteuid());
	ck_assert_str_eq(a.dir, want);
	ck_assert_int_eq(strncmp(a.sock, want, strlen(want)), 0);
	ck_assert_str_eq(a.sock + strlen(a.sock) - 5, ".sock");
	ck_assert_int_eq(strlen(a.sock), strlen(want) + strlen("/keeper-") +
	    16 + strlen(".sock"));
	ck_assert_str_eq(a.log + strlen(a.log) - 4, ".log");
	ck_assert_str_eq(a.lock + strlen(a.lock) - 5, ".lock");
	/* The same options: the same keeper. */
	ck_assert_int_eq(keeper_paths(&o, &b, err, sizeof(err)), 0);
	ck_assert_str_eq(a.sock, b.sock);
	/* What a session may reach, or how long it is kept: another. */
	o.epmd_port = 4370;
	ck_assert_int_eq(keeper_paths(&o, &b, err, sizeof(err)), 0);
	ck_assert_str_ne(a.sock, b.sock);
	opts(&o);
	o.allow[o.nallow++] = 5000;
	ck_assert_int_eq(keeper_paths(&o, &b, err, sizeof(err)), 0);
	ck_assert_str_ne(a.sock, b.sock);
	opts(&o);
	o.resume_ms = 1000;
	ck_assert_int_eq(keeper_paths(&o, &b, err, sizeof(err)), 0);
	ck_assert_str_ne(a.sock, b.sock);
	/* Not a path: /tmp. */
	opts(&o);
	ck_assert_int_eq(setenv("TMPDIR", "relative", 1), 0);
	ck_assert_int_eq(keeper_paths(&o, &b, err, sizeof(err)), 0);
	ck_assert_int_eq(strncmp(b.dir, "/tmp/erlfwd-", 12), 0);
}
END_TEST

START_TEST(paths_too_long_for_a_socket)
{
	struct server_opts o;
	struct keeper_paths kp;
	char err[300], big[200];

	opts(&o);
	memset(big, 'x', sizeof(big) - 1);
	big[0] = '/';
	big[sizeof(big) - 1] = '\0';
	ck_assert_int_eq(setenv("TMPDIR", big, 1), 0);
	ck_assert_int_eq(keeper_paths(&o, &kp, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "too long for a socket"));
}
END_TEST

/* ---- the directory -------------------------------------------------------- */

START_TEST(dir_made_for_us_alone)
{
	char dir[PATH_MAX], err[300];
	struct stat st;

	snprintf(dir, sizeof(dir), "%s/erlfwd-x", tmp);
	ck_assert_int_eq(keeper_dir(dir, geteuid(), err, sizeof(err)), 0);
	ck_assert_int_eq(lstat(dir, &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 0777, 0700);
	/* Found again, as it is: fine. */
	ck_assert_int_eq(keeper_dir(dir, geteuid(), err, sizeof(err)), 0);
}
END_TEST

START_TEST(dir_refused_unless_ours_alone)
{
	char dir[PATH_MAX], link[PATH_MAX], file[PATH_MAX], err[300];

	snprintf(dir, sizeof(dir), "%s/open", tmp);
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	ck_assert_int_eq(chmod(dir, 0755), 0);
	ck_assert_int_eq(keeper_dir(dir, geteuid(), err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "mode 755"));
	/* Someone else's uid. */
	ck_assert_int_eq(chmod(dir, 0700), 0);
	ck_assert_int_eq(keeper_dir(dir, geteuid() + 1, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "is not a directory of uid"));
	/* A symlink to a good directory is not that directory. */
	snprintf(link, sizeof(link), "%s/link", tmp);
	ck_assert_int_eq(symlink(dir, link), 0);
	ck_assert_int_eq(keeper_dir(link, geteuid(), err, sizeof(err)), -1);
	/* A file. */
	snprintf(file, sizeof(file), "%s/file", tmp);
	ck_assert_int_eq(close(open(file, O_CREAT | O_WRONLY, 0600)), 0);
	ck_assert_int_eq(keeper_dir(file, geteuid(), err, sizeof(err)), -1);
	/* Cannot be made. */
	snprintf(file, sizeof(file), "%s/none/erlfwd-0", tmp);
	ck_assert_int_eq(keeper_dir(file, geteuid(), err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "cannot make"));
}
END_TEST

/* ---- the handoff ---------------------------------------------------------- */

/* A raw message on fd: nbytes of byte b with the nfds descriptors of fds. */
static void
send_raw(int fd, uint8_t b, size_t nbytes, const int *fds, int nfds)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(4 * sizeof(int))];
	} u;
	uint8_t data[4] = { b, b, b, b };
	struct iovec iov = { data, nbytes };
	struct msghdr mh;
	struct cmsghdr *cm;

	memset(&mh, 0, sizeof(mh));
	memset(&u, 0, sizeof(u));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (nfds > 0) {
		mh.msg_control = u.buf;
		mh.msg_controllen = CMSG_SPACE((size_t)nfds * sizeof(int));
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN((size_t)nfds * sizeof(int));
		memcpy(CMSG_DATA(cm), fds, (size_t)nfds * sizeof(int));
	}
	ck_assert_int_eq(sendmsg(fd, &mh, 0), (ssize_t)nbytes);
}

static int sv[2], p1[2], p2[2];

static void
pair_setup(void)
{
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_int_eq(fcntl(sv[1], F_SETFL, O_NONBLOCK), 0);
	ck_assert_int_eq(pipe(p1), 0);
	ck_assert_int_eq(pipe(p2), 0);
}

static void
pair_teardown(void)
{
	close(sv[0]);
	close(sv[1]);
	close(p1[0]);
	close(p1[1]);
	close(p2[0]);
	close(p2[1]);
}

START_TEST(handoff_arrives_as_the_same_files)
{
	struct stat a, b;
	const char *why = NULL;
	int fds[2] = { -1, -1 };

	ck_assert_int_eq(keeper_recv(sv[1], fds, &why), 0);	/* not yet */
	ck_assert_int_eq(keeper_send(sv[0], p1[0], p2[1]), 0);
	ck_assert_int_eq(keeper_recv(sv[1], fds, &why), 1);
	ck_assert_int_eq(fstat(fds[0], &a), 0);
	ck_assert_int_eq(fstat(p1[0], &b), 0);
	ck_assert_uint_eq(a.st_ino, b.st_ino);
	ck_assert_int_eq(fstat(fds[1], &a), 0);
	ck_assert_int_eq(fstat(p2[1], &b), 0);
	ck_assert_uint_eq(a.st_ino, b.st_ino);
	/* Close-on-exec: nothing the keeper runs inherits a carrier. */
	ck_assert_int_eq(fcntl(fds[0], F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	ck_assert_int_eq(fcntl(fds[1], F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	/* They work: what goes into p1 comes out of the handed-over end. */
	ck_assert_int_eq(write(p1[1], "x", 1), 1);
	ck_assert_int_eq(read(fds[0], &(char){ 0 }, 1), 1);
	close(fds[0]);
	close(fds[1]);
}
END_TEST

/* Each wrong message: refused with a reason, nothing of it left open. */
static const struct {
	uint8_t		 byte;
	size_t		 nbytes;
	int		 nfds;
	const char	*why;
} wrongs[] = {
	{ 0x02, 1, 2, "not a handoff" },
	{ KEEPER_HANDOFF, 2, 2, "not a handoff" },
	{ KEEPER_HANDOFF, 1, 1, "without exactly two" },
	{ KEEPER_HANDOFF, 1, 3, "without exactly two" },
	{ KEEPER_HANDOFF, 1, 0, "without exactly two" },
};

START_TEST(handoff_wrong_is_refused_and_closed)
{
	int fds[3] = { p1[0], p2[1], p1[1] }, got[2] = { -1, -1 }, before;
	const char *why = NULL;

	before = open_fds();
	send_raw(sv[0], wrongs[_i].byte, wrongs[_i].nbytes, fds,
	    wrongs[_i].nfds);
	ck_assert_int_eq(keeper_recv(sv[1], got, &why), -1);
	ck_assert_ptr_nonnull(why);
	ck_assert_ptr_nonnull(strstr(why, wrongs[_i].why));
	ck_assert_int_eq(open_fds(), before);
}
END_TEST

START_TEST(handoff_eof_is_refused)
{
	const char *why = NULL;
	int got[2];

	close(sv[0]);
	sv[0] = -1;
	ck_assert_int_eq(keeper_recv(sv[1], got, &why), -1);
	ck_assert_ptr_nonnull(strstr(why, "closed before"));
}
END_TEST

START_TEST(peer_is_our_uid)
{
	pid_t pid = 0;

	ck_assert_int_eq(keeper_peer(sv[1], &pid), 0);
	ck_assert_int_eq(pid, getpid());
	/* Not a Unix socket: no peer to vouch for. */
	ck_assert_int_eq(keeper_peer(p1[0], &pid), -1);
}
END_TEST

static Suite *
keeper_suite(void)
{
	Suite *s = suite_create("keeper");
	TCase *tc;

	tc = tcase_create("paths");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, argv_says_every_option);
	tcase_add_test(tc, paths_one_keeper_per_option_set);
	tcase_add_test(tc, paths_too_long_for_a_socket);
	tcase_add_test(tc, dir_made_for_us_alone);
	tcase_add_test(tc, dir_refused_unless_ours_alone);
	suite_add_tcase(s, tc);

	tc = tcase_create("handoff");
	tcase_add_checked_fixture(tc, pair_setup, pair_teardown);
	tcase_add_test(tc, handoff_arrives_as_the_same_files);
	tcase_add_loop_test(tc, handoff_wrong_is_refused_and_closed, 0,
	    (int)(sizeof(wrongs) / sizeof(wrongs[0])));
	tcase_add_test(tc, handoff_eof_is_refused);
	tcase_add_test(tc, peer_is_our_uid);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(keeper_suite());
	int failed;

	signal(SIGPIPE, SIG_IGN);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
