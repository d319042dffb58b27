/* ack_order.h — which deliveries may be acked when batches finish out of order.
 *
 * Deliveries are numbered in arrival order (delivery-tag order) from 0 on each broker
 * connection. A batch covers consecutive deliveries; batches are stored concurrently and
 * finish in any order. When a batch's events are published it becomes a group with the seq
 * of its last publish; once the broker has confirmed through that seq the group is done. An
 * ack with "multiple" covers every earlier delivery tag, so only the contiguous prefix of done
 * deliveries may be acked: ack_order_confirmed() says how long that prefix has grown.
 *
 *   ack_order_published(&a, first, n, last_seq, now_ms);     after publishing a batch
 *   size_t k = ack_order_confirmed(&a, udc_amqp_confirmed_through(c));
 *   if (k) ack the delivery a.front - 1 with multiple, drop k deliveries from the front
 *
 * Not thread-safe: one owner.
 */
#ifndef UDC_WRITER_ACK_ORDER_H
#define UDC_WRITER_ACK_ORDER_H

#include <stddef.h>
#include <stdint.h>

struct ack_group {
    uint64_t first; /* number of the group's first delivery */
    size_t deliveries;
    uint64_t last_seq; /* 0: nothing was published for it */
    uint64_t published_ms;
};

struct ack_order {
    struct ack_group *waiting; /* published, in publish (seq) order, not yet confirmed */
    size_t nwaiting, waiting_cap;
    struct ack_group *done; /* confirmed, behind a gap; sorted by first */
    size_t ndone, done_cap;
    uint64_t front; /* number of the first delivery not yet acked */
};

/* Forgets every group; the next delivery to ack is number front. */
void ack_order_reset(struct ack_order *a, uint64_t front);
void ack_order_free(struct ack_order *a);

/* A batch of n deliveries starting at first has had its events published, the last with
 * last_seq (seqs grow with every publish; 0 when it published nothing). 0, or -1 out of
 * memory. */
int ack_order_published(struct ack_order *a, uint64_t first, size_t n, uint64_t last_seq,
                        uint64_t now_ms);

/* Takes the broker's confirms through seq `through`. Returns how many deliveries at the
 * front may now be acked (a.front has moved past them). */
size_t ack_order_confirmed(struct ack_order *a, uint64_t through);

/* Publish time of the oldest group still waiting for a confirm, 0 when none waits. */
uint64_t ack_order_oldest_ms(const struct ack_order *a);

/* Groups published and not yet acked (waiting or done behind a gap). */
size_t ack_order_pending(const struct ack_order *a);

#endif
