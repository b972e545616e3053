/*
 * safe.c: remote text made safe for the terminal (safe.h).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "safe.h"

/*
 * The length of the well-formed UTF-8 sequence at s (at most len bytes) that
 * encodes a character other than a C1 control, or 0.  Overlong forms,
 * surrogates and code points past U+10FFFF are not well formed.
 */
static size_t
utf8_ok(const unsigned char *s, size_t len)
{
	uint32_t cp;
	size_t n, i;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (len < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	/* C1 controls: 0x9b is CSI, as ESC [ is. */
	if (cp >= 0x80 && cp <= 0x9f)
		return 0;
	return n;
}

size_t
safe_text(char *out, size_t cap, const char *in, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)in;
	size_t i = 0, o = 0, n;

	if (cap == 0)
		return 0;
	while (i < len) {
		if (s[i] >= 0x20 && s[i] < 0x7f)
			n = 1;
		else if (s[i] >= 0x80)
			n = utf8_ok(s + i, len - i);
		else
			n = 0;
		if (n > 0) {
			if (o + n >= cap)
				break;
			memcpy(out + o, s + i, n);
			o += n;
			i += n;
			continue;
		}
		if (o + 4 >= cap)
			break;
		out[o++] = '\\';
		out[o++] = 'x';
		out[o++] = hex[s[i] >> 4];
		out[o++] = hex[s[i] & 0x0f];
		i++;
	}
	out[o] = '\0';
	return o;
}

/*
 * 1 when f is a terminal whose output is not post-processed (raw mode).
 * errno is left as it was: callers report it after the message.
 */
static int
raw_terminal(FILE *f)
{
	struct termios t;
	int saved = errno, fd, raw;

	fd = fileno(f);
	raw = fd >= 0 && isatty(fd) && tcgetattr(fd, &t) == 0 &&
	    ((t.c_oflag & OPOST) == 0 || (t.c_oflag & ONLCR) == 0);
	errno = saved;
	return raw;
}

void
safe_vline(FILE *f, const char *fmt, va_list ap)
{
	char line[SAFE_LINE_MAX], shown[4 * SAFE_LINE_MAX];
	int n;

	n = vsnprintf(line, sizeof(line), fmt, ap);
	if (n < 0)
		return;
	safe_text(shown, sizeof(shown), line,
	    (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
	/* A terminal in raw mode (a shell's line editor has it) does not
	 * turn \n into \r\n: the line starts on a line and column of its
	 * own, wherever the cursor was. */
	if (raw_terminal(f))
		fprintf(f, "\r\n%s\r\n", shown);
	else
		fprintf(f, "%s\n", shown);
}

void
safe_line(FILE *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	safe_vline(f, fmt, ap);
	va_end(ap);
}
