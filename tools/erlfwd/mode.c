/*
 * mode.c: preload or library-free (mode.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "launch.h"
#include "mode.h"

int
mode_pick(struct mode *m, int no_preload, char *err, size_t cap)
{
	const char *env = getenv("ERLFWD_PRELOAD");
	int found;

	memset(m, 0, sizeof(*m));
	if (env != NULL && *env != '\0' && strcmp(env, "on") != 0 &&
	    strcmp(env, "off") != 0 && strcmp(env, "auto") != 0) {
		snprintf(err, cap, "ERLFWD_PRELOAD='%.40s': use on, off or "
		    "auto", env);
		return -1;
	}
	m->kind = MODE_FLAGS;
	if (no_preload) {
		m->why = "asked with --no-preload";
		return 0;
	}
	if (env != NULL && strcmp(env, "off") == 0) {
		m->why = "asked with ERLFWD_PRELOAD=off";
		return 0;
	}
	found = launch_find_lib(m->lib, sizeof(m->lib),
	    getenv("ERLFWD_LIB")) == 0;
#ifndef __linux__
	/* The library is a Linux one; SIP strips DYLD_* on macOS anyway. */
	found = 0;
#endif
	if (env != NULL && strcmp(env, "on") == 0) {
		if (!found) {
			snprintf(err, cap, "ERLFWD_PRELOAD=on, but %s is not "
			    "found beside this program or in its lib/erlfwd "
			    "(set ERLFWD_LIB, or use --no-preload)",
			    LAUNCH_LIB_NAME);
			return -1;
		}
		m->kind = MODE_PRELOAD;
		m->why = "asked with ERLFWD_PRELOAD=on";
		return 0;
	}
#ifndef __linux__
	m->why = "this system has no LD_PRELOAD that reaches erl";
	return 0;
#else
	if (!found) {
		m->why = LAUNCH_LIB_NAME " is not installed beside erlfwd";
		return 0;
	}
	m->kind = MODE_PRELOAD;
	m->why = "Linux, with " LAUNCH_LIB_NAME;
	return 0;
#endif
}

const char *
mode_name(enum mode_kind k)
{
	return k == MODE_PRELOAD ? "preload" : "library-free";
}
