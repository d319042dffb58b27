/* pending.c — see pending.h. */
#include "pending.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int pending_init(struct pending_window *w, size_t capacity)
{
    w->ring = calloc(capacity, sizeof *w->ring);
    w->capacity = w->ring ? capacity : 0;
    w->head = 0;
    w->count = 0;
    return w->ring ? 0 : -1;
}

void pending_free(struct pending_window *w)
{
    free(w->ring);
    w->ring = NULL;
    w->capacity = w->count = w->head = 0;
}

size_t pending_count(const struct pending_window *w)
{
    return w->count;
}

int pending_full(const struct pending_window *w)
{
    return w->count == w->capacity;
}

static struct pending_entry *at(const struct pending_window *w, size_t i)
{
    return &w->ring[(w->head + i) % w->capacity];
}

int pending_push(struct pending_window *w, uint64_t seq, uint64_t now_us, void *owner,
                 const char *message_id)
{
    if (pending_full(w))
        return -1;
    struct pending_entry *e = at(w, w->count);
    e->seq = seq;
    e->published_us = now_us;
    e->owner = owner;
    e->outcome = PENDING_WAITING;
    snprintf(e->message_id, sizeof e->message_id, "%s", message_id ? message_id : "");
    w->count++;
    return 0;
}

static void settle(struct pending_entry *e, int ack)
{
    if (e->outcome == PENDING_WAITING)
        e->outcome = ack ? PENDING_ACKED : PENDING_FAILED;
}

/* Index of the first entry whose seq is >= seq (count when none). */
static size_t lower_bound(const struct pending_window *w, uint64_t seq)
{
    size_t lo = 0, hi = w->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (at(w, mid)->seq < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

void pending_resolve(struct pending_window *w, uint64_t seq, int multiple, int ack)
{
    size_t i = lower_bound(w, seq);
    if (multiple) {
        size_t end = (i < w->count && at(w, i)->seq == seq) ? i + 1 : i;
        for (size_t k = 0; k < end; k++)
            settle(at(w, k), ack);
    } else if (i < w->count && at(w, i)->seq == seq) {
        settle(at(w, i), ack);
    }
}

int pending_fail_message(struct pending_window *w, const char *message_id)
{
    for (size_t k = 0; k < w->count; k++) {
        struct pending_entry *e = at(w, k);
        if (e->outcome == PENDING_WAITING && strcmp(e->message_id, message_id) == 0) {
            e->outcome = PENDING_FAILED;
            return 0;
        }
    }
    return -1;
}

void pending_fail_older_than(struct pending_window *w, uint64_t deadline_us)
{
    for (size_t k = 0; k < w->count && at(w, k)->published_us < deadline_us; k++)
        settle(at(w, k), 0);
}

void pending_fail_all(struct pending_window *w)
{
    for (size_t k = 0; k < w->count; k++)
        settle(at(w, k), 0);
}

int pending_pop_resolved(struct pending_window *w, struct pending_entry *out)
{
    if (w->count == 0 || w->ring[w->head].outcome == PENDING_WAITING)
        return 0;
    *out = w->ring[w->head];
    w->head = (w->head + 1) % w->capacity;
    w->count--;
    return 1;
}
