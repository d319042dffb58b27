/* Unit tests for common/metrics: exposition text, escaping, histograms, concurrency. */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "suite_run.h"

static double read_depth(void *ctx)
{
    return *(const double *)ctx;
}

START_TEST(renders_small_registry_exactly)
{
    struct udc_metrics *reg = udc_metrics_new();
    struct udc_counter *rejected = udc_counter_new(
        reg, "udc_rejected", "Pings rejected,\nby \\reason", 1, (const char *[]){"reason"});
    struct udc_gauge *temp = udc_gauge_new(reg, "udc_temp", "A gauge", 0, NULL);
    struct udc_histogram *lat =
        udc_histogram_new(reg, "udc_latency_seconds", "Latency", 1, (const char *[]){"route"}, 3,
                          (const double[]){0.125, 0.5, 2.5});
    double depth = 42;
    ck_assert_ptr_nonnull(rejected);
    ck_assert_ptr_nonnull(temp);
    ck_assert_ptr_nonnull(lat);
    ck_assert_int_eq(udc_gauge_fn_new(reg, "udc_depth", "Read at scrape", read_depth, &depth), 0);

    udc_counter_inc(rejected, (const char *[]){"zeta"}, 1);
    udc_counter_add(rejected, (const char *[]){"a \"q\" \\ \nb"}, 3);
    udc_counter_inc(rejected, (const char *[]){"zeta"}, 1);
    udc_gauge_set(temp, NULL, 1.5);
    udc_gauge_add(temp, NULL, -3);
    udc_histogram_observe(lat, (const char *[]){"/x"}, 0.0625);
    udc_histogram_observe(lat, (const char *[]){"/x"}, 0.125);
    udc_histogram_observe(lat, (const char *[]){"/x"}, 0.25);
    udc_histogram_observe(lat, (const char *[]){"/x"}, 7);
    depth = 7.25;

    const char *expected = "# HELP udc_rejected_total Pings rejected,\\nby \\\\reason\n"
                           "# TYPE udc_rejected_total counter\n"
                           "udc_rejected_total{reason=\"a \\\"q\\\" \\\\ \\nb\"} 3\n"
                           "udc_rejected_total{reason=\"zeta\"} 2\n"
                           "# HELP udc_temp A gauge\n"
                           "# TYPE udc_temp gauge\n"
                           "udc_temp -1.5\n"
                           "# HELP udc_latency_seconds Latency\n"
                           "# TYPE udc_latency_seconds histogram\n"
                           "udc_latency_seconds_bucket{route=\"/x\",le=\"0.125\"} 2\n"
                           "udc_latency_seconds_bucket{route=\"/x\",le=\"0.5\"} 3\n"
                           "udc_latency_seconds_bucket{route=\"/x\",le=\"2.5\"} 3\n"
                           "udc_latency_seconds_bucket{route=\"/x\",le=\"+Inf\"} 4\n"
                           "udc_latency_seconds_sum{route=\"/x\"} 7.4375\n"
                           "udc_latency_seconds_count{route=\"/x\"} 4\n"
                           "# HELP udc_depth Read at scrape\n"
                           "# TYPE udc_depth gauge\n"
                           "udc_depth 7.25\n";
    size_t len = 0;
    char *text = udc_metrics_render(reg, &len);
    ck_assert_ptr_nonnull(text);
    ck_assert_str_eq(text, expected);
    ck_assert_uint_eq(len, strlen(expected));
    free(text);
    udc_metrics_free(reg);
}
END_TEST

START_TEST(empty_registry_renders_empty_text)
{
    struct udc_metrics *reg = udc_metrics_new();
    size_t len = 99;
    char *text = udc_metrics_render(reg, &len);
    ck_assert_str_eq(text, "");
    ck_assert_uint_eq(len, 0);
    free(text);
    udc_metrics_free(reg);
}
END_TEST

START_TEST(registration_is_idempotent_and_checked)
{
    struct udc_metrics *reg = udc_metrics_new();
    const char *labels[] = {"reason"};
    struct udc_counter *a = udc_counter_new(reg, "x_total", "h", 1, labels);
    struct udc_counter *b = udc_counter_new(reg, "x_total", "h", 1, labels);
    ck_assert_ptr_eq(a, b);
    ck_assert_ptr_null(udc_counter_new(reg, "x_total", "h", 0, NULL));
    ck_assert_ptr_null(udc_gauge_new(reg, "x_total", "h", 1, labels));
    ck_assert_ptr_null(udc_gauge_new(reg, "9bad", "h", 0, NULL));
    ck_assert_ptr_null(udc_gauge_new(reg, "bad-name", "h", 0, NULL));
    ck_assert_ptr_null(udc_gauge_new(reg, "ok", "h", 1, (const char *[]){"bad label"}));
    ck_assert_ptr_null(
        udc_histogram_new(reg, "h1", "h", 1, (const char *[]){"le"}, 1, (const double[]){1}));
    ck_assert_ptr_null(udc_histogram_new(reg, "h2", "h", 0, NULL, 2, (const double[]){1, 1}));
    /* A failed registration gives NULL, and NULL handles are harmless. */
    udc_counter_inc(NULL, labels, 1);
    udc_histogram_observe(NULL, NULL, 1);
    ck_assert_int_eq(udc_metrics_remove(reg, "x_total"), 0);
    ck_assert_int_eq(udc_metrics_remove(reg, "x_total"), -1);
    udc_metrics_free(reg);
}
END_TEST

START_TEST(untouched_children_read_zero)
{
    struct udc_metrics *reg = udc_metrics_new();
    struct udc_counter *c = udc_counter_new(reg, "c", "h", 1, (const char *[]){"k"});
    ck_assert_uint_eq(udc_counter_get(c, (const char *[]){"v"}), 0);
    udc_counter_inc(c, (const char *[]){"v"}, 5);
    ck_assert_uint_eq(udc_counter_get(c, (const char *[]){"v"}), 5);
    ck_assert_uint_eq(udc_counter_get(c, (const char *[]){"w"}), 0);
    udc_metrics_free(reg);
}
END_TEST

#define THREADS 4
#define ROUNDS  100000

struct worker_args {
    struct udc_counter *labelled;
    struct udc_counter *plain;
    struct udc_histogram *hist;
    struct udc_gauge *gauge;
    int id;
};

static void *hammer(void *p)
{
    struct worker_args *a = p;
    const char *mine[] = {a->id % 2 ? "odd" : "even"};
    char own[16];
    snprintf(own, sizeof own, "t%d", a->id);
    for (int i = 0; i < ROUNDS; i++) {
        udc_counter_inc(a->labelled, mine, 1);
        udc_counter_add(a->plain, NULL, 2);
        udc_histogram_observe(a->hist, NULL, (i % 3) * 1.0);
        udc_gauge_add(a->gauge, NULL, 1.0);
        /* New children appear while other threads observe. */
        if (i % 1000 == 0) {
            char key[32];
            snprintf(key, sizeof key, "%s-%d", own, i / 1000);
            udc_counter_inc(a->labelled, (const char *[]){key}, 1);
        }
    }
    return NULL;
}

START_TEST(concurrent_increments_sum_correctly)
{
    struct udc_metrics *reg = udc_metrics_new();
    struct worker_args args[THREADS];
    pthread_t threads[THREADS];
    struct udc_counter *labelled = udc_counter_new(reg, "l", "h", 1, (const char *[]){"k"});
    struct udc_counter *plain = udc_counter_new(reg, "p", "h", 0, NULL);
    struct udc_histogram *hist =
        udc_histogram_new(reg, "hist", "h", 0, NULL, 2, (const double[]){0.5, 1.5});
    struct udc_gauge *gauge = udc_gauge_new(reg, "g", "h", 0, NULL);
    for (int i = 0; i < THREADS; i++) {
        args[i] = (struct worker_args){labelled, plain, hist, gauge, i};
        ck_assert_int_eq(pthread_create(&threads[i], NULL, hammer, &args[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(threads[i], NULL);

    ck_assert_uint_eq(udc_counter_get(labelled, (const char *[]){"even"}), ROUNDS * THREADS / 2);
    ck_assert_uint_eq(udc_counter_get(labelled, (const char *[]){"odd"}), ROUNDS * THREADS / 2);
    ck_assert_uint_eq(udc_counter_get(labelled, (const char *[]){"t3-99"}), 1);
    ck_assert_uint_eq(udc_counter_get(plain, NULL), 2ULL * ROUNDS * THREADS);
    ck_assert_uint_eq(udc_histogram_count(hist, NULL), (uint64_t)ROUNDS * THREADS);
    ck_assert_double_eq(udc_gauge_get(gauge, NULL), (double)ROUNDS * THREADS);

    char *text = udc_metrics_render(reg, NULL);
    ck_assert_ptr_nonnull(strstr(text, "hist_count 400000\n"));
    ck_assert_ptr_nonnull(strstr(text, "p_total 800000\n"));
    /* i % 3 gives 0,1,2 evenly (ROUNDS+2 of one kind per 3): bucket 0.5 holds the zeros. */
    ck_assert_ptr_nonnull(strstr(text, "hist_bucket{le=\"0.5\"} 133336\n"));
    free(text);
    udc_metrics_free(reg);
}
END_TEST

START_TEST(default_registry_is_shared)
{
    ck_assert_ptr_nonnull(udc_metrics_default());
    ck_assert_ptr_eq(udc_metrics_default(), udc_metrics_default());
}
END_TEST

int main(void)
{
    Suite *s = suite_create("metrics");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, renders_small_registry_exactly);
    tcase_add_test(tc, empty_registry_renders_empty_text);
    tcase_add_test(tc, registration_is_idempotent_and_checked);
    tcase_add_test(tc, untouched_children_read_zero);
    tcase_add_test(tc, concurrent_increments_sum_correctly);
    tcase_add_test(tc, default_registry_is_shared);
    suite_add_tcase(s, tc);
    return udc_test_run(s);
}
