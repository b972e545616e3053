/*
 * transport.c: the choice of transport, and the two that are sockets: TCP
 * to a forwarded port, and SOCKS5 (transport.h).  The --via command's is
 * via.c.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "dial.h"
#include "socksdial.h"
#include "transport.h"

void
transport_init(struct transport *t, const struct route *r,
    const char *command, int debug)
{
	memset(t, 0, sizeof(*t));
	t->route = r;
	t->command = command;
	t->debug = debug;
	t->rfd = t->wfd = t->errfd = -1;
	if (command != NULL)
		t->ops = &transport_via;
	else if (r->kind == ROUTE_SOCKS5)
		t->ops = &transport_socks5;
	else
		t->ops = &transport_tcp;
}

int
transport_open(struct transport *t, long deadline, char *why, size_t cap)
{
	return t->ops->open(t, deadline, why, cap);
}

int
transport_read_err(struct transport *t)
{
	return t->ops->read_err != NULL ? t->ops->read_err(t) : 0;
}

int
transport_stop(struct transport *t)
{
	return t->ops->stop(t);
}

const char *
transport_describe(const struct transport *t, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s", t->command != NULL ? "--via" :
	    t->route->text);
	return buf;
}

/* ---- sockets ------------------------------------------------------------ */

static int
tcp_open(struct transport *t, long deadline, char *why, size_t cap)
{
	const struct route *r = t->route;
	int fd;

	fd = dial_connect((const struct sockaddr *)&r->addr, r->addrlen,
	    deadline);
	if (fd < 0) {
		snprintf(why, cap, "nothing answers on %s: %s", r->text,
		    strerror(errno));
		return -1;
	}
	t->rfd = t->wfd = fd;
	return 0;
}

/* The proxy, then one CONNECT to erlfwd-server's port behind it. */
static int
socks5_open(struct transport *t, long deadline, char *why, size_t cap)
{
	const struct route *r = t->route;
	struct socksdial_failure sf;

	if (tcp_open(t, deadline, why, cap) != 0)
		return -1;
	if (socksdial_connect(t->rfd, r, r->server_port, deadline, &sf) !=
	    0) {
		snprintf(why, cap, "the SOCKS5 proxy %s did not reach "
		    "erlfwd-server at %.64s:%u: %s", r->text, r->target,
		    (unsigned)r->server_port, sf.why != NULL ? sf.why :
		    strerror(errno));
		close(t->rfd);
		t->rfd = t->wfd = -1;
		return -1;
	}
	return 0;
}

static int
socket_stop(struct transport *t)
{
	if (t->rfd >= 0)
		close(t->rfd);
	t->rfd = t->wfd = -1;
	return 0;
}

const struct transport_ops transport_tcp = {
	.name = "tcp", .open = tcp_open, .stop = socket_stop,
};

const struct transport_ops transport_socks5 = {
	.name = "socks5", .open = socks5_open, .stop = socket_stop,
};
