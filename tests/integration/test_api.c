/* udc-api's contract on the seed data: the POC's routes, field names and JSON types, the
 * mistakes of the POC we fixed, CORS, paging, ETags, the OpenAPI document, and connections
 * checked against the geometry (brute force in SQL) — live, precomputed, and end to end from
 * a ping posted to udc-ingest-http. */
#include <check.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api/connection_queries.h"
#include "httpc.h"
#include "itest.h"
#include "suite_run.h"

static const char *const json_headers[] = {"Content-Type: application/json", NULL};

/* GET/POST on the API; returns the status and the parsed body (NULL when not JSON). */
static long call(const char *method, const char *path, const char *body, json_object **out,
                 struct httpc_response *keep)
{
    char url[1024];
    struct httpc_response r;
    snprintf(url, sizeof url, "%s%s", itest_env("UDC_API_URL"), path);
    ck_assert_int_eq(
        httpc_request(method, url, body ? json_headers : NULL, body, body ? strlen(body) : 0, &r),
        0);
    char cors[8];
    ck_assert_msg(httpc_header(&r, "Access-Control-Allow-Origin", cors, sizeof cors) &&
                      strcmp(cors, "*") == 0,
                  "%s %s: no CORS header", method, path);
    if (out)
        *out = r.body && r.len ? json_tokener_parse(r.body) : NULL;
    long status = r.status;
    if (keep)
        *keep = r;
    else
        httpc_response_free(&r);
    return status;
}

static const char *str_of(json_object *o, const char *key)
{
    json_object *v;
    ck_assert_msg(json_object_object_get_ex(o, key, &v), "no %s in %s", key,
                  json_object_to_json_string(o));
    return json_object_get_string(v);
}

static json_type type_of(json_object *o, const char *key)
{
    json_object *v;
    ck_assert_msg(json_object_object_get_ex(o, key, &v), "no %s", key);
    return json_object_get_type(v);
}

static void assert_person_shape(json_object *p)
{
    ck_assert_int_eq(type_of(p, "id"), json_type_int);
    ck_assert_int_eq(type_of(p, "first_name"), json_type_string);
    ck_assert_int_eq(type_of(p, "last_name"), json_type_string);
    ck_assert_int_eq(type_of(p, "company_name"), json_type_string);
}

static void assert_location_shape(json_object *l)
{
    ck_assert_int_eq(type_of(l, "id"), json_type_int);
    ck_assert_int_eq(type_of(l, "person_id"), json_type_int);
    ck_assert_int_eq(type_of(l, "latitude"), json_type_string);
    ck_assert_int_eq(type_of(l, "longitude"), json_type_string);
    ck_assert_int_eq(type_of(l, "creation_time"), json_type_string);
}

START_TEST(persons_as_the_poc_served_them)
{
    json_object *o;
    ck_assert_int_eq(call("GET", "/api/persons", NULL, &o, NULL), 200);
    ck_assert(json_object_is_type(o, json_type_array));
    ck_assert_int_ge(json_object_array_length(o), 5);
    json_object *first = json_object_array_get_idx(o, 0);
    assert_person_shape(first);
    ck_assert_int_eq(json_object_get_int(json_object_object_get(first, "id")), 1);
    ck_assert_str_eq(str_of(first, "first_name"), "Pam");
    ck_assert_str_eq(str_of(first, "company_name"), "Hampton, Hampton and McQuill");
    json_object_put(o);
    ck_assert_int_eq(call("GET", "/api/persons/5", NULL, &o, NULL), 200);
    ck_assert_str_eq(str_of(o, "last_name"), "Fargo");
    json_object_put(o);
    ck_assert_int_eq(call("GET", "/health", NULL, &o, NULL), 200);
    ck_assert_str_eq(json_object_get_string(o), "healthy");
    json_object_put(o);
}
END_TEST

START_TEST(poc_mistakes_are_fixed)
{
    json_object *o;
    /* unknown id: POC 200 {} → 404; abc: POC 500 → 400 */
    ck_assert_int_eq(call("GET", "/api/persons/424242", NULL, &o, NULL), 404);
    ck_assert_ptr_nonnull(str_of(o, "error"));
    json_object_put(o);
    ck_assert_int_eq(call("GET", "/api/persons/abc", NULL, &o, NULL), 400);
    json_object_put(o);
    ck_assert_int_eq(call("GET", "/api/locations/999999999", NULL, &o, NULL), 404);
    json_object_put(o);
    /* true latitude/longitude (reference/locations.csv row 29) */
    ck_assert_int_eq(call("GET", "/api/locations/29", NULL, &o, NULL), 200);
    assert_location_shape(o);
    ck_assert_str_eq(str_of(o, "latitude"), "37.553441");
    ck_assert_str_eq(str_of(o, "longitude"), "-122.290524");
    ck_assert_str_eq(str_of(o, "creation_time"), "2020-08-18T10:37:06");
    json_object_put(o);
    /* bad dates and distances: POC 500 → 400; unknown person: POC [] → 404 */
    const char *bad[] = {
        "/api/persons/1/connection?start_date=2020-13-01&end_date=2020-12-30",
        "/api/persons/1/connection?end_date=2020-12-30",
        "/api/persons/1/connection?start_date=2020-01-01&end_date=2020-12-30&distance=-1",
        "/api/persons/1/connection?start_date=2020-01-01&end_date=2020-12-30&distance=abc",
        "/api/persons/1/connection?start_date=2020-01-01&end_date=2020-12-30&window=x",
        "/api/persons/1/connection?start_date=2020-02-01&end_date=2020-01-01"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_msg(call("GET", bad[i], NULL, &o, NULL) == 400, "%s", bad[i]);
        json_object_put(o);
    }
    ck_assert_int_eq(
        call("GET", "/api/persons/424242/connection?start_date=2020-01-01&end_date=2020-12-30",
             NULL, &o, NULL),
        404);
    json_object_put(o);
    /* unknown path: POC HTML → JSON 404; other method: 405 JSON with Allow */
    ck_assert_int_eq(call("GET", "/api/nothing/here", NULL, &o, NULL), 404);
    ck_assert_ptr_nonnull(o);
    json_object_put(o);
    struct httpc_response r;
    ck_assert_int_eq(call("DELETE", "/api/persons", NULL, &o, &r), 405);
    char allow[64];
    ck_assert_ptr_nonnull(httpc_header(&r, "Allow", allow, sizeof allow));
    ck_assert_ptr_nonnull(strstr(allow, "GET"));
    ck_assert_ptr_nonnull(str_of(o, "message"));
    json_object_put(o);
    httpc_response_free(&r);
}
END_TEST

START_TEST(creating_people)
{
    json_object *o;
    struct httpc_response r;
    ck_assert_int_eq(call("POST", "/api/persons",
                          "{\"first_name\":\"Ada\",\"last_name\":\"Lovelace\","
                          "\"company_name\":\"Analytical Engines\"}",
                          &o, &r),
                     201);
    assert_person_shape(o);
    char location[64], expect[64];
    snprintf(expect, sizeof expect, "/api/persons/%d",
             json_object_get_int(json_object_object_get(o, "id")));
    ck_assert_str_eq(httpc_header(&r, "Location", location, sizeof location), expect);
    httpc_response_free(&r);
    json_object_put(o);
    ck_assert_int_eq(call("GET", expect, NULL, &o, NULL), 200);
    ck_assert_str_eq(str_of(o, "first_name"), "Ada");
    json_object_put(o);

    struct {
        const char *body, *field;
    } bad[] = {
        {"{\"first_name\":\"A\",\"last_name\":\"B\"}", "company_name"},
        {"{\"first_name\":\"A\",\"last_name\":\"B\",\"company_name\":\"C\",\"age\":3}", "age"},
        {"{\"first_name\":1,\"last_name\":\"B\",\"company_name\":\"C\"}", "first_name"},
        {"{\"first_name\":\"\",\"last_name\":\"B\",\"company_name\":\"C\"}", "first_name"},
        {"{\"first_name\":\"   \",\"last_name\":\"B\",\"company_name\":\"C\"}", "first_name"},
        {"[1]", "body"},
        {"{\"first_name\":", "body"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_msg(call("POST", "/api/persons", bad[i].body, &o, NULL) == 400, "%s",
                      bad[i].body);
        json_object *errors;
        ck_assert(json_object_object_get_ex(o, "schema_errors", &errors));
        ck_assert_msg(json_object_object_get_ex(errors, bad[i].field, NULL), "%s: %s", bad[i].body,
                      json_object_to_json_string(o));
        json_object_put(o);
    }
}
END_TEST

START_TEST(cors_preflight_is_answered)
{
    char url[512];
    snprintf(url, sizeof url, "%s/api/persons/1/connection", itest_env("UDC_API_URL"));
    const char *h[] = {"Origin: http://localhost:30000", "Access-Control-Request-Method: GET",
                       "Access-Control-Request-Headers: If-None-Match", NULL};
    struct httpc_response r;
    ck_assert_int_eq(httpc_request("OPTIONS", url, h, NULL, 0, &r), 0);
    ck_assert_int_eq(r.status, 200);
    char v[256];
    ck_assert_str_eq(httpc_header(&r, "Access-Control-Allow-Origin", v, sizeof v), "*");
    ck_assert_ptr_nonnull(
        strstr(httpc_header(&r, "Access-Control-Allow-Methods", v, sizeof v), "GET"));
    ck_assert_ptr_nonnull(httpc_header(&r, "Access-Control-Allow-Headers", v, sizeof v));
    httpc_response_free(&r);
}
END_TEST

START_TEST(pages_and_etags)
{
    /* Follow X-Next-Cursor pages of 2 until the end: the same list as without paging. */
    json_object *all;
    ck_assert_int_eq(call("GET", "/api/persons", NULL, &all, NULL), 200);
    size_t total = json_object_array_length(all), seen = 0;
    char path[256] = "/api/persons?limit=2";
    for (int page = 0; page < 1000; page++) {
        json_object *o;
        struct httpc_response r;
        ck_assert_int_eq(call("GET", path, NULL, &o, &r), 200);
        for (size_t i = 0; i < json_object_array_length(o); i++, seen++)
            ck_assert_int_eq(
                json_object_get_int(json_object_object_get(json_object_array_get_idx(o, i), "id")),
                json_object_get_int(
                    json_object_object_get(json_object_array_get_idx(all, seen), "id")));
        char cursor[64];
        int more = httpc_header(&r, "X-Next-Cursor", cursor, sizeof cursor) != NULL;
        httpc_response_free(&r);
        json_object_put(o);
        if (!more)
            break;
        snprintf(path, sizeof path, "/api/persons?limit=2&cursor=%s", cursor);
    }
    ck_assert_uint_eq(seen, total);
    json_object_put(all);
    /* Search by name and by company. */
    ck_assert_int_eq(call("GET", "/api/persons?q=trex", NULL, &all, NULL), 200);
    ck_assert_int_eq(json_object_array_length(all), 1);
    json_object_put(all);
    ck_assert_int_eq(call("GET", "/api/persons?q=usda", NULL, &all, NULL), 200);
    ck_assert_int_eq(json_object_array_length(all), 1);
    json_object_put(all);
    ck_assert_int_eq(call("GET", "/api/persons?q=%25", NULL, &all, NULL), 200);
    ck_assert_int_eq(json_object_array_length(all), 0); /* % is taken literally */
    json_object_put(all);
    /* A person's locations, paged by time. */
    json_object *o;
    ck_assert_int_eq(call("GET", "/api/persons/1/locations?limit=3", NULL, &o, NULL), 200);
    ck_assert_int_eq(json_object_array_length(o), 3);
    assert_location_shape(json_object_array_get_idx(o, 0));
    json_object_put(o);
    /* ETag → 304 */
    struct httpc_response r;
    char url[512], etag[64], inm[96];
    ck_assert_int_eq(call("GET", "/api/persons/1", NULL, NULL, &r), 200);
    ck_assert_ptr_nonnull(httpc_header(&r, "ETag", etag, sizeof etag));
    httpc_response_free(&r);
    snprintf(url, sizeof url, "%s/api/persons/1", itest_env("UDC_API_URL"));
    snprintf(inm, sizeof inm, "If-None-Match: %s", etag);
    const char *h[] = {inm, NULL};
    ck_assert_int_eq(httpc_request("GET", url, h, NULL, 0, &r), 0);
    ck_assert_int_eq(r.status, 304);
    httpc_response_free(&r);
}
END_TEST

/* GET /api/persons (no parameters, kept rendered by the API) with its ETag. */
static json_object *all_persons(char *etag, size_t etag_size)
{
    json_object *o;
    struct httpc_response r;
    ck_assert_int_eq(call("GET", "/api/persons", NULL, &o, &r), 200);
    ck_assert(json_object_is_type(o, json_type_array));
    ck_assert_ptr_nonnull(httpc_header(&r, "ETag", etag, etag_size));
    httpc_response_free(&r);
    return o;
}

/* The person of the list with this id, or NULL. */
static json_object *find_person(json_object *list, long long id)
{
    for (size_t i = 0; i < json_object_array_length(list); i++) {
        json_object *p = json_object_array_get_idx(list, i);
        if (json_object_get_int64(json_object_object_get(p, "id")) == id)
            return p;
    }
    return NULL;
}

static long get_if_none_match(const char *path, const char *etag)
{
    char url[512], inm[96];
    struct httpc_response r;
    snprintf(url, sizeof url, "%s%s", itest_env("UDC_API_URL"), path);
    snprintf(inm, sizeof inm, "If-None-Match: %s", etag);
    const char *h[] = {inm, NULL};
    ck_assert_int_eq(httpc_request("GET", url, h, NULL, 0, &r), 0);
    long status = r.status;
    httpc_response_free(&r);
    return status;
}

/* The list is kept rendered between requests; each change of person, through the API or
 * straight in the database, must show in the very next GET, with a new ETag. */
START_TEST(list_of_people_follows_every_change)
{
    char etag[64], before[64], start[64];
    json_object *list = all_persons(before, sizeof before);
    snprintf(start, sizeof start, "%s", before);
    size_t n = json_object_array_length(list);
    json_object_put(list);
    ck_assert_int_eq(get_if_none_match("/api/persons", before), 304);

    /* POST /api/persons */
    json_object *o;
    ck_assert_int_eq(call("POST", "/api/persons",
                          "{\"first_name\":\"Grace\",\"last_name\":\"Hopper\","
                          "\"company_name\":\"Cache Tests\"}",
                          &o, NULL),
                     201);
    long long posted = json_object_get_int64(json_object_object_get(o, "id"));
    json_object_put(o);
    list = all_persons(etag, sizeof etag);
    ck_assert_uint_eq(json_object_array_length(list), n + 1);
    ck_assert_ptr_nonnull(find_person(list, posted));
    json_object_put(list);
    ck_assert_str_ne(etag, before);
    ck_assert_int_eq(get_if_none_match("/api/persons", before), 200);
    snprintf(before, sizeof before, "%s", etag);

    /* INSERT in SQL */
    PGconn *db = itest_db();
    long long inserted =
        itest_db_value(db,
                       "INSERT INTO person (first_name, last_name, company_name)"
                       " VALUES ('Edsger', 'Dijkstra', 'Cache Tests') RETURNING id",
                       0, NULL);
    list = all_persons(etag, sizeof etag);
    ck_assert_uint_eq(json_object_array_length(list), n + 2);
    json_object *p = find_person(list, inserted);
    ck_assert_ptr_nonnull(p);
    ck_assert_str_eq(str_of(p, "last_name"), "Dijkstra");
    json_object_put(list);
    ck_assert_str_ne(etag, before);
    snprintf(before, sizeof before, "%s", etag);

    /* UPDATE in SQL */
    char id[24];
    snprintf(id, sizeof id, "%lld", inserted);
    const char *params[] = {id};
    itest_db_exec(db, "UPDATE person SET first_name = 'Ed' WHERE id = $1::int", 1, params);
    list = all_persons(etag, sizeof etag);
    ck_assert_str_eq(str_of(find_person(list, inserted), "first_name"), "Ed");
    json_object_put(list);
    ck_assert_str_ne(etag, before);
    ck_assert_int_eq(get_if_none_match("/api/persons", etag), 304);

    /* DELETE in SQL: back to the list of the start, byte for byte (same ETag) */
    itest_db_exec(db, "DELETE FROM person WHERE company_name = 'Cache Tests'", 0, NULL);
    PQfinish(db);
    list = all_persons(etag, sizeof etag);
    ck_assert_uint_eq(json_object_array_length(list), n);
    ck_assert_ptr_null(find_person(list, posted));
    ck_assert_ptr_null(find_person(list, inserted));
    json_object_put(list);
    ck_assert_str_eq(etag, start);
}
END_TEST

START_TEST(posting_a_ping_here_is_redirected_to_ingest)
{
    struct httpc_response r;
    ck_assert_int_eq(call("POST", "/api/locations", "{\"person_id\":1}", NULL, &r), 307);
    char location[256], expect[256];
    snprintf(expect, sizeof expect, "%s/api/locations", itest_env("UDC_INGEST_URL"));
    httpc_header(&r, "Location", location, sizeof location);
    /* Same port as the ingest service (the host may be spelt localhost). */
    ck_assert_str_eq(strrchr(location, ':'), strrchr(expect, ':'));
    httpc_response_free(&r);
}
END_TEST

/* --- OpenAPI: every documented route answers as documented ----------------------------- */

START_TEST(every_documented_route_answers_as_documented)
{
    json_object *doc, *paths;
    ck_assert_int_eq(call("GET", "/api/openapi.json", NULL, &doc, NULL), 200);
    ck_assert_str_eq(str_of(doc, "openapi"), "3.0.3");
    ck_assert(json_object_object_get_ex(doc, "paths", &paths));
    int checked = 0;
    json_object_object_foreach(paths, path, ops)
    {
        json_object_object_foreach(ops, method, op)
        {
            char concrete[256], upper[8];
            const char *id = strstr(path, "/locations/{id}") ? "29" : "1";
            const char *brace = strstr(path, "{id}");
            if (brace)
                snprintf(concrete, sizeof concrete, "%.*s%s%s", (int)(brace - path), path, id,
                         brace + 4);
            else
                snprintf(concrete, sizeof concrete, "%s", path);
            if (strstr(path, "/connection"))
                strncat(concrete, "?start_date=2020-01-01&end_date=2020-12-30",
                        sizeof concrete - strlen(concrete) - 1);
            size_t k = 0;
            for (; method[k] && k < sizeof upper - 1; k++)
                upper[k] = (char)(method[k] - 32);
            upper[k] = '\0';
            const char *body = NULL;
            json_object *rb, *content, *media, *example;
            if (json_object_object_get_ex(op, "requestBody", &rb) &&
                json_object_object_get_ex(rb, "content", &content) &&
                json_object_object_get_ex(content, "application/json", &media) &&
                json_object_object_get_ex(media, "example", &example))
                body = json_object_to_json_string(example);
            long status = call(upper, concrete, body, NULL, NULL);
            char code[8];
            snprintf(code, sizeof code, "%ld", status);
            json_object *responses;
            ck_assert(json_object_object_get_ex(op, "responses", &responses));
            ck_assert_msg(json_object_object_get_ex(responses, code, NULL),
                          "%s %s answered %ld, not documented", upper, concrete, status);
            ck_assert_msg(status < 400 || strcmp(code, "503") == 0,
                          "%s %s answered %ld for the documented example", upper, concrete, status);
            checked++;
        }
    }
    ck_assert_int_ge(checked, 10);
    json_object_put(doc);
}
END_TEST

/* --- connections against the geometry ----------------------------------------------------- */

/* The people within distance of person p by brute force (ST_Distance over every pair). */
static char *brute_force_people(PGconn *db, int person, const char *start, const char *end,
                                double distance, int window)
{
    char p[5][32];
    snprintf(p[0], sizeof p[0], "%d", person);
    snprintf(p[1], sizeof p[1], "%s", start);
    snprintf(p[2], sizeof p[2], "%s", end);
    snprintf(p[3], sizeof p[3], "%.17g", distance);
    snprintf(p[4], sizeof p[4], "%d", window);
    const char *params[] = {p[0], p[1], p[2], p[3], window >= 0 ? p[4] : NULL};
    PGresult *res = PQexecParams(
        db,
        "SELECT COALESCE(string_agg(DISTINCT o.person_id::text, ',' ORDER BY o.person_id::text), "
        "'')"
        "  FROM location m, location o"
        " WHERE m.person_id = $1::int AND o.person_id <> $1::int"
        "   AND m.creation_time >= $2::date AND m.creation_time < $3::date"
        "   AND o.creation_time >= $2::date AND o.creation_time < $3::date + 1"
        "   AND ST_Distance(m.coordinate, o.coordinate) <= $4::float8"
        "   AND ($5::int IS NULL OR abs(extract(epoch FROM m.creation_time - o.creation_time))"
        "        <= $5::int * 60)",
        5, NULL, params, NULL, NULL, 0);
    ck_assert_int_eq(PQresultStatus(res), PGRES_TUPLES_OK);
    char *out = strdup(PQgetvalue(res, 0, 0));
    PQclear(res);
    return out;
}

/* "5,6,8" from the API's answer (ids sorted as text, like the SQL above). */
static char *api_people(const char *path)
{
    json_object *o;
    ck_assert_int_eq(call("GET", path, NULL, &o, NULL), 200);
    size_t n = json_object_array_length(o);
    char **ids = calloc(n + 1, sizeof *ids);
    for (size_t i = 0; i < n; i++) {
        json_object *item = json_object_array_get_idx(o, i);
        json_object *person = json_object_object_get(item, "person");
        assert_person_shape(person);
        assert_location_shape(json_object_object_get(item, "location"));
        ck_assert_int_eq(type_of(item, "count"), json_type_int);
        ck_assert_int_eq(type_of(item, "min_distance_m"), json_type_double);
        ids[i] = strdup(str_of(person, "id"));
    }
    /* sort as text */
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            if (strcmp(ids[j], ids[i]) < 0) {
                char *t = ids[i];
                ids[i] = ids[j];
                ids[j] = t;
            }
    char *out = calloc(1, n * 12 + 1);
    for (size_t i = 0; i < n; i++) {
        if (i)
            strcat(out, ",");
        strcat(out, ids[i]);
        free(ids[i]);
    }
    free(ids);
    json_object_put(o);
    return out;
}

START_TEST(seed_connections_are_what_the_geometry_says)
{
    PGconn *db = itest_db();
    struct {
        int person;
        const char *start, *end;
        double distance;
    } cases[] = {{1, "2020-01-01", "2020-12-30", 5},   {5, "2020-01-01", "2020-12-30", 5},
                 {6, "2020-01-01", "2020-12-30", 5},   {8, "2020-01-01", "2020-12-30", 5},
                 {9, "2020-01-01", "2020-12-30", 5},   {1, "2020-08-01", "2020-08-18", 5},
                 {1, "2020-01-01", "2020-12-30", 0.5}, {5, "2020-07-01", "2020-07-08", 50}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[256];
        snprintf(path, sizeof path,
                 "/api/persons/%d/connection?start_date=%s&end_date=%s&distance=%g",
                 cases[i].person, cases[i].start, cases[i].end, cases[i].distance);
        char *want = brute_force_people(db, cases[i].person, cases[i].start, cases[i].end,
                                        cases[i].distance, -1);
        char *got = api_people(path);
        ck_assert_msg(strcmp(want, got) == 0, "%s: geometry says {%s}, API says {%s}", path, want,
                      got);
        free(want);
        free(got);
    }
    PQfinish(db);
}
END_TEST

/* The precomputed table and the live query answer co-presence identically. */
START_TEST(precomputed_and_live_answers_are_equal)
{
    PGconn *db = itest_db();
    const struct udc_db_statement *live = NULL, *pre = NULL;
    for (size_t i = 0; i < connection_statement_count; i++) {
        if (strcmp(connection_statements[i].name, CONNECTIONS_LIVE) == 0)
            live = &connection_statements[i];
        if (strcmp(connection_statements[i].name, CONNECTIONS_PRECOMPUTED) == 0)
            pre = &connection_statements[i];
    }
    ck_assert(live && pre);
    const char *people[] = {"1", "5", "6", "8", "9"};
    const char *distances[] = {"5", "2.5", "0.01", "1"};
    const char *windows[] = {"30", "0", "10", "1"};
    int compared = 0;
    for (size_t p = 0; p < 5; p++)
        for (size_t d = 0; d < 4; d++)
            for (size_t w = 0; w < 4; w++) {
                const char *params[] = {people[p],    "1577836800000000", "1609286400000000",
                                        distances[d], windows[w],         "0",
                                        NULL};
                PGresult *a = PQexecParams(db, live->sql, 7, NULL, params, NULL, NULL, 0);
                PGresult *b = PQexecParams(db, pre->sql, 7, NULL, params, NULL, NULL, 0);
                ck_assert_int_eq(PQresultStatus(a), PGRES_TUPLES_OK);
                ck_assert_int_eq(PQresultStatus(b), PGRES_TUPLES_OK);
                ck_assert_int_eq(PQntuples(a), PQntuples(b));
                for (int r = 0; r < PQntuples(a); r++)
                    for (int c = 0; c < PQnfields(a); c++) {
                        if (c == CONN_COL_MIN_DISTANCE)
                            ck_assert_double_eq_tol(atof(PQgetvalue(a, r, c)),
                                                    atof(PQgetvalue(b, r, c)), 1e-6);
                        else
                            ck_assert_str_eq(PQgetvalue(a, r, c), PQgetvalue(b, r, c));
                    }
                compared += PQntuples(a);
                PQclear(a);
                PQclear(b);
            }
    ck_assert_int_gt(compared, 0);
    PQfinish(db);
}
END_TEST

/* A ping posted to udc-ingest-http shows up as a connection within 2 s. */
struct appear {
    char path[256];
    int person;
};

static int connection_appeared(void *arg)
{
    struct appear *a = arg;
    json_object *o;
    if (call("GET", a->path, NULL, &o, NULL) != 200)
        return 0;
    int found = 0;
    for (size_t i = 0; o && i < json_object_array_length(o); i++) {
        json_object *person = json_object_object_get(json_object_array_get_idx(o, i), "person");
        found |= json_object_get_int(json_object_object_get(person, "id")) == a->person;
    }
    json_object_put(o);
    return found;
}

START_TEST(a_new_ping_becomes_a_connection_within_two_seconds)
{
    json_object *o;
    ck_assert_int_eq(call("POST", "/api/persons",
                          "{\"first_name\":\"Grace\",\"last_name\":\"Hopper\","
                          "\"company_name\":\"Navy\"}",
                          &o, NULL),
                     201);
    int person = json_object_get_int(json_object_object_get(o, "id"));
    json_object_put(o);
    /* Two metres north of Pam's ping 29 (2020-08-18T10:37:06Z), five minutes later: clear of
     * the 1 m and 5 m boundaries other tests draw around her. */
    char body[256], url[512];
    snprintf(body, sizeof body,
             "{\"person_id\":%d,\"latitude\":37.553459,\"longitude\":-122.290524,"
             "\"creation_time\":\"2020-08-18T10:42:06Z\"}",
             person);
    snprintf(url, sizeof url, "%s/api/locations", itest_env("UDC_INGEST_URL"));
    struct httpc_response r;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ck_assert_int_eq(httpc_request("POST", url, json_headers, body, strlen(body), &r), 0);
    ck_assert_int_eq(r.status, 202);
    httpc_response_free(&r);
    struct appear a = {.person = person};
    snprintf(a.path, sizeof a.path,
             "/api/persons/1/connection?start_date=2020-08-18&end_date=2020-08-19&distance=5"
             "&window=30");
    ck_assert_msg(itest_wait(connection_appeared, &a, 2000), "no co-presence connection in 2 s");
    clock_gettime(CLOCK_MONOTONIC, &t1);
    fprintf(stderr, "ping to connection: %.0f ms\n",
            (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
    /* and with the POC's semantics */
    snprintf(a.path, sizeof a.path,
             "/api/persons/1/connection?start_date=2020-08-18&end_date=2020-08-19&distance=5");
    ck_assert(connection_appeared(&a));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("api");
    TCase *tc = tcase_create("contract");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, persons_as_the_poc_served_them);
    tcase_add_test(tc, poc_mistakes_are_fixed);
    tcase_add_test(tc, creating_people);
    tcase_add_test(tc, cors_preflight_is_answered);
    tcase_add_test(tc, pages_and_etags);
    tcase_add_test(tc, list_of_people_follows_every_change);
    tcase_add_test(tc, posting_a_ping_here_is_redirected_to_ingest);
    tcase_add_test(tc, every_documented_route_answers_as_documented);
    tcase_add_test(tc, seed_connections_are_what_the_geometry_says);
    tcase_add_test(tc, precomputed_and_live_answers_are_equal);
    tcase_add_test(tc, a_new_ping_becomes_a_connection_within_two_seconds);
    suite_add_tcase(s, tc);
    return udc_test_run(s);
}
