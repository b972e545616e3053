/*
 * procnet_none.c: procnet.h where the kernel has no sock_diag and no
 * /proc/net (the POSIX build of erlfwd): no verdict, ever, so that the
 * agent serves every local connection, as it does on Linux when the kernel
 * cannot tell.  On macOS this is the known gap: another local user's
 * process may use the agent's port.
 */
#include <errno.h>

#include "procnet.h"

int
procnet_line(const char *line, size_t len, struct procnet_sock *s)
{
	(void)line;
	(void)len;
	(void)s;
	return 0;
}

int
procnet_peer_uid(int fd, uid_t *uid)
{
	(void)fd;
	(void)uid;
	errno = ENOSYS;
	return -1;
}

int
procnet_conn_owner(const char *dir, uint16_t port, uint16_t rport,
    uid_t *uid)
{
	(void)dir;
	(void)port;
	(void)rport;
	(void)uid;
	errno = ENOSYS;
	return -1;
}

int
procnet_port_owner(const char *dir, uint16_t port, uid_t self)
{
	(void)dir;
	(void)port;
	(void)self;
	return PROCNET_UNKNOWN;
}
