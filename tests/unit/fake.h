/*
 * fake: a scripted far end on 127.0.0.1, for the unit suites of the modules
 * that talk to one (info, probe, dial, redirect): a thread that accepts one
 * connection and plays a list of steps, so that each status a module can
 * report is one short script.  Test code only.
 */
#ifndef ERLFWD_FAKE_H
#define ERLFWD_FAKE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

enum fake_op {
	FAKE_READ,	/* read exactly len bytes into got (5 s at most) */
	FAKE_WRITE,	/* write data (len bytes) */
	FAKE_CLOSE,	/* close the connection (a FIN); the script ends */
	FAKE_RESET,	/* close it with a reset; the script ends */
	FAKE_STALL,	/* say nothing until the client closes (10 s at most) */
	FAKE_SOCKS_OK,	/* a SOCKS5 server that accepts: read the greeting and
			 * the CONNECT (into got), answer success */
	FAKE_SOCKS_FAIL,/* the same, answering failure code len */
	FAKE_READ_MSG,	/* read one handshake message (2-byte length, body) */
	FAKE_DIST_ACK,	/* a node's last step: read challenge_reply, answer
			 * challenge_ack for cookie data (a string) */
};

struct fake_step {
	enum fake_op	 op;
	const void	*data;
	size_t		 len;
};

#define FAKE_GOT_MAX	4096

struct fake {
	int			 lfd;
	uint16_t		 port;		/* where it listens */
	const struct fake_step	*steps;
	size_t			 nsteps;
	uint8_t			 got[FAKE_GOT_MAX];	/* what it read */
	size_t			 gotlen;
	uint16_t		 socks_port;	/* the port a CONNECT asked for */
	int			 accepted;	/* 1 once a client came */
	int			 failed;	/* a step could not be played */
	pthread_t		 thread;
};

/*
 * fake_start: listen on 127.0.0.1 (a free port, in f->port) and play steps
 * (n of them, kept by the caller) to the first client, in a thread.  After
 * the last step the connection is closed.  Aborts the test on failure.
 */
void	fake_start(struct fake *f, const struct fake_step *steps, size_t n);

/* fake_stop: wait for the script to end (10 s at most) and close. */
void	fake_stop(struct fake *f);

/* fake_closed_port: a port on 127.0.0.1 where nothing listens. */
uint16_t fake_closed_port(void);

/* fake_route: "127.0.0.1:PORT" or "socks5://127.0.0.1:PORT" in buf. */
const char *fake_route(char *buf, size_t cap, int socks, uint16_t port);

#endif /* ERLFWD_FAKE_H */
