/* Unit tests for common/backoff: growth, cap, jitter bounds, reset. */
#include <check.h>
#include <stdlib.h>

#include "backoff.h"
#include "suite_run.h"

START_TEST(waits_grow_and_stay_within_jitter_bounds)
{
    struct udc_backoff b;
    udc_backoff_init(&b, 100, 1600);
    uint32_t ceilings[] = {100, 200, 400, 800, 1600, 1600, 1600};
    for (size_t i = 0; i < sizeof ceilings / sizeof ceilings[0]; i++) {
        uint32_t wait = udc_backoff_fail(&b, 1000);
        ck_assert_uint_ge(wait, ceilings[i] / 2);
        ck_assert_uint_le(wait, ceilings[i]);
        ck_assert_int_eq(udc_backoff_ready(&b, 1000), 0);
        ck_assert_int_eq(udc_backoff_ready(&b, 1000 + wait), 1);
    }
}
END_TEST

START_TEST(reset_starts_over)
{
    struct udc_backoff b;
    udc_backoff_init(&b, 100, 10000);
    for (int i = 0; i < 10; i++)
        udc_backoff_fail(&b, 0);
    udc_backoff_reset(&b);
    ck_assert_int_eq(udc_backoff_ready(&b, 0), 1);
    ck_assert_uint_le(udc_backoff_fail(&b, 0), 100);
}
END_TEST

START_TEST(clocks_move_forward)
{
    uint64_t a = udc_now_us();
    uint64_t b = udc_now_us();
    ck_assert_uint_ge(b, a);
    ck_assert_int_gt(udc_wall_us(), (int64_t)1600000000 * 1000000);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("backoff");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, waits_grow_and_stay_within_jitter_bounds);
    tcase_add_test(tc, reset_starts_over);
    tcase_add_test(tc, clocks_move_forward);
    suite_add_tcase(s, tc);
    return udc_test_run(s);
}
