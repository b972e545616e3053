/*
 * epmd: the parts of epmd's protocol that erlfwd reads (see OTP's
 * erl_dist_protocol).  A request is a 2-byte big-endian length and that
 * many bytes, the first of which is the request code.  Pure functions on
 * buffers; no I/O.
 */
#ifndef ERLFWD_EPMD_H
#define ERLFWD_EPMD_H

#include <stddef.h>
#include <stdint.h>

#include "frame_info.h"

#define EPMD_ALIVE2_REQ		120	/* 'x': register a node */
#define EPMD_PORT_PLEASE2_REQ	122	/* 'z': a node's port */
#define EPMD_NAMES_REQ		110	/* 'n': every node */
#define EPMD_DUMP_REQ		100	/* 'd' */
#define EPMD_KILL_REQ		107	/* 'k': stop epmd */
#define EPMD_STOP_REQ		115	/* 's': unregister a node */
#define EPMD_PORT2_RESP		119	/* 'w' */
#define EPMD_REQ_MAX		(2 + 1 + 255)	/* PORT_PLEASE2 with a 255-byte name */
#define EPMD_NAMES_REQ_LEN	3	/* a NAMES request: length 1, then the code */
#define EPMD_NAMES_PORT_LEN	4	/* NAMES reply: epmd's port, then text */

enum epmd_verdict {
	EPMD_MORE = 0,		/* not a whole request yet */
	EPMD_ALLOW = 1,		/* a lookup: relay it */
	EPMD_DENY = -1,		/* changes the host (ALIVE2, KILL, STOP, ...) */
	EPMD_BAD = -2,		/* malformed: empty, oversized, bad name */
};

/*
 * epmd_filter: judge the request at the start of buf (len bytes so far).
 * Only PORT_PLEASE2_REQ and NAMES_REQ pass.  Returns an enum epmd_verdict;
 * with EPMD_ALLOW, *reqlen (when not NULL) is the request's total length and
 * *code its request code.
 */
int	epmd_filter(const uint8_t *buf, size_t len, size_t *reqlen, int *code);

/* epmd_code_name: "port_please2", "names", "alive2", ... or "unknown". */
const char *epmd_code_name(int code);

/*
 * epmd_names_line: parse one line of a NAMES reply, exactly "name NAME at
 * port N" (no newline), into name (namecap bytes) and *port.  NAME is a
 * node name: printable ASCII without spaces (epmd registers any bytes, so
 * anything else was put there by a process that is not a node).  Returns 0
 * or -1.
 */
int	epmd_names_line(const char *line, size_t len, char *name, size_t namecap,
	    uint16_t *port);

/*
 * epmd_names_has_port: 1 when the NAMES text (the reply after its 4-byte
 * port) lists a node on port, else 0.  *odd is the number of lines that are
 * not epmd_names_line()'s (ignored).
 */
int	epmd_names_has_port(const char *text, size_t len, uint16_t port,
	    size_t *odd);

/*
 * epmd_names_port_name: the node name the NAMES text lists on port, into
 * name (cap bytes).  Returns 1 when exactly one line does, 0 when none,
 * -1 when several (one of them forged: a registered name can read as a
 * line of its own, "x at port P\nname y").
 */
int	epmd_names_port_name(const char *text, size_t len, uint16_t port,
	    char *name, size_t cap);

/*
 * epmd_port_please_request: a PORT_PLEASE2_REQ for name into buf (cap
 * bytes, EPMD_REQ_MAX are enough).  Returns its length, or 0 when name is
 * empty or too long.
 */
size_t	epmd_port_please_request(uint8_t *buf, size_t cap, const char *name);

/*
 * epmd_port2_parse: epmd's PORT2_RESP in buf (len bytes: the whole reply,
 * epmd closes after it).  Returns 1 with *port for a node, 0 when epmd
 * knows no such node, -1 when it is no such reply.
 */
int	epmd_port2_parse(const uint8_t *buf, size_t len, uint16_t *port);

/*
 * epmd_names_info: add the nodes the NAMES text lists (the reply after its
 * 4-byte port) to fi, as many as fit.  Returns the number of lines skipped
 * because they are not epmd_names_line()'s.
 */
size_t	epmd_names_info(const char *text, size_t len, struct frame_info *fi);

/*
 * epmd_names_request: write a NAMES request into buf (>= EPMD_NAMES_REQ_LEN
 * bytes); returns EPMD_NAMES_REQ_LEN.
 */
size_t	epmd_names_request(uint8_t *buf);

/*
 * epmd_names_text: the text of the NAMES reply in reply (len bytes), after
 * the epmd port it starts with; its length in *textlen.  Returns NULL (and
 * *textlen 0) when the reply is too short to hold the port.
 */
const char *epmd_names_text(const uint8_t *reply, size_t len, size_t *textlen);

/*
 * epmd_names_set_port: make the NAMES reply in reply (len bytes) name port
 * as its epmd's port.  erl_epmd checks that a NAMES reply names the port it
 * asked, and the two ends of a tunnel may run epmd on different ports.
 * Returns 0, or -1 when the reply is too short to hold a port.
 */
int	epmd_names_set_port(uint8_t *reply, size_t len, uint16_t port);

#endif /* ERLFWD_EPMD_H */
