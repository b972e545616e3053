/*
 * versions: which OTP and Elixir a node runs, here and on the remote host,
 * and whether an IEx remote shell can work between the two.
 *
 * IEx's remote shell (iex --remsh) runs code of the local Elixir on the
 * remote node and speaks its private I/O protocol across: it breaks when the
 * Elixir versions differ (1.14 -> 1.18: "Shell process terminated!", 1.20 ->
 * 1.18: IEx.Server.__parse__/2 is undefined, ...), and with a node that has
 * no Elixir loaded.  The Erlang shell works across every pair we tried.
 */
#ifndef ERLFWD_VERSIONS_H
#define ERLFWD_VERSIONS_H

#include <stddef.h>

#define VERSIONS_TEXT_MAX	64

struct versions {
	char	otp[VERSIONS_TEXT_MAX];		/* the OTP release: "27" */
	char	elixir[VERSIONS_TEXT_MAX];	/* "1.18.3"; "" without Elixir */
};

/*
 * versions_parse: the versions in the output of `elixir --version`
 * ("Erlang/OTP 27 [erts-...] ...", then "Elixir 1.18.3 (compiled with
 * Erlang/OTP 27)").  Returns 0 when both were found, else -1.
 */
int	versions_parse(const char *text, struct versions *v);

/*
 * versions_local: the versions of the Elixir that iex (a path) belongs to:
 * run the `elixir` beside it (else the one on $PATH) with --version,
 * bounded by timeout_ms, and parse its output into v.  Returns 0, or -1 (it
 * did not start, did not finish in time, or printed something else).
 */
int	versions_local(const char *iex, int timeout_ms, struct versions *v);

/*
 * versions_iex_ok: 1 when an IEx remote shell from local can work on remote:
 * both run Elixir, the same version, on the same OTP release.  Else 0, with
 * why (cap bytes) saying what differs.
 */
int	versions_iex_ok(const struct versions *local,
	    const struct versions *remote, char *why, size_t cap);

/*
 * versions_describe: "OTP 27, Elixir 1.18.3" (or "OTP 27, no Elixir") into
 * out (cap bytes); returns out.
 */
const char *versions_describe(const struct versions *v, char *out,
	    size_t cap);

#endif /* ERLFWD_VERSIONS_H */
