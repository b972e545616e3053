/*
 * versions.c: OTP and Elixir versions, and the IEx verdict (versions.h).
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "launch.h"
#include "versions.h"

#define OUTPUT_MAX	4096

/*
 * word_after: copy the word after the first `key` in text (up to a blank,
 * '[' or '(') into out.  Returns 0, or -1 when key is absent or the word
 * empty or too long.
 */
static int
word_after(const char *text, const char *key, char *out, size_t cap)
{
	const char *p = strstr(text, key);
	size_t n;

	if (p == NULL)
		return -1;
	p += strlen(key);
	n = strcspn(p, " \t\r\n[(");
	if (n == 0 || n >= cap)
		return -1;
	memcpy(out, p, n);
	out[n] = '\0';
	return 0;
}

int
versions_parse(const char *text, struct versions *v)
{
	memset(v, 0, sizeof(*v));
	/* "Elixir 1.18.3 (compiled with Erlang/OTP 27)": the first
	 * "Erlang/OTP " is the running one, on the line before. */
	if (word_after(text, "Erlang/OTP ", v->otp, sizeof(v->otp)) != 0 ||
	    word_after(text, "\nElixir ", v->elixir, sizeof(v->elixir)) != 0) {
		memset(v, 0, sizeof(*v));
		return -1;
	}
	return 0;
}

int
versions_local(const char *iex, int timeout_ms, struct versions *v)
{
	char out[OUTPUT_MAX], elixir[PATH_MAX];
	char *argv[] = { elixir, "--version", NULL };

	memset(v, 0, sizeof(*v));
	/* The same installation as the iex the shell would run. */
	launch_beside(elixir, sizeof(elixir), iex, "elixir");
	if (launch_capture(argv, out, sizeof(out), timeout_ms) != 0)
		return -1;
	return versions_parse(out, v);
}

int
versions_iex_ok(const struct versions *local, const struct versions *remote,
    char *why, size_t cap)
{
	char a[2 * VERSIONS_TEXT_MAX + 32], b[2 * VERSIONS_TEXT_MAX + 32];

	if (remote->elixir[0] == '\0') {
		snprintf(why, cap, "the node has no Elixir loaded");
		return 0;
	}
	if (strcmp(local->elixir, remote->elixir) == 0 &&
	    strcmp(local->otp, remote->otp) == 0) {
		why[0] = '\0';
		return 1;
	}
	snprintf(why, cap, "the node runs %s, this machine %s",
	    versions_describe(remote, a, sizeof(a)),
	    versions_describe(local, b, sizeof(b)));
	return 0;
}

const char *
versions_describe(const struct versions *v, char *out, size_t cap)
{
	if (v->elixir[0] != '\0')
		snprintf(out, cap, "OTP %s, Elixir %s", v->otp, v->elixir);
	else
		snprintf(out, cap, "OTP %s, no Elixir", v->otp);
	return out;
}
