/* Unit tests for the API's POC-question scan and co-presence summing
 * (daemons/api/connection_scan.c) and statement parameters (daemons/api/stmt_params.c). */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "api/connection_scan.h"
#include "api/stmt_params.h"
#include "suite_run.h"

/* Metres per degree of latitude on the sphere the scan uses. */
#define M_PER_DEG (6371008.771415 * M_PI / 180.0)

START_TEST(cells_are_rows_and_columns_of_the_grid)
{
    ck_assert_int_eq(conn_cell(0, 0), ((int64_t)1800000 << 32) | 3600000);
    ck_assert_int_eq(conn_cell(-90, -180), 0);
    /* 0.00005 degrees apart: the next column / row */
    ck_assert_int_eq(conn_cell(10.000001, 20.000051) - conn_cell(10.000001, 20.000001), 1);
    ck_assert_int_eq(conn_cell(10.000051, 20.000001) - conn_cell(10.000001, 20.000001),
                     (int64_t)1 << 32);
}
END_TEST

START_TEST(float8_text_is_postgresqls)
{
    /* What SELECT x::float8::text prints in PostgreSQL 15. */
    static const struct {
        double v;
        const char *text;
    } cases[] = {{-122.29343644289908, "-122.29343644289908"},
                 {37.55214048078176, "37.55214048078176"},
                 {0.1, "0.1"},
                 {37.5, "37.5"},
                 {100, "100"},
                 {1e-05, "1e-05"},
                 {0.0001, "0.0001"},
                 {-40.00004, "-40.00004"},
                 {160.00012345678901, "160.000123456789"},
                 {-0.0, "-0"}};
    char buf[32];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        ck_assert_str_eq(conn_float8_text(buf, sizeof buf, cases[i].v), cases[i].text);
}
END_TEST

START_TEST(summaries_count_first_last_and_closest_per_person)
{
    struct conn_hit hits[] = {
        {7, 30, 1000, 4.0}, {7, 10, 900, 2.5}, {7, 20, 900, 3.0}, /* tie on time: id 10 */
        {9, 5, 50, 1.0},    {12, 8, 70, 0.5},  {12, 9, 60, 0.75},
    };
    struct conn_summary sums[6];
    double min_d[6];
    size_t n = conn_summarise(hits, 6, -1, sums, min_d);
    ck_assert_uint_eq(n, 3);
    ck_assert_int_eq(sums[0].person, 7);
    ck_assert_int_eq(sums[0].count, 3);
    ck_assert_int_eq(sums[0].first_seen_us, 900);
    ck_assert_int_eq(sums[0].first_id, 10);
    ck_assert_int_eq(sums[0].last_seen_us, 1000);
    ck_assert_double_eq(min_d[0], 2.5);
    ck_assert_int_eq(sums[2].person, 12);
    ck_assert_int_eq(sums[2].first_id, 9);
    ck_assert_int_eq(sums[2].last_seen_us, 70);
    ck_assert_double_eq(min_d[2], 0.5);
    ck_assert_uint_eq(conn_summarise(hits, 6, 2, sums, min_d), 2);
    ck_assert_uint_eq(conn_summarise(hits, 0, -1, sums, min_d), 0);
}
END_TEST

/* A ping `north` metres north and `east` metres east of (lat, lon). */
static struct conn_ping at(double lat, double lon, double north, double east, int32_t person,
                           int64_t id)
{
    struct conn_ping p = {id, person, id * 1000, lat + north / M_PER_DEG,
                          lon + east / (M_PER_DEG * cos(lat * M_PI / 180))};
    return p;
}

static int covered(const struct conn_scan *s, const struct conn_ping *p)
{
    const int64_t *lo, *hi;
    size_t n = conn_scan_ranges(s, &lo, &hi);
    int64_t cell = conn_cell(p->lat, p->lon);
    for (size_t i = 0; i < n; i++)
        if (cell >= lo[i] && cell <= hi[i])
            return 1;
    return 0;
}

START_TEST(candidates_are_in_surely_out_or_left_to_postgis)
{
    const double lat = 37.55, lon = -122.29;
    struct conn_ping own[] = {at(lat, lon, 0, 0, 1, 1), at(lat, lon, 0, 1, 1, 2),
                              at(lat, lon, 40, 40, 1, 3)};
    int unsupported = -1;
    struct conn_scan *s = conn_scan_new(own, 3, 5.0, &unsupported);
    ck_assert_ptr_nonnull(s);
    ck_assert_int_eq(unsupported, 0);
    /* Person 10 at 1 m (surely in), 11 at 5.0 m east of the first ping (band: 3.9... m from
     * the second, so surely in), 12 at 5.02 m south (band), 13 at 5.2 m (surely out), 14 far. */
    struct conn_ping cands[] = {at(lat, lon, 1, 0, 10, 100),     at(lat, lon, 0, -5.0, 11, 101),
                                at(lat, lon, -5.02, 0, 12, 102), at(lat, lon, -5.2, 0, 13, 103),
                                at(lat, lon, 500, 0, 14, 104),   at(lat, lon, 43, 40, 10, 105)};
    for (size_t i = 0; i < 6; i++) {
        if (i < 4 || i == 5)
            ck_assert_msg(covered(s, &cands[i]), "candidate %zu outside the ranges", i);
        ck_assert_int_eq(conn_scan_add_candidate(s, &cands[i]), 0);
    }
    ck_assert(!covered(s, &cands[4]));
    ck_assert_int_eq(conn_scan_classify(s), 0);
    /* person 11 at 5.0 m from ping 1 and 6.0 from ping 2: band pair with ping 1 only */
    ck_assert_uint_eq(conn_scan_band_count(s), 2);
    int saw12 = 0;
    for (size_t i = 0; i < conn_scan_band_count(s); i++) {
        const struct conn_pair *p = conn_scan_band_pair(s, i);
        ck_assert_double_eq(p->own_lat, own[0].lat);
        if (p->other_lat == cands[2].lat) {
            saw12 = 1;
            conn_scan_band_within(s, i); /* as if ST_DWithin said so */
        }
    }
    ck_assert(saw12);
    ck_assert_int_eq(conn_scan_summarise(s, -1), 0);
    ck_assert_uint_eq(conn_scan_summary_count(s), 2); /* 10 and 12 */
    const struct conn_summary *a = conn_scan_summary(s, 0), *b = conn_scan_summary(s, 1);
    ck_assert_int_eq(a->person, 10);
    ck_assert_int_eq(a->count, 2);
    ck_assert_int_eq(a->first_id, 100);
    ck_assert_int_eq(a->last_seen_us, 105000);
    ck_assert_double_eq(a->first_lat, cands[0].lat);
    ck_assert_int_eq(b->person, 12);
    /* Closest pairs: person 10's 1 m pair (its ping 3 m from own ping 3 is farther), and 12's. */
    size_t pairs = conn_scan_closest_count(s);
    ck_assert_uint_ge(pairs, 2);
    for (size_t i = 0; i < pairs; i++) {
        const struct conn_pair *p = conn_scan_closest_pair(s, i);
        ck_assert_uint_lt(p->summary, 2);
        ck_assert_double_ne(p->other_lat, cands[5].lat);
    }
    conn_scan_free(s);

    /* A limit keeps the first people. */
    s = conn_scan_new(own, 3, 5.0, &unsupported);
    for (size_t i = 0; i < 6; i++)
        conn_scan_add_candidate(s, &cands[i]);
    conn_scan_classify(s);
    ck_assert_int_eq(conn_scan_summarise(s, 1), 0);
    ck_assert_uint_eq(conn_scan_summary_count(s), 1);
    conn_scan_free(s);
}
END_TEST

START_TEST(distance_zero_leaves_equal_points_to_postgis)
{
    struct conn_ping own = at(10, 10, 0, 0, 1, 1), same = own, near = at(10, 10, 0.001, 0, 2, 2);
    same.person = 3;
    int unsupported;
    struct conn_scan *s = conn_scan_new(&own, 1, 0, &unsupported);
    ck_assert_ptr_nonnull(s);
    conn_scan_add_candidate(s, &same);
    conn_scan_add_candidate(s, &near);
    conn_scan_classify(s);
    ck_assert_uint_eq(conn_scan_band_count(s), 1);
    conn_scan_summarise(s, -1);
    ck_assert_uint_eq(conn_scan_summary_count(s), 0); /* nothing decided without PostGIS */
    conn_scan_free(s);
}
END_TEST

START_TEST(poles_antimeridian_and_large_distances_are_left_to_sql)
{
    struct conn_ping pole = at(84.99999, 0, 0, 0, 1, 1), edge = at(0, 179.99999, 0, 0, 1, 1),
                     west = at(0, -179.99999, 0, 0, 1, 1), plain = at(45, 7, 0, 0, 1, 1);
    int unsupported = 0;
    ck_assert_ptr_null(conn_scan_new(&pole, 1, 5, &unsupported));
    ck_assert_int_eq(unsupported, 1);
    ck_assert_ptr_null(conn_scan_new(&edge, 1, 5, &unsupported));
    ck_assert_int_eq(unsupported, 1);
    ck_assert_ptr_null(conn_scan_new(&west, 1, 5, &unsupported));
    ck_assert_int_eq(unsupported, 1);
    ck_assert_ptr_null(conn_scan_new(&plain, 1, CONN_SCAN_MAX_DISTANCE + 1, &unsupported));
    ck_assert_int_eq(unsupported, 1);
    struct conn_scan *s = conn_scan_new(&plain, 1, CONN_SCAN_MAX_DISTANCE, &unsupported);
    ck_assert_ptr_nonnull(s);
    ck_assert_int_eq(unsupported, 0);
    conn_scan_free(s);
    s = conn_scan_new(&plain, 0, 5, &unsupported); /* nobody's pings: nothing to read */
    const int64_t *lo, *hi;
    ck_assert_uint_eq(conn_scan_ranges(s, &lo, &hi), 0);
    conn_scan_free(s);
}
END_TEST

START_TEST(statement_parameters_are_text_or_null)
{
    struct stmt_params p = {0};
    stmt_param_int(&p, -42);
    stmt_param_double(&p, 0.1);
    stmt_param_opt_int(&p, 0, 7);
    stmt_param_opt_int(&p, 1, INT64_C(1597622400000000));
    ck_assert_int_eq(p.n, 4);
    ck_assert_str_eq(p.values[0], "-42");
    ck_assert_double_eq(strtod(p.values[1], NULL), 0.1);
    ck_assert_ptr_null(p.values[2]);
    ck_assert_str_eq(p.values[3], "1597622400000000");
    for (int i = 0; i < 10; i++)
        stmt_param_opt_int(&p, 0, i);
    ck_assert_int_eq(p.n, STMT_PARAMS_MAX);
    ck_assert_str_eq(p.values[3], "1597622400000000"); /* earlier ones untouched */
}
END_TEST

int main(void)
{
    Suite *s = suite_create("connection_scan");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, cells_are_rows_and_columns_of_the_grid);
    tcase_add_test(tc, float8_text_is_postgresqls);
    tcase_add_test(tc, summaries_count_first_last_and_closest_per_person);
    tcase_add_test(tc, candidates_are_in_surely_out_or_left_to_postgis);
    tcase_add_test(tc, distance_zero_leaves_equal_points_to_postgis);
    tcase_add_test(tc, poles_antimeridian_and_large_distances_are_left_to_sql);
    tcase_add_test(tc, statement_parameters_are_text_or_null);
    suite_add_tcase(s, tc);
    return udc_test_run(s);
}
