/* uuid.h — UUIDs as event ids: generation (random version 4, time-ordered version 7) and
 * textual validation.
 *
 *   char id[UDC_UUID_BUF];
 *   if (udc_uuid_v4(id) == 0) ... id is "3f2b...-...", lower case, NUL-terminated
 *   if (udc_uuid_v7(udc_wall_us(), id) == 0) ... id is "0192...-7...-...", sorts by time
 *   if (udc_uuid_canonical(input, len, id) == 0) ... input was a UUID; id is its lower-case form
 *
 * Only the hyphenated 8-4-4-4-12 form is accepted (no braces, no "urn:uuid:" prefix).
 * Every function is thread-safe (no shared state; randomness comes from getrandom(2)).
 */
#ifndef UDC_UUID_H
#define UDC_UUID_H

#include <stddef.h>
#include <stdint.h>

#define UDC_UUID_LEN 36 /* characters in the textual form */
#define UDC_UUID_BUF 37 /* ... plus the NUL */

/* Fill out with a new random version-4 UUID (RFC 9562) in lower case.
 * Returns 0, or -1 when the kernel's random source failed (errno set). */
int udc_uuid_v4(char out[UDC_UUID_BUF]);

/* Fill out with a new version-7 UUID (RFC 9562): the first 60 bits are unix_us (microseconds
 * since the Unix epoch, >= 0) as milliseconds and a 12-bit fraction of one, the other 62
 * random. Ids made in time order are near each other in a btree: the ids the ingest daemons
 * make go in at the right edge of location's unique index instead of a random page of it.
 * Returns 0, or -1 when unix_us is negative or the kernel's random source failed. */
int udc_uuid_v7(int64_t unix_us, char out[UDC_UUID_BUF]);

/* Check that the len bytes at text are a UUID in 8-4-4-4-12 hex form (any case, any
 * version). On success write the lower-case form to out and return 0; otherwise -1 and
 * out is left untouched. */
int udc_uuid_canonical(const char *text, size_t len, char out[UDC_UUID_BUF]);

/* 1 when s is a NUL-terminated UUID already in canonical lower-case form, else 0. */
int udc_uuid_is_canonical(const char *s);

/* 1 when s (canonical or not) is the nil UUID 00000000-0000-0000-0000-000000000000. */
int udc_uuid_is_nil(const char *s);

#endif
