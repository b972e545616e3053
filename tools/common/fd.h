/*
 * fd: what the tools do with a descriptor on a failure path.
 */
#ifndef ERLFWD_FD_H
#define ERLFWD_FD_H

/*
 * fd_close_keep_errno: close fd (when >= 0) and leave errno as it was: the
 * failure being reported, not close's.  Returns -1, so that a failure path
 * can end with "return fd_close_keep_errno(fd);".
 */
int	fd_close_keep_errno(int fd);

#endif /* ERLFWD_FD_H */
