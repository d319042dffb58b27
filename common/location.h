/* location.h — one location ping (a person was at a point at a time) and its validation.
 *
 * A struct udc_location is what every daemon passes around; location_json.h turns JSON
 * bodies into it and back. udc_location_validate() checks a filled struct against the rules
 * of the caller's edge (phones, partners, messages between daemons):
 *
 *   struct udc_location_rules rules = {.now_us = udc_wall_us(), .max_future_skew_us =
 *                                      300 * 1000000, .require_event_id = 1, ...};
 *   struct udc_location_error err;
 *   if (udc_location_validate(&loc, &rules, &err) < 0)
 *       reply_400(err.field, err.rule);
 *
 * Every rejection names the field and the rule it broke. Pure and thread-safe.
 */
#ifndef UDC_LOCATION_H
#define UDC_LOCATION_H

#include <stddef.h>
#include <stdint.h>

#define UDC_SOURCE_MAX 64

struct udc_location {
    char event_id[37]; /* canonical lower-case UUID, "" when not given */
    int32_t person_id; /* > 0 */
    double latitude, longitude;
    int64_t creation_time_us;        /* UTC, µs since epoch */
    char source[UDC_SOURCE_MAX + 1]; /* "" when not given; characters [A-Za-z0-9._:@/-] */
};

/* Why an item (or a whole body) was rejected. index is the item's position in a batch,
 * -1 when the body as a whole is at fault; field is the JSON key (or "body"); rule reads as
 * a sentence ending, e.g. field "latitude", rule "must be between -90 and 90". */
struct udc_location_error {
    int index;
    char field[32];
    char rule[160];
};

struct udc_location_rules {
    int64_t now_us;             /* the clock, injected for tests */
    int64_t max_future_skew_us; /* creation_time may be at most now + this */
    int require_event_id;       /* partners: yes; phones: no (Idempotency-Key or generated) */
    int require_creation_time;  /* messages: yes; phones: no (missing → now) */
    int require_source;         /* messages between daemons: yes */
};

/* Check every field of loc against rules (creation_time must already be set: a missing
 * one is the parser's business). Returns 0, or -1 with err filled (err->index = 0). */
int udc_location_validate(const struct udc_location *loc, const struct udc_location_rules *rules,
                          struct udc_location_error *err);

/* 1 when the len bytes at s are a valid source: 1 to 64 characters of [A-Za-z0-9._:@/-]. */
int udc_location_source_valid(const char *s, size_t len);

/* Fill err (index, field, printf-style rule); truncates long values. Returns -1 so that
 * callers can write `return udc_location_error_set(...)`. */
int udc_location_error_set(struct udc_location_error *err, int index, const char *field,
                           const char *rule_fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
