/* stored_event.c — see stored_event.h. */
#include "stored_event.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "location_json.h"

static const char closing[] = "]}";

void stored_event_init(struct stored_event *ev)
{
    memset(ev, 0, sizeof *ev);
}

static int reserve(struct stored_event *ev, size_t more)
{
    if (ev->len + more <= ev->cap)
        return 0;
    size_t cap = ev->cap ? ev->cap : 16384;
    while (cap < ev->len + more)
        cap *= 2;
    char *grown = realloc(ev->buf, cap);
    if (!grown)
        return -1;
    ev->buf = grown;
    ev->cap = cap;
    return 0;
}

int stored_event_add(struct stored_event *ev, const struct udc_location *loc, int64_t row_id)
{
    char item[UDC_LOCATION_JSON_MAX + 32];
    char prefix[40];
    int n = udc_location_to_json_buf(loc, item, sizeof item);
    if (n < 2)
        return -1;
    /* The serialised ping starts with '{': put the row id in front of its fields. */
    int p = snprintf(prefix, sizeof prefix, "%s{\"id\":%" PRId64 ",",
                     ev->count ? "," : "{\"locations\":[", row_id);
    if (reserve(ev, (size_t)p + (size_t)n + sizeof closing) != 0)
        return -1;
    if (ev->count > 0)
        ev->len -= sizeof closing - 1; /* reopen the array */
    memcpy(ev->buf + ev->len, prefix, (size_t)p);
    ev->len += (size_t)p;
    memcpy(ev->buf + ev->len, item + 1, (size_t)n - 1);
    ev->len += (size_t)n - 1;
    memcpy(ev->buf + ev->len, closing, sizeof closing);
    ev->len += sizeof closing - 1;
    ev->count++;
    return 0;
}

void stored_event_free(struct stored_event *ev)
{
    free(ev->buf);
    stored_event_init(ev);
}
