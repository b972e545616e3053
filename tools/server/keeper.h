/*
 * keeper: where --stdio sessions live, so that they can resume.
 *
 * With --stdio each carrier is a process of its own (sshd's child under
 * `heroku run:inside` or `ssh HOST erlfwd-server --stdio`, the container
 * runtime's under `kubectl exec -i`), and that process ends with its
 * carrier.  A session that is to outlive its carrier needs a process that
 * outlives both: the keeper, an erlfwd-server whose listener is a Unix
 * socket in a directory only its user may enter.  There is one per user,
 * network namespace (one epmd), set of options and version; the first
 * --stdio starts it.  Each --stdio hands it its stdin and stdout (one
 * byte, KEEPER_HANDOFF, with both descriptors as SCM_RIGHTS), waits for
 * KEEPER_TAKEN, then waits until the keeper closes the connection (it is
 * done with that carrier), and exits.  The keeper exits as soon as it
 * holds no carrier and no session.
 *
 * The directory is $TMPDIR (else /tmp) /erlfwd-UID, as tmux's: it must be
 * a directory of the user's that no one else may enter, or there is no
 * keeper (the carrier is served in its own process, without resume, and a
 * line says why).  Beside the socket, keeper-KEY.lock (starting a keeper
 * and leaving are done holding it) and keeper-KEY.log (its stderr, started
 * afresh past KEEPER_LOG_MAX).
 */
#ifndef ERLFWD_KEEPER_H
#define ERLFWD_KEEPER_H

#include <sys/types.h>

#include <stddef.h>

#include "server.h"

#define KEEPER_HANDOFF	0x01	/* --stdio to keeper: stdin, stdout */
#define KEEPER_TAKEN	0x01	/* keeper to --stdio: they are mine now */
#define KEEPER_TRIES	3	/* keepers found leaving, before giving up */
#define KEEPER_ANSWER_MS 5000	/* the keeper's KEEPER_TAKEN, at most */
#define KEEPER_FIRST_MS	10000	/* a new keeper waits so long for its
				 * first carrier before it leaves */
#define KEEPER_LOG_MAX	(1024 * 1024)
#define KEEPER_FD	3	/* the listener, in the keeper's process */
#define KEEPER_ARGV_MAX	(24 + 2 * SERVER_ALLOW_MAX)

struct keeper_paths {
	char	dir[200];
	char	sock[108];	/* a sockaddr_un's sun_path */
	char	lock[240];
	char	log[240];
};

/*
 * keeper_paths: the keeper's directory and files for options o (those
 * that decide what a session may reach, the version, the network
 * namespace, the uid).  Returns 0, or -1 with why in err.
 */
int	keeper_paths(const struct server_opts *o, struct keeper_paths *kp,
	    char *err, size_t cap);

/*
 * keeper_dir: make dir (0700) unless it exists; either way it must be a
 * directory (no symlink) owned by uid that no one else may enter.
 * Returns 0, or -1 with why in err.
 */
int	keeper_dir(const char *dir, uid_t uid, char *err, size_t cap);

/*
 * keeper_argv: the keeper's command line for o into argv (at most cap
 * entries, NULL-terminated), its words in buf (bufcap bytes): argv[0]
 * "erlfwd-server", then "--keeper-fd 3", then o's options as main()
 * parses them back.  Returns the count, or -1 (too small).
 */
int	keeper_argv(const struct server_opts *o, char **argv, size_t cap,
	    char *buf, size_t bufcap);

/*
 * keeper_send: hand rfd and wfd over Unix socket fd (one KEEPER_HANDOFF
 * byte with both).  Returns 0, or -1 with errno.
 */
int	keeper_send(int fd, int rfd, int wfd);

/*
 * keeper_recv: take a handoff from non-blocking fd into fds (close-on-
 * exec).  Returns 1 (taken), 0 (nothing yet), or -1 with why (nothing is
 * left open: descriptors that came with a wrong message are closed).
 */
int	keeper_recv(int fd, int fds[2], const char **why);

/*
 * keeper_peer: whether fd's peer (a Unix socket's) runs as our effective
 * uid; its pid in *pid.  Returns 0 when it does, else -1.
 */
int	keeper_peer(int fd, pid_t *pid);

/*
 * keeper_stdio: --stdio's way: hand stdin and stdout to the keeper for o
 * (started if none runs) and wait until it is done with them.  Returns
 * the exit status (0), or -1 when there is no keeper to be had (a warning
 * says why): the caller serves the carrier itself, without resume.
 */
int	keeper_stdio(const struct server_opts *o);

/*
 * keeper_leave: the keeper holds nothing; may it go?  Under the lock,
 * unless a connection waits on the listener lfd, the socket (when it is
 * still the one of inode ino) is removed.  Returns 1 (gone: stop now), or
 * 0 (not now: a --stdio is on its way, or the lock is busy; ask again
 * soon).
 */
int	keeper_leave(const struct keeper_paths *kp, int lfd, ino_t ino);

#endif /* ERLFWD_KEEPER_H */
