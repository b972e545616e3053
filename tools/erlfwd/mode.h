/*
 * mode: how the local node reaches the remote host's nodes.
 *
 *   MODE_PRELOAD  liberlfwd.so in LD_PRELOAD hooks its resolver, connect
 *                 and bind calls (Linux only);
 *   MODE_FLAGS    nothing of erlfwd in the node but flags: OTP's own
 *                 -epmd_module seam, with erlang/erlfwd_epmd.erl asking the
 *                 agent (flags.h).  Any OS.
 *
 * The library-free mode is asked for with --no-preload or ERLFWD_PRELOAD=
 * off, and is the default wherever the preload cannot work: every OS but
 * Linux (macOS strips DYLD_* variables whenever a protected program such
 * as /bin/sh starts, and erl, iex and elixir are shell scripts), a Linux
 * without the library, and a Linux whose erl does not load it (a musl or
 * a 32-bit erl: the loader says so and goes on without it), which is asked
 * of erl once per pair of files and remembered in the cache.
 * ERLFWD_PRELOAD=on insists on the preload.
 */
#ifndef ERLFWD_MODE_H
#define ERLFWD_MODE_H

#include <limits.h>
#include <stddef.h>

enum mode_kind {
	MODE_PRELOAD = 1,
	MODE_FLAGS = 2,
};

struct mode {
	enum mode_kind	 kind;
	const char	*why;		/* for people: why this mode */
	char		 lib[PATH_MAX];	/* MODE_PRELOAD: the library */
};

/*
 * mode_pick: the mode for this session, from --no-preload (no_preload),
 * ERLFWD_PRELOAD and whether the library is found (launch_find_lib with
 * ERLFWD_LIB).  Returns 0, or -1 with a one-line reason in err when the
 * asked mode cannot be had (ERLFWD_PRELOAD=on without the library, or a
 * value that is neither on, off nor auto).
 */
int	mode_pick(struct mode *m, int no_preload, char *err, size_t cap);

/*
 * mode_probe: whether the erl at that path loads lib: the node started
 * with it preloaded looks at its own memory map (bounded by timeout_ms).
 * Returns 1 when it does, 0 when it does not (the loader's words, or
 * erl's, in why: cap bytes), -1 when erl could not tell (why says).
 */
int	mode_probe(const char *erl, const char *lib, int timeout_ms, char *why,
	    size_t cap);

/* mode_name: "preload" or "library-free". */
const char *mode_name(enum mode_kind k);

#endif /* ERLFWD_MODE_H */
