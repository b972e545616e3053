/*
 * runtime: liberlfwd's process-wide state, built once (at load, or at the
 * first hooked call if that comes earlier) and never changed afterwards, so
 * hooks read it without locks.
 */
#ifndef ERLFWD_RUNTIME_H
#define ERLFWD_RUNTIME_H

#include <limits.h>

#include "config.h"

#define RUNTIME_HOSTNAME_MAX	256

struct runtime {
	struct config	 cfg;
	int		 active;	/* 0: configuration bad, pass everything */
	char		 hostname[RUNTIME_HOSTNAME_MAX];
	const char	*skip[2];	/* names a glob never matches: this host */
	int		 cluster;	/* 1: some entry has a socks5h route */
	struct route	 helper;	/* then: the cluster helper, 127.0.0.1 */
};

/* runtime_get: the state, initialised on first use. */
const struct runtime *runtime_get(void);

/*
 * runtime_match: the configuration entry that the host name stands for, or
 * -1 (also when the library is inactive).
 */
int	runtime_match(const struct runtime *rt, const char *name);

#endif /* ERLFWD_RUNTIME_H */
