/*
 * etf: the few Erlang external terms (OTP's erl_ext_dist) that erlfwd sends
 * and reads once a handshake is done: one rpc through the node's `rex`
 * server, as a hidden C node does, and its answer.
 *
 * A distribution message without an atom cache is a 4-byte big-endian length
 * (0: a tick) and that many bytes: 'p' (112), the control term, the message
 * term, each starting with the version byte 131.  Our request:
 *
 *   control  {6, OurPid, '', rex}                          REG_SEND
 *   message  {'$gen_call', {OurPid, Ref}, {call, M, F, Args, user}}
 *
 * (`user`: rex runs the call with no I/O sent back to us).  The answer is
 * {Ref, Reply}, sent to OurPid (SEND or SEND_SENDER; the control is not
 * looked at).
 *
 * Pure functions on buffers; no I/O.
 */
#ifndef ERLFWD_ETF_H
#define ERLFWD_ETF_H

#include <stddef.h>
#include <stdint.h>

#define ETF_MSG_HDR	4	/* the length before every message */

/* Who we are in the terms we send: our node, its creation, our process. */
struct etf_self {
	const char	*node;		/* NAME@HOST, as in send_name */
	uint32_t	creation;	/* as in send_name: pids must carry it */
	uint32_t	pid_id;
	uint32_t	ref[3];		/* this call's reference */
};

/*
 * etf_rpc: write the message (length prefix included) that calls
 * M:F(Args...) on the node through rex, each argument an atom; nargs <= 4.
 * Into buf (cap bytes).  Returns its length, or -1 when a name is empty or
 * longer than 255 bytes, or buf is too small.
 */
int	etf_rpc(uint8_t *buf, size_t cap, const struct etf_self *self,
	    const char *mod, const char *fun, const char *const *args,
	    int nargs);

enum etf_reply {
	ETF_NOT_OURS = -1,	/* not the answer to our call (or garbled) */
	ETF_OTHER = 0,		/* our answer, but not text: undefined,
				 * {badrpc, _}, ... */
	ETF_TEXT = 1,		/* our answer: text in out */
};

/*
 * etf_reply: decode the body of one message (after its length) and, when it
 * is {Ref, Reply} for self->ref, put Reply's text in out (cap bytes): Reply
 * is a string, a binary, or {ok, one of those}.  Returns an etf_reply.
 */
enum etf_reply	etf_reply(const uint8_t *body, size_t len,
		    const struct etf_self *self, char *out, size_t cap);

#endif /* ERLFWD_ETF_H */
