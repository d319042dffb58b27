/* Unit tests for common/log: level parsing and logfmt quoting. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "suite_run.h"

START_TEST(level_names_round_trip)
{
    enum udc_log_level level;
    ck_assert_int_eq(udc_log_level_parse("debug", &level), 0);
    ck_assert_int_eq(level, UDC_LOG_DEBUG);
    ck_assert_int_eq(udc_log_level_parse("WARNING", &level), 0);
    ck_assert_int_eq(level, UDC_LOG_WARN);
    ck_assert_int_eq(udc_log_level_parse("error", &level), 0);
    ck_assert_str_eq(udc_log_level_name(level), "error");
    ck_assert_int_eq(udc_log_level_parse("loud", &level), -1);
    ck_assert_int_eq(udc_log_level_parse(NULL, &level), -1);
}
END_TEST

START_TEST(quote_leaves_safe_values_bare)
{
    char buf[64];
    ck_assert_str_eq(udc_log_quote(buf, sizeof buf, "writer-1"), "writer-1");
}
END_TEST

START_TEST(quote_escapes_spaces_quotes_and_newlines)
{
    char buf[64];
    ck_assert_str_eq(udc_log_quote(buf, sizeof buf, "a \"b\"\nc"), "\"a \\\"b\\\"\\nc\"");
    ck_assert_str_eq(udc_log_quote(buf, sizeof buf, ""), "\"\"");
}
END_TEST

START_TEST(quote_truncates_within_buffer)
{
    char buf[8];
    udc_log_quote(buf, sizeof buf, "one two three four");
    ck_assert_uint_le(strlen(buf), sizeof buf - 1);
    ck_assert_int_eq(buf[0], '"');
}
END_TEST

int main(void)
{
    Suite *s = suite_create("log");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, level_names_round_trip);
    tcase_add_test(tc, quote_leaves_safe_values_bare);
    tcase_add_test(tc, quote_escapes_spaces_quotes_and_newlines);
    tcase_add_test(tc, quote_truncates_within_buffer);
    suite_add_tcase(s, tc);
    return udc_test_run(s);
}
