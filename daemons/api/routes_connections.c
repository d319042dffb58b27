/* routes_connections.c — GET /api/persons/{id}/connection: whom a person crossed paths with.
 *
 * Three statements answer it (see connection_queries.c): the POC's semantics (distance
 * only), co-presence computed live, and co-presence read from the connector's precomputed
 * `connection` table, which holds every pair within connector.radius_m and window_min and
 * so answers any narrower question exactly.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "connection_queries.h"
#include "params.h"
#include "person_json.h"

struct connection_query {
    int32_t person;
    int64_t start_us, end_us;
    double distance;
    int has_window, has_limit;
    int32_t window, limit;
    int64_t after_person;
};

static int parse_query(struct udc_http_request *req, struct api *api, struct connection_query *q,
                       char *err, size_t errlen)
{
    memset(q, 0, sizeof *q);
    const char *c = udc_http_query(req, "cursor");
    if (param_id(udc_http_param(req, "id"), "id", &q->person, err, errlen) != 0 ||
        param_date(udc_http_query(req, "start_date"), "start_date", 1, NULL, &q->start_us, err,
                   errlen) != 0 ||
        param_date(udc_http_query(req, "end_date"), "end_date", 1, NULL, &q->end_us, err, errlen) !=
            0 ||
        param_distance(udc_http_query(req, "distance"), 5.0, &q->distance, err, errlen) != 0 ||
        param_window(udc_http_query(req, "window"), &q->has_window, &q->window, err, errlen) != 0 ||
        param_limit(udc_http_query(req, "limit"), api->cfg->api.page_max, &q->has_limit, &q->limit,
                    err, errlen) != 0 ||
        (c && param_cursor_id(c, &q->after_person, err, errlen) != 0))
        return -1;
    if (q->end_us < q->start_us) {
        snprintf(err, errlen, "end_date must not be before start_date");
        return -1;
    }
    return 0;
}

/* Which statement answers q: precomputed pairs cover every question within the connector's
 * radius and window. */
static const char *choose_statement(const struct api *api, const struct connection_query *q)
{
    if (!q->has_window)
        return CONNECTIONS_POC;
    if (q->distance <= api->cfg->connector.radius_m && q->window <= api->cfg->connector.window_min)
        return CONNECTIONS_PRECOMPUTED;
    return CONNECTIONS_LIVE;
}

static void connection_json(struct jbuf *j, const PGresult *res, int row)
{
    jbuf_obj_begin(j);
    jbuf_key(j, "person");
    person_json(j, res, row, CONN_COL_PERSON);
    jbuf_key(j, "location");
    location_row_json(j, res, row, CONN_COL_LOCATION);
    jbuf_time(j, "first_seen", api_col_int(res, row, CONN_COL_FIRST_SEEN));
    jbuf_time(j, "last_seen", api_col_int(res, row, CONN_COL_LAST_SEEN));
    jbuf_num(j, "min_distance_m", strtod(PQgetvalue(res, row, CONN_COL_MIN_DISTANCE), NULL));
    jbuf_int(j, "count", api_col_int(res, row, CONN_COL_COUNT));
    jbuf_obj_end(j);
}

static int list_connections(struct udc_http_request *req, void *userdata)
{
    struct api *api = userdata;
    struct connection_query q;
    char err[160], p[7][32];
    int rc = 0;
    if (parse_query(req, api, &q, err, sizeof err) != 0)
        return api_bad_request(req, err);
    snprintf(p[0], sizeof p[0], "%d", (int)q.person);
    snprintf(p[1], sizeof p[1], "%" PRId64, q.start_us);
    snprintf(p[2], sizeof p[2], "%" PRId64, q.end_us);
    snprintf(p[3], sizeof p[3], "%.17g", q.distance);
    snprintf(p[4], sizeof p[4], "%d", (int)q.window);
    snprintf(p[5], sizeof p[5], "%" PRId64, q.after_person);
    snprintf(p[6], sizeof p[6], "%d", (int)q.limit + 1);
    const char *params[] = {p[0], p[1], p[2], p[3], p[4], p[5], q.has_limit ? p[6] : NULL};
    const char *stmt = choose_statement(api, &q);

    struct udc_db *db = api_db(api, req, &rc);
    if (!db)
        return rc;
    const char *person = p[0];
    PGresult *res = api_query(db, req, "person_by_id", 1, &person, &rc);
    if (res && PQntuples(res) == 0) {
        PQclear(res);
        res = NULL;
        rc = udc_http_respond_error(req, 404, "person not found");
    } else if (res) {
        PQclear(res);
        res = api_query(db, req, stmt, 7, params, &rc);
    }
    api_db_done(api, db);
    if (!res)
        return rc;
    int rows = PQntuples(res);
    int shown = q.has_limit && rows > q.limit ? q.limit : rows;
    struct jbuf j = {0};
    jbuf_array_begin(&j);
    for (int r = 0; r < shown; r++)
        connection_json(&j, res, r);
    jbuf_array_end(&j);
    if (shown < rows) {
        char next[24];
        snprintf(next, sizeof next, "%" PRId64, api_col_int(res, shown - 1, CONN_COL_PERSON));
        api_next_page(req, next);
    }
    udc_http_add_header(req, "X-Connections-Source",
                        strcmp(stmt, CONNECTIONS_PRECOMPUTED) == 0 ? "precomputed" : "live");
    PQclear(res);
    return api_respond(req, 200, &j);
}

int api_routes_connections(struct udc_http_server *s, struct api *api)
{
    return udc_http_route(s, "GET", "/api/persons/{id}/connection", list_connections, api);
}
