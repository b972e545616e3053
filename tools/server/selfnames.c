/*
 * selfnames.c: the host names this host's nodes go by (selfnames.h).
 *
 * A refresh: epmd's socket (conns[0]) connects, sends NAMES and reads the
 * reply to its EOF; the table is merged from it; then up to
 * SELFNAMES_PROBES nodes at once (conns[1..]) are sent our send_name and
 * read until dist_answer_name() has a verdict.  Each socket is closed as
 * soon as it has given what it can; the refresh ends when none is left or
 * at its deadline.
 */
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cluster.h"
#include "daemon.h"
#include "dist.h"
#include "ep.h"
#include "epmd.h"
#include "logfmt.h"
#include "procnet.h"
#include "selfnames.h"
#include "sock.h"
#include "tio.h"

#define PROBE_CREATION	1	/* ours in send_name: the node keeps it
				 * only for a connection that comes up */

static void
watch(struct selfnames *t, struct selfnames_conn *e, uint32_t events)
{
	daemon_watch(t->dmn, e->fd, &e->events, events, e);
}

/* Close e's socket (a FIN: the node's handshake ends as a peer's that left). */
static void
conn_close(struct selfnames *t, struct selfnames_conn *e)
{
	if (e->fd < 0)
		return;
	watch(t, e, 0);
	close(e->fd);
	e->fd = -1;
	e->events = 0;
}

void
selfnames_init(struct selfnames *t, struct daemon *dmn, uint16_t epmd_port,
    void (*done)(void *), void *arg)
{
	size_t i;

	memset(t, 0, sizeof(*t));
	t->dmn = dmn;
	t->epmd_port = epmd_port;
	t->done = done;
	t->arg = arg;
	for (i = 0; i < sizeof(t->conns) / sizeof(t->conns[0]); i++)
		t->conns[i].fd = -1;
}

void
selfnames_fini(struct selfnames *t)
{
	size_t i;

	for (i = 0; i < sizeof(t->conns) / sizeof(t->conns[0]); i++)
		conn_close(t, &t->conns[i]);
	t->deadline = 0;
}

int
selfnames_has(const struct selfnames *t, const char *name)
{
	size_t i;

	for (i = 0; i < t->nnodes; i++)
		if (t->nodes[i].host[0] != '\0' &&
		    strcasecmp(t->nodes[i].host, name) == 0)
			return 1;
	return 0;
}

int
selfnames_stale(const struct selfnames *t, long now)
{
	return t->deadline != 0 || t->fresh_until == 0 || now >= t->fresh_until;
}

int
selfnames_owns(const struct selfnames *t, const void *ptr)
{
	const struct selfnames_conn *e = ptr;

	return e >= &t->conns[0] &&
	    e < &t->conns[sizeof(t->conns) / sizeof(t->conns[0])];
}

void
selfnames_merge(struct selfnames *t, const char *text, size_t len)
{
	struct frame_info_node *f;
	size_t i, j, kept = 0;
	int listed;

	t->fi.nnodes = 0;
	(void)epmd_names_info(text, len, &t->fi);
	for (i = 0; i < t->nnodes; i++) {
		listed = 0;
		for (j = 0; j < t->fi.nnodes && !listed; j++)
			listed = t->fi.nodes[j].port == t->nodes[i].port &&
			    strcmp(t->fi.nodes[j].name, t->nodes[i].alive) == 0;
		if (listed)
			t->nodes[kept++] = t->nodes[i];
	}
	t->nnodes = kept;
	for (j = 0; j < t->fi.nnodes && t->nnodes < SELFNAMES_NODES; j++) {
		f = &t->fi.nodes[j];
		listed = 0;
		for (i = 0; i < kept && !listed; i++)
			listed = f->port == t->nodes[i].port &&
			    strcmp(f->name, t->nodes[i].alive) == 0;
		if (listed)
			continue;
		memset(&t->nodes[t->nnodes], 0, sizeof(t->nodes[0]));
		snprintf(t->nodes[t->nnodes].alive, sizeof(t->nodes[0].alive),
		    "%s", f->name);
		t->nodes[t->nnodes].port = f->port;
		t->nnodes++;
	}
}

const char *
selfnames_learn(struct selfnames *t, size_t i, const char *full)
{
	const char *host = strchr(full, '@');
	struct selfnames_node *n = &t->nodes[i];

	n->state = SELFNAMES_DONE;
	if (host == NULL || !cluster_name_valid(host + 1, strlen(host + 1)))
		return NULL;
	snprintf(n->host, sizeof(n->host), "%s", host + 1);
	return n->host;
}

/*
 * The refresh is over: close what is left (a node still being asked is
 * asked again, later), say so.
 */
static void
finish(struct selfnames *t)
{
	long now = tio_now_ms();
	size_t i;

	for (i = 0; i < sizeof(t->conns) / sizeof(t->conns[0]); i++) {
		if (t->conns[i].fd >= 0 && t->conns[i].node >= 0) {
			t->nodes[t->conns[i].node].state = SELFNAMES_NEW;
			t->nodes[t->conns[i].node].retry_at = now +
			    SELFNAMES_RETRY_MS;
		}
		conn_close(t, &t->conns[i]);
	}
	t->deadline = 0;
	t->fresh_until = now + SELFNAMES_TTL_MS;
	if (t->done != NULL)
		t->done(t->arg);
}

/* Connect e to 127.0.0.1:port; 0, or -1 (e stays closed). */
static int
conn_start(struct selfnames *t, struct selfnames_conn *e, uint16_t port,
    int node)
{
	struct sockaddr_storage ss;
	socklen_t len = sock_loopback(&ss, port);

	if ((e->fd = sock_connect((struct sockaddr *)&ss, len)) < 0)
		return -1;
	e->node = node;
	e->sent = 0;
	e->inlen = 0;
	watch(t, e, EP_OUT);
	return 0;
}

/*
 * Give every idle probe socket a node to ask; the refresh ends when there
 * is none left to ask and none being asked.
 */
static void
ask_next(struct selfnames *t)
{
	struct selfnames_node *n;
	long now = tio_now_ms();
	size_t i, k, busy = 0;

	for (k = 1; k < sizeof(t->conns) / sizeof(t->conns[0]); k++) {
		if (t->conns[k].fd >= 0) {
			busy++;
			continue;
		}
		for (i = 0; i < t->nnodes; i++) {
			n = &t->nodes[i];
			if (n->state != SELFNAMES_NEW || n->retry_at > now)
				continue;
			n->state = SELFNAMES_DONE;
			/* Another user's listener is not asked: its answer
			 * would be its own claim. */
			if (procnet_port_owner("/proc/net", n->port,
			    getuid()) == PROCNET_OTHER)
				continue;
			if (conn_start(t, &t->conns[k], n->port, (int)i) != 0)
				continue;
			n->state = SELFNAMES_ASKING;
			busy++;
			break;
		}
	}
	if (busy == 0)
		finish(t);
}

void
selfnames_refresh(struct selfnames *t, long now)
{
	if (t->deadline != 0)
		return;
	t->deadline = now + SELFNAMES_WAIT_MS;
	t->nameslen = 0;
	/* epmd not there: no node either. */
	if (conn_start(t, &t->conns[0], t->epmd_port, -1) != 0) {
		selfnames_merge(t, "", 0);
		finish(t);
	}
}

/* epmd's socket: send NAMES once connected, read the reply to its EOF. */
static void
on_epmd(struct selfnames *t, struct selfnames_conn *e, uint32_t ev)
{
	uint8_t req[EPMD_NAMES_REQ_LEN];
	const char *text;
	size_t textlen, n;
	ssize_t k;

	if (!e->sent) {
		if (!(ev & (EP_OUT | EP_ERR | EP_HUP)))
			return;
		n = epmd_names_request(req);
		/* Three bytes into a fresh socket: all or nothing. */
		if (sock_connect_result(e->fd) != 0 ||
		    sock_send(e->fd, req, n) != (ssize_t)n)
			goto done;
		e->sent = 1;
		watch(t, e, EP_IN);
		return;
	}
	k = sock_recv(e->fd, t->names + t->nameslen,
	    sizeof(t->names) - t->nameslen);
	if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	if (k > 0) {
		t->nameslen += (size_t)k;
		/* Past what we read, the rest of the list is not ours. */
		if (t->nameslen < sizeof(t->names))
			return;
	}
done:
	/* epmd closes after its answer; a cut one lists what it holds. */
	text = epmd_names_text(t->names, t->nameslen, &textlen);
	selfnames_merge(t, text != NULL ? text : "", textlen);
	conn_close(t, e);
	ask_next(t);
}

/* A node's socket: send our send_name once connected, read its answer. */
static void
on_node(struct selfnames *t, struct selfnames_conn *e, uint32_t ev)
{
	uint8_t out[DIST_LEN_HDR + DIST_BODY_MAX];
	char full[DIST_NAME_MAX], v[2 * DIST_NAME_MAX];
	const char *host;
	ssize_t k;
	int m;

	if (!e->sent) {
		if (!(ev & (EP_OUT | EP_ERR | EP_HUP)))
			return;
		m = dist_name(out, sizeof(out), SELFNAMES_PROBE_NAME,
		    PROBE_CREATION);
		/* Forty bytes into a fresh socket: all or nothing. */
		if (m < 0 || sock_connect_result(e->fd) != 0 ||
		    sock_send(e->fd, out, (size_t)m) != m)
			goto done;
		e->sent = 1;
		watch(t, e, EP_IN);
		return;
	}
	k = sock_recv(e->fd, e->in + e->inlen, sizeof(e->in) - e->inlen);
	if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	if (k <= 0)
		goto done;
	e->inlen += (size_t)k;
	m = dist_answer_name(e->in, e->inlen, full, sizeof(full));
	if (m == 0 && e->inlen < sizeof(e->in))
		return;
	if (m == 1 && (host = selfnames_learn(t, (size_t)e->node, full)) !=
	    NULL)
		logfmt("info", "cluster self", "name=%s node=%s from=epmd",
		    host, logfmt_value(full, v, sizeof(v)));
done:
	t->nodes[e->node].state = SELFNAMES_DONE;
	conn_close(t, e);
	ask_next(t);
}

void
selfnames_event(struct selfnames *t, void *ptr, uint32_t ev)
{
	struct selfnames_conn *e = ptr;

	if (e->fd < 0)
		return;		/* closed earlier in this batch */
	if (e->node < 0)
		on_epmd(t, e, ev);
	else
		on_node(t, e, ev);
}

int
selfnames_due(struct selfnames *t, long now)
{
	if (t->deadline == 0)
		return -1;
	if (now >= t->deadline) {
		finish(t);
		return -1;
	}
	return (int)(t->deadline - now);
}
