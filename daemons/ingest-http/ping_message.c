/* ping_message.c — see ping_message.h. */
#include "ping_message.h"

#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "digits.h"
#include "location_json.h"
#include "timefmt.h"
#include "uuid.h"

/* Decimal text of v with the fewest decimals (at most 9) that reads back as exactly v, or
 * 0 when v needs more (the caller then takes the printf path). */
static size_t format_coordinate(double v, char *out)
{
    if (!isfinite(v) || fabs(v) > 1e6)
        return 0;
    int64_t scaled = llround(fabs(v) * 1e9);
    int decimals = 9;
    while (decimals > 0 && scaled % 10 == 0) {
        scaled /= 10;
        decimals--;
    }
    char digits[32];
    size_t n = 0;
    do {
        digits[n++] = (char)('0' + scaled % 10);
        scaled /= 10;
    } while (scaled > 0);
    while (n <= (size_t)decimals)
        digits[n++] = '0'; /* at least one digit before the point */
    size_t len = 0;
    if (signbit(v) && v != 0)
        out[len++] = '-';
    while (n > 0) {
        if (n == (size_t)decimals)
            out[len++] = '.';
        out[len++] = digits[--n];
    }
    out[len] = '\0';
    return strtod(out, NULL) == v ? len : 0;
}

static size_t put(char *buf, size_t at, const char *s, size_t n)
{
    memcpy(buf + at, s, n);
    return at + n;
}

#define PUT_LITERAL(buf, at, s) put(buf, at, s, sizeof s - 1)

int ping_message_format(const struct udc_location *loc, char *buf, size_t size)
{
    char lat[40], lon[40], when[UDC_TIME_BUF], person[UDC_DIGITS_I64_MAX];
    size_t lat_len = format_coordinate(loc->latitude, lat);
    size_t lon_len = format_coordinate(loc->longitude, lon);
    size_t source_len = strnlen(loc->source, sizeof loc->source);
    int when_len = udc_time_format_rfc3339(loc->creation_time_us, when, sizeof when);
    if (!lat_len || !lon_len || when_len < 0 || !udc_uuid_is_canonical(loc->event_id) ||
        !udc_location_source_valid(loc->source, source_len) || loc->person_id <= 0)
        return udc_location_to_json_buf(loc, buf, size);
    const char *person_text = udc_digits_i64(loc->person_id, person + sizeof person);
    size_t person_len = (size_t)(person + sizeof person - person_text);

    size_t need = sizeof "{\"event_id\":\"\",\"person_id\":,\"latitude\":,\"longitude\":"
                         ",\"creation_time\":\"\",\"source\":\"\"}" -
                  1 + UDC_UUID_LEN + person_len + lat_len + lon_len + (size_t)when_len + source_len;
    if (need + 1 > size)
        return -1;
    size_t at = PUT_LITERAL(buf, 0, "{\"event_id\":\"");
    at = put(buf, at, loc->event_id, UDC_UUID_LEN);
    at = PUT_LITERAL(buf, at, "\",\"person_id\":");
    at = put(buf, at, person_text, person_len);
    at = PUT_LITERAL(buf, at, ",\"latitude\":");
    at = put(buf, at, lat, lat_len);
    at = PUT_LITERAL(buf, at, ",\"longitude\":");
    at = put(buf, at, lon, lon_len);
    at = PUT_LITERAL(buf, at, ",\"creation_time\":\"");
    at = put(buf, at, when, (size_t)when_len);
    at = PUT_LITERAL(buf, at, "\",\"source\":\"");
    at = put(buf, at, loc->source, source_len);
    at = PUT_LITERAL(buf, at, "\"}");
    buf[at] = '\0';
    return (int)at;
}
