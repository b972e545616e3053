/*
 * logfmt.c: the server's log lines (logfmt.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "logfmt.h"

void
logfmt(const char *level, const char *msg, const char *fields, ...)
{
	char line[1024], ts[32];
	struct timespec now;
	struct tm tm;
	va_list ap;
	int n, m, saved = errno;

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	n = snprintf(line, sizeof(line), "ts=%s.%03ldZ level=%s msg=%s", ts,
	    now.tv_nsec / 1000000, level, msg);
	if (n < 0 || (size_t)n >= sizeof(line))
		n = (int)sizeof(line) - 1;
	if (fields != NULL && *fields != '\0') {
		line[n++] = ' ';
		va_start(ap, fields);
		m = vsnprintf(line + n, sizeof(line) - (size_t)n, fields, ap);
		va_end(ap);
		if (m > 0)
			n += m;
	}
	if ((size_t)n > sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	/* One write per line, so lines never interleave. */
	(void)!write(STDERR_FILENO, line, (size_t)n);
	errno = saved;
}

const char *
logfmt_value(const char *s, char *buf, size_t cap)
{
	size_t i = 0;
	int quote = *s == '\0' || strpbrk(s, " =\"\\") != NULL;

	if (cap < 3) {
		if (cap > 0)
			buf[0] = '\0';
		return buf;
	}
	if (quote)
		buf[i++] = '"';
	for (; *s != '\0' && i + 3 < cap; s++) {
		if (*s == '"' || *s == '\\')
			buf[i++] = '\\';
		buf[i++] = (unsigned char)*s < 0x20 ? '?' : *s;
	}
	if (quote)
		buf[i++] = '"';
	buf[i] = '\0';
	return buf;
}
