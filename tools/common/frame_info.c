/*
 * frame_info.c: the INFO body, written and read (frame_info.h).
 */
#include <stdio.h>
#include <string.h>

#include "frame_info.h"
#include "port.h"

/* Append one formatted line to buf; returns the new length or -1 on overflow. */
static int
append(char *buf, size_t cap, size_t off, const char *key, const char *val)
{
	int n;

	if (off >= cap)
		return -1;
	n = snprintf(buf + off, cap - off, "%s=%s\n", key, val);
	if (n < 0 || (size_t)n >= cap - off)
		return -1;
	return (int)(off + (size_t)n);
}

/* 1 for a byte a value may hold: no control characters, which would break
 * the line format or, printed by a tool, drive the user's terminal. */
static int
value_byte(unsigned char c)
{
	return c >= 0x20 && c != 0x7f;
}

static int
value_clean(const char *s)
{
	for (; *s != '\0'; s++)
		if (!value_byte((unsigned char)*s))
			return 0;
	return 1;
}

int
frame_info_format(char *buf, size_t cap, const struct frame_info *fi)
{
	char val[FRAME_INFO_NAME_MAX + 16];
	size_t i;
	uint16_t skipped;
	int off = 0;

	if (!value_clean(fi->version) || !value_clean(fi->host))
		return FRAME_EFIELD;
	if ((off = append(buf, cap, 0, "version", fi->version)) < 0 ||
	    (off = append(buf, cap, (size_t)off, "host", fi->host)) < 0)
		return FRAME_ESPACE;
	snprintf(val, sizeof(val), "%u", (unsigned)fi->epmd_port);
	if ((off = append(buf, cap, (size_t)off, "epmd_port", val)) < 0 ||
	    (off = append(buf, cap, (size_t)off, "epmd",
	    fi->epmd_up ? "up" : "down")) < 0)
		return FRAME_ESPACE;
	if (fi->epmd_port == 0)
		return FRAME_EFIELD;
	skipped = fi->skipped;
	for (i = 0; i < fi->nnodes && i < FRAME_INFO_NODES_MAX; i++) {
		/* Only what frame_info_parse() takes back; the rest is
		 * counted, not a reason to answer nothing. */
		if (!value_clean(fi->nodes[i].name) || fi->nodes[i].port == 0 ||
		    fi->nodes[i].name[0] == '\0' ||
		    strchr(fi->nodes[i].name, ' ') != NULL) {
			if (skipped < UINT16_MAX)
				skipped++;
			continue;
		}
		snprintf(val, sizeof(val), "%s %u", fi->nodes[i].name,
		    (unsigned)fi->nodes[i].port);
		if ((off = append(buf, cap, (size_t)off, "node", val)) < 0)
			return FRAME_ESPACE;
	}
	if (skipped > 0) {
		snprintf(val, sizeof(val), "%u", (unsigned)skipped);
		if ((off = append(buf, cap, (size_t)off, "skipped", val)) < 0)
			return FRAME_ESPACE;
	}
	return off;
}

/* Copy len bytes of s into dst (cap bytes) as a string; -1 when it does not fit. */
static int
copy_value(char *dst, size_t cap, const char *s, size_t len)
{
	size_t i;

	if (len >= cap)
		return -1;
	/* A hostile server's bytes end up on the user's terminal. */
	for (i = 0; i < len; i++)
		if (!value_byte((unsigned char)s[i]))
			return -1;
	memcpy(dst, s, len);
	dst[len] = '\0';
	return 0;
}

static int
parse_line(const char *line, size_t len, struct frame_info *out)
{
	const char *eq, *val, *sp;
	size_t klen, vlen;
	struct frame_info_node *node;

	eq = memchr(line, '=', len);
	if (eq == NULL)
		return FRAME_EFIELD;
	klen = (size_t)(eq - line);
	val = eq + 1;
	vlen = len - klen - 1;
#define KEY(k) (klen == sizeof(k) - 1 && memcmp(line, k, klen) == 0)
	if (KEY("version"))
		return copy_value(out->version, sizeof(out->version), val,
		    vlen) == 0 ? 0 : FRAME_EFIELD;
	if (KEY("host"))
		return copy_value(out->host, sizeof(out->host), val, vlen) == 0 ?
		    0 : FRAME_EFIELD;
	if (KEY("epmd_port"))
		return port_parse(val, vlen, &out->epmd_port) == 0 ? 0 :
		    FRAME_EFIELD;
	if (KEY("epmd")) {
		if (vlen == 2 && memcmp(val, "up", 2) == 0)
			out->epmd_up = 1;
		else if (vlen == 4 && memcmp(val, "down", 4) == 0)
			out->epmd_up = 0;
		else
			return FRAME_EFIELD;
		return 0;
	}
	if (KEY("skipped")) {
		if (vlen == 1 && val[0] == '0') {
			out->skipped = 0;
			return 0;
		}
		return port_parse(val, vlen, &out->skipped) == 0 ? 0 :
		    FRAME_EFIELD;
	}
	if (KEY("node")) {
		if (out->nnodes >= FRAME_INFO_NODES_MAX)
			return FRAME_EFIELD;
		sp = memchr(val, ' ', vlen);
		if (sp == NULL || sp == val)
			return FRAME_EFIELD;
		node = &out->nodes[out->nnodes];
		if (copy_value(node->name, sizeof(node->name), val,
		    (size_t)(sp - val)) != 0 ||
		    port_parse(sp + 1, vlen - (size_t)(sp - val) - 1,
		    &node->port) != 0)
			return FRAME_EFIELD;
		out->nnodes++;
		return 0;
	}
#undef KEY
	return 0;	/* a key from a newer server */
}

int
frame_info_parse(const char *body, size_t len, struct frame_info *out)
{
	const char *p = body, *end = body + len, *nl;
	int rc;

	memset(out, 0, sizeof(*out));
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;	/* a last line without its newline */
		if (nl > p && (rc = parse_line(p, (size_t)(nl - p), out)) != 0)
			return rc;
		p = nl + 1;
	}
	return 0;
}
