/*
 * md5: the MD5 message digest (RFC 1321).  The Erlang distribution
 * handshake proves the cookie with it; nothing here is used for security
 * beyond what that handshake already does.  Pure: no I/O, no allocation.
 */
#ifndef ERLFWD_MD5_H
#define ERLFWD_MD5_H

#include <stddef.h>
#include <stdint.h>

#define MD5_LEN	16

struct md5 {
	uint32_t	state[4];
	uint64_t	bytes;		/* message length so far */
	uint8_t		block[64];	/* the partial block */
};

/* md5_init: start a digest in m. */
void	md5_init(struct md5 *m);

/* md5_update: add len bytes of data to m. */
void	md5_update(struct md5 *m, const void *data, size_t len);

/* md5_final: finish m and write its 16-byte digest to out; m is spent. */
void	md5_final(struct md5 *m, uint8_t out[MD5_LEN]);

#endif /* ERLFWD_MD5_H */
