/*
 * check_confine.c: the bind rule of ERLFWD_BIND=loopback (preload/confine.h),
 * one Check suite, on real sockets of this machine's loopback.
 *
 * What a client socket does with its deferred bind (reach another machine)
 * needs a second host: tests/e2e/t_bind_client.sh shows it in namespaces.
 * Here: what each call leaves behind (getsockname), errno, and that whatever
 * is not the rule's business gets libc's own answer.
 */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "confine.h"
#include "libc.h"

/* The errno a call must leave alone when it succeeds. */
#define MARK	4242

static void
setup(void)
{
	/* The table falls back to the raw system calls in a test program. */
	(void)libc_init();
}

static struct sockaddr_in
in4(uint32_t addr, uint16_t port)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(addr);
	sin.sin_port = htons(port);
	return sin;
}

static struct sockaddr_in6
in6(const struct in6_addr *addr, uint16_t port)
{
	struct sockaddr_in6 sin6;

	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_addr = *addr;
	sin6.sin6_port = htons(port);
	return sin6;
}

/* The IPv4 address and port fd is bound to, in host order. */
static void
name4(int fd, uint32_t *addr, uint16_t *port)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	ck_assert_int_eq(sin.sin_family, AF_INET);
	*addr = ntohl(sin.sin_addr.s_addr);
	*port = ntohs(sin.sin_port);
}

/* A port free on 127.0.0.1 just now. */
static uint16_t
free_port(void)
{
	struct sockaddr_in sin = in4(INADDR_LOOPBACK, 0);
	uint32_t addr;
	uint16_t port;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	name4(fd, &addr, &port);
	close(fd);
	return port;
}

START_TEST(wildcard_port0_is_deferred)
{
	struct sockaddr_in sin = in4(INADDR_ANY, 0);
	uint32_t addr;
	uint16_t port;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	errno = MARK;
	ck_assert_int_eq(confine_bind(fd, (struct sockaddr *)&sin,
	    sizeof(sin)), 0);
	ck_assert_int_eq(errno, MARK);
	/* Still unbound: a connect picks its source address freely. */
	name4(fd, &addr, &port);
	ck_assert_uint_eq(addr, INADDR_ANY);
	ck_assert_uint_eq(port, 0);
	close(fd);
}
END_TEST

START_TEST(listen_after_deferred_bind_is_on_loopback)
{
	struct sockaddr_in sin = in4(INADDR_ANY, 0);
	uint32_t addr;
	uint16_t port;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(confine_bind(fd, (struct sockaddr *)&sin,
	    sizeof(sin)), 0);
	errno = MARK;
	ck_assert_int_eq(confine_listen(fd, 8), 0);
	ck_assert_int_eq(errno, MARK);
	name4(fd, &addr, &port);
	ck_assert_uint_eq(addr, INADDR_LOOPBACK);
	ck_assert_uint_ne(port, 0);
	close(fd);
}
END_TEST

START_TEST(listen_unbound_is_on_loopback)
{
	uint32_t addr;
	uint16_t port;
	int fd = socket(AF_INET, SOCK_STREAM, 0), flags;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
	flags = fcntl(fd, F_GETFL);
	ck_assert_int_eq(confine_listen(fd, 8), 0);
	ck_assert_int_eq(fcntl(fd, F_GETFL), flags);
	name4(fd, &addr, &port);
	ck_assert_uint_eq(addr, INADDR_LOOPBACK);
	ck_assert_uint_ne(port, 0);
	close(fd);
}
END_TEST

START_TEST(wildcard_fixed_port_is_loopback)
{
	uint16_t want = free_port(), port;
	struct sockaddr_in sin = in4(INADDR_ANY, want);
	uint32_t addr;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(confine_bind(fd, (struct sockaddr *)&sin,
	    sizeof(sin)), 0);
	name4(fd, &addr, &port);
	ck_assert_uint_eq(addr, INADDR_LOOPBACK);
	ck_assert_uint_eq(port, want);
	/* Bound already: listen leaves the address alone. */
	ck_assert_int_eq(confine_listen(fd, 8), 0);
	name4(fd, &addr, &port);
	ck_assert_uint_eq(addr, INADDR_LOOPBACK);
	ck_assert_uint_eq(port, want);
	close(fd);
}
END_TEST

START_TEST(deferred_client_connects)
{
	struct sockaddr_in any = in4(INADDR_ANY, 0), to = in4(INADDR_LOOPBACK, 0);
	socklen_t len = sizeof(to);
	int lfd = socket(AF_INET, SOCK_STREAM, 0);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(lfd, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(confine_listen(lfd, 8), 0);
	ck_assert_int_eq(getsockname(lfd, (struct sockaddr *)&to, &len), 0);
	ck_assert_int_eq(confine_bind(fd, (struct sockaddr *)&any,
	    sizeof(any)), 0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&to, sizeof(to)), 0);
	close(fd);
	close(lfd);
}
END_TEST

START_TEST(bound_socket_gets_libcs_answer)
{
	struct sockaddr_in lo = in4(INADDR_LOOPBACK, 0), any = in4(INADDR_ANY, 0);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(confine_bind(fd, (struct sockaddr *)&lo,
	    sizeof(lo)), 0);
	errno = 0;
	ck_assert_int_eq(confine_bind(fd, (struct sockaddr *)&any,
	    sizeof(any)), -1);
	ck_assert_int_eq(errno, EINVAL);
	close(fd);
}
END_TEST

START_TEST(udp_is_untouched)
{
	struct sockaddr_in any = in4(INADDR_ANY, 0);
	uint32_t addr;
	uint16_t port;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(confine_bind(fd, (struct sockaddr *)&any,
	    sizeof(any)), 0);
	name4(fd, &addr, &port);
	ck_assert_uint_eq(addr, INADDR_ANY);
	ck_assert_uint_ne(port, 0);
	close(fd);
}
END_TEST

START_TEST(family_mismatch_gets_libcs_answer)
{
	struct sockaddr_in any = in4(INADDR_ANY, 0);
	int a = socket(AF_INET6, SOCK_STREAM, 0);
	int b = socket(AF_INET6, SOCK_STREAM, 0);
	int rc, err;

	ck_assert_int_ge(a, 0);
	ck_assert_int_ge(b, 0);
	errno = 0;
	rc = bind(b, (struct sockaddr *)&any, sizeof(any));
	err = errno;
	ck_assert_int_eq(rc, -1);
	errno = 0;
	ck_assert_int_eq(confine_bind(a, (struct sockaddr *)&any,
	    sizeof(any)), -1);
	ck_assert_int_eq(errno, err);
	close(a);
	close(b);
}
END_TEST

START_TEST(not_a_socket)
{
	struct sockaddr_in any = in4(INADDR_ANY, 0);
	int p[2];

	ck_assert_int_eq(pipe(p), 0);
	errno = 0;
	ck_assert_int_eq(confine_bind(p[0], (struct sockaddr *)&any,
	    sizeof(any)), -1);
	ck_assert_int_eq(errno, ENOTSOCK);
	errno = 0;
	ck_assert_int_eq(confine_listen(p[0], 8), -1);
	ck_assert_int_eq(errno, ENOTSOCK);
	close(p[0]);
	close(p[1]);
}
END_TEST

START_TEST(ipv6_deferred_then_listen_on_loopback)
{
	struct sockaddr_in6 any = in6(&in6addr_any, 0), got;
	socklen_t len = sizeof(got);
	int fd = socket(AF_INET6, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(confine_bind(fd, (struct sockaddr *)&any,
	    sizeof(any)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&got, &len), 0);
	ck_assert(IN6_IS_ADDR_UNSPECIFIED(&got.sin6_addr));
	ck_assert_uint_eq(ntohs(got.sin6_port), 0);
	ck_assert_int_eq(confine_listen(fd, 8), 0);
	len = sizeof(got);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&got, &len), 0);
	ck_assert(IN6_IS_ADDR_LOOPBACK(&got.sin6_addr));
	ck_assert_uint_ne(ntohs(got.sin6_port), 0);
	close(fd);
}
END_TEST

static Suite *
confine_suite(void)
{
	Suite *s = suite_create("confine");
	TCase *tc = tcase_create("ipv4");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, wildcard_port0_is_deferred);
	tcase_add_test(tc, listen_after_deferred_bind_is_on_loopback);
	tcase_add_test(tc, listen_unbound_is_on_loopback);
	tcase_add_test(tc, wildcard_fixed_port_is_loopback);
	tcase_add_test(tc, deferred_client_connects);
	tcase_add_test(tc, bound_socket_gets_libcs_answer);
	tcase_add_test(tc, udp_is_untouched);
	tcase_add_test(tc, not_a_socket);
	suite_add_tcase(s, tc);
	tc = tcase_create("ipv6");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, family_mismatch_gets_libcs_answer);
	tcase_add_test(tc, ipv6_deferred_then_listen_on_loopback);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr;
	int failed;

	sr = srunner_create(confine_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
