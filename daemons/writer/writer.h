/* writer.h — udc-writer's work loop: consume udc.locations.store, store each batch in one
 * transaction, publish location.stored for it with confirms, then ack it.
 *
 * The order is what makes a kill at any point safe: nothing is acked before its rows are
 * committed and its events confirmed, and a redelivered batch whose rows exist already is
 * stored as a no-op and gets its events again (the connector is idempotent too).
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

struct writer {
    struct udc_daemon *daemon;
    const struct udc_config *cfg;
    struct udc_amqp *amqp;
    struct udc_db *db;
    struct batch batch;
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
