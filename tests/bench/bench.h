/*
 * bench: helpers shared by the benchmark drivers in tests/bench.  They
 * return -1 with errno set; only main() reports and exits.
 */
#ifndef ERLFWD_BENCH_H
#define ERLFWD_BENCH_H

#include <sys/socket.h>
#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

/* bench_now_ns: CLOCK_MONOTONIC in nanoseconds. */
uint64_t bench_now_ns(void);

/*
 * bench_resolve: HOST and PORT as an IPv4 socket address in ss, through
 * getaddrinfo (so that liberlfwd.so, when preloaded, answers for its hosts).
 * Returns the address length, or 0 after printing why on stderr.
 */
socklen_t bench_resolve(const char *host, const char *port,
	    struct sockaddr_storage *ss);

/*
 * bench_dial: a new TCP connection to ss (len bytes), with TCP_NODELAY (a
 * single byte must not wait for Nagle on any hop); or -1 with errno.
 */
int	bench_dial(const struct sockaddr_storage *ss, socklen_t len);

/* bench_number: s as a long in [lo, hi], or -1 (a message on stderr). */
long	bench_number(const char *what, const char *s, long lo, long hi);

/* bench_rss_kib: VmRSS of process pid in KiB, or -1. */
long	bench_rss_kib(pid_t pid);

/* bench_hwm_kib: VmHWM (peak resident set) of process pid in KiB, or -1. */
long	bench_hwm_kib(pid_t pid);

/* bench_fd_count: how many file descriptors process pid holds, or -1. */
long	bench_fd_count(pid_t pid);

/* bench_cmp_u64: qsort comparator for uint64_t. */
int	bench_cmp_u64(const void *a, const void *b);

#endif /* ERLFWD_BENCH_H */
