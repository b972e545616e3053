/*
 * logfmt: the server's log lines on stderr, one line per event, as
 * "ts=... level=... msg=... key=value ...".
 */
#ifndef ERLFWD_LOGFMT_H
#define ERLFWD_LOGFMT_H

#include <stddef.h>

/*
 * logfmt: write one line.  fields is appended after msg as it is; build it
 * with logfmt_value() for anything that may hold spaces or quotes.
 */
void	logfmt(const char *level, const char *msg, const char *fields, ...)
	    __attribute__((format(printf, 3, 4)));

/* logfmt_value: s as a logfmt value (quoted when needed) in buf. */
const char *logfmt_value(const char *s, char *buf, size_t cap);

#endif /* ERLFWD_LOGFMT_H */
