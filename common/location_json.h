/* location_json.h — one location as a JSON object, both ways.
 *
 * Decoding (json-c object → struct) accepts the keys event_id, person_id, latitude,
 * longitude, creation_time and source, and nothing else:
 *   person_id      JSON integer or string of decimal digits, 1..2147483647
 *   latitude       JSON number or numeric string (JSON number syntax, no spaces), [-90, 90]
 *   longitude      likewise, [-180, 180]; NaN and Infinity are rejected
 *   creation_time  ISO-8601 / RFC 3339 string (see timefmt.h); missing → rules->now_us
 *                  unless rules->require_creation_time
 *   event_id       UUID string, any case (stored in lower case); missing → "" unless required
 *   source         1..64 characters of [A-Za-z0-9._:@/-]; missing → "" unless required
 * JSON null counts as a value of the wrong type, not as a missing key.
 *
 * Encoding writes {"event_id":…,"person_id":…,"latitude":…,"longitude":…,"creation_time":…,
 * "source":…}, omitting event_id and source when they are "". Coordinates are printed with
 * the fewest digits (15 to 17) that read back as the same double, and creation_time as
 * RFC 3339 UTC, so decoding the output with every require_* set gives back the same struct.
 *
 * For whole request/message bodies (arrays, {"locations": [...]}, NDJSON) see
 * location_batch.h. Pure and thread-safe; numbers are printed and read in the "C" locale,
 * which is what a daemon has unless it calls setlocale().
 */
#ifndef UDC_LOCATION_JSON_H
#define UDC_LOCATION_JSON_H

#include <json-c/json.h>
#include <stddef.h>

#include "location.h"

/* Longest output of udc_location_to_json_buf() plus its NUL. */
#define UDC_LOCATION_JSON_MAX 320

/* Decode and validate one object. Returns 0 with *out filled, or -1 with *err naming the
 * field and the rule (err->index is 0; batch parsing sets the item's index). */
int udc_location_from_json(json_object *obj, const struct udc_location_rules *rules,
                           struct udc_location *out, struct udc_location_error *err);

/* Write loc as a NUL-terminated JSON object into buf. Returns its length, or -1 when it does
 * not fit or loc cannot be represented (non-finite coordinate, time out of range, event_id
 * or source not in their valid forms). */
int udc_location_to_json_buf(const struct udc_location *loc, char *buf, size_t size);

#endif
