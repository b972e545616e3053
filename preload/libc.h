/*
 * libc: the real functions behind liberlfwd's hooks, resolved once with
 * dlsym(RTLD_NEXT) and checked not to be the hooks themselves.  The library
 * never calls a hooked symbol by name: it calls through this table.
 */
#ifndef ERLFWD_LIBC_H
#define ERLFWD_LIBC_H

#include <sys/socket.h>

#include <netdb.h>

struct libc_fns {
	int		(*connect)(int, const struct sockaddr *, socklen_t);
	int		(*bind)(int, const struct sockaddr *, socklen_t);
	int		(*listen)(int, int);
	struct hostent	*(*gethostbyname)(const char *);
	struct hostent	*(*gethostbyname2)(const char *, int);
	int		(*gethostbyname_r)(const char *, struct hostent *,
			    char *, size_t, struct hostent **, int *);
	int		(*gethostbyname2_r)(const char *, int, struct hostent *,
			    char *, size_t, struct hostent **, int *);
	struct hostent	*(*gethostbyaddr)(const void *, socklen_t, int);
	int		(*getaddrinfo)(const char *, const char *,
			    const struct addrinfo *, struct addrinfo **);
	int		(*getnameinfo)(const struct sockaddr *, socklen_t,
			    char *, socklen_t, char *, socklen_t, int);
};

extern struct libc_fns libc;

/*
 * libc_init: fill the table.  Returns 0, or -1 when a symbol could not be
 * found (its slot then holds a stand-in that fails with ENOSYS, or, for
 * connect, bind and listen, the raw system call).
 */
int	libc_init(void);

#endif /* ERLFWD_LIBC_H */
