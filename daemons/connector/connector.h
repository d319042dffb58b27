/* connector.h — udc-connector: turns location.stored events into precomputed co-presence
 * pairs in the `connection` table.
 *
 * For each batch of events it runs one statement that pairs every new row with every row of
 * another person within connector.radius_m metres and connector.window_min minutes, storing
 * both directions; the primary key makes a redelivered batch a no-op. The batch is acked
 * only after the commit. Rows stored before an event was published are all visible when the
 * event is handled (the writer publishes after its commit), so of two nearby pings the later
 * one's event always finds the earlier row.
 */
#ifndef UDC_CONNECTOR_H
#define UDC_CONNECTOR_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "amqp_client.h"
#include "daemon.h"
#include "db.h"
#include "metrics.h"

#define CONNECTOR_QUEUE         "udc.connections.compute"
#define CONNECTOR_DEAD_EXCHANGE "udc.dead"

struct connector {
    struct udc_daemon *daemon;
    const struct udc_config *cfg;
    struct udc_amqp *amqp;
    struct udc_db *db;
    int consuming;
    int reported_state;
    uint64_t retry_at_ms;

    /* Deliveries in hand, in tag order, and the row ids they name. */
    struct udc_amqp_event *held;
    size_t held_count, held_cap;
    uint64_t first_held_ms;
    int64_t *ids;
    size_t id_count, id_cap;

    struct udc_counter *pairs_total, *rows_total, *dead_total;
    struct udc_histogram *batch_seconds;
    atomic_int amqp_up, db_up;
};

int connector_init(struct connector *c, struct udc_daemon *daemon);
int connector_run(struct connector *c);
/* --backfill: pair every stored row after the recorded progress, chunk by chunk. */
int connector_backfill(struct connector *c);
void connector_free(struct connector *c);
int connector_ready(struct connector *c, char *reason, size_t len);

/* Row ids named by a location.stored body ({"locations":[{"id":…},…]}), appended to *ids.
 * 0, or -1 with why when the body is not such an event. Pure; unit-tested. */
int connector_event_ids(const char *body, size_t len, int64_t **ids, size_t *count, size_t *cap,
                        char *why, size_t whylen);

#endif
