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

enum frame_tag {
	FRAME_TAG_EPMD = 1,
	FRAME_TAG_DIST = 2,
	FRAME_TAG_INFO = 3,
	FRAME_TAG_CARRIER = 4,	/* version 2: a carrier follows */
};

/* Negative results of frame_decode(), and of frame_info.h's functions. */
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

#endif /* ERLFWD_FRAME_H */
