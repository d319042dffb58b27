/* batch.c — see batch.h. */
#include "batch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Messages between daemons must be complete: the first hop set every field. */
static const struct udc_location_rules message_rules = {
    .max_future_skew_us = INT64_MAX / 2,
    .require_event_id = 1,
    .require_creation_time = 1,
    .require_source = 1,
};

/* Upper bound of pings in one message; ingest publishes at most batch_max (1000). */
#define MESSAGE_MAX_PINGS 10000

static void describe_invalid_pings(struct delivery *d)
{
    size_t used = 0;
    for (size_t i = 0; i < d->pings.count && used < sizeof d->reason - 1; i++) {
        const struct udc_location_error *e = &d->pings.errors[i];
        if (d->pings.valid[i])
            continue;
        int n = snprintf(d->reason + used, sizeof d->reason - used, "%sitem %zu: %s %s",
                         used ? "; " : "", i, e->field, e->rule);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

static void decode(struct delivery *d, int64_t now_us)
{
    struct udc_location_error body_err;
    struct udc_location_rules rules = message_rules;
    rules.now_us = now_us;

    if (udc_location_batch_parse(d->ev.body, d->ev.len, MESSAGE_MAX_PINGS, &rules, &d->pings,
                                 &body_err) != 0) {
        snprintf(d->reason, sizeof d->reason, "%s %s", body_err.field, body_err.rule);
        return;
    }
    if (d->pings.valid_count < d->pings.count)
        describe_invalid_pings(d);
    /* The per-item errors live on in d->reason; a message of 100 pings would otherwise hold
     * 20 kB of them until it is acked, times the prefetch. */
    free(d->pings.errors);
    d->pings.errors = NULL;
    d->results = calloc(d->pings.count ? d->pings.count : 1, sizeof *d->results);
    if (!d->results)
        snprintf(d->reason, sizeof d->reason, "out of memory decoding the message");
}

size_t delivery_storable(const struct delivery *d)
{
    return d->results ? d->pings.valid_count : 0;
}

int batch_add(struct batch *b, struct udc_amqp_event *ev, int64_t now_us, uint64_t now_ms)
{
    if (b->count == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 256;
        struct delivery *grown = realloc(b->items, cap * sizeof *grown);
        if (!grown) {
            udc_amqp_event_release(ev);
            return -1;
        }
        b->items = grown;
        b->cap = cap;
    }
    struct delivery *d = &b->items[b->count++];
    memset(d, 0, sizeof *d);
    d->ev = *ev;
    memset(ev, 0, sizeof *ev); /* the batch owns it now */
    d->received_ms = now_ms;
    decode(d, now_us);
    b->ping_count += delivery_storable(d);
    return 0;
}

static void delivery_free(struct delivery *d)
{
    udc_amqp_event_release(&d->ev);
    udc_location_batch_free(&d->pings);
    free(d->results);
}

void batch_drop_front(struct batch *b, size_t n)
{
    if (n > b->count)
        n = b->count;
    for (size_t i = 0; i < n; i++) {
        b->ping_count -= delivery_storable(&b->items[i]);
        delivery_free(&b->items[i]);
    }
    memmove(b->items, b->items + n, (b->count - n) * sizeof *b->items);
    b->count -= n;
}

void batch_clear(struct batch *b)
{
    batch_drop_front(b, b->count);
    b->ping_count = 0;
}

void batch_free(struct batch *b)
{
    batch_clear(b);
    free(b->items);
    memset(b, 0, sizeof *b);
}
