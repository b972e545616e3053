/*
 * dist: the messages of the Erlang distribution handshake that erlfwd needs
 * to reach a node's port and prove a cookie, without running a BEAM (OTP's
 * erl_dist_protocol, "Distribution Handshake").
 *
 * During the handshake every message is a 2-byte big-endian length and that
 * many bytes (the body), whose first byte is its kind:
 *
 *   us -> node    'N' send_name        flags:64 creation:32 nlen:16 name
 *   node -> us    's' status           "ok", "ok_simultaneous", "nok",
 *                                      "not_allowed" or "alive"
 *   node -> us    'N' challenge        flags:64 challenge:32 creation:32
 *                                      nlen:16 name  (OTP 23 and later)
 *                 'n' challenge        version:16 flags:32 challenge:32 name
 *   us -> node    'r' challenge_reply  challenge:32 digest:128
 *   node -> us    'a' challenge_ack    digest:128
 *
 * A digest is MD5(cookie ++ the other side's challenge in decimal).  A node
 * that does not like our digest closes the connection.
 *
 * Pure functions on buffers; no I/O.
 */
#ifndef ERLFWD_DIST_H
#define ERLFWD_DIST_H

#include <stddef.h>
#include <stdint.h>

#include "md5.h"

#define DIST_LEN_HDR	2	/* the length before every handshake message */
#define DIST_BODY_MAX	1024	/* longer than any handshake message we accept */
#define DIST_NAME_MAX	256	/* a node name, including the NUL */

/*
 * The capabilities we announce: those of an OTP 25/26 node, without
 * DFLAG_PUBLISHED (we are hidden), the atom cache (DFLAG_DIST_HDR_ATOM_CACHE)
 * and DFLAG_FRAGMENTS: with neither, both ends send the few messages we
 * exchange (etf.h) in the plain pass-through form.  Every flag an OTP
 * release up to 29 makes mandatory is here.
 */
#define DIST_FLAGS	(0x4ULL | 0x8ULL | 0x10ULL | 0x20ULL | 0x80ULL | \
	0x100ULL | 0x200ULL | 0x400ULL | 0x800ULL | 0x1000ULL | 0x4000ULL | \
	0x10000ULL | 0x20000ULL | 0x40000ULL | 0x80000ULL | 0x100000ULL | \
	0x400000ULL | 0x1000000ULL | 0x2000000ULL | \
	0x4000000ULL | (0x1ULL << 32) | (0x4ULL << 32) | (0x8ULL << 32))

/* The node's challenge, decoded. */
struct dist_challenge {
	uint32_t	challenge;
	uint64_t	flags;
	char		node[DIST_NAME_MAX];	/* the node's own full name */
};

/*
 * dist_name: write send_name for node name (NAME@HOST) with creation, length
 * prefix included, into buf of cap bytes.  Returns its length, or -1 when the
 * name is empty, too long or buf too small.
 */
int	dist_name(uint8_t *buf, size_t cap, const char *name, uint32_t creation);

/*
 * dist_status: the text of a status body ('s' and the text) in text (cap
 * bytes).  Returns 0, or -1 when body is not a status or text too small.
 */
int	dist_status(const uint8_t *body, size_t len, char *text, size_t cap);

/*
 * dist_challenge: decode a challenge body, new ('N') or old ('n') form.
 * Returns 0, or -1 when body is malformed or the name does not fit.
 */
int	dist_challenge(const uint8_t *body, size_t len,
	    struct dist_challenge *out);

/*
 * dist_answer_name: judge the len bytes a node's port sent so far in answer
 * to our send_name: its status message, then its challenge, each with its
 * length.  Returns 1 with the node's full name in name (cap bytes) once the
 * challenge is whole, 0 while more bytes are needed, and -1 as soon as they
 * are no node's "go on": a status other than "ok" or "ok_simultaneous", a
 * malformed message, a name that does not fit cap.  Bytes after the
 * challenge are not looked at.
 */
int	dist_answer_name(const uint8_t *buf, size_t len, char *name,
	    size_t cap);

/* dist_digest: MD5(cookie ++ challenge in decimal) into out. */
void	dist_digest(const char *cookie, uint32_t challenge,
	    uint8_t out[MD5_LEN]);

/*
 * dist_reply: write challenge_reply with our challenge ours and digest,
 * length prefix included, into buf.  Returns its length or -1.
 */
int	dist_reply(uint8_t *buf, size_t cap, uint32_t ours,
	    const uint8_t digest[MD5_LEN]);

/* dist_ack: 1 when body is a challenge_ack carrying expect, else 0. */
int	dist_ack(const uint8_t *body, size_t len, const uint8_t expect[MD5_LEN]);

#endif /* ERLFWD_DIST_H */
