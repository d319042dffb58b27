/* Unit tests for udc-api's JSON writer (daemons/api/jbuf.c): numbers and times written by
 * hand must read exactly as printf would have written them. */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/jbuf.h"
#include "suite_run.h"

static const int64_t ints[] = {0,         7,         -7,         10,
                               -10,       999999999, 1000000000, INT32_MAX,
                               INT32_MIN, INT64_MAX, INT64_MIN,  INT64_MIN + 1};

START_TEST(ints_read_as_printf_writes_them)
{
    struct jbuf j = {0};
    jbuf_obj_begin(&j);
    jbuf_int(&j, "n", ints[_i]);
    jbuf_obj_end(&j);
    char want[40];
    snprintf(want, sizeof want, "{\"n\":%" PRId64 "}", ints[_i]);
    ck_assert_int_eq(j.failed, 0);
    ck_assert_str_eq(j.text.data, want);
    udc_strbuf_free(&j.text);
}
END_TEST

START_TEST(members_and_times_are_separated)
{
    struct jbuf j = {0};
    jbuf_raw(&j, "[");
    j.need_comma = 0;
    jbuf_obj_begin(&j);
    jbuf_int(&j, "id", 5);
    jbuf_time(&j, "creation_time", INT64_C(1597747026) * 1000000 + 250000);
    jbuf_int(&j, "person_id", -1);
    jbuf_obj_end(&j);
    jbuf_obj_begin(&j);
    jbuf_time(&j, "at", 0);
    jbuf_obj_end(&j);
    jbuf_raw(&j, "]");
    ck_assert_str_eq(j.text.data, "[{\"id\":5,\"creation_time\":\"2020-08-18T10:37:06.250000\","
                                  "\"person_id\":-1},{\"at\":\"1970-01-01T00:00:00\"}]");
    udc_strbuf_free(&j.text);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("jbuf");
    TCase *tc = tcase_create("numbers");
    tcase_add_loop_test(tc, ints_read_as_printf_writes_them, 0,
                        (int)(sizeof ints / sizeof ints[0]));
    tcase_add_test(tc, members_and_times_are_separated);
    suite_add_tcase(s, tc);
    return udc_test_run(s);
}
