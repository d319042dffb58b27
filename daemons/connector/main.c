/* udc-connector — precomputes co-presence: pairs of pings of different people close in
 * space and time, from location.stored events (or, with --backfill, from rows already
 * stored). */
#include <stdbool.h>
#include <stdio.h>

#include "connector.h"
#include "http.h"
#include "log.h"

static bool admin_ready(void *ctx, char *reason, size_t len)
{
    return connector_ready(ctx, reason, len);
}

int main(int argc, char **argv)
{
    static const char *const flags[] = {"backfill", NULL};
    struct udc_daemon d;
    int rc = udc_daemon_begin(&d, "connector", argc, argv, flags);
    if (rc >= 0)
        return rc;
    struct connector c;
    if (connector_init(&c, &d) != 0) {
        udc_log_error("cannot initialise", "%s", "");
        udc_daemon_end(&d);
        return 1;
    }
    if (d.flags & 1) {
        rc = connector_backfill(&c);
    } else {
        struct udc_http_server *admin =
            udc_http_admin_start(d.cfg.connector.admin_listen, admin_ready, &c);
        rc = admin ? connector_run(&c) : 1;
        if (admin)
            udc_http_stop(admin);
    }
    connector_free(&c);
    udc_log_info("stopped", "%s", "");
    udc_daemon_end(&d);
    return rc;
}
