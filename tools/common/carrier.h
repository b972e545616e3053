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
 *   4       4     stream   big endian; 0 for PING, PONG, GOAWAY, SESSION
 *                          and ACK, else the stream's id (odd: only the
 *                          client opens streams)
 *   8       4     length   big endian; bytes of payload that follow
 *   12      len   payload
 *
 *   type     stream  payload
 *   DATA     id      1 .. CARRIER_DATA_MAX bytes of the stream
 *   WINDOW   id      4: how many more bytes the sender may now send (> 0)
 *   OPEN     id      3: a frame.h tag (EPMD, DIST, INFO) and a port, big
 *                    endian, as in a version 1 preamble
 *   FIN      id      0: the sender will send no more on this stream
 *   RESET    id      1: enum carrier_reset; the stream is gone both ways
 *   PING     0       4: opaque, echoed by PONG
 *   PONG     0       4: the PING's payload
 *   GOAWAY   0       1 + up to CARRIER_REASON_MAX: enum carrier_goaway, then
 *                    a reason in printable ASCII; the sender closes after it
 *   SESSION  0       2, 9, 49 or 57: enum carrier_session_op, then that op's
 *                    fields (below)
 *   ACK      0       8: the count of sequenced bytes (below) the sender has
 *                    received so far in this session, big endian
 *
 * Each stream starts with a window of CARRIER_WINDOW bytes each way; a
 * sender never has more DATA in flight than the receiver's window allows.
 * A WINDOW may give more than was consumed: a window grows so (mux.h says
 * when ours do), up to CARRIER_WINDOW_MAX.
 *
 * Resume (issue 19): a session that outlives its carrier.  When a carrier
 * drops, the client makes another, names the session on it, and each side
 * sends again what the other had not received.
 *
 * What is counted: the sequenced frames, DATA, WINDOW, OPEN, FIN and RESET
 * (carrier_sequenced()), each with all its bytes, header and payload.  PING,
 * PONG, GOAWAY, SESSION and ACK are the carrier's own and never counted.
 * Each side counts, from 0 at NEW, the sequenced bytes it has sent and those
 * it has received in the session, across all its carriers; so a count
 * always falls between two frames.
 *
 * A server offers resume in its hello's body (frame.h's CARRIER frame): a
 * field CARRIER_HELLO_RESUME ("resume"), "=", then CARRIER_NONCE_HEX (32)
 * lowercase hex digits (carrier_hex_encode()) of a nonce of
 * CARRIER_NONCE_LEN bytes drawn for that carrier alone, and window=MS.
 * Such a hello is longer than an older client takes (FRAME_REQ_BODY_MAX,
 * 64 bytes): it goes only to a client whose hello said resume=1, which
 * reads a server's hello up to 256 bytes (mux.c).  After it, the client's
 * first frame is a SESSION, NEW or RESUME.
 *
 *   op       len  payload offset, size: field
 *   NEW      49   0, 1: 1
 *                 1, 16: session id (CARRIER_SID_LEN)
 *                 17, 32: key (CARRIER_KEY_LEN)
 *                 client to server: the session starts with this carrier
 *   RESUME   57   0, 1: 2
 *                 1, 16: session id
 *                 17, 32: proof (CARRIER_PROOF_LEN): HMAC-SHA256 under the
 *                     session's key of CARRIER_PROOF_LABEL ("erlfwd-resume-1",
 *                     15 bytes, no NUL), the session id and the nonce of
 *                     this carrier's server hello, one after the other
 *                     (carrier_resume_proof())
 *                 49, 8: count, big endian: sequenced bytes the client has
 *                     received in the session
 *                 client to server
 *   ACCEPT   9    0, 1: 3
 *                 1, 8: count, big endian: sequenced bytes the server has
 *                     received from the client in the session
 *                 server to client, answering RESUME
 *   REFUSE   2    0, 1: 4
 *                 1, 1: enum carrier_refused: 1 unknown session, 2 bad
 *                     proof, 3 busy (another carrier holds the session),
 *                     4 not offered
 *                 server to client, answering a SESSION it does not take
 *
 * After ACCEPT each side sends again, in order, the sequenced frames it had
 * sent past the count the other gave, then carries on.  An ACK lets its
 * receiver drop what it keeps for sending again, up to the ACK's count.
 * carrier_decode() refuses a SESSION length that is no op's from the header
 * (CARRIER_ELENGTH), and once the payload is in, an op that is none of the
 * four, a length that is not its op's, or a REFUSE reason outside 1 .. 4
 * (CARRIER_EPAYLOAD).  Which side may send which op and when, whether NEW
 * is answered, and what a count may be (never past what was sent, always
 * between two frames) are the engine's to check: a frame alone cannot tell.
 *
 * The CARRIER frame's body is the sender's hello: fields "key=value"
 * separated by spaces, at most CARRIER_HELLO_MAX bytes (an older peer takes
 * no longer one: frame.h's FRAME_REQ_BODY_MAX).  A reader takes the fields
 * it knows and ignores the rest, so a field is added without a new version,
 * and a peer that says nothing of one is an older peer:
 *
 *   version=X.Y.Z  the sender's erlfwd (both ends)
 *   streams=N      the server: streams it takes open at once on this
 *                  carrier; an OPEN past them is refused (RESET refused)
 *   resume=NONCE   the server, to a client whose hello said resume=1:
 *                  resume is offered (below)
 *   window=MS      the server, with resume=: how long it keeps a session
 *                  whose carrier was lost (--resume-window)
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
#define CARRIER_HELLO_MAX	64		/* a hello body, at most */
#define CARRIER_HELLO_VERSION	"version"	/* hello fields */
#define CARRIER_HELLO_STREAMS	"streams"
#define CARRIER_HELLO_WINDOW	"window"

/* Resume: the sizes of SESSION's fields, and its payload per op. */
#define CARRIER_SID_LEN		16	/* a session's id */
#define CARRIER_KEY_LEN		32	/* a session's key */
#define CARRIER_NONCE_LEN	16	/* a server hello's nonce */
#define CARRIER_NONCE_HEX	(2 * CARRIER_NONCE_LEN)	/* as hex digits */
#define CARRIER_PROOF_LEN	32	/* HMAC-SHA256 */
#define CARRIER_COUNT_LEN	8	/* a count of sequenced bytes */
#define CARRIER_PROOF_LABEL	"erlfwd-resume-1"	/* without its NUL */
#define CARRIER_HELLO_RESUME	"resume"	/* the hello's field */
#define CARRIER_SESSION_NEW_LEN	(1 + CARRIER_SID_LEN + CARRIER_KEY_LEN)
#define CARRIER_SESSION_RESUME_LEN \
	(1 + CARRIER_SID_LEN + CARRIER_PROOF_LEN + CARRIER_COUNT_LEN)
#define CARRIER_SESSION_ACCEPT_LEN	(1 + CARRIER_COUNT_LEN)
#define CARRIER_SESSION_REFUSE_LEN	2
#define CARRIER_ACK_LEN		CARRIER_COUNT_LEN

enum carrier_type {
	CARRIER_DATA = 0,
	CARRIER_WINDOW_UPDATE = 1,
	CARRIER_OPEN = 2,
	CARRIER_FIN = 3,
	CARRIER_RESET = 4,
	CARRIER_PING = 5,
	CARRIER_PONG = 6,
	CARRIER_GOAWAY = 7,
	CARRIER_SESSION = 8,
	CARRIER_ACK = 9,
};

/* What a SESSION frame says (its first byte). */
enum carrier_session_op {
	CARRIER_SES_NEW = 1,		/* client: a session starts */
	CARRIER_SES_RESUME = 2,		/* client: this carrier takes it over */
	CARRIER_SES_ACCEPT = 3,		/* server: it has */
	CARRIER_SES_REFUSE = 4,		/* server: it has not (why below) */
};

/* Why a SESSION was refused (REFUSE's second byte). */
enum carrier_refused {
	CARRIER_REFUSED_UNKNOWN = 1,	/* no such session (ended, or never) */
	CARRIER_REFUSED_PROOF = 2,	/* the proof is not the key's */
	CARRIER_REFUSED_BUSY = 3,	/* another carrier holds the session */
	CARRIER_REFUSED_NOT_OFFERED = 4,	/* this server offered no resume */
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

/*
 * carrier_hello: our CARRIER frame (frame.h: version 2, tag CARRIER, port
 * 0) into buf (cap bytes), its body "version=VERSION", when streams is
 * not 0 " streams=N" (a server's), and when resume is set " resume=1" (a
 * client's: it asks for resume).  Returns its length, or a negative enum
 * frame_err (FRAME_ELENGTH past CARRIER_HELLO_MAX, FRAME_ESPACE).
 */
int	carrier_hello(uint8_t *buf, size_t cap, const char *version,
	    uint32_t streams, int resume);

/*
 * carrier_hello_field: the value of field key in a hello body (len bytes,
 * a stranger's), NUL-terminated into out (cap bytes).  Fields are split at
 * spaces; the first named key counts.  Returns the value's length (0 for
 * "key="), or -1 when there is no such field, when its value holds a byte
 * that is not printable ASCII, or when it does not fit out.  Never reads
 * past len.
 */
int	carrier_hello_field(const uint8_t *body, size_t len, const char *key,
	    char *out, size_t cap);

/*
 * carrier_hello_streams: the streams= field of a hello body: N, or 0 when
 * it has none, or one that is not a number from 1 to 999999999 written
 * plainly (digits only, no leading zero).
 */
uint32_t carrier_hello_streams(const uint8_t *body, size_t len);

/* carrier_hello_number: the field key of a hello body as streams= is read
 * (carrier_hello_streams()): N, or 0. */
uint32_t carrier_hello_number(const uint8_t *body, size_t len,
	    const char *key);

/* carrier_strerror: a short English phrase for a negative carrier_err. */
const char *carrier_strerror(int err);

/* carrier_type_name: "data", "window", ... "ack", or "unknown". */
const char *carrier_type_name(int type);

/*
 * carrier_sequenced: 1 when frames of type count toward a session's
 * sequenced bytes (DATA, WINDOW, OPEN, FIN, RESET), else 0 (the carrier's
 * own frames, and any type that is no type).
 */
int	carrier_sequenced(int type);

/*
 * carrier_u64: the count that ends a decoded ACK, ACCEPT or RESUME (its
 * payload's last 8 bytes, big endian).  0 for a frame shorter than that.
 */
uint64_t carrier_u64(const struct carrier_frame *f);

/* A decoded SESSION frame; the pointers point into its payload. */
struct carrier_session {
	uint8_t		 op;		/* enum carrier_session_op */
	const uint8_t	*sid;		/* NEW, RESUME: CARRIER_SID_LEN bytes */
	const uint8_t	*key;		/* NEW: CARRIER_KEY_LEN bytes */
	const uint8_t	*proof;		/* RESUME: CARRIER_PROOF_LEN bytes */
	uint64_t	 count;		/* RESUME, ACCEPT: sequenced bytes received */
	uint8_t		 reason;	/* REFUSE: enum carrier_refused */
};

/*
 * carrier_session_parse: the fields of f, a SESSION frame, into out (those
 * its op does not carry are NULL or 0).  Returns 0, or CARRIER_ETYPE when f
 * is not a SESSION, or CARRIER_EPAYLOAD when its payload is not a valid
 * one (never for a frame carrier_decode() returned); out is then left alone.
 */
int	carrier_session_parse(const struct carrier_frame *f,
	    struct carrier_session *out);

/*
 * carrier_session_new, _resume, _accept, _refuse, carrier_ack: a whole
 * frame into buf of cap bytes.  Each returns its length, or CARRIER_ESPACE
 * (buf is then left alone); _refuse returns CARRIER_EPAYLOAD for a reason
 * that is not an enum carrier_refused.
 */
int	carrier_session_new(uint8_t *buf, size_t cap,
	    const uint8_t sid[CARRIER_SID_LEN], const uint8_t key[CARRIER_KEY_LEN]);
int	carrier_session_resume(uint8_t *buf, size_t cap,
	    const uint8_t sid[CARRIER_SID_LEN],
	    const uint8_t proof[CARRIER_PROOF_LEN], uint64_t count);
int	carrier_session_accept(uint8_t *buf, size_t cap, uint64_t count);
int	carrier_session_refuse(uint8_t *buf, size_t cap,
	    enum carrier_refused reason);
int	carrier_ack(uint8_t *buf, size_t cap, uint64_t count);

/*
 * carrier_resume_proof: the proof a RESUME carries for the session sid
 * with key, on a carrier whose server hello gave nonce, into out.
 */
void	carrier_resume_proof(const uint8_t key[CARRIER_KEY_LEN],
	    const uint8_t sid[CARRIER_SID_LEN],
	    const uint8_t nonce[CARRIER_NONCE_LEN],
	    uint8_t out[CARRIER_PROOF_LEN]);

/*
 * carrier_resume_check: 1 when proof is the one carrier_resume_proof()
 * gives for key, sid and nonce, else 0; compared in constant time, so that
 * a forger learns nothing from how long a refusal took.
 */
int	carrier_resume_check(const uint8_t key[CARRIER_KEY_LEN],
	    const uint8_t sid[CARRIER_SID_LEN],
	    const uint8_t nonce[CARRIER_NONCE_LEN],
	    const uint8_t proof[CARRIER_PROOF_LEN]);

/*
 * carrier_hex_encode: n bytes at in as 2n lowercase hex digits and a NUL,
 * into out of cap bytes (the hello's nonce).  Returns 2n, or CARRIER_ESPACE
 * when cap is less than 2n + 1 (out is then left alone).
 */
int	carrier_hex_encode(const uint8_t *in, size_t n, char *out, size_t cap);

/*
 * carrier_hex_decode: the len characters at s (no NUL needed), which must
 * be exactly 2n lowercase hex digits and nothing else, into n bytes at out.
 * Returns 0, or CARRIER_EPAYLOAD for anything else (out is then left alone).
 */
int	carrier_hex_decode(const char *s, size_t len, uint8_t *out, size_t n);

#endif /* ERLFWD_CARRIER_H */
