/*
 * distname.c: the first message of a distribution handshake (distname.h).
 */
#include <string.h>

#include "distname.h"

/* Fixed parts after the length: tag, then 'n': version(2) flags(4); 'N':
 * flags(8) creation(4) nlen(2). */
#define FIXED_N5	(1 + 2 + 4)
#define FIXED_N6	(1 + 8 + 4 + 2)

int
distname_check(const uint8_t *buf, size_t len)
{
	size_t mlen, nlen;

	if (len < 3)
		return DISTNAME_MORE;
	mlen = (size_t)buf[0] << 8 | buf[1];
	switch (buf[2]) {
	case 'n':
		/* Version 5 names itself 5 (OTP older than 23 and newer ones
		 * talking to them). */
		if (mlen < FIXED_N5 + 1 || mlen > FIXED_N5 + DISTNAME_NAME_MAX)
			return DISTNAME_BAD;
		if (len < 2 + 3)
			return DISTNAME_MORE;
		return buf[3] == 0 && (buf[4] == 5 || buf[4] == 6) ?
		    DISTNAME_OK : DISTNAME_BAD;
	case 'N':
		if (mlen < FIXED_N6 + 1 || mlen > FIXED_N6 + DISTNAME_NAME_MAX)
			return DISTNAME_BAD;
		if (len < 2 + FIXED_N6)
			return DISTNAME_MORE;
		/* The name's length must be what is left of the message. */
		nlen = (size_t)buf[2 + FIXED_N6 - 2] << 8 |
		    buf[2 + FIXED_N6 - 1];
		return nlen >= 1 && nlen == mlen - FIXED_N6 ? DISTNAME_OK :
		    DISTNAME_BAD;
	default:
		return DISTNAME_BAD;
	}
}

size_t
distname_len(const uint8_t *buf)
{
	return 2 + ((size_t)buf[0] << 8 | buf[1]);
}

/* What a node answers a name message with (OTP's dist_util:recv_status). */
static const char *const statuses[] = {
	"ok", "ok_simultaneous", "nok", "not_allowed", "alive",
};

int
distname_status(const uint8_t *buf, size_t len)
{
	size_t mlen, tlen, i;
	const char *text;

	if (len < 2)
		return DISTNAME_MORE;
	mlen = (size_t)buf[0] << 8 | buf[1];
	/* "ok" is the shortest status; "named:" carries a name. */
	if (mlen < 1 + 2 || mlen > DISTNAME_STATUS_MAX - 2)
		return DISTNAME_BAD;
	if (len < 3)
		return DISTNAME_MORE;
	if (buf[2] != 's')
		return DISTNAME_BAD;
	if (len < 2 + mlen)
		return DISTNAME_MORE;
	text = (const char *)buf + 3;
	tlen = mlen - 1;
	for (i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
		if (tlen == strlen(statuses[i]) &&
		    memcmp(text, statuses[i], tlen) == 0)
			return DISTNAME_OK;
	return tlen > 6 && memcmp(text, "named:", 6) == 0 ? DISTNAME_OK :
	    DISTNAME_BAD;
}
