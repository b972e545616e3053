/*
 * sha256.c: FIPS 180-4 (SHA-256) and RFC 2104 (HMAC), written from the
 * specifications (sha256.h).
 */
#include <string.h>

#include "sha256.h"

#define IPAD	0x36
#define OPAD	0x5c

/* The first 32 bits of the fractional parts of the cube roots of the
 * first 64 primes: FIPS 180-4 section 4.2.2. */
static const uint32_t K[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5,
	0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
	0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc,
	0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
	0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
	0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3,
	0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5,
	0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
	0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

/* The first 32 bits of the fractional parts of the square roots of the
 * first 8 primes: FIPS 180-4 section 5.3.3. */
static const uint32_t H0[8] = {
	0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
	0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
};

static uint32_t
rotr(uint32_t x, unsigned n)
{
	return (x >> n) | (x << (32 - n));
}

/* FIPS 180-4 section 6.2.2: one 512-bit block into the state. */
static void
transform(uint32_t state[8], const uint8_t block[SHA256_BLOCK])
{
	uint32_t w[64], v[8], s0, s1, ch, maj, t1, t2;
	unsigned i;

	for (i = 0; i < 16; i++)
		w[i] = (uint32_t)block[i * 4] << 24 |
		    (uint32_t)block[i * 4 + 1] << 16 |
		    (uint32_t)block[i * 4 + 2] << 8 |
		    (uint32_t)block[i * 4 + 3];
	for (i = 16; i < 64; i++) {
		s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ w[i - 15] >> 3;
		s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ w[i - 2] >> 10;
		w[i] = s1 + w[i - 7] + s0 + w[i - 16];
	}
	memcpy(v, state, sizeof(v));
	/* v[0..7] are the specification's a..h. */
	for (i = 0; i < 64; i++) {
		s1 = rotr(v[4], 6) ^ rotr(v[4], 11) ^ rotr(v[4], 25);
		ch = (v[4] & v[5]) ^ (~v[4] & v[6]);
		t1 = v[7] + s1 + ch + K[i] + w[i];
		s0 = rotr(v[0], 2) ^ rotr(v[0], 13) ^ rotr(v[0], 22);
		maj = (v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]);
		t2 = s0 + maj;
		v[7] = v[6];
		v[6] = v[5];
		v[5] = v[4];
		v[4] = v[3] + t1;
		v[3] = v[2];
		v[2] = v[1];
		v[1] = v[0];
		v[0] = t1 + t2;
	}
	for (i = 0; i < 8; i++)
		state[i] += v[i];
}

/* memset that the compiler may not drop as a dead store: for key material
 * on the stack that is about to go out of scope. */
static void
wipe(void *p, size_t n)
{
	volatile uint8_t *q = p;

	while (n-- > 0)
		*q++ = 0;
}

void
sha256_init(struct sha256 *s)
{
	memcpy(s->state, H0, sizeof(s->state));
	s->bytes = 0;
}

void
sha256_update(struct sha256 *s, const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t used = (size_t)(s->bytes % SHA256_BLOCK), n;

	s->bytes += len;
	while (len > 0) {
		n = SHA256_BLOCK - used < len ? SHA256_BLOCK - used : len;
		memcpy(s->block + used, p, n);
		used += n;
		p += n;
		len -= n;
		if (used == SHA256_BLOCK) {
			transform(s->state, s->block);
			used = 0;
		}
	}
}

void
sha256_final(struct sha256 *s, uint8_t out[SHA256_LEN])
{
	static const uint8_t pad[SHA256_BLOCK] = { 0x80 };
	uint8_t lenbuf[8];
	uint64_t bits = s->bytes * 8;
	size_t used = (size_t)(s->bytes % SHA256_BLOCK), i;

	for (i = 0; i < 8; i++)
		lenbuf[i] = (uint8_t)(bits >> (56 - 8 * i));
	/* A 1 bit, zeros to 56 bytes mod 64, then the length in bits, big
	 * endian: FIPS 180-4 section 5.1.1. */
	sha256_update(s, pad, used < 56 ? 56 - used : 120 - used);
	sha256_update(s, lenbuf, sizeof(lenbuf));
	for (i = 0; i < 8; i++) {
		out[i * 4] = (uint8_t)(s->state[i] >> 24);
		out[i * 4 + 1] = (uint8_t)(s->state[i] >> 16);
		out[i * 4 + 2] = (uint8_t)(s->state[i] >> 8);
		out[i * 4 + 3] = (uint8_t)s->state[i];
	}
}

void
sha256_digest(const void *data, size_t len, uint8_t out[SHA256_LEN])
{
	struct sha256 s;

	sha256_init(&s);
	sha256_update(&s, data, len);
	sha256_final(&s, out);
}

void
sha256_hmac(const void *key, size_t klen, const void *msg, size_t len,
    uint8_t out[SHA256_LEN])
{
	uint8_t k[SHA256_BLOCK], pad[SHA256_BLOCK], inner[SHA256_LEN];
	struct sha256 s;
	size_t i;

	/* RFC 2104 section 2: a key longer than a block is hashed first;
	 * either way it is then padded with zeros to a block. */
	memset(k, 0, sizeof(k));
	if (klen > SHA256_BLOCK)
		sha256_digest(key, klen, k);
	else if (klen > 0)
		memcpy(k, key, klen);

	for (i = 0; i < SHA256_BLOCK; i++)
		pad[i] = k[i] ^ IPAD;
	sha256_init(&s);
	sha256_update(&s, pad, sizeof(pad));
	sha256_update(&s, msg, len);
	sha256_final(&s, inner);

	for (i = 0; i < SHA256_BLOCK; i++)
		pad[i] = k[i] ^ OPAD;
	sha256_init(&s);
	sha256_update(&s, pad, sizeof(pad));
	sha256_update(&s, inner, sizeof(inner));
	sha256_final(&s, out);

	/* Whoever reads this stack next learns nothing of the key. */
	wipe(k, sizeof(k));
	wipe(pad, sizeof(pad));
	wipe(inner, sizeof(inner));
	wipe(&s, sizeof(s));
}

int
sha256_equal(const void *a, const void *b, size_t n)
{
	const volatile uint8_t *x = a, *y = b;
	uint8_t diff = 0;
	size_t i;

	/* Every byte is read, whatever the ones before it were: no early
	 * exit, no branch on the data. */
	for (i = 0; i < n; i++)
		diff |= x[i] ^ y[i];
	return (int)(1 & ((uint32_t)diff - 1) >> 8);
}
