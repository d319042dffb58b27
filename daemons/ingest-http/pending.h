/* pending.h — publishes waiting for the broker's confirm, in publish order.
 *
 * The broker confirms a channel's publishes by sequence number, singly or "every seq up to
 * N" (multiple), and usually in order. udc-ingest-http keeps one entry per published message
 * here and completes the HTTP request behind it when its confirm arrives, so thousands of
 * requests can wait on one channel without any of them waiting behind another.
 *
 * A ring buffer ordered by seq: resolving is O(log n) by binary search, and completed entries
 * are popped from the front in order. Not thread-safe: owned by the publisher thread.
 */
#ifndef UDC_INGEST_PENDING_H
#define UDC_INGEST_PENDING_H

#include <stddef.h>
#include <stdint.h>

enum pending_outcome { PENDING_WAITING, PENDING_ACKED, PENDING_FAILED };

struct pending_entry {
    uint64_t seq;
    uint64_t published_us; /* monotonic, for the confirm latency and the timeout */
    void *owner;           /* what to complete: the request behind the publish */
    char message_id[40];   /* to match a basic.return, which carries no seq */
    enum pending_outcome outcome;
};

struct pending_window {
    struct pending_entry *ring;
    size_t capacity, head, count;
};

int pending_init(struct pending_window *w, size_t capacity);
void pending_free(struct pending_window *w);
size_t pending_count(const struct pending_window *w);
int pending_full(const struct pending_window *w);

/* Appends a publish; seqs must increase. Returns -1 when full. */
int pending_push(struct pending_window *w, uint64_t seq, uint64_t now_us, void *owner,
                 const char *message_id);

/* Marks seq (or, with multiple, every waiting seq <= seq) acked or failed.
 * An entry already failed (returned) stays failed when its ack comes. */
void pending_resolve(struct pending_window *w, uint64_t seq, int multiple, int ack);

/* Marks the entry with this message_id failed (a basic.return). 0 when found. */
int pending_fail_message(struct pending_window *w, const char *message_id);

/* Fails every entry published before deadline_us (confirm timeout). */
void pending_fail_older_than(struct pending_window *w, uint64_t deadline_us);

/* Fails every entry (the channel is gone: its seqs will never be confirmed). */
void pending_fail_all(struct pending_window *w);

/* Pops the oldest entry if it is resolved. Returns 1 and fills *out, else 0.
 * Entries resolve out of order only with single acks; they still leave in order. */
int pending_pop_resolved(struct pending_window *w, struct pending_entry *out);

#endif
