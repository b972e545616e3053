/*
 * agentq.c: the agent's own request (agentq.h).
 */
#include <string.h>

#include "agentq.h"

int
agentq_decode(const uint8_t *buf, size_t len, uint16_t *port)
{
	size_t m = len < 4 ? len : 4;

	if (memcmp(buf, AGENTQ_MAGIC, m) != 0)
		return -1;
	if (len < AGENTQ_LEN)
		return 0;
	if (buf[4] != AGENTQ_LISTEN)
		return -1;
	*port = (uint16_t)(buf[5] << 8 | buf[6]);
	return *port == 0 ? -1 : AGENTQ_LEN;
}

void
agentq_answer(uint8_t out[AGENTQ_LEN], enum agentq_status status,
    uint16_t port)
{
	memcpy(out, AGENTQ_MAGIC, 4);
	out[4] = (uint8_t)status;
	out[5] = (uint8_t)(port >> 8);
	out[6] = (uint8_t)(port & 0xff);
}
