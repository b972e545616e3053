/*
 * fuzz.h: what every libFuzzer target in tests/fuzz shares: the entry point's
 * prototype, an assertion that aborts (libFuzzer then saves the input as a
 * crash), and exact-size heap copies, so that AddressSanitizer sees a read
 * one byte past the length a parser was given.
 */
#ifndef ERLFWD_FUZZ_H
#define ERLFWD_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ASSERT(cond) do {						\
	if (!(cond))							\
		fuzz_fail(__FILE__, __LINE__, #cond);			\
} while (0)

static inline void
fuzz_fail(const char *file, int line, const char *what)
{
	fprintf(stderr, "%s:%d: property violated: %s\n", file, line, what);
	abort();
}

/* fuzz_dup: len bytes of p in a heap block of exactly len bytes (never NULL). */
static inline void *
fuzz_dup(const void *p, size_t len)
{
	void *q = malloc(len > 0 ? len : 1);

	if (q == NULL)
		abort();
	if (len > 0)
		memcpy(q, p, len);
	return q;
}

/* fuzz_strdup: len bytes of p as a NUL-terminated heap string. */
static inline char *
fuzz_strdup(const void *p, size_t len)
{
	char *q = malloc(len + 1);

	if (q == NULL)
		abort();
	if (len > 0)
		memcpy(q, p, len);
	q[len] = '\0';
	return q;
}

/* fuzz_has_nul: 1 when s (cap bytes) holds a NUL, i.e. is a C string. */
static inline int
fuzz_has_nul(const char *s, size_t cap)
{
	return memchr(s, '\0', cap) != NULL;
}

#endif /* ERLFWD_FUZZ_H */
