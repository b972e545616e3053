/*
 * safe: text from the other side, made safe for the user's terminal.  Node
 * names (from the distribution handshake, from epmd's NAMES reply through a
 * SOCKS5 route), the host name and version in an INFO reply, and anything a
 * foreign service answers are chosen by whoever controls the remote end; a
 * terminal takes some bytes as commands (ESC, CSI as the C1 byte 0x9b or
 * UTF-8 c2 9b, OSC ...).  Every line the erlfwd command prints that may hold
 * such text goes through safe_line().
 */
#ifndef ERLFWD_SAFE_H
#define ERLFWD_SAFE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#define SAFE_LINE_MAX	2048	/* one line before escaping */

/*
 * safe_text: copy the len bytes of in to out (cap bytes, NUL-terminated),
 * with every control byte (0x00-0x1f, 0x7f), every C1 control (0x80-0x9f
 * as a raw byte, or U+0080-U+009F in UTF-8) and every byte that is not part
 * of a well-formed UTF-8 sequence written as "\xNN"; the rest, printable
 * ASCII and well-formed UTF-8, is copied.  An escape or a character is
 * never cut: out ends before one that does not fit.  Returns the length of
 * out.
 */
size_t	safe_text(char *out, size_t cap, const char *in, size_t len);

/*
 * safe_line: format one line (fmt has no newline), pass all of it through
 * safe_text and write it to f with a newline.
 */
void	safe_line(FILE *f, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/* safe_vline: safe_line with a va_list. */
void	safe_vline(FILE *f, const char *fmt, va_list ap);

#endif /* ERLFWD_SAFE_H */
