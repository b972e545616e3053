/*
 * info.c: the INFO client (info.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dial.h"
#include "epmd.h"
#include "info.h"
#include "tio.h"

#define REPLY_MAX	(FRAME_HDR_LEN + FRAME_INFO_BODY_MAX)
#define NAMES_MAX	65536	/* epmd's NAMES reply, for a very busy host */

/* The first bytes of buf as printable text: what a foreign service said. */
static void
peek_text(char *out, size_t cap, const uint8_t *buf, size_t len)
{
	size_t i, o = 0;

	for (i = 0; i < len && o + 1 < cap; i++) {
		if (buf[i] == '\r' || buf[i] == '\n')
			break;
		out[o++] = buf[i] >= 0x20 && buf[i] < 0x7f ? (char)buf[i] : '.';
	}
	out[o] = '\0';
}

/*
 * Judge the len bytes of reply in buf: 0 while they may still become an
 * INFO frame, 1 when they are one (fi filled, res INFO_OK), -1 when they
 * cannot be (res says what they are).
 */
static int
judge(const uint8_t *buf, size_t len, struct frame_info *fi,
    struct info_result *res)
{
	static const char declined[] = "erlfwd-server: ";
	size_t k = len < sizeof(declined) - 1 ? len : sizeof(declined) - 1;
	struct frame f;
	int n;

	/* The server refuses in one line of text, e.g. when it is busy. */
	if (memcmp(buf, declined, k) == 0) {
		if (k < sizeof(declined) - 1 || memchr(buf, '\n', len) == NULL)
			return 0;
		res->status = INFO_DECLINED;
		peek_text(res->peek, sizeof(res->peek), buf + k, len - k);
		return -1;
	}
	n = frame_decode(buf, len, FRAME_INFO_BODY_MAX, &f);
	if (n == 0)
		return 0;	/* need more */
	if (n == FRAME_EVERSION) {
		res->status = INFO_PROTOCOL;
		res->version = buf[4];
		return -1;
	}
	/* An echo service sends our own request back: no body, no version. */
	if (n < 0 || f.tag != FRAME_TAG_INFO || f.port != 0 ||
	    frame_info_parse((const char *)f.body, f.body_len, fi) != 0 ||
	    fi->version[0] == '\0') {
		res->status = INFO_FOREIGN;
		peek_text(res->peek, sizeof(res->peek), buf, len);
		return -1;
	}
	res->status = INFO_OK;
	return 1;
}

/*
 * What INFO says, asked of a SOCKS5 route: no erlfwd-server there, so ask
 * the remote host's epmd for NAMES directly.  A proxy that cannot reach epmd
 * means no epmd runs there (fi->epmd_up 0), as INFO would say.
 */
static void
socks_info(const struct route *r, long deadline, struct frame_info *fi,
    struct info_result *res, uint8_t *buf)
{
	uint8_t req[EPMD_NAMES_REQ_LEN];
	enum dial_stage stage;
	const char *text;
	size_t len = 0, textlen, odd;
	ssize_t n;
	int fd;

	snprintf(fi->host, sizeof(fi->host), "the host behind %s", r->text);
	fi->epmd_port = r->epmd_port;
	if ((fd = dial_route(r, FRAME_TAG_EPMD, 0, deadline, &stage)) < 0) {
		res->err = errno;
		if (stage == DIAL_TARGET)
			res->status = INFO_OK;	/* epmd is down */
		else if (errno == ECONNREFUSED)
			res->status = INFO_REFUSED;
		else if (errno == EPROTO) {
			res->status = INFO_FOREIGN;
			snprintf(res->peek, sizeof(res->peek), "not SOCKS5");
		} else
			res->status = INFO_UNREACHABLE;
		return;
	}
	if (tio_write_all(fd, req, epmd_names_request(req), deadline) != 0) {
		res->err = errno;
		res->status = INFO_SILENT;
		goto out;
	}
	/* epmd answers and closes. */
	while ((n = tio_read(fd, buf + len, NAMES_MAX - len, deadline)) > 0)
		if ((len += (size_t)n) == NAMES_MAX)
			break;
	if (n < 0) {
		res->err = errno;
		res->status = errno == ETIMEDOUT ? INFO_SILENT : INFO_CLOSED;
	} else if ((text = epmd_names_text(buf, len, &textlen)) == NULL)
		res->status = INFO_CLOSED;
	else {
		odd = epmd_names_info(text, textlen, fi);
		fi->skipped = odd < UINT16_MAX ? (uint16_t)odd : UINT16_MAX;
		fi->epmd_up = 1;
		res->status = INFO_OK;
	}
out:
	close(fd);
}

int
info_fetch(const struct route *r, int timeout_ms, struct frame_info *fi,
    struct info_result *res)
{
	uint8_t req[FRAME_HDR_LEN], *buf = NULL;
	size_t len = 0;
	ssize_t n;
	long start = tio_now_ms(), deadline = start + timeout_ms;
	int fd = -1, rc;

	memset(res, 0, sizeof(*res));
	memset(fi, 0, sizeof(*fi));
	res->status = INFO_LOCAL;
	if ((buf = malloc(REPLY_MAX > NAMES_MAX ? REPLY_MAX : NAMES_MAX)) ==
	    NULL) {
		res->err = errno;
		goto out;
	}
	if (r->kind == ROUTE_SOCKS5) {
		socks_info(r, deadline, fi, res, buf);
		goto out;
	}
	(void)frame_encode(req, sizeof(req), FRAME_TAG_INFO, 0, NULL, 0);
	fd = dial_connect((const struct sockaddr *)&r->addr, r->addrlen,
	    deadline);
	if (fd < 0) {
		res->err = errno;
		res->status = errno == ECONNREFUSED ? INFO_REFUSED :
		    INFO_UNREACHABLE;
		goto out;
	}
	if (tio_write_all(fd, req, sizeof(req), deadline) != 0) {
		res->err = errno;
		res->status = errno == ETIMEDOUT ? INFO_SILENT : INFO_CLOSED;
		goto out;
	}
	for (;;) {
		n = tio_read(fd, buf + len, REPLY_MAX - len, deadline);
		if (n < 0) {
			res->err = errno;
			res->status = errno == ETIMEDOUT && len == 0 ?
			    INFO_SILENT : len == 0 ? INFO_CLOSED : INFO_FOREIGN;
			if (len > 0)
				peek_text(res->peek, sizeof(res->peek), buf, len);
			goto out;
		}
		if (n == 0) {
			/* Closed before a whole frame: judge what came. */
			if (len == 0)
				res->status = INFO_CLOSED;
			else if (judge(buf, len, fi, res) == 0) {
				res->status = INFO_FOREIGN;
				peek_text(res->peek, sizeof(res->peek), buf,
				    len);
			}
			goto out;
		}
		len += (size_t)n;
		if ((rc = judge(buf, len, fi, res)) != 0)
			goto out;
		if (len == REPLY_MAX) {
			res->status = INFO_FOREIGN;
			peek_text(res->peek, sizeof(res->peek), buf, len);
			goto out;
		}
	}
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	res->elapsed_ms = tio_now_ms() - start;
	return res->status == INFO_OK ? 0 : -1;
}

const char *
info_describe(const struct info_result *res, const struct route *r, char *buf,
    size_t cap)
{
	switch (res->status) {
	case INFO_OK:
		snprintf(buf, cap, "erlfwd-server answers on %s", r->text);
		break;
	case INFO_REFUSED:
		snprintf(buf, cap, "nothing is listening on %s", r->text);
		break;
	case INFO_UNREACHABLE:
		snprintf(buf, cap, "cannot connect to %s: %s", r->text,
		    res->err == ETIMEDOUT ? "no answer in time" :
		    strerror(res->err));
		break;
	case INFO_CLOSED:
		snprintf(buf, cap, "%s accepts connections but closes them "
		    "without a word: nothing answers behind the forward, or "
		    "something that is not erlfwd-server", r->text);
		break;
	case INFO_SILENT:
		snprintf(buf, cap, "%s accepts connections but sent no erlfwd "
		    "reply in %ld ms", r->text, res->elapsed_ms);
		break;
	case INFO_FOREIGN:
		snprintf(buf, cap, "%s is not erlfwd-server (it answered '%s')",
		    r->text, res->peek);
		break;
	case INFO_DECLINED:
		snprintf(buf, cap, "the erlfwd-server behind %s declined: %s",
		    r->text, res->peek);
		break;
	case INFO_PROTOCOL:
		snprintf(buf, cap, "the erlfwd-server on %s speaks protocol "
		    "version %u, this erlfwd speaks %d", r->text, res->version,
		    FRAME_VERSION);
		break;
	default:
		snprintf(buf, cap, "cannot ask %s: %s", r->text,
		    strerror(res->err));
		break;
	}
	return buf;
}
