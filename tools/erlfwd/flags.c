/*
 * flags.c: the library-free mode's ERL_AFLAGS (flags.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "erlmod.h"
#include "flags.h"

#define AFLAGS_MAX	8192

/* 1 when s has a character erlexec would split ERL_AFLAGS at. */
static int
has_blank(const char *s)
{
	return strpbrk(s, " \t\n\r\v\f") != NULL;
}

int
flags_aflags(char *out, size_t cap, const char *old, const char *ebin,
    const char *const *patterns, const uint16_t *ports, size_t n,
    int timeout_ms)
{
	size_t len = 0, i;
	int k;

#define PUT(...) do { \
	k = snprintf(out + len, cap - len, __VA_ARGS__); \
	if (k < 0 || (size_t)k >= cap - len) \
		return -1; \
	len += (size_t)k; \
} while (0)
	if (cap == 0 || has_blank(ebin))
		return -1;
	out[0] = '\0';
	/* Ours first: the node takes the first -epmd_module it is given
	 * (net_kernel:epmd_module/0), and ERL_AFLAGS comes before the
	 * command line's own flags. */
	PUT("-epmd_module %s -pa %s", ERLMOD_EPMD, ebin);
	for (i = 0; i < n; i++) {
		if (*patterns[i] == '\0' || has_blank(patterns[i]) ||
		    ports[i] == 0)
			return -1;
		PUT(" -erlfwd_epmd %s=127.0.0.1:%u", patterns[i],
		    (unsigned)ports[i]);
	}
	PUT(" -erlfwd_epmd_timeout %d", timeout_ms);
	if (old != NULL && *old != '\0')
		PUT(" %s", old);
#undef PUT
	return 0;
}

/*
 * The port of an agent for route r, started now (or the one started for
 * the same route before, in done[]).  Returns CLI_OK, or an exit status
 * with err.
 */
static int
route_agent(struct cli *c, const struct route *r, const char **done_text,
    uint16_t *done_port, size_t *ndone, uint16_t *port, char *err,
    size_t errlen)
{
	struct agent_opts o;
	enum mux_end_cause cause;
	enum agent_result res;
	pid_t pid;
	size_t i;
	int status;

	for (i = 0; i < *ndone; i++)
		if (strcmp(done_text[i], r->text) == 0) {
			*port = done_port[i];
			return CLI_OK;
		}
	if (r->kind == ROUTE_SOCKS5H) {
		snprintf(err, errlen, "the cluster route %s needs the preload: "
		    "drop --no-preload (Linux)", r->text);
		return CLI_USAGE;
	}
	if (r->kind == ROUTE_SOCKS5 && r->server_port == 0) {
		snprintf(err, errlen, "the library-free mode needs a carrier "
		    "to erlfwd-server: add ?server=PORT to %s", r->text);
		return CLI_USAGE;
	}
	cli_agent_opts(c, &o);
	o.via = NULL;
	o.route = r;
	res = agent_start(&o, port, &pid, err, errlen, &status, &cause);
	if (res == AGENT_V1) {
		snprintf(err, errlen, "the erlfwd-server behind %s speaks only "
		    "protocol version 1: the library-free mode needs a "
		    "carrier (upgrade it)", r->text);
		return CLI_SERVER;
	}
	if (res != AGENT_UP)
		return status;
	if (*ndone < FLAGS_HOSTS_MAX) {
		done_text[*ndone] = r->text;
		done_port[(*ndone)++] = *port;
	}
	return CLI_OK;
}

int
flags_env(struct cli *c, const char *hosts, const char *ebin, char *err,
    size_t errlen)
{
	struct config_env e = { 0 };
	struct config *cfg;
	const char *pats[FLAGS_HOSTS_MAX], *done_text[FLAGS_HOSTS_MAX];
	uint16_t ports[FLAGS_HOSTS_MAX], done_port[FLAGS_HOSTS_MAX];
	/* The default route's agent, when cli_carrier() started one (a
	 * forward's 127.0.0.1:PORT is no agent). */
	uint16_t deflt = c->agent_port;
	char *aflags = NULL, why[CONFIG_ERR_MAX];
	size_t i, ndone = 0;
	int rc = CLI_LOCAL;

	if ((cfg = malloc(sizeof(*cfg))) == NULL ||
	    (aflags = malloc(AFLAGS_MAX)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	e.hosts = hosts;
	e.tunnel = c->tunnel_arg;
	e.socks_password = c->socks_pass[0] != '\0' ? c->socks_pass : NULL;
	if (config_parse(cfg, &e, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "%s", why);
		rc = CLI_USAGE;
		goto out;
	}
	for (i = 0; i < cfg->nentries; i++) {
		const struct config_entry *ce = &cfg->entries[i];

		pats[i] = ce->pattern;
		if (ce->has_route) {
			if ((rc = route_agent(c, &ce->route, done_text,
			    done_port, &ndone, &ports[i], err, errlen)) !=
			    CLI_OK)
				goto out;
			continue;
		}
		if (deflt == 0) {
			snprintf(err, errlen, "the library-free mode needs a "
			    "carrier to erlfwd-server over %s (version 2, "
			    "not ERLFWD_CARRIER=off)", c->cfg.tunnel.text);
			rc = CLI_USAGE;
			goto out;
		}
		ports[i] = deflt;
	}
	if (flags_aflags(aflags, AFLAGS_MAX, getenv("ERL_AFLAGS"), ebin, pats,
	    ports, cfg->nentries, c->cfg.timeout_ms) != 0) {
		snprintf(err, errlen, "cannot pass the library-free mode's "
		    "flags in ERL_AFLAGS (a blank in %s, or too long)", ebin);
		rc = CLI_LOCAL;
		goto out;
	}
	if (setenv("ERL_AFLAGS", aflags, 1) != 0) {
		snprintf(err, errlen, "cannot set ERL_AFLAGS");
		rc = CLI_LOCAL;
		goto out;
	}
	rc = CLI_OK;
out:
	free(cfg);
	free(aflags);
	return rc;
}
