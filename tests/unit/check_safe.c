/*
 * check_safe.c: remote text made safe for the terminal (tools/erlfwd/safe.h),
 * one Check suite.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "safe.h"

static const struct {
	const char	*in;
	size_t		 len;
	const char	*out;
} cases[] = {
	{ "app@web.1", 9, "app@web.1" },
	{ "", 0, "" },
	/* C0 controls: ESC, a forged line, NUL inside, DEL. */
	{ "\x1b[31mred", 8, "\\x1b[31mred" },
	{ "x at port 1\nname y", 18, "x at port 1\\x0aname y" },
	{ "a\0b", 3, "a\\x00b" },
	{ "\x7f\t\r", 3, "\\x7f\\x09\\x0d" },
	/* C1: CSI as UTF-8 (c2 9b) and as a raw byte; U+0085, U+009F. */
	{ "\xc2\x9b" "2J", 4, "\\xc2\\x9b2J" },
	{ "\x9b" "2J", 3, "\\x9b2J" },
	{ "\xc2\x85\xc2\x9f", 4, "\\xc2\\x85\\xc2\\x9f" },
	/* Well-formed UTF-8 stays: e acute, the euro sign, an emoji, U+00A0. */
	{ "caf\xc3\xa9", 5, "caf\xc3\xa9" },
	{ "\xe2\x82\xac\xf0\x9f\x98\x80\xc2\xa0", 9,
	    "\xe2\x82\xac\xf0\x9f\x98\x80\xc2\xa0" },
	/* Ill-formed: overlong ESC, a lone continuation, cut short, a
	 * surrogate, past U+10FFFF, 0xff. */
	{ "\xc0\x9b", 2, "\\xc0\\x9b" },
	{ "\x80z", 2, "\\x80z" },
	{ "\xe2\x82", 2, "\\xe2\\x82" },
	{ "\xed\xa0\x80", 3, "\\xed\\xa0\\x80" },
	{ "\xf4\x90\x80\x80", 4, "\\xf4\\x90\\x80\\x80" },
	{ "\xff", 1, "\\xff" },
};

START_TEST(escapes)
{
	char out[256];
	size_t n;

	n = safe_text(out, sizeof(out), cases[_i].in, cases[_i].len);
	ck_assert_str_eq(out, cases[_i].out);
	ck_assert_uint_eq(n, strlen(cases[_i].out));
}
END_TEST

/* A small buffer ends before an escape or a character that does not fit,
 * and out is a string at every size. */
START_TEST(never_cut)
{
	static const char in[] = "ab\x1b\xc3\xa9z";
	static const char *const want[] = {
		"", "", "a", "ab", "ab", "ab", "ab", "ab\\x1b", "ab\\x1b",
		"ab\\x1b\xc3\xa9", "ab\\x1b\xc3\xa9z",
	};
	char out[16];

	memset(out, 'Q', sizeof(out));
	safe_text(out, (size_t)_i, in, sizeof(in) - 1);
	if (_i > 0)
		ck_assert_str_eq(out, want[_i]);
	else
		ck_assert_int_eq(out[0], 'Q');	/* cap 0: nothing written */
}
END_TEST

/* safe_line: the whole line escaped, one newline of its own; errno kept. */
START_TEST(line)
{
	char buf[256];
	FILE *f = fmemopen(buf, sizeof(buf), "w");

	ck_assert_ptr_nonnull(f);
	errno = ENOENT;		/* a caller reports it after the line */
	safe_line(f, "name %s at port %u", "x\ny\xc2\x9b", 22500u);
	ck_assert_int_eq(errno, ENOENT);
	fclose(f);
	ck_assert_str_eq(buf, "name x\\x0ay\\xc2\\x9b at port 22500\n");
}
END_TEST

/*
 * safe_line on a terminal in raw mode (no output processing, as a shell's
 * line editor leaves it): the line between \r\n, so it starts at column 0
 * wherever the cursor was.  On a regular file, or a terminal that turns \n
 * into \r\n itself, one \n.  errno is as it was, either way.
 */
/*
 * Read what the pty's master has, until want's length or a second passes:
 * a line may reach the master in more than one piece.
 */
static void
read_pty(int m, char *got, size_t cap, size_t want)
{
	struct pollfd p = { m, POLLIN, 0 };
	size_t len = 0;
	ssize_t n;

	while (len < want && len + 1 < cap && poll(&p, 1, 1000) == 1) {
		n = read(m, got + len, cap - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	got[len] = '\0';
}

START_TEST(line_raw_terminal)
{
	struct termios t;
	char got[64];
	FILE *f;
	int m, sfd;

	m = posix_openpt(O_RDWR | O_NOCTTY);
	ck_assert_int_ge(m, 0);
	ck_assert_int_eq(grantpt(m), 0);
	ck_assert_int_eq(unlockpt(m), 0);
	sfd = open(ptsname(m), O_RDWR | O_NOCTTY);
	ck_assert_int_ge(sfd, 0);
	ck_assert_int_eq(tcgetattr(sfd, &t), 0);
	t.c_oflag &= ~(tcflag_t)OPOST;
	ck_assert_int_eq(tcsetattr(sfd, TCSANOW, &t), 0);
	f = fdopen(sfd, "w");
	ck_assert_ptr_nonnull(f);
	errno = ENOENT;
	safe_line(f, "tunnel %s", "lost");
	ck_assert_int_eq(errno, ENOENT);
	fflush(f);
	read_pty(m, got, sizeof(got), strlen("\r\ntunnel lost\r\n"));
	ck_assert_str_eq(got, "\r\ntunnel lost\r\n");
	t.c_oflag |= OPOST | ONLCR;
	ck_assert_int_eq(tcsetattr(sfd, TCSANOW, &t), 0);
	safe_line(f, "back");
	fflush(f);
	read_pty(m, got, sizeof(got), strlen("back\r\n"));
	ck_assert_str_eq(got, "back\r\n");	/* the terminal's own \r */
	fclose(f);
	close(m);
}
END_TEST

static Suite *
safe_suite(void)
{
	Suite *s = suite_create("safe");
	TCase *tc = tcase_create("text");

	tcase_add_loop_test(tc, escapes, 0,
	    (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_loop_test(tc, never_cut, 0, 11);
	tcase_add_test(tc, line);
	tcase_add_test(tc, line_raw_terminal);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr;
	int failed;

	sr = srunner_create(safe_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
