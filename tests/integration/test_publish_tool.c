/* udc-publish (tools/publish) against the throwaway stack's broker: every line of its input
 * arrives once and in order, and its exit status says whether every message was confirmed
 * and routed (unroutable, missing exchange, bad usage). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "amqp_admin.h"
#include "itest.h"
#include "suite_run.h"

#define TOOL  "build/bin/udc-publish"
#define LINES 2000

struct arrivals {
    int count;
    int in_order;
};

static int note_arrival(const struct amqp_admin_message *m, void *arg)
{
    struct arrivals *a = arg;
    char want[32];
    int n = snprintf(want, sizeof want, "{\"n\":%d}", a->count);
    if (m->len != (size_t)n || memcmp(m->body, want, (size_t)n) != 0)
        a->in_order = 0;
    a->count++;
    return 1;
}

START_TEST(every_line_arrives_once_in_order)
{
    char id[37], key[64], queue[64], cmd[256];
    itest_uuid(id);
    snprintf(key, sizeof key, "publish-test.%s", id);
    snprintf(queue, sizeof queue, "test.publish.%s", id);
    amqp_admin_declare_bound_queue(queue, "udc.events", key);

    snprintf(cmd, sizeof cmd, TOOL " -e udc.events -r %s -w 100 2>/dev/null", key);
    fflush(NULL);
    FILE *tool = popen(cmd, "w");
    ck_assert_ptr_nonnull(tool);
    for (int i = 0; i < LINES; i++)
        fprintf(tool, i % 500 == 7 ? "{\"n\":%d}\r\n\n" : "{\"n\":%d}\n",
                i); /* CRLF, empty lines */
    fprintf(tool, "\n");
    int status = pclose(tool);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "udc-publish: status %d", status);

    struct arrivals a = {0, 1};
    ck_assert_int_eq(amqp_admin_drain(queue, LINES + 10, note_arrival, &a), LINES);
    ck_assert_int_eq(a.count, LINES);
    ck_assert_msg(a.in_order, "a message differs from its line, or came out of order");
    amqp_admin_delete_queue(queue);
}
END_TEST

START_TEST(failures_are_told_by_the_exit_status)
{
    char id[37];
    itest_uuid(id);
    /* Routed nowhere: returned by the broker (mandatory), so not every message arrived. */
    ck_assert_int_eq(
        itest_sh("echo '{}' | " TOOL " -e udc.events -r publish-test.unbound.%s 2>/dev/null", id),
        1);
    ck_assert_int_eq(itest_sh("echo '{}' | " TOOL " -e no.such.exchange -r x 2>/dev/null"), 1);
    ck_assert_int_eq(itest_sh(TOOL " -e udc.events < /dev/null 2>/dev/null"), 2);
    ck_assert_int_eq(itest_sh(TOOL " -e udc.events -r x -w 0 < /dev/null 2>/dev/null"), 2);
    ck_assert_int_eq(itest_sh("UDC_AMQP_URL= " TOOL " -e udc.events -r x < /dev/null 2>/dev/null"),
                     2);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("publish_tool");
    TCase *tc = tcase_create("broker");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, every_line_arrives_once_in_order);
    tcase_add_test(tc, failures_are_told_by_the_exit_status);
    suite_add_tcase(s, tc);
    return udc_test_run(s);
}
