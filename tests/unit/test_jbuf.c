/* Unit tests for udc-api's JSON writer (daemons/api/jbuf.c): integers and times, written
 * with common/digits.c (test_digits), in place between the members' separators. */
#include <check.h>
#include <stdint.h>

#include "api/jbuf.h"
#include "suite_run.h"

START_TEST(members_and_times_are_separated)
{
    struct jbuf j = {0};
    jbuf_raw(&j, "[");
    jbuf_obj_begin(&j);
    jbuf_int(&j, "id", 5);
    jbuf_time(&j, "creation_time", INT64_C(1597747026) * 1000000 + 250000);
    jbuf_int(&j, "person_id", -1);
    jbuf_int(&j, "big", INT64_MIN);
    jbuf_obj_end(&j);
    jbuf_obj_begin(&j);
    jbuf_time(&j, "at", 0);
    jbuf_obj_end(&j);
    jbuf_raw(&j, "]");
    ck_assert_str_eq(
        j.text.data,
        "[{\"id\":5,\"creation_time\":\"2020-08-18T10:37:06.250000\","
        "\"person_id\":-1,\"big\":-9223372036854775808},{\"at\":\"1970-01-01T00:00:00\"}]");
    udc_strbuf_free(&j.text);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("jbuf");
    TCase *tc = tcase_create("members");
    tcase_add_test(tc, members_and_times_are_separated);
    suite_add_tcase(s, tc);
    return udc_test_run(s);
}
