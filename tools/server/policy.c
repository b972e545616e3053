/*
 * policy.c: what erlfwd-server lets through, and its INFO answer
 * (policy.h).
 */
#include <stdio.h>
#include <string.h>

#include "epmd.h"
#include "policy.h"
#include "procnet.h"

const char *
policy_dist(uint16_t port, uint16_t own_port, uint16_t epmd_port, int owner)
{
	/* A chain through the server, or epmd's requests past the filter. */
	if (port == own_port)
		return "own-port";
	if (port == epmd_port)
		return "epmd-port";
	if (owner == PROCNET_OTHER)
		return "other-uid";
	return NULL;
}

size_t
policy_info(struct frame_info *fi, const char *version, const char *host,
    uint16_t epmd_port, const char *names, size_t len)
{
	size_t odd = 0;

	memset(fi, 0, sizeof(*fi));
	snprintf(fi->version, sizeof(fi->version), "%s", version);
	snprintf(fi->host, sizeof(fi->host), "%s", host);
	fi->epmd_port = epmd_port;
	fi->epmd_up = names != NULL;
	if (names != NULL) {
		odd = epmd_names_info(names, len, fi);
		fi->skipped = odd < UINT16_MAX ? (uint16_t)odd : UINT16_MAX;
	}
	return odd;
}
