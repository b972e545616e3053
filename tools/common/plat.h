/*
 * plat: the few calls of the tools that only Linux has, each with what
 * stands in for it elsewhere.  Two files, chosen by the Makefile, rather
 * than one with #ifdefs: plat_linux.c (the default build, erlfwd-server and
 * erlfwd on Linux: the calls as they were) and plat_posix.c (erlfwd built
 * with POSIX.1-2008 alone: `make posix`, `make macos`), so that each reads
 * straight through and the POSIX one is compiled without a Linux header in
 * sight.
 *
 * Linux-only files the POSIX build leaves out, each with a stand-in:
 *   ep_epoll.c	the readiness sets over epoll	ep_poll.c (poll(2))
 *   plat_linux.c	this interface		plat_posix.c
 *   procnet.c	whose is a TCP peer (sock_diag,	procnet_none.c (no
 *		/proc/net)			verdict: ENOSYS)
 * procnet.c is Linux's but makes plain POSIX calls (netlink and /proc are
 * Linux's, not the calls): the POSIX build made on Linux keeps it, and so
 * the agent's peer check; the macOS builds take procnet_none.c (Makefile,
 * PEERCHECK).
 * erlfwd-server and liberlfwd.so stay Linux programs and call Linux
 * directly.  MSG_NOSIGNAL needs nothing here: POSIX.1-2008 has it (and so
 * do macOS's headers since 11).
 */
#ifndef ERLFWD_PLAT_H
#define ERLFWD_PLAT_H

#include <sys/types.h>

#include <signal.h>
#include <stddef.h>

/* plat_pipe: pipe(2) with both ends close-on-exec.  0, or -1 with errno. */
int	plat_pipe(int p[2]);

/*
 * plat_socket: a close-on-exec socket of domain and type, non-blocking when
 * nonblock is set, that never raises SIGPIPE where the system can say so
 * per socket (SO_NOSIGPIPE).  Returns it, or -1 with errno.
 */
int	plat_socket(int domain, int type, int nonblock);

/*
 * plat_accept: accept a connection on the listener lfd, non-blocking and
 * close-on-exec.  Returns its descriptor, or -1 with accept's errno.
 */
int	plat_accept(int lfd);

/*
 * plat_die_with_parent: in a child just forked by parent, arrange that it
 * gets SIGTERM when parent dies, even by SIGKILL, across exec.  Returns 0,
 * or -1 when parent is gone already (or the arrangement failed): the child
 * should then end.
 */
int	plat_die_with_parent(pid_t parent);

/*
 * plat_sigfd: a non-blocking, close-on-exec descriptor that becomes
 * readable when one of the signals in mask arrives, instead of their usual
 * action (the POSIX build takes SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1,
 * SIGUSR2, SIGALRM, SIGCHLD and SIGPIPE).  One per process.  Returns it, or
 * -1 with errno.
 */
int	plat_sigfd(const sigset_t *mask);

/*
 * plat_sigfd_read: take one signal from fd (plat_sigfd()).  Returns its
 * number, or -1 with errno (EAGAIN: none is waiting).
 */
int	plat_sigfd_read(int fd);

/* plat_sigfd_close: close fd (ignored when < 0) and undo plat_sigfd(). */
void	plat_sigfd_close(int fd);

/*
 * plat_close_from: close every descriptor from lowfd up.  Errors are
 * ignored: the caller is a child about to run something else.
 */
void	plat_close_from(int lowfd);

/*
 * plat_memmem: the first place where needle (nlen bytes) occurs in hay
 * (hlen bytes), or NULL.
 */
const void *plat_memmem(const void *hay, size_t hlen, const void *needle,
	    size_t nlen);

/*
 * plat_readwatch: watch path for a process's first read of it: a
 * non-blocking, close-on-exec descriptor to poll (readable at once when the
 * system can say so), or -1 with errno.  One at a time.
 * plat_readwatch_seen(fd) returns 1 once path has been read (Linux: closed
 * after reading), else 0; ask after each poll, ready or not.
 * plat_readwatch_close(fd) ends the watch (ignored when fd < 0).
 */
int	plat_readwatch(const char *path);
int	plat_readwatch_seen(int fd);
void	plat_readwatch_close(int fd);

/*
 * plat_random: fill buf with len bytes from the system's cryptographic
 * random generator, for session ids and keys: getrandom(2) on Linux (which
 * waits, early in boot only, until the kernel's pool is seeded),
 * arc4random_buf(3) on macOS, else /dev/urandom read in full (refused
 * unless it is a character device).  Nothing weaker ever stands in.
 * Returns 0, or -1 with errno (buf's bytes are then not to be used).
 */
int	plat_random(void *buf, size_t len);

#endif /* ERLFWD_PLAT_H */
