/* udc-writer — stores location pings from udc.locations.store in PostGIS, in batches, and
 * announces each stored batch on udc.events (location.stored). See writer.h for the order of
 * steps that makes it safe to kill at any point. */
#include <stdbool.h>
#include <stdio.h>

#include "daemon.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "writer.h"

static bool admin_ready(void *ctx, char *reason, size_t len)
{
    return writer_ready(ctx, reason, len);
}

int main(int argc, char **argv)
{
    struct udc_daemon d;
    int rc = udc_daemon_begin(&d, "writer", argc, argv, NULL);
    if (rc >= 0)
        return rc;

    struct writer w;
    if (writer_init(&w, &d) != 0) {
        udc_log_error("cannot initialise", "%s", "");
        udc_daemon_end(&d);
        return 1;
    }
    struct udc_http_server *admin =
        udc_http_admin_start(d.cfg.writer.admin_listen, admin_ready, &w);
    if (!admin) {
        writer_free(&w);
        udc_daemon_end(&d);
        return 1;
    }
    rc = writer_run(&w);
    udc_http_stop(admin);
    writer_free(&w);
    udc_log_info("stopped", "%s", "");
    udc_daemon_end(&d);
    return rc;
}
