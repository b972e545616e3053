/*
 * helper.c: the preload's side of the cluster helper (helper.h).
 */
#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "cluster.h"
#include "helper.h"
#include "log.h"
#include "redirect.h"
#include "tio.h"

static atomic_int absent_reported;

/* Say once per process that no helper listens: the one thing to fix. */
static void
report_absent(const struct runtime *rt, int err)
{
	if (err == ECONNREFUSED && atomic_exchange(&absent_reported, 1) == 0)
		log_warn("nothing is listening on %s, the cluster helper for "
		    "socks5h routes: start 'erlfwd-server --cluster ROUTES' "
		    "first", rt->helper.text);
	else
		log_debug("cluster helper %s: %s", rt->helper.text,
		    strerror(err));
}

int
helper_lookup(const struct runtime *rt, const char *name, struct in_addr *out)
{
	uint8_t req[CLUSTER_REQ_MAX], ans[CLUSTER_ANSWER_LEN];
	size_t got = 0;
	ssize_t n;
	uint32_t slot = 0;
	long deadline;
	int fd, len, rc = 0, err, saved = errno, ms = rt->cfg.timeout_ms;

	if (!rt->cluster || (len = cluster_encode_lookup(req, sizeof(req),
	    name)) < 0)
		return ENOENT;
	if (ms > HELPER_LOOKUP_MS)
		ms = HELPER_LOOKUP_MS;
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		errno = saved;
		return ENOENT;
	}
	if ((err = redirect_local(&rt->helper, fd, AF_INET, req, (size_t)len,
	    ms)) != 0) {
		report_absent(rt, err);
		goto close_fd;
	}
	/* The answer is one frame, then the helper closes. */
	deadline = tio_now_ms() + ms;
	while (rc == 0 && got < sizeof(ans)) {
		if (tio_wait(fd, POLLIN, deadline) != 0 ||
		    (n = recv(fd, ans + got, sizeof(ans) - got,
		    MSG_DONTWAIT)) < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			break;
		}
		if (n == 0)
			break;
		got += (size_t)n;
		rc = cluster_decode_answer(ans, got, &slot);
	}
	if (rc > 0 && slot == CLUSTER_SLOT_SELF) {
		/* This host's own name: never through the proxy. */
		out->s_addr = htonl(INADDR_LOOPBACK);
		log_debug("cluster helper: %s is this host: 127.0.0.1", name);
	} else if (rc <= 0 || slot == 0 || cluster_v4(slot, out) != 0) {
		log_debug("cluster helper: no sentinel for %s%s", name,
		    rc < 0 ? " (malformed answer)" : "");
		rc = 0;
		slot = 0;
	}
close_fd:
	close(fd);
	errno = saved;
	return slot != 0 ? 0 : ENOENT;
}

int
helper_connect(const struct runtime *rt, int fd, int af, uint32_t slot,
    uint16_t port)
{
	uint8_t pre[CLUSTER_REQ_MAX];
	enum cluster_tag tag;
	int n, err;

	if (port == 0)
		return EADDRNOTAVAIL;	/* as connecting to port 0 would */
	tag = port == rt->cfg.epmd_port ? CLUSTER_TAG_EPMD : CLUSTER_TAG_DIST;
	if ((n = cluster_encode_connect(pre, sizeof(pre), tag, port, slot)) < 0)
		return EINVAL;
	if ((err = redirect_local(&rt->helper, fd, af, pre, (size_t)n,
	    rt->cfg.timeout_ms)) != 0) {
		report_absent(rt, err);
		return err;
	}
	log_debug("connect fd=%d cluster sentinel %u:%u -> helper %s %s",
	    fd, (unsigned)slot, (unsigned)port, rt->helper.text,
	    tag == CLUSTER_TAG_EPMD ? "epmd" : "dist");
	return 0;
}
