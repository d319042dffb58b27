/* ack_window.c — see ack_window.h. */
#include "ack_window.h"

#include <stdlib.h>
#include <string.h>

static int make_room(struct ack_window *w)
{
    if (w->head + w->count < w->cap)
        return 0;
    if (w->head > 0) { /* slide the live entries to the front */
        memmove(w->items, w->items + w->head, w->count * sizeof *w->items);
        w->head = 0;
        if (w->count < w->cap)
            return 0;
    }
    size_t cap = w->cap ? w->cap * 2 : 256;
    struct ack_entry *grown = realloc(w->items, cap * sizeof *grown);
    if (!grown)
        return -1;
    w->items = grown;
    w->cap = cap;
    return 0;
}

int ack_window_push(struct ack_window *w, uint64_t tag, const uint64_t *seqs, size_t nseq)
{
    if (nseq < 1 || nseq > ACK_WINDOW_MAX_SEQS || make_room(w) != 0)
        return -1;
    struct ack_entry *e = &w->items[w->head + w->count++];
    memset(e, 0, sizeof *e);
    e->tag = tag;
    e->nseq = (unsigned char)nseq;
    memcpy(e->seq, seqs, nseq * sizeof *seqs);
    return 0;
}

/* The live entry holding seq, by binary search over the (increasing) first seqs. */
static struct ack_entry *find(struct ack_window *w, uint64_t seq)
{
    size_t lo = 0, hi = w->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        struct ack_entry *e = &w->items[w->head + mid];
        if (e->seq[e->nseq - 1] < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == w->count)
        return NULL;
    return &w->items[w->head + lo];
}

void ack_window_confirm(struct ack_window *w, uint64_t seq, int multiple)
{
    if (multiple) {
        if (seq > w->upto)
            w->upto = seq;
        return;
    }
    struct ack_entry *e = find(w, seq);
    for (unsigned i = 0; e && i < e->nseq; i++)
        if (e->seq[i] == seq)
            e->confirmed |= (unsigned char)(1u << i);
}

static int entry_done(const struct ack_window *w, const struct ack_entry *e)
{
    for (unsigned i = 0; i < e->nseq; i++)
        if (e->seq[i] > w->upto && !(e->confirmed & (1u << i)))
            return 0;
    return 1;
}

uint64_t ack_window_take_done(struct ack_window *w, size_t *n)
{
    uint64_t tag = 0;
    size_t taken = 0;
    while (w->count > 0 && entry_done(w, &w->items[w->head])) {
        tag = w->items[w->head].tag;
        w->head++;
        w->count--;
        taken++;
    }
    if (w->count == 0)
        w->head = 0;
    if (n)
        *n = taken;
    return tag;
}

void ack_window_clear(struct ack_window *w)
{
    w->head = w->count = 0;
    w->upto = 0; /* seqs start again at 1 on the next connection */
}

void ack_window_free(struct ack_window *w)
{
    free(w->items);
    memset(w, 0, sizeof *w);
}
