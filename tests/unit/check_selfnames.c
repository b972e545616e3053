/*
 * check_selfnames.c: the host names this host's nodes go by, for the
 * cluster helper (tools/server/selfnames.h), one Check suite.
 *
 * The table: epmd's NAMES merged in (a node kept while listed on the same
 * port, with what it said; a new registration asked anew), a node's answer
 * kept only when its host part is a host name.  The refresh: in the
 * daemon's loop against a fake epmd and fake nodes in a child process, a
 * node that answers gives its host, one that refuses or is not there gives
 * none, one that stays silent holds the refresh to its deadline and is
 * asked again only SELFNAMES_RETRY_MS later, and epmd not there ends a
 * refresh at once.
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "dist.h"
#include "selfnames.h"
#include "sock.h"
#include "tio.h"

static struct selfnames T;

static void
merge(const char *text)
{
	selfnames_merge(&T, text, strlen(text));
}

/* The node at i, checked to be alive on port. */
static struct selfnames_node *
node(size_t i, const char *alive, uint16_t port)
{
	ck_assert_uint_lt(i, T.nnodes);
	ck_assert_str_eq(T.nodes[i].alive, alive);
	ck_assert_uint_eq(T.nodes[i].port, port);
	return &T.nodes[i];
}

/* ---- the table ------------------------------------------------------------ */

START_TEST(merge_keeps_and_forgets)
{
	selfnames_init(&T, NULL, 4369, NULL, NULL);
	merge("name app at port 4000\nname other at port 4001\n");
	ck_assert_uint_eq(T.nnodes, 2);
	ck_assert_int_eq(node(0, "app", 4000)->state, SELFNAMES_NEW);
	ck_assert_int_eq(node(1, "other", 4001)->state, SELFNAMES_NEW);
	ck_assert_str_eq(selfnames_learn(&T, 0, "app@web-1"), "web-1");
	ck_assert(selfnames_has(&T, "web-1"));
	ck_assert(selfnames_has(&T, "WEB-1"));
	ck_assert(!selfnames_has(&T, "web-2"));

	/* other leaves, console comes: app keeps what it said. */
	merge("name console at port 4002\nname app at port 4000\n");
	ck_assert_uint_eq(T.nnodes, 2);
	ck_assert_int_eq(node(0, "app", 4000)->state, SELFNAMES_DONE);
	ck_assert_str_eq(T.nodes[0].host, "web-1");
	ck_assert_int_eq(node(1, "console", 4002)->state, SELFNAMES_NEW);
	ck_assert(selfnames_has(&T, "web-1"));

	/* app again on another port: a new registration, asked anew. */
	merge("name app at port 4003\n");
	ck_assert_uint_eq(T.nnodes, 1);
	ck_assert_int_eq(node(0, "app", 4003)->state, SELFNAMES_NEW);
	ck_assert_str_eq(T.nodes[0].host, "");
	ck_assert(!selfnames_has(&T, "web-1"));

	/* epmd gone, or empty: no node, no name. */
	merge("");
	ck_assert_uint_eq(T.nnodes, 0);
}
END_TEST

/* Odd lines are no nodes; past SELFNAMES_NODES, the rest waits its turn. */
START_TEST(merge_bounds)
{
	static char text[SELFNAMES_NODES * 2 * 40];
	size_t off = 0;
	int i;

	selfnames_init(&T, NULL, 4369, NULL, NULL);
	off += (size_t)snprintf(text + off, sizeof(text) - off,
	    "name x at port 5432\nname y\nname at port 1\nname sp ace at "
	    "port 7\n");
	for (i = 0; i < 2 * SELFNAMES_NODES; i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off,
		    "name n%d at port %d\n", i, 10000 + i);
	merge(text);
	ck_assert_uint_eq(T.nnodes, SELFNAMES_NODES);
	node(0, "x", 5432);
	node(1, "n0", 10000);
	for (i = 0; i < (int)T.nnodes; i++)
		ck_assert_ptr_null(strchr(T.nodes[i].alive, ' '));
}
END_TEST

static const struct {
	const char	*full;
	const char	*host;	/* NULL: none kept */
} learns[] = {
	{ "app@web-1", "web-1" },
	{ "app@web-848cd4f64d-pvpr2", "web-848cd4f64d-pvpr2" },
	{ "app@web-1.internal.example", "web-1.internal.example" },
	{ "app@", NULL },
	{ "app", NULL },
	{ "app@web 1", NULL },
	{ "app@web-1\nx", NULL },
	{ "app@*", NULL },
	{ "@", NULL },
};

START_TEST(learn_host_names_only)
{
	const char *got;

	selfnames_init(&T, NULL, 4369, NULL, NULL);
	merge("name app at port 4000\n");
	got = selfnames_learn(&T, 0, learns[_i].full);
	ck_assert_int_eq(T.nodes[0].state, SELFNAMES_DONE);
	if (learns[_i].host == NULL) {
		ck_assert_ptr_null(got);
		ck_assert_str_eq(T.nodes[0].host, "");
		return;
	}
	ck_assert_str_eq(got, learns[_i].host);
	ck_assert(selfnames_has(&T, learns[_i].host));
}
END_TEST

/* ---- a refresh, end to end ------------------------------------------------ */

/* The fake host: epmd, and nodes that answer, refuse or stay silent. */
enum { F_EPMD, F_GOOD, F_REFUSE, F_SILENT, F_N };

struct loop {
	struct daemon	 d;
	int		 dones;
	long		 t0, at;	/* at: the first done, ms after t0 */
};

static struct loop L;
static pid_t child = -1;
static uint16_t ports[F_N];

static void
l_event(void *arg, void *ptr, uint32_t ev)
{
	(void)arg;
	ck_assert(selfnames_owns(&T, ptr));
	selfnames_event(&T, ptr, ev);
}

static int
l_due(void *arg)
{
	struct loop *l = arg;
	int t = selfnames_due(&T, tio_now_ms());

	/* A bound on the test, not on the module. */
	if (tio_now_ms() - l->t0 > 5000)
		daemon_stop(&l->d, -1);
	return t < 0 || t > 50 ? 50 : t;
}

static void
l_done(void *arg)
{
	struct loop *l = arg;

	if (l->dones++ == 0)
		l->at = tio_now_ms() - l->t0;
	daemon_stop(&l->d, -1);
}

static void l_unused(void *arg, struct dconn *c) { (void)arg; (void)c; }
static void l_quiet(void *arg, struct dconn *c, const char *r)
{ (void)arg; (void)c; (void)r; }
static void l_fd(void *arg, int fd, const char *peer)
{ (void)arg; (void)peer; close(fd); }

static const struct daemon_ops l_ops = {
	.accept = l_fd, .refuse = l_fd, .event = l_event,
	.expired = l_unused, .quiet = l_quiet, .release = l_unused,
	.due = l_due,
};

/* Read until n bytes of a handshake message (or EOF) are in. */
static size_t
read_msg(int fd, uint8_t *buf, size_t cap)
{
	size_t len = 0;
	ssize_t k;

	while (len < cap) {
		if ((k = recv(fd, buf + len, cap - len, 0)) <= 0)
			break;
		len += (size_t)k;
		if (len >= 2 && len >= 2 + ((size_t)buf[0] << 8 | buf[1]))
			break;
	}
	return len;
}

/* The child: serve each listener as its kind does, until killed. */
static void
fake_host(int lfd[F_N])
{
	static const uint8_t good[] = {
		0, 3, 's', 'o', 'k',
		0, 29, 'N', 0, 0, 0, 0x0d, 0x07, 0xdf, 0x7f, 0xbd,
		1, 2, 3, 4, 0, 0, 0, 7,
		0, 10, 'g', 'o', 'o', 'd', '@', 'w', 'e', 'b', '-', '7',
	};
	static const uint8_t refuse[] = { 0, 12, 's', 'n', 'o', 't', '_',
	    'a', 'l', 'l', 'o', 'w', 'e', 'd' };
	struct pollfd p[F_N];
	uint8_t buf[512];
	char names[256];
	int i, fd, n;

	for (i = 0; i < F_N; i++) {
		p[i].fd = lfd[i];
		p[i].events = POLLIN;
	}
	n = snprintf(names + 4, sizeof(names) - 4, "name good at port %u\n"
	    "name refuse at port %u\nname silent at port %u\nname gone at "
	    "port 1\n", ports[F_GOOD], ports[F_REFUSE], ports[F_SILENT]);
	names[0] = names[1] = 0;
	names[2] = 0x11;
	names[3] = 0x11;
	for (;;) {
		if (poll(p, F_N, -1) < 0)
			_exit(1);
		for (i = 0; i < F_N; i++) {
			if (!(p[i].revents & POLLIN) ||
			    (fd = accept(lfd[i], NULL, NULL)) < 0)
				continue;
			switch (i) {
			case F_EPMD:
				(void)read(fd, buf, 3);
				(void)!write(fd, names, (size_t)n + 4);
				close(fd);
				break;
			case F_GOOD:
				(void)read_msg(fd, buf, sizeof(buf));
				(void)!write(fd, good, sizeof(good));
				/* As a node: wait for the reply that never
				 * comes, until the asker closes. */
				while (read(fd, buf, sizeof(buf)) > 0)
					;
				close(fd);
				break;
			case F_REFUSE:
				(void)read_msg(fd, buf, sizeof(buf));
				(void)!write(fd, refuse, sizeof(refuse));
				close(fd);
				break;
			default:	/* F_SILENT: takes it and says nothing;
					 * the fd stays open until this child
					 * is killed. */
				break;
			}
		}
	}
}

static void
start_fake_host(void)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int lfd[F_N], i;

	for (i = 0; i < F_N; i++) {
		len = sock_loopback(&ss, 0);
		lfd[i] = sock_listen((struct sockaddr *)&ss, len, 16);
		ck_assert_int_ge(lfd[i], 0);
		ck_assert_int_eq(getsockname(lfd[i], (struct sockaddr *)&ss,
		    &len), 0);
		ports[i] = sock_port((struct sockaddr *)&ss);
		/* The child blocks in poll and accept. */
		ck_assert_int_eq(fcntl(lfd[i], F_SETFL, 0), 0);
	}
	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0)
		fake_host(lfd);
	for (i = 0; i < F_N; i++)
		close(lfd[i]);
}

static void
setup(void)
{
	struct daemon_limits lim = { .max_conns = 8, .setup_timeout_ms = 1000 };

	memset(&L, 0, sizeof(L));
	ck_assert_int_eq(daemon_init(&L.d, &l_ops, &L, &lim), 0);
	child = -1;
}

static void
teardown(void)
{
	selfnames_fini(&T);
	daemon_fini(&L.d);
	if (child > 0) {
		kill(child, SIGKILL);
		(void)waitpid(child, NULL, 0);
	}
}

/* One refresh in the daemon's loop; returns ms until done() said so. */
static long
refresh(void)
{
	L.dones = 0;
	L.d.stopping = 0;
	L.t0 = tio_now_ms();
	selfnames_refresh(&T, L.t0);
	if (L.dones == 0)
		ck_assert_int_eq(daemon_run(&L.d), 0);
	ck_assert_int_eq(L.dones, 1);
	return L.at;
}

static size_t
find(const char *alive)
{
	size_t i;

	for (i = 0; i < T.nnodes; i++)
		if (strcmp(T.nodes[i].alive, alive) == 0)
			return i;
	ck_abort_msg("no node %s", alive);
	return 0;
}

START_TEST(refresh_asks_the_nodes)
{
	long ms;

	start_fake_host();
	selfnames_init(&T, &L.d, ports[F_EPMD], l_done, &L);
	ck_assert(selfnames_stale(&T, tio_now_ms()));
	ms = refresh();
	/* The silent one holds it to the deadline, and no longer. */
	ck_assert_int_ge(ms, SELFNAMES_WAIT_MS - 5);
	ck_assert_int_le(ms, SELFNAMES_WAIT_MS + 300);
	ck_assert_uint_eq(T.nnodes, 4);
	ck_assert_str_eq(T.nodes[find("good")].host, "web-7");
	ck_assert_int_eq(T.nodes[find("good")].state, SELFNAMES_DONE);
	ck_assert_str_eq(T.nodes[find("refuse")].host, "");
	ck_assert_int_eq(T.nodes[find("refuse")].state, SELFNAMES_DONE);
	ck_assert_int_eq(T.nodes[find("gone")].state, SELFNAMES_DONE);
	/* Not answered in time: asked again next time. */
	ck_assert_int_eq(T.nodes[find("silent")].state, SELFNAMES_NEW);
	ck_assert(selfnames_has(&T, "WEB-7"));
	ck_assert(!selfnames_has(&T, "localhost"));
	/* Fresh for the TTL, from the refresh's end. */
	ck_assert(!selfnames_stale(&T, tio_now_ms()));
	ck_assert(selfnames_stale(&T, tio_now_ms() + SELFNAMES_TTL_MS));
	ck_assert_int_eq(selfnames_due(&T, tio_now_ms()), -1);
	/* No socket left behind. */
	for (size_t i = 0; i < sizeof(T.conns) / sizeof(T.conns[0]); i++)
		ck_assert_int_eq(T.conns[i].fd, -1);

	/* Again: the answered stay answered, and the silent one does not
	 * hold this refresh too: it is asked again only later. */
	ms = refresh();
	ck_assert_int_le(ms, 100);
	ck_assert_str_eq(T.nodes[find("good")].host, "web-7");
	ck_assert_int_eq(T.nodes[find("silent")].state, SELFNAMES_NEW);
	T.nodes[find("silent")].retry_at = tio_now_ms();
	ms = refresh();
	ck_assert_int_ge(ms, SELFNAMES_WAIT_MS - 5);
	ck_assert_int_eq(T.nodes[find("silent")].state, SELFNAMES_NEW);
}
END_TEST

/* epmd not there: the refresh ends at once, with no node. */
START_TEST(refresh_without_epmd)
{
	struct sockaddr_storage ss;
	socklen_t len = sock_loopback(&ss, 0);
	int fd = sock_listen((struct sockaddr *)&ss, len, 1);
	uint16_t port;
	long ms;

	/* A port that was free a moment ago: nothing listens there now. */
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	port = sock_port((struct sockaddr *)&ss);
	close(fd);
	selfnames_init(&T, &L.d, port, l_done, &L);
	T.nnodes = 1;	/* a node from before: gone with epmd */
	ms = refresh();
	ck_assert_int_le(ms, 100);
	ck_assert_uint_eq(T.nnodes, 0);
	ck_assert(!selfnames_stale(&T, tio_now_ms()));
}
END_TEST

static Suite *
selfnames_suite(void)
{
	Suite *s = suite_create("selfnames");
	TCase *tc;

	tc = tcase_create("table");
	tcase_add_test(tc, merge_keeps_and_forgets);
	tcase_add_test(tc, merge_bounds);
	tcase_add_loop_test(tc, learn_host_names_only, 0,
	    (int)(sizeof(learns) / sizeof(learns[0])));
	suite_add_tcase(s, tc);

	tc = tcase_create("refresh");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, refresh_asks_the_nodes);
	tcase_add_test(tc, refresh_without_epmd);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(selfnames_suite());
	int failed;

	signal(SIGPIPE, SIG_IGN);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
