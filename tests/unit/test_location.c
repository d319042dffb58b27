/* Unit tests for common/location and common/location_json: decoding one object (both input
 * forms of every number, every rejection rule), validation, serialisation and round trips. */
#include <check.h>
#include <json-c/json.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "location.h"
#include "location_json.h"
#include "suite_run.h"

#define S        INT64_C(1000000)
#define T_SAMPLE (INT64_C(1597747026) * S) /* 2020-08-18T10:37:06Z */
#define NOW      (T_SAMPLE + 3600 * S)
#define ID       "3f2b8c1a-9d4e-4f6a-8b7c-0123456789ab"

static const struct udc_location_rules phone_rules = {.now_us = NOW, .max_future_skew_us = 300 * S};
static const struct udc_location_rules message_rules = {.now_us = NOW,
                                                        .max_future_skew_us = 300 * S,
                                                        .require_event_id = 1,
                                                        .require_creation_time = 1,
                                                        .require_source = 1};

static int decode(const char *text, const struct udc_location_rules *rules,
                  struct udc_location *loc, struct udc_location_error *err)
{
    json_object *obj = json_tokener_parse(text);
    ck_assert_msg(obj != NULL, "test JSON does not parse: %s", text);
    int rc = udc_location_from_json(obj, rules, loc, err);
    json_object_put(obj);
    return rc;
}

static struct udc_location decode_ok(const char *text, const struct udc_location_rules *rules)
{
    struct udc_location loc;
    struct udc_location_error err = {0};
    int rc = decode(text, rules, &loc, &err);
    ck_assert_msg(rc == 0, "%s rejected: %s %s", text, err.field, err.rule);
    return loc;
}

START_TEST(decodes_numbers_in_both_forms)
{
    const char *forms[] = {
        "{\"person_id\":12,\"latitude\":37.5534,\"longitude\":-122.2905,"
        "\"creation_time\":\"2020-08-18T10:37:06\"}",
        "{\"person_id\":\"12\",\"latitude\":\"37.5534\",\"longitude\":\"-122.2905\","
        "\"creation_time\":\"2020-08-18T10:37:06Z\"}",
        "{\"person_id\":\"12\",\"latitude\":3.75534e1,\"longitude\":\"-1.222905E+2\","
        "\"creation_time\":\"2020-08-18T12:37:06+02:00\"}",
    };
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        struct udc_location loc = decode_ok(forms[i], &phone_rules);
        ck_assert_int_eq(loc.person_id, 12);
        ck_assert_double_eq(loc.latitude, 37.5534);
        ck_assert_double_eq(loc.longitude, -122.2905);
        ck_assert_int_eq(loc.creation_time_us, T_SAMPLE);
        ck_assert_str_eq(loc.event_id, "");
        ck_assert_str_eq(loc.source, "");
    }
}
END_TEST

START_TEST(integer_coordinates_and_bounds_are_accepted)
{
    struct udc_location loc = decode_ok(
        "{\"person_id\":2147483647,\"latitude\":-90,\"longitude\":\"180\"}", &phone_rules);
    ck_assert_int_eq(loc.person_id, INT32_MAX);
    ck_assert_double_eq(loc.latitude, -90.0);
    ck_assert_double_eq(loc.longitude, 180.0);
}
END_TEST

START_TEST(optional_fields_default_or_canonicalise)
{
    struct udc_location loc =
        decode_ok("{\"person_id\":1,\"latitude\":0,\"longitude\":0}", &phone_rules);
    ck_assert_int_eq(loc.creation_time_us, NOW); /* missing → now */
    loc = decode_ok("{\"event_id\":\"3F2B8C1A-9D4E-4F6A-8B7C-0123456789AB\",\"person_id\":1,"
                    "\"latitude\":0,\"longitude\":0,\"source\":\"partner:acme/eu-1@gw_2.x\"}",
                    &phone_rules);
    ck_assert_str_eq(loc.event_id, ID);
    ck_assert_str_eq(loc.source, "partner:acme/eu-1@gw_2.x");
}
END_TEST

START_TEST(future_skew_is_allowed_up_to_the_limit)
{
    struct udc_location_rules rules = phone_rules;
    rules.now_us = T_SAMPLE - 300 * S; /* creation_time is exactly now + skew */
    decode_ok("{\"person_id\":1,\"latitude\":0,\"longitude\":0,"
              "\"creation_time\":\"2020-08-18T10:37:06Z\"}",
              &rules);
    rules.now_us -= 1;
    struct udc_location loc;
    struct udc_location_error err;
    ck_assert_int_eq(decode("{\"person_id\":1,\"latitude\":0,\"longitude\":0,"
                            "\"creation_time\":\"2020-08-18T10:37:06Z\"}",
                            &rules, &loc, &err),
                     -1);
    ck_assert_str_eq(err.field, "creation_time");
    ck_assert_str_eq(err.rule, "must not be more than 300 s in the future");
}
END_TEST

/* A valid body with one field replaced; %s stands for the varying part. */
#define BASE(p, lat, lon, t)                                                                       \
    "{\"person_id\":" p ",\"latitude\":" lat ",\"longitude\":" lon ",\"creation_time\":" t "}"
#define WITH_PERSON(p) BASE(p, "37.5", "-122.2", "\"2020-08-18T10:37:06Z\"")
#define WITH_LAT(v)    BASE("1", v, "-122.2", "\"2020-08-18T10:37:06Z\"")
#define WITH_LON(v)    BASE("1", "37.5", v, "\"2020-08-18T10:37:06Z\"")
#define WITH_TIME(v)   BASE("1", "37.5", "-122.2", v)
#define PERSON_TYPE    "must be a positive integer (a JSON integer or a string of decimal digits)"
#define PERSON_RANGE   "must be between 1 and 2147483647"
#define NUMBER_TYPE    "must be a number or a numeric string"

static const struct {
    const char *json;
    const char *field;
    const char *rule; /* exact, or a prefix when it ends in '*' */
} rejections[] = {
    {"[1]", "location", "must be a JSON object"},
    {"{\"person_id\":1,\"latitude\":0,\"longitude\":0,\"id\":7}", "id", "unknown field"},
    {"{\"latitude\":0,\"longitude\":0}", "person_id", "is required"},
    {"{\"person_id\":1,\"longitude\":0}", "latitude", "is required"},
    {"{\"person_id\":1,\"latitude\":0}", "longitude", "is required"},
    {WITH_PERSON("12.5"), "person_id", PERSON_TYPE},
    {WITH_PERSON("\"12.5\""), "person_id", PERSON_TYPE},
    {WITH_PERSON("\"\""), "person_id", PERSON_TYPE},
    {WITH_PERSON("\"-3\""), "person_id", PERSON_TYPE},
    {WITH_PERSON("\" 12\""), "person_id", PERSON_TYPE},
    {WITH_PERSON("12.0"), "person_id", PERSON_TYPE},
    {WITH_PERSON("true"), "person_id", PERSON_TYPE},
    {WITH_PERSON("null"), "person_id", PERSON_TYPE},
    {WITH_PERSON("[12]"), "person_id", PERSON_TYPE},
    {WITH_PERSON("0"), "person_id", PERSON_RANGE},
    {WITH_PERSON("-3"), "person_id", PERSON_RANGE},
    {WITH_PERSON("\"0\""), "person_id", PERSON_RANGE},
    {WITH_PERSON("2147483648"), "person_id", PERSON_RANGE},
    {WITH_PERSON("\"2147483648\""), "person_id", PERSON_RANGE},
    {WITH_PERSON("\"99999999999999999999999\""), "person_id", PERSON_RANGE},
    {WITH_PERSON("99999999999999999999"), "person_id", PERSON_RANGE},
    {WITH_LAT("90.000001"), "latitude", "must be between -90 and 90"},
    {WITH_LAT("\"-90.5\""), "latitude", "must be between -90 and 90"},
    {WITH_LAT("\" 37.55\""), "latitude", NUMBER_TYPE},
    {WITH_LAT("\"37.55 \""), "latitude", NUMBER_TYPE},
    {WITH_LAT("\"0x10\""), "latitude", NUMBER_TYPE},
    {WITH_LAT("\"nan\""), "latitude", NUMBER_TYPE},
    {WITH_LAT("\"inf\""), "latitude", NUMBER_TYPE},
    {WITH_LAT("\"+37.5\""), "latitude", NUMBER_TYPE},
    {WITH_LAT("\"37.\""), "latitude", NUMBER_TYPE},
    {WITH_LAT("\"\""), "latitude", NUMBER_TYPE},
    {WITH_LAT("\"37,5\""), "latitude", NUMBER_TYPE},
    {WITH_LAT("true"), "latitude", NUMBER_TYPE},
    {WITH_LAT("null"), "latitude", NUMBER_TYPE},
    {WITH_LON("180.5"), "longitude", "must be between -180 and 180"},
    {WITH_LON("\"-181\""), "longitude", "must be between -180 and 180"},
    {WITH_LON("\"1e999\""), "longitude", "must be a finite number"},
    {WITH_LON("{}"), "longitude", NUMBER_TYPE},
    {WITH_TIME("1597747026"), "creation_time", "must be a string (ISO-8601 date-time)"},
    {WITH_TIME("null"), "creation_time", "must be a string (ISO-8601 date-time)"},
    {"{\"event_id\":null,\"person_id\":1,\"latitude\":0,\"longitude\":0}", "event_id",
     "must be a UUID*"},
    {"{\"person_id\":1,\"latitude\":0,\"longitude\":0,\"source\":null}", "source",
     "must be 1 to 64 characters*"},
    {WITH_TIME("\"2020-08-18\""), "creation_time", "must be a date-time*"},
    {WITH_TIME("\"2021-02-29T10:00:00Z\""), "creation_time", "day must exist in the month"},
    {WITH_TIME("\"2020-08-18T25:00:00Z\""), "creation_time", "hour must be between 00 and 23"},
    {WITH_TIME("\"1969-12-31T23:59:59Z\""), "creation_time", "year must be between 1970 and 9999"},
    {WITH_TIME("\"2020-08-18T11:42:06.000001Z\""), "creation_time",
     "must not be more than 300 s in the future"},
    {"{\"event_id\":\"not-a-uuid\",\"person_id\":1,\"latitude\":0,\"longitude\":0}", "event_id",
     "must be a UUID (8-4-4-4-12 hexadecimal digits)"},
    {"{\"event_id\":42,\"person_id\":1,\"latitude\":0,\"longitude\":0}", "event_id",
     "must be a UUID (8-4-4-4-12 hexadecimal digits)"},
    {"{\"event_id\":\"00000000-0000-0000-0000-000000000000\",\"person_id\":1,\"latitude\":0,"
     "\"longitude\":0}",
     "event_id", "must not be the nil UUID"},
    {"{\"person_id\":1,\"latitude\":0,\"longitude\":0,\"source\":\"has space\"}", "source",
     "must be 1 to 64 characters*"},
    {"{\"person_id\":1,\"latitude\":0,\"longitude\":0,\"source\":\"\"}", "source",
     "must be 1 to 64 characters*"},
    {"{\"person_id\":1,\"latitude\":0,\"longitude\":0,\"source\":\"caf\\u00e9\"}", "source",
     "must be 1 to 64 characters*"},
    {"{\"person_id\":1,\"latitude\":0,\"longitude\":0,\"source\":\"a\\u0000b\"}", "source",
     "must be 1 to 64 characters*"},
    {"{\"person_id\":1,\"latitude\":0,\"longitude\":0,\"source\":"
     "\"x2345678901234567890123456789012345678901234567890123456789012345\"}",
     "source", "must be 1 to 64 characters*"},
    {"{\"person_id\":1,\"latitude\":0,\"longitude\":0,\"source\":7}", "source",
     "must be 1 to 64 characters*"},
};

static void assert_rule(const char *json, const char *rule, const char *expected)
{
    size_t n = strlen(expected);
    if (n > 0 && expected[n - 1] == '*')
        ck_assert_msg(strncmp(rule, expected, n - 1) == 0, "%s: rule '%s'", json, rule);
    else
        ck_assert_msg(strcmp(rule, expected) == 0, "%s: rule '%s'", json, rule);
}

START_TEST(rejects_naming_field_and_rule)
{
    struct udc_location loc;
    struct udc_location_error err = {.index = 99};
    ck_assert_msg(decode(rejections[_i].json, &phone_rules, &loc, &err) == -1, "accepted: %s",
                  rejections[_i].json);
    ck_assert_int_eq(err.index, 0);
    ck_assert_str_eq(err.field, rejections[_i].field);
    assert_rule(rejections[_i].json, err.rule, rejections[_i].rule);
}
END_TEST

START_TEST(message_rules_require_event_id_time_and_source)
{
    static const struct {
        const char *json, *field;
    } missing[] = {
        {"{\"person_id\":1,\"latitude\":0,\"longitude\":0,\"creation_time\":\"2020-08-18T10:37:"
         "06Z\","
         "\"source\":\"s\"}",
         "event_id"},
        {"{\"event_id\":\"" ID "\",\"person_id\":1,\"latitude\":0,\"longitude\":0,"
         "\"source\":\"s\"}",
         "creation_time"},
        {"{\"event_id\":\"" ID "\",\"person_id\":1,\"latitude\":0,\"longitude\":0,"
         "\"creation_time\":\"2020-08-18T10:37:06Z\"}",
         "source"},
    };
    for (size_t i = 0; i < sizeof missing / sizeof missing[0]; i++) {
        struct udc_location loc;
        struct udc_location_error err;
        ck_assert_int_eq(decode(missing[i].json, &message_rules, &loc, &err), -1);
        ck_assert_str_eq(err.field, missing[i].field);
        ck_assert_str_eq(err.rule, "is required");
        decode_ok(missing[i].json, &phone_rules);
    }
}
END_TEST

START_TEST(nan_and_infinity_are_rejected)
{
    /* json-c's tokener accepts these literals even in strict mode. */
    const char *bodies[] = {WITH_LAT("NaN"), WITH_LAT("-Infinity"), WITH_LON("Infinity"),
                            WITH_LON("1e999")};
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        struct udc_location loc;
        struct udc_location_error err;
        ck_assert_int_eq(decode(bodies[i], &phone_rules, &loc, &err), -1);
        ck_assert_str_eq(err.rule, "must be a finite number");
    }
    json_object *obj = json_tokener_parse(WITH_LAT("0"));
    json_object_object_add(obj, "latitude", json_object_new_double(NAN));
    struct udc_location loc;
    struct udc_location_error err;
    ck_assert_int_eq(udc_location_from_json(obj, &phone_rules, &loc, &err), -1);
    ck_assert_str_eq(err.field, "latitude");
    json_object_put(obj);
}
END_TEST

static struct udc_location sample(void)
{
    struct udc_location loc = {.event_id = ID,
                               .person_id = 5,
                               .latitude = 37.5534,
                               .longitude = -122.2905,
                               .creation_time_us = T_SAMPLE,
                               .source = "ingest-http"};
    return loc;
}

START_TEST(validate_checks_a_filled_struct)
{
    struct udc_location_error err;
    struct udc_location loc = sample();
    ck_assert_int_eq(udc_location_validate(&loc, &message_rules, &err), 0);
    loc.person_id = 0;
    ck_assert_int_eq(udc_location_validate(&loc, &message_rules, &err), -1);
    ck_assert_str_eq(err.field, "person_id");
    loc = sample();
    strcpy(loc.event_id, "3F2B8C1A-9D4E-4F6A-8B7C-0123456789AB"); /* not canonical */
    ck_assert_int_eq(udc_location_validate(&loc, &message_rules, &err), -1);
    ck_assert_str_eq(err.field, "event_id");
    loc = sample();
    loc.creation_time_us = -1;
    ck_assert_int_eq(udc_location_validate(&loc, &message_rules, &err), -1);
    ck_assert_str_eq(err.field, "creation_time");
}
END_TEST

START_TEST(serialises_the_documented_shape)
{
    char buf[UDC_LOCATION_JSON_MAX];
    struct udc_location loc = sample();
    int n = udc_location_to_json_buf(&loc, buf, sizeof buf);
    const char *expected = "{\"event_id\":\"" ID "\",\"person_id\":5,\"latitude\":37.5534,"
                           "\"longitude\":-122.2905,\"creation_time\":\"2020-08-18T10:37:06Z\","
                           "\"source\":\"ingest-http\"}";
    ck_assert_str_eq(buf, expected);
    ck_assert_int_eq(n, (int)strlen(expected));
    loc.event_id[0] = '\0';
    loc.source[0] = '\0';
    loc.creation_time_us += 250000;
    udc_location_to_json_buf(&loc, buf, sizeof buf);
    ck_assert_str_eq(buf, "{\"person_id\":5,\"latitude\":37.5534,\"longitude\":-122.2905,"
                          "\"creation_time\":\"2020-08-18T10:37:06.250000Z\"}");
}
END_TEST

START_TEST(serialise_refuses_what_it_cannot_represent)
{
    char buf[UDC_LOCATION_JSON_MAX];
    struct udc_location loc = sample();
    ck_assert_int_eq(udc_location_to_json_buf(&loc, buf, 40), -1); /* too small */
    loc.latitude = NAN;
    ck_assert_int_eq(udc_location_to_json_buf(&loc, buf, sizeof buf), -1);
    loc = sample();
    strcpy(loc.source, "bad\"quote");
    ck_assert_int_eq(udc_location_to_json_buf(&loc, buf, sizeof buf), -1);
    loc = sample();
    strcpy(loc.event_id, "nope");
    ck_assert_int_eq(udc_location_to_json_buf(&loc, buf, sizeof buf), -1);
}
END_TEST

static const double awkward_coordinates[][2] = {
    {37.5534, -122.2905},
    {0.1, 0.2},
    {-33.868820, 151.209290},
    {1e-7, -1e-7},
    {90, -180},
    {-89.99999999999999, 179.99999999999997},
    {0.30000000000000004, 5e-324},
    {-0.0, 0.0},
    {12.345678901234567, -98.76543210987654},
};

START_TEST(serialise_then_parse_gives_the_same_struct)
{
    struct udc_location loc = sample();
    loc.latitude = awkward_coordinates[_i][0];
    loc.longitude = awkward_coordinates[_i][1];
    loc.creation_time_us = T_SAMPLE + _i * 123457; /* some with, some without a fraction */
    loc.person_id = INT32_MAX - _i;
    char buf[UDC_LOCATION_JSON_MAX];
    ck_assert_int_gt(udc_location_to_json_buf(&loc, buf, sizeof buf), 0);
    struct udc_location back = decode_ok(buf, &message_rules);
    ck_assert_str_eq(back.event_id, loc.event_id);
    ck_assert_int_eq(back.person_id, loc.person_id);
    ck_assert_msg(back.latitude == loc.latitude, "%s: %.17g", buf, back.latitude);
    ck_assert_msg(back.longitude == loc.longitude, "%s: %.17g", buf, back.longitude);
    ck_assert_int_eq(back.creation_time_us, loc.creation_time_us);
    ck_assert_str_eq(back.source, loc.source);
    /* Shortest form: no 17-digit noise for values that have a short exact form. */
    if (_i == 1)
        ck_assert_ptr_nonnull(strstr(buf, "\"latitude\":0.1,\"longitude\":0.2,"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("location");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, decodes_numbers_in_both_forms);
    tcase_add_test(tc, integer_coordinates_and_bounds_are_accepted);
    tcase_add_test(tc, optional_fields_default_or_canonicalise);
    tcase_add_test(tc, future_skew_is_allowed_up_to_the_limit);
    tcase_add_loop_test(tc, rejects_naming_field_and_rule, 0,
                        (int)(sizeof rejections / sizeof rejections[0]));
    tcase_add_test(tc, message_rules_require_event_id_time_and_source);
    tcase_add_test(tc, nan_and_infinity_are_rejected);
    tcase_add_test(tc, validate_checks_a_filled_struct);
    tcase_add_test(tc, serialises_the_documented_shape);
    tcase_add_test(tc, serialise_refuses_what_it_cannot_represent);
    tcase_add_loop_test(tc, serialise_then_parse_gives_the_same_struct, 0,
                        (int)(sizeof awkward_coordinates / sizeof awkward_coordinates[0]));
    suite_add_tcase(s, tc);
    return udc_test_run(s);
}
