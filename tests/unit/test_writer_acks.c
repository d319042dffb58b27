/* Unit tests for udc-writer's ack bookkeeping when batches finish out of order
 * (daemons/writer/ack_order.c) and for how a failed statement is classified
 * (store_status_for in daemons/writer/store.c). */
#include <check.h>
#include <stdlib.h>

#include "writer/ack_order.h"
#include "writer/store.h"
#include "suite_run.h"

static struct ack_order a;

static void setup(void)
{
    ack_order_reset(&a, 0);
}

static void teardown(void)
{
    ack_order_free(&a);
}

/* A writer that has published nothing yet asks on every step. */
START_TEST(nothing_published_acks_nothing)
{
    struct ack_order fresh = {0};
    ck_assert_uint_eq(ack_order_confirmed(&fresh, 0), 0);
    ck_assert_uint_eq(ack_order_confirmed(&fresh, 7), 0);
    ck_assert_uint_eq(ack_order_oldest_ms(&fresh), 0);
    ck_assert_uint_eq(ack_order_pending(&fresh), 0);
    ack_order_reset(&fresh, 3);
    ck_assert_uint_eq(ack_order_confirmed(&fresh, 1), 0);
    ck_assert_uint_eq(fresh.front, 3);
    ack_order_free(&fresh);
}
END_TEST

START_TEST(in_order_batches_are_acked_as_confirmed)
{
    ck_assert_int_eq(ack_order_published(&a, 0, 10, 1, 100), 0);
    ck_assert_int_eq(ack_order_published(&a, 10, 5, 2, 101), 0);
    ck_assert_uint_eq(ack_order_confirmed(&a, 0), 0);
    ck_assert_uint_eq(ack_order_confirmed(&a, 1), 10);
    ck_assert_uint_eq(a.front, 10);
    ck_assert_uint_eq(ack_order_oldest_ms(&a), 101);
    ck_assert_uint_eq(ack_order_confirmed(&a, 2), 5);
    ck_assert_uint_eq(a.front, 15);
    ck_assert_uint_eq(ack_order_pending(&a), 0);
    ck_assert_uint_eq(ack_order_oldest_ms(&a), 0);
}
END_TEST

/* The second batch's statement finished first: its deliveries wait for the first's. */
START_TEST(a_later_batch_waits_for_the_earlier_one)
{
    ck_assert_int_eq(ack_order_published(&a, 10, 10, 1, 100), 0); /* deliveries 10..19 */
    ck_assert_uint_eq(ack_order_confirmed(&a, 1), 0);             /* confirmed, behind a gap */
    ck_assert_uint_eq(a.front, 0);
    ck_assert_uint_eq(ack_order_pending(&a), 1);
    ck_assert_int_eq(ack_order_published(&a, 0, 10, 2, 105), 0); /* deliveries 0..9 */
    ck_assert_uint_eq(ack_order_confirmed(&a, 1), 0);
    ck_assert_uint_eq(ack_order_oldest_ms(&a), 105);
    ck_assert_uint_eq(ack_order_confirmed(&a, 2), 20); /* both at once */
    ck_assert_uint_eq(a.front, 20);
    ck_assert_uint_eq(ack_order_pending(&a), 0);
}
END_TEST

/* Three lanes finishing in the order 3, 1, 2; the middle one's confirm comes last. */
START_TEST(only_the_contiguous_prefix_is_acked)
{
    ck_assert_int_eq(ack_order_published(&a, 7, 3, 1, 1), 0); /* 7..9 */
    ck_assert_int_eq(ack_order_published(&a, 0, 4, 2, 2), 0); /* 0..3 */
    ck_assert_int_eq(ack_order_published(&a, 4, 3, 3, 3), 0); /* 4..6 */
    ck_assert_uint_eq(ack_order_confirmed(&a, 2), 4);
    ck_assert_uint_eq(a.front, 4);
    ck_assert_uint_eq(ack_order_confirmed(&a, 2), 0); /* nothing new */
    ck_assert_uint_eq(ack_order_confirmed(&a, 3), 6);
    ck_assert_uint_eq(a.front, 10);
}
END_TEST

/* A batch that published nothing (seq 0) is done once every earlier publish is. */
START_TEST(a_batch_without_publishes_waits_its_turn)
{
    ck_assert_int_eq(ack_order_published(&a, 0, 2, 5, 1), 0);
    ck_assert_int_eq(ack_order_published(&a, 2, 1, 0, 2), 0);
    ck_assert_uint_eq(ack_order_confirmed(&a, 4), 0);
    ck_assert_uint_eq(ack_order_confirmed(&a, 5), 3);
    ck_assert_int_eq(ack_order_published(&a, 3, 1, 0, 3), 0);
    ck_assert_uint_eq(ack_order_confirmed(&a, 5), 1);
    ck_assert_uint_eq(a.front, 4);
}
END_TEST

START_TEST(reset_forgets_groups_and_moves_the_front)
{
    ck_assert_int_eq(ack_order_published(&a, 0, 2, 1, 1), 0);
    ck_assert_int_eq(ack_order_published(&a, 5, 2, 2, 1), 0);
    ck_assert_uint_eq(ack_order_confirmed(&a, 2), 2);
    ack_order_reset(&a, 100);
    ck_assert_uint_eq(ack_order_pending(&a), 0);
    ck_assert_int_eq(ack_order_published(&a, 100, 3, 1, 1), 0); /* seqs restart per connection */
    ck_assert_uint_eq(ack_order_confirmed(&a, 1), 3);
    ck_assert_uint_eq(a.front, 103);
}
END_TEST

/* Many out-of-order groups: the acked count always equals the length of the done prefix. */
START_TEST(random_completion_order_acks_every_delivery_once)
{
    enum { GROUPS = 200 };
    int order[GROUPS], done[GROUPS] = {0};
    for (int i = 0; i < GROUPS; i++)
        order[i] = i;
    srand(7);
    for (int i = GROUPS - 1; i > 0; i--) {
        int j = rand() % (i + 1), t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    size_t acked = 0;
    for (int k = 0; k < GROUPS; k++) {
        ck_assert_int_eq(ack_order_published(&a, (uint64_t)order[k] * 3, 3, (uint64_t)k + 1, 0), 0);
        done[order[k]] = 1;
        acked += ack_order_confirmed(&a, (uint64_t)k + 1);
        size_t prefix = 0;
        while (prefix < GROUPS && done[prefix])
            prefix++;
        ck_assert_uint_eq(acked, prefix * 3);
        ck_assert_uint_eq(a.front, prefix * 3);
    }
    ck_assert_uint_eq(acked, GROUPS * 3);
}
END_TEST

START_TEST(deadlock_and_serialization_failure_mean_send_again)
{
    ck_assert_int_eq(store_status_for(UDC_DB_ERR_TRANSIENT, "40P01"), STORE_CONFLICT);
    ck_assert_int_eq(store_status_for(UDC_DB_ERR_TRANSIENT, "40001"), STORE_CONFLICT);
    /* other transient failures (statement timeout, no memory) wait like an absent database */
    ck_assert_int_eq(store_status_for(UDC_DB_ERR_TRANSIENT, "57014"), STORE_DB_DOWN);
    ck_assert_int_eq(store_status_for(UDC_DB_ERR_TRANSIENT, "53200"), STORE_DB_DOWN);
    ck_assert_int_eq(store_status_for(UDC_DB_ERR_CONNECTION, ""), STORE_DB_DOWN);
    ck_assert_int_eq(store_status_for(UDC_DB_ERR_CONNECTION, "57P01"), STORE_DB_DOWN);
    ck_assert_int_eq(store_status_for(UDC_DB_ERR_STATEMENT, "22003"), STORE_REJECTED);
    ck_assert_int_eq(store_status_for(UDC_DB_ERR_TRANSIENT, NULL), STORE_DB_DOWN);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("writer_acks");
    TCase *tc = tcase_create("ack_order");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, nothing_published_acks_nothing);
    tcase_add_test(tc, in_order_batches_are_acked_as_confirmed);
    tcase_add_test(tc, a_later_batch_waits_for_the_earlier_one);
    tcase_add_test(tc, only_the_contiguous_prefix_is_acked);
    tcase_add_test(tc, a_batch_without_publishes_waits_its_turn);
    tcase_add_test(tc, reset_forgets_groups_and_moves_the_front);
    tcase_add_test(tc, random_completion_order_acks_every_delivery_once);
    suite_add_tcase(s, tc);
    TCase *cls = tcase_create("classification");
    tcase_add_test(cls, deadlock_and_serialization_failure_mean_send_again);
    suite_add_tcase(s, cls);
    return udc_test_run(s);
}
