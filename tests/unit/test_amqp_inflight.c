/* Unit tests for common/amqp_inflight: the ring of publishes waiting for their confirm. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "amqp_client_private.h"
#include "suite_run.h"

static uint64_t hash(const char *id)
{
    return udc_amqp_id_hash_(id, strlen(id));
}

static void add(struct udc_amqp_ring *r, uint64_t seq, const char *id)
{
    ck_assert_int_eq(udc_amqp_ring_reserve_(r), 0);
    udc_amqp_ring_add_(r, seq, id ? hash(id) : 0, 1000 + seq);
}

START_TEST(single_and_multiple_confirms_in_any_order)
{
    struct udc_amqp_ring r = {0};
    udc_amqp_ring_reset_(&r);
    for (uint64_t s = 1; s <= 3000; s++) /* grows past the first capacity */
        add(&r, s, NULL);
    ck_assert_uint_eq(r.pending, 3000);

    ck_assert_uint_eq(udc_amqp_ring_confirm_(&r, 5, 0), 1);
    ck_assert_uint_eq(udc_amqp_ring_confirm_(&r, 5, 0), 0); /* twice counts once */
    ck_assert_uint_eq(r.first_seq, 1);                      /* 1..4 still wait */
    ck_assert_uint_eq(udc_amqp_ring_confirm_(&r, 10, 1), 9);
    ck_assert_uint_eq(r.first_seq, 11);
    ck_assert_uint_eq(udc_amqp_ring_confirm_(&r, 3, 0), 0); /* already confirmed */
    ck_assert_uint_eq(udc_amqp_ring_confirm_(&r, 9999, 0), 0);
    ck_assert_uint_eq(udc_amqp_ring_confirm_(&r, 2000, 0), 1);
    ck_assert_uint_eq(udc_amqp_ring_confirm_(&r, 9999, 1), 3000 - 11);
    ck_assert_uint_eq(r.pending, 0);
    ck_assert_uint_eq(r.count, 0);

    add(&r, 3001, NULL); /* keeps working after emptying */
    ck_assert_uint_eq(r.first_seq, 3001);
    ck_assert_uint_eq(udc_amqp_ring_confirm_(&r, 3001, 0), 1);
    udc_amqp_ring_free_(&r);
}
END_TEST

/* What the writer acks by: the highest seq below which every publish has its confirm. */
START_TEST(confirmed_through_is_the_contiguous_prefix)
{
    struct udc_amqp *c = calloc(1, sizeof *c);
    ck_assert_ptr_nonnull(c);
    udc_amqp_ring_reset_(&c->ring);
    c->next_seq = 1;
    ck_assert_uint_eq(udc_amqp_confirmed_through(c), 0);
    for (int i = 0; i < 6; i++) {
        ck_assert_int_eq(udc_amqp_ring_reserve_(&c->ring), 0);
        udc_amqp_ring_add_(&c->ring, c->next_seq++, 0, 1);
    }
    ck_assert_uint_eq(udc_amqp_confirmed_through(c), 0);
    udc_amqp_ring_confirm_(&c->ring, 3, 0); /* out of order: 1 and 2 still wait */
    ck_assert_uint_eq(udc_amqp_confirmed_through(c), 0);
    udc_amqp_ring_confirm_(&c->ring, 2, 1);
    ck_assert_uint_eq(udc_amqp_confirmed_through(c), 3);
    udc_amqp_ring_confirm_(&c->ring, 6, 0);
    ck_assert_uint_eq(udc_amqp_confirmed_through(c), 3);
    udc_amqp_ring_confirm_(&c->ring, 5, 1);
    ck_assert_uint_eq(udc_amqp_confirmed_through(c), 6);
    udc_amqp_ring_free_(&c->ring);
    free(c);
}
END_TEST

START_TEST(wraps_around_without_losing_order)
{
    struct udc_amqp_ring r = {0};
    udc_amqp_ring_reset_(&r);
    uint64_t seq = 1;
    for (int round = 0; round < 10; round++) {
        for (int i = 0; i < 700; i++)
            add(&r, seq++, NULL);
        ck_assert_uint_eq(udc_amqp_ring_confirm_(&r, seq - 1 - 100, 1), 600 + (round ? 100 : 0));
    }
    ck_assert_uint_eq(r.cap, 1024); /* never more than 800 in flight */
    ck_assert_uint_eq(r.pending, 100);
    udc_amqp_ring_free_(&r);
}
END_TEST

START_TEST(returns_match_the_oldest_pending_publish_of_that_id)
{
    struct udc_amqp_ring r = {0};
    udc_amqp_ring_reset_(&r);
    add(&r, 1, "a");
    add(&r, 2, "b");
    add(&r, 3, "a");
    add(&r, 4, NULL);
    ck_assert_uint_eq(udc_amqp_ring_match_return_(&r, hash("a")), 1);
    ck_assert_uint_eq(udc_amqp_ring_match_return_(&r, hash("a")), 3);
    ck_assert_uint_eq(udc_amqp_ring_match_return_(&r, hash("a")), 0);
    ck_assert_uint_eq(udc_amqp_ring_match_return_(&r, hash("zzz")), 0);
    ck_assert_uint_eq(udc_amqp_ring_match_return_(&r, 0), 0);
    /* A returned publish is still unconfirmed until its ack. */
    ck_assert_uint_eq(udc_amqp_ring_confirm_(&r, 1, 0), 1);
    ck_assert_uint_eq(r.first_seq, 2);
    ck_assert_uint_eq(udc_amqp_id_hash_("", 0), 0);
    ck_assert_uint_ne(hash("a"), hash("b"));
    udc_amqp_ring_free_(&r);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("amqp_inflight");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, single_and_multiple_confirms_in_any_order);
    tcase_add_test(tc, wraps_around_without_losing_order);
    tcase_add_test(tc, confirmed_through_is_the_contiguous_prefix);
    tcase_add_test(tc, returns_match_the_oldest_pending_publish_of_that_id);
    suite_add_tcase(s, tc);
    return udc_test_run(s);
}
