/*
 * agentq: the agent's own request, for the library-free mode's epmd module
 * (erlang/erlfwd_epmd.erl).  It comes on the agent's 127.0.0.1 port, where
 * the preload's version 1 preambles come, and never travels further:
 *
 *   offset  size  field
 *   0       4     magic   "EFWA"
 *   4       1     op      AGENTQ_LISTEN
 *   5       2     port    big endian: the remote node's distribution port
 *
 * The agent answers with the same layout, op replaced by a status
 * (AGENTQ_OK, AGENTQ_REFUSED) and port by the 127.0.0.1 port where it
 * listens for that node: each connection there becomes a DIST(port) stream
 * of the carrier, as if it had come with a DIST preamble.  Then it closes.
 *
 * "EFWA" and "EFWD" share three bytes: agentq_decode() tells them apart as
 * soon as the fourth arrives.  Pure: functions on byte buffers.
 */
#ifndef ERLFWD_AGENTQ_H
#define ERLFWD_AGENTQ_H

#include <stddef.h>
#include <stdint.h>

#define AGENTQ_MAGIC	"EFWA"
#define AGENTQ_LEN	7

enum agentq_op {
	AGENTQ_LISTEN = 1,
};

enum agentq_status {
	AGENTQ_OK = 0,
	AGENTQ_REFUSED = 1,	/* no port for it: out of listeners or fds */
};

/*
 * agentq_decode: the request at the start of buf (len bytes so far).
 * Returns AGENTQ_LEN with *port when it is a complete LISTEN, 0 when more
 * bytes are needed to tell, and -1 when the bytes are not an agent request
 * (a preamble, for frame.h) or a bad one (another op, port 0).
 */
int	agentq_decode(const uint8_t *buf, size_t len, uint16_t *port);

/* agentq_answer: the answer for status and port into out. */
void	agentq_answer(uint8_t out[AGENTQ_LEN], enum agentq_status status,
	    uint16_t port);

#endif /* ERLFWD_AGENTQ_H */
