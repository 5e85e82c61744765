/*
 * What the test bed's small servers (sp-tcpsrv, sp-httpsrv) share: error
 * lines with the program's name, strict number parsing, taking every
 * descriptor the kernel allows, and the pid file.
 */
#ifndef SP_SRVUTIL_H
#define SP_SRVUTIL_H

/* The program's name for error lines; set by main. */
extern const char *srv_prog;

/* "PROG: message" on stderr. */
void logerr(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Decimal, no sign, at most @max: 0, or -EINVAL. */
int parse_ulong(const char *s, unsigned long max, unsigned long *out);
/* Connections are limited by descriptors: take all the kernel allows
 * (the hard limit needs CAP_SYS_RESOURCE; else up to the hard limit),
 * and say so when that is under @want. */
void raise_nofile(unsigned long want);
/* Our pid in @path: 0, or -1 after logerr. */
int write_pidfile(const char *path);

#endif /* SP_SRVUTIL_H */
