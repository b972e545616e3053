/*
 * check_ep_poll.c: the poll(2) backend of the readiness sets
 * (tools/common/ep_poll.c, ep.h), linked alone, in every build: readiness,
 * level-triggered reports, removal, sets within sets, hang-ups, closed
 * descriptors, fairness past max.  One Check suite.
 */
#include <sys/socket.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ep.h"

/* A descriptor with its interest, as the event loops keep it. */
struct w {
	int		 fd;
	uint32_t	 cur;
};

static int
wait_now(int ep, struct ep_event *evs, int max)
{
	return ep_wait(ep, evs, max, 0);
}

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

START_TEST(readable_when_written)
{
	struct ep_event ev[4];
	struct w r = { -1, 0 };
	int ep, p[2];
	char c;

	ck_assert_int_ge(ep = ep_create(), 0);
	ck_assert_int_eq(pipe(p), 0);
	r.fd = p[0];
	ep_watch(ep, r.fd, &r.cur, EP_IN, &r);
	ck_assert_uint_eq(r.cur, EP_IN);
	ck_assert_int_eq(wait_now(ep, ev, 4), 0);
	ck_assert_int_eq(write(p[1], "x", 1), 1);
	ck_assert_int_eq(wait_now(ep, ev, 4), 1);
	ck_assert_uint_eq(ev[0].events, EP_IN);
	ck_assert_ptr_eq(ev[0].ptr, &r);
	/* Level-triggered: unread, it is reported again, and again. */
	ck_assert_int_eq(wait_now(ep, ev, 4), 1);
	ck_assert_int_eq(ep_wait(ep, ev, 4, 1000), 1);
	ck_assert_ptr_eq(ev[0].ptr, &r);
	ck_assert_int_eq(read(p[0], &c, 1), 1);
	ck_assert_int_eq(wait_now(ep, ev, 4), 0);
	ep_close(ep);
	close(p[0]);
	close(p[1]);
}
END_TEST

START_TEST(writable_and_changed)
{
	struct ep_event ev[4];
	struct w s = { -1, 0 };
	int ep, sv[2];

	ck_assert_int_ge(ep = ep_create(), 0);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	s.fd = sv[0];
	ep_watch(ep, s.fd, &s.cur, EP_IN | EP_OUT, &s);
	ck_assert_int_eq(wait_now(ep, ev, 4), 1);
	ck_assert_uint_eq(ev[0].events, EP_OUT);
	/* Changed to reading only: nothing to read, nothing reported. */
	ep_watch(ep, s.fd, &s.cur, EP_IN, &s);
	ck_assert_uint_eq(s.cur, EP_IN);
	ck_assert_int_eq(wait_now(ep, ev, 4), 0);
	ck_assert_int_eq(write(sv[1], "ab", 2), 2);
	ck_assert_int_eq(wait_now(ep, ev, 4), 1);
	ck_assert_uint_eq(ev[0].events, EP_IN);
	ep_close(ep);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(removed_is_silent)
{
	struct ep_event ev[4];
	struct w a = { -1, 0 }, b = { -1, 0 };
	int ep, p[2], q[2];

	ck_assert_int_ge(ep = ep_create(), 0);
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(pipe(q), 0);
	a.fd = p[0];
	b.fd = q[0];
	ep_watch(ep, a.fd, &a.cur, EP_IN, &a);
	ep_watch(ep, b.fd, &b.cur, EP_IN, &b);
	ck_assert_int_eq(write(p[1], "x", 1), 1);
	ck_assert_int_eq(write(q[1], "x", 1), 1);
	ck_assert_int_eq(wait_now(ep, ev, 4), 2);
	ep_watch(ep, a.fd, &a.cur, 0, &a);
	ck_assert_uint_eq(a.cur, 0);
	ck_assert_int_eq(wait_now(ep, ev, 4), 1);
	ck_assert_ptr_eq(ev[0].ptr, &b);
	/* Removing twice, or what was never added, is harmless. */
	a.cur = EP_IN;
	ep_watch(ep, a.fd, &a.cur, 0, &a);
	ck_assert_int_eq(wait_now(ep, ev, 4), 1);
	/* Watched again, it is back. */
	ep_watch(ep, a.fd, &a.cur, EP_IN, &a);
	ck_assert_int_eq(wait_now(ep, ev, 4), 2);
	ep_close(ep);
	close(p[0]);
	close(p[1]);
	close(q[0]);
	close(q[1]);
}
END_TEST

/* The mux's set in its owner's: the owner hears of it, the mux says what. */
START_TEST(nested_set)
{
	struct ep_event ev[4];
	struct w in = { -1, 0 }, m = { -1, 0 }, l = { -1, 0 };
	int outer, inner, p[2], q[2];
	char c;

	ck_assert_int_ge(outer = ep_create(), 0);
	ck_assert_int_ge(inner = ep_create(), 0);
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(pipe(q), 0);
	in.fd = p[0];
	ep_watch(inner, in.fd, &in.cur, EP_IN, &in);
	m.fd = inner;
	ep_watch(outer, m.fd, &m.cur, EP_IN, &m);
	l.fd = q[0];
	ep_watch(outer, l.fd, &l.cur, EP_IN, &l);
	ck_assert_int_eq(ep_wait(outer, ev, 4, 50), 0);
	ck_assert_int_eq(write(p[1], "x", 1), 1);
	ck_assert_int_eq(ep_wait(outer, ev, 4, 1000), 1);
	ck_assert_uint_eq(ev[0].events, EP_IN);
	ck_assert_ptr_eq(ev[0].ptr, &m);
	ck_assert_int_eq(wait_now(inner, ev, 4), 1);
	ck_assert_ptr_eq(ev[0].ptr, &in);
	/* Both levels keep saying so until it is read. */
	ck_assert_int_eq(wait_now(outer, ev, 4), 1);
	ck_assert_int_eq(read(p[0], &c, 1), 1);
	ck_assert_int_eq(wait_now(outer, ev, 4), 0);
	/* An inner descriptor no longer watched wakes no one outside. */
	ck_assert_int_eq(write(p[1], "x", 1), 1);
	ep_watch(inner, in.fd, &in.cur, 0, &in);
	ck_assert_int_eq(wait_now(outer, ev, 4), 0);
	/* The outer set's own descriptors are there beside the inner set. */
	ck_assert_int_eq(write(q[1], "y", 1), 1);
	ck_assert_int_eq(wait_now(outer, ev, 4), 1);
	ck_assert_ptr_eq(ev[0].ptr, &l);
	/* Interest added to the inner set after the outer watched it. */
	ep_watch(inner, in.fd, &in.cur, EP_IN, &in);
	ck_assert_int_eq(wait_now(outer, ev, 4), 2);
	ep_watch(outer, m.fd, &m.cur, 0, &m);
	ep_close(inner);
	ep_close(outer);
	close(p[0]);
	close(p[1]);
	close(q[0]);
	close(q[1]);
}
END_TEST

/* A set's own descriptor is never readable by itself: no spin. */
START_TEST(empty_inner_set_sleeps)
{
	struct ep_event ev[2];
	struct w m = { -1, 0 };
	int outer, inner;
	long t0;

	ck_assert_int_ge(outer = ep_create(), 0);
	ck_assert_int_ge(inner = ep_create(), 0);
	m.fd = inner;
	ep_watch(outer, m.fd, &m.cur, EP_IN, &m);
	t0 = now_ms();
	ck_assert_int_eq(ep_wait(outer, ev, 2, 100), 0);
	ck_assert_int_ge(now_ms() - t0, 90);
	ep_close(inner);
	ep_close(outer);
}
END_TEST

START_TEST(hangup)
{
	struct ep_event ev[4];
	struct w r = { -1, 0 }, s = { -1, 0 };
	int ep, p[2], sv[2];

	ck_assert_int_ge(ep = ep_create(), 0);
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	r.fd = p[0];
	s.fd = sv[0];
	ep_watch(ep, r.fd, &r.cur, EP_IN, &r);
	ep_watch(ep, s.fd, &s.cur, EP_IN | EP_RDHUP, &s);
	close(p[1]);
	ck_assert_int_eq(wait_now(ep, ev, 4), 1);
	ck_assert_ptr_eq(ev[0].ptr, &r);
	ck_assert((ev[0].events & (EP_IN | EP_HUP)) != 0);
	/* A peer's shutdown is readable: the read says EOF. */
	ck_assert_int_eq(shutdown(sv[1], SHUT_WR), 0);
	ck_assert_int_eq(wait_now(ep, ev, 4), 2);
	ep_watch(ep, r.fd, &r.cur, 0, &r);
	ck_assert_int_eq(wait_now(ep, ev, 4), 1);
	ck_assert_ptr_eq(ev[0].ptr, &s);
	ck_assert(ev[0].events & EP_IN);
	ep_close(ep);
	close(p[0]);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

/* Epoll forgets a closed descriptor; so does this, without a report. */
START_TEST(closed_is_forgotten)
{
	struct ep_event ev[4];
	struct w r = { -1, 0 };
	int ep, p[2];

	ck_assert_int_ge(ep = ep_create(), 0);
	ck_assert_int_eq(pipe(p), 0);
	r.fd = p[0];
	ep_watch(ep, r.fd, &r.cur, EP_IN, &r);
	close(p[0]);
	close(p[1]);
	ck_assert_int_eq(wait_now(ep, ev, 4), 0);
	ck_assert_int_eq(wait_now(ep, ev, 4), 0);
	/* Its number, back for a new descriptor, is watched afresh. */
	ck_assert_int_eq(pipe(p), 0);
	r.fd = p[0];
	r.cur = 0;
	ep_watch(ep, r.fd, &r.cur, EP_IN, &r);
	ck_assert_int_eq(write(p[1], "x", 1), 1);
	ck_assert_int_eq(wait_now(ep, ev, 4), 1);
	ck_assert_ptr_eq(ev[0].ptr, &r);
	ep_close(ep);
	close(p[0]);
	close(p[1]);
}
END_TEST

/* More ready than max: each wait starts where the last one stopped. */
START_TEST(fair_past_max)
{
	struct ep_event ev[1];
	struct w w[3];
	int ep, p[3][2], i, seen[3] = { 0, 0, 0 };

	ck_assert_int_ge(ep = ep_create(), 0);
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(pipe(p[i]), 0);
		ck_assert_int_eq(write(p[i][1], "x", 1), 1);
		w[i].fd = p[i][0];
		w[i].cur = 0;
		ep_watch(ep, w[i].fd, &w[i].cur, EP_IN, &w[i]);
	}
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(wait_now(ep, ev, 1), 1);
		seen[(struct w *)ev[0].ptr - w]++;
	}
	ck_assert_int_eq(seen[0] + seen[1] + seen[2], 3);
	ck_assert_int_eq(seen[0] * seen[1] * seen[2], 1);
	ep_close(ep);
	for (i = 0; i < 3; i++) {
		close(p[i][0]);
		close(p[i][1]);
	}
}
END_TEST

START_TEST(set_is_a_descriptor)
{
	struct ep_event ev[1];
	int ep, fl;

	ck_assert_int_ge(ep = ep_create(), 0);
	ck_assert_int_ge(fl = fcntl(ep, F_GETFD), 0);
	ck_assert(fl & FD_CLOEXEC);
	ep_close(ep);
	ck_assert_int_eq(fcntl(ep, F_GETFD), -1);
	ck_assert_int_eq(ep_wait(ep, ev, 1, 0), -1);
	ck_assert_int_eq(errno, EBADF);
}
END_TEST

static Suite *
ep_poll_suite(void)
{
	Suite *s = suite_create("ep_poll");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, readable_when_written);
	tcase_add_test(tc, writable_and_changed);
	tcase_add_test(tc, removed_is_silent);
	tcase_add_test(tc, nested_set);
	tcase_add_test(tc, empty_inner_set_sleeps);
	tcase_add_test(tc, hangup);
	tcase_add_test(tc, closed_is_forgotten);
	tcase_add_test(tc, fair_past_max);
	tcase_add_test(tc, set_is_a_descriptor);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr;
	int failed;

	sr = srunner_create(ep_poll_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
