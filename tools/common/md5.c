/*
 * md5.c: RFC 1321, written from the specification (md5.h).
 */
#include <string.h>

#include "md5.h"

/* floor(abs(sin(i + 1)) * 2^32), RFC 1321 section 3.4. */
static const uint32_t K[64] = {
	0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee,
	0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
	0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be,
	0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
	0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa,
	0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
	0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed,
	0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
	0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c,
	0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
	0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05,
	0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
	0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039,
	0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
	0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1,
	0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
};

/* The left rotations of each round's four steps. */
static const uint8_t R[4][4] = {
	{ 7, 12, 17, 22 }, { 5, 9, 14, 20 }, { 4, 11, 16, 23 }, { 6, 10, 15, 21 },
};

static uint32_t
rotl(uint32_t x, unsigned n)
{
	return (x << n) | (x >> (32 - n));
}

static void
transform(uint32_t state[4], const uint8_t block[64])
{
	uint32_t w[16], a, b, c, d, f, t;
	unsigned i, g;

	for (i = 0; i < 16; i++)
		w[i] = (uint32_t)block[i * 4] |
		    (uint32_t)block[i * 4 + 1] << 8 |
		    (uint32_t)block[i * 4 + 2] << 16 |
		    (uint32_t)block[i * 4 + 3] << 24;
	a = state[0];
	b = state[1];
	c = state[2];
	d = state[3];
	for (i = 0; i < 64; i++) {
		switch (i / 16) {
		case 0:
			f = (b & c) | (~b & d);
			g = i;
			break;
		case 1:
			f = (d & b) | (~d & c);
			g = (5 * i + 1) % 16;
			break;
		case 2:
			f = b ^ c ^ d;
			g = (3 * i + 5) % 16;
			break;
		default:
			f = c ^ (b | ~d);
			g = (7 * i) % 16;
			break;
		}
		t = d;
		d = c;
		c = b;
		b = b + rotl(a + f + K[i] + w[g], R[i / 16][i % 4]);
		a = t;
	}
	state[0] += a;
	state[1] += b;
	state[2] += c;
	state[3] += d;
}

void
md5_init(struct md5 *m)
{
	m->state[0] = 0x67452301;
	m->state[1] = 0xefcdab89;
	m->state[2] = 0x98badcfe;
	m->state[3] = 0x10325476;
	m->bytes = 0;
}

void
md5_update(struct md5 *m, const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t used = (size_t)(m->bytes % 64), n;

	m->bytes += len;
	while (len > 0) {
		n = 64 - used < len ? 64 - used : len;
		memcpy(m->block + used, p, n);
		used += n;
		p += n;
		len -= n;
		if (used == 64) {
			transform(m->state, m->block);
			used = 0;
		}
	}
}

void
md5_final(struct md5 *m, uint8_t out[MD5_LEN])
{
	static const uint8_t pad[64] = { 0x80 };
	uint8_t lenbuf[8];
	uint64_t bits = m->bytes * 8;
	size_t used = (size_t)(m->bytes % 64), i;

	for (i = 0; i < 8; i++)
		lenbuf[i] = (uint8_t)(bits >> (8 * i));
	/* Pad to 56 bytes mod 64, then the length: RFC 1321 sections 3.1-3.2. */
	md5_update(m, pad, used < 56 ? 56 - used : 120 - used);
	md5_update(m, lenbuf, sizeof(lenbuf));
	for (i = 0; i < 4; i++) {
		out[i * 4] = (uint8_t)m->state[i];
		out[i * 4 + 1] = (uint8_t)(m->state[i] >> 8);
		out[i * 4 + 2] = (uint8_t)(m->state[i] >> 16);
		out[i * 4 + 3] = (uint8_t)(m->state[i] >> 24);
	}
}
