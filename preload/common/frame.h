/*
 * frame: the erlfwd preamble protocol.
 *
 * Every connection through a tunnel starts with one frame from the client:
 *
 *   offset  size  field
 *   0       4     magic   "EFWD"
 *   4       1     version FRAME_VERSION, or FRAME_VERSION_CARRIER with the
 *                         CARRIER tag (and only with it)
 *   5       1     tag     FRAME_TAG_EPMD, FRAME_TAG_DIST, FRAME_TAG_INFO or
 *                         FRAME_TAG_CARRIER
 *   6       2     port    big endian; EPMD: the client's own epmd port,
 *                         DIST: the node port to reach, INFO, CARRIER: 0
 *   8       2     length  big endian; bytes of body that follow (requests: at
 *                         most FRAME_REQ_BODY_MAX, reserved and ignored)
 *   10      len   body
 *
 * After the frame the connection is a plain byte stream to the target.  The
 * server answers INFO with a frame of the same layout (tag INFO, port 0)
 * whose body is text, one "key=value" per line, then closes.  A CARRIER frame
 * (version 2) starts a carrier: many streams over this one connection, in
 * the frames of carrier.h; the server answers with a CARRIER frame of its
 * own before the first of those.
 *
 * Everything here is pure: functions on byte buffers, no I/O, no allocation.
 */
#ifndef ERLFWD_FRAME_H
#define ERLFWD_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define FRAME_MAGIC		"EFWD"
#define FRAME_MAGIC_LEN		4
#define FRAME_VERSION		1
#define FRAME_VERSION_CARRIER	2
#define FRAME_HDR_LEN		10
#define FRAME_REQ_BODY_MAX	64	/* a request body is reserved: keep it small */
#define FRAME_INFO_BODY_MAX	24576	/* an INFO reply's text: the largest fits */

enum frame_tag {
	FRAME_TAG_EPMD = 1,
	FRAME_TAG_DIST = 2,
	FRAME_TAG_INFO = 3,
	FRAME_TAG_CARRIER = 4,	/* version 2: a carrier follows */
};

/* Negative results of frame_decode() and frame_info_decode(). */
enum frame_err {
	FRAME_EMAGIC = -1,	/* not an erlfwd client */
	FRAME_EVERSION = -2,	/* a version we do not speak */
	FRAME_ETAG = -3,	/* unknown tag */
	FRAME_EPORT = -4,	/* port 0 where a port is required */
	FRAME_ELENGTH = -5,	/* body longer than the caller allows */
	FRAME_ESPACE = -6,	/* output buffer too small */
	FRAME_EFIELD = -7,	/* INFO body: a malformed or oversized field */
};

struct frame {
	uint8_t		 version;
	uint8_t		 tag;
	uint16_t	 port;
	uint16_t	 body_len;
	const uint8_t	*body;	/* points into the decoded buffer */
};

/*
 * frame_encode: write a frame with tag, port and body (body_len bytes, may be
 * NULL when 0) into buf of cap bytes.  Returns the frame's length, or
 * FRAME_ESPACE, FRAME_ETAG, FRAME_EPORT or FRAME_ELENGTH.
 */
int	frame_encode(uint8_t *buf, size_t cap, enum frame_tag tag, uint16_t port,
	    const void *body, size_t body_len);

/*
 * frame_decode: parse the frame at the start of buf (len bytes so far), with
 * bodies of at most body_max bytes.  Returns the frame's total length when it
 * is complete, 0 when more bytes are needed, or a negative enum frame_err as
 * soon as the bytes seen so far cannot start a valid frame.  Bytes after the
 * frame are not looked at.
 */
int	frame_decode(const uint8_t *buf, size_t len, size_t body_max,
	    struct frame *out);

/* frame_strerror: a short English phrase for a negative frame_err. */
const char *frame_strerror(int err);

/* frame_tag_name: "epmd", "dist", "info", "carrier" or "unknown". */
const char *frame_tag_name(int tag);

/* The INFO reply, decoded.  Sizes bound what a hostile server can make us hold. */
#define FRAME_INFO_NODES_MAX	64
#define FRAME_INFO_NAME_MAX	256	/* including the NUL */

struct frame_info_node {
	char		name[FRAME_INFO_NAME_MAX];
	uint16_t	port;
};

struct frame_info {
	char			version[32];
	char			host[FRAME_INFO_NAME_MAX];
	uint16_t		epmd_port;
	int			epmd_up;	/* 1 when the host's epmd answered */
	size_t			nnodes;
	struct frame_info_node	nodes[FRAME_INFO_NODES_MAX];
};

/*
 * frame_info_format: write fi as an INFO body (text) into buf of cap bytes,
 * which must leave room for a terminating NUL.  Returns the body's length,
 * FRAME_ESPACE, or FRAME_EFIELD for what frame_info_parse() would refuse (a
 * line break in a value, a port 0, an empty or spaced node name).
 */
int	frame_info_format(char *buf, size_t cap, const struct frame_info *fi);

/*
 * frame_info_parse: parse an INFO body of len bytes into out.  Unknown keys
 * are skipped so that newer servers stay readable.  Returns 0, or
 * FRAME_EFIELD for a malformed line, an oversized value or too many nodes.
 */
int	frame_info_parse(const char *body, size_t len, struct frame_info *out);

#endif /* ERLFWD_FRAME_H */
