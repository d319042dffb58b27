/* routes_connections.c — GET /api/persons/{id}/connection: whom a person crossed paths with.
 *
 * Three statements answer it (see connection_queries.c): the POC's semantics (distance
 * only), co-presence computed live, and co-presence read from the connector's precomputed
 * `connection` table, which holds every pair within connector.radius_m and window_min and
 * so answers any narrower question exactly.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "connection_queries.h"
#include "connection_scan.h"
#include "log.h"
#include "params.h"
#include "person_json.h"
#include "stmt_params.h"

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

/* The same object from a summary of connection_scan.h and its person (columns 0-3 of row). */
static void summary_json(struct jbuf *j, const struct conn_summary *sum, const PGresult *people,
                         int row, const char *lat, const char *lon, double min_distance)
{
    jbuf_obj_begin(j);
    jbuf_key(j, "person");
    person_json(j, people, row, 0);
    jbuf_key(j, "location");
    jbuf_obj_begin(j);
    jbuf_int(j, "id", sum->first_id);
    jbuf_int(j, "person_id", sum->person);
    jbuf_str(j, "latitude", lat);
    jbuf_str(j, "longitude", lon);
    jbuf_time(j, "creation_time", sum->first_seen_us); /* the earliest ping's time */
    jbuf_obj_end(j);
    jbuf_time(j, "first_seen", sum->first_seen_us);
    jbuf_time(j, "last_seen", sum->last_seen_us);
    jbuf_num(j, "min_distance_m", min_distance);
    jbuf_int(j, "count", sum->count);
    jbuf_obj_end(j);
}

/* --- binary results --------------------------------------------------------------------- */

/* PostgreSQL's timestamps count µs from 2000-01-01. */
#define PG_EPOCH_US INT64_C(946684800000000)

static uint32_t be32(const char *p)
{
    const unsigned char *u = (const unsigned char *)p;
    return (uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 | (uint32_t)u[2] << 8 | u[3];
}

static int64_t be64(const char *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

static double le_or_be_double(const unsigned char *p, int little)
{
    uint64_t bits = 0;
    for (int i = 0; i < 8; i++)
        bits |= (uint64_t)p[little ? i : 7 - i] << (8 * i);
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
}

/* A 2D point's EWKB (geography::bytea): 0 with its latitude and longitude, or -1. */
static int ewkb_point(const char *b, int len, double *lat, double *lon)
{
    const unsigned char *u = (const unsigned char *)b;
    if (len < 21 || u[0] > 1)
        return -1;
    int little = u[0] == 1;
    uint32_t type =
        little ? (uint32_t)u[1] | (uint32_t)u[2] << 8 | (uint32_t)u[3] << 16 | (uint32_t)u[4] << 24
               : be32(b + 1);
    int has_srid = (type & 0x20000000u) != 0;
    if ((type & 0xC0000000u) != 0 || (type & 0x0FFFFFFFu) != 1 || len != (has_srid ? 25 : 21))
        return -1;
    const unsigned char *xy = u + (has_srid ? 9 : 5);
    *lon = le_or_be_double(xy, little);
    *lat = le_or_be_double(xy + 8, little);
    return 0;
}

/* Like api_query, with binary results (PQexecPrepared directly: udc_db has text only). */
static PGresult *query_binary(struct udc_db *db, struct udc_http_request *req, const char *stmt,
                              int n, const char *const *values, int *rc)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        PGconn *conn = udc_db_conn(db);
        if (!conn)
            break;
        PGresult *res = PQexecPrepared(conn, stmt, n, values, NULL, NULL, 1);
        if (PQresultStatus(res) == PGRES_TUPLES_OK)
            return res;
        const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
        int lost = PQstatus(conn) != CONNECTION_OK;
        /* Resources, cancels and timeouts (classes 53, 57) pass; anything else is a bug. */
        int transient = lost || !state || strncmp(state, "53", 2) == 0 ||
                        strncmp(state, "57", 2) == 0 || strncmp(state, "40", 2) == 0;
        if (!transient) {
            char quoted[600];
            udc_log_error("query failed", "statement=%s error=%s", stmt,
                          udc_log_quote(quoted, sizeof quoted, PQresultErrorMessage(res)));
            PQclear(res);
            *rc = udc_http_respond_error(req, 500, "internal error");
            return NULL;
        }
        PQclear(res);
        if (!lost)
            break;
        /* A pooled connection may have died while idle: reconnect and read again once. */
        udc_db_disconnect(db);
        if (udc_db_ensure(db) != 0)
            break;
    }
    udc_http_add_header(req, "Retry-After", "1");
    *rc = udc_http_respond_error(req, 503, "database unavailable");
    return NULL;
}

/* Rows of id int8, person_id int4 (when person_col >= 0), creation_time, EWKB point. */
static int read_ping(const PGresult *res, int row, int person_col, struct conn_ping *p)
{
    int time_col = person_col >= 0 ? 2 : 1, point_col = time_col + 1;
    if (PQgetlength(res, row, 0) != 8 || PQgetlength(res, row, time_col) != 8 ||
        (person_col >= 0 && PQgetlength(res, row, person_col) != 4))
        return -1;
    p->id = be64(PQgetvalue(res, row, 0));
    p->person = person_col >= 0 ? (int32_t)be32(PQgetvalue(res, row, person_col)) : 0;
    p->time_us = be64(PQgetvalue(res, row, time_col)) + PG_EPOCH_US;
    return ewkb_point(PQgetvalue(res, row, point_col), PQgetlength(res, row, point_col), &p->lat,
                      &p->lon);
}

/* --- SQL arrays as text ----------------------------------------------------------------- */

static void array_int(struct jbuf *b, const int64_t *v, size_t n)
{
    char num[24];
    jbuf_raw(b, "{");
    for (size_t i = 0; i < n; i++) {
        snprintf(num, sizeof num, i ? ",%" PRId64 : "%" PRId64, v[i]);
        jbuf_raw(b, num);
    }
    jbuf_raw(b, "}");
}

/* Field f of every pair (0 other's lat, 1 other's lon, 2 own lat, 3 own lon, 4 summary + 1). */
static void array_of_pairs(struct jbuf *b, const struct conn_pair *(*get)(const void *, size_t),
                           const void *s, size_t n, int f)
{
    char num[32];
    jbuf_raw(b, "{");
    for (size_t i = 0; i < n; i++) {
        const struct conn_pair *p = get(s, i);
        const double v[] = {p->other_lat, p->other_lon, p->own_lat, p->own_lon};
        if (f == 4)
            snprintf(num, sizeof num, i ? ",%zu" : "%zu", p->summary + 1);
        else
            snprintf(num, sizeof num, i ? ",%.17g" : "%.17g", v[f]);
        jbuf_raw(b, num);
    }
    jbuf_raw(b, "}");
}

static const struct conn_pair *band_pair(const void *s, size_t i)
{
    return conn_scan_band_pair(s, i);
}

static const struct conn_pair *closest_pair(const void *s, size_t i)
{
    return conn_scan_closest_pair(s, i);
}

/* --- the POC question through connection_scan ---------------------------------------------- */

enum scan_outcome { SCAN_ANSWERED, SCAN_UNSUPPORTED, SCAN_FAILED };

static struct conn_scan *scan_own(struct udc_db *db, struct udc_http_request *req,
                                  const struct connection_query *q, enum scan_outcome *out, int *rc)
{
    struct stmt_params p = {0};
    stmt_param_int(&p, q->person);
    stmt_param_int(&p, q->start_us);
    stmt_param_int(&p, q->end_us);
    PGresult *res = query_binary(db, req, CONNECTIONS_OWN, p.n, p.values, rc);
    if (!res)
        return NULL;
    int n = PQntuples(res), unsupported = 0;
    struct conn_ping *own = malloc((size_t)(n ? n : 1) * sizeof *own);
    for (int r = 0; own && r < n; r++)
        if (read_ping(res, r, -1, &own[r]) != 0)
            unsupported = 1; /* not a 2D point: leave it to SQL */
    PQclear(res);
    struct conn_scan *s =
        own && !unsupported ? conn_scan_new(own, (size_t)n, q->distance, &unsupported) : NULL;
    free(own);
    if (!s)
        *out = unsupported ? SCAN_UNSUPPORTED : SCAN_FAILED;
    return s;
}

static int scan_candidates(struct udc_db *db, struct udc_http_request *req,
                           const struct connection_query *q, struct conn_scan *s, int *rc)
{
    const int64_t *lo, *hi;
    size_t n = conn_scan_ranges(s, &lo, &hi);
    if (n == 0)
        return 0;
    struct jbuf los = {0}, his = {0};
    array_int(&los, lo, n);
    array_int(&his, hi, n);
    struct stmt_params p = {0};
    stmt_param_int(&p, q->person);
    stmt_param_int(&p, q->start_us);
    stmt_param_int(&p, q->end_us);
    const char *values[] = {p.values[0],   p.values[1],   p.values[2],
                            los.text.data, his.text.data, NULL};
    char after[24];
    snprintf(after, sizeof after, "%" PRId64, q->after_person);
    values[5] = after;
    PGresult *res =
        los.failed || his.failed ? NULL : query_binary(db, req, CONNECTIONS_NEAR, 6, values, rc);
    udc_strbuf_free(&los.text);
    udc_strbuf_free(&his.text);
    if (!res)
        return -1;
    int failed = 0;
    for (int r = 0, rows = PQntuples(res); r < rows && !failed; r++) {
        struct conn_ping c;
        failed = read_ping(res, r, 1, &c) != 0 || conn_scan_add_candidate(s, &c) != 0;
    }
    PQclear(res);
    if (failed)
        *rc = udc_http_respond_error(req, 500, "internal error");
    return failed ? -1 : 0;
}

/* PostgreSQL decides the pairs of the band. */
static int scan_band(struct udc_db *db, struct udc_http_request *req,
                     const struct connection_query *q, struct conn_scan *s, int *rc)
{
    size_t n = conn_scan_band_count(s);
    if (n == 0)
        return 0;
    struct jbuf a[4];
    memset(a, 0, sizeof a);
    for (int f = 0; f < 4; f++)
        array_of_pairs(&a[f], band_pair, s, n, f);
    struct stmt_params p = {0};
    stmt_param_double(&p, q->distance);
    const char *values[] = {a[0].text.data, a[1].text.data, a[2].text.data, a[3].text.data,
                            p.values[0]};
    int ok = !a[0].failed && !a[1].failed && !a[2].failed && !a[3].failed;
    PGresult *res = ok ? api_query(db, req, CONNECTIONS_WITHIN, 5, values, rc) : NULL;
    for (int f = 0; f < 4; f++)
        udc_strbuf_free(&a[f].text);
    if (!res) {
        if (!ok)
            *rc = udc_http_respond_error(req, 500, "internal error");
        return -1;
    }
    for (int r = 0, rows = PQntuples(res); r < rows; r++)
        conn_scan_band_within(s, (size_t)api_col_int(res, r, 0) - 1);
    PQclear(res);
    return 0;
}

/* The closest distance of each summary: the smallest of its pairs on the spheroid, into
 * min_d[]. 0, or -1 with an answer queued. */
static int scan_closest(struct udc_db *db, struct udc_http_request *req, struct conn_scan *s,
                        double *min_d, int *rc)
{
    size_t pairs = conn_scan_closest_count(s);
    struct jbuf a[4];
    memset(a, 0, sizeof a);
    const char *values[4];
    int ok = 1;
    for (int f = 0; f < 4; f++) {
        array_of_pairs(&a[f], closest_pair, s, pairs, f);
        ok = ok && !a[f].failed;
        values[f] = a[f].text.data;
    }
    PGresult *res = ok ? api_query(db, req, CONNECTIONS_DISTANCES, 4, values, rc) : NULL;
    for (int f = 0; f < 4; f++)
        udc_strbuf_free(&a[f].text);
    if (!res) {
        if (!ok)
            *rc = udc_http_respond_error(req, 500, "internal error");
        return -1;
    }
    ok = (size_t)PQntuples(res) == pairs;
    for (size_t i = 0; i < conn_scan_summary_count(s); i++)
        min_d[i] = INFINITY;
    for (size_t i = 0; ok && i < pairs; i++) {
        size_t k = conn_scan_closest_pair(s, i)->summary;
        double d = strtod(PQgetvalue(res, (int)i, 0), NULL); /* float8 text is exact */
        if (d < min_d[k])
            min_d[k] = d;
    }
    PQclear(res);
    if (!ok)
        *rc = udc_http_respond_error(req, 500, "internal error");
    return ok ? 0 : -1;
}

/* The people of the summaries, in their order. */
static PGresult *scan_people(struct udc_db *db, struct udc_http_request *req, struct conn_scan *s,
                             int *rc)
{
    size_t n = conn_scan_summary_count(s);
    int64_t *ids = malloc((n ? n : 1) * sizeof *ids);
    struct jbuf a = {0};
    for (size_t i = 0; ids && i < n; i++)
        ids[i] = conn_scan_summary(s, i)->person;
    if (ids)
        array_int(&a, ids, n);
    free(ids);
    const char *values[] = {a.text.data};
    PGresult *res =
        ids && !a.failed ? api_query(db, req, CONNECTIONS_PERSONS, 1, values, rc) : NULL;
    if (!ids || a.failed)
        *rc = udc_http_respond_error(req, 500, "internal error");
    udc_strbuf_free(&a.text);
    if (res && (size_t)PQntuples(res) != n) {
        PQclear(res);
        res = NULL;
        *rc = udc_http_respond_error(req, 500, "internal error");
    }
    return res;
}

/* SCAN_ANSWERED: j holds the list and *next the page cursor (0: no next page). */
static enum scan_outcome answer_by_scan(struct udc_db *db, struct udc_http_request *req,
                                        const struct connection_query *q, struct jbuf *j,
                                        int64_t *next, int *rc)
{
    enum scan_outcome out = SCAN_FAILED;
    struct conn_scan *s = scan_own(db, req, q, &out, rc);
    if (!s) {
        if (out == SCAN_FAILED && *rc == 0)
            *rc = udc_http_respond_error(req, 500, "internal error");
        return out;
    }
    PGresult *people = NULL;
    double *min_d = NULL;
    out = SCAN_FAILED;
    /* Each step queues its own error answer; the C steps fail only for want of memory. */
    int ok = scan_candidates(db, req, q, s, rc) == 0;
    if (ok && conn_scan_classify(s) != 0) {
        ok = 0;
        *rc = udc_http_respond_error(req, 500, "internal error");
    }
    ok = ok && scan_band(db, req, q, s, rc) == 0;
    if (ok && conn_scan_summarise(s, q->has_limit ? (long)q->limit + 1 : -1) != 0) {
        ok = 0;
        *rc = udc_http_respond_error(req, 500, "internal error");
    }
    size_t rows = ok ? conn_scan_summary_count(s) : 0;
    if (ok && rows > 0 && !(min_d = malloc(rows * sizeof *min_d))) {
        ok = 0;
        *rc = udc_http_respond_error(req, 500, "internal error");
    }
    if (ok && (rows == 0 || (scan_closest(db, req, s, min_d, rc) == 0 &&
                             (people = scan_people(db, req, s, rc)) != NULL)))
        out = SCAN_ANSWERED;
    if (out == SCAN_ANSWERED) {
        size_t shown = q->has_limit && rows > (size_t)q->limit ? (size_t)q->limit : rows;
        jbuf_array_begin(j);
        char lat[32], lon[32];
        for (size_t r = 0; r < shown; r++) {
            const struct conn_summary *sum = conn_scan_summary(s, r);
            summary_json(j, sum, people, (int)r, conn_float8_text(lat, sizeof lat, sum->first_lat),
                         conn_float8_text(lon, sizeof lon, sum->first_lon), min_d[r]);
        }
        jbuf_array_end(j);
        *next = shown < rows ? conn_scan_summary(s, shown - 1)->person : 0;
    }
    PQclear(people);
    free(min_d);
    conn_scan_free(s);
    return out;
}

/* --- co-presence from the precomputed pairs, summed up here ------------------------------ */

/* Without a page limit the API sums the pairs up itself: the statement then only streams the
 * index (CONNECTIONS_PRECOMPUTED's per-person aggregates and lookups took half its time). With
 * a limit, the statement's LIMIT stops the index scan early, so it answers. */
static int answer_precomputed(struct udc_db *db, struct udc_http_request *req,
                              const struct stmt_params *p, struct jbuf *j, int *rc)
{
    PGresult *res = query_binary(db, req, CONNECTIONS_PAIRS, p->n, p->values, rc);
    if (!res)
        return -1;
    size_t n = (size_t)PQntuples(res);
    struct conn_hit *hits = malloc((n ? n : 1) * sizeof *hits);
    struct conn_summary *sums = malloc((n ? n : 1) * sizeof *sums);
    double *min_d = malloc((n ? n : 1) * sizeof *min_d);
    int ok = hits && sums && min_d;
    for (size_t r = 0; ok && r < n; r++) {
        int row = (int)r;
        ok = PQgetlength(res, row, 0) == 4 && PQgetlength(res, row, 1) == 8 &&
             PQgetlength(res, row, 2) == 8 && PQgetlength(res, row, 3) == 8;
        if (ok) {
            int64_t bits = be64(PQgetvalue(res, row, 3));
            hits[r] = (struct conn_hit){(int32_t)be32(PQgetvalue(res, row, 0)),
                                        be64(PQgetvalue(res, row, 1)),
                                        be64(PQgetvalue(res, row, 2)) + PG_EPOCH_US, 0};
            memcpy(&hits[r].d, &bits, sizeof hits[r].d);
        }
    }
    PQclear(res);
    size_t people = ok ? conn_summarise(hits, n, -1, sums, min_d) : 0;
    res = NULL;
    if (ok && people > 0) {
        int64_t *ids = malloc(people * sizeof *ids), *first = malloc(people * sizeof *first);
        struct jbuf a[2];
        memset(a, 0, sizeof a);
        for (size_t i = 0; ids && first && i < people; i++) {
            ids[i] = sums[i].person;
            first[i] = sums[i].first_id;
        }
        if (ids && first) {
            array_int(&a[0], ids, people);
            array_int(&a[1], first, people);
        }
        ok = ids && first && !a[0].failed && !a[1].failed;
        const char *values[] = {a[0].text.data, a[1].text.data};
        if (ok && !(res = api_query(db, req, CONNECTIONS_PEOPLE, 2, values, rc))) {
            free(ids), free(first), udc_strbuf_free(&a[0].text), udc_strbuf_free(&a[1].text);
            free(hits), free(sums), free(min_d);
            return -1;
        }
        ok = ok && (size_t)PQntuples(res) == people;
        free(ids), free(first), udc_strbuf_free(&a[0].text), udc_strbuf_free(&a[1].text);
    }
    if (ok) {
        jbuf_array_begin(j);
        for (size_t r = 0; r < people; r++)
            summary_json(j, &sums[r], res, (int)r, api_col_text(res, (int)r, 4),
                         api_col_text(res, (int)r, 5), min_d[r]);
        jbuf_array_end(j);
    } else
        *rc = udc_http_respond_error(req, 500, "internal error");
    PQclear(res);
    free(hits), free(sums), free(min_d);
    return ok ? 0 : -1;
}

static int list_connections(struct udc_http_request *req, void *userdata)
{
    struct api *api = userdata;
    struct connection_query q;
    char err[160];
    int rc = 0;
    if (parse_query(req, api, &q, err, sizeof err) != 0)
        return api_bad_request(req, err);
    struct stmt_params p = {0};
    stmt_param_int(&p, q.person);
    stmt_param_int(&p, q.start_us);
    stmt_param_int(&p, q.end_us);
    stmt_param_double(&p, q.distance);
    stmt_param_int(&p, q.window);
    stmt_param_int(&p, q.after_person);
    stmt_param_opt_int(&p, q.has_limit, (int64_t)q.limit + 1);
    const char *stmt = choose_statement(api, &q);

    struct udc_db *db = api_db(api, req, &rc);
    if (!db)
        return rc;
    PGresult *res = api_query(db, req, "person_by_id", 1, p.values, &rc);
    struct jbuf j = {0};
    int64_t next = 0;
    enum scan_outcome scanned = SCAN_UNSUPPORTED;
    if (res && PQntuples(res) == 0) {
        PQclear(res);
        res = NULL;
        rc = udc_http_respond_error(req, 404, "person not found");
    } else if (res) {
        PQclear(res);
        res = NULL;
        if (strcmp(stmt, CONNECTIONS_POC) == 0)
            scanned = answer_by_scan(db, req, &q, &j, &next, &rc);
        else if (strcmp(stmt, CONNECTIONS_PRECOMPUTED) == 0 && !q.has_limit)
            scanned = answer_precomputed(db, req, &p, &j, &rc) == 0 ? SCAN_ANSWERED : SCAN_FAILED;
        if (scanned == SCAN_UNSUPPORTED)
            res = api_query(db, req, stmt, p.n, p.values, &rc);
    }
    api_db_done(api, db);
    if (scanned == SCAN_FAILED) {
        udc_strbuf_free(&j.text);
        return rc;
    }
    if (scanned == SCAN_UNSUPPORTED) {
        if (!res)
            return rc;
        int rows = PQntuples(res);
        int shown = q.has_limit && rows > q.limit ? q.limit : rows;
        jbuf_array_begin(&j);
        for (int r = 0; r < shown; r++)
            connection_json(&j, res, r);
        jbuf_array_end(&j);
        next = shown < rows ? api_col_int(res, shown - 1, CONN_COL_PERSON) : 0;
        PQclear(res);
    }
    if (next > 0) {
        char cursor[24];
        snprintf(cursor, sizeof cursor, "%" PRId64, next);
        api_next_page(req, cursor);
    }
    udc_http_add_header(req, "X-Connections-Source",
                        strcmp(stmt, CONNECTIONS_PRECOMPUTED) == 0 ? "precomputed" : "live");
    return api_respond(req, 200, &j);
}

int api_routes_connections(struct udc_http_server *s, struct api *api)
{
    return udc_http_route(s, "GET", "/api/persons/{id}/connection", list_connections, api);
}
