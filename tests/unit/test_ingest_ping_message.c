/* Unit tests for udc-ingest-http's fast ping encoder (daemons/ingest-http/ping_message.c):
 * it must say exactly what udc_location_to_json_buf() says, value for value. */
#include <check.h>
#include <json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest-http/ping_message.h"
#include "location_json.h"
#include "suite_run.h"

static struct udc_location ping(double lat, double lon)
{
    struct udc_location loc = {.person_id = 4321,
                               .latitude = lat,
                               .longitude = lon,
                               .creation_time_us = INT64_C(1597658673615000)};
    strcpy(loc.event_id, "3f2b8c1e-9d4a-4e6b-8f10-2a3b4c5d6e7f");
    strcpy(loc.source, "mobile");
    return loc;
}

/* Both encodings parse to the same keys with the same values (doubles bit for bit). */
static void assert_same_message(const struct udc_location *loc)
{
    char fast[UDC_LOCATION_JSON_MAX], slow[UDC_LOCATION_JSON_MAX];
    int nf = ping_message_format(loc, fast, sizeof fast);
    int ns = udc_location_to_json_buf(loc, slow, sizeof slow);
    ck_assert_int_gt(nf, 0);
    ck_assert_int_eq((int)strlen(fast), nf);
    struct json_object *a = json_tokener_parse(fast), *b = json_tokener_parse(slow);
    ck_assert_msg(a != NULL, "not JSON: %s", fast);
    ck_assert_int_eq(json_object_object_length(a), json_object_object_length(b));
    json_object_object_foreach(b, key, want)
    {
        struct json_object *got = NULL;
        ck_assert_msg(json_object_object_get_ex(a, key, &got), "%s lacks %s", fast, key);
        if (json_object_is_type(want, json_type_double))
            ck_assert_msg(json_object_get_double(got) == json_object_get_double(want),
                          "%s: %s vs %s", key, fast, slow);
        else
            ck_assert_str_eq(json_object_to_json_string(got), json_object_to_json_string(want));
    }
    ck_assert_int_eq(ns > 0, 1);
    json_object_put(a);
    json_object_put(b);
}

START_TEST(usual_coordinates_read_back_exactly)
{
    const double values[][2] = {{37.5521405, -122.2934364},
                                {0.5, -0.25},
                                {-90, 180},
                                {0, -0.0},
                                {12, 1e-9},
                                {35.0585, -106.572},
                                {-33.8688197, 151.2092955},
                                {89.999999999, -179.123456789}};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        struct udc_location loc = ping(values[i][0], values[i][1]);
        assert_same_message(&loc);
    }
}
END_TEST

START_TEST(random_and_long_coordinates_read_back_exactly)
{
    srand(7);
    for (int i = 0; i < 20000; i++) {
        double lat = (double)rand() / RAND_MAX * 180 - 90;
        double lon = (double)rand() / RAND_MAX * 360 - 180;
        if (i % 2) { /* phone-like: 7 decimals */
            lat = (double)(int64_t)(lat * 1e7) / 1e7;
            lon = (double)(int64_t)(lon * 1e7) / 1e7;
        }
        struct udc_location loc = ping(lat, lon);
        assert_same_message(&loc);
    }
}
END_TEST

START_TEST(too_small_buffer_and_unencodable_pings_fail)
{
    struct udc_location loc = ping(37.5, -122.25);
    char small[64];
    ck_assert_int_eq(ping_message_format(&loc, small, sizeof small), -1);
    char buf[UDC_LOCATION_JSON_MAX];
    loc.event_id[3] = 'X'; /* not canonical: the slow path refuses it as well */
    ck_assert_int_eq(ping_message_format(&loc, buf, sizeof buf), -1);
    loc = ping(37.5, -122.25);
    loc.source[0] = '\0'; /* no source: the slow path's shape, without the key */
    ck_assert_int_gt(ping_message_format(&loc, buf, sizeof buf), 0);
    ck_assert_ptr_null(strstr(buf, "source"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ingest_ping_message");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, usual_coordinates_read_back_exactly);
    tcase_add_test(tc, random_and_long_coordinates_read_back_exactly);
    tcase_add_test(tc, too_small_buffer_and_unencodable_pings_fail);
    suite_add_tcase(s, tc);
    return udc_test_run(s);
}
