/*
 * etf.c: the rpc request and its answer in external term format (etf.h).
 */
#include <string.h>

#include "etf.h"

/* The tags we write or read (erl_ext_dist). */
enum {
	TAG_VERSION = 131,
	TAG_PASS_THROUGH = 112,
	TAG_NEW_FLOAT = 70,
	TAG_SMALL_INT = 97,
	TAG_INT = 98,
	TAG_ATOM = 100,
	TAG_SMALL_TUPLE = 104,
	TAG_LARGE_TUPLE = 105,
	TAG_NIL = 106,
	TAG_STRING = 107,
	TAG_LIST = 108,
	TAG_BINARY = 109,
	TAG_SMALL_BIG = 110,
	TAG_SMALL_ATOM = 115,
	TAG_MAP = 116,
	TAG_ATOM_UTF8 = 118,
	TAG_SMALL_ATOM_UTF8 = 119,
	TAG_NEW_PID = 88,
	TAG_NEW_PORT = 89,
	TAG_NEWER_REF = 90,
	TAG_V4_PORT = 120,
	TAG_PID = 103,
	TAG_NEW_REF = 114,
	DOP_REG_SEND = 6,
	DEPTH_MAX = 32,		/* nesting we follow in a skipped term */
};

/* A writer that stops at the end of its buffer. */
struct out {
	uint8_t	*p;
	size_t	cap, len;
	int	bad;
};

static void
put(struct out *o, const void *src, size_t n)
{
	if (o->bad || n > o->cap - o->len) {
		o->bad = 1;
		return;
	}
	memcpy(o->p + o->len, src, n);
	o->len += n;
}

static void
put8(struct out *o, unsigned v)
{
	uint8_t b = (uint8_t)v;

	put(o, &b, 1);
}

static void
put32(struct out *o, uint32_t v)
{
	uint8_t b[4] = { v >> 24, v >> 16, v >> 8, v };

	put(o, b, 4);
}

static void
put_atom(struct out *o, const char *name)
{
	size_t n = strlen(name);

	if (n > 255) {
		o->bad = 1;
		return;
	}
	put8(o, TAG_SMALL_ATOM_UTF8);
	put8(o, (unsigned)n);
	put(o, name, n);
}

static void
put_pid(struct out *o, const struct etf_self *s)
{
	put8(o, TAG_NEW_PID);
	put_atom(o, s->node);
	put32(o, s->pid_id);
	put32(o, 0);
	put32(o, s->creation);
}

static void
put_ref(struct out *o, const struct etf_self *s)
{
	int i;

	put8(o, TAG_NEWER_REF);
	put8(o, 0);
	put8(o, 3);
	put_atom(o, s->node);
	put32(o, s->creation);
	for (i = 0; i < 3; i++)
		put32(o, s->ref[i]);
}

static void
put_tuple(struct out *o, unsigned arity)
{
	put8(o, TAG_SMALL_TUPLE);
	put8(o, arity);
}

int
etf_rpc(uint8_t *buf, size_t cap, const struct etf_self *self,
    const char *mod, const char *fun, const char *const *args, int nargs)
{
	struct out o = { buf, cap, 0, 0 };
	size_t body;
	int i;

	if (self->node[0] == '\0' || mod[0] == '\0' || fun[0] == '\0' ||
	    nargs < 0 || nargs > 4)
		return -1;
	put32(&o, 0);			/* the length, once known */
	put8(&o, TAG_PASS_THROUGH);
	put8(&o, TAG_VERSION);
	put_tuple(&o, 4);
	put8(&o, TAG_SMALL_INT);
	put8(&o, DOP_REG_SEND);
	put_pid(&o, self);
	put_atom(&o, "");
	put_atom(&o, "rex");
	put8(&o, TAG_VERSION);
	put_tuple(&o, 3);
	put_atom(&o, "$gen_call");
	put_tuple(&o, 2);
	put_pid(&o, self);
	put_ref(&o, self);
	put_tuple(&o, 5);
	put_atom(&o, "call");
	put_atom(&o, mod);
	put_atom(&o, fun);
	if (nargs > 0) {
		put8(&o, TAG_LIST);
		put32(&o, (uint32_t)nargs);
		for (i = 0; i < nargs; i++)
			put_atom(&o, args[i]);
	}
	put8(&o, TAG_NIL);
	put_atom(&o, "user");
	if (o.bad)
		return -1;
	body = o.len - ETF_MSG_HDR;
	buf[0] = (uint8_t)(body >> 24);
	buf[1] = (uint8_t)(body >> 16);
	buf[2] = (uint8_t)(body >> 8);
	buf[3] = (uint8_t)body;
	return (int)o.len;
}

/* A reader that fails once it would pass the end. */
struct in {
	const uint8_t	*p;
	size_t		len, pos;
	int		bad;
};

static const uint8_t *
take(struct in *r, size_t n)
{
	const uint8_t *at;

	if (r->bad || n > r->len - r->pos) {
		r->bad = 1;
		return NULL;
	}
	at = r->p + r->pos;
	r->pos += n;
	return at;
}

static uint32_t
get8(struct in *r)
{
	const uint8_t *b = take(r, 1);

	return b != NULL ? b[0] : 0;
}

static uint32_t
get16(struct in *r)
{
	const uint8_t *b = take(r, 2);

	return b != NULL ? (uint32_t)b[0] << 8 | b[1] : 0;
}

static uint32_t
get32(struct in *r)
{
	const uint8_t *b = take(r, 4);

	return b != NULL ? (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	    (uint32_t)b[2] << 8 | b[3] : 0;
}

/*
 * skip: pass one term of any kind we may meet, nested at most DEPTH_MAX.
 * Sets r->bad on a tag we do not know.
 */
static void
skip(struct in *r, int depth)
{
	uint32_t n, i;
	unsigned tag;

	if (depth > DEPTH_MAX) {
		r->bad = 1;
		return;
	}
	tag = get8(r);
	switch (tag) {
	case TAG_SMALL_INT:
		take(r, 1);
		break;
	case TAG_INT:
		take(r, 4);
		break;
	case TAG_NEW_FLOAT:
		take(r, 8);
		break;
	case TAG_ATOM:
	case TAG_ATOM_UTF8:
		take(r, get16(r));
		break;
	case TAG_SMALL_ATOM:
	case TAG_SMALL_ATOM_UTF8:
		take(r, get8(r));
		break;
	case TAG_STRING:
		take(r, get16(r));
		break;
	case TAG_BINARY:
		take(r, get32(r));
		break;
	case TAG_SMALL_BIG:
		n = get8(r);
		take(r, 1 + (size_t)n);
		break;
	case TAG_NIL:
		break;
	case TAG_NEW_PID:
		skip(r, depth + 1);
		take(r, 12);
		break;
	case TAG_PID:
		skip(r, depth + 1);
		take(r, 9);
		break;
	case TAG_NEW_PORT:
		skip(r, depth + 1);
		take(r, 8);
		break;
	case TAG_V4_PORT:
		skip(r, depth + 1);
		take(r, 12);
		break;
	case TAG_NEWER_REF:
	case TAG_NEW_REF:
		n = get16(r);
		skip(r, depth + 1);
		take(r, (tag == TAG_NEWER_REF ? 4 : 1) + 4 * (size_t)n);
		break;
	case TAG_SMALL_TUPLE:
	case TAG_LARGE_TUPLE:
		n = tag == TAG_SMALL_TUPLE ? get8(r) : get32(r);
		for (i = 0; i < n && !r->bad; i++)
			skip(r, depth + 1);
		break;
	case TAG_LIST:
		n = get32(r);
		for (i = 0; i <= n && !r->bad; i++)	/* and the tail */
			skip(r, depth + 1);
		break;
	case TAG_MAP:
		n = get32(r);
		for (i = 0; i < 2 * (uint64_t)n && !r->bad; i++)
			skip(r, depth + 1);
		break;
	default:
		r->bad = 1;
	}
}

/* 1 when the next term is a reference with our three id words. */
static int
is_our_ref(struct in *r, const struct etf_self *s)
{
	uint32_t n, i;
	unsigned tag = get8(r);

	if (tag != TAG_NEWER_REF && tag != TAG_NEW_REF)
		return 0;
	n = get16(r);
	skip(r, 1);				/* the node: ours */
	take(r, tag == TAG_NEWER_REF ? 4 : 1);	/* its creation */
	if (n != 3)
		return 0;
	for (i = 0; i < 3; i++)
		if (get32(r) != s->ref[i])
			return 0;
	return !r->bad;
}

/* The atom at r is `name`: 1, else 0 (r moves past it either way). */
static int
is_atom(struct in *r, const char *name)
{
	unsigned tag = get8(r);
	size_t n;
	const uint8_t *at;

	if (tag == TAG_SMALL_ATOM_UTF8 || tag == TAG_SMALL_ATOM)
		n = get8(r);
	else if (tag == TAG_ATOM_UTF8 || tag == TAG_ATOM)
		n = get16(r);
	else
		return 0;
	at = take(r, n);
	return at != NULL && n == strlen(name) && memcmp(at, name, n) == 0;
}

/* Read a string, a list of bytes or a binary into out.  Returns 0 or -1. */
static int
text(struct in *r, char *out, size_t cap)
{
	const uint8_t *at;
	uint32_t n, i;
	unsigned tag = get8(r);

	if (tag == TAG_STRING || tag == TAG_BINARY) {
		n = tag == TAG_STRING ? get16(r) : get32(r);
		if ((at = take(r, n)) == NULL || n >= cap)
			return -1;
		memcpy(out, at, n);
		out[n] = '\0';
		return memchr(out, '\0', n) == NULL ? 0 : -1;
	}
	if (tag == TAG_NIL) {
		out[0] = '\0';
		return 0;
	}
	if (tag != TAG_LIST || (n = get32(r)) >= cap)
		return -1;
	for (i = 0; i < n; i++) {
		if (get8(r) != TAG_SMALL_INT || (out[i] = (char)get8(r)) == 0)
			return -1;
	}
	out[n] = '\0';
	return get8(r) == TAG_NIL && !r->bad ? 0 : -1;
}

enum etf_reply
etf_reply(const uint8_t *body, size_t len, const struct etf_self *self,
    char *out, size_t cap)
{
	struct in r = { body, len, 0, 0 };
	size_t mark;

	if (cap == 0 || get8(&r) != TAG_PASS_THROUGH ||
	    get8(&r) != TAG_VERSION)
		return ETF_NOT_OURS;
	skip(&r, 0);				/* the control */
	if (get8(&r) != TAG_VERSION || get8(&r) != TAG_SMALL_TUPLE ||
	    get8(&r) != 2 || !is_our_ref(&r, self) || r.bad)
		return ETF_NOT_OURS;
	mark = r.pos;
	if (text(&r, out, cap) == 0)
		return ETF_TEXT;
	/* {ok, Text} */
	r.pos = mark;
	r.bad = 0;
	if (get8(&r) == TAG_SMALL_TUPLE && get8(&r) == 2 && is_atom(&r, "ok") &&
	    text(&r, out, cap) == 0)
		return ETF_TEXT;
	out[0] = '\0';
	return ETF_OTHER;
}
