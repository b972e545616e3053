/*
 * fd.c: descriptors on failure paths (fd.h).
 */
#include <errno.h>
#include <unistd.h>

#include "fd.h"

int
fd_close_keep_errno(int fd)
{
	int saved = errno;

	if (fd >= 0)
		(void)close(fd);
	errno = saved;
	return -1;
}
