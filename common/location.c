/* location.c — see location.h. */
#include "location.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "timefmt.h"
#include "uuid.h"

int udc_location_error_set(struct udc_location_error *err, int index, const char *field,
                           const char *rule_fmt, ...)
{
    if (err == NULL)
        return -1;
    err->index = index;
    snprintf(err->field, sizeof err->field, "%s", field);
    va_list ap;
    va_start(ap, rule_fmt);
    vsnprintf(err->rule, sizeof err->rule, rule_fmt, ap);
    va_end(ap);
    return -1;
}

static int is_source_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           strchr("._:@/-", c) != NULL;
}

int udc_location_source_valid(const char *s, size_t len)
{
    if (s == NULL || len == 0 || len > UDC_SOURCE_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\0' || !is_source_char(s[i]))
            return 0;
    }
    return 1;
}

static int validate_event_id(const struct udc_location *loc, const struct udc_location_rules *r,
                             struct udc_location_error *err)
{
    if (loc->event_id[0] == '\0') {
        if (r->require_event_id)
            return udc_location_error_set(err, 0, "event_id", "is required");
        return 0;
    }
    if (!udc_uuid_is_canonical(loc->event_id))
        return udc_location_error_set(err, 0, "event_id",
                                      "must be a UUID (8-4-4-4-12 hexadecimal digits)");
    if (udc_uuid_is_nil(loc->event_id))
        return udc_location_error_set(err, 0, "event_id", "must not be the nil UUID");
    return 0;
}

static int validate_coordinate(const char *field, double value, double limit,
                               struct udc_location_error *err)
{
    if (!isfinite(value))
        return udc_location_error_set(err, 0, field, "must be a finite number");
    if (value < -limit || value > limit)
        return udc_location_error_set(err, 0, field, "must be between %g and %g", -limit, limit);
    return 0;
}

static int validate_creation_time(int64_t t, const struct udc_location_rules *r,
                                  struct udc_location_error *err)
{
    if (t < UDC_TIME_MIN_US || t > UDC_TIME_MAX_US)
        return udc_location_error_set(err, 0, "creation_time",
                                      "must be between 1970-01-01T00:00:00Z and "
                                      "9999-12-31T23:59:59Z");
    int64_t skew = r->max_future_skew_us < 0 ? 0 : r->max_future_skew_us;
    if (t <= r->now_us || t - r->now_us <= skew)
        return 0;
    if (skew % 1000000 == 0)
        return udc_location_error_set(err, 0, "creation_time",
                                      "must not be more than %lld s in the future",
                                      (long long)(skew / 1000000));
    return udc_location_error_set(err, 0, "creation_time",
                                  "must not be more than %lld ms in the future",
                                  (long long)(skew / 1000));
}

static int validate_source(const struct udc_location *loc, const struct udc_location_rules *r,
                           struct udc_location_error *err)
{
    size_t len = strnlen(loc->source, sizeof loc->source);
    if (len == 0) {
        if (r->require_source)
            return udc_location_error_set(err, 0, "source", "is required");
        return 0;
    }
    if (!udc_location_source_valid(loc->source, len))
        return udc_location_error_set(err, 0, "source",
                                      "must be 1 to 64 characters of A-Z a-z 0-9 . _ : @ / -");
    return 0;
}

int udc_location_validate(const struct udc_location *loc, const struct udc_location_rules *r,
                          struct udc_location_error *err)
{
    if (validate_event_id(loc, r, err) < 0)
        return -1;
    if (loc->person_id <= 0)
        return udc_location_error_set(err, 0, "person_id", "must be between 1 and 2147483647");
    if (validate_coordinate("latitude", loc->latitude, 90, err) < 0 ||
        validate_coordinate("longitude", loc->longitude, 180, err) < 0 ||
        validate_creation_time(loc->creation_time_us, r, err) < 0)
        return -1;
    return validate_source(loc, r, err);
}
