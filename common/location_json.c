/* location_json.c — see location_json.h. */
#include "location_json.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "timefmt.h"
#include "uuid.h"

#define NUMERIC_STRING_MAX 64

static const char *const known_fields[] = {"event_id",  "person_id",     "latitude",
                                           "longitude", "creation_time", "source"};

static int reject_unknown_fields(json_object *obj, struct udc_location_error *err)
{
    json_object_object_foreach(obj, key, value)
    {
        (void)value;
        int known = 0;
        for (size_t i = 0; i < sizeof known_fields / sizeof known_fields[0]; i++)
            known |= strcmp(key, known_fields[i]) == 0;
        if (!known)
            return udc_location_error_set(err, 0, key, "unknown field");
    }
    return 0;
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* JSON's number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? over exactly len bytes. */
static int has_json_number_syntax(const char *s, size_t len)
{
    size_t i = 0;
    if (i < len && s[i] == '-')
        i++;
    if (i < len && s[i] == '0')
        i++;
    else if (i < len && is_digit(s[i]))
        while (i < len && is_digit(s[i]))
            i++;
    else
        return 0;
    if (i < len && s[i] == '.') {
        size_t start = ++i;
        while (i < len && is_digit(s[i]))
            i++;
        if (i == start)
            return 0;
    }
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t start = i;
        while (i < len && is_digit(s[i]))
            i++;
        if (i == start)
            return 0;
    }
    return i == len;
}

/* 1 when obj has key (JSON null included, as *v == NULL), 0 when the key is absent. */
static int lookup(json_object *obj, const char *key, json_object **v)
{
    *v = NULL;
    return json_object_object_get_ex(obj, key, v);
}

static int decode_person_id(json_object *obj, int32_t *out, struct udc_location_error *err)
{
    static const char type_rule[] = "must be a positive integer (a JSON integer or a string "
                                    "of decimal digits)";
    static const char range_rule[] = "must be between 1 and 2147483647";
    json_object *v;
    if (!lookup(obj, "person_id", &v))
        return udc_location_error_set(err, 0, "person_id", "is required");
    int64_t id = 0;
    if (json_object_is_type(v, json_type_int)) {
        id = json_object_get_int64(v);
    } else if (json_object_is_type(v, json_type_string)) {
        const char *s = json_object_get_string(v);
        size_t len = (size_t)json_object_get_string_len(v);
        if (len == 0)
            return udc_location_error_set(err, 0, "person_id", type_rule);
        for (size_t i = 0; i < len; i++) {
            if (!is_digit(s[i]))
                return udc_location_error_set(err, 0, "person_id", type_rule);
            if (id <= INT32_MAX) /* stop growing once out of range; no overflow */
                id = id * 10 + (s[i] - '0');
        }
    } else {
        return udc_location_error_set(err, 0, "person_id", type_rule);
    }
    if (id < 1 || id > INT32_MAX)
        return udc_location_error_set(err, 0, "person_id", range_rule);
    *out = (int32_t)id;
    return 0;
}

/* Reads the value only; ranges and finiteness are udc_location_validate()'s. */
static int decode_coordinate(json_object *obj, const char *field, double *out,
                             struct udc_location_error *err)
{
    json_object *v;
    if (!lookup(obj, field, &v))
        return udc_location_error_set(err, 0, field, "is required");
    if (json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int)) {
        *out = json_object_get_double(v);
        return 0;
    }
    if (json_object_is_type(v, json_type_string)) {
        const char *s = json_object_get_string(v);
        size_t len = (size_t)json_object_get_string_len(v);
        if (len > 0 && len <= NUMERIC_STRING_MAX && has_json_number_syntax(s, len)) {
            *out = strtod(s, NULL); /* json-c strings are NUL-terminated */
            return 0;
        }
    }
    return udc_location_error_set(err, 0, field, "must be a number or a numeric string");
}

static int decode_creation_time(json_object *obj, const struct udc_location_rules *rules,
                                int64_t *out, struct udc_location_error *err)
{
    json_object *v;
    if (!lookup(obj, "creation_time", &v)) {
        if (rules->require_creation_time)
            return udc_location_error_set(err, 0, "creation_time", "is required");
        *out = rules->now_us;
        return 0;
    }
    if (!json_object_is_type(v, json_type_string))
        return udc_location_error_set(err, 0, "creation_time",
                                      "must be a string (ISO-8601 date-time)");
    const char *why = NULL;
    if (udc_time_parse(json_object_get_string(v), (size_t)json_object_get_string_len(v), out,
                       &why) < 0)
        return udc_location_error_set(err, 0, "creation_time", "%s", why);
    return 0;
}

static int decode_event_id(json_object *obj, char out[UDC_UUID_BUF], struct udc_location_error *err)
{
    json_object *v;
    out[0] = '\0';
    if (!lookup(obj, "event_id", &v))
        return 0; /* whether it is required is the validator's call */
    if (!json_object_is_type(v, json_type_string) ||
        udc_uuid_canonical(json_object_get_string(v), (size_t)json_object_get_string_len(v), out) <
            0)
        return udc_location_error_set(err, 0, "event_id",
                                      "must be a UUID (8-4-4-4-12 hexadecimal digits)");
    return 0;
}

static int decode_source(json_object *obj, char *out, size_t size, struct udc_location_error *err)
{
    json_object *v;
    out[0] = '\0';
    if (!lookup(obj, "source", &v))
        return 0;
    const char *s = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
    size_t len = s ? (size_t)json_object_get_string_len(v) : 0;
    if (s == NULL || len >= size || !udc_location_source_valid(s, len))
        return udc_location_error_set(err, 0, "source",
                                      "must be 1 to 64 characters of A-Z a-z 0-9 . _ : @ / -");
    memcpy(out, s, len + 1);
    return 0;
}

int udc_location_from_json(json_object *obj, const struct udc_location_rules *rules,
                           struct udc_location *out, struct udc_location_error *err)
{
    memset(out, 0, sizeof *out);
    if (!json_object_is_type(obj, json_type_object))
        return udc_location_error_set(err, 0, "location", "must be a JSON object");
    if (reject_unknown_fields(obj, err) < 0 || decode_event_id(obj, out->event_id, err) < 0 ||
        decode_person_id(obj, &out->person_id, err) < 0 ||
        decode_coordinate(obj, "latitude", &out->latitude, err) < 0 ||
        decode_coordinate(obj, "longitude", &out->longitude, err) < 0 ||
        decode_creation_time(obj, rules, &out->creation_time_us, err) < 0 ||
        decode_source(obj, out->source, sizeof out->source, err) < 0)
        return -1;
    return udc_location_validate(out, rules, err);
}

/* Shortest of %.15g..%.17g that reads back as exactly v. */
static void format_coordinate(double v, char buf[32])
{
    for (int precision = 15; precision <= 17; precision++) {
        snprintf(buf, 32, "%.*g", precision, v);
        if (strtod(buf, NULL) == v)
            return;
    }
}

/* Appends to buf at *pos; once anything fails to fit, *pos goes past size for good. */
static void append(char *buf, size_t size, size_t *pos, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void append(char *buf, size_t size, size_t *pos, const char *fmt, ...)
{
    if (*pos >= size)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *pos, size - *pos, fmt, ap);
    va_end(ap);
    *pos = n < 0 ? size : *pos + (size_t)n;
}

int udc_location_to_json_buf(const struct udc_location *loc, char *buf, size_t size)
{
    char lat[32], lon[32], when[UDC_TIME_BUF];
    size_t source_len = strnlen(loc->source, sizeof loc->source);
    if (buf == NULL || size == 0 || !isfinite(loc->latitude) || !isfinite(loc->longitude) ||
        (loc->event_id[0] != '\0' && !udc_uuid_is_canonical(loc->event_id)) ||
        (source_len != 0 && !udc_location_source_valid(loc->source, source_len)) ||
        udc_time_format_rfc3339(loc->creation_time_us, when, sizeof when) < 0)
        return -1;
    format_coordinate(loc->latitude, lat);
    format_coordinate(loc->longitude, lon);
    size_t pos = 0;
    append(buf, size, &pos, "{");
    if (loc->event_id[0] != '\0')
        append(buf, size, &pos, "\"event_id\":\"%s\",", loc->event_id);
    append(buf, size, &pos,
           "\"person_id\":%" PRId32 ",\"latitude\":%s,\"longitude\":%s,\"creation_time\":\"%s\"",
           loc->person_id, lat, lon, when);
    if (source_len != 0)
        append(buf, size, &pos, ",\"source\":\"%s\"", loc->source);
    append(buf, size, &pos, "}");
    return pos < size ? (int)pos : -1;
}
