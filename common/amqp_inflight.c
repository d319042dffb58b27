/* amqp_inflight.c — the publishes of one channel still waiting for their confirm.
 *
 * A ring indexed by seq: publishes append, confirms (single or multiple, in any order)
 * mark entries done and the head advances past done entries, so memory follows the number
 * in flight. It also answers which seq a basic.return is about, by message_id.
 */
#include "amqp_client_private.h"

#include <stdlib.h>

#define FIRST_CAPACITY 1024

void udc_amqp_ring_reset_(struct udc_amqp_ring *r)
{
    r->head = 0;
    r->count = 0;
    r->first_seq = 1;
    r->pending = 0;
}

void udc_amqp_ring_free_(struct udc_amqp_ring *r)
{
    free(r->slots);
    r->slots = NULL;
    r->cap = 0;
    udc_amqp_ring_reset_(r);
}

static struct udc_amqp_inflight *slot_of(struct udc_amqp_ring *r, uint64_t seq)
{
    return &r->slots[(r->head + (size_t)(seq - r->first_seq)) & (r->cap - 1)];
}

/* Make room for one more entry. */
int udc_amqp_ring_reserve_(struct udc_amqp_ring *r)
{
    if (r->count < r->cap)
        return 0;
    size_t cap = r->cap ? r->cap * 2 : FIRST_CAPACITY;
    struct udc_amqp_inflight *slots = malloc(cap * sizeof *slots);
    if (slots == NULL)
        return -1;
    for (size_t i = 0; i < r->count; i++)
        slots[i] = r->slots[(r->head + i) & (r->cap - 1)];
    free(r->slots);
    r->slots = slots;
    r->cap = cap;
    r->head = 0;
    return 0;
}

/* seq must follow the last one added (seqs of a channel are consecutive). */
void udc_amqp_ring_add_(struct udc_amqp_ring *r, uint64_t seq, uint64_t id_hash, uint64_t now_ms)
{
    if (r->count == 0)
        r->first_seq = seq;
    struct udc_amqp_inflight *s = &r->slots[(r->head + r->count) & (r->cap - 1)];
    s->id_hash = id_hash;
    s->sent_ms = now_ms;
    s->state = INFLIGHT_PENDING;
    r->count++;
    r->pending++;
}

uint64_t udc_amqp_ring_confirm_(struct udc_amqp_ring *r, uint64_t seq, int multiple)
{
    uint64_t n = 0;

    if (r->count == 0 || seq < r->first_seq)
        return 0;
    uint64_t last = r->first_seq + r->count - 1;
    if (seq > last) {
        if (!multiple)
            return 0; /* never published: a confused broker, nothing to mark */
        seq = last;
    }
    for (uint64_t s = multiple ? r->first_seq : seq; s <= seq; s++) {
        struct udc_amqp_inflight *e = slot_of(r, s);
        if (e->state != INFLIGHT_DONE) {
            e->state = INFLIGHT_DONE;
            n++;
        }
    }
    while (r->count > 0 && r->slots[r->head].state == INFLIGHT_DONE) {
        r->head = (r->head + 1) & (r->cap - 1);
        r->count--;
        r->first_seq++;
    }
    r->pending -= n;
    return n;
}

uint64_t udc_amqp_ring_match_return_(struct udc_amqp_ring *r, uint64_t id_hash)
{
    if (id_hash == 0)
        return 0;
    for (size_t i = 0; i < r->count; i++) {
        struct udc_amqp_inflight *e = &r->slots[(r->head + i) & (r->cap - 1)];
        if (e->state == INFLIGHT_PENDING && e->id_hash == id_hash) {
            e->state = INFLIGHT_RETURNED;
            return r->first_seq + i;
        }
    }
    return 0;
}

/* FNV-1a; 0 is kept for "no message_id". */
uint64_t udc_amqp_id_hash_(const void *id, size_t len)
{
    const unsigned char *p = id;
    uint64_t h = 14695981039346656037u;

    if (id == NULL || len == 0)
        return 0;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 1099511628211u;
    }
    return h ? h : 1;
}

uint64_t udc_amqp_unconfirmed(const struct udc_amqp *c)
{
    return c->ring.pending;
}

uint64_t udc_amqp_oldest_unconfirmed_ms(const struct udc_amqp *c)
{
    if (c->ring.count == 0)
        return 0;
    uint64_t sent = c->ring.slots[c->ring.head].sent_ms;
    uint64_t now = udc_now_ms();
    return now > sent ? now - sent : 0;
}

uint64_t udc_amqp_confirmed_through(const struct udc_amqp *c)
{
    /* The head is never a done entry: everything before it has been confirmed. */
    if (c->ring.count > 0)
        return c->ring.first_seq - 1;
    return c->next_seq > 0 ? c->next_seq - 1 : 0;
}
