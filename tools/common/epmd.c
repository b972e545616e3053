/*
 * epmd.c: the request filter and NAMES parsing (epmd.h).
 */
#include <stdio.h>
#include <string.h>

#include "epmd.h"
#include "port.h"

int
epmd_filter(const uint8_t *buf, size_t len, size_t *reqlen, int *code)
{
	size_t n, namelen;

	if (len < 2)
		return EPMD_MORE;
	n = (size_t)buf[0] << 8 | buf[1];
	if (n == 0)
		return EPMD_BAD;
	if (len < 3)
		return EPMD_MORE;
	switch (buf[2]) {
	case EPMD_NAMES_REQ:
		if (n != 1)
			return EPMD_BAD;
		break;
	case EPMD_PORT_PLEASE2_REQ:
		/* A node name: 1 to 255 bytes, no NUL, nothing after it. */
		namelen = n - 1;
		if (namelen == 0 || namelen > 255)
			return EPMD_BAD;
		if (len < 2 + n)
			return EPMD_MORE;
		if (memchr(buf + 3, '\0', namelen) != NULL)
			return EPMD_BAD;
		break;
	default:
		return EPMD_DENY;
	}
	if (len < 2 + n)
		return EPMD_MORE;
	if (reqlen != NULL)
		*reqlen = 2 + n;
	if (code != NULL)
		*code = buf[2];
	return EPMD_ALLOW;
}

const char *
epmd_code_name(int code)
{
	switch (code) {
	case EPMD_ALIVE2_REQ:
		return "alive2";
	case EPMD_PORT_PLEASE2_REQ:
		return "port_please2";
	case EPMD_NAMES_REQ:
		return "names";
	case EPMD_DUMP_REQ:
		return "dump";
	case EPMD_KILL_REQ:
		return "kill";
	case EPMD_STOP_REQ:
		return "stop";
	default:
		return "unknown";
	}
}

int
epmd_names_line(const char *line, size_t len, char *name, size_t namecap,
    uint16_t *port)
{
	static const char pre[] = "name ", mid[] = " at port ";
	const char *p, *end = line + len, *at;
	uint16_t v;
	size_t nlen;

	if (len < sizeof(pre) - 1 + sizeof(mid) - 1 ||
	    memcmp(line, pre, sizeof(pre) - 1) != 0)
		return -1;
	/*
	 * epmd registers any bytes as a name, so a local process can list
	 * "x at port 5432" or a name with a line break or a terminal control.
	 * A node name has neither spaces nor control bytes: the name is what
	 * runs up to the first space, and " at port N" must follow exactly.
	 */
	for (p = line + sizeof(pre) - 1; p < end && *p != ' '; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			return -1;
	at = p;
	nlen = (size_t)(at - line) - (sizeof(pre) - 1);
	if (nlen == 0 || nlen >= namecap || (size_t)(end - at) < sizeof(mid) - 1 ||
	    memcmp(at, mid, sizeof(mid) - 1) != 0)
		return -1;
	p = at + sizeof(mid) - 1;
	if (port_parse(p, (size_t)(end - p), &v) != 0)
		return -1;
	memcpy(name, line + sizeof(pre) - 1, nlen);
	name[nlen] = '\0';
	*port = v;
	return 0;
}

/* The next line of [*p, end) without its newline, in *line and *len;
 * advances *p.  Returns 0 when there is none. */
static int
next_line(const char **p, const char *end, const char **line, size_t *len)
{
	const char *nl;

	if (*p >= end)
		return 0;
	if ((nl = memchr(*p, '\n', (size_t)(end - *p))) == NULL)
		nl = end;
	*line = *p;
	*len = (size_t)(nl - *p);
	*p = nl + 1;
	return 1;
}

int
epmd_names_has_port(const char *text, size_t len, uint16_t port,
    size_t *odd)
{
	const char *p = text, *line;
	char name[256];
	size_t n;
	uint16_t got;
	int found = 0;

	*odd = 0;
	while (next_line(&p, text + len, &line, &n)) {
		if (epmd_names_line(line, n, name, sizeof(name), &got) != 0)
			(*odd)++;
		else if (got == port)
			found = 1;
	}
	return found;
}

int
epmd_names_port_name(const char *text, size_t len, uint16_t port, char *name,
    size_t cap)
{
	const char *p = text, *line;
	char got_name[256];
	size_t n;
	uint16_t got;
	int found = 0;

	while (next_line(&p, text + len, &line, &n))
		if (epmd_names_line(line, n, got_name, sizeof(got_name),
		    &got) == 0 && got == port) {
			if (found++ == 0)
				snprintf(name, cap, "%s", got_name);
		}
	return found > 1 ? -1 : found;
}

size_t
epmd_port_please_request(uint8_t *buf, size_t cap, const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > 255 || cap < 3 + n)
		return 0;
	buf[0] = (uint8_t)((1 + n) >> 8);
	buf[1] = (uint8_t)((1 + n) & 0xff);
	buf[2] = EPMD_PORT_PLEASE2_REQ;
	memcpy(buf + 3, name, n);
	return 3 + n;
}

int
epmd_port2_parse(const uint8_t *buf, size_t len, uint16_t *port)
{
	if (len < 2 || buf[0] != EPMD_PORT2_RESP)
		return -1;
	if (buf[1] != 0)
		return 0;
	/* result, port, type, protocol, highest, lowest, name length */
	if (len < 12)
		return -1;
	*port = (uint16_t)(buf[2] << 8 | buf[3]);
	return *port != 0 ? 1 : -1;
}

size_t
epmd_names_info(const char *text, size_t len, struct frame_info *fi)
{
	const char *p = text, *line;
	struct frame_info_node *node;
	size_t n, odd = 0;

	while (fi->nnodes < FRAME_INFO_NODES_MAX &&
	    next_line(&p, text + len, &line, &n)) {
		node = &fi->nodes[fi->nnodes];
		if (epmd_names_line(line, n, node->name, sizeof(node->name),
		    &node->port) == 0)
			fi->nnodes++;
		else
			odd++;
	}
	return odd;
}

size_t
epmd_names_request(uint8_t *buf)
{
	buf[0] = 0;
	buf[1] = 1;
	buf[2] = EPMD_NAMES_REQ;
	return EPMD_NAMES_REQ_LEN;
}

const char *
epmd_names_text(const uint8_t *reply, size_t len, size_t *textlen)
{
	if (len < EPMD_NAMES_PORT_LEN) {
		*textlen = 0;
		return NULL;
	}
	*textlen = len - EPMD_NAMES_PORT_LEN;
	return (const char *)reply + EPMD_NAMES_PORT_LEN;
}

int
epmd_names_set_port(uint8_t *reply, size_t len, uint16_t port)
{
	if (len < EPMD_NAMES_PORT_LEN)
		return -1;
	/* A 32-bit big-endian port, of which only the low 16 bits are used. */
	reply[0] = reply[1] = 0;
	reply[2] = (uint8_t)(port >> 8);
	reply[3] = (uint8_t)port;
	return 0;
}
