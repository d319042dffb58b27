/* routes_locations.c — GET /api/locations/{id}, GET /api/persons/{id}/locations (paged by
 * time), and POST /api/locations[/batch], which moved to udc-ingest-http: answered 307 so
 * that the POC's clients keep working (a 307 is replayed with the same method and body). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "params.h"
#include "person_json.h"
#include "stmt_params.h"

/* Latitude is y, longitude x; float8 text output is the shortest exact form. */
#define LOCATION_COLUMNS                                                                           \
    "id, person_id, ST_Y(coordinate::geometry)::text, ST_X(coordinate::geometry)::text, "          \
    "(extract(epoch FROM creation_time) * 1000000)::int8"

const struct udc_db_statement location_statements[] = {
    {"location_by_id", "SELECT " LOCATION_COLUMNS " FROM location WHERE id = $1::int8", 1},
    /* $1 person, [$2, $3) µs window (NULL: unbounded), after ($4 µs, $5 id), $6 limit. */
    {"person_locations",
     "SELECT " LOCATION_COLUMNS " FROM location"
     " WHERE person_id = $1::int"
     "   AND creation_time >= COALESCE(timestamptz 'epoch' + $2::int8 * interval '1 microsecond', "
     "'-infinity')"
     "   AND creation_time < COALESCE(timestamptz 'epoch' + $3::int8 * interval '1 microsecond', "
     "'infinity')"
     "   AND ($4::int8 IS NULL OR (creation_time, id) >"
     "        (timestamptz 'epoch' + $4::int8 * interval '1 microsecond', $5::int8))"
     " ORDER BY creation_time, id LIMIT $6::int",
     6},
};
const size_t location_statement_count = sizeof location_statements / sizeof location_statements[0];

static int get_location(struct udc_http_request *req, void *userdata)
{
    struct api *api = userdata;
    char err[160];
    int64_t id;
    int rc = 0;
    const char *text = udc_http_param(req, "id");
    if (param_cursor_id(text, &id, err, sizeof err) != 0 || id < 1)
        return api_bad_request(req, "id must be a positive integer");
    struct udc_db *db = api_db(api, req, &rc);
    if (!db)
        return rc;
    PGresult *res = api_query(db, req, "location_by_id", 1, &text, &rc);
    api_db_done(api, db);
    if (!res)
        return rc;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return udc_http_respond_error(req, 404, "location not found");
    }
    struct jbuf j = {0};
    location_row_json(&j, res, 0, 0);
    PQclear(res);
    return api_respond(req, 200, &j);
}

/* 404 unless the person exists; 0 when it does. */
static int person_exists(struct udc_db *db, struct udc_http_request *req, const char *id, int *rc)
{
    PGresult *res = api_query(db, req, "person_by_id", 1, &id, rc);
    if (!res)
        return -1;
    int found = PQntuples(res) > 0;
    PQclear(res);
    if (!found)
        *rc = udc_http_respond_error(req, 404, "person not found");
    return found ? 0 : -1;
}

struct locations_query {
    int32_t person;
    int has_start, has_end, has_limit, has_cursor;
    int64_t start_us, end_us, after_us, after_id;
    int32_t limit;
};

static int parse_locations_query(struct udc_http_request *req, struct api *api,
                                 struct locations_query *q, char *err, size_t errlen)
{
    memset(q, 0, sizeof *q);
    const char *c = udc_http_query(req, "cursor");
    q->has_cursor = c != NULL;
    if (param_id(udc_http_param(req, "id"), "id", &q->person, err, errlen) != 0 ||
        param_date(udc_http_query(req, "start_date"), "start_date", 0, &q->has_start, &q->start_us,
                   err, errlen) != 0 ||
        param_date(udc_http_query(req, "end_date"), "end_date", 0, &q->has_end, &q->end_us, err,
                   errlen) != 0 ||
        param_limit(udc_http_query(req, "limit"), api->cfg->api.page_max, &q->has_limit, &q->limit,
                    err, errlen) != 0 ||
        (c && param_cursor_pair(c, &q->after_us, &q->after_id, err, errlen) != 0))
        return -1;
    return 0;
}

static int list_person_locations(struct udc_http_request *req, void *userdata)
{
    struct api *api = userdata;
    struct locations_query q;
    char err[160];
    int rc = 0;
    if (parse_locations_query(req, api, &q, err, sizeof err) != 0)
        return api_bad_request(req, err);
    struct stmt_params p = {0};
    stmt_param_int(&p, q.person);
    stmt_param_opt_int(&p, q.has_start, q.start_us);
    stmt_param_opt_int(&p, q.has_end, q.end_us);
    stmt_param_opt_int(&p, q.has_cursor, q.after_us);
    stmt_param_int(&p, q.after_id);
    stmt_param_opt_int(&p, q.has_limit, (int64_t)q.limit + 1);

    struct udc_db *db = api_db(api, req, &rc);
    if (!db)
        return rc;
    PGresult *res = NULL;
    if (person_exists(db, req, p.values[0], &rc) == 0)
        res = api_query(db, req, "person_locations", p.n, p.values, &rc);
    api_db_done(api, db);
    if (!res)
        return rc;
    int rows = PQntuples(res);
    int shown = q.has_limit && rows > q.limit ? q.limit : rows;
    struct jbuf j = {0};
    jbuf_array_begin(&j);
    for (int r = 0; r < shown; r++)
        location_row_json(&j, res, r, 0);
    jbuf_array_end(&j);
    if (shown < rows) {
        char next[48];
        snprintf(next, sizeof next, "%" PRId64 ".%" PRId64, api_col_int(res, shown - 1, 4),
                 api_col_int(res, shown - 1, 0));
        api_next_page(req, next);
    }
    PQclear(res);
    return api_respond(req, 200, &j);
}

static int redirect_to_ingest(struct udc_http_request *req, void *userdata)
{
    struct api *api = userdata;
    char location[512];
    snprintf(location, sizeof location, "%s%s", api->cfg->api.ingest_url, udc_http_path(req));
    udc_http_add_header(req, "Location", location);
    return udc_http_respond_error(req, 307, "pings are taken by the ingest service at %s",
                                  location);
}

int api_routes_locations(struct udc_http_server *s, struct api *api)
{
    return udc_http_route(s, "GET", "/api/locations/{id}", get_location, api) ||
           udc_http_route(s, "GET", "/api/persons/{id}/locations", list_person_locations, api) ||
           udc_http_route(s, "POST", "/api/locations", redirect_to_ingest, api) ||
           udc_http_route(s, "POST", "/api/locations/batch", redirect_to_ingest, api);
}
