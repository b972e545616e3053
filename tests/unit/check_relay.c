/*
 * check_relay.c: the byte mover between two sockets (tools/server/relay.h), one
 * Check suite, on real non-blocking AF_UNIX socket pairs.
 *
 *   client peer  cp[0] <-> cp[1]  relay  tp[0] <-> tp[1]  target peer
 *
 * Side 0 of the relay is cp[1], side 1 is tp[0]; the test plays both peers.
 * Backpressure is made by filling a relay socket's send buffer from the test
 * itself, so the relay's next write to it would block.
 */
#include <sys/socket.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sock.h"
#include "relay.h"
#include "tio.h"

static int		cp[2] = { -1, -1 }, tp[2] = { -1, -1 };
static struct relay	r;
static uint8_t		scratch[RELAY_SCRATCH];
static struct relay_ctx	ctx;
static int		splice_mode;	/* the suite runs in both modes */

/* 1 while direction d holds bytes of its own (heap buffer or pipe). */
static int
holds(int d)
{
	return r.dir[d].len > 0 || r.dir[d].buf != NULL;
}

static void
setup(void)
{
	int i;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, cp), 0);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, tp), 0);
	for (i = 0; i < 2; i++) {
		ck_assert_int_eq(sock_nonblock(cp[i]), 0);
		ck_assert_int_eq(sock_nonblock(tp[i]), 0);
	}
	relay_init(&r, cp[1], tp[0]);
	ck_assert_int_eq(relay_ctx_init(&ctx, scratch, sizeof(scratch),
	    splice_mode), splice_mode);
}

static void
teardown(void)
{
	relay_close(&r, 0);	/* safe twice: it marks its fds closed */
	relay_ctx_free(&ctx);
	if (cp[0] >= 0)
		close(cp[0]);
	if (tp[1] >= 0)
		close(tp[1]);
	cp[0] = tp[1] = -1;
}

/* Byte i of a test stream: a pattern that shows reordering and loss. */
static uint8_t
pattern(uint64_t i, unsigned seed)
{
	return (uint8_t)((i * 131 + (i >> 8) * 7 + seed) & 0xff);
}

static void
fill_pattern(uint8_t *buf, size_t len, uint64_t from, unsigned seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = pattern(from + i, seed);
}

/* The first len bytes of a stream made by fill() with seed. */
static void
assert_pattern(const uint8_t *got, size_t len, unsigned seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (got[i] != pattern(i, seed))
			ck_abort_msg("byte %zu of %zu garbled", i, len);
}

/* Send all of buf on a non-blocking fd, waiting for room up to 5 s. */
static void
send_all(int fd, const void *buf, size_t len)
{
	ck_assert_msg(tio_write_all(fd, buf, len, tio_now_ms() + 5000) == 0,
	    "send_all: %s", strerror(errno));
}

/* Read what fd has now, up to cap bytes, without waiting. */
static size_t
recv_now(int fd, uint8_t *buf, size_t cap)
{
	size_t got = 0;
	ssize_t n;

	while (got < cap) {
		n = recv(fd, buf + got, cap - got, 0);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	return got;
}

/* Read exactly len bytes, waiting up to 5 s. */
static void
recv_exact(int fd, uint8_t *buf, size_t len)
{
	ssize_t n = tio_read_full(fd, buf, len, tio_now_ms() + 5000);

	ck_assert_msg(n >= 0, "recv: %s", strerror(errno));
	ck_assert_msg((size_t)n == len, "EOF after %zd of %zu bytes", n, len);
}

/* 1 when fd is at EOF now; 0 when it would block. */
static int
at_eof(int fd)
{
	uint8_t b;
	ssize_t n = recv(fd, &b, 1, 0);

	ck_assert_msg(n <= 0, "a byte where EOF was expected");
	if (n == 0)
		return 1;
	ck_assert_msg(errno == EAGAIN, "recv: %s", strerror(errno));
	return 0;
}

/* Write to fd until it would block: its peer's queue is full.  Returns bytes. */
static size_t
fill(int fd, unsigned seed)
{
	uint8_t chunk[4096];
	size_t total = 0;
	ssize_t n;

	for (;;) {
		fill_pattern(chunk, sizeof(chunk), total, seed);
		n = send(fd, chunk, sizeof(chunk), MSG_NOSIGNAL);
		if (n < 0)
			break;
		total += (size_t)n;
	}
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert_uint_gt(total, 0);
	return total;
}

static void
assert_wants(int s, int rd, int wr)
{
	int grd = -1, gwr = -1;

	relay_wants(&r, s, &grd, &gwr);
	ck_assert_msg(grd == rd && gwr == wr, "side %d wants rd=%d wr=%d, "
	    "expected rd=%d wr=%d", s, grd, gwr, rd, wr);
}

static int
event(int s, int readable, int writable)
{
	return relay_event(&r, &ctx, s, readable, writable);
}

/* --- bytes both ways ------------------------------------------------------ */

START_TEST(init_state)
{
	ck_assert_int_eq(r.fd[0], cp[1]);
	ck_assert_int_eq(r.fd[1], tp[0]);
	ck_assert_uint_eq(r.bytes[RELAY_C2U], 0);
	ck_assert_uint_eq(r.bytes[RELAY_U2C], 0);
	assert_wants(0, 1, 0);
	assert_wants(1, 1, 0);
	ck_assert_int_eq(event(0, 0, 0), RELAY_OPEN);
	ck_assert_int_eq(event(1, 0, 1), RELAY_OPEN);
}
END_TEST

START_TEST(client_to_target)
{
	uint8_t buf[16];

	send_all(cp[0], "hello", 5);
	ck_assert_int_eq(event(0, 1, 0), RELAY_OPEN);
	recv_exact(tp[1], buf, 5);
	ck_assert_mem_eq(buf, "hello", 5);
	ck_assert_uint_eq(r.bytes[RELAY_C2U], 5);
	ck_assert_uint_eq(r.bytes[RELAY_U2C], 0);
	ck_assert_int_eq(at_eof(tp[1]), 0);
	ck_assert_int_eq(at_eof(cp[0]), 0);
	assert_wants(0, 1, 0);
	assert_wants(1, 1, 0);
}
END_TEST

START_TEST(target_to_client)
{
	uint8_t buf[16];

	send_all(tp[1], "world!", 6);
	ck_assert_int_eq(event(1, 1, 0), RELAY_OPEN);
	recv_exact(cp[0], buf, 6);
	ck_assert_mem_eq(buf, "world!", 6);
	ck_assert_uint_eq(r.bytes[RELAY_U2C], 6);
	ck_assert_uint_eq(r.bytes[RELAY_C2U], 0);
}
END_TEST

START_TEST(both_ways_counts)
{
	uint8_t buf[64];
	int i;

	for (i = 0; i < 10; i++) {
		send_all(cp[0], "ping", 4);
		ck_assert_int_eq(event(0, 1, 0), RELAY_OPEN);
		recv_exact(tp[1], buf, 4);
		ck_assert_mem_eq(buf, "ping", 4);
		send_all(tp[1], "pong!", 5);
		ck_assert_int_eq(event(1, 1, 1), RELAY_OPEN);
		recv_exact(cp[0], buf, 5);
		ck_assert_mem_eq(buf, "pong!", 5);
	}
	ck_assert_uint_eq(r.bytes[RELAY_C2U], 40);
	ck_assert_uint_eq(r.bytes[RELAY_U2C], 50);
}
END_TEST

START_TEST(readable_but_nothing_there)
{
	ck_assert_int_eq(event(0, 1, 0), RELAY_OPEN);
	ck_assert_int_eq(event(1, 1, 1), RELAY_OPEN);
	ck_assert_uint_eq(r.bytes[0] + r.bytes[1], 0);
	assert_wants(0, 1, 0);
	assert_wants(1, 1, 0);
}
END_TEST

/* One read per event, of at most cap bytes. */
START_TEST(small_scratch)
{
	uint8_t buf[8], tiny[3];
	struct relay_ctx small = ctx;
	int i;

	small.scratch = tiny;
	small.cap = sizeof(tiny);
	send_all(cp[0], "abcdefg", 7);
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(relay_event(&r, &small, 0, 1, 0), RELAY_OPEN);
	ck_assert_uint_eq(r.bytes[RELAY_C2U], 7);
	recv_exact(tp[1], buf, 7);
	ck_assert_mem_eq(buf, "abcdefg", 7);
	send_all(cp[0], "xy", 2);
	small.cap = 1;
	ck_assert_int_eq(relay_event(&r, &small, 0, 1, 0), RELAY_OPEN);
	ck_assert_uint_eq(r.bytes[RELAY_C2U], 8);
}
END_TEST

/* --- backpressure --------------------------------------------------------- */

/*
 * Drain tp[1] into out (from offset *got) and let the relay flush direction
 * C2T, until it holds nothing.
 */
static void
drain_c2t(uint8_t *out, size_t cap, size_t *got)
{
	long deadline = tio_now_ms() + 5000;

	while (r.dir[RELAY_C2U].len > 0) {
		ck_assert_msg(tio_now_ms() < deadline, "pending did not drain in 5 s");
		*got += recv_now(tp[1], out + *got, cap - *got);
		ck_assert_int_eq(event(1, 0, 1), RELAY_OPEN);
	}
	ck_assert(!holds(RELAY_C2U));
}

START_TEST(backpressure)
{
	size_t filled, payload = 32768, got = 0, cap;
	uint8_t *msg, *out;
	uint32_t held;

	filled = fill(tp[0], 1);
	cap = filled + payload + 4;
	msg = malloc(payload);
	out = malloc(cap);
	ck_assert_ptr_nonnull(msg);
	ck_assert_ptr_nonnull(out);
	fill_pattern(msg, payload, 0, 2);
	send_all(cp[0], msg, payload);

	ck_assert_int_eq(event(0, 1, 0), RELAY_OPEN);
	held = r.dir[RELAY_C2U].len;
	ck_assert_uint_gt(held, 0);
	ck_assert(holds(RELAY_C2U));
	ck_assert_uint_eq(r.bytes[RELAY_C2U], payload);
	/* Read no more from the client until the target takes what is held. */
	assert_wants(0, 0, 0);
	assert_wants(1, 1, 1);
	send_all(cp[0], "tail", 4);
	ck_assert_int_eq(event(0, 1, 0), RELAY_OPEN);
	ck_assert_uint_eq(r.bytes[RELAY_C2U], payload);
	/* Writable, but the target still reads nothing: still held. */
	ck_assert_int_eq(event(1, 0, 1), RELAY_OPEN);
	ck_assert_uint_gt(r.dir[RELAY_C2U].len, 0);
	/* The other way is not held up. */
	send_all(tp[1], "up", 2);
	ck_assert_int_eq(event(1, 1, 0), RELAY_OPEN);
	ck_assert_uint_eq(r.bytes[RELAY_U2C], 2);

	drain_c2t(out, cap, &got);
	assert_wants(0, 1, 0);
	assert_wants(1, 1, 0);
	ck_assert_int_eq(event(0, 1, 0), RELAY_OPEN);
	recv_exact(tp[1], out + got, cap - got);
	/* Filler (written by the test), payload, tail: in order, whole. */
	assert_pattern(out, filled, 1);
	ck_assert_mem_eq(out + filled, msg, payload);
	ck_assert_mem_eq(out + filled + payload, "tail", 4);
	ck_assert_uint_eq(r.bytes[RELAY_C2U], payload + 4);
	free(msg);
	free(out);
}
END_TEST

/* The same the other way, through the client's side. */
START_TEST(backpressure_target_to_client)
{
	size_t filled, payload = 50000, got = 0, total;
	uint8_t *msg, *out;
	long deadline = tio_now_ms() + 5000;

	filled = fill(cp[1], 3);
	total = filled + payload;
	msg = malloc(payload);
	out = malloc(total);
	ck_assert_ptr_nonnull(msg);
	ck_assert_ptr_nonnull(out);
	fill_pattern(msg, payload, 0, 4);
	send_all(tp[1], msg, payload);
	ck_assert_int_eq(event(1, 1, 0), RELAY_OPEN);
	ck_assert_uint_gt(r.dir[RELAY_U2C].len, 0);
	assert_wants(1, 0, 0);
	assert_wants(0, 1, 1);
	while (got < total) {
		ck_assert_msg(tio_now_ms() < deadline, "%zu of %zu in 5 s", got, total);
		got += recv_now(cp[0], out + got, total - got);
		ck_assert_int_eq(event(0, 0, 1), RELAY_OPEN);
		if (r.dir[RELAY_U2C].len == 0)
			ck_assert_int_eq(event(1, 1, 0), RELAY_OPEN);
	}
	assert_pattern(out, filled, 3);
	ck_assert_mem_eq(out + filled, msg, payload);
	ck_assert(!holds(RELAY_U2C));
	assert_wants(1, 1, 0);
	assert_wants(0, 1, 0);
	free(msg);
	free(out);
}
END_TEST

/* --- half-close ----------------------------------------------------------- */

START_TEST(half_close_client_first)
{
	uint8_t buf[16];

	send_all(cp[0], "last", 4);
	ck_assert_int_eq(shutdown(cp[0], SHUT_WR), 0);
	ck_assert_int_eq(event(0, 1, 0), RELAY_OPEN);	/* the data */
	ck_assert_int_eq(event(0, 1, 0), RELAY_OPEN);	/* the EOF */
	ck_assert_int_eq(r.dir[RELAY_C2U].eof, 1);
	ck_assert_int_eq(r.dir[RELAY_C2U].shut, 1);
	recv_exact(tp[1], buf, 4);
	ck_assert_mem_eq(buf, "last", 4);
	ck_assert_int_eq(at_eof(tp[1]), 1);	/* passed on as SHUT_WR */
	assert_wants(0, 0, 0);
	assert_wants(1, 1, 0);

	/* The target still talks, and is heard. */
	send_all(tp[1], "reply", 5);
	ck_assert_int_eq(event(1, 1, 0), RELAY_OPEN);
	recv_exact(cp[0], buf, 5);
	ck_assert_mem_eq(buf, "reply", 5);
	ck_assert_int_eq(at_eof(cp[0]), 0);

	ck_assert_int_eq(shutdown(tp[1], SHUT_WR), 0);
	ck_assert_int_eq(event(1, 1, 0), RELAY_DONE);
	ck_assert_int_eq(at_eof(cp[0]), 1);
	assert_wants(0, 0, 0);
	assert_wants(1, 0, 0);
	ck_assert_int_eq(event(0, 1, 1), RELAY_DONE);
	ck_assert_int_eq(event(1, 1, 1), RELAY_DONE);
	ck_assert_uint_eq(r.bytes[RELAY_C2U], 4);
	ck_assert_uint_eq(r.bytes[RELAY_U2C], 5);
}
END_TEST

START_TEST(half_close_target_first)
{
	uint8_t buf[16];

	ck_assert_int_eq(shutdown(tp[1], SHUT_WR), 0);
	ck_assert_int_eq(event(1, 1, 0), RELAY_OPEN);
	ck_assert_int_eq(at_eof(cp[0]), 1);
	ck_assert_int_eq(at_eof(tp[1]), 0);
	send_all(cp[0], "more", 4);
	ck_assert_int_eq(event(0, 1, 0), RELAY_OPEN);
	recv_exact(tp[1], buf, 4);
	ck_assert_mem_eq(buf, "more", 4);
	close(cp[0]);	/* a whole close reads as EOF too */
	cp[0] = -1;
	ck_assert_int_eq(event(0, 1, 0), RELAY_DONE);
	ck_assert_int_eq(at_eof(tp[1]), 1);
}
END_TEST

/* An EOF is passed on only after every byte before it. */
START_TEST(half_close_after_pending)
{
	size_t filled, payload = 20000, got = 0, cap;
	uint8_t *msg, *out;

	filled = fill(tp[0], 5);
	cap = filled + payload;
	msg = malloc(payload);
	out = malloc(cap);
	ck_assert_ptr_nonnull(msg);
	ck_assert_ptr_nonnull(out);
	fill_pattern(msg, payload, 0, 6);
	send_all(cp[0], msg, payload);
	ck_assert_int_eq(shutdown(cp[0], SHUT_WR), 0);
	ck_assert_int_eq(event(0, 1, 0), RELAY_OPEN);
	ck_assert_uint_gt(r.dir[RELAY_C2U].len, 0);
	ck_assert_int_eq(event(0, 1, 0), RELAY_OPEN);
	ck_assert_int_eq(r.dir[RELAY_C2U].shut, 0);
	drain_c2t(out, cap, &got);
	while (r.dir[RELAY_C2U].shut == 0) {
		ck_assert_uint_lt(r.bytes[RELAY_C2U], payload + 1);
		ck_assert_int_eq(event(0, 1, 0), RELAY_OPEN);
		drain_c2t(out, cap, &got);
	}
	recv_exact(tp[1], out + got, cap - got);
	ck_assert_int_eq(at_eof(tp[1]), 1);
	assert_pattern(out, filled, 5);
	ck_assert_mem_eq(out + filled, msg, payload);
	free(msg);
	free(out);
}
END_TEST

/* --- prime ---------------------------------------------------------------- */

START_TEST(prime_then_stream)
{
	uint8_t buf[16];

	ck_assert_int_eq(relay_prime(&r, RELAY_C2U, (const uint8_t *)"early", 5),
	    RELAY_OPEN);
	ck_assert_uint_eq(r.bytes[RELAY_C2U], 5);
	ck_assert_uint_eq(r.dir[RELAY_C2U].len, 0);
	send_all(cp[0], "late", 4);
	ck_assert_int_eq(event(0, 1, 0), RELAY_OPEN);
	recv_exact(tp[1], buf, 9);
	ck_assert_mem_eq(buf, "earlylate", 9);
	ck_assert_uint_eq(r.bytes[RELAY_C2U], 9);
	ck_assert_int_eq(relay_prime(&r, RELAY_U2C, (const uint8_t *)"hi", 2),
	    RELAY_OPEN);
	recv_exact(cp[0], buf, 2);
	ck_assert_mem_eq(buf, "hi", 2);
	ck_assert_uint_eq(r.bytes[RELAY_U2C], 2);
}
END_TEST

START_TEST(prime_nothing)
{
	ck_assert_int_eq(relay_prime(&r, RELAY_C2U, NULL, 0), RELAY_OPEN);
	ck_assert_int_eq(relay_prime(&r, RELAY_C2U, scratch, 0), RELAY_OPEN);
	ck_assert(!holds(RELAY_C2U));
	ck_assert_uint_eq(r.bytes[RELAY_C2U], 0);
	assert_wants(0, 1, 0);
	ck_assert_int_eq(at_eof(tp[1]), 0);
}
END_TEST

/* Primed bytes the target cannot take yet are held like any others. */
START_TEST(prime_into_full_target)
{
	size_t filled, got = 0, cap;
	uint8_t early[1000], *out;

	filled = fill(tp[0], 7);
	cap = filled + sizeof(early) + 4;
	out = malloc(cap);
	ck_assert_ptr_nonnull(out);
	fill_pattern(early, sizeof(early), 0, 8);
	ck_assert_int_eq(relay_prime(&r, RELAY_C2U, early, sizeof(early)),
	    RELAY_OPEN);
	ck_assert_uint_eq(r.dir[RELAY_C2U].len, sizeof(early));
	ck_assert_uint_eq(r.bytes[RELAY_C2U], sizeof(early));
	/* The caller's buffer is not borrowed. */
	memset(early, 0, sizeof(early));
	assert_wants(0, 0, 0);
	assert_wants(1, 1, 1);
	send_all(cp[0], "next", 4);
	drain_c2t(out, cap, &got);
	ck_assert_int_eq(event(0, 1, 0), RELAY_OPEN);
	recv_exact(tp[1], out + got, cap - got);
	assert_pattern(out, filled, 7);
	fill_pattern(early, sizeof(early), 0, 8);
	ck_assert_mem_eq(out + filled, early, sizeof(early));
	ck_assert_mem_eq(out + filled + sizeof(early), "next", 4);
	free(out);
}
END_TEST

/* --- resets ----------------------------------------------------------------- */

/* Writing to a target that is gone: a reset, and no SIGPIPE. */
START_TEST(reset_when_target_gone)
{
	close(tp[1]);
	tp[1] = -1;
	send_all(cp[0], "x", 1);
	ck_assert_int_eq(event(0, 1, 0), RELAY_RESET);
}
END_TEST

START_TEST(reset_when_prime_fails)
{
	close(tp[1]);
	tp[1] = -1;
	ck_assert_int_eq(relay_prime(&r, RELAY_C2U, (const uint8_t *)"x", 1),
	    RELAY_RESET);
}
END_TEST

/* A client that vanished with bytes unread reads as a reset, not an EOF. */
START_TEST(reset_when_client_resets)
{
	ck_assert_int_eq(send(cp[1], "unread", 6, 0), 6);
	close(cp[0]);
	cp[0] = -1;
	ck_assert_int_eq(event(0, 1, 0), RELAY_RESET);
}
END_TEST

/* Held bytes for a target that then goes away. */
START_TEST(reset_while_flushing)
{
	uint8_t msg[8192];
	int rc, i;

	(void)fill(tp[0], 9);
	memset(msg, 'm', sizeof(msg));
	send_all(cp[0], msg, sizeof(msg));
	ck_assert_int_eq(event(0, 1, 0), RELAY_OPEN);
	ck_assert_uint_gt(r.dir[RELAY_C2U].len, 0);
	close(tp[1]);
	tp[1] = -1;
	for (i = 0, rc = RELAY_OPEN; i < 3 && rc == RELAY_OPEN; i++)
		rc = event(1, 1, 1);
	ck_assert_int_eq(rc, RELAY_RESET);
}
END_TEST

/* --- close ----------------------------------------------------------------- */

/* Hold bytes both ways, so relay_close has two buffers to free. */
static void
hold_both_ways(void)
{
	uint8_t msg[10000];

	(void)fill(tp[0], 11);
	(void)fill(cp[1], 12);
	memset(msg, 'c', sizeof(msg));
	send_all(cp[0], msg, sizeof(msg));
	memset(msg, 't', sizeof(msg));
	send_all(tp[1], msg, sizeof(msg));
	ck_assert_int_eq(event(0, 1, 0), RELAY_OPEN);
	ck_assert_int_eq(event(1, 1, 0), RELAY_OPEN);
	ck_assert(holds(RELAY_C2U));
	ck_assert(holds(RELAY_U2C));
}

static void
assert_closed(int a, int b)
{
	ck_assert_int_eq(r.fd[0], -1);
	ck_assert_int_eq(r.fd[1], -1);
	ck_assert(!holds(0));
	ck_assert(!holds(1));
	ck_assert_uint_eq(r.dir[0].len, 0);
	ck_assert_uint_eq(r.dir[1].len, 0);
	ck_assert_int_eq(r.dir[0].pipe[0], -1);
	ck_assert_int_eq(r.dir[1].pipe[0], -1);
	errno = 0;
	ck_assert_int_eq(fcntl(a, F_GETFD), -1);
	ck_assert_int_eq(errno, EBADF);
	ck_assert_int_eq(fcntl(b, F_GETFD), -1);
}

/* Under ASan (make sanitize) a buffer left behind fails the test. */
START_TEST(close_frees_everything)
{
	int a = r.fd[0], b = r.fd[1];

	hold_both_ways();
	relay_close(&r, 0);
	assert_closed(a, b);
	relay_close(&r, 0);	/* again: nothing left to do */
	assert_closed(a, b);
}
END_TEST

START_TEST(close_with_reset)
{
	int a = r.fd[0], b = r.fd[1];
	uint8_t buf[4096];

	hold_both_ways();
	relay_close(&r, 1);
	assert_closed(a, b);
	/* The peers learn of it: nothing more comes, whatever was queued. */
	while (recv_now(cp[0], buf, sizeof(buf)) > 0)
		;
	ck_assert_int_eq(at_eof(cp[0]), 1);
}
END_TEST

START_TEST(close_idle)
{
	int a = r.fd[0], b = r.fd[1];

	relay_close(&r, 0);
	assert_closed(a, b);
	ck_assert_int_eq(at_eof(cp[0]), 1);
	ck_assert_int_eq(at_eof(tp[1]), 1);
}
END_TEST

/* --- a whole conversation --------------------------------------------------- */

/* One peer of the conversation: what it sends, what it has read. */
struct peer {
	int		 fd;
	unsigned	 seed_out, seed_in;
	size_t		 sent, rcvd, total;
	int		 shut, eof;
};

static void
peer_step(struct peer *p)
{
	uint8_t buf[8192];
	size_t want, i;
	ssize_t n;

	while (p->sent < p->total) {
		want = p->total - p->sent < sizeof(buf) ? p->total - p->sent :
		    sizeof(buf);
		fill_pattern(buf, want, p->sent, p->seed_out);
		n = send(p->fd, buf, want, MSG_NOSIGNAL);
		if (n < 0) {
			ck_assert_int_eq(errno, EAGAIN);
			break;
		}
		p->sent += (size_t)n;
	}
	if (p->sent == p->total && !p->shut) {
		ck_assert_int_eq(shutdown(p->fd, SHUT_WR), 0);
		p->shut = 1;
	}
	while (!p->eof) {
		n = recv(p->fd, buf, sizeof(buf), 0);
		if (n == 0)
			p->eof = 1;
		if (n <= 0)
			break;
		for (i = 0; i < (size_t)n; i++)
			if (buf[i] != pattern(p->rcvd + i, p->seed_in))
				ck_abort_msg("byte %zu garbled", p->rcvd + i);
		p->rcvd += (size_t)n;
	}
}

/* 1 MiB each way at once, driven by poll() and relay_wants() as a server would. */
START_TEST(conversation)
{
	static const size_t caps[] = { 1000, RELAY_SCRATCH };
	const size_t total = 1 << 20;
	struct peer c = { cp[0], 21, 22, 0, 0, total, 0, 0 };
	struct peer t = { tp[1], 22, 21, 0, 0, total, 0, 0 };
	struct pollfd pfd[2];
	struct relay_ctx sized = ctx;
	long deadline = tio_now_ms() + 20000;
	int rc = RELAY_OPEN, rd, wr, i;

	sized.cap = caps[_i];
	while (rc != RELAY_DONE || !c.eof || !t.eof) {
		ck_assert_msg(tio_now_ms() < deadline, "stuck: c %zu/%zu sent %zu rcvd, "
		    "t %zu/%zu, status %d", c.sent, total, c.rcvd, t.sent,
		    t.rcvd, rc);
		peer_step(&c);
		peer_step(&t);
		if (rc == RELAY_DONE)
			continue;
		for (i = 0; i < 2; i++) {
			relay_wants(&r, i, &rd, &wr);
			pfd[i].fd = r.fd[i];
			pfd[i].events = (short)((rd ? POLLIN : 0) |
			    (wr ? POLLOUT : 0));
			pfd[i].revents = 0;
		}
		ck_assert_int_ge(poll(pfd, 2, 10), 0);
		for (i = 0; i < 2 && rc == RELAY_OPEN; i++)
			if (pfd[i].revents != 0)
				rc = relay_event(&r, &sized, i,
				    (pfd[i].revents & (POLLIN | POLLHUP)) != 0,
				    (pfd[i].revents & POLLOUT) != 0);
		ck_assert_msg(rc == RELAY_OPEN || rc == RELAY_DONE, "status %d",
		    rc);
	}
	ck_assert_uint_eq(c.rcvd, total);
	ck_assert_uint_eq(t.rcvd, total);
	ck_assert_uint_eq(r.bytes[RELAY_C2U], total);
	ck_assert_uint_eq(r.bytes[RELAY_U2C], total);
	ck_assert(!holds(0));
	ck_assert(!holds(1));
}
END_TEST

static Suite *
relay_suite(void)
{
	Suite *s = suite_create("relay");
	TCase *tc;

	tc = tcase_create("bytes");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, init_state);
	tcase_add_test(tc, client_to_target);
	tcase_add_test(tc, target_to_client);
	tcase_add_test(tc, both_ways_counts);
	tcase_add_test(tc, readable_but_nothing_there);
	tcase_add_test(tc, small_scratch);
	suite_add_tcase(s, tc);

	tc = tcase_create("backpressure");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, backpressure);
	tcase_add_test(tc, backpressure_target_to_client);
	suite_add_tcase(s, tc);

	tc = tcase_create("half_close");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, half_close_client_first);
	tcase_add_test(tc, half_close_target_first);
	tcase_add_test(tc, half_close_after_pending);
	suite_add_tcase(s, tc);

	tc = tcase_create("prime");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, prime_then_stream);
	tcase_add_test(tc, prime_nothing);
	tcase_add_test(tc, prime_into_full_target);
	suite_add_tcase(s, tc);

	tc = tcase_create("reset");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, reset_when_target_gone);
	tcase_add_test(tc, reset_when_prime_fails);
	tcase_add_test(tc, reset_when_client_resets);
	tcase_add_test(tc, reset_while_flushing);
	suite_add_tcase(s, tc);

	tc = tcase_create("close");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, close_frees_everything);
	tcase_add_test(tc, close_with_reset);
	tcase_add_test(tc, close_idle);
	suite_add_tcase(s, tc);

	tc = tcase_create("conversation");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, conversation, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr;
	int failed;

	/* As erlfwd-server does: splice(2) has no MSG_NOSIGNAL. */
	signal(SIGPIPE, SIG_IGN);
	failed = 0;
	for (splice_mode = 0; splice_mode < 2; splice_mode++) {
		printf("relay mode: %s\n", splice_mode ? "splice" : "copy");
		sr = srunner_create(relay_suite());
		srunner_run_all(sr, CK_NORMAL);
		failed += srunner_ntests_failed(sr);
		srunner_free(sr);
	}
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
