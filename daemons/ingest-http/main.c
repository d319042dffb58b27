/* udc-ingest-http — phones' door: validates location pings posted over HTTP and publishes
 * them to udc.locations, answering 202 only once the broker has confirmed each one. */
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>

#include "daemon.h"
#include "handlers.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "publisher.h"
#include "service.h"

static bool ingest_ready(void *ctx, char *reason, size_t len)
{
    struct ingest *in = ctx;
    if (publisher_ready(in->publisher))
        return true;
    snprintf(reason, len, "broker channel not open");
    return false;
}

static struct udc_http_server *start_http(struct ingest *in)
{
    const struct udc_ingest_http_config *c = &in->cfg->ingest_http;
    char err[256] = "";
    struct udc_http_options opts = {
        .listen = (const char *const *)c->listen,
        .nlisten = c->listen_count,
        .threads = (unsigned)c->threads,
        .body_max = (size_t)c->body_max,
        .connection_timeout_s = (unsigned)c->connection_timeout_s,
        .cors = true,
        /* Pings are small: 8 KiB holds a phone's request and our answer, and libmicrohttpd
         * zeroes this buffer after every request (32 KiB by default). */
        .connection_memory = 8192,
        /* Requests waiting for a confirm get it, or 503, within the confirm timeout. */
        .drain_timeout_ms = (unsigned)in->cfg->amqp.confirm_timeout_ms + 2000,
    };
    struct udc_http_server *s = udc_http_new(&opts, err, sizeof err);
    if (!s || ingest_routes(s, in) != 0 ||
        udc_http_mount_health(s, ingest_ready, in, udc_metrics_default()) != 0 ||
        udc_http_start(s, err, sizeof err) != 0) {
        udc_log_error("cannot start the HTTP server", "error=\"%s\"", err);
        if (s)
            udc_http_stop(s);
        return NULL;
    }
    for (size_t i = 0; i < c->listen_count; i++)
        udc_log_info("listening", "address=%s", c->listen[i]);
    return s;
}

/* The main thread only watches signals, the watchdog and readiness. */
static void supervise(struct udc_daemon *d, struct ingest *in)
{
    int announced = 0, was_ready = -1;
    while (!udc_service_should_stop()) {
        struct pollfd p = {.fd = udc_service_wake_fd(), .events = POLLIN};
        poll(&p, 1, 500);
        udc_service_drain_wake_fd();
        udc_daemon_poll_reload(d, NULL);
        int ready = publisher_ready(in->publisher);
        if (ready != was_ready) {
            udc_service_status(ready ? "accepting pings" : "waiting for the broker");
            was_ready = ready;
        }
        if (ready && !announced) {
            udc_service_ready();
            announced = 1;
        }
        udc_service_watchdog(1);
    }
    udc_service_stopping();
}

int main(int argc, char **argv)
{
    struct udc_daemon d;
    int rc = udc_daemon_begin(&d, "ingest-http", argc, argv, NULL);
    if (rc >= 0)
        return rc;

    struct ingest in = {.cfg = &d.cfg};
    in.publisher = publisher_new(&d.cfg);
    if (!in.publisher || publisher_start(in.publisher) != 0) {
        publisher_free(in.publisher);
        udc_daemon_end(&d);
        return 1;
    }
    ingest_metrics_init(&in);
    struct udc_http_server *server = start_http(&in);
    if (server) {
        supervise(&d, &in);
        udc_log_info("stopping: finishing requests in flight", "%s", "");
        udc_http_stop(server);
    }
    publisher_stop(in.publisher);
    publisher_free(in.publisher);
    udc_log_info("stopped", "%s", "");
    udc_daemon_end(&d);
    return server ? 0 : 1;
}
