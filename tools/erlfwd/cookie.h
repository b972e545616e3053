/*
 * cookie: find the Erlang cookie the erlfwd command should use, and read it
 * the way erl does.  The cookie never leaves this module in a message: errors
 * name where it came from, never what it is.
 *
 * Order: --cookie-file FILE, $ERLFWD_COOKIE, $RELEASE_COOKIE, ~/.erlang.cookie.
 */
#ifndef ERLFWD_COOKIE_H
#define ERLFWD_COOKIE_H

#include <stddef.h>

#define COOKIE_MAX	256	/* an atom: 255 characters, and the NUL */
#define COOKIE_FILE_MAX	4096	/* a cookie file larger than this is not one */

enum cookie_source {
	COOKIE_NONE = 0,	/* none of the sources has one */
	COOKIE_FILE,		/* --cookie-file */
	COOKIE_ENV_ERLFWD,	/* $ERLFWD_COOKIE */
	COOKIE_ENV_RELEASE,	/* $RELEASE_COOKIE */
	COOKIE_HOME,		/* ~/.erlang.cookie, which erl reads itself */
};

/* Where to look; NULL or "" means absent. */
struct cookie_env {
	const char	*file;		/* --cookie-file */
	const char	*erlfwd;	/* $ERLFWD_COOKIE */
	const char	*release;	/* $RELEASE_COOKIE */
	const char	*home;		/* $HOME */
};

struct cookie {
	enum cookie_source	source;
	char			value[COOKIE_MAX];
	char			origin[4200];	/* for messages: "--cookie-file
						 * F", "$ERLFWD_COOKIE", ... */
};

/*
 * cookie_parse: the cookie in len bytes of buf, as erl reads a cookie file:
 * printable ASCII (space included), then nothing but spaces, CR and LF.
 * Writes it to out (cap bytes).  Returns 0, or -1 when it is empty, too long
 * or has other characters.
 */
int	cookie_parse(const char *buf, size_t len, char *out, size_t cap);

/*
 * cookie_find: take the first source in env that is set (a file that does
 * not exist counts as unset only for ~/.erlang.cookie).  Returns 0 with
 * c->source COOKIE_NONE when there is none, 0 with the cookie, or -1 with a
 * message in err that names the source and never the cookie.
 */
int	cookie_find(struct cookie *c, const struct cookie_env *env, char *err,
	    size_t errlen);

/* cookie_wipe: clear c's value so that it does not linger in memory. */
void	cookie_wipe(struct cookie *c);

#endif /* ERLFWD_COOKIE_H */
