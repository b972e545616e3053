/*
 * check_daemon.c: erlfwd-server's shared loop (tools/server/daemon.h):
 * setups end in deadline order and not before; quiet relays end after the
 * idle or the linger limit of their queue, and a byte moved puts one off;
 * a connection past max_conns is refused, not accepted.  The roles'
 * callbacks are recorders here.  (Out of descriptors, the listener's pause
 * is end to end: t_server_sigpipe_emfile; valgrind's own descriptor limit
 * makes a unit case of it unreliable.)
 */
#include <sys/socket.h>

#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "sock.h"
#include "tio.h"

#define EVENTS_MAX	16

struct rec {
	struct daemon	 d;
	char		 log[EVENTS_MAX][32];	/* "expired 1", "quiet 2 idle" */
	long		 at[EVENTS_MAX];	/* ms after t0 */
	int		 n;
	long		 t0;
	int		 accepted, refused, releases;
	int		 stop_after;		/* events, then daemon_stop() */
	long		 give_up;		/* tio_now_ms() bound */
	int		 loops;			/* due() calls */
};

struct tconn {
	struct dconn	 d;
	int		 id;
};

static void
note(struct rec *r, const char *fmt, int id, const char *more)
{
	if (r->n < EVENTS_MAX) {
		snprintf(r->log[r->n], sizeof(r->log[0]), fmt, id,
		    more != NULL ? more : "");
		r->at[r->n] = tio_now_ms() - r->t0;
		r->n++;
	}
	if (r->n >= r->stop_after)
		daemon_stop(&r->d, -1);
}

static void
t_accept(void *arg, int fd, const char *peer)
{
	struct rec *r = arg;

	(void)peer;
	r->accepted++;
	close(fd);
	note(r, "accept %d%s", r->accepted, NULL);
}

static void
t_refuse(void *arg, int fd, const char *peer)
{
	struct rec *r = arg;

	(void)peer;
	r->refused++;
	close(fd);
	note(r, "refuse %d%s", r->refused, NULL);
}

static void
t_event(void *arg, void *ptr, uint32_t ev)
{
	(void)arg;
	(void)ptr;
	(void)ev;
}

static void
t_expired(void *arg, struct dconn *c)
{
	struct rec *r = arg;

	daemon_conn_end(&r->d, c);
	note(r, "expired %d%s", ((struct tconn *)c)->id, NULL);
}

static void
t_quiet(void *arg, struct dconn *c, const char *reason)
{
	struct rec *r = arg;
	char more[20];

	snprintf(more, sizeof(more), " %s", reason);
	daemon_conn_end(&r->d, c);
	note(r, "quiet %d%s", ((struct tconn *)c)->id, more);
}

static void
t_release(void *arg, struct dconn *c)
{
	struct rec *r = arg;

	r->releases++;
	free(c);
}

/* Polls every 5 ms, and bounds the test. */
static int
t_due(void *arg)
{
	struct rec *r = arg;

	r->loops++;
	if (tio_now_ms() > r->give_up)
		daemon_stop(&r->d, -1);
	return 5;
}

static const struct daemon_ops ops = {
	.accept = t_accept, .refuse = t_refuse, .event = t_event,
	.expired = t_expired, .quiet = t_quiet, .release = t_release,
	.due = t_due,
};

static struct rec *
start(int max_conns, int setup_ms, int idle_ms, int linger_ms, int stop_after)
{
	struct daemon_limits lim = { max_conns, setup_ms, idle_ms, linger_ms };
	struct rec *r = calloc(1, sizeof(*r));

	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(daemon_init(&r->d, &ops, r, &lim), 0);
	r->t0 = tio_now_ms();
	r->give_up = r->t0 + 3000;
	r->stop_after = stop_after;
	return r;
}

static struct tconn *
add(struct rec *r, int id)
{
	struct tconn *c = calloc(1, sizeof(*c));

	ck_assert_ptr_nonnull(c);
	c->id = id;
	daemon_conn_add(&r->d, &c->d);
	return c;
}

static void
finish(struct rec *r)
{
	struct dconn *c;

	while ((c = TAILQ_FIRST(&r->d.conns)) != NULL)
		daemon_conn_end(&r->d, c);
	daemon_bury(&r->d);
	daemon_fini(&r->d);
	free(r);
}

/* Setups end at their deadline, in the order they came, not before. */
START_TEST(setup_deadlines)
{
	struct rec *r = start(8, 60, 0, 0, 2);

	add(r, 1);
	usleep(20000);
	add(r, 2);
	ck_assert_int_eq(r->d.nconns, 2);
	ck_assert_int_eq(daemon_run(&r->d), 0);
	ck_assert_int_eq(r->n, 2);
	ck_assert_str_eq(r->log[0], "expired 1");
	ck_assert_str_eq(r->log[1], "expired 2");
	ck_assert_int_ge(r->at[0], 60);
	ck_assert_int_ge(r->at[1], 80);
	ck_assert_int_eq(r->d.nconns, 0);
	ck_assert_int_eq(r->releases, 2);	/* the graveyard, after the batch */
	finish(r);
}
END_TEST

/* A setup done is no longer timed: it stays until ended otherwise. */
START_TEST(setup_done_untimed)
{
	struct rec *r = start(8, 30, 0, 0, 1);
	struct tconn *c1 = add(r, 1);

	add(r, 2);
	daemon_setup_done(&r->d, &c1->d);
	ck_assert_int_eq(daemon_run(&r->d), 0);
	ck_assert_str_eq(r->log[0], "expired 2");
	r->stop_after = 99;
	r->d.stopping = 0;
	r->give_up = tio_now_ms() + 100;
	ck_assert_int_eq(daemon_run(&r->d), 0);	/* stopped at give_up */
	ck_assert_int_ge(tio_now_ms(), r->give_up);
	ck_assert_int_eq(r->n, 1);
	ck_assert_int_eq(r->d.nconns, 1);
	finish(r);
}
END_TEST

/*
 * Relays: the open ones end after idle_ms, the half-closed ones after
 * linger_ms, counted from their last byte; a byte moved puts one off.
 */
START_TEST(quiet_queues)
{
	struct rec *r = start(8, 1000, 60, 30, 3);
	struct tconn *a = add(r, 1), *b = add(r, 2), *c = add(r, 3);

	daemon_setup_done(&r->d, &a->d);
	daemon_relay_queue(&r->d, &a->d, DAEMON_RQ_IDLE);
	daemon_setup_done(&r->d, &b->d);
	daemon_relay_queue(&r->d, &b->d, DAEMON_RQ_IDLE);
	daemon_relay_moved(&r->d, &b->d, 1, 0);		/* an EOF: linger */
	ck_assert_ptr_eq(b->d.rq, &r->d.lingerq);
	daemon_setup_done(&r->d, &c->d);
	daemon_relay_queue(&r->d, &c->d, DAEMON_RQ_IDLE);
	usleep(40000);
	daemon_relay_moved(&r->d, &c->d, 0, 1);		/* a byte: later */
	ck_assert_int_eq(daemon_run(&r->d), 0);
	ck_assert_int_eq(r->n, 3);
	ck_assert_str_eq(r->log[0], "quiet 2 half-closed");
	ck_assert_str_eq(r->log[1], "quiet 1 idle");
	ck_assert_str_eq(r->log[2], "quiet 3 idle");
	ck_assert_int_ge(r->at[0], 30);
	ck_assert_int_ge(r->at[1], 60);
	ck_assert_int_ge(r->at[2], 100);		/* 40 + 60 */
	finish(r);
}
END_TEST

/* The listener's port; a client connected to it. */
static int
listen_and_connect(struct rec *r)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	socklen_t len = sock_loopback(&ss, 0);
	int fd;

	ck_assert_int_eq(daemon_listen(&r->d, (struct sockaddr *)&ss, len), 0);
	ck_assert_int_eq(getsockname(r->d.lh.fd, (struct sockaddr *)&ss,
	    &len), 0);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)sin, len), 0);
	return fd;
}

/* Past max_conns, the role's refuse(), never its accept(). */
START_TEST(refuse_past_max)
{
	struct rec *r = start(1, 1000, 0, 0, 1);
	int fd;

	add(r, 1);
	fd = listen_and_connect(r);
	ck_assert_int_eq(daemon_run(&r->d), 0);
	ck_assert_str_eq(r->log[0], "refuse 1");
	ck_assert_int_eq(r->accepted, 0);
	close(fd);
	finish(r);
}
END_TEST

static Suite *
daemon_suite(void)
{
	Suite *s = suite_create("daemon");
	TCase *tc = tcase_create("queues");

	tcase_add_test(tc, setup_deadlines);
	tcase_add_test(tc, setup_done_untimed);
	tcase_add_test(tc, quiet_queues);
	suite_add_tcase(s, tc);
	tc = tcase_create("listener");
	tcase_add_test(tc, refuse_past_max);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr;
	int failed;

	sr = srunner_create(daemon_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
