/*
 * socksdial: a SOCKS5 CONNECT on a connected, non-blocking socket: the
 * state machine of socks5.h driven with tio's deadlines.  Shared by the
 * preload's redirect and the erlfwd command.
 */
#ifndef ERLFWD_SOCKSDIAL_H
#define ERLFWD_SOCKSDIAL_H

#include <stdint.h>

#include "config.h"

/* How a failed CONNECT failed: socksdial_connect() fills it in. */
struct socksdial_failure {
	int		 target;	/* the proxy spoke SOCKS5 but could not
					 * (or would not) reach the target */
	int		 eof;		/* the proxy closed the connection */
	const char	*why;		/* a short phrase, for debug lines */
};

/*
 * socksdial_connect: ask the SOCKS5 proxy at the other end of fd (route r:
 * its credentials and target host) to connect to port, before deadline
 * (tio_now_ms()).  Reads no byte past the proxy's reply.  Returns 0, or -1
 * with errno (ECONNREFUSED when refused or closed, EACCES, ETIMEDOUT,
 * EPROTO, ...) and d saying more.
 */
int	socksdial_connect(int fd, const struct route *r, uint16_t port,
	    long deadline, struct socksdial_failure *d);

#endif /* ERLFWD_SOCKSDIAL_H */
