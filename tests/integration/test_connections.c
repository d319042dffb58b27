/* Connections against a brute-force reference: on a random data set of a few thousand pings
 * (seeded, so a failure can be replayed), for random people, date ranges, distances and
 * windows, the API's three statements — the POC's semantics, co-presence live, co-presence
 * from the connector's precomputed pairs — give exactly what comparing every pair of pings
 * with ST_Distance gives. Everything happens in one transaction that is rolled back. */
#include <check.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/connection_queries.h"
#include "connector/pairs.h"
#include "itest.h"
#include "suite_run.h"

#define PEOPLE   30
#define PINGS    3000
#define CLUSTERS 12
#define RADIUS_M 5.0 /* connector.radius_m of the test stack's configuration */
#define WINDOW   30  /* connector.window_min */

/* A patch of the Tasman Sea: no other test puts pings there. */
#define BASE_LAT (-40.0)
#define BASE_LON 160.0

static PGconn *db;
static int people[PEOPLE];
static const int64_t day0_us = INT64_C(1633046400) * 1000000; /* 2021-10-01 */

static double frand(void)
{
    return (double)rand() / RAND_MAX;
}

static void exec_ok(const char *sql, int n, const char *const *params)
{
    itest_db_exec(db, sql, n, params);
}

static const struct udc_db_statement *statement(const struct udc_db_statement *table, size_t n,
                                                const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(table[i].name, name) == 0)
            return &table[i];
    ck_abort_msg("no statement %s", name);
    return NULL;
}

/* Clusters of pings metres apart (booths), people visiting several of them over 3 days. */
static void make_data(void)
{
    double clat[CLUSTERS], clon[CLUSTERS];
    for (int c = 0; c < CLUSTERS; c++) {
        clat[c] = BASE_LAT + frand() * 0.01; /* about 1 km */
        clon[c] = BASE_LON + frand() * 0.01;
    }
    for (int p = 0; p < PEOPLE; p++)
        people[p] = (int)itest_db_value(db,
                                        "INSERT INTO person (first_name, last_name, company_name)"
                                        " VALUES ('Random', 'Visitor', 'Connections test')"
                                        " RETURNING id",
                                        0, NULL);
    for (int i = 0; i < PINGS; i++) {
        int c = rand() % CLUSTERS;
        /* jitter up to ~8 m: many pairs fall on either side of 1–5 m */
        double lat = clat[c] + (frand() - 0.5) * 0.00014;
        double lon = clon[c] + (frand() - 0.5) * 0.00018;
        int64_t t = day0_us + (int64_t)(rand() % 3) * 86400000000 +
                    (int64_t)(9 * 3600 + rand() % (9 * 3600)) * 1000000;
        char p[4][32], uuid[37];
        itest_uuid(uuid);
        snprintf(p[0], sizeof p[0], "%d", people[rand() % PEOPLE]);
        snprintf(p[1], sizeof p[1], "%.9f", lon);
        snprintf(p[2], sizeof p[2], "%.9f", lat);
        snprintf(p[3], sizeof p[3], "%" PRId64, t);
        const char *params[] = {uuid, p[0], p[1], p[2], p[3]};
        exec_ok("INSERT INTO location (event_id, person_id, coordinate, creation_time, source)"
                " VALUES ($1, $2, ST_SetSRID(ST_MakePoint($3, $4), 4326)::geography,"
                "  timestamptz 'epoch' + $5::int8 * interval '1 microsecond', 'test')",
                5, params);
    }
    /* The precomputed pairs, by the connector's own statement over the new rows. */
    char radius[16], window[16];
    snprintf(radius, sizeof radius, "%g", RADIUS_M);
    snprintf(window, sizeof window, "%d", WINDOW);
    PGresult *ids = PQexec(db, "SELECT array_agg(id)::text FROM location WHERE source = 'test'"
                               " AND ST_Y(coordinate::geometry) < -39");
    ck_assert_int_eq(PQresultStatus(ids), PGRES_TUPLES_OK);
    const char *pair_params[] = {PQgetvalue(ids, 0, 0), radius, window};
    const struct udc_db_statement *pair =
        statement(pairs_statements, pairs_statement_count, "connector_pair");
    PGresult *res = PQexecParams(db, pair->sql, 3, NULL, pair_params, NULL, NULL, 0);
    ck_assert_msg(PQresultStatus(res) == PGRES_COMMAND_OK, "%s", PQerrorMessage(db));
    ck_assert_int_gt(atoi(PQcmdTuples(res)), 100);
    PQclear(res);
    /* Pairing again finds nothing new: the connector is idempotent. */
    res = PQexecParams(db, pair->sql, 3, NULL, pair_params, NULL, NULL, 0);
    ck_assert_str_eq(PQcmdTuples(res), "0");
    PQclear(res);
    PQclear(ids);
}

static void setup(void)
{
    db = itest_db();
    srand(20201128);
    exec_ok("BEGIN", 0, NULL);
    make_data();
    /* Nobody else is near: the brute force may stay among the test's people. */
    ck_assert_int_eq(itest_db_value(db,
                                    "SELECT count(*) FROM location WHERE source <> 'test' AND"
                                    " ST_DWithin(coordinate, ST_MakePoint(160.005, -39.995)"
                                    "::geography, 5000)",
                                    0, NULL),
                     0);
}

static void teardown(void)
{
    PQclear(PQexec(db, "ROLLBACK"));
    PQfinish(db);
}

/* One row per other person: id, count, min distance, first/last seen µs, earliest ping id. */
static PGresult *brute_force(const char *const *p)
{
    PGresult *res = PQexecParams(
        db,
        "WITH t AS (SELECT timestamptz 'epoch' + $2::int8 * interval '1 microsecond' AS t0,"
        "                  timestamptz 'epoch' + $3::int8 * interval '1 microsecond' AS t1),"
        " pair AS ("
        "  SELECT o.id, o.person_id, o.creation_time, ST_Distance(m.coordinate, o.coordinate) AS d"
        "    FROM location m, location o, t"
        "   WHERE m.person_id = $1::int AND o.person_id <> $1::int"
        "     AND o.source = 'test' AND o.person_id > $6::int"
        "     AND m.creation_time >= t.t0 AND m.creation_time < t.t1"
        "     AND o.creation_time >= t.t0 AND o.creation_time < t.t1 + interval '1 day'"
        "     AND ST_Distance(m.coordinate, o.coordinate) <= $4::float8"
        "     AND ($5::int IS NULL OR"
        "          abs(extract(epoch FROM o.creation_time - m.creation_time)) <= $5::int * 60))"
        "SELECT person_id, count(DISTINCT id), min(d),"
        "       (extract(epoch FROM min(creation_time)) * 1000000)::int8,"
        "       (extract(epoch FROM max(creation_time)) * 1000000)::int8,"
        "       (array_agg(id ORDER BY creation_time, id))[1]"
        "  FROM pair GROUP BY person_id ORDER BY person_id",
        6, NULL, p, NULL, NULL, 0);
    ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "%s", PQerrorMessage(db));
    return res;
}

static void compare(const char *stmt_name, const char *const *p, const char *what)
{
    const struct udc_db_statement *s =
        statement(connection_statements, connection_statement_count, stmt_name);
    const char *params[7] = {p[0], p[1], p[2], p[3], p[4] ? p[4] : "0", p[5], NULL};
    PGresult *got = PQexecParams(db, s->sql, 7, NULL, params, NULL, NULL, 0);
    ck_assert_msg(PQresultStatus(got) == PGRES_TUPLES_OK, "%s", PQerrorMessage(db));
    PGresult *want = brute_force(p);
    ck_assert_msg(PQntuples(got) == PQntuples(want), "%s %s: %d people, brute force %d", stmt_name,
                  what, PQntuples(got), PQntuples(want));
    for (int r = 0; r < PQntuples(want); r++) {
        const char *who = PQgetvalue(want, r, 0);
        ck_assert_msg(strcmp(PQgetvalue(got, r, CONN_COL_PERSON), who) == 0, "%s %s: person",
                      stmt_name, what);
        ck_assert_msg(strcmp(PQgetvalue(got, r, CONN_COL_COUNT), PQgetvalue(want, r, 1)) == 0,
                      "%s %s: person %s count %s, brute force %s", stmt_name, what, who,
                      PQgetvalue(got, r, CONN_COL_COUNT), PQgetvalue(want, r, 1));
        ck_assert_double_eq_tol(atof(PQgetvalue(got, r, CONN_COL_MIN_DISTANCE)),
                                atof(PQgetvalue(want, r, 2)), 1e-6);
        ck_assert_str_eq(PQgetvalue(got, r, CONN_COL_FIRST_SEEN), PQgetvalue(want, r, 3));
        ck_assert_str_eq(PQgetvalue(got, r, CONN_COL_LAST_SEEN), PQgetvalue(want, r, 4));
        ck_assert_str_eq(PQgetvalue(got, r, CONN_COL_LOCATION), PQgetvalue(want, r, 5));
    }
    PQclear(got);
    PQclear(want);
}

START_TEST(random_questions_match_the_brute_force)
{
    static const double distances[] = {0.5, 1, 2, 3, 5, 8, 25};
    static const int windows[] = {-1, 0, 1, 5, 15, 30, 90};
    int nonempty = 0;
    for (int q = 0; q < 40; q++) {
        char p[6][32], what[160];
        int person = people[rand() % PEOPLE];
        int64_t start = day0_us + (int64_t)(rand() % 4 - 1) * 86400000000;
        int64_t end = start + (int64_t)(rand() % 4) * 86400000000;
        double distance = distances[rand() % 7];
        int window = windows[rand() % 7];
        int after = rand() % 4 == 0 ? people[rand() % PEOPLE] : 0; /* a page cursor */
        snprintf(p[0], sizeof p[0], "%d", person);
        snprintf(p[1], sizeof p[1], "%" PRId64, start);
        snprintf(p[2], sizeof p[2], "%" PRId64, end);
        snprintf(p[3], sizeof p[3], "%g", distance);
        snprintf(p[4], sizeof p[4], "%d", window);
        snprintf(p[5], sizeof p[5], "%d", after);
        const char *params[] = {p[0], p[1], p[2], p[3], window >= 0 ? p[4] : NULL, p[5]};
        snprintf(what, sizeof what, "(question %d: person %d, %gm, window %d, after %d)", q, person,
                 distance, window, after);
        if (window < 0) {
            compare(CONNECTIONS_POC, params, what);
        } else {
            compare(CONNECTIONS_LIVE, params, what);
            if (distance <= RADIUS_M && window <= WINDOW)
                compare(CONNECTIONS_PRECOMPUTED, params, what);
        }
        PGresult *want = brute_force(params);
        nonempty += PQntuples(want) > 0;
        PQclear(want);
    }
    /* The data set is dense enough that most questions have answers. */
    ck_assert_int_ge(nonempty, 20);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("connections");
    TCase *tc = tcase_create("brute_force");
    tcase_set_timeout(tc, 600);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, random_questions_match_the_brute_force);
    suite_add_tcase(s, tc);
    return udc_test_run(s);
}
