/*
 * info: ask the erlfwd-server behind a route for its INFO (version, host
 * name, epmd, nodes), within a time budget, and say precisely what answered
 * when it was not an erlfwd-server.
 */
#ifndef ERLFWD_INFO_H
#define ERLFWD_INFO_H

#include "config.h"
#include "frame_info.h"

enum info_status {
	INFO_OK = 0,
	INFO_REFUSED,		/* nothing listens on the route */
	INFO_UNREACHABLE,	/* no connection: timeout or another error */
	INFO_CLOSED,		/* accepted, then closed without a byte: a
				 * forward with nothing listening behind it */
	INFO_SILENT,		/* accepted, then no reply in time */
	INFO_FOREIGN,		/* replied with something that is not erlfwd */
	INFO_PROTOCOL,		/* an erlfwd-server of another protocol version */
	INFO_DECLINED,		/* erlfwd-server said why it would not serve:
				 * "refused: busy (max-conns N)" in peek */
	INFO_LOCAL,		/* a local failure (errno) */
};

struct info_result {
	enum info_status	status;
	int			err;		/* errno, when there is one */
	unsigned		version;	/* INFO_PROTOCOL: the server's */
	char			peek[80];	/* INFO_FOREIGN: the first bytes,
						 * printable; INFO_DECLINED: why */
	long			elapsed_ms;
};

/*
 * info_fetch: connect to r, send an INFO request and read the reply into fi,
 * all within timeout_ms.  Through a SOCKS5 route, where no erlfwd-server
 * runs, ask the remote epmd for NAMES instead: fi then has no version, and
 * its host names the route.  Returns 0 (res->status INFO_OK), or -1 with
 * res->status saying what went wrong.
 */
int	info_fetch(const struct route *r, int timeout_ms, struct frame_info *fi,
	    struct info_result *res);

/*
 * info_describe: one English line (no newline) for a failed res on route r,
 * into buf of cap bytes; returns buf.
 */
const char *info_describe(const struct info_result *res, const struct route *r,
	    char *buf, size_t cap);

#endif /* ERLFWD_INFO_H */
