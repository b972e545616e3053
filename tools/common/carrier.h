/*
 * carrier: the carrier protocol (version 2), as named constants and pure
 * functions on byte buffers.
 *
 * A carrier is one connection (a forwarded port, a SOCKS5 stream, or a
 * command's stdin and stdout) that carries many streams.  Each side starts
 * it with a CARRIER frame of frame.h (magic "EFWD", version 2); after that,
 * both directions are a sequence of these frames:
 *
 *   offset  size  field
 *   0       1     version  CARRIER_VERSION
 *   1       1     type     enum carrier_type
 *   2       2     flags    0 (reserved: anything else is refused)
 *   4       4     stream   big endian; 0 for PING, PONG and GOAWAY, else the
 *                          stream's id (odd: only the client opens streams)
 *   8       4     length   big endian; bytes of payload that follow
 *   12      len   payload
 *
 *   type    stream  payload
 *   DATA    id      1 .. CARRIER_DATA_MAX bytes of the stream
 *   WINDOW  id      4: how many more bytes the sender may now send (> 0)
 *   OPEN    id      3: a frame.h tag (EPMD, DIST, INFO) and a port, big
 *                   endian, as in a version 1 preamble
 *   FIN     id      0: the sender will send no more on this stream
 *   RESET   id      1: enum carrier_reset; the stream is gone both ways
 *   PING    0       4: opaque, echoed by PONG
 *   PONG    0       4: the PING's payload
 *   GOAWAY  0       1 + up to CARRIER_REASON_MAX: enum carrier_goaway, then
 *                   a reason in printable ASCII; the sender closes after it
 *
 * Each stream starts with a window of CARRIER_WINDOW bytes each way; a
 * sender never has more DATA in flight than the receiver's window allows.
 */
#ifndef ERLFWD_CARRIER_H
#define ERLFWD_CARRIER_H

#include <stddef.h>
#include <stdint.h>

#define CARRIER_VERSION		2
#define CARRIER_HDR_LEN		12
#define CARRIER_DATA_MAX	16384		/* keeps a stream's turn short */
#define CARRIER_WINDOW		(256 * 1024)	/* initial, per stream and way */
#define CARRIER_WINDOW_MAX	(1u << 30)	/* a window never grows past */
#define CARRIER_REASON_MAX	128
#define CARRIER_CTL_MAX		(1 + CARRIER_REASON_MAX)	/* non-DATA */
#define CARRIER_FRAME_MAX	(CARRIER_HDR_LEN + CARRIER_DATA_MAX)

enum carrier_type {
	CARRIER_DATA = 0,
	CARRIER_WINDOW_UPDATE = 1,
	CARRIER_OPEN = 2,
	CARRIER_FIN = 3,
	CARRIER_RESET = 4,
	CARRIER_PING = 5,
	CARRIER_PONG = 6,
	CARRIER_GOAWAY = 7,
};

/* Why a stream was reset (RESET's payload). */
enum carrier_reset {
	CARRIER_RST_RESET = 1,		/* its far end reset the connection */
	CARRIER_RST_REFUSED = 2,	/* it could not be opened there */
	CARRIER_RST_ERROR = 3,		/* a local error ended it */
};

/* Why a carrier ends (GOAWAY's first byte). */
enum carrier_goaway {
	CARRIER_GA_NORMAL = 0,		/* shutting down */
	CARRIER_GA_PROTOCOL = 1,	/* the peer broke the protocol */
	CARRIER_GA_LIMIT = 2,		/* the peer went over a limit */
	CARRIER_GA_IDLE = 3,		/* the peer was silent too long */
};

/* Negative results of carrier_decode(). */
enum carrier_err {
	CARRIER_EVERSION = -1,
	CARRIER_ETYPE = -2,
	CARRIER_EFLAGS = -3,
	CARRIER_ESTREAM = -4,	/* stream 0 where an id is needed, or the reverse */
	CARRIER_ELENGTH = -5,	/* a length the type does not allow */
	CARRIER_EPAYLOAD = -6,	/* a payload the type does not allow */
	CARRIER_ESPACE = -7,	/* encode: output buffer too small */
};

struct carrier_frame {
	uint8_t		 type;
	uint32_t	 stream;
	uint32_t	 len;
	const uint8_t	*payload;	/* points into the decoded buffer */
};

/*
 * carrier_decode: parse the frame at the start of buf (len bytes so far).
 * Returns the frame's total length when it is complete and valid, 0 when
 * more bytes are needed, or a negative enum carrier_err as soon as the bytes
 * seen cannot start a valid frame (the header is judged before its payload
 * arrives).  Bytes after the frame are not looked at.
 */
int	carrier_decode(const uint8_t *buf, size_t len, struct carrier_frame *out);

/*
 * carrier_put_hdr: write a header for type, stream and len at buf (which
 * must hold CARRIER_HDR_LEN bytes); the payload is the caller's to place
 * behind it.  No checks: for DATA frames built in place.
 */
void	carrier_put_hdr(uint8_t *buf, enum carrier_type type, uint32_t stream,
	    uint32_t len);

/*
 * carrier_encode: a whole frame of type for stream with payload (len bytes,
 * may be NULL when 0) into buf of cap bytes.  Returns its length, or the
 * error carrier_decode() would return for it (whatever cap is), or
 * CARRIER_ESPACE; buf is left alone unless the frame is written.
 */
int	carrier_encode(uint8_t *buf, size_t cap, enum carrier_type type,
	    uint32_t stream, const void *payload, size_t len);

/* carrier_u32: the 4-byte big-endian payload of WINDOW, PING or PONG. */
uint32_t carrier_u32(const struct carrier_frame *f);

/* carrier_open: the tag and port of a decoded OPEN frame. */
void	carrier_open(const struct carrier_frame *f, uint8_t *tag,
	    uint16_t *port);

/* carrier_strerror: a short English phrase for a negative carrier_err. */
const char *carrier_strerror(int err);

/* carrier_type_name: "data", "window", ... or "unknown". */
const char *carrier_type_name(int type);

#endif /* ERLFWD_CARRIER_H */
