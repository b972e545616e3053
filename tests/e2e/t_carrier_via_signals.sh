#!/usr/bin/env bash
# t_carrier_via_signals: the --via command starts with no signal blocked.
# The agent blocks SIGTERM, SIGINT and SIGHUP for its signalfd, and a blocked
# mask survives fork and exec: a --via command started with it would ignore
# the SIGTERM that stops it (via_stop() then waits a second and kills it)
# and the PR_SET_PDEATHSIG that should end it with the agent.  sh clears the
# mask for the commands it forks, not for one it execs ("exec ssh ...", the
# way to run a --via command without a shell in between): the command here
# is an exec'd awk that reports its own mask on stderr, which erlfwd shows as
# "erlfwd: via: ...", and is no carrier (names fails after it; no matter).
set -u -o pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=cli.sh
. "$(dirname "$0")/cli.sh"
e2e_init
cli_require

via="exec awk '/^SigBlk:/ { print \"via-sigblk=\" \$2 }' /proc/self/status >&2"
cli_run names --via "$via"
e2e_assert_match "$CLI_ERR" '(^|
)erlfwd: via: via-sigblk=[0-9a-f]+($|
)' "the --via command reported its signal mask"
e2e_assert_match "$CLI_ERR" '(^|
)erlfwd: via: via-sigblk=0+($|
)' "the --via command starts with no signal blocked"
e2e_pass
