/*
 * check_procnet.c: listening sockets' owners from /proc/net
 * (tools/common/procnet.h), one Check suite, on tables written here.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "procnet.h"

static const char tcp[] =
"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
"   0: 0100007F:1538 00000000:0000 0A 00000000:00000000 00:00000000 00000000   108        0 1666 1 000000009ef47858 100 0 0 10 0\n"
"   1: 0100007F:C0D8 0100007F:6A18 06 00000000:00000000 03:00000334 00000000  1000        0 0 3 000000004480ae2a\n"
"   2: 00000000:2491 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 1667 1 000000009ef47858 100 0 0 10 0\n";
static const char tcp6[] =
"  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
"   0: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 99 1 00000000ce5f5cfa 100 0 0 10 0\n";

static char dir[64];

static void
write_file(const char *name, const char *text)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
}

static void
setup(void)
{
	strcpy(dir, "/tmp/check_procnet.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	write_file("tcp", tcp);
	write_file("tcp6", tcp6);
}

static void
teardown(void)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/tcp", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/tcp6", dir);
	unlink(path);
	rmdir(dir);
}

START_TEST(lines)
{
	const char *l = strchr(tcp, '\n') + 1;
	struct procnet_sock so;

	ck_assert_int_eq(procnet_line(tcp, (size_t)(l - 1 - tcp), &so), 0);
	ck_assert_int_eq(procnet_line(l, strcspn(l, "\n"), &so), 1);
	ck_assert_uint_eq(so.port, 0x1538);
	ck_assert_uint_eq(so.rport, 0);
	ck_assert_uint_eq(so.uid, 108);
	ck_assert_int_eq(so.listening, 1);
	l = strchr(l, '\n') + 1;
	ck_assert_int_eq(procnet_line(l, strcspn(l, "\n"), &so), 1);
	ck_assert_uint_eq(so.port, 0xc0d8);
	ck_assert_uint_eq(so.rport, 0x6a18);
	ck_assert_int_eq(so.listening, 0);
	ck_assert_int_eq(procnet_line("", 0, &so), 0);
	ck_assert_int_eq(procnet_line("   0: 0100007F:1538", 19, &so), 0);
	ck_assert_int_eq(procnet_line("   0: 0100007F:1538 00000000:0000",
	    33, &so), 0);
}
END_TEST

/* A connection's owner: by its local and remote ports, listeners aside. */
START_TEST(conn_owner)
{
	uid_t uid = 0;

	ck_assert_int_eq(procnet_conn_owner(dir, 0xc0d8, 0x6a18, &uid), 0);
	ck_assert_uint_eq(uid, 1000);
	ck_assert_int_eq(procnet_conn_owner(dir, 0xc0d8, 0x6a19, &uid), -1);
	ck_assert_int_eq(procnet_conn_owner(dir, 0x1538, 0, &uid), -1);
	ck_assert_int_eq(procnet_conn_owner("/nonexistent", 0xc0d8, 0x6a18,
	    &uid), -1);
}
END_TEST

START_TEST(owners)
{
	/* 0x1538 = 5432 listens as uid 108 (postgres). */
	ck_assert_int_eq(procnet_port_owner(dir, 5432, 1000), PROCNET_OTHER);
	ck_assert_int_eq(procnet_port_owner(dir, 5432, 108), PROCNET_SAME);
	/* 0x2491 = 9361 as 1000; 0x1F90 = 8080 in tcp6 as root. */
	ck_assert_int_eq(procnet_port_owner(dir, 9361, 1000), PROCNET_SAME);
	ck_assert_int_eq(procnet_port_owner(dir, 8080, 1000), PROCNET_OTHER);
	ck_assert_int_eq(procnet_port_owner(dir, 8080, 0), PROCNET_SAME);
	/* Only a connection, no listener, on 0xC0D8. */
	ck_assert_int_eq(procnet_port_owner(dir, 0xc0d8, 0), PROCNET_SAME);
	ck_assert_int_eq(procnet_port_owner("/nonexistent", 5432, 0),
	    PROCNET_UNKNOWN);
}
END_TEST

/* A loopback connection of ours: the kernel says whose its far end is. */
START_TEST(peer_uid)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t n = sizeof(a);
	uid_t uid = (uid_t)-1;
	int l, c, s;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_ge(l = socket(AF_INET, SOCK_STREAM, 0), 0);
	ck_assert_int_eq(bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(l, 1), 0);
	ck_assert_int_eq(getsockname(l, (struct sockaddr *)&a, &n), 0);
	ck_assert_int_ge(c = socket(AF_INET, SOCK_STREAM, 0), 0);
	ck_assert_int_eq(connect(c, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_ge(s = accept(l, NULL, NULL), 0);
	ck_assert_int_eq(procnet_peer_uid(s, &uid), 0);
	ck_assert_uint_eq(uid, getuid());
	ck_assert_int_eq(procnet_peer_uid(l, &uid), -1);	/* no peer */
	close(s);
	close(c);
	close(l);
}
END_TEST

/* The real tables parse: something of ours listens in this test? No; but
 * the header is skipped and a port nobody uses is nobody's. */
START_TEST(real_tables)
{
	int v = procnet_port_owner("/proc/net", 1, getuid());

	ck_assert(v == PROCNET_SAME || v == PROCNET_UNKNOWN);
}
END_TEST

static Suite *
procnet_suite(void)
{
	Suite *s = suite_create("procnet");
	TCase *tc = tcase_create("tables");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, lines);
	tcase_add_test(tc, owners);
	tcase_add_test(tc, conn_owner);
	tcase_add_test(tc, peer_uid);
	tcase_add_test(tc, real_tables);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr;
	int failed;

	sr = srunner_create(procnet_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
