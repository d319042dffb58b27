/* udc-api — the REST API (a drop-in for the POC's) and the web page, over a pool of
 * PostgreSQL connections. */
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "connection_queries.h"
#include "daemon.h"
#include "log.h"
#include "metrics.h"
#include "persons_cache.h"
#include "service.h"

extern const struct udc_db_statement person_statements[], location_statements[],
    connection_statements[];
extern const size_t person_statement_count, location_statement_count, connection_statement_count;

static struct udc_db_statement all_statements[64];

size_t api_statements(const struct udc_db_statement **out)
{
    const struct udc_db_statement *groups[] = {person_statements, location_statements,
                                               connection_statements};
    const size_t counts[] = {person_statement_count, location_statement_count,
                             connection_statement_count};
    size_t n = 0;
    for (size_t g = 0; g < 3; g++)
        for (size_t i = 0; i < counts[g] && n < sizeof all_statements / sizeof all_statements[0];
             i++)
            all_statements[n++] = groups[g][i];
    *out = all_statements;
    return n;
}

static bool api_ready(void *ctx, char *reason, size_t len)
{
    struct api *api = ctx;
    struct udc_db *db = udc_db_pool_acquire(api->pool, 1000);
    int ok = db && udc_db_ping(db) == 0;
    if (db)
        udc_db_pool_release(api->pool, db);
    if (!ok)
        snprintf(reason, len, "database unreachable");
    return ok;
}

static struct udc_http_server *start_http(struct api *api)
{
    const struct udc_api_config *c = &api->cfg->api;
    char err[256] = "";
    struct udc_http_options opts = {
        .listen = (const char *const *)c->listen,
        .nlisten = c->listen_count,
        .threads = (unsigned)c->threads,
        .body_max = 64 * 1024,
        .connection_timeout_s = (unsigned)c->connection_timeout_s,
        .cors = true,
    };
    struct udc_http_server *s = udc_http_new(&opts, err, sizeof err);
    if (!s || api_routes_persons(s, api) || api_routes_locations(s, api) ||
        api_routes_connections(s, api) || api_routes_static(s, api) ||
        udc_http_mount_health(s, api_ready, api, udc_metrics_default()) ||
        udc_http_start(s, err, sizeof err) != 0) {
        udc_log_error("cannot start the HTTP server", "error=\"%s\"", err);
        if (s)
            udc_http_stop(s);
        return NULL;
    }
    return s;
}

static double pool_in_use(void *ctx)
{
    size_t in_use, size;
    udc_db_pool_stats(ctx, &in_use, &size);
    return (double)in_use;
}

static double pool_size(void *ctx)
{
    size_t in_use, size;
    udc_db_pool_stats(ctx, &in_use, &size);
    return (double)size;
}

static void supervise(struct udc_daemon *d)
{
    udc_service_ready();
    udc_service_status("serving");
    while (!udc_service_should_stop()) {
        struct pollfd p = {.fd = udc_service_wake_fd(), .events = POLLIN};
        poll(&p, 1, 1000);
        udc_service_drain_wake_fd();
        udc_daemon_poll_reload(d, NULL);
        udc_service_watchdog(1);
    }
    udc_service_stopping();
}

int main(int argc, char **argv)
{
    struct udc_daemon d;
    int rc = udc_daemon_begin(&d, "api", argc, argv, NULL);
    if (rc >= 0)
        return rc;

    const struct udc_db_statement *stmts;
    size_t n = api_statements(&stmts);
    /* Every HTTP thread (threads per listen address) may hold a connection at once. */
    size_t size = (size_t)d.cfg.api.threads * d.cfg.api.listen_count;
    struct api api = {.cfg = &d.cfg};
    api.pool = udc_db_pool_new(d.cfg.db.url, stmts, n, size, d.cfg.db.connect_timeout_s,
                               d.cfg.db.statement_timeout_ms);
    if (api.pool && udc_db_pool_set_setup_sql(api.pool, connection_session_setup,
                                              connection_session_setup_count) != 0) {
        udc_db_pool_free(api.pool);
        api.pool = NULL;
    }
    if (!api.pool) {
        udc_log_error("cannot create the database pool", "%s", "");
        udc_daemon_end(&d);
        return 1;
    }
    api.persons = persons_cache_new();
    if (!api.persons) {
        udc_log_error("out of memory", "%s", "");
        udc_db_pool_free(api.pool);
        udc_daemon_end(&d);
        return 1;
    }
    udc_gauge_fn_new(udc_metrics_default(), "udc_api_db_pool_in_use",
                     "Database connections lent to requests", pool_in_use, api.pool);
    udc_gauge_fn_new(udc_metrics_default(), "udc_api_db_pool_size", "Database connections",
                     pool_size, api.pool);
    struct udc_http_server *server = start_http(&api);
    if (server) {
        for (size_t i = 0; i < d.cfg.api.listen_count; i++)
            udc_log_info("listening", "address=%s", d.cfg.api.listen[i]);
        supervise(&d);
        udc_http_stop(server);
    }
    udc_metrics_remove(udc_metrics_default(), "udc_api_db_pool_in_use");
    udc_metrics_remove(udc_metrics_default(), "udc_api_db_pool_size");
    udc_db_pool_free(api.pool);
    persons_cache_free(api.persons);
    udc_log_info("stopped", "%s", "");
    udc_daemon_end(&d);
    return server ? 0 : 1;
}
