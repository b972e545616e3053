/*
 * agent.c: the client end of a carrier, for the erlfwd command (agent.h).
 *
 * One thread, one ep set: the listener, the connections waiting for
 * their preamble or for the carrier, the mux's own descriptor, the
 * transport's diagnostics (the --via command's stderr) and the signals'
 * descriptor (plat_sigfd()).  How the carrier's bytes travel is the
 * transport's (transport.h: TCP, SOCKS5, a command's pipes).
 */
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "agentq.h"
#include "carrier.h"
#include "cli.h"
#include "ep.h"
#include "frame.h"
#include "mux.h"
#include "plat.h"
#include "procnet.h"
#include "safe.h"
#include "sock.h"
#include "tio.h"
#include "transport.h"

#define PENDING_IN	1024	/* a preamble and the first bytes behind it */
#define EVENTS_MAX	32
#define ACCEPT_PAUSE_MS	100	/* out of descriptors: let some free up */
/* Local connections waiting for the carrier (a BEAM opens a few): past
 * this, new ones are reset, so that a carrier down for a while is not a
 * way to make us hold thousands of descriptors. */
#define PENDING_MAX	128
/* Ports the library-free mode's nodes connect to, one per remote node
 * (agentq.h): past this, the least recently asked for is closed (its
 * connections stay). */
#define FWD_MAX		32

enum hkind { H_LISTEN, H_MUX, H_ERR, H_SIG, H_PENDING, H_FWD };

struct ahandle {
	enum hkind	 kind;
	int		 fd;
	uint32_t	 events;
};

/* A local connection that has not become a stream yet. */
struct pending {
	struct ahandle		 h;	/* first: the ep set points here */
	TAILQ_ENTRY(pending)	 entry;
	uint8_t			 in[PENDING_IN];
	size_t			 inlen, framelen;
	struct frame		 f;
	long			 deadline;
};

/* A 127.0.0.1 port whose connections are DIST(dist_port) streams. */
struct fwd {
	struct ahandle		 h;	/* first: the ep set points here */
	uint16_t		 dist_port, local_port;
	long			 used;	/* last asked for */
};

struct agent {
	const struct agent_opts	*o;
	int			 ep;
	struct ahandle		 hl, hm, he, hs;
	uint16_t		 port;
	int			 report_fd;	/* to agent_start()'s parent */
	int			 foreground;
	struct mux		*m;
	struct transport	 t;		/* the carrier's byte pipe */
	int			 up, ever_up;
	long			 start_deadline, lost_at, retry_at;
	long			 accept_resume;	/* 0: accepting */
	int			 backoff_s;
	TAILQ_HEAD(, pending)	 pending;
	struct fwd		 fwd[FWD_MAX];
	int			 npending;
	int			 pending_full;	/* said so since the last serve */
	int			 said_foreign;	/* another uid's connection: said */
	int			 quit;
	int			 status;	/* exit status when it quits */
};

static void
watch(struct agent *a, struct ahandle *h, uint32_t events)
{
	ep_watch(a->ep, h->fd, &h->events, events, h);
}

/* ---- reporting ---------------------------------------------------------- */

/*
 * Tell the parent (or, in the foreground, the user) how the first carrier
 * went: "UP PORT", "V1" or "FAIL STATUS CAUSE MESSAGE" (CAUSE as
 * mux_end_name() spells it).
 */
static void
report(struct agent *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
report(struct agent *a, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (a->report_fd < 0 || n < 0)
		return;
	/* A pipe, not a socket: tio's send() would not do. */
	(void)dprintf(a->report_fd, "%s", line);
	close(a->report_fd);
	a->report_fd = -1;
}

/* The first carrier could not be had: say why and stop. */
static void
give_up(struct agent *a, int status, enum mux_end_cause cause,
    const char *why)
{
	if (a->foreground)
		safe_line(stderr, "erlfwd: %s", why);
	else
		report(a, "FAIL %d %s %s", status, mux_end_name(cause), why);
	a->status = status;
	a->quit = 1;
}

/* ---- the carrier -------------------------------------------------------- */

/*
 * The carrier is over: free the mux, stop its transport (a --via command is
 * given time to end, then reaped).  Returns the command's wait status (0
 * for a socket).
 */
static int
carrier_close(struct agent *a)
{
	if (a->m != NULL) {
		watch(a, &a->hm, 0);
		mux_free(a->m);
		a->m = NULL;
	}
	watch(a, &a->he, 0);
	a->he.fd = -1;
	return transport_stop(&a->t);
}

/*
 * Leave a carrier that is up the way a port-forward survives: GOAWAY and our
 * FIN, then the mux's drain (a second at most) until the server's FIN, so
 * that nothing is left unread in the socket when it closes.  A close with
 * unread bytes (a late PONG, WINDOW or FIN frame) is a TCP reset, and one
 * reset from a local client ends `heroku ps:forward`.  A --via command's
 * pipes carry no reset, and via_stop() ends the command: nothing to leave.
 */
static void
carrier_leave(struct agent *a)
{
	struct ep_event ev;
	long now;
	int t;

	if (a->m == NULL || !a->up || transport_is_pipe(&a->t))
		return;
	mux_end(a->m, MUX_END_LOCAL, CARRIER_GA_NORMAL, "the session ended");
	while (mux_run(a->m, now = tio_now_ms()) != MUX_ENDED) {
		t = mux_timeout(a->m, now);
		/* Level-triggered: what this wait sees, mux_run() sees. */
		(void)ep_wait(mux_fd(a->m), &ev, 1, t < 0 || t > 100 ? 100 : t);
	}
}

/* Open the carrier's byte pipe (not its handshake); -1 with why. */
static int
carrier_dial(struct agent *a, char *why, size_t cap)
{
	if (transport_open(&a->t, tio_now_ms() + a->o->timeout_ms, why,
	    cap) != 0)
		return -1;
	if (a->t.errfd >= 0) {
		a->he.fd = a->t.errfd;
		watch(a, &a->he, EP_IN);
	}
	return 0;
}

/* Start a carrier: connect, then let the mux exchange the CARRIER frames. */
static void
carrier_start(struct agent *a)
{
	static const char body[] = "version=" ERLFWD_VERSION;
	uint8_t hello[FRAME_HDR_LEN + sizeof(body)];
	struct mux_opts mo = { 0 };
	char why[300];
	int n, start_ms;

	a->retry_at = 0;
	if (carrier_dial(a, why, sizeof(why)) != 0)
		goto fail;
	n = frame_encode(hello, sizeof(hello), FRAME_TAG_CARRIER, 0, body,
	    sizeof(body) - 1);
	mo.role = MUX_CLIENT;
	mo.rfd = a->t.rfd;
	mo.wfd = a->t.wfd;
	mo.expect_hello = 1;
	mo.hello = hello;
	mo.hello_len = n > 0 ? (size_t)n : 0;
	mo.ping_ms = a->o->ping_ms;
	mo.busy_ping_ms = a->o->busy_ping_ms;
	mo.dead_pings = a->o->dead_pings;
	if ((a->m = mux_new(&mo, NULL, a, tio_now_ms())) == NULL) {
		snprintf(why, sizeof(why), "cannot start a carrier: %s",
		    strerror(errno));
		goto fail;
	}
	a->hm.fd = mux_fd(a->m);
	watch(a, &a->hm, EP_IN);
	start_ms = a->o->timeout_ms;
	if (a->o->via != NULL && start_ms < AGENT_VIA_START_MS)
		start_ms = AGENT_VIA_START_MS;
	a->start_deadline = tio_now_ms() + start_ms;
	return;
fail:
	(void)carrier_close(a);
	if (!a->ever_up) {
		/* A forward with nothing behind it yet: the caller's version 1
		 * path says so in its own words, or works once it is up. */
		if (a->o->via == NULL && a->o->route->kind == ROUTE_ERLFWD) {
			report(a, "V1");
			a->status = CLI_OK;
			a->quit = 1;
			return;
		}
		give_up(a, CLI_TUNNEL, MUX_END_IO, why);
		return;
	}
	if (a->o->debug)
		safe_line(stderr, "erlfwd: tunnel still down (%s)", why);
	a->retry_at = tio_now_ms() + a->backoff_s * 1000L;
	if ((a->backoff_s *= 2) > AGENT_BACKOFF_MAX_S)
		a->backoff_s = AGENT_BACKOFF_MAX_S;
}

/* The carrier is up: the first time, tell the parent; later, the user. */
static void
carrier_up(struct agent *a)
{
	a->up = 1;
	a->backoff_s = 1;
	a->start_deadline = 0;
	if (!a->ever_up) {
		a->ever_up = 1;
		if (a->foreground) {
			printf("ERLFWD_TUNNEL=127.0.0.1:%u\n", (unsigned)a->port);
			fflush(stdout);
		} else
			report(a, "UP %u", (unsigned)a->port);
		return;
	}
	safe_line(stderr, "erlfwd: tunnel back after %ld s",
	    (tio_now_ms() - a->lost_at + 500) / 1000);
}

/* The carrier ended (or never started): why, and what to do next. */
static void
carrier_lost(struct agent *a, enum mux_end_cause cause, const char *ended,
    const char *printed)
{
	char msg[600], why[256];
	int ws, v1;

	/* The mux's words live in the mux, which carrier_close() frees. */
	snprintf(why, sizeof(why), "%s", ended);
	v1 = cause == MUX_END_V1 ||
	    (a->o->via == NULL && cause == MUX_END_EARLY_EOF);
	if (a->o->via != NULL && cause == MUX_END_NOT_CARRIER)
		snprintf(msg, sizeof(msg), "the --via command printed \"%s\" "
		    "before erlfwd-server's first frame (a login banner, a "
		    "motd, a shell profile that echoes?): not a carrier",
		    printed);
	else
		snprintf(msg, sizeof(msg), "%s", why);
	ws = carrier_close(a);
	if (a->o->via != NULL && WIFEXITED(ws) && WEXITSTATUS(ws) != 0)
		snprintf(msg + strlen(msg), sizeof(msg) - strlen(msg),
		    "; the --via command exited with status %d",
		    WEXITSTATUS(ws));
	if (!a->ever_up) {
		/* Through a forward, anything but a carrier is for the version
		 * 1 path: an older server works, and a foreign or silent one
		 * is diagnosed there, in its words. */
		if (a->o->via == NULL && (v1 || a->o->route->kind ==
		    ROUTE_ERLFWD)) {
			report(a, "V1 answered");
			a->status = CLI_OK;
			a->quit = 1;
			return;
		}
		give_up(a, cause == MUX_END_NOT_CARRIER || v1 ? CLI_SERVER :
		    CLI_TUNNEL, cause, msg);
		return;
	}
	if (a->up) {
		safe_line(stderr, "erlfwd: tunnel lost (%s)", msg);
		a->lost_at = tio_now_ms();
	}
	a->up = 0;
	a->retry_at = tio_now_ms() + a->backoff_s * 1000L;
	if ((a->backoff_s *= 2) > AGENT_BACKOFF_MAX_S)
		a->backoff_s = AGENT_BACKOFF_MAX_S;
}

/* ---- local connections -------------------------------------------------- */

static void
pending_free(struct agent *a, struct pending *p, int reset)
{
	watch(a, &p->h, 0);
	TAILQ_REMOVE(&a->pending, p, entry);
	a->npending--;
	if (p->h.fd >= 0) {
		if (reset)
			sock_reset(p->h.fd);
		else
			close(p->h.fd);
	}
	free(p);
}

/*
 * The local port for DIST(port) streams (agentq.h): the one open already,
 * else a new listener, in place of the least recently asked for when all
 * are taken.  Returns the port, or 0 (out of descriptors).
 */
static uint16_t
fwd_port(struct agent *a, uint16_t port, long now)
{
	struct sockaddr_storage ss;
	socklen_t len;
	struct fwd *f, *lru = &a->fwd[0];
	int i;

	for (i = 0; i < FWD_MAX; i++) {
		f = &a->fwd[i];
		if (f->h.fd >= 0 && f->dist_port == port) {
			f->used = now;
			return f->local_port;
		}
		if (f->h.fd < 0 ? lru->h.fd >= 0 : lru->h.fd >= 0 &&
		    f->used < lru->used)
			lru = f;
	}
	if (lru->h.fd >= 0) {
		watch(a, &lru->h, 0);
		close(lru->h.fd);
		lru->h.fd = -1;
	}
	len = sock_loopback(&ss, 0);
	if ((lru->h.fd = sock_listen((struct sockaddr *)&ss, len,
	    SOMAXCONN)) < 0)
		return 0;
	if (getsockname(lru->h.fd, (struct sockaddr *)&ss, &len) != 0) {
		close(lru->h.fd);
		lru->h.fd = -1;
		return 0;
	}
	lru->dist_port = port;
	lru->local_port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	lru->used = now;
	if (a->accept_resume == 0)
		watch(a, &lru->h, EP_IN);
	return lru->local_port;
}

/* p's client asked for the port of DIST(port): answer, and done with it. */
static void
pending_agentq(struct agent *a, struct pending *p, uint16_t port)
{
	uint8_t ans[AGENTQ_LEN];
	uint16_t local = fwd_port(a, port, tio_now_ms());

	agentq_answer(ans, local != 0 ? AGENTQ_OK : AGENTQ_REFUSED, local);
	/* A fresh socket's buffer takes seven bytes. */
	(void)sock_send(p->h.fd, ans, sizeof(ans));
	pending_free(a, p, 0);
}

/*
 * Read what p's client sent so far: a preamble (the stream is opened in
 * pending_serve()), or the agent's own request (answered now).  Bad
 * bytes end it.
 */
static void
pending_read(struct agent *a, struct pending *p)
{
	ssize_t n;
	uint16_t port;
	int k;

	if (p->inlen == sizeof(p->in)) {
		watch(a, &p->h, 0);	/* enough to open the stream with */
		return;
	}
	n = sock_recv(p->h.fd, p->in + p->inlen, sizeof(p->in) - p->inlen);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
		pending_free(a, p, 0);
		return;
	}
	if (n < 0)
		return;
	p->inlen += (size_t)n;
	if (p->framelen == 0) {
		if ((k = agentq_decode(p->in, p->inlen, &port)) > 0) {
			pending_agentq(a, p, port);
			return;
		}
		if (k == 0)
			return;		/* "EFW": not yet told apart */
		k = frame_decode(p->in, p->inlen, FRAME_REQ_BODY_MAX, &p->f);
		if (k < 0 || (k > 0 && p->f.tag == FRAME_TAG_CARRIER)) {
			pending_free(a, p, 0);
			return;
		}
		p->framelen = (size_t)k;
	}
}

/* Hand every complete pending connection to the carrier; expire the rest. */
static void
pending_serve(struct agent *a, long now)
{
	struct pending *p, *next;
	uint32_t id;

	for (p = TAILQ_FIRST(&a->pending); p != NULL; p = next) {
		next = TAILQ_NEXT(p, entry);
		if (p->framelen > 0 && a->up && a->m != NULL) {
			watch(a, &p->h, 0);
			id = mux_open(a->m, p->h.fd, p->f.tag, p->f.port,
			    p->in + p->framelen, p->inlen - p->framelen);
			if (id != 0)
				p->h.fd = -1;	/* the mux's now */
			pending_free(a, p, id == 0);
			continue;
		}
		if (now >= p->deadline)
			pending_free(a, p, 1);	/* the tunnel is down */
	}
	if (a->npending < PENDING_MAX / 2)
		a->pending_full = 0;	/* said again when it fills again */
}

/*
 * Whether the local connection on fd comes from this user: its socket's
 * owner (procnet.h).  Where the kernel cannot tell, there is no verdict
 * and it is served.
 */
static int
peer_is_ours(struct agent *a, int fd)
{
	uid_t uid;

	if (procnet_peer_uid(fd, &uid) != 0)
		return 1;
	if (uid == getuid())
		return 1;
	if (!a->said_foreign)
		safe_line(stderr, "erlfwd: refused a local connection of uid "
		    "%ld: only uid %ld, this session's user, may use it",
		    (long)uid, (long)getuid());
	a->said_foreign = 1;
	return 0;
}

/* Watch every listener for connections, or none (0). */
static void
listeners_watch(struct agent *a, uint32_t events)
{
	int i;

	watch(a, &a->hl, events);
	for (i = 0; i < FWD_MAX; i++)
		watch(a, &a->fwd[i].h, events);
}

/*
 * Take the connections waiting on h: the agent's own port (a preamble
 * comes first), or f's (DIST(f->dist_port), as if that preamble had come).
 */
static void
on_accept(struct agent *a, struct ahandle *h, struct fwd *f)
{
	struct pending *p;
	int fd, i, k;

	for (i = 0; i < 64; i++) {
		fd = plat_accept(h->fd);
		if (fd < 0) {
			/* The connection stays in the backlog and the listener
			 * readable: watched, it would wake us in a loop. */
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				listeners_watch(a, 0);
				a->accept_resume = tio_now_ms() + ACCEPT_PAUSE_MS;
			}
			return;
		}
		/* Another user's process gets nothing: no INFO, no
		 * handshake with the node, no place in the queue. */
		if (!peer_is_ours(a, fd)) {
			sock_reset(fd);
			continue;
		}
		if (a->npending >= PENDING_MAX) {
			if (!a->pending_full)
				safe_line(stderr, "erlfwd: %d local connections "
				    "wait for the tunnel: refusing more until "
				    "they are served", PENDING_MAX);
			a->pending_full = 1;
			sock_reset(fd);
			continue;
		}
		if ((p = calloc(1, sizeof(*p))) == NULL) {
			close(fd);
			continue;
		}
		p->h.kind = H_PENDING;
		p->h.fd = fd;
		p->deadline = tio_now_ms() + a->o->timeout_ms;
		sock_nodelay(fd);
		TAILQ_INSERT_TAIL(&a->pending, p, entry);
		a->npending++;
		if (f != NULL) {
			/* The preamble the preload would have sent. */
			k = frame_encode(p->in, sizeof(p->in), FRAME_TAG_DIST,
			    f->dist_port, NULL, 0);
			if (k <= 0 || frame_decode(p->in, (size_t)k,
			    FRAME_REQ_BODY_MAX, &p->f) != k) {
				pending_free(a, p, 1);
				continue;
			}
			p->inlen = p->framelen = (size_t)k;
		}
		watch(a, &p->h, EP_IN);
		pending_read(a, p);
	}
}

/* ---- the loop ----------------------------------------------------------- */

static int
next_wait(struct agent *a, long now)
{
	struct pending *p;
	long t = -1;

#define SOONER(x) do { long x_ = (x) - now; if (x_ < 0) x_ = 0; \
	if (t < 0 || x_ < t) t = x_; } while (0)
	if (a->m != NULL) {
		int mt = mux_timeout(a->m, now);

		if (mt >= 0)
			SOONER(now + mt);
		if (a->start_deadline != 0)
			SOONER(a->start_deadline);
	} else if (a->retry_at != 0)
		SOONER(a->retry_at);
	TAILQ_FOREACH(p, &a->pending, entry)
		SOONER(p->deadline);
	if (a->accept_resume != 0)
		SOONER(a->accept_resume);
#undef SOONER
	return (int)t;
}

static void
loop(struct agent *a)
{
	struct ep_event evs[EVENTS_MAX];
	struct ahandle *h;
	enum mux_state st;
	long now;
	int n, i;

	carrier_start(a);
	while (!a->quit) {
		now = tio_now_ms();
		if (a->m == NULL && a->retry_at != 0 && now >= a->retry_at)
			carrier_start(a);
		if (a->m != NULL) {
			st = mux_run(a->m, now);
			if (st == MUX_STARTING && a->start_deadline != 0 &&
			    now >= a->start_deadline) {
				mux_end(a->m, MUX_END_NO_ANSWER, -1,
				    "erlfwd-server did not answer in time");
				st = mux_run(a->m, now);
			}
			if (st == MUX_OPEN && !a->up)
				carrier_up(a);
			else if (st == MUX_ENDED)
				carrier_lost(a, mux_end_cause(a->m),
				    mux_why(a->m), mux_not_carrier(a->m));
		}
		if (a->quit)
			break;
		pending_serve(a, now);
		if (a->accept_resume != 0 && now >= a->accept_resume) {
			a->accept_resume = 0;
			listeners_watch(a, EP_IN);
		}
		n = ep_wait(a->ep, evs, EVENTS_MAX, next_wait(a, now));
		for (i = 0; i < n; i++) {
			h = evs[i].ptr;
			switch (h->kind) {
			case H_LISTEN:
				on_accept(a, h, NULL);
				break;
			case H_FWD:
				on_accept(a, h, (struct fwd *)h);
				break;
			case H_PENDING:
				pending_read(a, (struct pending *)h);
				break;
			case H_ERR:
				if (transport_read_err(&a->t) != 0) {
					watch(a, &a->he, 0);
					a->he.fd = -1;
				}
				break;
			case H_SIG:
				if (plat_sigfd_read(a->hs.fd) > 0) {
					a->quit = 1;
					a->status = CLI_OK;
				}
				break;
			case H_MUX:
				break;	/* mux_run() at the top */
			}
		}
	}
}

/* Set up the listener, the ep set and the signals; 0 or -1 with why. */
static int
agent_init(struct agent *a, const struct agent_opts *o, char *why,
    size_t cap)
{
	struct sockaddr_storage ss;
	socklen_t len;
	sigset_t mask;

	memset(a, 0, sizeof(*a));
	/* The agent needs no cookie, and the --via command it starts (ssh,
	 * heroku, kubectl: someone else's program) must not be handed one. */
	(void)unsetenv("ERLFWD_COOKIE");
	a->o = o;
	a->report_fd = -1;
	transport_init(&a->t, o->route, o->via, o->debug);
	a->hl.kind = H_LISTEN;
	a->hm.kind = H_MUX;
	a->he.kind = H_ERR;
	a->hs.kind = H_SIG;
	a->hl.fd = a->hm.fd = a->he.fd = a->hs.fd = -1;
	for (int i = 0; i < FWD_MAX; i++) {
		a->fwd[i].h.kind = H_FWD;
		a->fwd[i].h.fd = -1;
	}
	a->backoff_s = 1;
	a->status = CLI_LOCAL;
	TAILQ_INIT(&a->pending);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	if ((a->ep = ep_create()) < 0 || (a->hs.fd = plat_sigfd(&mask)) < 0) {
		snprintf(why, cap, "cannot start the agent: %s",
		    strerror(errno));
		return -1;
	}
	len = sock_loopback(&ss, 0);
	/*
	 * A connect completes in the kernel before we accept it: a burst
	 * (or a program racing ahead while this one waits for a CPU) fills a
	 * short backlog, and each SYN dropped then costs its client a 1 s
	 * retransmit.  The server listens with SOMAXCONN for the same reason.
	 */
	if ((a->hl.fd = sock_listen((struct sockaddr *)&ss, len,
	    SOMAXCONN)) < 0 ||
	    getsockname(a->hl.fd, (struct sockaddr *)&ss, &len) != 0) {
		snprintf(why, cap, "cannot listen on 127.0.0.1: %s",
		    strerror(errno));
		return -1;
	}
	a->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	watch(a, &a->hl, EP_IN);
	watch(a, &a->hs, EP_IN);
	return 0;
}

static void
agent_fini(struct agent *a)
{
	while (!TAILQ_EMPTY(&a->pending))
		pending_free(a, TAILQ_FIRST(&a->pending), 0);
	carrier_leave(a);
	(void)carrier_close(a);
	if (a->hl.fd >= 0)
		close(a->hl.fd);
	for (int i = 0; i < FWD_MAX; i++)
		if (a->fwd[i].h.fd >= 0)
			close(a->fwd[i].h.fd);
	plat_sigfd_close(a->hs.fd);
	if (a->ep >= 0)
		ep_close(a->ep);
}

int
agent_run(const struct agent_opts *o)
{
	struct agent a;
	char why[300];

	if (agent_init(&a, o, why, sizeof(why)) != 0) {
		cli_msg("%s", why);
		agent_fini(&a);
		return CLI_LOCAL;
	}
	a.foreground = 1;
	loop(&a);
	agent_fini(&a);
	return a.status;
}

/* The agent's process: detached from the terminal's signals, dies with us. */
static void
agent_child(const struct agent_opts *o, int report_fd, pid_t parent)
{
	struct agent a;
	char why[300];
	int null;

	(void)setpgid(0, 0);
	if (plat_die_with_parent(parent) != 0)
		_exit(0);
	/* Only the report pipe and stderr: the terminal is the shell's. */
	if ((null = open("/dev/null", O_RDWR | O_CLOEXEC)) >= 0) {
		(void)dup2(null, 0);
		(void)dup2(null, 1);
		close(null);
	}
	if (dup2(report_fd, 3) < 0)
		_exit(CLI_LOCAL);
	plat_close_from(4);
	(void)fcntl(3, F_SETFD, FD_CLOEXEC);
	if (agent_init(&a, o, why, sizeof(why)) != 0) {
		dprintf(3, "FAIL %d %s %s", CLI_LOCAL,
		    mux_end_name(MUX_END_NONE), why);
		_exit(CLI_LOCAL);
	}
	a.report_fd = 3;
	loop(&a);
	agent_fini(&a);
	_exit(a.status);
}

enum agent_result
agent_start(const struct agent_opts *o, uint16_t *port, pid_t *pid,
    char *err, size_t errlen, int *status, enum mux_end_cause *cause)
{
	char line[600], name[32];
	size_t len = 0;
	ssize_t n;
	int p[2], ws, code, off = 0;
	unsigned v;
	pid_t child;

	*status = CLI_LOCAL;
	*cause = MUX_END_NONE;
	if (plat_pipe(p) != 0) {
		snprintf(err, errlen, "cannot start the agent: %s",
		    strerror(errno));
		return AGENT_FAILED;
	}
	fflush(NULL);
	if ((child = fork()) < 0) {
		snprintf(err, errlen, "cannot start the agent: %s",
		    strerror(errno));
		close(p[0]);
		close(p[1]);
		return AGENT_FAILED;
	}
	if (child == 0) {
		close(p[0]);
		agent_child(o, p[1], getppid());
	}
	close(p[1]);
	while (len < sizeof(line) - 1 &&
	    (n = read(p[0], line + len, sizeof(line) - 1 - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		len += (size_t)n;
	}
	close(p[0]);
	line[len] = '\0';
	if (sscanf(line, "UP %u", &v) == 1 && v > 0 && v < 65536) {
		*port = (uint16_t)v;
		*pid = child;
		return AGENT_UP;
	}
	(void)waitpid(child, &ws, 0);
	if (strcmp(line, "V1") == 0 || strcmp(line, "V1 answered") == 0) {
		*status = line[2] != '\0';	/* the route took the connection */
		return AGENT_V1;
	}
	if (sscanf(line, "FAIL %d %31s %n", &code, name, &off) == 2 &&
	    off > 0) {
		*status = code;
		*cause = mux_end_parse(name);
		snprintf(err, errlen, "%s", line + off);
	} else
		snprintf(err, errlen, "the agent ended before its carrier "
		    "was up");
	return AGENT_FAILED;
}
