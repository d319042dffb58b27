/* location_batch.h — request and message bodies holding one or many locations.
 *
 * udc_location_batch_parse() accepts, from a buffer that need not be NUL-terminated:
 *   - a JSON array of location objects          [{...}, {...}]
 *   - a wrapper object                          {"locations": [{...}, ...]}
 *   - NDJSON, one object per line               {...}\n{...}\n   (blank lines ignored)
 *   - a single location object                  {...}            (count 1)
 * The body as a whole is rejected (return -1, *body_err with index -1) when it is empty,
 * malformed (the rule says at which line and column), nested deeper than
 * UDC_LOCATION_JSON_DEPTH, followed by trailing data, holds no item or more than max_items.
 * Otherwise it returns 0 and every item is decoded on its own: valid[i] says whether
 * items[i] is usable, errors[i] (index i) says why not. Free with udc_location_batch_free().
 *
 *   struct udc_location_batch b;
 *   struct udc_location_error e;
 *   if (udc_location_batch_parse(body, len, 1000, &rules, &b, &e) < 0) reply_400(&e);
 *   for (size_t i = 0; i < b.count; i++) if (b.valid[i]) publish(&b.items[i]);
 *   udc_location_batch_free(&b);
 *
 * udc_location_batch_to_json() writes {"locations":[...]} for the message bus.
 * Thread-safe: no shared state.
 */
#ifndef UDC_LOCATION_BATCH_H
#define UDC_LOCATION_BATCH_H

#include <stddef.h>

#include "location.h"

/* Deepest nesting accepted: wrapper object → array → item → a (wrong) nested value. */
#define UDC_LOCATION_JSON_DEPTH 8

struct udc_location_batch {
    size_t count;                      /* items found in the body */
    struct udc_location *items;        /* count entries; meaningful where valid[i] */
    struct udc_location_error *errors; /* count entries; meaningful where !valid[i] */
    unsigned char *valid;              /* count entries, 1 or 0 */
    size_t valid_count;
};

int udc_location_batch_parse(const char *body, size_t len, size_t max_items,
                             const struct udc_location_rules *rules, struct udc_location_batch *out,
                             struct udc_location_error *body_err);

/* Release what a parse allocated and zero *batch (safe on a zeroed or freed batch). */
void udc_location_batch_free(struct udc_location_batch *batch);

/* {"locations":[item,...]} as a malloc'd NUL-terminated string (the caller frees it), its
 * length in *len_out when len_out is not NULL. NULL when an item cannot be represented
 * (see udc_location_to_json_buf) or memory ran out. */
char *udc_location_batch_to_json(const struct udc_location *items, size_t n, size_t *len_out);

#endif
