/* daemon.h — what every udc-* main() does first and last: the command line, the
 * configuration, the log, signals, and SIGHUP reloads.
 *
 *   struct udc_daemon d;
 *   int rc = udc_daemon_begin(&d, "writer", argc, argv, NULL);
 *   if (rc >= 0)
 *       return rc;              // -h, -V, -t, or a bad command line / config: exit with rc
 *   ... run, calling udc_daemon_poll_reload(&d) from the main loop ...
 *   udc_daemon_end(&d);
 *
 * Command line: -c FILE (default udc_config_default_path()), -t (check the file, exit 0/1),
 * -h, -V, plus the daemon's own long flags (e.g. "backfill" → --backfill), which set bits
 * in d.flags in the order given.
 */
#ifndef UDC_DAEMON_H
#define UDC_DAEMON_H

#include "config.h"

#define UDC_VERSION "0.1.0"

struct udc_daemon {
    const char *name;        /* "writer": also the log ident and the config section */
    const char *config_path; /* NULL: the default */
    unsigned flags;          /* bit i: extra_flags[i] was given */
    struct udc_config cfg;
};

/* Returns -1 when the daemon should run (d->cfg loaded, log level set, signals installed),
 * else the exit code to return from main. extra_flags is NULL-terminated or NULL. */
int udc_daemon_begin(struct udc_daemon *d, const char *name, int argc, char **argv,
                     const char *const *extra_flags);

/* On a pending SIGHUP: re-read the file, apply the log level, and return 1 with the new
 * configuration in *fresh (caller frees it with udc_config_free) so the daemon can apply
 * what else it can; an invalid file is logged and changes nothing (returns -1).
 * Returns 0 when no reload is pending. fresh may be NULL. */
int udc_daemon_poll_reload(struct udc_daemon *d, struct udc_config *fresh);

void udc_daemon_end(struct udc_daemon *d);

#endif
