/*
 * procnet.c: listening sockets' owners from /proc/net (procnet.h).
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "procnet.h"

#define READ_CHUNK	16384

/* Parse hex digits at *p up to a byte that is not one; 0 if none. */
static int
hex(const char **p, const char *end, unsigned long *v)
{
	const char *s = *p;
	int d;

	*v = 0;
	for (; *p < end; (*p)++) {
		if (**p >= '0' && **p <= '9')
			d = **p - '0';
		else if (**p >= 'A' && **p <= 'F')
			d = **p - 'A' + 10;
		else if (**p >= 'a' && **p <= 'f')
			d = **p - 'a' + 10;
		else
			break;
		if (*v > 0xffffffffUL)
			return 0;
		*v = *v << 4 | (unsigned long)d;
	}
	return *p > s;
}

static void
blanks(const char **p, const char *end)
{
	while (*p < end && **p == ' ')
		(*p)++;
}

/* Skip one field of non-blanks and the blanks after it; 0 if none. */
static int
skip_field(const char **p, const char *end)
{
	const char *s = *p;

	while (*p < end && **p != ' ')
		(*p)++;
	if (*p == s)
		return 0;
	blanks(p, end);
	return 1;
}

/* An address, HEX:PORT, and the blanks after it: the port; 0 if none. */
static int
addr_port(const char **p, const char *end, unsigned long *port)
{
	while (*p < end && **p != ':' && **p != ' ')
		(*p)++;
	if (*p >= end || **p != ':')
		return 0;
	(*p)++;
	if (!hex(p, end, port) || *port > 0xffff)
		return 0;
	blanks(p, end);
	return 1;
}

int
procnet_line(const char *line, size_t len, struct procnet_sock *s)
{
	const char *p = line, *end = line + len;
	unsigned long v, rv, st, u;
	int i;

	/* "  sl  local_address rem_address   st tx_queue rx_queue tr
	 * tm->when retrnsmt   uid ..."; an address is HEX:PORT. */
	blanks(&p, end);
	if (!hex(&p, end, &v) || p >= end || *p != ':')
		return 0;
	p++;
	blanks(&p, end);
	if (!addr_port(&p, end, &v) || !addr_port(&p, end, &rv) ||
	    !hex(&p, end, &st))
		return 0;
	blanks(&p, end);
	/* tx:rx, tr:when, retrnsmt, then the uid (decimal). */
	for (i = 0; i < 3; i++)
		if (!skip_field(&p, end))
			return 0;
	if (p >= end || *p < '0' || *p > '9')
		return 0;
	for (u = 0; p < end && *p >= '0' && *p <= '9'; p++) {
		u = u * 10 + (unsigned long)(*p - '0');
		if (u > 0xffffffffUL)
			return 0;
	}
	s->port = (uint16_t)v;
	s->rport = (uint16_t)rv;
	s->uid = (uid_t)u;
	s->listening = st == 0x0a;
	return 1;
}

/* What a scan looks for, and what it found. */
struct want {
	uint16_t	port, rport;	/* rport 0: a listener on port */
	uid_t		self;
	int		seen_other;	/* a listener of another uid */
	int		found;		/* the connection, with its uid */
	uid_t		uid;
};

static void
consider(const struct procnet_sock *s, struct want *w)
{
	if (w->rport == 0) {
		if (s->listening && s->port == w->port && s->uid != w->self)
			w->seen_other = 1;
	} else if (!s->listening && s->port == w->port &&
	    s->rport == w->rport && !w->found) {
		w->found = 1;
		w->uid = s->uid;
	}
}

/* Scan one table for w.  Returns 0, or -1 when it cannot be opened. */
static int
scan(const char *path, struct want *w)
{
	char buf[READ_CHUNK + 512];
	size_t have = 0, n;
	ssize_t r;
	char *nl, *line;
	struct procnet_sock s;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	for (;;) {
		r = read(fd, buf + have, sizeof(buf) - 1 - have);
		if (r <= 0 && have == 0)
			break;
		if (r > 0)
			have += (size_t)r;
		line = buf;
		while ((nl = memchr(line, '\n', have - (size_t)(line - buf))) !=
		    NULL || (r <= 0 && line < buf + have)) {
			if (nl == NULL)
				nl = buf + have;
			if (procnet_line(line, (size_t)(nl - line), &s))
				consider(&s, w);
			line = nl < buf + have ? nl + 1 : nl;
		}
		n = have - (size_t)(line - buf);
		/* A line longer than the buffer is no socket's: drop it. */
		if (n == sizeof(buf) - 1)
			n = 0;
		memmove(buf, line, n);
		have = n;
		if (r <= 0)
			break;
	}
	close(fd);
	return 0;
}

/* Scan dir's tcp and tcp6 for w.  Returns 0, or -1 when neither opens. */
static int
scan_both(const char *dir, struct want *w)
{
	char path[256];
	int ok = 0;

	snprintf(path, sizeof(path), "%s/tcp", dir);
	if (scan(path, w) == 0)
		ok = 1;
	snprintf(path, sizeof(path), "%s/tcp6", dir);
	if (scan(path, w) == 0)
		ok = 1;
	return ok ? 0 : -1;
}

int
procnet_port_owner(const char *dir, uint16_t port, uid_t self)
{
	struct want w = { .port = port, .self = self };

	if (scan_both(dir, &w) != 0)
		return PROCNET_UNKNOWN;
	return w.seen_other ? PROCNET_OTHER : PROCNET_SAME;
}

int
procnet_conn_owner(const char *dir, uint16_t port, uint16_t rport,
    uid_t *uid)
{
	struct want w = { .port = port, .rport = rport };

	if (rport == 0 || scan_both(dir, &w) != 0 || !w.found)
		return -1;
	*uid = w.uid;
	return 0;
}

/*
 * The uid of the socket with this 4-tuple, asked of the kernel over
 * NETLINK_SOCK_DIAG as ss(8) does: one exact lookup, where /proc/net/tcp
 * walks every socket of the host (milliseconds each read).
 */
static int
diag_uid(const struct sockaddr_in *src, const struct sockaddr_in *dst,
    uid_t *uid)
{
	struct {
		struct nlmsghdr		nh;
		struct inet_diag_req_v2	req;
	} q;
	union {
		struct nlmsghdr		nh;
		char			buf[512];
	} a;
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	struct timeval tv = { 0, 200000 };
	struct inet_diag_msg *m;
	ssize_t n;
	int fd, rc = -1;

	if ((fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC,
	    NETLINK_SOCK_DIAG)) < 0)
		return -1;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	memset(&q, 0, sizeof(q));
	q.nh.nlmsg_len = sizeof(q);
	q.nh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	q.nh.nlmsg_flags = NLM_F_REQUEST;
	q.req.sdiag_family = AF_INET;
	q.req.sdiag_protocol = IPPROTO_TCP;
	q.req.idiag_states = ~0U;
	q.req.id.idiag_sport = src->sin_port;
	q.req.id.idiag_dport = dst->sin_port;
	q.req.id.idiag_src[0] = src->sin_addr.s_addr;
	q.req.id.idiag_dst[0] = dst->sin_addr.s_addr;
	q.req.id.idiag_cookie[0] = q.req.id.idiag_cookie[1] =
	    INET_DIAG_NOCOOKIE;
	if (sendto(fd, &q, sizeof(q), 0, (struct sockaddr *)&kernel,
	    sizeof(kernel)) != (ssize_t)sizeof(q))
		goto out;
	while ((n = recv(fd, &a, sizeof(a), 0)) < 0 && errno == EINTR)
		continue;
	if (n < (ssize_t)NLMSG_LENGTH(sizeof(*m)) || !NLMSG_OK(&a.nh,
	    (unsigned)n) || a.nh.nlmsg_type != SOCK_DIAG_BY_FAMILY)
		goto out;
	m = NLMSG_DATA(&a.nh);
	*uid = (uid_t)m->idiag_uid;
	rc = 0;
out:
	close(fd);
	return rc;
}

int
procnet_peer_uid(int fd, uid_t *uid)
{
	struct sockaddr_in ours, theirs;
	socklen_t len = sizeof(ours);

	if (getsockname(fd, (struct sockaddr *)&ours, &len) != 0 ||
	    ours.sin_family != AF_INET)
		return -1;
	len = sizeof(theirs);
	if (getpeername(fd, (struct sockaddr *)&theirs, &len) != 0 ||
	    theirs.sin_family != AF_INET)
		return -1;
	/* Their socket: its source is their address, its destination ours. */
	if (diag_uid(&theirs, &ours, uid) == 0)
		return 0;
	return procnet_conn_owner("/proc/net", ntohs(theirs.sin_port),
	    ntohs(ours.sin_port), uid);
}
