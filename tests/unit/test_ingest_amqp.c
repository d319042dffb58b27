/* udc-ingest-amqp's own logic: who sent a partner message, what of it goes on to
 * udc.locations and why the rest is dead-lettered (partner_message), and acking deliveries
 * in order once every publish they caused is confirmed (ack_window). */
#include <check.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest-amqp/ack_window.h"
#include "ingest-amqp/partner_message.h"
#include "suite_run.h"
#include "timefmt.h"

#define NOW_US INT64_C(1700000000000000) /* 2023-11-14T22:13:20Z */
#define ID1    "6f1c2a1e-8c55-4c2e-9a43-3f1d2b7c9e01"
#define ID2    "6f1c2a1e-8c55-4c2e-9a43-3f1d2b7c9e02"

static const struct udc_location_rules rules = {.now_us = NOW_US,
                                                .max_future_skew_us = 300 * INT64_C(1000000)};

static struct partner_verdict check(const char *user_id, const char *key, const char *body)
{
    struct partner_verdict v;
    ck_assert_int_eq(partner_message_check(user_id, key, body, strlen(body), &rules, &v), 0);
    return v;
}

static json_object *parse_out(const struct partner_verdict *v)
{
    ck_assert_ptr_nonnull(v->out_body);
    ck_assert_uint_eq(strlen(v->out_body), v->out_len);
    json_object *o = json_tokener_parse(v->out_body);
    ck_assert_ptr_nonnull(o);
    return o;
}

static const char *str_field(json_object *o, const char *key)
{
    json_object *f;
    ck_assert_msg(json_object_object_get_ex(o, key, &f), "no %s", key);
    return json_object_get_string(f);
}

START_TEST(names)
{
    ck_assert(partner_name_valid("acme"));
    ck_assert(partner_name_valid("venue-wifi-2"));
    ck_assert(partner_name_valid("a"));
    ck_assert(partner_name_valid("abcdefghijklmnopqrstuvwxyz012345"));
    ck_assert(!partner_name_valid("abcdefghijklmnopqrstuvwxyz0123456"));
    ck_assert(!partner_name_valid(""));
    ck_assert(!partner_name_valid("Acme"));
    ck_assert(!partner_name_valid("ac.me"));
    ck_assert(!partner_name_valid("ac_me"));
    ck_assert(!partner_name_valid("acme*"));
}
END_TEST

START_TEST(single_ping_goes_on_as_one_location_with_the_partner_as_source)
{
    struct partner_verdict v =
        check("acme", "partner.acme.scanners.hall-a",
              "{\"event_id\":\"" ID1 "\",\"person_id\":5,\"latitude\":35.05,\"longitude\":-106.5,"
              "\"creation_time\":\"2023-11-14T22:00:00Z\",\"source\":\"whatever\"}");
    ck_assert_str_eq(v.reason, "");
    ck_assert_ptr_null(v.label);
    ck_assert_str_eq(v.partner, "acme");
    ck_assert_str_eq(v.out_routing_key, "location.partner.acme");
    ck_assert_str_eq(v.message_id, ID1);
    ck_assert_uint_eq(v.pings, 1);
    json_object *o = parse_out(&v);
    ck_assert_str_eq(str_field(o, "source"), "partner:acme");
    ck_assert_str_eq(str_field(o, "event_id"), ID1);
    ck_assert_str_eq(str_field(o, "creation_time"), "2023-11-14T22:00:00Z");
    ck_assert_int_eq(json_object_get_int(json_object_object_get(o, "person_id")), 5);
    ck_assert(!json_object_object_get_ex(o, "locations", NULL));
    json_object_put(o);
    partner_verdict_free(&v);
}
END_TEST

START_TEST(batch_goes_on_as_one_message_with_a_fresh_id)
{
    struct partner_verdict v =
        check("", "partner.venue-wifi.x",
              "{\"locations\":[{\"event_id\":\"" ID1 "\",\"person_id\":1,\"latitude\":1,"
              "\"longitude\":2,\"creation_time\":\"2023-11-14T22:00:00Z\"},"
              "{\"event_id\":\"" ID2 "\",\"person_id\":2,\"latitude\":3,\"longitude\":4,"
              "\"creation_time\":\"2023-11-14T22:00:01+01:00\"}]}");
    ck_assert_str_eq(v.reason, "");
    ck_assert_str_eq(v.partner, "venue-wifi");
    ck_assert_uint_eq(v.pings, 2);
    ck_assert(udc_uuid_is_canonical(v.message_id));
    ck_assert_str_ne(v.message_id, ID1);
    ck_assert_str_ne(v.message_id, ID2);
    json_object *o = parse_out(&v), *arr;
    ck_assert(json_object_object_get_ex(o, "locations", &arr));
    ck_assert_uint_eq(json_object_array_length(arr), 2);
    ck_assert_str_eq(str_field(json_object_array_get_idx(arr, 1), "source"), "partner:venue-wifi");
    ck_assert_str_eq(str_field(json_object_array_get_idx(arr, 1), "creation_time"),
                     "2023-11-14T21:00:01Z");
    json_object_put(o);
    partner_verdict_free(&v);
}
END_TEST

START_TEST(partial_batch_republishes_the_valid_and_names_the_invalid)
{
    struct partner_verdict v =
        check("acme", "partner.acme.x",
              "[{\"event_id\":\"" ID1 "\",\"person_id\":1,\"latitude\":91,\"longitude\":2,"
              "\"creation_time\":\"2023-11-14T22:00:00Z\"},"
              "{\"event_id\":\"" ID2 "\",\"person_id\":2,\"latitude\":3,\"longitude\":4,"
              "\"creation_time\":\"2023-11-14T22:00:00Z\"},"
              "{\"person_id\":2,\"latitude\":3,\"longitude\":4,"
              "\"creation_time\":\"2023-11-14T22:00:00Z\"}]");
    ck_assert_uint_eq(v.pings, 1);
    ck_assert_uint_eq(v.invalid, 2);
    ck_assert_str_eq(v.label, "invalid_items");
    ck_assert_str_eq(v.reason,
                     "item 0: latitude must be between -90 and 90; item 2: event_id is required");
    json_object *o = parse_out(&v), *arr;
    ck_assert(json_object_object_get_ex(o, "locations", &arr));
    ck_assert_uint_eq(json_object_array_length(arr), 1);
    ck_assert_str_eq(str_field(json_object_array_get_idx(arr, 0), "event_id"), ID2);
    json_object_put(o);
    partner_verdict_free(&v);
}
END_TEST

struct bad_case {
    const char *user_id, *key, *body, *label, *reason_part;
};

static const struct bad_case bad_cases[] = {
    {"", "partner.acme.x", "{\"event_id\":", "malformed", "body "},
    {"", "partner.acme.x", "", "malformed", "body must not be empty"},
    {"", "partner.acme.x", "[]", "malformed", "body must hold at least one location"},
    {"", "partner.acme.x",
     "{\"person_id\":1,\"latitude\":1,\"longitude\":2,\"creation_time\":\"2023-11-14T22:00:00Z\"}",
     "invalid_items", "event_id is required"},
    {"", "partner.acme.x",
     "{\"event_id\":\"" ID1 "\",\"person_id\":1,\"latitude\":1,\"longitude\":2}", "invalid_items",
     "creation_time is required"},
    {"", "partner.acme.x",
     "{\"event_id\":\"" ID1 "\",\"person_id\":1,\"latitude\":1,\"longitude\":2,"
     "\"creation_time\":\"2023-11-15T22:00:00Z\"}",
     "invalid_items", "creation_time "},
    {"", "partner.acme.x",
     "{\"event_id\":\"" ID1 "\",\"person_id\":1,\"latitude\":1,\"longitude\":200,"
     "\"creation_time\":\"2023-11-14T22:00:00Z\"}",
     "invalid_items", "longitude must be between -180 and 180"},
    {"", "partner.acme.x",
     "{\"event_id\":\"nope\",\"person_id\":1,\"latitude\":1,\"longitude\":2,"
     "\"creation_time\":\"2023-11-14T22:00:00Z\"}",
     "invalid_items", "event_id "},
    {"", "partner.acme.x",
     "{\"event_id\":\"" ID1 "\",\"person_id\":1,\"latitude\":1,\"longitude\":2,"
     "\"creation_time\":\"2023-11-14T22:00:00Z\",\"colour\":\"red\"}",
     "invalid_items", "colour unknown field"},
    {"other", "partner.acme.x", "{}", "identity", "user_id 'other' does not match partner 'acme'"},
    {"acme", "location.acme.x", "{}", "routing_key", "routing_key 'location.acme.x' must be"},
    {"acme", "partner.acme", "{}", "routing_key", "routing_key 'partner.acme' must be"},
    {"", "partner..x", "{}", "routing_key", "must be partner.<your user name>"},
    {"", "partner.ACME.x", "{}", "routing_key", "must be partner.<your user name>"},
    {"", "partner.abcdefghijklmnopqrstuvwxyz0123456.x", "{}", "routing_key", "must be"},
};

START_TEST(bad_messages_are_dead_lettered_with_the_field_and_rule)
{
    const struct bad_case *c = &bad_cases[_i];
    struct partner_verdict v = check(c->user_id, c->key, c->body);
    ck_assert_ptr_null(v.out_body);
    ck_assert_uint_eq(v.pings, 0);
    ck_assert_ptr_nonnull(v.label);
    ck_assert_str_eq(v.label, c->label);
    ck_assert_msg(strstr(v.reason, c->reason_part), "case %d: reason '%s' lacks '%s'", _i, v.reason,
                  c->reason_part);
    partner_verdict_free(&v);
}
END_TEST

START_TEST(oversized_body_is_refused_unread)
{
    size_t len = PARTNER_BODY_MAX + 1;
    char *body = malloc(len);
    memset(body, ' ', len);
    struct partner_verdict v;
    ck_assert_int_eq(partner_message_check("acme", "partner.acme.x", body, len, &rules, &v), 0);
    ck_assert_str_eq(v.label, "too_large");
    ck_assert_ptr_null(v.out_body);
    partner_verdict_free(&v);
    free(body);
}
END_TEST

START_TEST(too_many_items_is_refused)
{
    size_t cap = (PARTNER_BATCH_MAX + 1) * 160 + 16;
    char *body = malloc(cap);
    size_t used = (size_t)snprintf(body, cap, "[");
    for (int i = 0; i <= PARTNER_BATCH_MAX; i++)
        used +=
            (size_t)snprintf(body + used, cap - used,
                             "%s{\"event_id\":\"6f1c2a1e-8c55-4c2e-9a43-%012d\",\"person_id\":1,"
                             "\"latitude\":1,\"longitude\":2,"
                             "\"creation_time\":\"2023-11-14T22:00:00Z\"}",
                             i ? "," : "", i);
    used += (size_t)snprintf(body + used, cap - used, "]");
    struct partner_verdict v;
    ck_assert_int_eq(partner_message_check("", "partner.acme.x", body, used, &rules, &v), 0);
    ck_assert_str_eq(v.label, "malformed");
    ck_assert_msg(strstr(v.reason, "at most 1000"), "%s", v.reason);
    partner_verdict_free(&v);
    free(body);
}
END_TEST

START_TEST(long_lists_of_invalid_items_are_cut_with_a_count)
{
    size_t cap = 1000 * 120 + 16;
    char *body = malloc(cap);
    size_t used = (size_t)snprintf(body, cap, "[");
    for (int i = 0; i < 1000; i++)
        used += (size_t)snprintf(body + used, cap - used,
                                 "%s{\"person_id\":1,\"latitude\":1,\"longitude\":2,"
                                 "\"creation_time\":\"2023-11-14T22:00:00Z\"}",
                                 i ? "," : "");
    used += (size_t)snprintf(body + used, cap - used, "]");
    struct partner_verdict v;
    ck_assert_int_eq(partner_message_check("", "partner.acme.x", body, used, &rules, &v), 0);
    ck_assert_uint_eq(v.invalid, 1000);
    ck_assert_uint_lt(strlen(v.reason), PARTNER_REASON_MAX);
    ck_assert_msg(strstr(v.reason, "more invalid items"), "%s", v.reason);
    partner_verdict_free(&v);
    free(body);
}
END_TEST

/* ---- ack_window ---- */

static void push(struct ack_window *w, uint64_t tag, uint64_t s1, uint64_t s2)
{
    uint64_t seqs[2] = {s1, s2};
    ck_assert_int_eq(ack_window_push(w, tag, seqs, s2 ? 2 : 1), 0);
}

START_TEST(acks_in_order_only)
{
    struct ack_window w = {0};
    push(&w, 1, 1, 0);
    push(&w, 2, 2, 3);
    push(&w, 3, 4, 0);
    size_t n;
    ck_assert_uint_eq(ack_window_take_done(&w, &n), 0);
    ack_window_confirm(&w, 4, 0); /* the last one first: nothing may be acked yet */
    ck_assert_uint_eq(ack_window_take_done(&w, &n), 0);
    ack_window_confirm(&w, 1, 0);
    ck_assert_uint_eq(ack_window_take_done(&w, &n), 1);
    ck_assert_uint_eq(n, 1);
    ack_window_confirm(&w, 3, 0); /* tag 2 still waits for seq 2 */
    ck_assert_uint_eq(ack_window_take_done(&w, &n), 0);
    ack_window_confirm(&w, 2, 0);
    ck_assert_uint_eq(ack_window_take_done(&w, &n), 3);
    ck_assert_uint_eq(n, 2);
    ck_assert_uint_eq(ack_window_count(&w), 0);
    ack_window_free(&w);
}
END_TEST

START_TEST(multiple_confirms_cover_earlier_seqs)
{
    struct ack_window w = {0};
    for (uint64_t i = 1; i <= 1000; i++)
        push(&w, i, 2 * i - 1, 2 * i);
    ack_window_confirm(&w, 1200, 1); /* covers tags 1..600 */
    size_t n;
    ck_assert_uint_eq(ack_window_take_done(&w, &n), 600);
    ck_assert_uint_eq(n, 600);
    ack_window_confirm(&w, 1202, 0); /* tag 601 lacks 1201 */
    ck_assert_uint_eq(ack_window_take_done(&w, &n), 0);
    ack_window_confirm(&w, 2000, 1);
    ck_assert_uint_eq(ack_window_take_done(&w, &n), 1000);
    ck_assert_uint_eq(n, 400);
    /* The window is reused after growing and sliding. */
    for (uint64_t i = 1001; i <= 3000; i++)
        push(&w, i, 1000 + i, 0);
    ack_window_confirm(&w, 4000, 1);
    ck_assert_uint_eq(ack_window_take_done(&w, &n), 3000);
    ck_assert_uint_eq(n, 2000);
    ack_window_free(&w);
}
END_TEST

START_TEST(clear_forgets_everything)
{
    struct ack_window w = {0};
    push(&w, 7, 1, 0);
    ack_window_confirm(&w, 5, 1);
    ack_window_clear(&w);
    ck_assert_uint_eq(ack_window_count(&w), 0);
    push(&w, 1, 1, 0); /* a new connection: seqs restart and the old watermark is gone */
    ck_assert_uint_eq(ack_window_take_done(&w, NULL), 0);
    uint64_t three[3] = {1, 2, 3};
    ck_assert_int_eq(ack_window_push(&w, 2, three, 3), -1);
    ck_assert_int_eq(ack_window_push(&w, 2, three, 0), -1);
    ack_window_free(&w);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ingest_amqp");
    TCase *tc = tcase_create("partner_message");
    tcase_add_test(tc, names);
    tcase_add_test(tc, single_ping_goes_on_as_one_location_with_the_partner_as_source);
    tcase_add_test(tc, batch_goes_on_as_one_message_with_a_fresh_id);
    tcase_add_test(tc, partial_batch_republishes_the_valid_and_names_the_invalid);
    tcase_add_loop_test(tc, bad_messages_are_dead_lettered_with_the_field_and_rule, 0,
                        (int)(sizeof bad_cases / sizeof bad_cases[0]));
    tcase_add_test(tc, oversized_body_is_refused_unread);
    tcase_add_test(tc, too_many_items_is_refused);
    tcase_add_test(tc, long_lists_of_invalid_items_are_cut_with_a_count);
    suite_add_tcase(s, tc);
    TCase *aw = tcase_create("ack_window");
    tcase_add_test(aw, acks_in_order_only);
    tcase_add_test(aw, multiple_confirms_cover_earlier_seqs);
    tcase_add_test(aw, clear_forgets_everything);
    suite_add_tcase(s, aw);
    return udc_test_run(s);
}
