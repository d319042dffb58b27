/* Unit tests for common/location_batch: every body form, body-level rejections with their
 * position, per-item errors with indexes, and the {"locations":[...]} writer. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "location_batch.h"
#include "suite_run.h"

#define S        INT64_C(1000000)
#define T_SAMPLE (INT64_C(1597747026) * S) /* 2020-08-18T10:37:06Z */

static const struct udc_location_rules rules = {.now_us = T_SAMPLE + 3600 * S,
                                                .max_future_skew_us = 300 * S};

#define ITEM(p) "{\"person_id\":" #p ",\"latitude\":1.5,\"longitude\":2.5}"
#define BAD_LAT "{\"person_id\":9,\"latitude\":91,\"longitude\":0}"

/* The body is copied into an exact-size heap block: no NUL after it, so ASan catches any
 * read past len. */
static int parse(const char *text, size_t max_items, struct udc_location_batch *b,
                 struct udc_location_error *err)
{
    size_t len = strlen(text);
    char *copy = malloc(len ? len : 1);
    ck_assert_ptr_nonnull(copy);
    memcpy(copy, text, len);
    memset(err, 0, sizeof *err);
    int rc = udc_location_batch_parse(copy, len, max_items, &rules, b, err);
    free(copy);
    return rc;
}

static const struct {
    const char *body;
    size_t count;
} forms[] = {
    {ITEM(1), 1},
    {"  \n" ITEM(1) "\n\n", 1},
    {"[" ITEM(1) "," ITEM(2) "," ITEM(3) "]", 3},
    {"{\"locations\":[" ITEM(1) "," ITEM(2) "]}", 2},
    {ITEM(1) "\n" ITEM(2) "\n" ITEM(3), 3},
    {ITEM(1) "\r\n\r\n" ITEM(2) "\r\n", 2}, /* CRLF and blank lines */
    {"\n\n" ITEM(1) "\n   \n" ITEM(2) "\n\n", 2},
};

START_TEST(accepts_every_form)
{
    struct udc_location_batch b;
    struct udc_location_error err;
    ck_assert_msg(parse(forms[_i].body, 10, &b, &err) == 0, "%s: %s %s", forms[_i].body, err.field,
                  err.rule);
    ck_assert_uint_eq(b.count, forms[_i].count);
    ck_assert_uint_eq(b.valid_count, forms[_i].count);
    for (size_t i = 0; i < b.count; i++) {
        ck_assert_int_eq(b.valid[i], 1);
        ck_assert_int_eq(b.items[i].person_id, (int)i + 1); /* order kept */
        ck_assert_double_eq(b.items[i].latitude, 1.5);
    }
    udc_location_batch_free(&b);
    ck_assert_ptr_null(b.items);
    udc_location_batch_free(&b); /* twice is harmless */
}
END_TEST

START_TEST(mixed_items_carry_their_index)
{
    const char *bodies[] = {
        "[" ITEM(1) "," BAD_LAT "," ITEM(3) ",7," ITEM(5) "]",
        ITEM(1) "\n" BAD_LAT "\n" ITEM(3) "\n7\n" ITEM(5) "\n",
        "{\"locations\":[" ITEM(1) "," BAD_LAT "," ITEM(3) ",7," ITEM(5) "]}",
    };
    for (size_t f = 0; f < sizeof bodies / sizeof bodies[0]; f++) {
        struct udc_location_batch b;
        struct udc_location_error err;
        ck_assert_int_eq(parse(bodies[f], 10, &b, &err), 0);
        ck_assert_uint_eq(b.count, 5);
        ck_assert_uint_eq(b.valid_count, 3);
        const unsigned char expected_valid[] = {1, 0, 1, 0, 1};
        for (size_t i = 0; i < 5; i++)
            ck_assert_int_eq(b.valid[i], expected_valid[i]);
        ck_assert_int_eq(b.errors[1].index, 1);
        ck_assert_str_eq(b.errors[1].field, "latitude");
        ck_assert_str_eq(b.errors[1].rule, "must be between -90 and 90");
        ck_assert_int_eq(b.errors[3].index, 3);
        ck_assert_str_eq(b.errors[3].field, "location");
        ck_assert_str_eq(b.errors[3].rule, "must be a JSON object");
        ck_assert_int_eq(b.items[4].person_id, 5);
        udc_location_batch_free(&b);
    }
}
END_TEST

START_TEST(a_single_invalid_object_is_an_item_error)
{
    struct udc_location_batch b;
    struct udc_location_error err;
    ck_assert_int_eq(parse(BAD_LAT, 10, &b, &err), 0);
    ck_assert_uint_eq(b.count, 1);
    ck_assert_uint_eq(b.valid_count, 0);
    ck_assert_int_eq(b.errors[0].index, 0);
    ck_assert_str_eq(b.errors[0].field, "latitude");
    udc_location_batch_free(&b);
}
END_TEST

static const struct {
    const char *body;
    const char *field;
    const char *rule; /* exact, or a prefix when it ends in '*' */
} body_rejections[] = {
    {"", "body", "must not be empty"},
    {" \n\t\r\n", "body", "must not be empty"},
    {"[]", "body", "must hold at least one location"},
    {"{\"locations\":[]}", "body", "must hold at least one location"},
    {"[" ITEM(1) "," ITEM(2) "," ITEM(3) "," ITEM(4) "]", "body", "must hold at most 3 items"},
    {"{\"locations\":[" ITEM(1) "," ITEM(2) "," ITEM(3) "," ITEM(4) "]}", "body",
     "must hold at most 3 items"},
    {ITEM(1) "\n" ITEM(2) "\n" ITEM(3) "\n" ITEM(4), "body", "must hold at most 3 items"},
    {"{\"locations\":{}}", "locations", "must be an array of location objects"},
    {"{\"locations\":[], \"extra\":1}", "extra", "unknown field"},
    {"12", "body", "must be a JSON object, an array of objects or NDJSON"},
    {"\"text\"\n", "body", "must be a JSON object, an array of objects or NDJSON"},
    {"true", "body", "must be a JSON object, an array of objects or NDJSON"},
    {"{\"person_id\":1,}", "body", "is malformed JSON at line 1, column 16: unexpected character"},
    {"[" ITEM(1) ",\n  {\"person_id\": x}]", "body",
     "is malformed JSON at line 2, column 17: unexpected character"},
    {ITEM(1) "\n" ITEM(2) "\n{\"person_id\":\n", "body", "is incomplete JSON*line 4*"},
    {"[" ITEM(1), "body", "is incomplete JSON: it ends at line 1, column 48"},
    {ITEM(1) "\n{oops}", "body", "is malformed JSON at line 2, column 2: *"},
    {"[" ITEM(1) "] x", "body", "has unexpected data after the JSON value at line 1, column 50"},
    {"[" ITEM(1) "]\n[" ITEM(2) "]", "body", "has unexpected data after the JSON value*"},
    {"{\"locations\":[" ITEM(1) "]}\n" ITEM(2), "body", "has unexpected data after*"},
    {ITEM(1) " " ITEM(2), "body", "has unexpected data after the JSON value at line 1, column 48"},
    {ITEM(1) "\n" ITEM(2) " x", "body", "has unexpected data after the JSON value at line 2*"},
    {"[[[[[[[[[[1]]]]]]]]]]", "body", "is malformed JSON at line 1, column 9: nesting too deep"},
    {"[\"\xff\"]", "body", "is malformed JSON*"}, /* not UTF-8 */
};

START_TEST(rejects_bodies_naming_the_problem)
{
    struct udc_location_batch b;
    struct udc_location_error err;
    const char *body = body_rejections[_i].body;
    ck_assert_msg(parse(body, 3, &b, &err) == -1, "accepted: %s", body);
    ck_assert_int_eq(err.index, -1);
    ck_assert_str_eq(err.field, body_rejections[_i].field);
    const char *want = body_rejections[_i].rule;
    const char *star = strchr(want, '*');
    if (star == NULL) {
        ck_assert_str_eq(err.rule, want);
    } else {
        /* "prefix*middle*" style: each piece must appear in order. */
        char pattern[128];
        snprintf(pattern, sizeof pattern, "%s", want);
        const char *at = err.rule;
        char *save = NULL;
        for (char *piece = strtok_r(pattern, "*", &save); piece;
             piece = strtok_r(NULL, "*", &save)) {
            const char *found = strstr(at, piece);
            ck_assert_msg(found != NULL, "%s: rule '%s' lacks '%s'", body, err.rule, piece);
            if (at == err.rule)
                ck_assert_msg(found == err.rule, "%s: rule '%s'", body, err.rule);
            at = found + strlen(piece);
        }
    }
    ck_assert_uint_eq(b.count, 0);
    ck_assert_ptr_null(b.items);
}
END_TEST

START_TEST(body_is_read_by_length_not_nul)
{
    struct udc_location_batch b;
    struct udc_location_error err;
    const char text[] = ITEM(1) "\n" ITEM(2);
    /* Only the first object is inside len. */
    ck_assert_int_eq(udc_location_batch_parse(text, strlen(ITEM(1)), 10, &rules, &b, &err), 0);
    ck_assert_uint_eq(b.count, 1);
    udc_location_batch_free(&b);
    /* A NUL inside len is not the end of the body. */
    const char with_nul[] = ITEM(1) "\0" ITEM(2);
    ck_assert_int_eq(udc_location_batch_parse(with_nul, sizeof with_nul - 1, 10, &rules, &b, &err),
                     -1);
}
END_TEST

START_TEST(batch_writer_round_trips)
{
    struct udc_location items[3] = {
        {.event_id = "3f2b8c1a-9d4e-4f6a-8b7c-0123456789ab",
         .person_id = 1,
         .latitude = 37.5534,
         .longitude = -122.2905,
         .creation_time_us = T_SAMPLE,
         .source = "ingest-http"},
        {.event_id = "00000000-0000-4000-8000-000000000002",
         .person_id = 2,
         .latitude = -33.86882,
         .longitude = 151.20929,
         .creation_time_us = T_SAMPLE + 1,
         .source = "partner:acme"},
        {.event_id = "00000000-0000-4000-8000-000000000003",
         .person_id = 3,
         .latitude = 0.1,
         .longitude = 0.2,
         .creation_time_us = 0,
         .source = "x"},
    };
    size_t len = 0;
    char *json = udc_location_batch_to_json(items, 3, &len);
    ck_assert_ptr_nonnull(json);
    ck_assert_uint_eq(len, strlen(json));
    ck_assert_int_eq(strncmp(json, "{\"locations\":[{\"event_id\":", 26), 0);
    ck_assert_str_eq(json + len - 2, "]}");

    struct udc_location_rules strict = {.now_us = T_SAMPLE,
                                        .max_future_skew_us = 0,
                                        .require_event_id = 1,
                                        .require_creation_time = 1,
                                        .require_source = 1};
    struct udc_location_batch b;
    struct udc_location_error err;
    ck_assert_int_eq(udc_location_batch_parse(json, len, 3, &strict, &b, &err), 0);
    ck_assert_uint_eq(b.valid_count, 2); /* item 1 is 1 µs in the future of a skew-0 clock */
    ck_assert_str_eq(b.errors[1].field, "creation_time");
    ck_assert_mem_eq(&b.items[0], &items[0], sizeof items[0]);
    ck_assert_mem_eq(&b.items[2], &items[2], sizeof items[2]);
    udc_location_batch_free(&b);
    free(json);

    json = udc_location_batch_to_json(items, 0, &len);
    ck_assert_str_eq(json, "{\"locations\":[]}");
    free(json);
    items[1].latitude = 0.0 / 0.0;
    ck_assert_ptr_null(udc_location_batch_to_json(items, 3, NULL));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("location_batch");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, accepts_every_form, 0, (int)(sizeof forms / sizeof forms[0]));
    tcase_add_test(tc, mixed_items_carry_their_index);
    tcase_add_test(tc, a_single_invalid_object_is_an_item_error);
    tcase_add_loop_test(tc, rejects_bodies_naming_the_problem, 0,
                        (int)(sizeof body_rejections / sizeof body_rejections[0]));
    tcase_add_test(tc, body_is_read_by_length_not_nul);
    tcase_add_test(tc, batch_writer_round_trips);
    suite_add_tcase(s, tc);
    return udc_test_run(s);
}
