/* Unit tests for the hand-written decimal digits (common/digits.c): they must read exactly as
 * printf writes the same numbers. */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "digits.h"
#include "suite_run.h"

static const int64_t ints[] = {0,         7,         -7,         10,
                               -10,       999999999, 1000000000, INT32_MAX,
                               INT32_MIN, INT64_MAX, INT64_MIN,  INT64_MIN + 1};

START_TEST(i64_reads_as_printf_writes_it)
{
    char num[UDC_DIGITS_I64_MAX + 1], want[32];
    num[UDC_DIGITS_I64_MAX] = '\0';
    const char *start = udc_digits_i64(ints[_i], num + UDC_DIGITS_I64_MAX);
    snprintf(want, sizeof want, "%" PRId64, ints[_i]);
    ck_assert_str_eq(start, want);
    ck_assert(start >= num);
}
END_TEST

START_TEST(fixed_width_is_zero_padded)
{
    char buf[16] = "";
    char *end = udc_digits_fixed(buf, 7, 2);
    end = udc_digits_fixed(end, 250000, 6);
    end = udc_digits_fixed(end, 0, 4);
    *end = '\0';
    ck_assert_str_eq(buf, "072500000000");
    ck_assert_int_eq(end - buf, 12);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("digits");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, i64_reads_as_printf_writes_it, 0, (int)(sizeof ints / sizeof ints[0]));
    tcase_add_test(tc, fixed_width_is_zero_padded);
    suite_add_tcase(s, tc);
    return udc_test_run(s);
}
