/* http_health.c — GET /health, /ready and /metrics, mounted by every daemon. See http.h. */
#include "http_internal.h"

#include <stdio.h>
#include <stdlib.h>

#include "log.h"
#include "metrics.h"

struct health_ctx {
    udc_http_ready_fn ready_fn;
    void *ready_ctx;
    struct udc_metrics *registry;
};

/* Owned by the server (server->health), freed by udc_http_stop. */
static struct health_ctx *health_ctx_new(udc_http_ready_fn fn, void *ctx, struct udc_metrics *reg)
{
    struct health_ctx *h = calloc(1, sizeof *h);
    if (h != NULL)
        *h = (struct health_ctx){fn, ctx, reg ? reg : udc_metrics_default()};
    return h;
}

static int get_health(struct udc_http_request *req, void *userdata)
{
    (void)userdata;
    static const char body[] = "\"healthy\"";
    return udc_http_respond_json(req, 200, body, sizeof body - 1);
}

static int get_ready(struct udc_http_request *req, void *userdata)
{
    struct health_ctx *h = userdata;
    char reason[256] = "not ready";
    if (h->ready_fn == NULL || h->ready_fn(h->ready_ctx, reason, sizeof reason)) {
        static const char body[] = "{\"ready\":true}";
        return udc_http_respond_json(req, 200, body, sizeof body - 1);
    }
    char quoted[sizeof reason * 6 + 3];
    udc_http_json_quote(quoted, sizeof quoted, reason);
    char body[sizeof quoted + 32];
    int n = snprintf(body, sizeof body, "{\"ready\":false,\"reason\":%s}", quoted);
    udc_http_add_header(req, "Retry-After", "5");
    return udc_http_respond_json(req, 503, body, (size_t)n);
}

static int get_metrics(struct udc_http_request *req, void *userdata)
{
    struct health_ctx *h = userdata;
    size_t len = 0;
    char *text = udc_metrics_render(h->registry, &len);
    if (text == NULL)
        return udc_http_respond_error(req, 500, "cannot render metrics");
    int rc = udc_http_respond(req, 200, UDC_METRICS_CONTENT_TYPE, text, len);
    free(text);
    return rc;
}

int udc_http_mount_health(struct udc_http_server *server, udc_http_ready_fn ready_fn,
                          void *ready_ctx, struct udc_metrics *registry)
{
    if (server == NULL || server->health != NULL)
        return -1;
    struct health_ctx *h = health_ctx_new(ready_fn, ready_ctx, registry);
    if (h == NULL)
        return -1;
    server->health = h;
    if (udc_http_route(server, "GET", "/health", get_health, h) != 0 ||
        udc_http_route(server, "GET", "/ready", get_ready, h) != 0 ||
        udc_http_route(server, "GET", "/metrics", get_metrics, h) != 0)
        return -1;
    return 0;
}

struct udc_http_server *udc_http_admin_start(const char *listen, udc_http_ready_fn ready_fn,
                                             void *ready_ctx)
{
    char err[256] = "";
    const char *addrs[] = {listen};
    struct udc_http_options opts = {.listen = addrs, .nlisten = 1, .threads = 1, .cors = false};
    struct udc_http_server *admin = udc_http_new(&opts, err, sizeof err);
    if (!admin || udc_http_mount_health(admin, ready_fn, ready_ctx, udc_metrics_default()) != 0 ||
        udc_http_start(admin, err, sizeof err) != 0) {
        udc_log_error("cannot start the admin server", "listen=%s error=\"%s\"", listen, err);
        if (admin)
            udc_http_stop(admin);
        return NULL;
    }
    udc_log_info("admin server listening", "listen=%s", listen);
    return admin;
}
