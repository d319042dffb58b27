/* api.h — what udc-api's route handlers share: the configuration, the PostgreSQL pool, and
 * the way every answer is made (JSON with an ETag, errors as {"error": …}).
 *
 * Each handler borrows one pooled connection for the duration of its query; there is no
 * lock around queries, so the server's threads query in parallel.
 */
#ifndef UDC_API_H
#define UDC_API_H

#include <stdatomic.h>

#include "config.h"
#include "db.h"
#include "http.h"
#include "jbuf.h"

struct persons_cache;

struct api {
    const struct udc_config *cfg;
    struct udc_db_pool *pool;
    struct persons_cache *persons; /* GET /api/persons without parameters */
};

/* Every statement the API prepares, gathered from the route modules. */
size_t api_statements(const struct udc_db_statement **out);

/* Mount the routes of each module. */
int api_routes_persons(struct udc_http_server *s, struct api *api);
int api_routes_locations(struct udc_http_server *s, struct api *api);
int api_routes_connections(struct udc_http_server *s, struct api *api);
int api_routes_static(struct udc_http_server *s, struct api *api);

/* Borrow a connection (NULL: an answer 503 has been queued, return its value via *rc). */
struct udc_db *api_db(struct api *api, struct udc_http_request *req, int *rc);
void api_db_done(struct api *api, struct udc_db *db);

/* Runs a prepared statement; on failure queues a 503 (database unavailable) or 500 and
 * returns NULL with *rc set. */
PGresult *api_query(struct udc_db *db, struct udc_http_request *req, const char *stmt, int nparams,
                    const char *const *params, int *rc);

/* 200 (or status) with j's JSON; for GETs an ETag from the body, and 304 when the client's
 * If-None-Match has it. A failed jbuf becomes 500. Frees j's buffer. */
int api_respond(struct udc_http_request *req, unsigned status, struct jbuf *j);

/* A rendered 200 answer shared by many requests (a cache's): the JSON, its ETag, and a
 * reference count; the last api_body_release frees it. Any thread. */
#define API_ETAG_MAX 24
struct api_body {
    atomic_int refs;
    char *json;
    size_t len;
    char etag[API_ETAG_MAX];
};
/* Takes j's buffer (also on failure); NULL when j failed or memory ran out. One reference. */
struct api_body *api_body_new(struct jbuf *j);
struct api_body *api_body_ref(struct api_body *b);
void api_body_release(void *body); /* void *: it is also the server's release callback */
/* Like api_respond with status 200, from b without copying it. Consumes one reference. */
int api_respond_body(struct udc_http_request *req, struct api_body *b);

/* 400 {"error": msg} */
int api_bad_request(struct udc_http_request *req, const char *msg);

/* Paging: X-Next-Cursor and Link: <…>; rel="next" for the same path and query with cursor
 * replaced. */
void api_next_page(struct udc_http_request *req, const char *cursor);

/* Column helpers for PGresult rows. */
int64_t api_col_int(const PGresult *res, int row, int col);
const char *api_col_text(const PGresult *res, int row, int col);

#endif
