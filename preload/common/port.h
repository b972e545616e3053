/*
 * port: the one decimal TCP port parser, for every place a port arrives as
 * text: the configuration, -epmd_port, INFO bodies, epmd's NAMES replies and
 * erlfwd-server's options.  Pure; no I/O.
 */
#ifndef ERLFWD_PORT_H
#define ERLFWD_PORT_H

#include <stddef.h>
#include <stdint.h>

#define PORT_DIGITS_MAX	5	/* "65535" */

/*
 * port_parse: the port written in exactly len bytes of s: 1 to
 * PORT_DIGITS_MAX decimal digits (no sign, no space) for a value from 1 to
 * 65535, into *port.  s need not be NUL-terminated.  Returns 0, or -1
 * (*port untouched).
 */
int	port_parse(const char *s, size_t len, uint16_t *port);

#endif /* ERLFWD_PORT_H */
