/*
 * check_sha256.c: SHA-256, HMAC-SHA256 and the constant-time comparison
 * (tools/common/sha256.h), one Check suite.
 *
 * The digests are the published ones: FIPS 180-4's examples (NIST's
 * "Cryptographic Standards and Guidelines: Examples with Intermediate
 * Values", SHA-256) and RFC 4231's test cases 1-7 for HMAC.  The padding
 * edges and the HMAC key-length edges have no published vector: those
 * were computed with OpenSSL 3, as each table says.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sha256.h"

/* Two hex digits a byte, lowercase: what a table below holds. */
static void
tohex(const uint8_t *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 0x0f];
	}
	out[2 * n] = '\0';
}

static void
expect_digest(const uint8_t d[SHA256_LEN], const char *want)
{
	char got[2 * SHA256_LEN + 1];

	tohex(d, SHA256_LEN, got);
	ck_assert_str_eq(got, want);
}

/* --- SHA-256 ------------------------------------------------------------ */

/* FIPS 180-4 / NIST examples. */
static const struct {
	const char	*msg;
	const char	*digest;
} fips[] = {
	{ "abc",
	  "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
	/* 448 bits: two blocks, as the padding will not fit in the first. */
	{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
	  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
	/* 896 bits (FIPS 180-2 appendix C's SHA-384/512 message). */
	{ "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
	  "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
	  "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1" },
	{ "",
	  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
};
#define NFIPS	((int)(sizeof(fips) / sizeof(fips[0])))

START_TEST(fips_examples)
{
	uint8_t d[SHA256_LEN];

	sha256_digest(fips[_i].msg, strlen(fips[_i].msg), d);
	expect_digest(d, fips[_i].digest);
}
END_TEST

/* One million 'a's, fed in pieces of a size that is no divisor of 64. */
START_TEST(fips_million_a)
{
	uint8_t chunk[1000], d[SHA256_LEN];
	struct sha256 s;
	size_t left = 1000000, n;

	memset(chunk, 'a', sizeof(chunk));
	sha256_init(&s);
	for (n = 997; left > 0; left -= n) {
		if (n > left)
			n = left;
		sha256_update(&s, chunk, n);
	}
	sha256_final(&s, d);
	expect_digest(d, "cdc76e5c9914fb9281a1c7e284d73e67"
	    "f1809a48a497200e046d39ccc7112cd0");
}
END_TEST

/*
 * n 'a's around the padding's edges: 55 is the longest message whose
 * length fits in its last block, 56 the shortest that needs another.
 * Computed with: head -c N /dev/zero | tr '\0' a | openssl dgst -sha256
 */
static const struct {
	size_t		 n;
	const char	*digest;
} edges[] = {
	{ 55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318" },
	{ 56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a" },
	{ 57, "f13b2d724659eb3bf47f2dd6af1accc87b81f09f59f2b75e5c0bed6589dfe8c6" },
	{ 63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34" },
	{ 64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb" },
	{ 65, "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0" },
	{ 119, "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb" },
	{ 120, "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c" },
	{ 127, "c57e9278af78fa3cab38667bef4ce29d783787a2f731d4e12200270f0c32320a" },
	{ 128, "6836cf13bac400e9105071cd6af47084dfacad4e5e302c94bfed24e013afb73e" },
};
#define NEDGES	((int)(sizeof(edges) / sizeof(edges[0])))

START_TEST(padding_edges)
{
	uint8_t msg[128], d[SHA256_LEN];

	memset(msg, 'a', sizeof(msg));
	sha256_digest(msg, edges[_i].n, d);
	expect_digest(d, edges[_i].digest);
}
END_TEST

/* However a message is cut into updates, its digest is the same. */
START_TEST(split_anywhere)
{
	const char *msg = fips[2].msg;
	size_t len = strlen(msg), a, b;
	uint8_t one[SHA256_LEN], d[SHA256_LEN];
	struct sha256 s;

	sha256_digest(msg, len, one);
	for (a = 0; a <= len; a++)
		for (b = a; b <= len; b++) {
			sha256_init(&s);
			sha256_update(&s, msg, a);
			sha256_update(&s, NULL, 0);
			sha256_update(&s, msg + a, b - a);
			sha256_update(&s, msg + b, len - b);
			sha256_final(&s, d);
			ck_assert_msg(memcmp(d, one, SHA256_LEN) == 0,
			    "cut at %zu and %zu", a, b);
		}
}
END_TEST

/* --- HMAC-SHA256 -------------------------------------------------------- */

/* RFC 4231 section 4: keys and data as (repeated) bytes or text. */
struct hmac_case {
	uint8_t		 kbyte;		/* the key is klen of these... */
	size_t		 klen;
	const char	*ktext;		/* ...or this text, or these bytes */
	uint8_t		 dbyte;		/* the data is dlen of these... */
	size_t		 dlen;
	const char	*dtext;		/* ...or this text */
	size_t		 maclen;	/* bytes of the MAC given (case 5: 16) */
	const char	*mac;
};

static const uint8_t key4[25] = {
	0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c,
	0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18,
	0x19,
};

static const struct hmac_case rfc4231[] = {
	{ 0x0b, 20, NULL, 0, 0, "Hi There", 32,
	  "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7" },
	{ 0, 4, "Jefe", 0, 0, "what do ya want for nothing?", 32,
	  "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" },
	{ 0xaa, 20, NULL, 0xdd, 50, NULL, 32,
	  "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe" },
	{ 0, 25, (const char *)key4, 0xcd, 50, NULL, 32,
	  "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b" },
	{ 0x0c, 20, NULL, 0, 0, "Test With Truncation", 16,
	  "a3b6167473100ee06e0c796c2955552b" },
	{ 0xaa, 131, NULL, 0, 0,
	  "Test Using Larger Than Block-Size Key - Hash Key First", 32,
	  "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54" },
	{ 0xaa, 131, NULL, 0, 0,
	  "This is a test using a larger than block-size key and a larger "
	  "than block-size data. The key needs to be hashed before being "
	  "used by the HMAC algorithm.", 32,
	  "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2" },
	/*
	 * Not RFC 4231's: a key one byte short of a block, a block, and one
	 * byte over (hashed first), with the data "edge".  Computed with:
	 *   printf edge | openssl dgst -sha256 -mac HMAC \
	 *       -macopt hexkey:$(printf '5a%.0s' $(seq N))
	 */
	{ 0x5a, 63, NULL, 0, 0, "edge", 32,
	  "7a83f92633320e939e5ee0f54ddaafeed0a1ff0df58a9af71f4832d84459202e" },
	{ 0x5a, 64, NULL, 0, 0, "edge", 32,
	  "41bd47e81f6965b6c239508d1486be94c3c13ef6268b36980cc2090f7b3977ad" },
	{ 0x5a, 65, NULL, 0, 0, "edge", 32,
	  "cf1672fad4a550b07125e84b48087228025731e8792b66f33fb411c1b429de11" },
	/* One zero byte of key, no data: the same as an empty key.
	 *   printf '' | openssl dgst -sha256 -mac HMAC -macopt hexkey:00 */
	{ 0x00, 1, NULL, 0, 0, "", 32,
	  "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad" },
};
#define NRFC4231	((int)(sizeof(rfc4231) / sizeof(rfc4231[0])))

START_TEST(hmac_vectors)
{
	const struct hmac_case *c = &rfc4231[_i];
	uint8_t key[131], data[64], mac[SHA256_LEN];
	char got[2 * SHA256_LEN + 1];
	const void *d;
	size_t dlen;

	ck_assert_uint_le(c->klen, sizeof(key));
	if (c->ktext != NULL)
		memcpy(key, c->ktext, c->klen);
	else
		memset(key, c->kbyte, c->klen);
	if (c->dtext != NULL) {
		d = c->dtext;
		dlen = strlen(c->dtext);
	} else {
		ck_assert_uint_le(c->dlen, sizeof(data));
		memset(data, c->dbyte, c->dlen);
		d = data;
		dlen = c->dlen;
	}
	sha256_hmac(key, c->klen, d, dlen, mac);
	tohex(mac, c->maclen, got);
	ck_assert_str_eq(got, c->mac);
}
END_TEST

/* An empty key is a block of zeros: the same MAC as a zero byte's. */
START_TEST(hmac_empty_key)
{
	uint8_t a[SHA256_LEN], b[SHA256_LEN];

	sha256_hmac(NULL, 0, NULL, 0, a);
	sha256_hmac("", 1, "", 0, b);
	ck_assert_mem_eq(a, b, SHA256_LEN);
	expect_digest(a, rfc4231[NRFC4231 - 1].mac);
}
END_TEST

/* --- the comparison ------------------------------------------------------- */

START_TEST(equal)
{
	uint8_t a[SHA256_LEN], b[SHA256_LEN];
	size_t i;
	unsigned bit;

	for (i = 0; i < sizeof(a); i++)
		a[i] = (uint8_t)(i * 37 + 11);
	memcpy(b, a, sizeof(b));
	ck_assert_int_eq(sha256_equal(a, b, sizeof(a)), 1);
	ck_assert_int_eq(sha256_equal(a, b, 0), 1);
	ck_assert_int_eq(sha256_equal(NULL, NULL, 0), 1);
	/* Any one bit anywhere, the first byte's and the last's too. */
	for (i = 0; i < sizeof(a); i++)
		for (bit = 0; bit < 8; bit++) {
			b[i] ^= (uint8_t)(1u << bit);
			ck_assert_msg(sha256_equal(a, b, sizeof(a)) == 0,
			    "byte %zu bit %u", i, bit);
			ck_assert_int_eq(sha256_equal(a, b, i), 1);
			b[i] ^= (uint8_t)(1u << bit);
		}
	memset(b, 0xff, sizeof(b));
	ck_assert_int_eq(sha256_equal(a, b, sizeof(a)), 0);
}
END_TEST

static Suite *
sha256_suite(void)
{
	Suite *s = suite_create("sha256");
	TCase *tc;

	tc = tcase_create("digest");
	tcase_add_loop_test(tc, fips_examples, 0, NFIPS);
	tcase_add_test(tc, fips_million_a);
	tcase_add_loop_test(tc, padding_edges, 0, NEDGES);
	tcase_add_test(tc, split_anywhere);
	suite_add_tcase(s, tc);

	tc = tcase_create("hmac");
	tcase_add_loop_test(tc, hmac_vectors, 0, NRFC4231);
	tcase_add_test(tc, hmac_empty_key);
	suite_add_tcase(s, tc);

	tc = tcase_create("equal");
	tcase_add_test(tc, equal);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr;
	int failed;

	sr = srunner_create(sha256_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
