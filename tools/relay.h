/*
 * relay: move bytes both ways between two connected sockets, carrying
 * half-closes as half-closes and resets as resets.
 *
 * Bytes go through a scratch buffer shared by every relay (the server is
 * single-threaded); a direction only gets a buffer of its own when its
 * destination cannot take everything at once, and gives it back when it has
 * drained, so an idle connection holds no buffer at all.
 */
#ifndef ERLFWD_RELAY_H
#define ERLFWD_RELAY_H

#include <stddef.h>
#include <stdint.h>

#define RELAY_SCRATCH	65536

/* Direction d moves bytes from fd[d] to fd[1 - d]. */
enum { RELAY_C2T = 0, RELAY_T2C = 1 };

struct relay_dir {
	uint8_t		*pending;	/* bytes read but not yet written */
	uint32_t	 off, len;
	uint8_t		 eof;		/* the source said EOF */
	uint8_t		 shut;		/* the EOF was passed on (SHUT_WR) */
};

struct relay {
	int		 fd[2];
	struct relay_dir dir[2];
	uint64_t	 bytes[2];
};

enum relay_status {
	RELAY_OPEN = 0,		/* keep going */
	RELAY_DONE = 1,		/* both directions finished */
	RELAY_RESET = 2,	/* a side reset or failed: reset the other */
	RELAY_NOMEM = 3,	/* a pending buffer could not be had */
};

/* relay_init: a relay between the connected sockets a and b. */
void	relay_init(struct relay *r, int a, int b);

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
int	relay_event(struct relay *r, int s, int readable, int writable,
	    uint8_t *scratch, size_t cap);

/* relay_wants: for side s, whether to watch it for reading and writing. */
void	relay_wants(const struct relay *r, int s, int *rd, int *wr);

/*
 * relay_close: close both sockets (with a reset when reset is set), free
 * the pending buffers.
 */
void	relay_close(struct relay *r, int reset);

#endif /* ERLFWD_RELAY_H */
