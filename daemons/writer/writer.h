/* writer.h — udc-writer's work loop: consume udc.locations.store, store each batch in one
 * transaction, publish location.stored for it with confirms, then ack it.
 *
 * The order is what makes a kill at any point safe: nothing is acked before its rows are
 * committed and its events confirmed, and a redelivered batch whose rows exist already is
 * stored as a no-op and gets its events again (the connector is idempotent too).
 *
 * Batches overlap: up to writer.connections statements run at once, each on its own database
 * connection (PostgreSQL runs one statement on one core), and while the events of one batch
 * wait for their confirms the next statements run, so the database does not idle during the
 * broker's round trip. Batches are cut from the deliveries in arrival order but finish in any
 * order; each publishes its events when its rows are committed, and deliveries are acked
 * ("multiple") only up to the contiguous prefix whose events are all confirmed (ack_order.h).
 * A batch that deadlocks with another transaction (rows are inserted in event_id order, so
 * this takes another writer or statement) is sent again at once; one the database refuses
 * is stored message by message; one that fails for want of the database waits and is sent
 * again, on the same connection, once it is back.
 *
 * Memory follows the pings in hand, not the messages: the prefetch (basic.qos) is lowered
 * when messages carry many pings, so that about (writer.connections + 2) × batch_size pings
 * are held (one batch per statement in flight, one awaiting confirms, one arriving), and
 * raised again up to writer.prefetch for single-ping messages.
 */
#ifndef UDC_WRITER_H
#define UDC_WRITER_H

#include <stdatomic.h>

#include "ack_order.h"
#include "amqp_client.h"
#include "batch.h"
#include "config.h"
#include "daemon.h"
#include "db.h"
#include "metrics.h"

#define WRITER_QUEUE           "udc.locations.store"
#define WRITER_EVENTS_EXCHANGE "udc.events"
#define WRITER_EVENTS_KEY      "location.stored"
#define WRITER_DEAD_EXCHANGE   "udc.dead"

struct writer_metrics {
    struct udc_counter *pings;        /* {outcome=stored|duplicate} */
    struct udc_counter *dead_letters; /* {reason=invalid_message|unknown_person|refused} */
    struct udc_histogram *batch_size;
    struct udc_histogram *commit_seconds;
    struct udc_histogram *lag_seconds;
    struct udc_counter *db_errors;
    struct udc_gauge *held; /* deliveries received and not yet acked */
};

/* Batches of pings in hand beyond one per statement in flight: one whose events await their
 * confirms, one arriving. */
#define WRITER_SPARE_BATCHES 2

/* One database connection and the batch it stores: copies of the pings sent, and their
 * results. Idle when deliveries == 0 and nothing runs. */
struct store_lane {
    struct udc_db *db;
    struct udc_location *items;
    struct store_result *results;
    size_t total;         /* pings sent */
    uint64_t first;       /* number of the first delivery it covers (see struct writer) */
    size_t deliveries;    /* deliveries it covers; 0 when idle */
    int running;          /* statement in flight */
    int discard;          /* the deliveries were dropped (connection lost): ignore the outcome */
    uint64_t retry_at_ms; /* the statement failed: sent again not before this */
    uint64_t started_us;
};

struct writer {
    struct udc_daemon *daemon;
    const struct udc_config *cfg;
    struct udc_amqp *amqp;
    struct store_lane *lanes;
    size_t nlanes;
    /* Deliveries are numbered in arrival order; batch.items[0] is number base. Those before
     * number next are in a lane or published; the rest are not sent yet. */
    struct batch batch;
    uint64_t base, next;
    size_t sent_pings; /* storable pings of the deliveries before next */
    struct ack_order acks;
    uint64_t db_failures;     /* statements failed for want of the database */
    double pings_per_message; /* running average, for the prefetch */
    int draining;
    uint64_t trimmed_ms;      /* last malloc_trim() */
    uint64_t prefetch_set_ms; /* last basic.qos */
    int prefetch_sized;       /* basic.qos sent for the messages seen (not the first guess) */
    struct writer_metrics m;
    int consuming;
    int reported_state; /* last STATUS= sent: amqp_up * 2 + db_up, -1 none */
    atomic_int amqp_up, db_up;
    atomic_ullong oldest_pending_ms; /* receive time of the oldest unacked delivery */
};

int writer_init(struct writer *w, struct udc_daemon *daemon);
/* Runs until SIGTERM/SIGINT, then finishes the batch in hand (when it can) and returns. */
int writer_run(struct writer *w);
void writer_free(struct writer *w);

/* For /ready: broker channel open and database reachable. */
int writer_ready(struct writer *w, char *reason, size_t len);

#endif
