/*
 * flags: the library-free mode's local node (mode.h): what it gets instead
 * of the library.  ERL_AFLAGS, which erlexec reads for every launcher (erl,
 * iex, elixir, a release's bin/APP remote), gains
 *
 *   -epmd_module erlfwd_epmd -pa EBIN
 *   -erlfwd_epmd PATTERN=127.0.0.1:PORT ...   each remote host's agent
 *   -erlfwd_epmd_timeout MS
 *
 * and erlang/erlfwd_epmd.erl, loaded from EBIN, asks each host's agent for
 * its nodes (agentq.h).  Every remote host needs a carrier: the default
 * tunnel's agent, or one started here for each other route of --host.
 */
#ifndef ERLFWD_FLAGS_H
#define ERLFWD_FLAGS_H

#include <stddef.h>
#include <stdint.h>

#include "cli.h"

#define FLAGS_HOSTS_MAX	CONFIG_ENTRIES_MAX

/*
 * flags_aflags: the ERL_AFLAGS value into out (cap bytes): the flags above
 * for n hosts (patterns[i] on ports[i]), then old (may be NULL): the node
 * takes the first -epmd_module it is given.  Pure.
 * Returns 0, or -1 when it does not fit or a path or pattern has a blank
 * (erlexec splits ERL_AFLAGS at blanks).
 */
int	flags_aflags(char *out, size_t cap, const char *old, const char *ebin,
	    const char *const *patterns, const uint16_t *ports, size_t n,
	    int timeout_ms);

/*
 * flags_env: set ERL_AFLAGS for c's session: hosts (the remote host
 * patterns, "PATTERN[=ROUTE],..." as ERLFWD_HOSTS has them), each on its
 * route's agent, the modules in ebin.  c's own carrier must be up
 * (cli_carrier); the agents of other routes are started here and live as
 * long as this process or what it execs.  Returns CLI_OK, or an exit
 * status with a one-line reason in err.
 */
int	flags_env(struct cli *c, const char *hosts, const char *ebin,
	    char *err, size_t errlen);

#endif /* ERLFWD_FLAGS_H */
