/*
 * check_etf.c: the rpc request and its answer in external term format
 * (tools/erlfwd/etf.h), and the versions it carries (versions.h); one Check
 * suite.
 *
 * Answers are built byte by byte as an OTP node sends them (SEND_SENDER or
 * SEND control, then {Ref, Reply}); every truncation of a good answer must
 * be refused without reading past its end.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "etf.h"
#include "versions.h"

static const struct etf_self me = {
	.node = "erlfwd-1@localhost", .creation = 0x1234, .pid_id = 1,
	.ref = { 0x11, 0x22222222, 0x33333333 },
};

/* A growing buffer for answers. */
struct buf {
	uint8_t	b[512];
	size_t	n;
};

static void
b8(struct buf *b, unsigned v)
{
	ck_assert_uint_lt(b->n, sizeof(b->b));
	b->b[b->n++] = (uint8_t)v;
}

static void
b16(struct buf *b, unsigned v)
{
	b8(b, v >> 8);
	b8(b, v);
}

static void
b32(struct buf *b, uint32_t v)
{
	b16(b, v >> 16);
	b16(b, v & 0xffff);
}

static void
bbytes(struct buf *b, const char *s)
{
	while (*s != '\0')
		b8(b, (unsigned char)*s++);
}

/* ATOM_UTF8_EXT (the long form OTP uses for node names). */
static void
batom(struct buf *b, const char *s)
{
	b8(b, 118);
	b16(b, (unsigned)strlen(s));
	bbytes(b, s);
}

static void
bpid(struct buf *b, const char *node, uint32_t id)
{
	b8(b, 88);
	batom(b, node);
	b32(b, id);
	b32(b, 0);
	b32(b, 7);
}

/* 112, SEND_SENDER control, and the start of {Ref, ...} with ref. */
static void
answer_head(struct buf *b, uint32_t ref2)
{
	b->n = 0;
	b8(b, 112);
	b8(b, 131);
	b8(b, 104);
	b8(b, 3);
	b8(b, 97);
	b8(b, 22);
	bpid(b, "app@dyno", 99);
	bpid(b, me.node, me.pid_id);
	b8(b, 131);
	b8(b, 104);
	b8(b, 2);
	b8(b, 90);
	b16(b, 3);
	batom(b, me.node);
	b32(b, me.creation);
	b32(b, me.ref[0]);
	b32(b, me.ref[1]);
	b32(b, ref2);
}

START_TEST(rpc_request_bytes)
{
	static const char *const args[] = { "elixir", "vsn" };
	uint8_t buf[512];
	uint32_t len;
	int n = etf_rpc(buf, sizeof(buf), &me, "application", "get_key",
	    args, 2);
	const uint8_t *p;

	ck_assert_int_gt(n, 20);
	len = (uint32_t)buf[0] << 24 | (uint32_t)buf[1] << 16 |
	    (uint32_t)buf[2] << 8 | buf[3];
	ck_assert_uint_eq(len, (uint32_t)n - 4);
	/* pass-through, then {6, Pid, '', rex} */
	ck_assert_uint_eq(buf[4], 112);
	ck_assert_uint_eq(buf[5], 131);
	ck_assert_uint_eq(buf[6], 104);
	ck_assert_uint_eq(buf[7], 4);
	ck_assert_uint_eq(buf[8], 97);
	ck_assert_uint_eq(buf[9], 6);
	ck_assert_uint_eq(buf[10], 88);
	p = memmem(buf, (size_t)n, "\x77\x03rex\x83", 6);
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(memmem(buf, (size_t)n, "\x77\x09$gen_call", 11));
	ck_assert_ptr_nonnull(memmem(buf, (size_t)n,
	    "\x6c\x00\x00\x00\x02\x77\x06" "elixir\x77\x03vsn\x6a", 19));
	/* the group leader `user`, last */
	ck_assert_int_eq(memcmp(buf + n - 6, "\x77\x04user", 6), 0);
}
END_TEST

START_TEST(rpc_request_refusals)
{
	uint8_t buf[512];
	struct etf_self bad = me;
	char big[300];

	ck_assert_int_eq(etf_rpc(buf, 20, &me, "erlang", "node", NULL, 0), -1);
	ck_assert_int_eq(etf_rpc(buf, sizeof(buf), &me, "", "node", NULL, 0),
	    -1);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	bad.node = big;
	ck_assert_int_eq(etf_rpc(buf, sizeof(buf), &bad, "erlang", "node",
	    NULL, 0), -1);
	ck_assert_int_gt(etf_rpc(buf, sizeof(buf), &me, "erlang", "node",
	    NULL, 0), 0);
}
END_TEST

START_TEST(reply_string)
{
	struct buf b;
	char out[64];

	answer_head(&b, me.ref[2]);
	b8(&b, 107);
	b16(&b, 2);
	bbytes(&b, "27");
	ck_assert_int_eq(etf_reply(b.b, b.n, &me, out, sizeof(out)), ETF_TEXT);
	ck_assert_str_eq(out, "27");
}
END_TEST

START_TEST(reply_ok_binary_and_list)
{
	struct buf b;
	char out[64];
	const char *v = "1.18.3";
	size_t i;

	answer_head(&b, me.ref[2]);
	b8(&b, 104);
	b8(&b, 2);
	b8(&b, 119);
	b8(&b, 2);
	bbytes(&b, "ok");
	b8(&b, 109);
	b32(&b, 6);
	bbytes(&b, v);
	ck_assert_int_eq(etf_reply(b.b, b.n, &me, out, sizeof(out)), ETF_TEXT);
	ck_assert_str_eq(out, v);
	/* {ok, [$1, $., ...]} as a proper list of small integers */
	answer_head(&b, me.ref[2]);
	b8(&b, 104);
	b8(&b, 2);
	batom(&b, "ok");
	b8(&b, 108);
	b32(&b, 6);
	for (i = 0; i < 6; i++) {
		b8(&b, 97);
		b8(&b, (unsigned char)v[i]);
	}
	b8(&b, 106);
	ck_assert_int_eq(etf_reply(b.b, b.n, &me, out, sizeof(out)), ETF_TEXT);
	ck_assert_str_eq(out, v);
}
END_TEST

START_TEST(reply_undefined_is_other)
{
	struct buf b;
	char out[64] = "x";

	answer_head(&b, me.ref[2]);
	b8(&b, 119);
	b8(&b, 9);
	bbytes(&b, "undefined");
	ck_assert_int_eq(etf_reply(b.b, b.n, &me, out, sizeof(out)),
	    ETF_OTHER);
	ck_assert_str_eq(out, "");
}
END_TEST

START_TEST(reply_other_ref_is_not_ours)
{
	struct buf b;
	char out[64];

	answer_head(&b, me.ref[2] + 1);
	b8(&b, 107);
	b16(&b, 2);
	bbytes(&b, "27");
	ck_assert_int_eq(etf_reply(b.b, b.n, &me, out, sizeof(out)),
	    ETF_NOT_OURS);
}
END_TEST

START_TEST(reply_too_long_for_out)
{
	struct buf b;
	char out[4];

	answer_head(&b, me.ref[2]);
	b8(&b, 107);
	b16(&b, 6);
	bbytes(&b, "1.18.3");
	ck_assert_int_eq(etf_reply(b.b, b.n, &me, out, sizeof(out)),
	    ETF_OTHER);
}
END_TEST

START_TEST(reply_truncated_everywhere)
{
	struct buf b;
	char out[64];
	uint8_t *copy;
	size_t n;

	answer_head(&b, me.ref[2]);
	b8(&b, 107);
	b16(&b, 2);
	bbytes(&b, "27");
	for (n = 0; n < b.n; n++) {
		/* An exact-size heap copy: ASan sees any read past it. */
		copy = malloc(n + 1);
		ck_assert_ptr_nonnull(copy);
		memcpy(copy, b.b, n);
		ck_assert_int_ne(etf_reply(copy, n, &me, out, sizeof(out)),
		    ETF_TEXT);
		free(copy);
	}
}
END_TEST

START_TEST(versions_from_elixir_output)
{
	struct versions v;

	ck_assert_int_eq(versions_parse("Erlang/OTP 27 [erts-15.2.7] [source] "
	    "[64-bit]\n\nElixir 1.18.3 (compiled with Erlang/OTP 27)\n", &v),
	    0);
	ck_assert_str_eq(v.otp, "27");
	ck_assert_str_eq(v.elixir, "1.18.3");
	ck_assert_int_eq(versions_parse("Erlang/OTP 25 [erts-13.1.5]\n\n"
	    "Elixir 1.14.0 (compiled with Erlang/OTP 24)\n", &v), 0);
	ck_assert_str_eq(v.otp, "25");
	ck_assert_str_eq(v.elixir, "1.14.0");
	ck_assert_int_eq(versions_parse("Erlang/OTP 25\n", &v), -1);
	ck_assert_int_eq(versions_parse("command not found\n", &v), -1);
	ck_assert_str_eq(v.otp, "");
}
END_TEST

START_TEST(versions_verdict)
{
	struct versions here = { "25", "1.14.0" }, same = here,
	    other = { "27", "1.18.3" }, none = { "25", "" },
	    otp_only = { "26", "1.14.0" };
	char why[256];

	ck_assert_int_eq(versions_iex_ok(&here, &same, why, sizeof(why)), 1);
	ck_assert_int_eq(versions_iex_ok(&here, &other, why, sizeof(why)), 0);
	ck_assert_str_eq(why, "the node runs OTP 27, Elixir 1.18.3, this "
	    "machine OTP 25, Elixir 1.14.0");
	ck_assert_int_eq(versions_iex_ok(&here, &none, why, sizeof(why)), 0);
	ck_assert_str_eq(why, "the node has no Elixir loaded");
	ck_assert_int_eq(versions_iex_ok(&here, &otp_only, why, sizeof(why)),
	    0);
}
END_TEST

static Suite *
etf_suite(void)
{
	Suite *s = suite_create("etf");
	TCase *tc = tcase_create("rpc");

	tcase_add_test(tc, rpc_request_bytes);
	tcase_add_test(tc, rpc_request_refusals);
	tcase_add_test(tc, reply_string);
	tcase_add_test(tc, reply_ok_binary_and_list);
	tcase_add_test(tc, reply_undefined_is_other);
	tcase_add_test(tc, reply_other_ref_is_not_ours);
	tcase_add_test(tc, reply_too_long_for_out);
	tcase_add_test(tc, reply_truncated_everywhere);
	suite_add_tcase(s, tc);
	tc = tcase_create("versions");
	tcase_add_test(tc, versions_from_elixir_output);
	tcase_add_test(tc, versions_verdict);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr;
	int failed;

	sr = srunner_create(etf_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
