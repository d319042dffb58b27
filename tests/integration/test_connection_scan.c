/* GET /api/persons/{id}/connection answered in C (connection_scan.c for the POC question,
 * the precomputed pairs summed up in the API) against the SQL statements the brute-force
 * contract tests check (CONNECTIONS_POC, CONNECTIONS_PRECOMPUTED): on a random data set
 * committed for the test (the API must see it) in a patch of ocean no other test uses, every
 * field of every item must be the statement's. Removed again at the end. */
#include <check.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/connection_queries.h"
#include "connector/pairs.h"
#include "httpc.h"
#include "itest.h"
#include "timefmt.h"
#include "suite_run.h"

#define PEOPLE   25
#define PINGS    2500
#define CLUSTERS 10
#define BASE_LAT (-47.0) /* south of New Zealand */
#define BASE_LON 168.0
#define SOURCE   "test-scan"

static PGconn *db;
static int people[PEOPLE];
static const int64_t day0_us = INT64_C(1635724800) * 1000000; /* 2021-11-01 */

static double frand(void)
{
    return (double)rand() / RAND_MAX;
}

static const struct udc_db_statement *statement(const char *name)
{
    for (size_t i = 0; i < connection_statement_count; i++)
        if (strcmp(connection_statements[i].name, name) == 0)
            return &connection_statements[i];
    ck_abort_msg("no statement %s", name);
    return NULL;
}

static void remove_data(void)
{
    itest_db_exec(db, "DELETE FROM location WHERE source = '" SOURCE "'", 0, NULL);
    itest_db_exec(db, "DELETE FROM person WHERE company_name = 'Connection scan test'", 0, NULL);
}

static void setup(void)
{
    db = itest_db();
    srand(20211101);
    remove_data();
    double clat[CLUSTERS], clon[CLUSTERS];
    for (int c = 0; c < CLUSTERS; c++) {
        clat[c] = BASE_LAT + frand() * 0.01;
        clon[c] = BASE_LON + frand() * 0.01;
    }
    for (int p = 0; p < PEOPLE; p++)
        people[p] = (int)itest_db_value(db,
                                        "INSERT INTO person (first_name, last_name, company_name)"
                                        " VALUES ('Scan', 'Visitor', 'Connection scan test')"
                                        " RETURNING id",
                                        0, NULL);
    itest_db_exec(db, "BEGIN", 0, NULL);
    for (int i = 0; i < PINGS; i++) {
        int c = rand() % CLUSTERS;
        double lat = clat[c] + (frand() - 0.5) * 0.00014; /* ~8 m of jitter */
        double lon = clon[c] + (frand() - 0.5) * 0.00020;
        int64_t t = day0_us + (int64_t)(rand() % 3) * 86400000000 +
                    (int64_t)(9 * 3600 + rand() % (9 * 3600)) * 1000000;
        char p[4][32], uuid[37];
        itest_uuid(uuid);
        snprintf(p[0], sizeof p[0], "%d", people[rand() % PEOPLE]);
        snprintf(p[1], sizeof p[1], "%.9f", lon);
        snprintf(p[2], sizeof p[2], "%.9f", lat);
        snprintf(p[3], sizeof p[3], "%" PRId64, t);
        const char *params[] = {uuid, p[0], p[1], p[2], p[3]};
        itest_db_exec(
            db,
            "INSERT INTO location (event_id, person_id, coordinate, creation_time, source)"
            " VALUES ($1, $2, ST_SetSRID(ST_MakePoint($3, $4), 4326)::geography,"
            "  timestamptz 'epoch' + $5::int8 * interval '1 microsecond', '" SOURCE "')",
            5, params);
    }
    /* Precomputed pairs by the connector's own statement (radius 5 m, 30 minutes). */
    PGresult *ids =
        PQexec(db, "SELECT array_agg(id)::text FROM location WHERE source = '" SOURCE "'");
    ck_assert_int_eq(PQresultStatus(ids), PGRES_TUPLES_OK);
    const char *pair_params[] = {PQgetvalue(ids, 0, 0), "5", "30"};
    const struct udc_db_statement *pair = NULL;
    for (size_t i = 0; i < pairs_statement_count; i++)
        if (strcmp(pairs_statements[i].name, "connector_pair") == 0)
            pair = &pairs_statements[i];
    ck_assert_ptr_nonnull(pair);
    PGresult *res = PQexecParams(db, pair->sql, 3, NULL, pair_params, NULL, NULL, 0);
    ck_assert_msg(PQresultStatus(res) == PGRES_COMMAND_OK, "%s", PQerrorMessage(db));
    ck_assert_int_gt(atoi(PQcmdTuples(res)), 100);
    PQclear(res);
    PQclear(ids);
    itest_db_exec(db, "COMMIT", 0, NULL);
    /* The pairs' index is read index-only once the visibility map says so. */
    PQclear(PQexec(db, "VACUUM ANALYZE connection"));
}

static void teardown(void)
{
    remove_data();
    PQfinish(db);
}

static const char *member_text(json_object *o, const char *key)
{
    json_object *v = NULL;
    ck_assert_msg(json_object_object_get_ex(o, key, &v), "no %s", key);
    return json_object_get_string(v);
}

/* The API's answer, item by item, equals the statement's rows. */
static int compare(const char *stmt, const char *const *p, const char *query, const char *what)
{
    PGresult *want = PQexecParams(db, statement(stmt)->sql, 7, NULL, p, NULL, NULL, 0);
    ck_assert_msg(PQresultStatus(want) == PGRES_TUPLES_OK, "%s", PQerrorMessage(db));
    char url[512];
    snprintf(url, sizeof url, "%s/api/persons/%s/connection?%s", itest_env("UDC_API_URL"), p[0],
             query);
    struct httpc_response r;
    ck_assert_int_eq(httpc_request("GET", url, NULL, NULL, 0, &r), 0);
    ck_assert_msg(r.status == 200, "%s: status %ld", what, r.status);
    json_object *got = json_tokener_parse(r.body);
    ck_assert_ptr_nonnull(got);
    int rows = PQntuples(want);
    ck_assert_msg((int)json_object_array_length(got) == rows, "%s: %d people, statement %d", what,
                  (int)json_object_array_length(got), rows);
    for (int i = 0; i < rows; i++) {
        json_object *item = json_object_array_get_idx(got, (size_t)i), *person, *loc, *d;
        json_object_object_get_ex(item, "person", &person);
        json_object_object_get_ex(item, "location", &loc);
        json_object_object_get_ex(item, "min_distance_m", &d);
        char t[3][40];
        udc_time_format_naive(atoll(PQgetvalue(want, i, CONN_COL_LOCATION + 4)), t[0], 40);
        udc_time_format_naive(atoll(PQgetvalue(want, i, CONN_COL_FIRST_SEEN)), t[1], 40);
        udc_time_format_naive(atoll(PQgetvalue(want, i, CONN_COL_LAST_SEEN)), t[2], 40);
        const char *pairs[][2] = {
            {member_text(person, "id"), PQgetvalue(want, i, CONN_COL_PERSON)},
            {member_text(person, "last_name"), PQgetvalue(want, i, CONN_COL_PERSON + 2)},
            {member_text(loc, "id"), PQgetvalue(want, i, CONN_COL_LOCATION)},
            {member_text(loc, "person_id"), PQgetvalue(want, i, CONN_COL_LOCATION + 1)},
            {member_text(loc, "latitude"), PQgetvalue(want, i, CONN_COL_LOCATION + 2)},
            {member_text(loc, "longitude"), PQgetvalue(want, i, CONN_COL_LOCATION + 3)},
            {member_text(loc, "creation_time"), t[0]},
            {member_text(item, "first_seen"), t[1]},
            {member_text(item, "last_seen"), t[2]},
            {member_text(item, "count"), PQgetvalue(want, i, CONN_COL_COUNT)}};
        for (size_t k = 0; k < sizeof pairs / sizeof pairs[0]; k++)
            ck_assert_msg(strcmp(pairs[k][0], pairs[k][1]) == 0, "%s, row %d: API %s, SQL %s", what,
                          i, pairs[k][0], pairs[k][1]);
        /* The JSON number has 15 significant digits. */
        double sql_d = strtod(PQgetvalue(want, i, CONN_COL_MIN_DISTANCE), NULL);
        char a[32], b[32];
        snprintf(a, sizeof a, "%.15g", json_object_get_double(d));
        snprintf(b, sizeof b, "%.15g", sql_d);
        ck_assert_msg(strcmp(a, b) == 0, "%s, row %d: distance %s, SQL %s", what, i, a, b);
    }
    json_object_put(got);
    httpc_response_free(&r);
    PQclear(want);
    return rows;
}

START_TEST(answers_in_c_equal_the_statements)
{
    static const double distances[] = {0, 0.5, 1, 2, 3, 5, 8, 25, 1500};
    int nonempty = 0;
    for (int q = 0; q < 40; q++) {
        int person = people[rand() % PEOPLE];
        int first_day = rand() % 4 - 1, days = rand() % 4;
        double distance = distances[rand() % 9];
        int window = q % 2 ? 1 + rand() % 30 : -1;
        if (window >= 0 && distance > 5)
            distance = 5; /* the precomputed table's radius */
        char p[7][32], query[160], what[200], start[12], end[12];
        int64_t start_us = day0_us + (int64_t)first_day * 86400000000;
        int64_t end_us = start_us + (int64_t)days * 86400000000;
        time_t s = (time_t)(start_us / 1000000), e = (time_t)(end_us / 1000000);
        strftime(start, sizeof start, "%Y-%m-%d", gmtime(&s));
        strftime(end, sizeof end, "%Y-%m-%d", gmtime(&e));
        snprintf(p[0], sizeof p[0], "%d", person);
        snprintf(p[1], sizeof p[1], "%" PRId64, start_us);
        snprintf(p[2], sizeof p[2], "%" PRId64, end_us);
        snprintf(p[3], sizeof p[3], "%g", distance);
        snprintf(p[4], sizeof p[4], "%d", window < 0 ? 0 : window);
        const char *params[] = {p[0], p[1], p[2], p[3], p[4], "0", NULL};
        snprintf(query, sizeof query, "start_date=%s&end_date=%s&distance=%g", start, end,
                 distance);
        if (window >= 0)
            snprintf(query + strlen(query), sizeof query - strlen(query), "&window=%d", window);
        snprintf(what, sizeof what, "question %d: person %d, %s", q, person, query);
        nonempty += compare(window < 0 ? CONNECTIONS_POC : CONNECTIONS_PRECOMPUTED, params, query,
                            what) > 0;
    }
    ck_assert_int_ge(nonempty, 15);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("connection_scan");
    TCase *tc = tcase_create("against_sql");
    tcase_set_timeout(tc, 600);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, answers_in_c_equal_the_statements);
    suite_add_tcase(s, tc);
    return udc_test_run(s);
}
