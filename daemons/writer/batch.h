/* batch.h — the deliveries the writer holds between receiving and acknowledging them.
 *
 * Each delivery keeps its broker event (needed to dead-letter the original message) and the
 * pings decoded from its body. A delivery whose body is not a valid location message carries
 * the reason instead and is dead-lettered with the batch. Deliveries leave the batch in
 * arrival order, which is delivery-tag order, so "ack up to tag T, multiple" is exact.
 */
#ifndef UDC_WRITER_BATCH_H
#define UDC_WRITER_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "amqp_client.h"
#include "location_batch.h"
#include "store.h"

struct delivery {
    struct udc_amqp_event ev;        /* owned until udc_amqp_event_release() */
    struct udc_location_batch pings; /* decoded body; valid[i] says which pings to store */
    struct store_result *results;    /* pings.count entries, filled by the flush */
    char reason[512];                /* non-empty: dead-letter the whole message for this */
    uint64_t received_ms;
};

struct batch {
    struct delivery *items;
    size_t count, cap;
    size_t ping_count; /* valid pings over all deliveries */
};

/* Takes ownership of *ev (a DELIVERY) and decodes its body. 0, or -1 out of memory (then
 * the event is released and the caller should drop the connection: it cannot be acked). */
int batch_add(struct batch *b, struct udc_amqp_event *ev, int64_t now_us, uint64_t now_ms);

/* Pings of d to store: its valid ones, unless it could not be decoded at all. */
size_t delivery_storable(const struct delivery *d);

/* Releases the first n deliveries and moves the rest to the front. */
void batch_drop_front(struct batch *b, size_t n);
void batch_clear(struct batch *b);
void batch_free(struct batch *b);

#endif
