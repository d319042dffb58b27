/* Unit tests for udc-ingest-http's confirm window (daemons/ingest-http/pending.c). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "ingest-http/pending.h"
#include "suite_run.h"

static struct pending_window w;
static int owners[16];

static void setup(void)
{
    ck_assert_int_eq(pending_init(&w, 8), 0);
}

static void teardown(void)
{
    pending_free(&w);
}

static void push_seqs(uint64_t first, uint64_t last)
{
    for (uint64_t s = first; s <= last; s++) {
        char id[8];
        snprintf(id, sizeof id, "m%llu", (unsigned long long)s);
        ck_assert_int_eq(pending_push(&w, s, 100 * s, &owners[s], id), 0);
    }
}

START_TEST(multiple_ack_settles_everything_up_to_seq)
{
    struct pending_entry e;
    push_seqs(1, 5);
    pending_resolve(&w, 3, 1, 1);
    for (uint64_t s = 1; s <= 3; s++) {
        ck_assert_int_eq(pending_pop_resolved(&w, &e), 1);
        ck_assert_uint_eq(e.seq, s);
        ck_assert_int_eq(e.outcome, PENDING_ACKED);
        ck_assert_ptr_eq(e.owner, &owners[s]);
    }
    ck_assert_int_eq(pending_pop_resolved(&w, &e), 0);
    ck_assert_uint_eq(pending_count(&w), 2);
}
END_TEST

START_TEST(single_acks_out_of_order_leave_in_order)
{
    struct pending_entry e;
    push_seqs(1, 3);
    pending_resolve(&w, 2, 0, 1);
    ck_assert_int_eq(pending_pop_resolved(&w, &e), 0);
    pending_resolve(&w, 1, 0, 0);
    ck_assert_int_eq(pending_pop_resolved(&w, &e), 1);
    ck_assert_uint_eq(e.seq, 1);
    ck_assert_int_eq(e.outcome, PENDING_FAILED);
    ck_assert_int_eq(pending_pop_resolved(&w, &e), 1);
    ck_assert_uint_eq(e.seq, 2);
    ck_assert_int_eq(e.outcome, PENDING_ACKED);
}
END_TEST

START_TEST(returned_message_stays_failed_after_its_ack)
{
    struct pending_entry e;
    push_seqs(1, 2);
    ck_assert_int_eq(pending_fail_message(&w, "m2"), 0);
    ck_assert_int_eq(pending_fail_message(&w, "nope"), -1);
    pending_resolve(&w, 2, 1, 1);
    ck_assert_int_eq(pending_pop_resolved(&w, &e), 1);
    ck_assert_int_eq(e.outcome, PENDING_ACKED);
    ck_assert_int_eq(pending_pop_resolved(&w, &e), 1);
    ck_assert_int_eq(e.outcome, PENDING_FAILED);
}
END_TEST

START_TEST(full_window_refuses_and_wraps_around)
{
    struct pending_entry e;
    push_seqs(1, 8);
    ck_assert_int_eq(pending_full(&w), 1);
    ck_assert_int_eq(pending_push(&w, 9, 0, NULL, "m9"), -1);
    pending_resolve(&w, 4, 1, 1);
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(pending_pop_resolved(&w, &e), 1);
    push_seqs(9, 12);
    pending_resolve(&w, 12, 1, 1);
    for (uint64_t s = 5; s <= 12; s++) {
        ck_assert_int_eq(pending_pop_resolved(&w, &e), 1);
        ck_assert_uint_eq(e.seq, s);
    }
    ck_assert_uint_eq(pending_count(&w), 0);
}
END_TEST

START_TEST(timeouts_and_channel_loss_fail_waiting_entries)
{
    struct pending_entry e;
    push_seqs(1, 4); /* published at 100, 200, 300, 400 µs */
    pending_resolve(&w, 1, 0, 1);
    pending_fail_older_than(&w, 250);
    ck_assert_int_eq(pending_pop_resolved(&w, &e), 1);
    ck_assert_int_eq(e.outcome, PENDING_ACKED);
    ck_assert_int_eq(pending_pop_resolved(&w, &e), 1);
    ck_assert_int_eq(e.outcome, PENDING_FAILED);
    ck_assert_int_eq(pending_pop_resolved(&w, &e), 0);
    pending_fail_all(&w);
    ck_assert_int_eq(pending_pop_resolved(&w, &e), 1);
    ck_assert_int_eq(pending_pop_resolved(&w, &e), 1);
    ck_assert_int_eq(e.outcome, PENDING_FAILED);
    ck_assert_uint_eq(pending_count(&w), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ingest_pending");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, multiple_ack_settles_everything_up_to_seq);
    tcase_add_test(tc, single_acks_out_of_order_leave_in_order);
    tcase_add_test(tc, returned_message_stays_failed_after_its_ack);
    tcase_add_test(tc, full_window_refuses_and_wraps_around);
    tcase_add_test(tc, timeouts_and_channel_loss_fail_waiting_entries);
    suite_add_tcase(s, tc);
    return udc_test_run(s);
}
