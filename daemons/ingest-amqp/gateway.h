/* gateway.h — udc-ingest-amqp's work loop: consume udc.partner.inbox, decide about each
 * partner message (partner_message.h), republish its valid pings to udc.locations and/or
 * dead-letter it to udc.dead, and ack it once the broker confirmed every one of those
 * publishes.
 *
 * Safe to kill at any point: nothing is acked before what it caused is confirmed; a
 * redelivered message is decided and republished again with the same event_ids, which the
 * writer stores once. A message that keeps failing (e.g. crashes us) is dead-lettered by
 * the quorum queue's x-delivery-limit, so it cannot loop.
 */
#ifndef UDC_INGEST_AMQP_GATEWAY_H
#define UDC_INGEST_AMQP_GATEWAY_H

#include <stdatomic.h>
#include <stdint.h>

#include "ack_window.h"
#include "amqp_client.h"
#include "daemon.h"
#include "metrics.h"

#define GATEWAY_QUEUE              "udc.partner.inbox"
#define GATEWAY_LOCATIONS_EXCHANGE "udc.locations"
#define GATEWAY_DEAD_EXCHANGE      "udc.dead"

struct gateway_metrics {
    struct udc_counter *messages;      /* {outcome=republished|partial|dead_lettered} */
    struct udc_counter *pings;         /* {partner, outcome=republished|invalid} */
    struct udc_counter *dead_letters;  /* {reason=identity|routing_key|too_large|...} */
    struct udc_counter *redelivered;   /* messages seen again after a failure */
    struct udc_counter *broker_errors; /* {kind} */
    struct udc_histogram *lag_seconds;
};

struct gateway {
    struct udc_daemon *daemon;
    struct udc_amqp *amqp;
    struct ack_window window;
    struct gateway_metrics m;
    uint16_t prefetch;
    int confirm_timeout_ms;
    int64_t max_future_skew_us;
    int consuming;
    int reported_up; /* last STATUS= sent, -1 none */
    atomic_int amqp_up;
};

int gateway_init(struct gateway *g, struct udc_daemon *daemon);
/* Runs until SIGTERM/SIGINT, then stops consuming, waits (up to amqp.confirm_timeout_ms)
 * for the confirms of what is in hand, acks it and returns 0. */
int gateway_run(struct gateway *g);
void gateway_free(struct gateway *g);

/* For /ready: the broker connection is open and consuming. Any thread. */
int gateway_ready(struct gateway *g, char *reason, size_t len);

#endif
