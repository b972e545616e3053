/*
 * agent.c: the client end of a carrier, for the erlfwd command (agent.h).
 *
 * One thread, one ep set: the listener, the connections waiting for
 * their preamble or for the carrier, the mux's own descriptor, the
 * transport's diagnostics (the --via command's stderr) and the signals'
 * descriptor (plat_sigfd()).  Here: the loop, and the carrier's life
 * (dialing, its first frames, losing it, reconnecting with backoff).  How
 * its bytes travel is the transport's (transport.h: TCP, SOCKS5, a
 * command's pipes); the local side is local.c's; the process and its
 * report to its parent are agent_proc.c's.
 */
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "carrier.h"
#include "cli.h"
#include "ep.h"
#include "frame.h"
#include "mux.h"
#include "plat.h"
#include "safe.h"
#include "sock.h"
#include "tio.h"
#include "transport.h"

#include "agent_int.h"

void
agent_watch(struct agent *a, struct ahandle *h, uint32_t events)
{
	ep_watch(a->ep, h->fd, &h->events, events, h);
}

/* ---- reporting ---------------------------------------------------------- */

/*
 * Tell the parent (or, in the foreground, the user) how the first carrier
 * went: "UP PORT", "V1" or "FAIL STATUS CAUSE MESSAGE" (CAUSE as
 * mux_end_name() spells it).
 */
void
agent_report(struct agent *a, const char *fmt, ...)
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
		agent_report(a, "FAIL %d %s %s", status, mux_end_name(cause), why);
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
		agent_watch(a, &a->hm, 0);
		mux_free(a->m);
		a->m = NULL;
	}
	/* No session left to resume: the next carrier is a new one, and its
	 * command's words are shown again. */
	a->detached = a->resuming = 0;
	a->t.quiet = 0;
	a->t.quieted[0] = '\0';
	agent_watch(a, &a->he, 0);
	a->he.fd = -1;
	return transport_stop(&a->t);
}

/*
 * Leave a carrier that is up: GOAWAY and our FIN, then the mux's drain (a
 * second at most) until the server's FIN.  The GOAWAY says the session is
 * over: without it the server (or a --stdio's keeper) would keep it for
 * its resume window, as it keeps a session whose carrier was lost.  And on
 * a socket, nothing is left unread when it closes: a close with unread
 * bytes (a late PONG, WINDOW or FIN frame) is a TCP reset, and one reset
 * from a local client ends `heroku ps:forward`.
 */
static void
carrier_leave(struct agent *a)
{
	struct ep_event ev;
	long now;
	int t;

	if (a->m == NULL || !a->up)
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
		agent_watch(a, &a->he, EP_IN);
	}
	return 0;
}

/*
 * Start a carrier: connect, then let the mux exchange the CARRIER frames;
 * a session kept from a lost carrier is resumed on it.
 */
static void
carrier_start(struct agent *a)
{
	uint8_t hello[FRAME_HDR_LEN + CARRIER_HELLO_MAX];
	struct mux_opts mo = { 0 };
	struct mux_stats st;
	char why[300];
	int n, start_ms;

	a->retry_at = 0;
	if (carrier_dial(a, why, sizeof(why)) != 0)
		goto fail;
	if (a->detached) {
		mux_stats(a->m, &st);
		a->resumes0 = st.resumes;
		a->gone0 = st.sessions_gone;
		a->lost0 = st.streams_lost;
		if (mux_attach(a->m, a->t.rfd, a->t.wfd, tio_now_ms()) != 0) {
			snprintf(why, sizeof(why), "cannot resume: %s",
			    strerror(errno));
			(void)transport_stop(&a->t);
			goto fail;
		}
		a->detached = 0;
		a->resuming = 1;
		goto started;
	}
	/* It asks for resume: a server that can keep the session offers. */
	n = carrier_hello(hello, sizeof(hello), ERLFWD_VERSION, 0, 1);
	mo.role = MUX_CLIENT;
	mo.rfd = a->t.rfd;
	mo.wfd = a->t.wfd;
	mo.expect_hello = 1;
	mo.hello = hello;
	mo.hello_len = n > 0 ? (size_t)n : 0;
	mo.ping_ms = a->o->ping_ms;
	mo.busy_ping_ms = a->o->busy_ping_ms;
	mo.dead_pings = a->o->dead_pings;
	mo.resume = 1;
	if ((a->m = mux_new(&mo, NULL, a, tio_now_ms())) == NULL) {
		snprintf(why, sizeof(why), "cannot start a carrier: %s",
		    strerror(errno));
		goto fail;
	}
	a->hm.fd = mux_fd(a->m);
	agent_watch(a, &a->hm, EP_IN);
started:
	start_ms = a->o->timeout_ms;
	if (a->o->via != NULL && start_ms < AGENT_VIA_START_MS)
		start_ms = AGENT_VIA_START_MS;
	a->start_deadline = tio_now_ms() + start_ms;
	return;
fail:
	if (!a->detached)
		(void)carrier_close(a);
	if (!a->ever_up) {
		/* A forward with nothing behind it yet: the caller's version 1
		 * path says so in its own words, or works once it is up. */
		if (a->o->via == NULL && a->o->route->kind == ROUTE_ERLFWD) {
			agent_report(a, "V1");
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
	/* A session waiting to be resumed is tried every 2 s at most: the
	 * nodes give up on each other after net_ticktime. */
	if ((a->backoff_s *= 2) > (a->detached ? AGENT_RESUME_BACKOFF_S :
	    AGENT_BACKOFF_MAX_S))
		a->backoff_s = a->detached ? AGENT_RESUME_BACKOFF_S :
		    AGENT_BACKOFF_MAX_S;
}

/*
 * The carrier was lost without a goodbye and the mux keeps the session:
 * its connections stay open, their bytes wait, and a new carrier is tried
 * at once, then with the usual backoff.
 */
static void
carrier_detached(struct agent *a)
{
	long now = tio_now_ms();

	a->detached = 1;
	agent_watch(a, &a->he, 0);
	a->he.fd = -1;
	(void)transport_stop(&a->t);
	/* The tries that follow say nothing (a line each 2 s in the user's
	 * shell); the last thing a failed one said is kept for the end. */
	a->t.quiet = 1;
	a->start_deadline = 0;
	if (a->up) {
		safe_line(stderr, "erlfwd: tunnel lost (%s), resuming",
		    mux_why(a->m));
		a->lost_at = now;
		a->up = 0;
		a->backoff_s = 1;
		a->retry_at = now;	/* at once: it may be back already */
		return;
	}
	/* A carrier that failed before it resumed the session. */
	a->retry_at = now + a->backoff_s * 1000L;
	if ((a->backoff_s *= 2) > AGENT_RESUME_BACKOFF_S)
		a->backoff_s = AGENT_RESUME_BACKOFF_S;
}

/*
 * A session kept past its window: its connections end; the next carrier
 * starts afresh.
 */
static void
carrier_expired(struct agent *a)
{
	struct mux_stats st;

	mux_stats(a->m, &st);
	safe_line(stderr, "erlfwd: tunnel down for %ld s: the session is "
	    "gone, %zu connections ended%s%s%s", (tio_now_ms() - a->lost_at +
	    500) / 1000, st.open, a->t.quieted[0] != '\0' ? " (last: " : "",
	    a->t.quieted, a->t.quieted[0] != '\0' ? ")" : "");
	(void)carrier_close(a);
}

/*
 * Whether the carrier just made is the session's again, or the server no
 * longer had it: said in one line.  0 while its RESUME waits for an answer.
 */
static int
carrier_resumed(struct agent *a)
{
	struct mux_stats st;
	long s = (tio_now_ms() - a->lost_at + 500) / 1000;

	mux_stats(a->m, &st);
	if (st.resumes > a->resumes0)
		safe_line(stderr, "erlfwd: tunnel back after %ld s, nothing "
		    "lost", s);
	else if (st.sessions_gone > a->gone0)
		safe_line(stderr, "erlfwd: tunnel back after %ld s; the "
		    "session was gone: %llu connections ended", s,
		    (unsigned long long)(st.streams_lost - a->lost0));
	else
		return 0;
	return 1;
}

/* The carrier is up: the first time, tell the parent; later, the user. */
static void
carrier_up(struct agent *a)
{
	if (a->resuming) {
		if (!carrier_resumed(a))
			return;		/* RESUME not answered yet */
		a->resuming = 0;
		a->t.quiet = 0;
		a->t.quieted[0] = '\0';
	} else if (a->ever_up)
		safe_line(stderr, "erlfwd: tunnel back after %ld s",
		    (tio_now_ms() - a->lost_at + 500) / 1000);
	a->up = 1;
	a->backoff_s = 1;
	a->start_deadline = 0;
	/* As long as this server keeps a lost carrier's session, if it says. */
	a->resume_ms = mux_peer_resume_window(a->m) > 0 ?
	    mux_peer_resume_window(a->m) + AGENT_RESUME_SLACK_MS :
	    AGENT_RESUME_MS;
	if (!a->ever_up) {
		a->ever_up = 1;
		if (a->foreground) {
			printf("ERLFWD_TUNNEL=127.0.0.1:%u\n", (unsigned)a->port);
			fflush(stdout);
		} else
			agent_report(a, "UP %u", (unsigned)a->port);
	}
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
			agent_report(a, "V1 answered");
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
	}
	if ((a->m == NULL || a->detached) && a->retry_at != 0)
		SOONER(a->retry_at);
	if (a->detached)
		SOONER(a->lost_at + a->resume_ms);
	TAILQ_FOREACH(p, &a->pending, entry)
		SOONER(p->deadline);
	if (a->accept_resume != 0)
		SOONER(a->accept_resume);
#undef SOONER
	return (int)t;
}

void
agent_loop(struct agent *a)
{
	struct ep_event evs[EVENTS_MAX];
	struct ahandle *h;
	enum mux_state st;
	long now;
	int n, i;

	carrier_start(a);
	while (!a->quit) {
		now = tio_now_ms();
		if (a->detached && now - a->lost_at >= a->resume_ms)
			carrier_expired(a);
		if ((a->m == NULL || a->detached) && a->retry_at != 0 &&
		    now >= a->retry_at)
			carrier_start(a);
		if (a->m != NULL) {
			st = mux_run(a->m, now);
			if (st == MUX_STARTING && a->start_deadline != 0 &&
			    now >= a->start_deadline) {
				/* A session being resumed waits for another
				 * carrier; a new one gives up. */
				if (a->resuming)
					mux_drop(a->m, "erlfwd-server did not "
					    "answer in time");
				else
					mux_end(a->m, MUX_END_NO_ANSWER, -1,
					    "erlfwd-server did not answer in "
					    "time");
				st = mux_run(a->m, now);
			}
			if (st == MUX_OPEN && !a->up)
				carrier_up(a);
			else if (st == MUX_DETACHED && !a->detached)
				carrier_detached(a);
			else if (st == MUX_ENDED)
				carrier_lost(a, mux_end_cause(a->m),
				    mux_why(a->m), mux_not_carrier(a->m));
		}
		if (a->quit)
			break;
		local_serve(a, now);
		if (a->accept_resume != 0 && now >= a->accept_resume) {
			a->accept_resume = 0;
			local_watch(a, EP_IN);
		}
		n = ep_wait(a->ep, evs, EVENTS_MAX, next_wait(a, now));
		for (i = 0; i < n; i++) {
			h = evs[i].ptr;
			switch (h->kind) {
			case H_LISTEN:
				local_accept(a, h, NULL);
				break;
			case H_FWD:
				local_accept(a, h, (struct fwd *)h);
				break;
			case H_PENDING:
				local_read(a, (struct pending *)h);
				break;
			case H_ERR:
				if (transport_read_err(&a->t) != 0) {
					agent_watch(a, &a->he, 0);
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
int
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
	a->resume_ms = AGENT_RESUME_MS;
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
	agent_watch(a, &a->hl, EP_IN);
	agent_watch(a, &a->hs, EP_IN);
	return 0;
}

void
agent_fini(struct agent *a)
{
	while (!TAILQ_EMPTY(&a->pending))
		local_free(a, TAILQ_FIRST(&a->pending), 0);
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

