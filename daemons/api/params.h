/* params.h — the API's query and path parameters, checked before any query runs.
 *
 * Each parser takes the raw text (NULL when absent) and returns 0 with the value, or -1 with
 * a sentence for the 400 answer in err ("distance must be a number of metres ≥ 0").
 */
#ifndef UDC_API_PARAMS_H
#define UDC_API_PARAMS_H

#include <stddef.h>
#include <stdint.h>

/* A positive 32-bit id ("42"); anything else (abc, 0, -1, 1e3, 99999999999) is refused. */
int param_id(const char *text, const char *name, int32_t *out, char *err, size_t errlen);

/* A calendar date YYYY-MM-DD → midnight UTC in µs since the epoch. Required when
 * required != 0, else *present says whether it was given. */
int param_date(const char *text, const char *name, int required, int *present, int64_t *out,
               char *err, size_t errlen);

/* distance in metres: finite, 0 ≤ d ≤ 1,000,000; default def when absent. */
int param_distance(const char *text, double def, double *out, char *err, size_t errlen);

/* window in minutes: an integer 0..525600 (a year); *present 0 when absent. */
int param_window(const char *text, int *present, int32_t *out, char *err, size_t errlen);

/* limit: 1..max; *present 0 when absent (then the whole list, as the POC). */
int param_limit(const char *text, int32_t max, int *present, int32_t *out, char *err,
                size_t errlen);

/* Cursors are opaque to clients; inside they are one or two integers ("123" or "t.id"). */
int param_cursor_id(const char *text, int64_t *out, char *err, size_t errlen);
int param_cursor_pair(const char *text, int64_t *first, int64_t *second, char *err, size_t errlen);

/* Search text for ?q=: 1..100 printable characters (UTF-8 allowed), no control bytes. */
int param_search(const char *text, char *err, size_t errlen);

#endif
