/*
 * keeper.c: where --stdio sessions live (keeper.h): the keeper's paths,
 * the handoff of stdin and stdout over its socket, starting it, and its
 * leaving.  The keeper itself is server.c's loop (server_opts.keeper_fd);
 * carrier_host.c takes the handoffs.
 */
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "carrier.h"
#include "keeper.h"
#include "logfmt.h"
#include "plat.h"
#include "sha256.h"
#include "tio.h"

#define KEY_BYTES	8	/* of the digest, in the file names */

int
keeper_argv(const struct server_opts *o, char **argv, size_t cap, char *buf,
    size_t bufcap)
{
	const struct {
		const char	*flag;
		long		 v;
	} nums[] = {
		{ "--keeper-fd", KEEPER_FD },
		{ "--epmd-port", o->epmd_port },
		{ "--max-conns", o->max_conns },
		{ "--setup-timeout", o->setup_timeout_ms },
		{ "--idle-timeout", o->idle_ms },
		{ "--linger", o->linger_ms },
		{ "--carrier-idle", o->carrier_idle_ms },
		{ "--resume-window", o->resume_ms },
	};
	size_t n = 0, used = 0, i;
	int w;

/* One word: argv[n] in buf; -1 when either is full. */
#define WORD(...) do {							\
	if (n + 2 > cap)						\
		return -1;						\
	w = snprintf(buf + used, bufcap - used, __VA_ARGS__);		\
	if (w < 0 || (size_t)w >= bufcap - used)			\
		return -1;						\
	argv[n++] = buf + used;						\
	used += (size_t)w + 1;						\
} while (0)

	WORD("erlfwd-server");
	for (i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		WORD("%s", nums[i].flag);
		WORD("%ld", nums[i].v);
	}
	WORD("--relay");
	WORD("%s", o->copy ? "copy" : "auto");
	for (i = 0; i < o->nallow; i++) {
		WORD("--allow-port");
		WORD("%u", (unsigned)o->allow[i]);
	}
#undef WORD
	argv[n] = NULL;
	return (int)n;
}

int
keeper_paths(const struct server_opts *o, struct keeper_paths *kp, char *err,
    size_t cap)
{
	char *argv[KEEPER_ARGV_MAX], words[2048], key[2 * KEY_BYTES + 1];
	const char *base = getenv("TMPDIR");
	uint8_t digest[SHA256_LEN];
	struct sha256 h;
	struct stat st;
	uid_t uid = geteuid();
	int n, i;

	/* What a session may reach and how it is held: a --stdio with other
	 * options, or another version, has a keeper of its own. */
	if ((n = keeper_argv(o, argv, KEEPER_ARGV_MAX, words,
	    sizeof(words))) < 0) {
		snprintf(err, cap, "too many options for a keeper");
		return -1;
	}
	sha256_init(&h);
	sha256_update(&h, "erlfwd-server " ERLFWD_VERSION, sizeof("erlfwd-server "
	    ERLFWD_VERSION));
	sha256_update(&h, &uid, sizeof(uid));
	/* One network namespace, one epmd: dynos or pods that share /tmp
	 * must not share a keeper. */
	memset(&st, 0, sizeof(st));
	(void)stat("/proc/self/ns/net", &st);
	sha256_update(&h, &st.st_dev, sizeof(st.st_dev));
	sha256_update(&h, &st.st_ino, sizeof(st.st_ino));
	for (i = 3; i < n; i++)		/* not the listener's descriptor */
		sha256_update(&h, argv[i], strlen(argv[i]) + 1);
	sha256_final(&h, digest);
	(void)carrier_hex_encode(digest, KEY_BYTES, key, sizeof(key));
	if (base == NULL || base[0] != '/')
		base = "/tmp";
	if ((size_t)snprintf(kp->dir, sizeof(kp->dir), "%s/erlfwd-%lu", base,
	    (unsigned long)uid) >= sizeof(kp->dir) ||
	    (size_t)snprintf(kp->sock, sizeof(kp->sock), "%s/keeper-%s.sock",
	    kp->dir, key) >= sizeof(kp->sock) ||
	    (size_t)snprintf(kp->lock, sizeof(kp->lock), "%s/keeper-%s.lock",
	    kp->dir, key) >= sizeof(kp->lock) ||
	    (size_t)snprintf(kp->log, sizeof(kp->log), "%s/keeper-%s.log",
	    kp->dir, key) >= sizeof(kp->log)) {
		snprintf(err, cap, "the path under %.64s is too long for a "
		    "socket (set TMPDIR shorter)", base);
		return -1;
	}
	return 0;
}

int
keeper_dir(const char *dir, uid_t uid, char *err, size_t cap)
{
	struct stat st;

	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		snprintf(err, cap, "cannot make %s: %s", dir, strerror(errno));
		return -1;
	}
	/* Someone else's directory (made first, on a shared /tmp) would be a
	 * place where they hand us their socket: nothing of ours goes there. */
	if (lstat(dir, &st) != 0) {
		snprintf(err, cap, "cannot use %s: %s", dir, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != uid ||
	    (st.st_mode & 077) != 0) {
		snprintf(err, cap, "%s is not a directory of uid %lu's alone "
		    "(owner %lu, mode %03o)", dir, (unsigned long)uid,
		    (unsigned long)st.st_uid, (unsigned)(st.st_mode & 0777));
		return -1;
	}
	return 0;
}

int
keeper_send(int fd, int rfd, int wfd)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(2 * sizeof(int))];
	} u;
	uint8_t b = KEEPER_HANDOFF;
	struct iovec iov = { &b, 1 };
	struct msghdr mh;
	struct cmsghdr *cm;
	int fds[2] = { rfd, wfd };
	ssize_t n;

	memset(&mh, 0, sizeof(mh));
	memset(&u, 0, sizeof(u));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = u.buf;
	mh.msg_controllen = sizeof(u.buf);
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(fds));
	memcpy(CMSG_DATA(cm), fds, sizeof(fds));
	do
		n = sendmsg(fd, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n == 1 ? 0 : -1;
}

int
keeper_recv(int fd, int fds[2], const char **why)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(4 * sizeof(int))];
	} u;
	uint8_t b[4];
	struct iovec iov = { b, sizeof(b) };
	struct msghdr mh;
	struct cmsghdr *cm;
	int got[8], ngot = 0, i, k;
	size_t len;
	ssize_t n;

	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = u.buf;
	mh.msg_controllen = sizeof(u.buf);
	do
		n = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	if (n < 0) {
		*why = strerror(errno);
		return -1;
	}
	/* Whatever came is ours to close, right or wrong. */
	for (cm = CMSG_FIRSTHDR(&mh); cm != NULL; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		len = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (k = 0; k < (int)len && ngot < 8; k++)
			memcpy(&got[ngot++], CMSG_DATA(cm) + k * sizeof(int),
			    sizeof(int));
	}
	*why = NULL;
	if (n == 0)
		*why = "closed before handing anything over";
	else if (n != 1 || b[0] != KEEPER_HANDOFF)
		*why = "not a handoff";
	else if ((mh.msg_flags & MSG_CTRUNC) != 0 || ngot != 2)
		*why = "a handoff without exactly two descriptors";
	if (*why != NULL) {
		for (i = 0; i < ngot; i++)
			close(got[i]);
		return -1;
	}
	fds[0] = got[0];
	fds[1] = got[1];
	return 1;
}

int
keeper_peer(int fd, pid_t *pid)
{
	struct ucred uc;
	socklen_t len = sizeof(uc);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) != 0 ||
	    len != sizeof(uc) || uc.uid != geteuid())
		return -1;
	*pid = uc.pid;
	return 0;
}

/* A connection to the keeper's socket, or -1 (none listens there). */
static int
dial(const struct keeper_paths *kp)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, kp->sock, strlen(kp->sock));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * The keeper's stderr: its log, started afresh (the old one kept beside)
 * past KEEPER_LOG_MAX.  Never the --stdio's stderr: sshd would wait for
 * that pipe to close, and the user's session with it.
 */
static int
open_log(const struct keeper_paths *kp)
{
	char old[sizeof(kp->log) + 4];
	struct stat st;

	if (stat(kp->log, &st) == 0 && st.st_size > KEEPER_LOG_MAX) {
		snprintf(old, sizeof(old), "%s.old", kp->log);
		(void)rename(kp->log, old);
	}
	return open(kp->log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
	    O_NOFOLLOW, 0600);
}

/*
 * Start a keeper for o on kp's socket (the lock is held): the socket
 * listens before the keeper runs, so that a dial cannot miss it; the
 * keeper is this program again (its own command line, honest in ps),
 * in a session of its own, reparented to init.  Returns 0, or -1 with
 * why in err.
 */
static int
start(const struct server_opts *o, const struct keeper_paths *kp, char *err,
    size_t cap)
{
	char *argv[KEEPER_ARGV_MAX], words[2048], self[4096];
	struct sockaddr_un sun;
	int lfd = -1, logfd = -1, null, status, rc = -1;
	ssize_t n;
	pid_t pid;

	if (keeper_argv(o, argv, KEEPER_ARGV_MAX, words, sizeof(words)) < 0) {
		snprintf(err, cap, "too many options for a keeper");
		return -1;
	}
	/* This program's file by its name (ps and top show the keeper as
	 * erlfwd-server, not as /proc/self/exe's "exe"). */
	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) <= 0) {
		snprintf(err, cap, "cannot start a keeper: /proc/self/exe: %s",
		    n < 0 ? strerror(errno) : "empty");
		return -1;
	}
	self[n] = '\0';
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, kp->sock, strlen(kp->sock));
	(void)unlink(kp->sock);		/* a keeper's that is gone */
	if ((lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    bind(lfd, (struct sockaddr *)&sun, sizeof(sun)) != 0 ||
	    listen(lfd, SOMAXCONN) != 0 || (logfd = open_log(kp)) < 0) {
		snprintf(err, cap, "cannot start a keeper at %s: %s", kp->sock,
		    strerror(errno));
		goto out;
	}
	if ((pid = fork()) < 0) {
		snprintf(err, cap, "cannot start a keeper: fork: %s",
		    strerror(errno));
		goto out;
	}
	if (pid == 0) {
		/* Out of sshd's session and process group: neither its
		 * hangup nor its end is the keeper's. */
		(void)setsid();
		if (fork() != 0)
			_exit(0);
		if ((null = open("/dev/null", O_RDWR)) < 0 ||
		    dup2(null, STDIN_FILENO) < 0 ||
		    dup2(null, STDOUT_FILENO) < 0 ||
		    dup2(logfd, STDERR_FILENO) < 0)
			_exit(127);
		/* lfd and logfd are above 2 (0 to 2 were open): dup2 to
		 * KEEPER_FD clears close-on-exec, or lfd is it already. */
		if (lfd == KEEPER_FD)
			(void)fcntl(lfd, F_SETFD, 0);
		else if (dup2(lfd, KEEPER_FD) < 0)
			_exit(127);
		plat_close_from(KEEPER_FD + 1);
		(void)chdir("/");
		execv(self, argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		continue;
	rc = 0;
out:
	if (lfd >= 0)
		close(lfd);
	if (logfd >= 0)
		close(logfd);
	return rc;
}

/*
 * Hand stdin and stdout to the keeper on fd and wait for its KEEPER_TAKEN.
 * Returns 0 (taken), 1 (it answered something else: it is full, and said
 * so in a line), or -1 (it left before it took them: try again).
 */
static int
handoff(int fd)
{
	struct pollfd p = { fd, POLLIN, 0 };
	uint8_t b;
	ssize_t n;

	if (keeper_send(fd, STDIN_FILENO, STDOUT_FILENO) != 0)
		return -1;
	if (poll(&p, 1, KEEPER_ANSWER_MS) != 1)
		return -1;
	do
		n = read(fd, &b, 1);
	while (n < 0 && errno == EINTR);
	if (n == 1)
		return b == KEEPER_TAKEN ? 0 : 1;
	return -1;
}

int
keeper_stdio(const struct server_opts *o)
{
	struct keeper_paths kp;
	char err[300], rq[320];
	struct pollfd p;
	int fd = -1, lock, try, r = -1;
	pid_t pid = 0;
	uint8_t b;

	if (keeper_paths(o, &kp, err, sizeof(err)) != 0 ||
	    keeper_dir(kp.dir, geteuid(), err, sizeof(err)) != 0)
		goto alone;
	snprintf(err, sizeof(err), "the keeper left before taking the carrier");
	for (try = 0; try < KEEPER_TRIES; try++) {
		if ((fd = dial(&kp)) < 0) {
			/* None there: start one, unless another --stdio has
			 * just done so (the lock is held while starting). */
			if ((lock = open(kp.lock, O_RDWR | O_CREAT | O_CLOEXEC |
			    O_NOFOLLOW, 0600)) < 0 || flock(lock, LOCK_EX) != 0) {
				snprintf(err, sizeof(err), "cannot lock %s: %s",
				    kp.lock, strerror(errno));
				if (lock >= 0)
					close(lock);
				goto alone;
			}
			if ((fd = dial(&kp)) < 0 &&
			    start(o, &kp, err, sizeof(err)) == 0 &&
			    (fd = dial(&kp)) < 0)
				snprintf(err, sizeof(err), "cannot reach the "
				    "keeper just started at %s: %s", kp.sock,
				    strerror(errno));
			close(lock);
			if (fd < 0)
				goto alone;
		}
		/* Only our own user's keeper gets our carrier. */
		if (keeper_peer(fd, &pid) != 0) {
			snprintf(err, sizeof(err), "the keeper at %s is not our "
			    "uid's", kp.sock);
			goto alone;
		}
		if ((r = handoff(fd)) >= 0)
			break;
		close(fd);
		fd = -1;
	}
	if (r == 1)
		snprintf(err, sizeof(err), "the keeper is full (--max-conns "
		    "%d)", o->max_conns);
	if (r != 0)
		goto alone;
	logfmt("info", "stdio", "keeper=%ld log=%s", (long)pid,
	    logfmt_value(kp.log, rq, sizeof(rq)));
	/* The keeper has the carrier; this process is what sshd (or the
	 * container runtime) waits for, until the keeper is done with it.
	 * Killed, its end is the carrier's: the keeper sees this close. */
	p.fd = fd;
	p.events = POLLIN;
	for (;;) {
		p.revents = 0;
		if (poll(&p, 1, -1) < 0 && errno != EINTR)
			break;
		if (p.revents != 0 && read(fd, &b, 1) <= 0)
			break;
	}
	close(fd);
	return 0;
alone:
	if (fd >= 0)
		close(fd);
	logfmt("warn", "no keeper", "reason=%s resume=none",
	    logfmt_value(err, rq, sizeof(rq)));
	return -1;
}

int
keeper_leave(const struct keeper_paths *kp, int lfd, ino_t ino)
{
	struct pollfd p = { lfd, POLLIN, 0 };
	struct stat st;
	int lock;

	if ((lock = open(kp->lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
	    0600)) < 0)
		return 1;	/* nothing can be started beside us either */
	if (flock(lock, LOCK_EX | LOCK_NB) != 0) {
		close(lock);
		return 0;
	}
	/* A --stdio that dialed before we took the lock waits in the
	 * backlog: it is served.  One that dials after finds no socket. */
	if (poll(&p, 1, 0) == 1) {
		close(lock);
		return 0;
	}
	if (stat(kp->sock, &st) == 0 && st.st_ino == ino)
		(void)unlink(kp->sock);
	close(lock);
	return 1;
}
