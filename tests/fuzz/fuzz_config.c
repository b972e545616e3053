/*
 * fuzz_config: the configuration parser and host matching (preload/common/config.h),
 * which read whatever a user, a script or a buildpack puts in the
 * environment.
 *
 * Input: fields separated by NUL bytes; a missing field is unset (NULL):
 *   0 ERLFWD_HOSTS  1 ERLFWD_TUNNEL  2 ERLFWD_BIND  3 ERLFWD_DEBUG
 *   4 ERLFWD_TIMEOUT_MS  5 ERL_EPMD_PORT  6 a host name to match
 *   7 a glob pattern  8 a name to skip (this host's own name)
 *
 * config_parse(): returns 0 or -1; on -1 it leaves the defaults with no
 * entries and a non-empty message that fits err whatever its size; on 0
 * every entry is a valid pattern with a valid route.  The message and the
 * route texts never repeat a password: the same input with the password's
 * letters and digits replaced must give the same result, the same message
 * and the same route texts (a differential check, so that no guess about
 * the wording is needed).  A password is what follows the first ':' after a
 * route's "SCHEME://" (any scheme: a misspelt one too), up to its last '@'
 * before any '?'.
 *
 * config_glob() agrees with a reference matcher (dynamic programming over
 * pattern and name), and config_match() with a reference built on it, on the
 * parsed entries and on entries made straight from the ERLFWD_HOSTS items
 * (any bytes).  config_glob() is run on the whole fields even where the
 * reference is skipped for size: libFuzzer's -timeout catches a matcher that
 * turns quadratic or worse on long inputs.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fuzz.h"

enum { F_HOSTS, F_TUNNEL, F_BIND, F_DEBUG, F_TIMEOUT, F_EPMD, F_NAME, F_GLOB,
	F_SKIP, F_COUNT };

/* Reference matching is skipped beyond this many pattern x name cells. */
#define REF_CELLS_MAX	(1u << 20)

struct fields {
	char	*f[F_COUNT];	/* NULL: unset */
};

static void
split(const uint8_t *data, size_t size, struct fields *fs)
{
	const uint8_t *p = data, *end = data + size, *nul;
	size_t i;

	memset(fs, 0, sizeof(*fs));
	for (i = 0; i < F_COUNT && p <= end; i++) {
		nul = memchr(p, '\0', (size_t)(end - p));
		if (nul == NULL)
			nul = end;
		fs->f[i] = fuzz_strdup(p, (size_t)(nul - p));
		p = nul + 1;
	}
}

static void
fields_free(struct fields *fs)
{
	size_t i;

	for (i = 0; i < F_COUNT; i++)
		free(fs->f[i]);
}

static void
fields_env(const struct fields *fs, struct config_env *env)
{
	env->hosts = fs->f[F_HOSTS];
	env->tunnel = fs->f[F_TUNNEL];
	env->bind = fs->f[F_BIND];
	env->debug = fs->f[F_DEBUG];
	env->timeout_ms = fs->f[F_TIMEOUT];
	env->epmd_port = fs->f[F_EPMD];
	/* A USER@ route takes it; without it, such a route is an error. */
	env->socks_password = fs->f[F_HOSTS] != NULL &&
	    fs->f[F_HOSTS][0] != '\0' && (fs->f[F_HOSTS][0] & 1) ? "pw" : NULL;
}

static char
lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/*
 * Glob by dynamic programming: row[j] is "pattern so far matches
 * name[0..j)".  '*' and '?' never take a '.', except "*" alone, which
 * matches every name.
 */
static int
ref_glob(const char *pat, const char *name)
{
	size_t pl = strlen(pat), nl = strlen(name), i, j;
	unsigned char *prev, *cur, *t;
	int r;

	if (strcmp(pat, "*") == 0)
		return 1;
	prev = calloc(nl + 1, 1);
	cur = calloc(nl + 1, 1);
	FUZZ_ASSERT(prev != NULL && cur != NULL);
	prev[0] = 1;
	for (i = 0; i < pl; i++) {
		cur[0] = prev[0] && pat[i] == '*';
		for (j = 1; j <= nl; j++) {
			if (pat[i] == '*')
				cur[j] = (cur[j - 1] && name[j - 1] != '.') ||
				    prev[j];
			else
				cur[j] = prev[j - 1] && ((pat[i] == '?' &&
				    name[j - 1] != '.') ||
				    lower(pat[i]) == lower(name[j - 1]));
		}
		t = prev;
		prev = cur;
		cur = t;
	}
	r = prev[nl];
	free(prev);
	free(cur);
	return r;
}

static int
ref_cheap(const char *pat, const char *name)
{
	return (strlen(pat) + 1) * (strlen(name) + 1) <= REF_CELLS_MAX;
}

static int
ascii_caseeq(const char *a, const char *b)
{
	for (; *a != '\0' && lower(*a) == lower(*b); a++, b++)
		;
	return lower(*a) == lower(*b);
}

/* config_match() by the book; -2 when too costly to say. */
static int
ref_match(const struct config *c, const char *name, const char *const *skip)
{
	const struct config_entry *e;
	const char *const *s;
	size_t i;
	int local;

	if (name == NULL || *name == '\0')
		return -1;
	local = ascii_caseeq(name, "localhost");
	for (s = skip; !local && s != NULL && *s != NULL; s++)
		local = ascii_caseeq(name, *s);
	for (i = 0; i < c->nentries; i++) {
		e = &c->entries[i];
		if (!e->is_glob) {
			if (ascii_caseeq(e->pattern, name))
				return (int)i;
			continue;
		}
		if (local)
			continue;
		if (!ref_cheap(e->pattern, name))
			return -2;
		if (ref_glob(e->pattern, name))
			return (int)i;
	}
	return -1;
}

static void
check_match(const struct config *c, const char *name, const char *skipname)
{
	const char *skip[2] = { skipname, NULL };
	int got, want;

	got = config_match(c, name, skipname != NULL ? skip : NULL);
	FUZZ_ASSERT(got >= -1 && got < (int)c->nentries);
	want = ref_match(c, name, skipname != NULL ? skip : NULL);
	if (want != -2)
		FUZZ_ASSERT(got == want);
}

static int
pattern_ok(const char *p)
{
	if (*p == '\0')
		return 0;
	for (; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr(".-_*?", *p) != NULL))
			return 0;
	return 1;
}

static void
check_route(const struct route *r)
{
	FUZZ_ASSERT(r->kind == ROUTE_ERLFWD || r->kind == ROUTE_SOCKS5 ||
	    r->kind == ROUTE_SOCKS5H);
	FUZZ_ASSERT((r->addr.ss_family == AF_INET &&
	    r->addrlen == sizeof(struct sockaddr_in)) ||
	    (r->addr.ss_family == AF_INET6 &&
	    r->addrlen == sizeof(struct sockaddr_in6)));
	FUZZ_ASSERT(fuzz_has_nul(r->text, sizeof(r->text)));
	FUZZ_ASSERT(fuzz_has_nul(r->user, sizeof(r->user)));
	FUZZ_ASSERT(fuzz_has_nul(r->pass, sizeof(r->pass)));
	FUZZ_ASSERT(fuzz_has_nul(r->target, sizeof(r->target)));
	if (r->kind == ROUTE_SOCKS5 || r->kind == ROUTE_SOCKS5H) {
		FUZZ_ASSERT(r->target[0] != '\0' && r->epmd_port != 0);
		FUZZ_ASSERT(strlen(r->user) <= 255 && strlen(r->pass) <= 255);
	}
	/* socks5h://: the proxy is asked for the host's own name, through
	 * the cluster helper on 127.0.0.1:helper_port. */
	if (r->kind == ROUTE_SOCKS5H) {
		FUZZ_ASSERT(r->epmd_port != 0 && r->helper_port != 0);
		FUZZ_ASSERT(strlen(r->user) <= 255 && strlen(r->pass) <= 255);
	}
}

static void
check_parsed(const struct config *c, int rc, const char *err, size_t errlen)
{
	const struct config_entry *e;
	uint16_t helper = 0;
	size_t i;

	FUZZ_ASSERT(rc == 0 || rc == -1);
	check_route(&c->tunnel);
	if (rc != 0) {
		FUZZ_ASSERT(fuzz_has_nul(err, errlen) && err[0] != '\0');
		FUZZ_ASSERT(c->nentries == 0);
		FUZZ_ASSERT(c->epmd_port == CONFIG_DEFAULT_EPMD);
		FUZZ_ASSERT(c->timeout_ms == CONFIG_DEFAULT_TIMEOUT);
		FUZZ_ASSERT(c->bind_any == 0);
		FUZZ_ASSERT(strcmp(c->tunnel.text, CONFIG_DEFAULT_TUNNEL) == 0);
		return;
	}
	FUZZ_ASSERT(c->nentries <= CONFIG_ENTRIES_MAX);
	FUZZ_ASSERT(c->epmd_port != 0);
	FUZZ_ASSERT(c->timeout_ms >= 1 && c->timeout_ms <= 600000);
	FUZZ_ASSERT(c->bind_any == 0 || c->bind_any == 1);
	FUZZ_ASSERT(config_route(c, c->nentries) == &c->tunnel);
	/* socks5h:// belongs to a pattern, never to ERLFWD_TUNNEL. */
	FUZZ_ASSERT(c->tunnel.kind != ROUTE_SOCKS5H);
	for (i = 0; i < c->nentries; i++) {
		e = &c->entries[i];
		FUZZ_ASSERT(fuzz_has_nul(e->pattern, sizeof(e->pattern)));
		FUZZ_ASSERT(pattern_ok(e->pattern));
		FUZZ_ASSERT(e->is_glob == (strpbrk(e->pattern, "*?") != NULL));
		if (e->has_route) {
			check_route(&e->route);
			FUZZ_ASSERT(config_route(c, i) == &e->route);
			/* One helper for every socks5h entry: a cluster
			 * sentinel does not say which entry it came from. */
			if (e->route.kind == ROUTE_SOCKS5H && helper == 0)
				helper = e->route.helper_port;
			FUZZ_ASSERT(e->route.kind != ROUTE_SOCKS5H ||
			    e->route.helper_port == helper);
		} else
			FUZZ_ASSERT(config_route(c, i) == &c->tunnel);
	}
}

/*
 * Find the password in a route text of rlen bytes: after "SCHEME://", from
 * the first ':' to the last '@' before any '?'.  Sets *off and *len within
 * route and returns 1 when there is one.
 */
static int
find_pass(const char *route, size_t rlen, size_t *off, size_t *len)
{
	const char *sep, *u, *end, *at, *colon;

	if ((sep = memmem(route, rlen, "://", 3)) == NULL)
		return 0;
	u = sep + 3;
	end = memchr(u, '?', rlen - (size_t)(u - route));
	if (end == NULL)
		end = route + rlen;
	if ((at = memrchr(u, '@', (size_t)(end - u))) == NULL ||
	    (colon = memchr(u, ':', (size_t)(at - u))) == NULL)
		return 0;
	*off = (size_t)(colon + 1 - route);
	*len = (size_t)(at - colon - 1);
	return 1;
}

static int
is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

/*
 * Replace each letter and digit of s[off..off+len) by another letter, but
 * those of %XX escapes: the text parses the same, its secret changed.
 * Returns how many were replaced.
 */
static size_t
mask(char *s, size_t off, size_t len)
{
	size_t i, n = 0;

	for (i = off; i < off + len; i++) {
		if (s[i] == '%') {
			i += 2;
			continue;
		}
		if (is_alnum(s[i])) {
			s[i] = s[i] == 'Q' ? 'R' : 'Q';
			n++;
		}
	}
	return n;
}

/*
 * Mask every password in the fields: the whole tunnel is a route, and each
 * ERLFWD_HOSTS item's route follows its first '='.  Returns how many.
 */
static int
mask_passwords(struct fields *fs)
{
	char *p, *item, *comma, *eq;
	size_t off, len, ilen;
	int n = 0;

	if ((p = fs->f[F_TUNNEL]) != NULL && find_pass(p, strlen(p), &off,
	    &len))
		n += mask(p, off, len) > 0;
	for (item = fs->f[F_HOSTS]; item != NULL; item = comma + 1) {
		comma = strchr(item, ',');
		ilen = comma != NULL ? (size_t)(comma - item) : strlen(item);
		eq = memchr(item, '=', ilen);
		if (eq != NULL && find_pass(eq + 1, ilen - (size_t)(eq + 1 - item),
		    &off, &len))
			n += mask(eq + 1, off, len) > 0;
		if (comma == NULL)
			break;
	}
	return n;
}

/* The same input with its passwords masked parses to the same words. */
static void
check_no_password(const struct fields *fs, const struct config *c, int rc,
    const char *err)
{
	struct fields masked;
	struct config_env env;
	struct config *m;
	char merr[CONFIG_ERR_MAX];
	size_t i;
	int mrc;

	for (i = 0; i < F_COUNT; i++)
		masked.f[i] = fs->f[i] != NULL ?
		    fuzz_strdup(fs->f[i], strlen(fs->f[i])) : NULL;
	if (mask_passwords(&masked) <= 0) {
		fields_free(&masked);
		return;
	}
	m = malloc(sizeof(*m));
	FUZZ_ASSERT(m != NULL);
	fields_env(&masked, &env);
	merr[0] = '\0';
	mrc = config_parse(m, &env, merr, sizeof(merr));
	FUZZ_ASSERT(mrc == rc);
	if (rc != 0)
		FUZZ_ASSERT(strcmp(err, merr) == 0);
	else {
		FUZZ_ASSERT(m->nentries == c->nentries);
		FUZZ_ASSERT(strcmp(m->tunnel.text, c->tunnel.text) == 0);
		for (i = 0; i < c->nentries; i++)
			FUZZ_ASSERT(strcmp(m->entries[i].route.text,
			    c->entries[i].route.text) == 0);
	}
	free(m);
	fields_free(&masked);
}

/* A route alone, as config_parse_route() sees it. */
static void
check_route_text(const char *text)
{
	struct route *r = malloc(sizeof(*r));
	char err[CONFIG_ERR_MAX];
	int rc;

	FUZZ_ASSERT(r != NULL);
	memset(r, 0x5a, sizeof(*r));
	memset(err, 'X', sizeof(err));
	rc = config_parse_route(r, text, err, sizeof(err));
	FUZZ_ASSERT(rc == 0 || rc == -1);
	if (rc == 0)
		check_route(r);
	else {
		FUZZ_ASSERT(fuzz_has_nul(err, sizeof(err)) && err[0] != '\0');
		FUZZ_ASSERT(r->kind == 0);	/* cleared, not half-filled */
	}
	free(r);
}

/* Entries made straight from the ERLFWD_HOSTS items, unvalidated. */
static void
raw_entries(struct config *c, const char *hosts)
{
	const char *p, *comma;
	size_t len;

	memset(c, 0, sizeof(*c));
	for (p = hosts; p != NULL && c->nentries < CONFIG_ENTRIES_MAX;
	    p = comma != NULL ? comma + 1 : NULL) {
		comma = strchr(p, ',');
		len = comma != NULL ? (size_t)(comma - p) : strlen(p);
		if (len >= CONFIG_PATTERN_MAX)
			len = CONFIG_PATTERN_MAX - 1;
		memcpy(c->entries[c->nentries].pattern, p, len);
		c->entries[c->nentries].pattern[len] = '\0';
		c->entries[c->nentries].is_glob =
		    strpbrk(c->entries[c->nentries].pattern, "*?") != NULL;
		c->nentries++;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fields fs;
	struct config_env env;
	struct config *c, *c2;
	char err[CONFIG_ERR_MAX], *small;
	size_t smallcap = 1 + size % 24;
	int rc;

	split(data, size, &fs);
	fields_env(&fs, &env);
	c = malloc(sizeof(*c));
	c2 = malloc(sizeof(*c2));
	FUZZ_ASSERT(c != NULL && c2 != NULL);

	memset(c, 0x5a, sizeof(*c));	/* every field must be set */
	memset(err, 'X', sizeof(err));
	rc = config_parse(c, &env, err, sizeof(err));
	check_parsed(c, rc, err, sizeof(err));
	check_no_password(&fs, c, rc, err);

	/* The message is cut to any buffer, and may be left out. */
	small = malloc(smallcap);
	FUZZ_ASSERT(small != NULL);
	memset(small, 'X', smallcap);
	FUZZ_ASSERT(config_parse(c2, &env, small, smallcap) == rc);
	if (rc != 0)
		FUZZ_ASSERT(fuzz_has_nul(small, smallcap));
	free(small);
	FUZZ_ASSERT(config_parse(c2, &env, NULL, 0) == rc);

	if (fs.f[F_TUNNEL] != NULL)
		check_route_text(fs.f[F_TUNNEL]);
	if (fs.f[F_HOSTS] != NULL)
		check_route_text(fs.f[F_HOSTS]);

	check_match(c, fs.f[F_NAME], fs.f[F_SKIP]);
	raw_entries(c2, fs.f[F_HOSTS]);
	check_match(c2, fs.f[F_NAME], fs.f[F_SKIP]);

	if (fs.f[F_GLOB] != NULL && fs.f[F_NAME] != NULL) {
		rc = config_glob(fs.f[F_GLOB], fs.f[F_NAME]);
		FUZZ_ASSERT(rc == 0 || rc == 1);
		if (ref_cheap(fs.f[F_GLOB], fs.f[F_NAME]))
			FUZZ_ASSERT(rc == ref_glob(fs.f[F_GLOB], fs.f[F_NAME]));
	}
	free(c2);
	free(c);
	fields_free(&fs);
	return 0;
}
