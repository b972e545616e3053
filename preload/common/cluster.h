/*
 * cluster: what the preload and the local cluster helper (erlfwd-server
 * --cluster) say to each other, and the addresses that stand for cluster
 * hosts.  Pure functions on byte buffers; no I/O.
 *
 * A host name that matches a socks5h:// route has no address of its own on
 * this machine (only the overlay's SOCKS5 proxy can resolve it), and a glob
 * stands for names nobody knows in advance.  So the helper hands out a
 * sentinel per name, in 127.240.0.0/12 (2^20 - 2 of them), and is the one
 * table of name <-> sentinel: the BEAM and its inet_gethost child ask it
 * and get the same answer, and no two names ever share a sentinel.
 *
 * Requests use frame.h's 10-byte header with version CLUSTER_VERSION (3),
 * which erlfwd-server's version 1/2 listener refuses at its version byte:
 *
 *   tag     port                  body
 *   LOOKUP  0                     the host name (1..253 bytes)
 *   EPMD    the client's epmd port the sentinel (4 bytes, network order)
 *   DIST    the node port to reach the sentinel
 *
 * LOOKUP is answered with one frame of the same layout (tag LOOKUP, port
 * 0) whose body is the sentinel, or 127.0.0.1 for a name that is this
 * host's own (it must never leave the host through the proxy), or empty
 * for "no such name" (the name matches no route of the helper, or its
 * table is full); then the helper closes.  After EPMD or DIST the connection is a byte stream to the named
 * host's epmd or port, through its route's proxy; a refusal closes it.
 */
#ifndef ERLFWD_CLUSTER_H
#define ERLFWD_CLUSTER_H

#include <netinet/in.h>

#include <stddef.h>
#include <stdint.h>

#define CLUSTER_VERSION		3
#define CLUSTER_NET		0x7ff00000u	/* 127.240.0.0/12 */
#define CLUSTER_MASK		0xfff00000u
#define CLUSTER_SLOT_MAX	0x000ffffeu	/* .0 and the last are left out */
#define CLUSTER_NAME_MAX	253		/* a DNS name's longest text */
#define CLUSTER_REQ_MAX		(10 + CLUSTER_NAME_MAX)
#define CLUSTER_ANSWER_LEN	(10 + 4)
#define CLUSTER_DEFAULT_HELPER	9370		/* on 127.0.0.1 */
#define CLUSTER_SLOT_SELF	0xffffffffu	/* an answer: this host, 127.0.0.1 */

enum cluster_tag {
	CLUSTER_TAG_EPMD = 1,
	CLUSTER_TAG_DIST = 2,
	CLUSTER_TAG_LOOKUP = 5,
};

/* A decoded request. */
struct cluster_req {
	uint8_t		tag;
	uint16_t	port;		/* EPMD, DIST: nonzero */
	uint32_t	slot;		/* EPMD, DIST: the sentinel's slot */
	char		name[CLUSTER_NAME_MAX + 1];	/* LOOKUP */
};

/*
 * cluster_name_valid: 1 when len bytes of name are a host name we accept:
 * 1..CLUSTER_NAME_MAX of letters, digits, '.', '-' and '_'.
 */
int	cluster_name_valid(const char *name, size_t len);

/* cluster_v4: slot's sentinel (1 <= slot <= CLUSTER_SLOT_MAX); 0 or -1. */
int	cluster_v4(uint32_t slot, struct in_addr *out);

/* cluster_slot_v4: the slot an address stands for, or 0 when none. */
uint32_t cluster_slot_v4(const struct in_addr *a);

/* cluster_slot_v6: the same for an IPv4-mapped IPv6 address. */
uint32_t cluster_slot_v6(const struct in6_addr *a);

/*
 * cluster_slot_hint: the slot a name asks for first (a hash of its lower
 * case), so that a helper restarted with the same names hands out the same
 * sentinels; the helper probes onwards when it is taken.
 */
uint32_t cluster_slot_hint(const char *name);

/*
 * cluster_encode_lookup / _connect / _answer: write a LOOKUP for name, an
 * EPMD or DIST request for (port, slot), or a LOOKUP answer for slot (0: no
 * such name; CLUSTER_SLOT_SELF: this host) into buf (cap bytes).  Return the length, or -1 when an
 * argument is out of range or buf too small.
 */
int	cluster_encode_lookup(uint8_t *buf, size_t cap, const char *name);
int	cluster_encode_connect(uint8_t *buf, size_t cap, enum cluster_tag tag,
	    uint16_t port, uint32_t slot);
int	cluster_encode_answer(uint8_t *buf, size_t cap, uint32_t slot);

/*
 * cluster_decode_req: parse the request at the start of buf (len bytes so
 * far).  Returns its total length when complete, 0 when more bytes are
 * needed, or a negative enum frame_err (frame.h) as soon as the bytes seen
 * cannot start a valid request.  Bytes after it are not looked at.
 */
int	cluster_decode_req(const uint8_t *buf, size_t len,
	    struct cluster_req *out);

/*
 * cluster_decode_answer: parse a LOOKUP answer (len bytes so far): its
 * length with *slot set (0: no such name; CLUSTER_SLOT_SELF: this host,
 * 127.0.0.1), 0 for more, or a negative enum frame_err.
 */
int	cluster_decode_answer(const uint8_t *buf, size_t len, uint32_t *slot);

#endif /* ERLFWD_CLUSTER_H */
