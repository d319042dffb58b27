/* writer.h — udc-writer's work loop: consume udc.locations.store, store each batch in one
 * transaction, publish location.stored for it with confirms, then ack it.
 *
 * The order is what makes a kill at any point safe: nothing is acked before its rows are
 * committed and its events confirmed, and a redelivered batch whose rows exist already is
 * stored as a no-op and gets its events again (the connector is idempotent too).
 *
 * Batches overlap: while the events of batch N wait for their confirms, batch N+1's
 * statement runs (sent without waiting), so the database does not idle during the broker's
 * round trip. The deliveries in hand are, front to back: published batches waiting for
 * confirms (acked in order, "multiple" up to the last delivery of the confirmed prefix), the
 * batch being stored, and the ones not yet sent.
 *
 * Memory follows the pings in hand, not the messages: the prefetch (basic.qos) is lowered
 * when messages carry many pings, so that about WRITER_PINGS_IN_HAND × batch_size pings are
 * held, and raised again up to writer.prefetch for single-ping messages.
 */
#ifndef UDC_WRITER_H
#define UDC_WRITER_H

#include <stdatomic.h>

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
};

/* Hold about this many batches of pings (in store, awaiting confirms, arriving). */
#define WRITER_PINGS_IN_HAND 3

/* The statement in flight: copies of the pings it sends, and their results. */
struct store_job {
    struct udc_location *items;
    struct store_result *results;
    size_t total;      /* pings sent */
    size_t deliveries; /* deliveries it covers, right behind the published ones */
    int running;
    int discard; /* the deliveries were dropped (connection lost): ignore the outcome */
    uint64_t started_us;
};

/* Published deliveries waiting for their events' confirms. */
struct published_group {
    size_t deliveries;
    size_t pings;
    uint64_t last_seq; /* 0: nothing published */
    uint64_t published_ms;
};

struct writer {
    struct udc_daemon *daemon;
    const struct udc_config *cfg;
    struct udc_amqp *amqp;
    struct udc_db *db;
    struct batch batch;
    struct store_job job;
    struct published_group *groups;
    size_t ngroups, groups_cap;
    size_t held;              /* deliveries in groups: the front of the batch */
    size_t sent_pings;        /* storable pings of the groups and of the job */
    double pings_per_message; /* running average, for the prefetch */
    int draining;
    uint64_t trimmed_ms;      /* last malloc_trim() */
    uint64_t prefetch_set_ms; /* last basic.qos */
    struct writer_metrics m;
    int consuming;
    int reported_state;   /* last STATUS= sent: amqp_up * 2 + db_up, -1 none */
    uint64_t retry_at_ms; /* after a failed store: not before this */
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
