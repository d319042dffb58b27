/* ack_window.h — deliveries of udc.partner.inbox waiting for the broker to confirm what they
 * caused (the republished pings, the dead letter, or both), acknowledged strictly in order.
 *
 * Each delivery is pushed with the publish seqs it produced; confirms mark seqs (one, or
 * every seq up to one with multiple); ack_window_take_done() pops the longest finished prefix
 * and returns the delivery tag to ack with multiple = 1. Confirms may arrive out of order
 * (the publishes go to different queues), which is why each seq is tracked, not a watermark.
 *
 *   struct ack_window w = {0};
 *   ack_window_push(&w, ev.delivery_tag, seqs, n);
 *   ack_window_confirm(&w, ev.seq, ev.multiple);
 *   size_t n; uint64_t tag = ack_window_take_done(&w, &n);  if (tag) udc_amqp_ack(c, tag, 1);
 *
 * Delivery tags and seqs must be pushed in increasing order (as one channel hands them out).
 * Not thread-safe: belongs to the thread that owns the broker connection.
 */
#ifndef UDC_INGEST_AMQP_ACK_WINDOW_H
#define UDC_INGEST_AMQP_ACK_WINDOW_H

#include <stddef.h>
#include <stdint.h>

#define ACK_WINDOW_MAX_SEQS 2

struct ack_entry {
    uint64_t tag;
    uint64_t seq[ACK_WINDOW_MAX_SEQS];
    unsigned char nseq, confirmed; /* confirmed: bit i for seq[i] */
};

struct ack_window {
    struct ack_entry *items;
    size_t head, count, cap; /* live entries are items[head .. head+count) */
    uint64_t upto;           /* every seq <= upto is confirmed (multiple confirms) */
};

/* 0, or -1 when nseq is not 1..ACK_WINDOW_MAX_SEQS or memory ran out. */
int ack_window_push(struct ack_window *w, uint64_t tag, const uint64_t *seqs, size_t nseq);
void ack_window_confirm(struct ack_window *w, uint64_t seq, int multiple);
/* Tag of the last delivery of the finished prefix (0 when none), which leaves the window;
 * *n gets how many deliveries that covers (may be NULL). */
uint64_t ack_window_take_done(struct ack_window *w, size_t *n);
static inline size_t ack_window_count(const struct ack_window *w)
{
    return w->count;
}
/* Forget everything (the connection is gone: every delivery will come again). */
void ack_window_clear(struct ack_window *w);
void ack_window_free(struct ack_window *w);

#endif
