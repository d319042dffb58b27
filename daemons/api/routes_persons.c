/* routes_persons.c — GET /api/persons (all, or paged and searched), GET /api/persons/{id},
 * POST /api/persons. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "params.h"
#include "person_json.h"
#include "persons_cache.h"

#define NAME_MAX_CHARS 100

const struct udc_db_statement person_statements[] = {
    /* $1 after this id, $2 ILIKE pattern or NULL, $3 limit or NULL (all). */
    {"persons_page",
     "SELECT id, first_name, last_name, company_name FROM person"
     " WHERE id > $1::int"
     "   AND ($2::text IS NULL OR first_name ILIKE $2 OR last_name ILIKE $2"
     "        OR first_name || ' ' || last_name ILIKE $2 OR company_name ILIKE $2)"
     " ORDER BY id LIMIT $3::int",
     3},
    /* Moves whenever person changes (schema/migrations/0006_person_version.sql). */
    {"person_version", "SELECT version FROM person_version", 0},
    {"person_by_id", "SELECT id, first_name, last_name, company_name FROM person WHERE id = $1", 1},
    {"person_insert",
     "INSERT INTO person (first_name, last_name, company_name) VALUES ($1, $2, $3)"
     " RETURNING id, first_name, last_name, company_name",
     3},
};
const size_t person_statement_count = sizeof person_statements / sizeof person_statements[0];

/* '%' + q with \, % and _ escaped + '%': a substring match that takes q literally. */
static char *like_pattern(const char *q)
{
    size_t n = strlen(q);
    char *out = malloc(2 * n + 3);
    if (!out)
        return NULL;
    char *p = out;
    *p++ = '%';
    for (; *q; q++) {
        if (*q == '\\' || *q == '%' || *q == '_')
            *p++ = '\\';
        *p++ = *q;
    }
    *p++ = '%';
    *p = '\0';
    return out;
}

static void persons_array(struct jbuf *j, const PGresult *res, int shown)
{
    jbuf_array_begin(j);
    for (int r = 0; r < shown; r++)
        person_json(j, res, r, 0);
    jbuf_array_end(j);
}

/* Every person: from the cache while person_version has not moved (see persons_cache.h). */
static int list_all_persons(struct udc_http_request *req, struct api *api)
{
    int rc = 0;
    struct udc_db *db = api_db(api, req, &rc);
    if (!db)
        return rc;
    PGresult *res = api_query(db, req, "person_version", 0, NULL, &rc);
    if (!res) {
        api_db_done(api, db);
        return rc;
    }
    int known = PQntuples(res) == 1; /* without the row, every answer is rendered anew */
    int64_t version = known ? api_col_int(res, 0, 0) : 0;
    PQclear(res);
    struct api_body *b = known ? persons_cache_get(api->persons, version) : NULL;
    if (b) {
        api_db_done(api, db);
        return api_respond_body(req, b);
    }
    const char *params[] = {"0", NULL, NULL};
    res = api_query(db, req, "persons_page", 3, params, &rc);
    api_db_done(api, db);
    if (!res)
        return rc;
    struct jbuf j = {0};
    persons_array(&j, res, PQntuples(res));
    PQclear(res);
    if (!known)
        return api_respond(req, 200, &j);
    b = persons_cache_put(api->persons, version, &j);
    return b ? api_respond_body(req, b) : udc_http_respond_error(req, 500, "out of memory");
}

static int list_persons(struct udc_http_request *req, void *userdata)
{
    struct api *api = userdata;
    char err[160], after[24] = "0", limit_text[24];
    int has_limit, rc = 0;
    int32_t limit = 0;
    int64_t cursor = 0;
    const char *q = udc_http_query(req, "q");
    const char *c = udc_http_query(req, "cursor");

    if (param_limit(udc_http_query(req, "limit"), api->cfg->api.page_max, &has_limit, &limit, err,
                    sizeof err) != 0 ||
        (c && param_cursor_id(c, &cursor, err, sizeof err) != 0) ||
        (q && param_search(q, err, sizeof err) != 0))
        return api_bad_request(req, err);
    if (!has_limit && cursor == 0 && !q)
        return list_all_persons(req, api);
    snprintf(after, sizeof after, "%lld", (long long)cursor);
    snprintf(limit_text, sizeof limit_text, "%d",
             (int)limit + 1); /* one more: is there a next page? */
    char *pattern = q ? like_pattern(q) : NULL;
    const char *params[] = {after, pattern, has_limit ? limit_text : NULL};

    struct udc_db *db = api_db(api, req, &rc);
    if (!db) {
        free(pattern);
        return rc;
    }
    PGresult *res = api_query(db, req, "persons_page", 3, params, &rc);
    free(pattern);
    if (!res) {
        api_db_done(api, db);
        return rc;
    }
    int rows = PQntuples(res);
    int shown = has_limit && rows > limit ? limit : rows;
    struct jbuf j = {0};
    persons_array(&j, res, shown);
    if (shown < rows) {
        char next[24];
        snprintf(next, sizeof next, "%lld", (long long)api_col_int(res, shown - 1, 0));
        api_next_page(req, next);
    }
    PQclear(res);
    api_db_done(api, db);
    return api_respond(req, 200, &j);
}

/* Writes one person of the row as JSON, or 404 when there is none. */
static int answer_person(struct udc_http_request *req, PGresult *res, unsigned status)
{
    if (PQntuples(res) == 0) {
        PQclear(res);
        return udc_http_respond_error(req, 404, "person not found");
    }
    struct jbuf j = {0};
    person_json(&j, res, 0, 0);
    if (status == 201) {
        char location[64];
        snprintf(location, sizeof location, "/api/persons/%s", PQgetvalue(res, 0, 0));
        udc_http_add_header(req, "Location", location);
    }
    PQclear(res);
    return api_respond(req, status, &j);
}

static int get_person(struct udc_http_request *req, void *userdata)
{
    struct api *api = userdata;
    char err[160];
    int32_t id;
    int rc = 0;
    if (param_id(udc_http_param(req, "id"), "id", &id, err, sizeof err) != 0)
        return api_bad_request(req, err);
    struct udc_db *db = api_db(api, req, &rc);
    if (!db)
        return rc;
    const char *params[] = {udc_http_param(req, "id")};
    PGresult *res = api_query(db, req, "person_by_id", 1, params, &rc);
    api_db_done(api, db);
    return res ? answer_person(req, res, 200) : rc;
}

/* 400 in the POC's shape: {"error": "...", "schema_errors": {"field": ["rule"]}}. */
static int schema_error(struct udc_http_request *req, const char *field, const char *rule)
{
    char sentence[256], rule_json[300];
    struct jbuf j = {0};
    snprintf(sentence, sizeof sentence, "%s %s", field, rule);
    udc_http_json_quote(rule_json, sizeof rule_json, rule);
    jbuf_obj_begin(&j);
    jbuf_str(&j, "error", sentence);
    jbuf_key(&j, "schema_errors");
    jbuf_obj_begin(&j);
    jbuf_key(&j, field);
    jbuf_raw(&j, "[");
    jbuf_raw(&j, rule_json);
    jbuf_raw(&j, "]");
    j.need_comma = 1;
    jbuf_obj_end(&j);
    jbuf_obj_end(&j);
    return api_respond(req, 400, &j);
}

static const char *const person_fields[] = {"first_name", "last_name", "company_name"};

/* Checks the body of POST /api/persons: an object of exactly the three fields, each a
 * non-empty string of at most NAME_MAX_CHARS characters without control characters.
 * Returns 0 with values[] pointing into obj, or an answer already queued in *rc. */
static int check_person_body(struct udc_http_request *req, json_object *obj, const char *values[3],
                             int *rc)
{
    if (!obj || !json_object_is_type(obj, json_type_object)) {
        *rc = schema_error(req, "body", "must be a JSON object");
        return -1;
    }
    json_object_object_foreach(obj, key, val)
    {
        (void)val;
        int known = 0;
        for (size_t i = 0; i < 3; i++)
            known |= strcmp(key, person_fields[i]) == 0;
        if (!known) {
            *rc = schema_error(req, key, "unknown field");
            return -1;
        }
    }
    for (size_t i = 0; i < 3; i++) {
        json_object *v;
        if (!json_object_object_get_ex(obj, person_fields[i], &v)) {
            *rc = schema_error(req, person_fields[i], "is required");
            return -1;
        }
        if (!json_object_is_type(v, json_type_string)) {
            *rc = schema_error(req, person_fields[i], "must be a string");
            return -1;
        }
        const char *s = json_object_get_string(v);
        size_t chars = 0, blank = 1;
        for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
            if (*c < 0x20 || *c == 0x7f) {
                *rc = schema_error(req, person_fields[i], "must not contain control characters");
                return -1;
            }
            chars += (*c & 0xc0) != 0x80; /* count UTF-8 characters, not bytes */
            blank &= *c == ' ';
        }
        if (chars == 0 || blank || chars > NAME_MAX_CHARS) {
            *rc =
                schema_error(req, person_fields[i], "must be 1 to 100 characters, not only spaces");
            return -1;
        }
        values[i] = s;
    }
    return 0;
}

static int create_person(struct udc_http_request *req, void *userdata)
{
    struct api *api = userdata;
    size_t len;
    const char *body = udc_http_body(req, &len);
    const char *values[3];
    int rc = 0;

    json_tokener *tok = json_tokener_new_ex(8);
    json_object *obj = tok ? json_tokener_parse_ex(tok, body ? body : "", (int)len) : NULL;
    int complete = tok && json_tokener_get_error(tok) == json_tokener_success &&
                   json_tokener_get_parse_end(tok) == len;
    json_tokener_free(tok);
    if (!complete) {
        json_object_put(obj);
        return schema_error(req, "body", "must be valid JSON");
    }
    if (check_person_body(req, obj, values, &rc) != 0) {
        json_object_put(obj);
        return rc;
    }
    struct udc_db *db = api_db(api, req, &rc);
    PGresult *res = db ? api_query(db, req, "person_insert", 3, values, &rc) : NULL;
    api_db_done(api, db);
    json_object_put(obj);
    return res ? answer_person(req, res, 201) : rc;
}

int api_routes_persons(struct udc_http_server *s, struct api *api)
{
    return udc_http_route(s, "GET", "/api/persons", list_persons, api) ||
           udc_http_route(s, "POST", "/api/persons", create_person, api) ||
           udc_http_route(s, "GET", "/api/persons/{id}", get_person, api);
}
