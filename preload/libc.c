/*
 * libc.c: resolve the real functions once (libc.h).
 */
#include <sys/socket.h>
#include <sys/syscall.h>

#include <dlfcn.h>
#include <errno.h>
#include <netdb.h>
#include <unistd.h>

#include "libc.h"

struct libc_fns libc;

/* The hooks, to tell a real symbol from ourselves (hooks.c). */
extern int connect(int, const struct sockaddr *, socklen_t);
extern int bind(int, const struct sockaddr *, socklen_t);
extern int listen(int, int);

static int
raw_connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	return (int)syscall(SYS_connect, fd, sa, len);
}

static int
raw_bind(int fd, const struct sockaddr *sa, socklen_t len)
{
	return (int)syscall(SYS_bind, fd, sa, len);
}

static int
raw_listen(int fd, int backlog)
{
	return (int)syscall(SYS_listen, fd, backlog);
}

static struct hostent *
none_gethostbyname(const char *name)
{
	(void)name;
	h_errno = NO_RECOVERY;
	return NULL;
}

static struct hostent *
none_gethostbyname2(const char *name, int af)
{
	(void)af;
	return none_gethostbyname(name);
}

static int
none_gethostbyname_r(const char *name, struct hostent *ret, char *buf,
    size_t len, struct hostent **result, int *h_errnop)
{
	(void)name, (void)ret, (void)buf, (void)len;
	*result = NULL;
	*h_errnop = NO_RECOVERY;
	return ENOSYS;
}

static int
none_gethostbyname2_r(const char *name, int af, struct hostent *ret,
    char *buf, size_t len, struct hostent **result, int *h_errnop)
{
	(void)af;
	return none_gethostbyname_r(name, ret, buf, len, result, h_errnop);
}

static struct hostent *
none_gethostbyaddr(const void *addr, socklen_t len, int type)
{
	(void)addr, (void)len, (void)type;
	h_errno = NO_RECOVERY;
	return NULL;
}

static int
none_getaddrinfo(const char *node, const char *service,
    const struct addrinfo *hints, struct addrinfo **res)
{
	(void)node, (void)service, (void)hints, (void)res;
	errno = ENOSYS;
	return EAI_SYSTEM;
}

static int
none_getnameinfo(const struct sockaddr *sa, socklen_t salen, char *host,
    socklen_t hostlen, char *serv, socklen_t servlen, int flags)
{
	(void)sa, (void)salen, (void)host, (void)hostlen;
	(void)serv, (void)servlen, (void)flags;
	errno = ENOSYS;
	return EAI_SYSTEM;
}

/* The next definition of name, or NULL when there is none but ours. */
static void *
next(const char *name, void *self)
{
	void *p = dlsym(RTLD_NEXT, name);

	return p == self ? NULL : p;
}

#define RESOLVE(field, fallback, self) do {				\
	void *p_ = next(#field, (void *)(self));			\
	if (p_ == NULL) {						\
		libc.field = fallback;					\
		rc = -1;						\
	} else								\
		*(void **)&libc.field = p_;				\
} while (0)

int
libc_init(void)
{
	int rc = 0;

	RESOLVE(connect, raw_connect, connect);
	RESOLVE(bind, raw_bind, bind);
	RESOLVE(listen, raw_listen, listen);
	RESOLVE(gethostbyname, none_gethostbyname, gethostbyname);
	RESOLVE(gethostbyname2, none_gethostbyname2, gethostbyname2);
	RESOLVE(gethostbyname_r, none_gethostbyname_r, gethostbyname_r);
	RESOLVE(gethostbyname2_r, none_gethostbyname2_r, gethostbyname2_r);
	RESOLVE(gethostbyaddr, none_gethostbyaddr, gethostbyaddr);
	RESOLVE(getaddrinfo, none_getaddrinfo, getaddrinfo);
	RESOLVE(getnameinfo, none_getnameinfo, getnameinfo);
	return rc;
}
