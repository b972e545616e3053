/*
 * fake.c: a scripted far end on 127.0.0.1 (fake.h).
 */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <check.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "dist.h"
#include "fake.h"
#include "tio.h"

#define STEP_MS		5000
#define STALL_MS	10000

/* Read exactly len bytes into f->got.  Returns 0 or -1. */
static int
take(struct fake *f, int fd, size_t len)
{
	ssize_t n;

	if (len > sizeof(f->got) - f->gotlen)
		return -1;
	n = tio_read_full(fd, f->got + f->gotlen, len, tio_now_ms() + STEP_MS);
	if (n != (ssize_t)len)
		return -1;
	f->gotlen += len;
	return 0;
}

/* A SOCKS5 server's side of one CONNECT (no authentication), replying rep. */
static int
socks(struct fake *f, int fd, uint8_t rep)
{
	static const uint8_t method[2] = { 5, 0 };
	uint8_t reply[10] = { 5, 0, 0, 1, 127, 0, 0, 1, 0, 0 };
	size_t at = f->gotlen, alen;
	uint8_t *req;

	/* The greeting: VER NMETHODS METHODS... */
	if (take(f, fd, 2) != 0 || take(f, fd, f->got[at + 1]) != 0 ||
	    tio_write_all(fd, method, sizeof(method), tio_now_ms() + STEP_MS))
		return -1;
	/* VER CMD RSV ATYP, the address, the port. */
	at = f->gotlen;
	if (take(f, fd, 4) != 0)
		return -1;
	req = f->got + at;
	switch (req[3]) {
	case 1:
		alen = 4;
		break;
	case 4:
		alen = 16;
		break;
	case 3:
		if (take(f, fd, 1) != 0)
			return -1;
		alen = f->got[f->gotlen - 1];
		break;
	default:
		return -1;
	}
	if (take(f, fd, alen + 2) != 0)
		return -1;
	f->socks_port = (uint16_t)(f->got[f->gotlen - 2] << 8 |
	    f->got[f->gotlen - 1]);
	reply[1] = rep;
	return tio_write_all(fd, reply, sizeof(reply), tio_now_ms() + STEP_MS);
}

/* One handshake message: the 2-byte length, then the body. */
static int
take_msg(struct fake *f, int fd)
{
	if (take(f, fd, DIST_LEN_HDR) != 0)
		return -1;
	return take(f, fd, (size_t)f->got[f->gotlen - 2] << 8 |
	    f->got[f->gotlen - 1]);
}

/* A node's challenge_ack for the client's challenge_reply, with cookie. */
static int
ack(struct fake *f, int fd, const char *cookie)
{
	uint8_t msg[DIST_LEN_HDR + 1 + MD5_LEN] = { 0, 1 + MD5_LEN, 'a' };
	const uint8_t *body;
	uint32_t theirs;

	if (take_msg(f, fd) != 0)
		return -1;
	/* 'r' challenge:32 digest:128 */
	body = f->got + f->gotlen - (1 + 4 + MD5_LEN);
	if (body[0] != 'r')
		return -1;
	theirs = (uint32_t)body[1] << 24 | (uint32_t)body[2] << 16 |
	    (uint32_t)body[3] << 8 | body[4];
	dist_digest(cookie, theirs, msg + DIST_LEN_HDR + 1);
	return tio_write_all(fd, msg, sizeof(msg), tio_now_ms() + STEP_MS);
}

/* Wait until the client closes (or STALL_MS pass). */
static void
stall(int fd)
{
	uint8_t sink[512];
	long deadline = tio_now_ms() + STALL_MS;

	while (tio_read(fd, sink, sizeof(sink), deadline) > 0)
		continue;
}

static void *
play(void *arg)
{
	struct fake *f = arg;
	struct linger lg = { 1, 0 };
	const struct fake_step *s;
	size_t i;
	int fd;

	if (tio_wait(f->lfd, POLLIN, tio_now_ms() + STALL_MS) != 0 ||
	    (fd = accept4(f->lfd, NULL, NULL, SOCK_NONBLOCK)) < 0) {
		f->failed = 1;
		return NULL;
	}
	f->accepted = 1;
	for (i = 0; i < f->nsteps; i++) {
		s = &f->steps[i];
		switch (s->op) {
		case FAKE_READ:
			if (take(f, fd, s->len) != 0)
				f->failed = 1;
			break;
		case FAKE_WRITE:
			if (tio_write_all(fd, s->data, s->len,
			    tio_now_ms() + STEP_MS) != 0)
				f->failed = 1;
			break;
		case FAKE_RESET:
			(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg,
			    sizeof(lg));
			goto out;
		case FAKE_CLOSE:
			goto out;
		case FAKE_STALL:
			stall(fd);
			break;
		case FAKE_READ_MSG:
			if (take_msg(f, fd) != 0)
				f->failed = 1;
			break;
		case FAKE_DIST_ACK:
			if (ack(f, fd, s->data) != 0)
				f->failed = 1;
			break;
		case FAKE_SOCKS_OK:
		case FAKE_SOCKS_FAIL:
			if (socks(f, fd, s->op == FAKE_SOCKS_OK ? 0 :
			    (uint8_t)s->len) != 0)
				f->failed = 1;
			break;
		}
		if (f->failed)
			break;
	}
out:
	close(fd);
	return NULL;
}

void
fake_start(struct fake *f, const struct fake_step *steps, size_t n)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	memset(f, 0, sizeof(*f));
	f->steps = steps;
	f->nsteps = n;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	f->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(f->lfd, 0);
	ck_assert_int_eq(bind(f->lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(f->lfd, 4), 0);
	ck_assert_int_eq(getsockname(f->lfd, (struct sockaddr *)&sin, &len), 0);
	f->port = ntohs(sin.sin_port);
	ck_assert_int_eq(pthread_create(&f->thread, NULL, play, f), 0);
}

void
fake_stop(struct fake *f)
{
	ck_assert_int_eq(pthread_join(f->thread, NULL), 0);
	close(f->lfd);
	f->lfd = -1;
}

uint16_t
fake_closed_port(void)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd;

	/* Bound but never listening: a connect to it is refused. */
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	close(fd);
	return ntohs(sin.sin_port);
}

const char *
fake_route(char *buf, size_t cap, int socks5, uint16_t port)
{
	snprintf(buf, cap, "%s127.0.0.1:%u", socks5 ? "socks5://" : "",
	    (unsigned)port);
	return buf;
}
