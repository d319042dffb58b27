/* Unit tests for common/timefmt: ISO-8601 parsing (offsets, ranges, leap days) and the
 * RFC 3339 / naive formatters. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "suite_run.h"
#include "timefmt.h"

#define S                   INT64_C(1000000)
#define T_2020_08_18_103706 (INT64_C(1597747026) * S)

static int64_t parse_ok(const char *text)
{
    int64_t us = -1;
    const char *why = NULL;
    int rc = udc_time_parse(text, strlen(text), &us, &why);
    ck_assert_msg(rc == 0, "'%s' rejected: %s", text, why ? why : "(no reason)");
    return us;
}

static const char *parse_fail(const char *text)
{
    int64_t us = 42;
    const char *why = NULL;
    ck_assert_msg(udc_time_parse(text, strlen(text), &us, &why) == -1, "'%s' accepted", text);
    ck_assert_ptr_nonnull(why);
    ck_assert_int_eq(us, 42);
    return why;
}

static const struct {
    const char *text;
    int64_t us;
} accepted[] = {
    {"2020-08-18T10:37:06Z", T_2020_08_18_103706},
    {"2020-08-18T10:37:06", T_2020_08_18_103706}, /* naive = UTC */
    {"2020-08-18 10:37:06", T_2020_08_18_103706},
    {"2020-08-18t10:37:06z", T_2020_08_18_103706},
    {"2020-08-18T12:37:06+02:00", T_2020_08_18_103706},
    {"2020-08-18T12:37:06+0200", T_2020_08_18_103706},
    {"2020-08-18T05:07:06-05:30", T_2020_08_18_103706},
    {"2020-08-19T00:07:06+13:30", T_2020_08_18_103706}, /* crosses a day */
    {"2020-08-18T10:37:06-00:00", T_2020_08_18_103706},
    {"2020-08-18T10:37:06.5Z", T_2020_08_18_103706 + 500000},
    {"2020-08-18T10:37:06.123456", T_2020_08_18_103706 + 123456},
    {"2020-08-18T10:37:06.123456789+00:00", T_2020_08_18_103706 + 123456}, /* truncated */
    {"2020-08-18T10:37:06.000001Z", T_2020_08_18_103706 + 1},
    {"2020-02-29T00:00:00Z", INT64_C(1582934400) * S}, /* leap year */
    {"2000-02-29T12:00:00Z", INT64_C(951825600) * S},  /* divisible by 400 */
    {"1970-01-01T00:00:00Z", 0},
    {"1970-01-01T01:00:00+01:00", 0},
    {"9999-12-31T23:59:59.999999Z", UDC_TIME_MAX_US},
    {"9999-12-31T23:59:59", INT64_C(253402300799) * S},
};

START_TEST(parses_valid_forms)
{
    ck_assert_int_eq(parse_ok(accepted[_i].text), accepted[_i].us);
}
END_TEST

static const struct {
    const char *text;
    const char *rule_contains;
} rejected[] = {
    {"", "must be a date-time"},
    {"2020-08-18", "must be a date-time"},
    {"2020-08-18T10:37", "must be a date-time"},
    {"2020-8-18T10:37:06Z", "must be a date-time"},
    {"2020/08/18T10:37:06Z", "must be a date-time"},
    {" 2020-08-18T10:37:06Z", "must be a date-time"},
    {"2020-08-18T10:37:06Z ", "must be a date-time"},
    {"2020-08-18T10:37:06ZZ", "must be a date-time"},
    {"2020-08-18T10:37:06+02", "must be a date-time"},
    {"2020-08-18T10:37:06+2:00", "must be a date-time"},
    {"2020-08-18T10:37:06 +02:00", "must be a date-time"},
    {"2020-08-18T10:37:06.Z", "fraction"},
    {"2020-08-18T10:37:06.1234567890Z", "fraction"},
    {"2020-13-01T00:00:00Z", "month"},
    {"2020-00-01T00:00:00Z", "month"},
    {"2020-01-00T00:00:00Z", "day"},
    {"2020-04-31T00:00:00Z", "day"},
    {"2021-02-29T00:00:00Z", "day"}, /* not a leap year */
    {"1900-02-29T00:00:00Z", "year"},
    {"2100-02-29T00:00:00Z", "day"}, /* divisible by 100, not by 400 */
    {"2020-08-18T24:00:00Z", "hour"},
    {"2020-08-18T10:60:00Z", "minute"},
    {"2020-08-18T10:37:60Z", "second"}, /* no leap seconds */
    {"2020-08-18T10:37:06+24:00", "offset"},
    {"2020-08-18T10:37:06+02:60", "offset"},
    {"1969-12-31T23:59:59Z", "year"},
    {"1970-01-01T00:30:00+01:00", "between 1970"}, /* before the epoch once in UTC */
    {"9999-12-31T23:00:00-05:00", "between 1970"}, /* past year 9999 once in UTC */
};

START_TEST(rejects_with_a_rule)
{
    const char *why = parse_fail(rejected[_i].text);
    ck_assert_msg(strstr(why, rejected[_i].rule_contains) != NULL, "'%s': rule '%s'",
                  rejected[_i].text, why);
}
END_TEST

START_TEST(parse_honours_length_not_nul)
{
    const char text[] = "2020-08-18T10:37:06Zjunk";
    int64_t us;
    ck_assert_int_eq(udc_time_parse(text, 20, &us, NULL), 0);
    ck_assert_int_eq(us, T_2020_08_18_103706);
    ck_assert_int_eq(udc_time_parse(text, 19, &us, NULL), 0); /* naive */
    ck_assert_int_eq(udc_time_parse(text, 18, &us, NULL), -1);
    const char with_nul[] = "2020-08-18T10:37:06\0Z";
    ck_assert_int_eq(udc_time_parse(with_nul, sizeof with_nul - 1, &us, NULL), -1);
}
END_TEST

static const struct {
    int64_t us;
    const char *rfc3339;
    const char *naive;
} formatted[] = {
    {T_2020_08_18_103706, "2020-08-18T10:37:06Z", "2020-08-18T10:37:06"},
    {T_2020_08_18_103706 + 250000, "2020-08-18T10:37:06.250000Z", "2020-08-18T10:37:06.250000"},
    {T_2020_08_18_103706 + 1, "2020-08-18T10:37:06.000001Z", "2020-08-18T10:37:06.000001"},
    {0, "1970-01-01T00:00:00Z", "1970-01-01T00:00:00"},
    {INT64_C(951825600) * S, "2000-02-29T12:00:00Z", "2000-02-29T12:00:00"},
    {UDC_TIME_MAX_US, "9999-12-31T23:59:59.999999Z", "9999-12-31T23:59:59.999999"},
};

START_TEST(formats_with_and_without_fraction)
{
    char buf[UDC_TIME_BUF];
    int n = udc_time_format_rfc3339(formatted[_i].us, buf, sizeof buf);
    ck_assert_str_eq(buf, formatted[_i].rfc3339);
    ck_assert_int_eq(n, (int)strlen(formatted[_i].rfc3339));
    n = udc_time_format_naive(formatted[_i].us, buf, sizeof buf);
    ck_assert_str_eq(buf, formatted[_i].naive);
    ck_assert_int_eq(n, (int)strlen(formatted[_i].naive));
    /* Both forms read back as the same instant. */
    ck_assert_int_eq(parse_ok(formatted[_i].rfc3339), formatted[_i].us);
    ck_assert_int_eq(parse_ok(formatted[_i].naive), formatted[_i].us);
}
END_TEST

START_TEST(format_refuses_out_of_range_and_small_buffers)
{
    char buf[UDC_TIME_BUF];
    ck_assert_int_eq(udc_time_format_rfc3339(-1, buf, sizeof buf), -1);
    ck_assert_int_eq(udc_time_format_rfc3339(UDC_TIME_MAX_US + 1, buf, sizeof buf), -1);
    ck_assert_int_eq(udc_time_format_rfc3339(T_2020_08_18_103706, buf, 20), -1);
    ck_assert_int_eq(udc_time_format_rfc3339(T_2020_08_18_103706, buf, 21), 20);
}
END_TEST

START_TEST(every_day_of_a_leap_cycle_round_trips)
{
    /* 1999-01-01 .. 2101-01-01 covers ordinary, leap, century-leap (2000) and century
     * non-leap (2100) years; one instant per day, with a varying time of day. */
    char buf[UDC_TIME_BUF];
    for (int64_t day = 10592; day < 47848; day++) {
        int64_t us = day * 86400 * S + (day % 86400) * S + day % 1000000;
        ck_assert_int_gt(udc_time_format_rfc3339(us, buf, sizeof buf), 0);
        ck_assert_int_eq(parse_ok(buf), us);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("timefmt");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, parses_valid_forms, 0, (int)(sizeof accepted / sizeof accepted[0]));
    tcase_add_loop_test(tc, rejects_with_a_rule, 0, (int)(sizeof rejected / sizeof rejected[0]));
    tcase_add_test(tc, parse_honours_length_not_nul);
    tcase_add_loop_test(tc, formats_with_and_without_fraction, 0,
                        (int)(sizeof formatted / sizeof formatted[0]));
    tcase_add_test(tc, format_refuses_out_of_range_and_small_buffers);
    tcase_add_test(tc, every_day_of_a_leap_cycle_round_trips);
    suite_add_tcase(s, tc);
    return udc_test_run(s);
}
