/*
 * sha256: the SHA-256 message digest (FIPS 180-4), HMAC-SHA256 over it
 * (RFC 2104) and a comparison for MACs that takes the same time whatever
 * the bytes.  The carrier's resume proof is built on them (carrier.h).
 * Pure: no I/O, no allocation.
 */
#ifndef ERLFWD_SHA256_H
#define ERLFWD_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN	32	/* bytes of a digest */
#define SHA256_BLOCK	64	/* bytes of a block: HMAC pads its key to it */

struct sha256 {
	uint32_t	state[8];
	uint64_t	bytes;		/* message length so far */
	uint8_t		block[SHA256_BLOCK];	/* the partial block */
};

/* sha256_init: start a digest in s. */
void	sha256_init(struct sha256 *s);

/* sha256_update: add len bytes of data to s (data may be NULL when 0). */
void	sha256_update(struct sha256 *s, const void *data, size_t len);

/* sha256_final: finish s and write its 32-byte digest to out; s is spent. */
void	sha256_final(struct sha256 *s, uint8_t out[SHA256_LEN]);

/* sha256_digest: the digest of len bytes of data, in one call. */
void	sha256_digest(const void *data, size_t len, uint8_t out[SHA256_LEN]);

/*
 * sha256_hmac: HMAC-SHA256 of len bytes of msg under a key of klen bytes
 * (any length: a key longer than a block is hashed first, as RFC 2104
 * says), into out.  The key's padded copies are wiped before it returns.
 */
void	sha256_hmac(const void *key, size_t klen, const void *msg, size_t len,
	    uint8_t out[SHA256_LEN]);

/*
 * sha256_equal: 1 when the n bytes at a and b are the same, else 0, in a
 * time that depends on n alone: for MACs, where an early exit would tell
 * a forger how many of its leading bytes were right.
 */
int	sha256_equal(const void *a, const void *b, size_t n);

#endif /* ERLFWD_SHA256_H */
