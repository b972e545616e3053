/*
 * log.c: liberlfwd's stderr lines (log.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "log.h"

static int debug_on;

void
log_set_debug(int on)
{
	debug_on = on;
}

static void
vlog(const char *fmt, va_list ap)
{
	char line[512];
	int saved = errno, n, m;
	ssize_t w;

	/* stdio would share the host program's buffer and lock: format by hand. */
	n = snprintf(line, sizeof(line), "erlfwd[%ld]: ", (long)getpid());
	if (n < 0)
		n = 0;
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	if (m < 0)
		m = 0;
	n += m;
	if ((size_t)n > sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	do
		w = write(STDERR_FILENO, line, (size_t)n);
	while (w < 0 && errno == EINTR);
	errno = saved;
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (!debug_on)
		return;
	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}
