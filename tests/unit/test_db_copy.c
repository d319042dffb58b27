/* Unit tests for common/db: escaping of fields for COPY text format. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "suite_run.h"

static const char *escaped(const char *in)
{
    static char buf[256];
    size_t n = udc_db_copy_escape(in, buf, sizeof buf);
    ck_assert_uint_eq(n, strlen(buf));
    return buf;
}

START_TEST(plain_text_is_unchanged)
{
    ck_assert_str_eq(escaped("Taco Bell, 41.9 -87.6"), "Taco Bell, 41.9 -87.6");
    ck_assert_str_eq(escaped(""), "");
    ck_assert_str_eq(escaped("Ünïcødé €😀"), "Ünïcødé €😀");
}
END_TEST

START_TEST(specials_are_backslash_escaped)
{
    ck_assert_str_eq(escaped("a\tb"), "a\\tb");
    ck_assert_str_eq(escaped("a\nb"), "a\\nb");
    ck_assert_str_eq(escaped("a\rb"), "a\\rb");
    ck_assert_str_eq(escaped("a\\b"), "a\\\\b");
    ck_assert_str_eq(escaped("\\N"), "\\\\N");
    ck_assert_str_eq(escaped("\\."), "\\\\.");
    ck_assert_str_eq(escaped("\t\n\r\\"), "\\t\\n\\r\\\\");
}
END_TEST

START_TEST(null_is_backslash_n)
{
    ck_assert_str_eq(escaped(NULL), "\\N");
}
END_TEST

START_TEST(length_is_reported_like_snprintf)
{
    ck_assert_uint_eq(udc_db_copy_escape("a\tb\\", NULL, 0), 6);
    ck_assert_uint_eq(udc_db_copy_escape(NULL, NULL, 0), 2);
    char small[4];
    memset(small, 'x', sizeof small);
    size_t n = udc_db_copy_escape("abc\tdef", small, sizeof small);
    ck_assert_uint_eq(n, 8);
    ck_assert_str_eq(small, "abc");
    char exact[9];
    ck_assert_uint_eq(udc_db_copy_escape("abc\tdef", exact, sizeof exact), 8);
    ck_assert_str_eq(exact, "abc\\tdef");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("db_copy");
    TCase *tc = tcase_create("escape");
    tcase_add_test(tc, plain_text_is_unchanged);
    tcase_add_test(tc, specials_are_backslash_escaped);
    tcase_add_test(tc, null_is_backslash_n);
    tcase_add_test(tc, length_is_reported_like_snprintf);
    suite_add_tcase(s, tc);
    return udc_test_run(s);
}
