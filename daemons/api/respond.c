/* respond.c — answers shared by every route: see api.h. */
#include "api.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

struct udc_db *api_db(struct api *api, struct udc_http_request *req, int *rc)
{
    struct udc_db *db = udc_db_pool_acquire(api->pool, 5000);
    if (!db) {
        udc_http_add_header(req, "Retry-After", "1");
        *rc = udc_http_respond_error(req, 503, "database unavailable");
    }
    return db;
}

void api_db_done(struct api *api, struct udc_db *db)
{
    if (db)
        udc_db_pool_release(api->pool, db);
}

PGresult *api_query(struct udc_db *db, struct udc_http_request *req, const char *stmt, int nparams,
                    const char *const *params, int *rc)
{
    char err[512];
    PGresult *res = udc_db_exec_prepared(db, stmt, nparams, params, NULL, NULL, PGRES_TUPLES_OK,
                                         err, sizeof err);
    /* A pooled connection may have died while idle (a database restart): reads are safe to
     * run again on a fresh one, so reconnect and retry once rather than answer 503. */
    if (!res && udc_db_last_error_kind(db) == UDC_DB_ERR_CONNECTION &&
        strcmp(udc_http_method(req), "POST") != 0 && udc_db_ensure(db) == 0)
        res = udc_db_exec_prepared(db, stmt, nparams, params, NULL, NULL, PGRES_TUPLES_OK, err,
                                   sizeof err);
    if (res)
        return res;
    if (udc_db_last_error_kind(db) == UDC_DB_ERR_STATEMENT) {
        char quoted[600];
        udc_log_error("query failed", "statement=%s error=%s", stmt,
                      udc_log_quote(quoted, sizeof quoted, err));
        *rc = udc_http_respond_error(req, 500, "internal error");
    } else {
        udc_http_add_header(req, "Retry-After", "1");
        *rc = udc_http_respond_error(req, 503, "database unavailable");
    }
    return NULL;
}

/* FNV-1a: a cheap, stable fingerprint of the body for ETag/If-None-Match. */
static uint64_t fingerprint(const char *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

/* If-None-Match holds "*" or a comma-separated list of tags, each possibly weak (W/"…"). */
static int etag_matches(const char *header, const char *etag)
{
    if (!header)
        return 0;
    size_t n = strlen(etag);
    for (const char *p = header; *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        if (p[0] == '*')
            return 1;
        if (p[0] == 'W' && p[1] == '/')
            p += 2;
        size_t len = strcspn(p, ",");
        while (len > 0 && p[len - 1] == ' ')
            len--;
        if (len == n && strncmp(p, etag, n) == 0)
            return 1;
        p += strcspn(p, ",");
    }
    return 0;
}

/* ETag and Cache-Control for a GET answer of body; true when the client already has it. */
static int client_has(struct udc_http_request *req, const char *etag)
{
    udc_http_add_header(req, "ETag", etag);
    udc_http_add_header(req, "Cache-Control", "no-cache");
    return etag_matches(udc_http_header(req, "If-None-Match"), etag);
}

static void format_etag(char out[API_ETAG_MAX], const char *body, size_t len)
{
    snprintf(out, API_ETAG_MAX, "\"%016" PRIx64 "\"", fingerprint(body, len));
}

int api_respond(struct udc_http_request *req, unsigned status, struct jbuf *j)
{
    int rc;
    if (j->failed) {
        rc = udc_http_respond_error(req, 500, "out of memory");
    } else if (status == 200 && strcmp(udc_http_method(req), "POST") != 0) {
        char etag[API_ETAG_MAX];
        format_etag(etag, j->text.data, j->text.len);
        if (client_has(req, etag))
            rc = udc_http_respond(req, 304, NULL, "", 0);
        else
            rc = udc_http_respond_json(req, status, j->text.data, j->text.len);
    } else {
        rc = udc_http_respond_json(req, status, j->text.data, j->text.len);
    }
    udc_strbuf_free(&j->text);
    memset(j, 0, sizeof *j);
    return rc;
}

struct api_body *api_body_new(struct jbuf *j)
{
    struct api_body *b = j->failed ? NULL : malloc(sizeof *b);
    if (b) {
        atomic_init(&b->refs, 1);
        b->json = udc_strbuf_detach(&j->text, &b->len);
        format_etag(b->etag, b->json, b->len);
    } else {
        udc_strbuf_free(&j->text);
    }
    memset(j, 0, sizeof *j);
    return b;
}

struct api_body *api_body_ref(struct api_body *b)
{
    atomic_fetch_add_explicit(&b->refs, 1, memory_order_relaxed);
    return b;
}

void api_body_release(void *body)
{
    struct api_body *b = body;
    if (b && atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) == 1) {
        free(b->json);
        free(b);
    }
}

int api_respond_body(struct udc_http_request *req, struct api_body *b)
{
    if (client_has(req, b->etag)) {
        api_body_release(b);
        return udc_http_respond(req, 304, NULL, "", 0);
    }
    return udc_http_respond_shared(req, 200, "application/json", b->json, b->len, api_body_release,
                                   b);
}

int api_bad_request(struct udc_http_request *req, const char *msg)
{
    return udc_http_respond_error(req, 400, "%s", msg);
}

/* The request's path and query with cursor=… set to the given value. */
static void next_url(struct udc_http_request *req, const char *cursor, char *out, size_t size)
{
    static const char *const keep[] = {"start_date", "end_date", "distance",
                                       "window",     "limit",    "q"};
    size_t n = (size_t)snprintf(out, size, "%s?", udc_http_path(req));
    for (size_t i = 0; i < sizeof keep / sizeof keep[0] && n < size; i++) {
        const char *v = udc_http_query(req, keep[i]);
        if (!v)
            continue;
        n += (size_t)snprintf(out + n, size - n, "%s=", keep[i]);
        for (const unsigned char *c = (const unsigned char *)v; *c && n + 4 < size; c++) {
            if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
                strchr("-._~", *c))
                out[n++] = (char)*c;
            else
                n += (size_t)snprintf(out + n, size - n, "%%%02X", *c);
        }
        if (n < size - 1)
            out[n++] = '&';
        out[n] = '\0';
    }
    if (n < size)
        snprintf(out + n, size - n, "cursor=%s", cursor);
}

void api_next_page(struct udc_http_request *req, const char *cursor)
{
    char url[1024], link[1100];
    udc_http_add_header(req, "X-Next-Cursor", cursor);
    next_url(req, cursor, url, sizeof url);
    snprintf(link, sizeof link, "<%s>; rel=\"next\"", url);
    udc_http_add_header(req, "Link", link);
}

int64_t api_col_int(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? 0 : strtoll(PQgetvalue(res, row, col), NULL, 10);
}

const char *api_col_text(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}
