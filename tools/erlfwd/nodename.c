/*
 * nodename.c: node names (nodename.h).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "nodename.h"

/* Erlang allows more in the name part; these are the ones that need no
 * quoting anywhere we pass them (argv, epmd, shells). */
static int
name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '-';
}

static int
host_char(char c)
{
	return name_char(c) || c == '.';
}

static int
valid(const char *s, size_t len, int (*ok)(char))
{
	size_t i;

	if (len == 0 || len >= NODENAME_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (!ok(s[i]))
			return 0;
	return 1;
}

int
nodename_parse(struct nodename *n, const char *text)
{
	const char *at = strchr(text, '@');
	size_t nlen = at != NULL ? (size_t)(at - text) : strlen(text);

	memset(n, 0, sizeof(*n));
	if (!valid(text, nlen, name_char))
		return -1;
	memcpy(n->name, text, nlen);
	if (at == NULL)
		return 0;
	if (!valid(at + 1, strlen(at + 1), host_char))
		return -1;
	strcpy(n->host, at + 1);
	return 0;
}

int
nodename_is_long(const char *host)
{
	return strchr(host, '.') != NULL;
}

int
nodename_local(char *buf, size_t cap, const char *prefix, long pid,
    int longnames)
{
	int n;

	n = snprintf(buf, cap, "%s-%ld%s", prefix, pid,
	    longnames ? "@127.0.0.1" : "");
	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

/* 1 when a and b are the same name, or one is the other's first label. */
static int
same_host(const char *a, const char *b)
{
	size_t la = strcspn(a, "."), lb = strcspn(b, ".");

	if (strcasecmp(a, b) == 0)
		return 1;
	if (a[la] == '\0' && la == lb && strncasecmp(a, b, la) == 0)
		return 1;
	return b[lb] == '\0' && la == lb && strncasecmp(a, b, lb) == 0;
}

int
nodename_remote_host(const char *host, const char *self)
{
	size_t len = strlen(host);

	if (!valid(host, len, host_char) || host[0] == '.' ||
	    host[len - 1] == '.')
		return -1;
	/* An IPv4 literal would capture every connection to that address. */
	if (strspn(host, "0123456789.") == len)
		return -1;
	if (same_host(host, "localhost") ||
	    (len > 10 && strcasecmp(host + len - 10, ".localhost") == 0))
		return -1;
	if (self != NULL && self[0] != '\0' && same_host(host, self))
		return -1;
	return 0;
}

int
nodename_join(char *buf, size_t cap, const char *name, const char *host)
{
	int n = snprintf(buf, cap, "%s@%s", name, host);

	return n < 0 || (size_t)n >= cap ? -1 : 0;
}
