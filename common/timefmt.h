/* timefmt.h — timestamps as int64 microseconds since the Unix epoch (UTC), to and from text.
 *
 * Parsing accepts ISO-8601 / RFC 3339 date-times:
 *     YYYY-MM-DDTHH:MM:SS[.frac][Z | ±HH:MM | ±HHMM]
 * with a space (or lower-case t) allowed instead of T and lower-case z for Z. A time without
 * an offset is taken as UTC; an offset is converted to UTC. The fraction has 1 to 9 digits
 * and is truncated to microseconds. Years 1970–9999 only, and the UTC result must fall in
 * [UDC_TIME_MIN_US, UDC_TIME_MAX_US]. Leap seconds (:60) are rejected.
 *
 *   int64_t t; const char *why;
 *   if (udc_time_parse(s, len, &t, &why) < 0) reject("creation_time", why);
 *   char buf[UDC_TIME_BUF];
 *   udc_time_format_rfc3339(t, buf, sizeof buf);  → "2020-08-18T10:37:06Z"
 *   udc_time_format_naive(t, buf, sizeof buf);    → "2020-08-18T10:37:06" (the POC's form)
 *
 * Both formatters add ".ffffff" only when the microseconds are non-zero.
 * Everything here is pure and thread-safe.
 */
#ifndef UDC_TIMEFMT_H
#define UDC_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

#define UDC_TIME_BUF    32                          /* enough for either format plus NUL */
#define UDC_TIME_MIN_US INT64_C(0)                  /* 1970-01-01T00:00:00Z */
#define UDC_TIME_MAX_US INT64_C(253402300799999999) /* 9999-12-31T23:59:59.999999Z */

/* Parse the len bytes at text (no NUL needed). Returns 0 with *out_us set, or -1 with *why
 * pointing to a static phrase that states the broken rule, e.g. "day must exist in the month". */
int udc_time_parse(const char *text, size_t len, int64_t *out_us, const char **why);

/* RFC 3339 in UTC: "2020-08-18T10:37:06Z" or "2020-08-18T10:37:06.250000Z".
 * Returns the length written (without NUL), or -1 when us is out of range or size too small. */
int udc_time_format_rfc3339(int64_t us, char *buf, size_t size);

/* The same instant without a zone designator: "2020-08-18T10:37:06[.ffffff]". */
int udc_time_format_naive(int64_t us, char *buf, size_t size);

/* Days from 1970-01-01 to the proleptic Gregorian date y-m-d (month 1..12). */
int64_t udc_days_from_civil(int64_t y, int64_t m, int64_t d);

#endif
