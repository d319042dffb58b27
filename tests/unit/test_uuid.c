/* Unit tests for common/uuid: v4 and v7 generation, validation and canonical form. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "suite_run.h"
#include "uuid.h"

START_TEST(generated_ids_are_canonical_version_4)
{
    char id[UDC_UUID_BUF];
    for (int i = 0; i < 200; i++) {
        ck_assert_int_eq(udc_uuid_v4(id), 0);
        ck_assert_uint_eq(strlen(id), UDC_UUID_LEN);
        ck_assert_int_eq(udc_uuid_is_canonical(id), 1);
        ck_assert_int_eq(id[14], '4');
        ck_assert_ptr_nonnull(strchr("89ab", id[19]));
    }
}
END_TEST

static int compare_ids(const void *a, const void *b)
{
    return strcmp(a, b);
}

START_TEST(generated_ids_are_distinct)
{
    enum { N = 1000 };
    static char ids[N][UDC_UUID_BUF];
    for (int i = 0; i < N; i++)
        ck_assert_int_eq(udc_uuid_v4(ids[i]), 0);
    qsort(ids, N, sizeof ids[0], compare_ids);
    for (int i = 1; i < N; i++)
        ck_assert_str_ne(ids[i - 1], ids[i]);
}
END_TEST

/* 2026-11-29T08:00:00.123456Z: 1,795,939,200,123 ms (0x01a2 2651 6c7b) and 456 µs. */
#define SOME_TIME_US 1795939200123456LL

START_TEST(version_7_ids_carry_the_time)
{
    char id[UDC_UUID_BUF];
    ck_assert_int_eq(udc_uuid_v7(SOME_TIME_US, id), 0);
    ck_assert_int_eq(udc_uuid_is_canonical(id), 1);
    ck_assert_int_eq(strncmp(id, "01a22651-6c7b-7", 15), 0);
    /* 456 µs of the millisecond as twelfths of 4096: 456 * 4096 / 1000 = 1867 = 0x74b */
    ck_assert_int_eq(strncmp(id + 15, "74b-", 4), 0);
    ck_assert_ptr_nonnull(strchr("89ab", id[19]));
}
END_TEST

START_TEST(version_7_ids_sort_by_time)
{
    char earlier[UDC_UUID_BUF], later[UDC_UUID_BUF];
    /* A microsecond apart, within the same millisecond and across one. */
    const long long steps[] = {1, 543, 544, 1000, 86400000000LL};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        ck_assert_int_eq(udc_uuid_v7(SOME_TIME_US, earlier), 0);
        ck_assert_int_eq(udc_uuid_v7(SOME_TIME_US + steps[i], later), 0);
        ck_assert_msg(strcmp(earlier, later) < 0, "%s !< %s (+%lld us)", earlier, later, steps[i]);
    }
}
END_TEST

START_TEST(version_7_ids_of_one_instant_differ)
{
    enum { N = 1000 };
    static char ids[N][UDC_UUID_BUF];
    for (int i = 0; i < N; i++)
        ck_assert_int_eq(udc_uuid_v7(SOME_TIME_US, ids[i]), 0);
    qsort(ids, N, sizeof ids[0], compare_ids);
    for (int i = 1; i < N; i++)
        ck_assert_str_ne(ids[i - 1], ids[i]);
}
END_TEST

START_TEST(version_7_rejects_times_before_the_epoch)
{
    char id[UDC_UUID_BUF];
    ck_assert_int_eq(udc_uuid_v7(-1, id), -1);
    ck_assert_int_eq(udc_uuid_v7(0, id), 0);
    ck_assert_int_eq(strncmp(id, "00000000-0000-7000-", 19), 0);
}
END_TEST

START_TEST(canonical_lowercases_any_case)
{
    char out[UDC_UUID_BUF];
    const char *in = "3F2B8C1A-9D4E-4F6A-8B7C-0123456789AB";
    ck_assert_int_eq(udc_uuid_canonical(in, strlen(in), out), 0);
    ck_assert_str_eq(out, "3f2b8c1a-9d4e-4f6a-8b7c-0123456789ab");
    ck_assert_int_eq(udc_uuid_is_canonical(in), 0);
    ck_assert_int_eq(udc_uuid_is_canonical(out), 1);
}
END_TEST

static const char *const bad_uuids[] = {
    "",
    "3f2b8c1a9d4e4f6a8b7c0123456789ab",       /* no hyphens */
    "{3f2b8c1a-9d4e-4f6a-8b7c-0123456789ab}", /* braces */
    "3f2b8c1a-9d4e-4f6a-8b7c-0123456789a",    /* short */
    "3f2b8c1a-9d4e-4f6a-8b7c-0123456789abc",  /* long */
    "3f2b8c1a-9d4e-4f6a-8b7c-0123456789ag",   /* not hex */
    "3f2b8c1a-9d4e4-f6a-8b7c-0123456789ab",   /* hyphen misplaced */
    " 3f2b8c1a-9d4e-4f6a-8b7c-0123456789a",   /* leading space */
    "urn:uuid:3f2b8c1a-9d4e-4f6a-8b7c-01234",
};

START_TEST(canonical_rejects_malformed)
{
    const char *in = bad_uuids[_i];
    char out[UDC_UUID_BUF] = "untouched";
    ck_assert_int_eq(udc_uuid_canonical(in, strlen(in), out), -1);
    ck_assert_str_eq(out, "untouched");
}
END_TEST

START_TEST(canonical_respects_explicit_length)
{
    char out[UDC_UUID_BUF];
    /* An embedded NUL must not pass as part of an id. */
    const char in[] = "3f2b8c1a-9d4e-4f6a-8b7c-0123456789a\0";
    ck_assert_int_eq(udc_uuid_canonical(in, sizeof in - 1, out), -1);
    ck_assert_int_eq(udc_uuid_canonical(NULL, 36, out), -1);
}
END_TEST

START_TEST(nil_is_recognised)
{
    ck_assert_int_eq(udc_uuid_is_nil("00000000-0000-0000-0000-000000000000"), 1);
    ck_assert_int_eq(udc_uuid_is_nil("00000000-0000-0000-0000-000000000001"), 0);
    ck_assert_int_eq(udc_uuid_is_nil("zero"), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("uuid");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, generated_ids_are_canonical_version_4);
    tcase_add_test(tc, generated_ids_are_distinct);
    tcase_add_test(tc, version_7_ids_carry_the_time);
    tcase_add_test(tc, version_7_ids_sort_by_time);
    tcase_add_test(tc, version_7_ids_of_one_instant_differ);
    tcase_add_test(tc, version_7_rejects_times_before_the_epoch);
    tcase_add_test(tc, canonical_lowercases_any_case);
    tcase_add_loop_test(tc, canonical_rejects_malformed, 0,
                        (int)(sizeof bad_uuids / sizeof bad_uuids[0]));
    tcase_add_test(tc, canonical_respects_explicit_length);
    tcase_add_test(tc, nil_is_recognised);
    suite_add_tcase(s, tc);
    return udc_test_run(s);
}
