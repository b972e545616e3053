/*
 * relay: move bytes both ways between two connected sockets, carrying
 * half-closes as half-closes and resets as resets.
 *
 * Two ways to move bytes, chosen when the server starts (struct relay_ctx):
 *   splice  bytes go socket -> pipe -> socket inside the kernel (splice(2)),
 *           through one pipe shared by every relay;
 *   copy    recv() into a scratch buffer shared by every relay, then send().
 * The shared pipe or buffer is always empty between calls (the server is
 * single-threaded).  A direction only gets storage of its own when its
 * destination cannot take everything at once -- a pipe of its own in splice
 * mode, a heap buffer in copy mode -- so an idle connection holds none.
 * splice(2) has no MSG_NOSIGNAL: a process that relays must ignore SIGPIPE.
 */
#ifndef ERLFWD_RELAY_H
#define ERLFWD_RELAY_H

#include <stddef.h>
#include <stdint.h>

#define RELAY_SCRATCH	65536	/* also what one splice moves at most */

/*
 * The two sides of a relay: the client, who connected to the server, and
 * the upstream the server connected to for it (epmd or a node's port).
 */
enum { RELAY_CLIENT = 0, RELAY_UPSTREAM = 1 };

/* Direction d moves bytes from fd[d] to fd[1 - d]. */
enum { RELAY_C2U = RELAY_CLIENT, RELAY_U2C = RELAY_UPSTREAM };

/* What every relay shares. */
struct relay_ctx {
	uint8_t		*scratch;	/* copy mode, and the fallback */
	size_t		 cap;
	int		 pipe[2];	/* splice mode; -1 for copy mode */
};

struct relay_dir {
	uint32_t	 len;		/* bytes read but not yet written */
	uint8_t		*buf;		/* they are here (copy mode) ... */
	uint32_t	 off;
	int		 pipe[2];	/* ... or here (splice); -1 until needed */
	uint8_t		 eof;		/* the source said EOF */
	uint8_t		 shut;		/* the EOF was passed on (SHUT_WR) */
};

struct relay {
	int		 fd[2];
	int		 copy;		/* splice refused these sockets: copy */
	struct relay_dir dir[2];
	uint64_t	 bytes[2];
};

enum relay_status {
	RELAY_OPEN = 0,		/* keep going */
	RELAY_DONE = 1,		/* both directions finished */
	RELAY_RESET = 2,	/* a side reset or failed: reset the other */
	RELAY_NOMEM = 3,	/* pending storage could not be had */
};

/*
 * relay_ctx_init: prepare the shared storage: scratch (cap bytes, the
 * caller's) and, when want_splice is set and the kernel gives one, the
 * shared pipe.  Returns 1 when splice mode is on, 0 for copy mode.
 */
int	relay_ctx_init(struct relay_ctx *ctx, uint8_t *scratch, size_t cap,
	    int want_splice);

/* relay_ctx_free: close the shared pipe. */
void	relay_ctx_free(struct relay_ctx *ctx);

/* relay_init: a relay between the connected sockets client and upstream. */
void	relay_init(struct relay *r, int client, int upstream);

/*
 * relay_prime: pass len bytes (already read from fd[d]) on to fd[1 - d], as
 * if they had just arrived.  Call it at most once per direction, right after
 * relay_init(), before any relay_event().  Returns an enum relay_status.
 */
int	relay_prime(struct relay *r, int d, const uint8_t *buf, size_t len);

/*
 * relay_event: handle readiness of side s (0 or 1): readable and/or
 * writable.  Returns an enum relay_status.
 */
int	relay_event(struct relay *r, const struct relay_ctx *ctx, int s,
	    int readable, int writable);

/* relay_wants: for side s, whether to watch it for reading and writing. */
void	relay_wants(const struct relay *r, int s, int *rd, int *wr);

/*
 * relay_close: close both sockets (with a reset when reset is set) and free
 * the pending storage.
 */
void	relay_close(struct relay *r, int reset);

#endif /* ERLFWD_RELAY_H */
