/* Unit tests for udc-api's parameter parsing (daemons/api/params.c). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "api/params.h"
#include "suite_run.h"

static char err[256];

START_TEST(ids_are_positive_32_bit_integers)
{
    int32_t id;
    ck_assert_int_eq(param_id("42", "id", &id, err, sizeof err), 0);
    ck_assert_int_eq(id, 42);
    ck_assert_int_eq(param_id("2147483647", "id", &id, err, sizeof err), 0);
    const char *bad[] = {"abc", "0",   "-1", "+1",         " 1",
                         "1e3", "1.0", "",   "2147483648", "99999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(param_id(bad[i], "id", &id, err, sizeof err) == -1, "%s accepted", bad[i]);
    ck_assert_int_eq(param_id(NULL, "id", &id, err, sizeof err), -1);
    ck_assert_str_eq(err, "id must be a positive integer");
}
END_TEST

START_TEST(dates_are_calendar_days_at_utc_midnight)
{
    int64_t us;
    int present;
    ck_assert_int_eq(param_date("2020-08-18", "start_date", 1, &present, &us, err, sizeof err), 0);
    ck_assert_int_eq(us, INT64_C(1597708800) * 1000000);
    ck_assert_int_eq(param_date("2020-02-29", "d", 1, &present, &us, err, sizeof err), 0);
    ck_assert_int_eq(param_date("1970-01-01", "d", 1, &present, &us, err, sizeof err), 0);
    ck_assert_int_eq(us, 0);
    const char *bad[] = {"2021-02-29", "2020-13-01",       "2020-00-10", "2020-1-01", "20-01-01",
                         "2020/01/01", "2020-01-01T00:00", "yesterday",  "1969-12-31"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(param_date(bad[i], "d", 1, &present, &us, err, sizeof err) == -1,
                      "%s accepted", bad[i]);
    ck_assert_int_eq(param_date(NULL, "end_date", 1, &present, &us, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "end_date is required"));
    ck_assert_int_eq(param_date(NULL, "end_date", 0, &present, &us, err, sizeof err), 0);
    ck_assert_int_eq(present, 0);
}
END_TEST

START_TEST(distance_window_and_limit_ranges)
{
    double d;
    int32_t v;
    int present;
    ck_assert_int_eq(param_distance(NULL, 5, &d, err, sizeof err), 0);
    ck_assert(d == 5);
    ck_assert_int_eq(param_distance("0.5", 5, &d, err, sizeof err), 0);
    ck_assert(d == 0.5);
    const char *bad_d[] = {"-1", "nan", "inf", "1e7", "abc", "5m", "0x10", " 5"};
    for (size_t i = 0; i < sizeof bad_d / sizeof bad_d[0]; i++)
        ck_assert_msg(param_distance(bad_d[i], 5, &d, err, sizeof err) == -1, "%s", bad_d[i]);
    ck_assert_int_eq(param_window("30", &present, &v, err, sizeof err), 0);
    ck_assert_int_eq(present, 1);
    ck_assert_int_eq(v, 30);
    ck_assert_int_eq(param_window("1.5", &present, &v, err, sizeof err), -1);
    ck_assert_int_eq(param_window(NULL, &present, &v, err, sizeof err), 0);
    ck_assert_int_eq(present, 0);
    ck_assert_int_eq(param_limit("1000", 1000, &present, &v, err, sizeof err), 0);
    ck_assert_int_eq(param_limit("1001", 1000, &present, &v, err, sizeof err), -1);
    ck_assert_int_eq(param_limit("0", 1000, &present, &v, err, sizeof err), -1);
}
END_TEST

START_TEST(cursors_round_trip_and_refuse_garbage)
{
    int64_t a, b;
    ck_assert_int_eq(param_cursor_id("17", &a, err, sizeof err), 0);
    ck_assert_int_eq(a, 17);
    ck_assert_int_eq(param_cursor_id("x17", &a, err, sizeof err), -1);
    ck_assert_int_eq(param_cursor_pair("1597708800000000.39", &a, &b, err, sizeof err), 0);
    ck_assert_int_eq(a, INT64_C(1597708800000000));
    ck_assert_int_eq(b, 39);
    ck_assert_int_eq(param_cursor_pair("12", &a, &b, err, sizeof err), -1);
    ck_assert_int_eq(param_cursor_pair(".12", &a, &b, err, sizeof err), -1);
    ck_assert_int_eq(param_cursor_pair("1.x", &a, &b, err, sizeof err), -1);
    ck_assert_int_eq(param_search("Pam", err, sizeof err), 0);
    ck_assert_int_eq(param_search("", err, sizeof err), -1);
    ck_assert_int_eq(param_search("a\tb", err, sizeof err), -1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("api_params");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, ids_are_positive_32_bit_integers);
    tcase_add_test(tc, dates_are_calendar_days_at_utc_midnight);
    tcase_add_test(tc, distance_window_and_limit_ranges);
    tcase_add_test(tc, cursors_round_trip_and_refuse_garbage);
    suite_add_tcase(s, tc);
    return udc_test_run(s);
}
