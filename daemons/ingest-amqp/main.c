/* udc-ingest-amqp — the gateway between partner systems and the pipeline: validates what
 * partners publish to udc.partner, republishes the valid pings to udc.locations as
 * partner:<name> and dead-letters the rest with a reason. See gateway.h for why it is safe
 * to kill at any point, partner_message.h for how a sender is identified. */
#include <stdbool.h>
#include <stdio.h>

#include "daemon.h"
#include "gateway.h"
#include "http.h"
#include "log.h"
#include "metrics.h"

static bool admin_ready(void *ctx, char *reason, size_t len)
{
    return gateway_ready(ctx, reason, len);
}

int main(int argc, char **argv)
{
    struct udc_daemon d;
    int rc = udc_daemon_begin(&d, "ingest-amqp", argc, argv, NULL);
    if (rc >= 0)
        return rc;

    struct gateway g;
    if (gateway_init(&g, &d) != 0) {
        udc_log_error("cannot initialise", "%s", "");
        gateway_free(&g);
        udc_daemon_end(&d);
        return 1;
    }
    struct udc_http_server *admin =
        udc_http_admin_start(d.cfg.ingest_amqp.admin_listen, admin_ready, &g);
    if (!admin) {
        gateway_free(&g);
        udc_daemon_end(&d);
        return 1;
    }
    rc = gateway_run(&g);
    udc_http_stop(admin);
    gateway_free(&g);
    udc_log_info("stopped", "%s", "");
    udc_daemon_end(&d);
    return rc;
}
