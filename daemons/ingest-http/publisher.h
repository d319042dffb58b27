/* publisher.h — the one thread that owns udc-ingest-http's broker connection.
 *
 * HTTP threads hand it jobs (a message to publish and a callback); it publishes them with
 * confirms, keeps up to max_in_flight unconfirmed at once, and calls each job's callback
 * from its own thread when the broker confirmed the message (ok = 1) or when the message
 * cannot be vouched for (ok = 0: nack, unroutable, confirm timeout, connection lost, or the
 * broker is away). A job is never completed twice and never dropped silently.
 */
#ifndef UDC_INGEST_PUBLISHER_H
#define UDC_INGEST_PUBLISHER_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

struct publish_job;

/* Where a job's time went, in microseconds: queued from its submit to the publish of the
 * message that carried it (a single ping may wait there for an earlier message's confirm),
 * then confirm from that publish to the broker's answer (0 when it was never published). */
struct publish_timing {
    uint64_t queued_us;
    uint64_t confirm_us;
};

/* Called once per job on the publisher thread; the job is freed right after it returns. */
typedef void (*publish_done_fn)(void *ctx, int ok, const char *why,
                                const struct publish_timing *timing);

struct publisher;

struct publisher *publisher_new(const struct udc_config *cfg);
int publisher_start(struct publisher *p);
/* Completes every queued and in-flight job (confirmed ones ok, the rest not), then joins. */
void publisher_stop(struct publisher *p);
void publisher_free(struct publisher *p);

/* 1 when the broker channel is open (for /ready). Any thread. */
int publisher_ready(struct publisher *p);
/* Jobs queued or waiting for a confirm. Any thread. */
size_t publisher_in_flight(struct publisher *p);

/* Queues body (copied) for publishing to udc.locations with routing key "location.<source>"
 * and the given message_id. Returns 0 (done() will be called), or -1 when the broker is
 * away or too much is in flight: the caller answers 503 itself and done() is not called.
 * Any thread. */
int publisher_submit(struct publisher *p, const char *body, size_t len, const char *message_id,
                     publish_done_fn done, void *ctx);

/* Like publisher_submit for ONE ping (a location JSON object, message id = its event id),
 * which the publisher may send inside a {"locations": [...]} message together with other
 * pings; under load a ping may wait in the queue for the confirm of an earlier message of
 * pings, so that the next message carries many. done() still comes only after the broker
 * confirmed the message that carried it. Any thread. */
int publisher_submit_ping(struct publisher *p, const char *ping, size_t len, const char *event_id,
                          publish_done_fn done, void *ctx);

#endif
