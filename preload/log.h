/*
 * log: liberlfwd's voice on stderr.  Silent unless ERLFWD_DEBUG is set, but
 * for the few lines a user must see (bad configuration, a tunnel that does
 * not answer).  Each line is one write(2), prefixed "erlfwd[PID]: ", and
 * leaves errno as it found it.
 */
#ifndef ERLFWD_LOG_H
#define ERLFWD_LOG_H

void	log_set_debug(int on);

/* log_debug: a decision, when ERLFWD_DEBUG is set. */
void	log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* log_warn: a line the user must see. */
void	log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* ERLFWD_LOG_H */
