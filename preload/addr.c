/*
 * addr.c: address arithmetic (addr.h).
 */
#include <string.h>

#include "addr.h"

void
addr_v4mapped(const struct in_addr *v4, struct in6_addr *out)
{
	memset(out, 0, sizeof(*out));
	out->s6_addr[10] = 0xff;
	out->s6_addr[11] = 0xff;
	memcpy(&out->s6_addr[12], &v4->s_addr, 4);
}
