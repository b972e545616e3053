/*
 * server.c: erlfwd-server's connection state machine and policy
 * (server.h, server_int.h).
 *
 * A connection lives in one of these states:
 *
 *   PREAMBLE  reading the client's frame (and, for EPMD, its one request)
 *   EPMD      one exchange with the host's epmd: the client's lookup, or our
 *             NAMES request to check a DIST port or to answer INFO
 *   GATE      a DIST stream to a node's port: its name message alone goes
 *             to the port, and nothing more either way until the port has
 *             answered with a node's status message (distname.h); what
 *             else came is relayed after it
 *   CONNECT   a carrier's stream to an --allow-port port: waiting for the
 *             connect, then handed to the carrier (below)
 *   RELAY     moving bytes both ways (relay.c); for an --allow-port port
 *             from the moment the connect starts: bytes for it wait in the
 *             relay until it is up, and a failed connect ends the
 *             connection
 *   REPLY     writing epmd's reply or the INFO frame to the client
 *   DRAIN     reply sent and write side shut: wait for the client to close
 *
 * Every state but RELAY is bounded by the setup deadline, counted from
 * accept.  The timeout is the same for every connection, so the connections
 * in setup form a queue ordered by deadline and the loop only looks at its
 * head.  A relay is bounded by its quiet time: the relays form two queues
 * ordered by their last byte moved, one for the open ones (closed after the
 * idle limit) and one for the half-closed ones (closed after the linger), so
 * that a side that left cannot hold two descriptors forever.
 *
 * Every refusal is one line of text ("erlfwd-server: denied: not-dist"),
 * then a FIN once the client has closed its side or the setup deadline
 * passed, never a reset: a reset on one forwarded connection ends a whole
 * `kubectl port-forward` (1.23 and later).  Only a reset from a node is
 * carried as a reset.
 *
 * Each connection has two sides: the client, who connected to us, and the
 * upstream, the socket we open to the host's epmd or to a node's port.
 *
 * The loop, the listener and the queues are daemon.c's; the carriers whose
 * streams become connections here are carrier_host.c's.  A carrier's stream
 * never reaches RELAY: where a version 1 connection would start relaying,
 * its upstream socket goes to the carrier's mux (host_stream_direct()), so
 * that its bytes take no second hop through a socketpair and this relay.
 */
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "distname.h"
#include "ep.h"
#include "epmd.h"
#include "frame.h"
#include "frame_info.h"
#include "logfmt.h"
#include "mux.h"
#include "policy.h"
#include "procnet.h"
#include "relay.h"
#include "server.h"
#include "sock.h"
#include "tio.h"

#include "server_int.h"

/* Make the ep set watch h for events (0: not at all). */
void
server_watch(struct server *s, struct handle *h, uint32_t events)
{
	daemon_watch(&s->dmn, h->fd, &h->events, events, h);
}

static const char *
tag_text(const struct conn *c)
{
	return c->framelen == 0 ? "none" : frame_tag_name(c->tag);
}

/*
 * End a connection: one log line, then close both sides (with a reset when
 * reset is set) and free everything it held.
 */
void
server_conn_end(struct server *s, struct conn *c, const char *outcome,
    const char *reason, int reset)
{
	char rq[160];
	int i;

	/* A carrier's stream: the reset travels as RESET on the carrier. */
	if (c->car != NULL && reset)
		mux_reset(c->car->m, c->stream);
	/* NULL: it lives on as a carrier.  A carrier's stream reset before
	 * it sent its peer a byte is counted on the carrier's line
	 * (reset_early), not one line each: rapid reset. */
	if (outcome != NULL && !(c->streamed && reset && c->bytes_out == 0 &&
	    strcmp(outcome, "reset") == 0))
		logfmt(strcmp(outcome, "ok") == 0 ||
		    strcmp(outcome, "closed") == 0 ? "info" : "warn", "conn",
		    "peer=%s tag=%s target=%s in=%llu out=%llu dur_ms=%ld "
		    "outcome=%s%s%s", c->peer, tag_text(c),
		    c->upstream_addr[0] != '\0' ? c->upstream_addr : "none",
		    (unsigned long long)c->bytes_in,
		    (unsigned long long)c->bytes_out,
		    tio_now_ms() - c->d.started, outcome,
		    reason != NULL ? " reason=" : "",
		    reason != NULL ? logfmt_value(reason, rq, sizeof(rq)) : "");
	for (i = 0; i < 2; i++)
		server_watch(s, &c->h[i], 0);
	if (c->state == CS_RELAY)
		relay_close(&c->relay, reset);
	else
		for (i = 0; i < 2; i++)
			if (c->h[i].fd >= 0) {
				if (reset)
					sock_reset(c->h[i].fd);
				else
					close(c->h[i].fd);
			}
	if (c->streamed)
		s->nstreamed--;
	free(c->buf);
	c->buf = NULL;
	free(c->gate);
	c->gate = NULL;
	/* Freed after the batch: later events of it may still point at c. */
	daemon_conn_end(&s->dmn, &c->d);
}

static void
close_upstream(struct server *s, struct conn *c)
{
	server_watch(s, &c->h[H_UPSTREAM], 0);
	if (c->h[H_UPSTREAM].fd >= 0)
		close(c->h[H_UPSTREAM].fd);
	c->h[H_UPSTREAM].fd = -1;
}

static int
allowed(const struct server *s, uint16_t port)
{
	size_t i;

	for (i = 0; i < s->o->nallow; i++)
		if (s->o->allow[i] == port)
			return 1;
	return 0;
}

/* Start connecting the upstream side to 127.0.0.1:port.  Returns 0 or -1. */
static int
upstream_connect(struct conn *c, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t len = sock_loopback(&ss, port);

	sock_addr_text((struct sockaddr *)&ss, c->upstream_addr,
	    sizeof(c->upstream_addr));
	return (c->h[H_UPSTREAM].fd = sock_connect((struct sockaddr *)&ss,
	    len)) < 0 ? -1 : 0;
}

/* Queue len bytes of buf (owned now by c) for the client, then close. */
static void
reply(struct server *s, struct conn *c, uint8_t *buf, size_t len)
{
	if (c->buf != buf)
		free(c->buf);
	c->buf = buf;
	c->buflen = len;
	c->bufoff = 0;
	c->state = CS_REPLY;
	server_watch(s, &c->h[H_CLIENT], EP_OUT);
}

/*
 * Refuse c: one line saying why ("erlfwd-server: denied: not-dist"), then
 * the client's side is shut and its bytes drained until it closes (or the
 * setup deadline passes), so that the connection ends with a FIN, never a
 * reset.  The connection's log line, written then, carries outcome and
 * reason.
 */
static void
refuse(struct server *s, struct conn *c, const char *outcome,
    const char *reason)
{
	uint8_t *line;
	int n;

	close_upstream(s, c);
	c->end_outcome = outcome;
	snprintf(c->end_reason, sizeof(c->end_reason), "%s", reason);
	if ((line = malloc(128)) == NULL) {
		server_conn_end(s, c, outcome, reason, 0);
		return;
	}
	n = snprintf((char *)line, 128, "erlfwd-server: %s: %s\n", outcome,
	    reason);
	reply(s, c, line, n < 128 ? (size_t)n : 127);
}

static void
start_relay(struct server *s, struct conn *c)
{
	int rc, rd, wr, i;

	c->state = CS_RELAY;
	/* From now on bounded by its quiet time. */
	daemon_setup_done(&s->dmn, &c->d);
	daemon_relay_queue(&s->dmn, &c->d, DAEMON_RQ_IDLE);
	relay_init(&c->relay, c->h[H_CLIENT].fd, c->h[H_UPSTREAM].fd);
	rc = relay_prime(&c->relay, RELAY_C2U, c->in + c->framelen,
	    c->inlen - c->framelen);
	if (rc != RELAY_OPEN) {
		server_conn_end(s, c, "error", "early bytes", 1);
		return;
	}
	for (i = 0; i < 2; i++) {
		relay_wants(&c->relay, i, &rd, &wr);
		server_watch(s, &c->h[i], (rd ? EP_IN : 0) | (wr ? EP_OUT : 0));
	}
}

static void
start_epmd(struct server *s, struct conn *c, const uint8_t *req, size_t len)
{
	char why[64];

	c->req = req;
	c->reqlen = len;
	c->reqsent = 0;
	c->state = CS_EPMD;
	server_watch(s, &c->h[H_CLIENT], 0);
	if (upstream_connect(c, s->o->epmd_port) != 0) {
		snprintf(why, sizeof(why), "epmd: %s", strerror(errno));
		server_conn_end(s, c, "error", why, 0);
		return;
	}
	server_watch(s, &c->h[H_UPSTREAM], EP_OUT);
}

static void
start_node(struct server *s, struct conn *c)
{
	char why[64];

	if (upstream_connect(c, c->port) != 0) {
		snprintf(why, sizeof(why), "connect: %s", strerror(errno));
		server_conn_end(s, c, "error", why, 0);
		return;
	}
	/* A carrier's stream goes to the mux once connected: what the client
	 * sends meanwhile waits in the pair (the carrier's window bounds
	 * it). */
	if (c->car != NULL) {
		c->state = CS_CONNECT;
		server_watch(s, &c->h[H_CLIENT], 0);
		server_watch(s, &c->h[H_UPSTREAM], EP_OUT);
		return;
	}
	/* Relay at once rather than wait a wake-up for the loopback connect:
	 * what the client sent waits in the relay until the port is up. */
	c->connecting = 1;
	start_relay(s, c);
}

/* CONNECT: the --allow-port port is up, or not. */
static void
on_connect(struct server *s, struct conn *c)
{
	char why[64];
	int err;

	if ((err = sock_connect_result(c->h[H_UPSTREAM].fd)) != 0) {
		snprintf(why, sizeof(why), "connect: %s", strerror(err));
		server_conn_end(s, c, "error", why, 0);
		return;
	}
	if (host_stream_direct(s, c, NULL, 0) != 0)
		server_conn_end(s, c, "error", "cannot hand the stream to "
		    "its carrier", 1);
}

/*
 * A DIST stream to a port epmd lists: connect, send the name message (the
 * rest of it read from the client first, never a byte more), and hold
 * everything else until the port answers like a node (on_gate).
 */
static void
start_gate(struct server *s, struct conn *c)
{
	const uint8_t *msg = c->in + c->framelen;
	size_t have = c->inlen - c->framelen;
	char why[64];

	c->gate_need = distname_len(msg);
	if ((c->gate = malloc(c->gate_need + DISTNAME_STATUS_MAX)) == NULL) {
		server_conn_end(s, c, "error", "out of memory", 0);
		return;
	}
	c->gate_have = have < c->gate_need ? have : c->gate_need;
	memcpy(c->gate, msg, c->gate_have);
	/* Early bytes behind the name message stay in c->in for the relay. */
	c->framelen += c->gate_have;
	if (upstream_connect(c, c->port) != 0) {
		snprintf(why, sizeof(why), "connect: %s", strerror(errno));
		server_conn_end(s, c, "error", why, 0);
		return;
	}
	c->state = CS_GATE;
	server_watch(s, &c->h[H_CLIENT], c->gate_have < c->gate_need ? EP_IN : 0);
	server_watch(s, &c->h[H_UPSTREAM], EP_OUT);
}

/* Epmd listed lines that are not nodes' (a local process registered a name
 * with a space, a line break or a control byte): ignored, and said once. */
static void
odd_names(struct server *s, size_t odd)
{
	if (odd == 0 || s->odd_logged)
		return;
	s->odd_logged = 1;
	logfmt("warn", "odd-epmd-names", "count=%zu action=ignored "
	    "note=\"names with a space or a control byte are no nodes'; "
	    "logged once\"", odd);
}

/*
 * Whose listener is on port (procnet.h), remembered for OWNER_TTL_MS: the
 * tables are read in the event loop, and a node's connections come in
 * bursts to the same port.
 */
static int
port_owner(struct server *s, uint16_t port)
{
	long now = tio_now_ms();
	size_t i, oldest = 0;

	for (i = 0; i < OWNER_CACHE; i++) {
		if (s->owners[i].port == port &&
		    now - s->owners[i].at < OWNER_TTL_MS)
			return s->owners[i].verdict;
		if (s->owners[i].at < s->owners[oldest].at)
			oldest = i;
	}
	s->owners[oldest].port = port;
	s->owners[oldest].at = now;
	s->owners[oldest].verdict = procnet_port_owner("/proc/net", port,
	    s->uid);
	return s->owners[oldest].verdict;
}

/* The policy for a DIST stream to c's port, once epmd lists it (policy.h). */
static const char *
dist_policy(struct server *s, const struct conn *c)
{
	/* The owner is asked last and only when it matters: it reads
	 * /proc/net, and the cheap refusals come first. */
	if (c->port == s->own_port || c->port == s->o->epmd_port)
		return policy_dist(c->port, s->own_port, s->o->epmd_port,
		    PROCNET_UNKNOWN);
	return policy_dist(c->port, s->own_port, s->o->epmd_port,
	    port_owner(s, c->port));
}

/* Build and queue the INFO reply from epmd's NAMES text (NULL: epmd down). */
static void
answer_info(struct server *s, struct conn *c, const char *names, size_t len)
{
	struct frame_info *fi;
	char body[FRAME_INFO_BODY_MAX];
	uint8_t *out = NULL;
	size_t odd;
	int n;

	if ((fi = malloc(sizeof(*fi))) == NULL)
		goto nomem;
	odd = policy_info(fi, ERLFWD_VERSION, s->hostname, s->o->epmd_port,
	    names, len);
	odd_names(s, odd);
	n = frame_info_format(body, sizeof(body), fi);
	free(fi);
	if (n < 0) {
		server_conn_end(s, c, "error", "info too large", 0);
		return;
	}
	if ((out = malloc(FRAME_HDR_LEN + (size_t)n)) == NULL)
		goto nomem;
	n = frame_encode(out, FRAME_HDR_LEN + (size_t)n, FRAME_TAG_INFO, 0, body,
	    (size_t)n);
	reply(s, c, out, (size_t)n);
	return;
nomem:
	server_conn_end(s, c, "error", "out of memory", 0);
}

/* The epmd exchange ended: ok says whether epmd answered in full. */
/*
 * A DIST port that epmd's NAMES lists: ask epmd, by the name it lists
 * there, for that name's port, and go on only when it is the same.  Any
 * local process may register any bytes as a name, and a name such as "x at
 * port P\nname y" reads as a line of its own that lists P: epmd knows no
 * node "x".
 */
static void
dist_verify(struct server *s, struct conn *c, const char *text,
    size_t textlen)
{
	char name[256];
	size_t n = 0;
	int found;

	found = epmd_names_port_name(text, textlen, c->port, name,
	    sizeof(name));
	free(c->buf);
	c->buf = NULL;
	c->buflen = c->bufcap = 0;
	if (found < 0) {
		refuse(s, c, "denied", "name-mismatch");	/* two on one port */
		return;
	}
	if (found == 0 || (n = epmd_port_please_request(c->vreq,
	    sizeof(c->vreq), name)) == 0) {
		refuse(s, c, "denied", "name-mismatch");
		return;
	}
	c->verify = 1;
	start_epmd(s, c, c->vreq, n);
}

/* epmd's answer for the name listed on the DIST port: the same port? */
static void
dist_verified(struct server *s, struct conn *c, int ok)
{
	const char *deny;
	uint16_t port = 0;
	int v = ok ? epmd_port2_parse(c->buf, c->buflen, &port) : -1;

	free(c->buf);
	c->buf = NULL;
	c->buflen = c->bufcap = 0;
	if (!ok) {
		refuse(s, c, "denied", "epmd unreachable, port unverified");
		return;
	}
	if (v != 1 || port != c->port) {
		refuse(s, c, "denied", "name-mismatch");
		return;
	}
	if ((deny = dist_policy(s, c)) != NULL) {
		refuse(s, c, "denied", deny);
		return;
	}
	start_gate(s, c);
}

static void
epmd_done(struct server *s, struct conn *c, int ok)
{
	char why[80];
	size_t textlen, odd = 0;
	const char *text;

	close_upstream(s, c);
	text = epmd_names_text(c->buf, c->buflen, &textlen);
	switch (c->tag) {
	case FRAME_TAG_EPMD:
		if (!ok) {
			refuse(s, c, "error", "epmd unreachable");
			return;
		}
		/* The client sent its own epmd port in the preamble. */
		if (c->epmd_code == EPMD_NAMES_REQ)
			(void)epmd_names_set_port(c->buf, c->buflen, c->port);
		reply(s, c, c->buf, c->buflen);
		return;
	case FRAME_TAG_DIST:
		/* The epmd exchange named epmd: the log names the node's. */
		snprintf(c->upstream_addr, sizeof(c->upstream_addr),
		    "127.0.0.1:%u", (unsigned)c->port);
		if (c->verify) {
			dist_verified(s, c, ok);
			return;
		}
		if (ok && text != NULL &&
		    epmd_names_has_port(text, textlen, c->port, &odd)) {
			odd_names(s, odd);
			dist_verify(s, c, text, textlen);
			return;
		}
		odd_names(s, odd);
		snprintf(why, sizeof(why), ok ? "port %u is not a node's" :
		    "epmd unreachable, port %u unverified", (unsigned)c->port);
		refuse(s, c, "denied", why);
		return;
	default:
		answer_info(s, c, ok ? text : NULL, ok ? textlen : 0);
		return;
	}
}

/* The client's frame and (for EPMD) request are in c->in: act on them. */

static void
on_preamble(struct server *s, struct conn *c)
{
	struct frame f;
	size_t reqlen;
	int n, v;

	if (c->framelen == 0) {
		n = frame_decode(c->in, c->inlen, FRAME_REQ_BODY_MAX, &f);
		if (n < 0) {
			refuse(s, c, "rejected", frame_strerror(n));
			return;
		}
		if (n == 0)
			return;
		c->framelen = (size_t)n;
		c->tag = f.tag;
		c->port = f.port;
	}
	switch (c->tag) {
	case FRAME_TAG_EPMD:
		v = epmd_filter(c->in + c->framelen, c->inlen - c->framelen,
		    &reqlen, &c->epmd_code);
		if (v == EPMD_MORE && c->inlen == sizeof(c->in))
			v = EPMD_BAD;
		if (v == EPMD_MORE)
			return;
		if (v == EPMD_DENY) {
			char why[48];

			snprintf(why, sizeof(why), "epmd request %s refused",
			    epmd_code_name(c->in[c->framelen + 2]));
			refuse(s, c, "denied", why);
			return;
		}
		if (v == EPMD_BAD) {
			refuse(s, c, "rejected", "malformed epmd request");
			return;
		}
		start_epmd(s, c, c->in + c->framelen, reqlen);
		return;
	case FRAME_TAG_DIST:
		/* The log names the port asked for, refused or not. */
		snprintf(c->upstream_addr, sizeof(c->upstream_addr),
		    "127.0.0.1:%u", (unsigned)c->port);
		if (c->port == s->own_port) {
			refuse(s, c, "denied", "own-port");
			return;
		}
		if (allowed(s, c->port)) {
			start_node(s, c);
			return;
		}
		/* Before anything is asked or connected: the stream must
		 * open with a handshake's name message. */
		v = distname_check(c->in + c->framelen, c->inlen - c->framelen);
		if (v == DISTNAME_MORE && c->inlen < sizeof(c->in))
			return;
		if (v != DISTNAME_OK) {
			refuse(s, c, "denied", "not-dist");
			return;
		}
		start_epmd(s, c, s->names_req, sizeof(s->names_req));
		return;
	case FRAME_TAG_CARRIER:
		host_take(s, c);
		return;
	default:
		start_epmd(s, c, s->names_req, sizeof(s->names_req));
		return;
	}
}

static void
on_client(struct server *s, struct conn *c, uint32_t ev)
{
	ssize_t n;
	char drain[512];

	switch (c->state) {
	case CS_HANDOFF:
		host_handoff(s, c);
		return;
	case CS_PREAMBLE:
		n = sock_recv(c->h[H_CLIENT].fd, c->in + c->inlen,
		    sizeof(c->in) - c->inlen);
		if (n > 0) {
			c->inlen += (size_t)n;
			c->bytes_in += (uint64_t)n;
			on_preamble(s, c);
		} else if (n == 0) {
			/* Said nothing and left (a port scan, a health
			 * check): a plain close is a FIN already. */
			if (c->inlen == 0)
				server_conn_end(s, c, "rejected",
				    "closed before the preamble ended", 0);
			/* Half-closed: it may still read why. */
			else if (c->framelen > 0 && c->tag == FRAME_TAG_DIST)
				refuse(s, c, "denied", "not-dist");
			else
				refuse(s, c, "rejected", c->framelen == 0 ?
				    "closed before the preamble ended" :
				    "closed before the request ended");
		}
		else if (errno != EAGAIN && errno != EWOULDBLOCK)
			server_conn_end(s, c, "error", strerror(errno), 0);
		return;
	case CS_REPLY:
		while (c->bufoff < c->buflen) {
			n = sock_send(c->h[H_CLIENT].fd, c->buf + c->bufoff,
			    c->buflen - c->bufoff);
			if (n < 0) {
				if (errno == EAGAIN || errno == EWOULDBLOCK)
					return;
				server_conn_end(s, c, "error", strerror(errno), 0);
				return;
			}
			c->bufoff += (size_t)n;
			c->bytes_out += (uint64_t)n;
		}
		(void)shutdown(c->h[H_CLIENT].fd, SHUT_WR);
		c->state = CS_DRAIN;
		server_watch(s, &c->h[H_CLIENT], EP_IN);
		return;
	case CS_GATE:
		/* The rest of the name message, and not a byte more. */
		n = sock_recv(c->h[H_CLIENT].fd, c->gate + c->gate_have,
		    c->gate_need - c->gate_have);
		if (n > 0) {
			c->gate_have += (size_t)n;
			c->bytes_in += (uint64_t)n;
			if (c->gate_have == c->gate_need) {
				server_watch(s, &c->h[H_CLIENT], 0);
				if (c->h[H_UPSTREAM].events == 0)
					server_watch(s, &c->h[H_UPSTREAM], EP_OUT);
			}
		} else if (n == 0)
			server_conn_end(s, c, "closed", "client left during setup", 0);
		else if (errno != EAGAIN && errno != EWOULDBLOCK)
			server_conn_end(s, c, "error", strerror(errno), 0);
		return;
	case CS_DRAIN:
		/* Closing with unread bytes would reset the reply away. */
		n = sock_recv(c->h[H_CLIENT].fd, drain, sizeof(drain));
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
			server_conn_end(s, c, c->end_outcome != NULL ? c->end_outcome :
			    "ok", c->end_outcome != NULL ? c->end_reason : NULL,
			    0);
		return;
	default:
		/* EPMD: we do not read the client, so only a hangup
		 * or error wakes us. */
		if (ev & (EP_HUP | EP_ERR))
			server_conn_end(s, c, "closed", "client left during setup", 0);
		return;
	}
}

/* Epmd's side, in state EPMD: send the request, then read the reply. */
static void
on_epmd(struct server *s, struct conn *c, uint32_t ev)
{
	ssize_t n;
	size_t cap;
	uint8_t *nb;

	if (c->reqsent < c->reqlen) {
		if (!(ev & (EP_OUT | EP_ERR | EP_HUP)))
			return;
		if (c->reqsent == 0 &&
		    sock_connect_result(c->h[H_UPSTREAM].fd) != 0) {
			epmd_done(s, c, 0);
			return;
		}
		n = sock_send(c->h[H_UPSTREAM].fd, c->req + c->reqsent,
		    c->reqlen - c->reqsent);
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				epmd_done(s, c, 0);
			return;
		}
		c->reqsent += (size_t)n;
		if (c->reqsent == c->reqlen)
			server_watch(s, &c->h[H_UPSTREAM], EP_IN);
		return;
	}
	if (c->buflen == c->bufcap) {
		cap = c->bufcap == 0 ? 1024 : c->bufcap * 2;
		if (cap > EPMD_REPLY_MAX) {
			server_conn_end(s, c, "error", "epmd reply too large", 0);
			return;
		}
		if ((nb = realloc(c->buf, cap)) == NULL) {
			server_conn_end(s, c, "error", "out of memory", 0);
			return;
		}
		c->buf = nb;
		c->bufcap = cap;
	}
	n = sock_recv(c->h[H_UPSTREAM].fd, c->buf + c->buflen,
	    c->bufcap - c->buflen);
	if (n > 0)
		c->buflen += (size_t)n;
	else if (n == 0)
		epmd_done(s, c, 1);	/* epmd closes after each answer */
	else if (errno != EAGAIN && errno != EWOULDBLOCK)
		epmd_done(s, c, 0);
}

/*
 * The node's side in state GATE: the connect's result, then the name
 * message out, then its answer in.  A node's status message starts the
 * relay with what both sides sent so far; anything else is refused.
 */
static void
on_gate(struct server *s, struct conn *c, uint32_t ev)
{
	uint8_t *ans = c->gate + c->gate_need;
	char why[80];
	ssize_t n;
	int err, v, rd, wr, i;

	if (c->gate_sent == 0 && (ev & (EP_OUT | EP_ERR | EP_HUP)) &&
	    (err = sock_connect_result(c->h[H_UPSTREAM].fd)) != 0) {
		snprintf(why, sizeof(why), "connect: %s", strerror(err));
		server_conn_end(s, c, "error", why, 0);
		return;
	}
	if (c->gate_sent < c->gate_need) {
		if (c->gate_have < c->gate_need) {
			server_watch(s, &c->h[H_UPSTREAM], 0);	/* the client's turn */
			return;
		}
		n = sock_send(c->h[H_UPSTREAM].fd, c->gate + c->gate_sent,
		    c->gate_need - c->gate_sent);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n < 0) {
			snprintf(why, sizeof(why), "send: %s", strerror(errno));
			server_conn_end(s, c, "error", why, 0);
			return;
		}
		if ((c->gate_sent += (size_t)n) == c->gate_need)
			server_watch(s, &c->h[H_UPSTREAM], EP_IN);
		return;
	}
	n = sock_recv(c->h[H_UPSTREAM].fd, ans + c->gate_got,
	    DISTNAME_STATUS_MAX - c->gate_got);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	if (n > 0)
		c->gate_got += (size_t)n;
	v = distname_status(ans, c->gate_got);
	if (v == DISTNAME_MORE && n > 0 && c->gate_got < DISTNAME_STATUS_MAX)
		return;
	if (v != DISTNAME_OK) {
		/* A service that is no node, or one that left unanswered. */
		refuse(s, c, "denied", "not-beam");
		return;
	}
	if (c->car != NULL) {
		if (host_stream_direct(s, c, ans, c->gate_got) != 0)
			server_conn_end(s, c, "error", "cannot hand the stream "
			    "to its carrier", 1);
		return;
	}
	c->state = CS_RELAY;
	/* From now on bounded by its quiet time. */
	daemon_setup_done(&s->dmn, &c->d);
	daemon_relay_queue(&s->dmn, &c->d, DAEMON_RQ_IDLE);
	relay_init(&c->relay, c->h[H_CLIENT].fd, c->h[H_UPSTREAM].fd);
	c->relay.bytes[RELAY_C2U] = c->gate_need;
	if (relay_prime(&c->relay, RELAY_U2C, ans, c->gate_got) != RELAY_OPEN ||
	    relay_prime(&c->relay, RELAY_C2U, c->in + c->framelen,
	    c->inlen - c->framelen) != RELAY_OPEN) {
		server_conn_end(s, c, "error", "early bytes", 1);
		return;
	}
	free(c->gate);
	c->gate = NULL;
	for (i = 0; i < 2; i++) {
		relay_wants(&c->relay, i, &rd, &wr);
		server_watch(s, &c->h[i], (rd ? EP_IN : 0) | (wr ? EP_OUT : 0));
	}
}

/*
 * After a relay event: bytes moved make c the most recently active relay;
 * an EOF from either side moves it to the half-closed queue, whose limit is
 * the linger.
 */
static void
relay_activity(struct server *s, struct conn *c)
{
	daemon_relay_moved(&s->dmn, &c->d, c->relay.dir[RELAY_C2U].eof ||
	    c->relay.dir[RELAY_U2C].eof,
	    c->relay.bytes[RELAY_C2U] != c->bytes_in ||
	    c->relay.bytes[RELAY_U2C] != c->bytes_out);
}

static void
on_relay(struct server *s, struct conn *c, int side, uint32_t ev)
{
	int rc, rd, wr, i, err;
	char why[80];

	/*
	 * The first event on the node's side tells how its connect went.  A
	 * reset means it went well and the node then reset: carry that as a
	 * reset (reading SO_ERROR consumed it, the relay would see an EOF).
	 */
	if (c->connecting && side == H_UPSTREAM) {
		c->connecting = 0;
		if ((err = sock_connect_result(c->h[H_UPSTREAM].fd)) != 0) {
			snprintf(why, sizeof(why), "%s%s", err == ECONNRESET ?
			    "" : "connect: ", strerror(err));
			server_conn_end(s, c, err == ECONNRESET ? "reset" : "error",
			    why, err == ECONNRESET);
			return;
		}
	}
	rc = relay_event(&c->relay, &s->rctx, side, (ev & (EP_IN | EP_HUP |
	    EP_ERR)) != 0, (ev & EP_OUT) != 0);
	if (rc == RELAY_OPEN)
		relay_activity(s, c);
	c->bytes_in = c->relay.bytes[RELAY_C2U];
	c->bytes_out = c->relay.bytes[RELAY_U2C];
	if (rc == RELAY_DONE) {
		server_conn_end(s, c, "closed", NULL, 0);
		return;
	}
	if (rc != RELAY_OPEN) {
		server_conn_end(s, c, rc == RELAY_NOMEM ? "error" : "reset",
		    rc == RELAY_NOMEM ? "out of memory" : NULL, 1);
		return;
	}
	for (i = 0; i < 2; i++) {
		relay_wants(&c->relay, i, &rd, &wr);
		/*
		 * A side that hung up while we are not reading it would wake
		 * us forever: a reset ends the connection, a clean hangup is
		 * read later, when its data can go somewhere.
		 */
		if (i == side && (ev & (EP_HUP | EP_ERR)) && !rd && !wr) {
			if ((err = sock_connect_result(c->h[i].fd)) != 0) {
				server_conn_end(s, c, "reset", strerror(err), 1);
				return;
			}
			server_watch(s, &c->h[i], 0);
			continue;
		}
		server_watch(s, &c->h[i], (rd ? EP_IN : 0) | (wr ? EP_OUT : 0));
	}
}

/*
 * A new connection for the accepted client fd (peer: its address text), in
 * PREAMBLE, on both lists, watched for reading.  Returns it, or NULL (out of
 * memory; fd is still the caller's).
 */
struct conn *
server_conn_new(struct server *s, int fd, const char *peer)
{
	struct conn *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	snprintf(c->peer, sizeof(c->peer), "%s", peer);
	c->h[H_CLIENT].fd = fd;
	c->h[H_UPSTREAM].fd = -1;
	c->h[H_CLIENT].c = c->h[H_UPSTREAM].c = c;
	c->state = CS_PREAMBLE;
	daemon_conn_add(&s->dmn, &c->d);
	/* Both legs of a relay forward small messages at once. */
	sock_nodelay(fd);
	server_watch(s, &c->h[H_CLIENT], EP_IN);
	return c;
}


/*
 * Refuse a connection beyond --max-conns without taking a slot: say so in
 * one line, shut our side and read what already came, so that the close is
 * a FIN (unread bytes would make it a reset).
 */
static void
refuse_busy(int fd, int max)
{
	char line[96], drain[512];
	int n, i;

	n = snprintf(line, sizeof(line), "erlfwd-server: refused: busy "
	    "(max-conns %d)\n", max);
	(void)sock_send(fd, line, (size_t)n);
	(void)shutdown(fd, SHUT_WR);
	for (i = 0; i < 8 && sock_recv(fd, drain, sizeof(drain)) > 0; i++)
		continue;
	close(fd);
}

/* The daemon's accept: a connection of ours, its preamble read at once. */
static void
on_accept(void *arg, int fd, const char *peer)
{
	struct server *s = arg;
	struct conn *c;
	char who[64];
	pid_t pid;

	/* The keeper's listener is a Unix socket in a directory of its
	 * user's; still, only that user's --stdio hands it a carrier. */
	if (s->o->keeper_fd >= 0) {
		if (keeper_peer(fd, &pid) != 0) {
			logfmt("warn", "conn", "peer=unknown outcome=refused "
			    "reason=\"not our uid\"");
			close(fd);
			return;
		}
		snprintf(who, sizeof(who), "stdio:%ld", (long)pid);
		peer = who;
	}
	if ((c = server_conn_new(s, fd, peer)) == NULL) {
		logfmt("warn", "conn", "peer=%s outcome=error "
		    "reason=\"out of memory\"", peer);
		close(fd);
		return;
	}
	if (s->o->keeper_fd >= 0)
		c->state = CS_HANDOFF;
	/* The preload sends its preamble right behind the handshake: it is
	 * usually here already, one wake-up early (and so does a --stdio
	 * its handoff). */
	on_client(s, c, EP_IN);
}

/* Past --max-conns: one line, then a FIN (refuse_busy()). */
static void
on_refuse(void *arg, int fd, const char *peer)
{
	struct server *s = arg;

	logfmt("warn", "conn", "peer=%s tag=none target=none in=0 out=0 "
	    "dur_ms=0 outcome=refused reason=max-conns max_conns=%d", peer,
	    s->o->max_conns);
	refuse_busy(fd, s->o->max_conns);
}

/* A setup past its deadline: a refusal's FIN now, or a timeout. */
static void
on_expired(void *arg, struct dconn *d)
{
	struct server *s = arg;
	struct conn *c = (struct conn *)d;

	if (c->end_outcome != NULL)
		server_conn_end(s, c, c->end_outcome, c->end_reason, 0);
	else
		server_conn_end(s, c, "timeout", c->state == CS_PREAMBLE ?
		    "no complete preamble in time" : c->state == CS_HANDOFF ?
		    "no carrier handed over in time" : c->state == CS_DRAIN ?
		    "client did not close" : "setup took too long", 0);
}

/* A relay quiet past --idle-timeout or --linger: a conn, or a carrier's
 * stream past its setup. */
static void
on_quiet(void *arg, struct dconn *d, const char *reason)
{
	if (d->kind == DK_STREAM)
		host_stream_quiet(arg, (struct hstream *)d, reason);
	else
		server_conn_end(arg, (struct conn *)d, "timeout", reason, 0);
}

static void
on_release(void *arg, struct dconn *d)
{
	(void)arg;
	free(d);
}

/* An event on a connection's side, or on a carrier's mux. */
static void
on_event(void *arg, void *ptr, uint32_t ev)
{
	struct server *s = arg;
	struct handle *h = ptr;
	struct conn *c = h->c;
	int side;

	if (h->car != NULL) {
		if (h == &h->car->ctl)
			host_ctl(s, h->car);
		else
			host_run(s, h->car);
		return;
	}
	side = h == &c->h[H_CLIENT] ? H_CLIENT : H_UPSTREAM;
	if (c->d.dead)
		return;
	if (c->state == CS_RELAY)
		on_relay(s, c, side, ev);
	else if (side == H_CLIENT)
		on_client(s, c, ev);
	else if (c->state == CS_EPMD)
		on_epmd(s, c, ev);
	else if (c->state == CS_GATE)
		on_gate(s, c, ev);
	else if (c->state == CS_CONNECT)
		on_connect(s, c);
}

/*
 * The carriers' timers; and the keeper's leaving, as soon as it holds no
 * carrier, no session and no connection (a new one waits a while for its
 * first carrier).
 */
static int
on_due(void *arg)
{
	struct server *s = arg;
	int t = host_due(s), left;

	if (s->o->keeper_fd < 0 || !TAILQ_EMPTY(&s->carriers) ||
	    s->dmn.nconns > 0)
		return t;
	if (!s->keeper_took &&
	    (left = (int)(s->started + KEEPER_FIRST_MS - tio_now_ms())) > 0)
		return t >= 0 && t < left ? t : left;
	if (keeper_leave(&s->kp, s->dmn.lh.fd, s->keeper_ino)) {
		logfmt("info", "keeper leaving", "took_carrier=%s",
		    s->keeper_took ? "yes" : "no");
		daemon_stop(&s->dmn, -1);
		return t;
	}
	/* A --stdio on its way (accepted next), or the lock busy. */
	return t >= 0 && t < 50 ? t : 50;
}

static const struct daemon_ops server_ops = {
	.accept = on_accept, .refuse = on_refuse, .event = on_event,
	.expired = on_expired, .quiet = on_quiet, .release = on_release,
	.due = on_due,
};

/*
 * The keeper: its listener is the Unix socket its first --stdio made
 * (keeper.h); a hangup is not its end (it has no terminal, and sshd's
 * session is not its own).
 */
static int
keeper_setup(struct server *s, int splice)
{
	char why[300] = "";
	struct stat st;

	signal(SIGHUP, SIG_IGN);
	s->started = tio_now_ms();
	if (keeper_paths(s->o, &s->kp, why, sizeof(why)) != 0 ||
	    daemon_listen_fd(&s->dmn, s->o->keeper_fd) != 0 ||
	    stat(s->kp.sock, &st) != 0) {
		logfmt("error", "cannot keep", "reason=%s", logfmt_value(
		    why[0] != '\0' ? why : strerror(errno), (char[320]){ 0 },
		    320));
		return -1;
	}
	s->keeper_ino = st.st_ino;
	logfmt("info", "keeper", "sock=%s epmd_port=%u max_conns=%d "
	    "setup_timeout_ms=%d idle_ms=%d linger_ms=%d resume_ms=%d relay=%s "
	    "version=%s", s->kp.sock, (unsigned)s->o->epmd_port,
	    s->o->max_conns, s->o->setup_timeout_ms, s->o->idle_ms,
	    s->o->linger_ms, s->o->resume_ms, splice ? "splice" : "copy",
	    ERLFWD_VERSION);
	return 0;
}

static int
setup(struct server *s)
{
	struct daemon_limits lim = {
		.max_conns = s->o->max_conns,
		.setup_timeout_ms = s->o->setup_timeout_ms,
		.idle_ms = s->o->idle_ms, .linger_ms = s->o->linger_ms,
	};
	struct carrier *car;
	char why[64];
	int splice, fl[2];

	if (gethostname(s->hostname, sizeof(s->hostname) - 1) != 0)
		strcpy(s->hostname, "unknown");
	(void)epmd_names_request(s->names_req);
	s->uid = geteuid();
	s->own_port = sock_port((const struct sockaddr *)&s->o->listen);
	if (daemon_init(&s->dmn, &server_ops, s, &lim) != 0) {
		logfmt("error", "cannot start", "reason=%s",
		    logfmt_value(strerror(errno), why, sizeof(why)));
		return -1;
	}
	splice = relay_ctx_init(&s->rctx, s->scratch, sizeof(s->scratch),
	    !s->o->copy);
	if (s->o->stdio) {
		/* One carrier on stdin and stdout, and no socket of ours.  The
		 * mux makes them non-blocking; they are shared with whoever
		 * started us (a shell, sshd's session): put back as they came
		 * when the carrier closes them (host_close()). */
		fl[0] = fcntl(STDIN_FILENO, F_GETFL);
		fl[1] = fcntl(STDOUT_FILENO, F_GETFL);
		logfmt("info", "stdio", "epmd_port=%u max_conns=%d "
		    "relay=%s version=%s", (unsigned)s->o->epmd_port,
		    s->o->max_conns, splice ? "splice" : "copy",
		    ERLFWD_VERSION);
		if ((car = host_start(s, STDIN_FILENO, STDOUT_FILENO, "stdio",
		    NULL, 0, 1, 0)) == NULL) {
			if (fl[0] >= 0)
				(void)fcntl(STDIN_FILENO, F_SETFL, fl[0]);
			if (fl[1] >= 0)
				(void)fcntl(STDOUT_FILENO, F_SETFL, fl[1]);
			return -1;
		}
		car->fl[0] = fl[0];
		car->fl[1] = fl[1];
		return 0;
	}
	if (s->o->keeper_fd >= 0)
		return keeper_setup(s, splice);
	if (daemon_listen(&s->dmn, (const struct sockaddr *)&s->o->listen,
	    s->o->listen_len) != 0) {
		logfmt("error", "cannot listen", "addr=%s reason=%s",
		    s->o->listen_text,
		    logfmt_value(strerror(errno), why, sizeof(why)));
		return -1;
	}
	logfmt("info", "listening", "addr=%s epmd_port=%u max_conns=%d "
	    "setup_timeout_ms=%d idle_ms=%d linger_ms=%d resume_ms=%d relay=%s "
	    "version=%s",
	    s->o->listen_text, (unsigned)s->o->epmd_port, s->o->max_conns,
	    s->o->setup_timeout_ms, s->o->idle_ms, s->o->linger_ms,
	    s->o->resume_ms,
	    splice ? "splice" : "copy", ERLFWD_VERSION);
	return 0;
}

int
server_run(const struct server_opts *o)
{
	struct server *s;
	struct dconn *d;
	int rc = 1;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		logfmt("error", "cannot start", "reason=\"out of memory\"");
		return 1;
	}
	s->o = o;
	TAILQ_INIT(&s->carriers);
	s->rctx.pipe[0] = s->rctx.pipe[1] = -1;
	if (setup(s) != 0 || daemon_run(&s->dmn) != 0)
		goto out;
	logfmt("info", "stopping", "signal=%s conns=%d",
	    s->dmn.stopping == SIGTERM ? "TERM" : s->dmn.stopping == SIGINT ?
	    "INT" : "none", s->dmn.nconns);
	while (!TAILQ_EMPTY(&s->carriers))
		host_end(s, TAILQ_FIRST(&s->carriers), "shutdown");
	/* A --stdio session that its client closed: the streams still open
	 * (their upstream's last bytes in flight) close with it, no warning. */
	/* (The carriers' rewired streams ended with them.) */
	while ((d = TAILQ_FIRST(&s->dmn.conns)) != NULL)
		server_conn_end(s, (struct conn *)d, s->dmn.stopping == -1 &&
		    s->stdio_closed ? "closed" : "shutdown", NULL, 0);
	daemon_bury(&s->dmn);
	rc = 0;
out:
	/* Not after an error either: a carrier's descriptors go back as
	 * they came (host_close()). */
	while (!TAILQ_EMPTY(&s->carriers))
		host_end(s, TAILQ_FIRST(&s->carriers), "error");
	daemon_fini(&s->dmn);
	relay_ctx_free(&s->rctx);
	free(s);
	return rc;
}
