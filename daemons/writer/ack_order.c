/* ack_order.c — see ack_order.h. Both lists stay short (a few groups per database connection
 * and confirm round trip), so plain arrays with insertion are enough. */
#include "ack_order.h"

#include <stdlib.h>
#include <string.h>

void ack_order_reset(struct ack_order *a, uint64_t front)
{
    a->nwaiting = 0;
    a->ndone = 0;
    a->front = front;
}

void ack_order_free(struct ack_order *a)
{
    free(a->waiting);
    free(a->done);
    memset(a, 0, sizeof *a);
}

static int reserve(struct ack_group **list, size_t n, size_t *cap)
{
    if (n < *cap)
        return 0;
    size_t grown_cap = *cap ? *cap * 2 : 16;
    struct ack_group *grown = realloc(*list, grown_cap * sizeof *grown);
    if (!grown)
        return -1;
    *list = grown;
    *cap = grown_cap;
    return 0;
}

int ack_order_published(struct ack_order *a, uint64_t first, size_t n, uint64_t last_seq,
                        uint64_t now_ms)
{
    /* Reserved here, so that ack_order_confirmed() never fails to move a group. */
    if (reserve(&a->waiting, a->nwaiting, &a->waiting_cap) != 0 ||
        reserve(&a->done, a->ndone + a->nwaiting, &a->done_cap) != 0)
        return -1;
    a->waiting[a->nwaiting++] = (struct ack_group){first, n, last_seq, now_ms};
    return 0;
}

static void insert_done(struct ack_order *a, const struct ack_group *g)
{
    size_t i = a->ndone;
    while (i > 0 && a->done[i - 1].first > g->first) {
        a->done[i] = a->done[i - 1];
        i--;
    }
    a->done[i] = *g;
    a->ndone++;
}

size_t ack_order_confirmed(struct ack_order *a, uint64_t through)
{
    size_t g = 0;
    /* A group that published nothing (last_seq 0) is done as soon as it is its turn: seqs
     * are in publish order, so it waits only behind groups published before it. */
    while (g < a->nwaiting && a->waiting[g].last_seq <= through)
        insert_done(a, &a->waiting[g++]);
    if (g > 0) {
        a->nwaiting -= g;
        memmove(a->waiting, a->waiting + g, a->nwaiting * sizeof *a->waiting);
    }

    size_t acked = 0, d = 0;
    while (d < a->ndone && a->done[d].first == a->front) {
        a->front += a->done[d].deliveries;
        acked += a->done[d].deliveries;
        d++;
    }
    if (d > 0) {
        a->ndone -= d;
        memmove(a->done, a->done + d, a->ndone * sizeof *a->done);
    }
    return acked;
}

uint64_t ack_order_oldest_ms(const struct ack_order *a)
{
    return a->nwaiting ? a->waiting[0].published_ms : 0;
}

size_t ack_order_pending(const struct ack_order *a)
{
    return a->nwaiting + a->ndone;
}
