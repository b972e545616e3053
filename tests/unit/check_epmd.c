/*
 * check_epmd.c: the epmd request filter and NAMES parsing (tools/common/epmd.h),
 * one Check suite.
 *
 * The filter stands between the internet and the remote host's epmd, which
 * trusts whoever reaches it: only lookups may pass, and a malformed request
 * is refused as soon as its bytes show it.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "epmd.h"

/* A PORT_PLEASE2_REQ for name into buf; returns its length. */
static size_t
port_please(uint8_t *buf, const char *name, size_t namelen)
{
	size_t n = 1 + namelen;

	buf[0] = (uint8_t)(n >> 8);
	buf[1] = (uint8_t)n;
	buf[2] = EPMD_PORT_PLEASE2_REQ;
	memcpy(buf + 3, name, namelen);
	return 2 + n;
}

/* --- the filter ----------------------------------------------------------- */

START_TEST(allow_names)
{
	static const uint8_t req[] = { 0, 1, 'n' };
	size_t reqlen = 0;
	int code = 0;

	ck_assert_int_eq(epmd_filter(req, sizeof(req), &reqlen, &code),
	    EPMD_ALLOW);
	ck_assert_uint_eq(reqlen, 3);
	ck_assert_int_eq(code, EPMD_NAMES_REQ);
	ck_assert_int_eq(EPMD_NAMES_REQ, 110);
	ck_assert_int_eq(epmd_filter(req, sizeof(req), NULL, NULL), EPMD_ALLOW);
}
END_TEST

START_TEST(allow_port_please2)
{
	uint8_t req[EPMD_REQ_MAX + 8];
	char name[256];
	size_t len, reqlen = 0;
	int code = 0;

	len = port_please(req, "web", 3);
	ck_assert_int_eq(epmd_filter(req, len, &reqlen, &code), EPMD_ALLOW);
	ck_assert_uint_eq(reqlen, 6);
	ck_assert_int_eq(code, EPMD_PORT_PLEASE2_REQ);
	ck_assert_int_eq(EPMD_PORT_PLEASE2_REQ, 122);
	/* The longest name a node can have. */
	memset(name, 'a', 255);
	len = port_please(req, name, 255);
	ck_assert_uint_eq(len, EPMD_REQ_MAX);
	ck_assert_int_eq(epmd_filter(req, len, &reqlen, &code), EPMD_ALLOW);
	ck_assert_uint_eq(reqlen, EPMD_REQ_MAX);
	/* One-byte name. */
	len = port_please(req, "a", 1);
	ck_assert_int_eq(epmd_filter(req, len, &reqlen, NULL), EPMD_ALLOW);
	ck_assert_uint_eq(reqlen, 4);
}
END_TEST

/* What follows the request is the next request's business. */
START_TEST(allow_with_bytes_after)
{
	uint8_t req[64];
	size_t len, reqlen = 0;

	len = port_please(req, "web", 3);
	memset(req + len, 'x', sizeof(req) - len);
	req[len] = 0;	/* a NUL after the name is not in the name */
	ck_assert_int_eq(epmd_filter(req, sizeof(req), &reqlen, NULL),
	    EPMD_ALLOW);
	ck_assert_uint_eq(reqlen, len);
	req[0] = 0;
	req[1] = 1;
	req[2] = 'n';
	ck_assert_int_eq(epmd_filter(req, sizeof(req), &reqlen, NULL),
	    EPMD_ALLOW);
	ck_assert_uint_eq(reqlen, 3);
}
END_TEST

/* Every code but the two lookups is denied, whatever its length. */
START_TEST(deny_every_other_code)
{
	uint8_t req[3 + 16];
	int code;

	memset(req, 'x', sizeof(req));
	for (code = 0; code < 256; code++) {
		if (code == EPMD_NAMES_REQ || code == EPMD_PORT_PLEASE2_REQ)
			continue;
		req[2] = (uint8_t)code;
		req[0] = 0;
		req[1] = 1;
		ck_assert_msg(epmd_filter(req, 3, NULL, NULL) == EPMD_DENY,
		    "code %d (len 1) not denied", code);
		req[1] = 17;
		ck_assert_msg(epmd_filter(req, sizeof(req), NULL, NULL) ==
		    EPMD_DENY, "code %d (len 17) not denied", code);
	}
}
END_TEST

/* Denied from the code alone: no need to wait for the rest. */
START_TEST(deny_named_requests)
{
	static const int codes[] = { EPMD_ALIVE2_REQ, EPMD_KILL_REQ,
	    EPMD_STOP_REQ, EPMD_DUMP_REQ, EPMD_PORT2_RESP };
	/* A real ALIVE2_REQ: port 4370, normal node, tcp, versions 6..6, "evil". */
	static const uint8_t alive2[] = { 0, 17, 'x', 0x11, 0x12, 77, 0, 0, 6,
	    0, 6, 0, 4, 'e', 'v', 'i', 'l', 0, 0 };
	uint8_t req[3];
	size_t i, len;

	ck_assert_int_eq(epmd_filter(alive2, sizeof(alive2), NULL, NULL),
	    EPMD_DENY);
	for (len = 3; len < sizeof(alive2); len++)
		ck_assert_int_eq(epmd_filter(alive2, len, NULL, NULL), EPMD_DENY);
	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		req[0] = 0xff;
		req[1] = 0xff;
		req[2] = (uint8_t)codes[i];
		ck_assert_msg(epmd_filter(req, 3, NULL, NULL) == EPMD_DENY,
		    "%s not denied", epmd_code_name(codes[i]));
	}
	ck_assert_int_eq(EPMD_ALIVE2_REQ, 'x');
	ck_assert_int_eq(EPMD_KILL_REQ, 'k');
	ck_assert_int_eq(EPMD_STOP_REQ, 's');
	ck_assert_int_eq(EPMD_DUMP_REQ, 'd');
}
END_TEST

START_TEST(bad_empty)
{
	static const uint8_t req[] = { 0, 0, 'n' };
	size_t reqlen = 99;

	ck_assert_int_eq(epmd_filter(req, 2, &reqlen, NULL), EPMD_BAD);
	ck_assert_int_eq(epmd_filter(req, 3, &reqlen, NULL), EPMD_BAD);
	ck_assert_uint_eq(reqlen, 99);
}
END_TEST

START_TEST(bad_names_with_a_body)
{
	static const uint8_t req[] = { 0, 2, 'n', 'x' };

	ck_assert_int_eq(epmd_filter(req, 3, NULL, NULL), EPMD_BAD);
	ck_assert_int_eq(epmd_filter(req, sizeof(req), NULL, NULL), EPMD_BAD);
}
END_TEST

START_TEST(bad_port_please2_sizes)
{
	uint8_t req[1024];
	char name[600];

	memset(name, 'a', sizeof(name));
	/* No name. */
	ck_assert_int_eq(epmd_filter(req, port_please(req, name, 0), NULL,
	    NULL), EPMD_BAD);
	/* 256 bytes: longer than any node name; refused on its header. */
	port_please(req, name, 256);
	ck_assert_int_eq(epmd_filter(req, 3, NULL, NULL), EPMD_BAD);
	ck_assert_int_eq(epmd_filter(req, 2 + 257, NULL, NULL), EPMD_BAD);
	port_please(req, name, sizeof(name));
	ck_assert_int_eq(epmd_filter(req, 3, NULL, NULL), EPMD_BAD);
	req[0] = 0xff;
	req[1] = 0xff;
	ck_assert_int_eq(epmd_filter(req, 3, NULL, NULL), EPMD_BAD);
}
END_TEST

/* A NUL anywhere in the name: first byte, middle, last byte. */
START_TEST(bad_nul_in_name)
{
	uint8_t req[16];
	size_t len;

	len = port_please(req, "web.1", 5);
	req[3 + (size_t)_i * 2] = 0;
	ck_assert_int_eq(epmd_filter(req, len, NULL, NULL), EPMD_BAD);
}
END_TEST

/* Every prefix of a good request asks for more. */
START_TEST(partial)
{
	uint8_t req[EPMD_REQ_MAX];
	char name[255];
	size_t total, len;

	memset(name, 'q', sizeof(name));
	total = port_please(req, name, sizeof(name));
	for (len = 0; len < total; len++)
		ck_assert_msg(epmd_filter(req, len, NULL, NULL) == EPMD_MORE,
		    "PORT_PLEASE2 prefix %zu of %zu", len, total);
	total = port_please(req, "w", 1);
	for (len = 0; len < total; len++)
		ck_assert_int_eq(epmd_filter(req, len, NULL, NULL), EPMD_MORE);
	req[0] = 0;
	req[1] = 1;
	req[2] = 'n';
	for (len = 0; len < 3; len++)
		ck_assert_int_eq(epmd_filter(req, len, NULL, NULL), EPMD_MORE);
}
END_TEST

START_TEST(code_names)
{
	ck_assert_str_eq(epmd_code_name(EPMD_ALIVE2_REQ), "alive2");
	ck_assert_str_eq(epmd_code_name(EPMD_PORT_PLEASE2_REQ), "port_please2");
	ck_assert_str_eq(epmd_code_name(EPMD_NAMES_REQ), "names");
	ck_assert_str_eq(epmd_code_name(EPMD_DUMP_REQ), "dump");
	ck_assert_str_eq(epmd_code_name(EPMD_KILL_REQ), "kill");
	ck_assert_str_eq(epmd_code_name(EPMD_STOP_REQ), "stop");
	ck_assert_str_eq(epmd_code_name(0), "unknown");
	ck_assert_str_eq(epmd_code_name(255), "unknown");
	ck_assert_str_eq(epmd_code_name(-1), "unknown");
}
END_TEST

START_TEST(names_request)
{
	uint8_t buf[8];
	size_t reqlen = 0;
	int code = 0;

	memset(buf, 0xee, sizeof(buf));
	ck_assert_uint_eq(epmd_names_request(buf), 3);
	ck_assert_uint_eq(buf[0], 0);
	ck_assert_uint_eq(buf[1], 1);
	ck_assert_uint_eq(buf[2], EPMD_NAMES_REQ);
	ck_assert_uint_eq(buf[3], 0xee);
	ck_assert_int_eq(epmd_filter(buf, 3, &reqlen, &code), EPMD_ALLOW);
	ck_assert_uint_eq(reqlen, 3);
	ck_assert_int_eq(code, EPMD_NAMES_REQ);
}
END_TEST

/* --- NAMES replies -------------------------------------------------------- */

START_TEST(names_text)
{
	static const uint8_t reply[] = "\0\0\x11\x11name a at port 1\n";
	const char *text;
	size_t len = 99;

	text = epmd_names_text(reply, sizeof(reply) - 1, &len);
	ck_assert_ptr_eq(text, (const char *)reply + 4);
	ck_assert_uint_eq(len, sizeof(reply) - 1 - 4);
	ck_assert_ptr_eq(epmd_names_text(reply, 4, &len), (const char *)reply + 4);
	ck_assert_uint_eq(len, 0);
	len = 99;
	ck_assert_ptr_null(epmd_names_text(reply, 3, &len));
	ck_assert_uint_eq(len, 0);
	ck_assert_ptr_null(epmd_names_text(reply, 0, &len));
}
END_TEST

START_TEST(names_set_port)
{
	uint8_t reply[] = "\xff\xff\x11\x11name a at port 1\n";
	uint8_t shorter[3] = { 7, 7, 7 };

	ck_assert_int_eq(epmd_names_set_port(reply, sizeof(reply) - 1, 4370), 0);
	ck_assert_mem_eq(reply, "\0\0\x11\x12name a", 10);
	ck_assert_int_eq(epmd_names_set_port(shorter, sizeof(shorter), 1), -1);
	ck_assert_mem_eq(shorter, "\7\7\7", 3);
}
END_TEST

/* epmd_names_line on a C string. */
static int
line(const char *s, char *name, size_t cap, uint16_t *port)
{
	return epmd_names_line(s, strlen(s), name, cap, port);
}

START_TEST(names_line_good)
{
	char name[256];
	uint16_t port = 0;

	ck_assert_int_eq(line("name foo at port 4370", name, sizeof(name), &port),
	    0);
	ck_assert_str_eq(name, "foo");
	ck_assert_uint_eq(port, 4370);
	ck_assert_int_eq(line("name x at port 1", name, sizeof(name), &port), 0);
	ck_assert_str_eq(name, "x");
	ck_assert_uint_eq(port, 1);
	ck_assert_int_eq(line("name rabbit_1 at port 65535", name, sizeof(name),
	    &port), 0);
	ck_assert_str_eq(name, "rabbit_1");
	ck_assert_uint_eq(port, 65535);
	ck_assert_int_eq(line("name app@x!~ at port 5", name, sizeof(name),
	    &port), 0);
	ck_assert_str_eq(name, "app@x!~");
}
END_TEST

START_TEST(names_line_bad)
{
	static const char *const bad[] = { "", "n", "name", "name ", "name x",
	    "name  at port 1", "nome foo at port 1", "name foo port 1",
	    "name foo at port ", "name foo at port 0", "name foo at port 65536",
	    "name foo at port 123456", "name foo at port 12a",
	    "name foo at port -1", "name foo at port  1", "name foo at port 1 ",
	    " name foo at port 1", "NAME foo at port 1", "name foo at port",
	    " at port 1", "name at port 1",
	    /* Names epmd registers but no node has: spaces, control bytes,
	     * bytes past ASCII. */
	    "name a at port b at port 5", "name x at port 22500 at port 4",
	    "name a\x1b[2J at port 5", "name a\tb at port 5",
	    "name a\rb at port 5", "name \xc2\x9b at port 5",
	    "name a\x7f at port 5", "name foo at port 1\r" };
	char name[256];
	uint16_t port = 7;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(line(bad[i], name, sizeof(name), &port) == -1,
		    "'%s' accepted", bad[i]);
	ck_assert_uint_eq(port, 7);
}
END_TEST

/* The parser reads len bytes and no more, and no NUL is needed after them. */
START_TEST(names_line_exact_length)
{
	static const char text[] = "name foo at port 4370";
	char name[256], *heap;
	uint16_t port = 0;
	size_t len;

	for (len = 0; len <= sizeof(text) - 1; len++) {
		heap = malloc(len ? len : 1);
		ck_assert_ptr_nonnull(heap);
		memcpy(heap, text, len);
		(void)epmd_names_line(heap, len, name, sizeof(name), &port);
		free(heap);
	}
	ck_assert_int_eq(epmd_names_line(text, sizeof(text) - 1 - 2, name,
	    sizeof(name), &port), 0);
	ck_assert_uint_eq(port, 43);
}
END_TEST

START_TEST(names_line_namecap)
{
	char name[8];
	uint16_t port = 0;

	memset(name, 'z', sizeof(name));
	ck_assert_int_eq(line("name abcde at port 9", name, 5, &port), -1);
	ck_assert_int_eq(line("name abcde at port 9", name, 6, &port), 0);
	ck_assert_str_eq(name, "abcde");
	ck_assert_uint_eq((unsigned char)name[6], 'z');
}
END_TEST

START_TEST(names_has_port)
{
	static const char text[] = "name foo at port 4370\n"
	    "name bar at port 4371\n"
	    "garbage line\n"
	    "\n"
	    "name baz at port 4372";	/* the last line without its newline */

	size_t odd = 99;

	ck_assert_int_eq(epmd_names_has_port(text, sizeof(text) - 1, 4370,
	    &odd), 1);
	ck_assert_uint_eq(odd, 2);	/* "garbage line" and the empty one */
	ck_assert_int_eq(epmd_names_has_port(text, sizeof(text) - 1, 4371,
	    &odd), 1);
	ck_assert_int_eq(epmd_names_has_port(text, sizeof(text) - 1, 4372,
	    &odd), 1);
	ck_assert_int_eq(epmd_names_has_port(text, sizeof(text) - 1, 4373,
	    &odd), 0);
	ck_assert_int_eq(epmd_names_has_port(text, sizeof(text) - 1, 0, &odd),
	    0);
	/* Cut inside the last port: 4372 becomes 437. */
	ck_assert_int_eq(epmd_names_has_port(text, sizeof(text) - 2, 4372,
	    &odd), 0);
	ck_assert_int_eq(epmd_names_has_port(text, sizeof(text) - 2, 437,
	    &odd), 1);
	ck_assert_int_eq(epmd_names_has_port("", 0, 4370, &odd), 0);
	ck_assert_uint_eq(odd, 0);
	ck_assert_int_eq(epmd_names_has_port("name foo at port 12a\n", 21, 12,
	    &odd), 0);
	ck_assert_uint_eq(odd, 1);
}
END_TEST

/* A name that runs over " at port ": registered by a process that is not a
 * node, to make the server relay to 5432.  Not a node's line. */
START_TEST(names_forged_port)
{
	static const char text[] = "name x at port 5432 at port 40000\n"
	    "name ok at port 40001\n";
	size_t odd = 0;

	ck_assert_int_eq(epmd_names_has_port(text, sizeof(text) - 1, 5432,
	    &odd), 0);
	ck_assert_int_eq(epmd_names_has_port(text, sizeof(text) - 1, 40000,
	    &odd), 0);
	ck_assert_uint_eq(odd, 1);
	ck_assert_int_eq(epmd_names_has_port(text, sizeof(text) - 1, 40001,
	    &odd), 1);
}
END_TEST

/* NAMES text into INFO's node list: nodes kept, other lines skipped. */
START_TEST(names_info_lists_nodes)
{
	static const char text[] = "name app at port 4370\n"
	    "junk\nname worker at port 4371";
	struct frame_info *fi = calloc(1, sizeof(*fi));

	ck_assert_ptr_nonnull(fi);
	ck_assert_uint_eq(epmd_names_info(text, sizeof(text) - 1, fi), 1);
	ck_assert_uint_eq(fi->nnodes, 2);
	ck_assert_str_eq(fi->nodes[0].name, "app");
	ck_assert_uint_eq(fi->nodes[0].port, 4370);
	ck_assert_str_eq(fi->nodes[1].name, "worker");
	ck_assert_uint_eq(fi->nodes[1].port, 4371);
	free(fi);
}
END_TEST

/* No more nodes than INFO can carry, whatever epmd lists. */
START_TEST(names_info_stops_at_max)
{
	char text[100 * 32];
	struct frame_info *fi = calloc(1, sizeof(*fi));
	size_t len = 0;
	int i;

	ck_assert_ptr_nonnull(fi);
	for (i = 0; i < 100; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len,
		    "name n%d at port %d\n", i, 1000 + i);
	epmd_names_info(text, len, fi);
	ck_assert_uint_eq(fi->nnodes, FRAME_INFO_NODES_MAX);
	ck_assert_str_eq(fi->nodes[FRAME_INFO_NODES_MAX - 1].name, "n63");
	free(fi);
}
END_TEST

/*
 * The name NAMES lists on a port: one line, none, or two (one of them a
 * registered name that reads as a line of its own).
 */
START_TEST(names_port_name)
{
	static const char one[] = "name app at port 40001\nname w at port 40002\n";
	static const char forged[] =
	    "name x at port 40001\nname y at port 41999\n"
	    "name app at port 40001\n";
	char name[64];

	ck_assert_int_eq(epmd_names_port_name(one, sizeof(one) - 1, 40001,
	    name, sizeof(name)), 1);
	ck_assert_str_eq(name, "app");
	ck_assert_int_eq(epmd_names_port_name(one, sizeof(one) - 1, 40003,
	    name, sizeof(name)), 0);
	ck_assert_int_eq(epmd_names_port_name(forged, sizeof(forged) - 1,
	    40001, name, sizeof(name)), -1);
}
END_TEST

/* PORT_PLEASE2_REQ's bytes, and PORT2_RESP read back. */
START_TEST(port_please_round)
{
	static const uint8_t ok[] = { 119, 0, 0x9c, 0x41, 77, 0, 0, 6, 0, 5,
	    0, 3, 'a', 'p', 'p', 0, 0 };
	static const uint8_t none[] = { 119, 1 };
	uint8_t req[EPMD_REQ_MAX];
	char longname[300];
	uint16_t port = 0;

	ck_assert_uint_eq(epmd_port_please_request(req, sizeof(req), "app"), 6);
	ck_assert_mem_eq(req, "\x00\x04\x7a" "app", 6);
	ck_assert_uint_eq(epmd_port_please_request(req, sizeof(req), ""), 0);
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	ck_assert_uint_eq(epmd_port_please_request(req, sizeof(req),
	    longname), 0);
	ck_assert_int_eq(epmd_port2_parse(ok, sizeof(ok), &port), 1);
	ck_assert_uint_eq(port, 40001);
	ck_assert_int_eq(epmd_port2_parse(none, sizeof(none), &port), 0);
	ck_assert_int_eq(epmd_port2_parse(ok, 5, &port), -1);
	ck_assert_int_eq(epmd_port2_parse((const uint8_t *)"HTTP", 4, &port),
	    -1);
}
END_TEST

static Suite *
epmd_suite(void)
{
	Suite *s = suite_create("epmd");
	TCase *tc;

	tc = tcase_create("filter");
	tcase_add_test(tc, allow_names);
	tcase_add_test(tc, allow_port_please2);
	tcase_add_test(tc, allow_with_bytes_after);
	tcase_add_test(tc, deny_every_other_code);
	tcase_add_test(tc, deny_named_requests);
	tcase_add_test(tc, bad_empty);
	tcase_add_test(tc, bad_names_with_a_body);
	tcase_add_test(tc, bad_port_please2_sizes);
	tcase_add_loop_test(tc, bad_nul_in_name, 0, 3);
	tcase_add_test(tc, partial);
	tcase_add_test(tc, code_names);
	tcase_add_test(tc, names_request);
	tcase_add_test(tc, names_text);
	tcase_add_test(tc, names_set_port);
	suite_add_tcase(s, tc);

	tc = tcase_create("names");
	tcase_add_test(tc, names_info_lists_nodes);
	tcase_add_test(tc, names_info_stops_at_max);
	tcase_add_test(tc, names_line_good);
	tcase_add_test(tc, names_line_bad);
	tcase_add_test(tc, names_line_exact_length);
	tcase_add_test(tc, names_line_namecap);
	tcase_add_test(tc, names_forged_port);
	tcase_add_test(tc, names_has_port);
	tcase_add_test(tc, names_port_name);
	tcase_add_test(tc, port_please_round);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr;
	int failed;

	sr = srunner_create(epmd_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
