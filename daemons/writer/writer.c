/* writer.c — see writer.h. */
#include "writer.h"

#include <malloc.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backoff.h"
#include "daemon.h"
#include "log.h"
#include "service.h"
#include "stored_event.h"
#include "uuid.h"

/* Upper bound of writer.connections (config_schema.c), for the poll set. */
#define MAX_LANES 16

/* After a failed statement for want of the database: send it again no sooner. */
#define RETRY_MS 250

static const double batch_bounds[] = {1, 10, 50, 100, 250, 500, 1000, 2000, 5000};
static const double seconds_bounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                        0.25,  0.5,    1,     2.5,  5,     10};

static void metrics_init(struct writer_metrics *m)
{
    struct udc_metrics *reg = udc_metrics_default();
    m->pings = udc_counter_new(reg, "udc_writer_pings_total",
                               "Pings written, by outcome (stored new, or already stored)", 1,
                               (const char *[]){"outcome"});
    m->dead_letters =
        udc_counter_new(reg, "udc_writer_dead_letters_total",
                        "Messages sent to udc.dead, by reason", 1, (const char *[]){"reason"});
    m->batch_size =
        udc_histogram_new(reg, "udc_writer_batch_pings", "Pings per stored batch", 0, NULL,
                          sizeof batch_bounds / sizeof batch_bounds[0], batch_bounds);
    m->commit_seconds = udc_histogram_new(
        reg, "udc_writer_commit_seconds", "Time to store one batch (transaction)", 0, NULL,
        sizeof seconds_bounds / sizeof seconds_bounds[0], seconds_bounds);
    m->lag_seconds = udc_histogram_new(
        reg, "udc_writer_lag_seconds", "From publish (message timestamp) to acknowledged", 0, NULL,
        sizeof seconds_bounds / sizeof seconds_bounds[0], seconds_bounds);
    m->db_errors = udc_counter_new(reg, "udc_writer_db_errors_total",
                                   "Batches that failed on the database, by kind", 1,
                                   (const char *[]){"kind"});
    m->held = udc_gauge_new(reg, "udc_writer_deliveries_held",
                            "Messages received and not yet acknowledged", 0, NULL);
}

int writer_init(struct writer *w, struct udc_daemon *daemon)
{
    const struct udc_config *cfg = &daemon->cfg;
    memset(w, 0, sizeof *w);
    w->daemon = daemon;
    w->cfg = cfg;
    w->reported_state = -1;
    w->amqp = udc_amqp_new(udc_config_amqp_url(cfg, "writer"), "udc-writer", cfg->amqp.heartbeat_s);
    w->nlanes = cfg->writer.connections < 1 ? 1 : (size_t)cfg->writer.connections;
    if (w->nlanes > MAX_LANES)
        w->nlanes = MAX_LANES;
    w->lanes = calloc(w->nlanes, sizeof *w->lanes);
    for (size_t i = 0; w->lanes && i < w->nlanes; i++) {
        w->lanes[i].db = udc_db_new(cfg->db.url, store_statements, store_statement_count,
                                    cfg->db.connect_timeout_s, cfg->db.statement_timeout_ms);
        if (!w->lanes[i].db || udc_db_set_application_name(w->lanes[i].db, "udc-writer") != 0) {
            writer_free(w);
            return -1;
        }
    }
    if (!w->amqp || !w->lanes) {
        writer_free(w);
        return -1;
    }
    udc_amqp_set_reconnect_max_ms(w->amqp, (uint32_t)cfg->amqp.reconnect_max_ms);
    metrics_init(&w->m);
    return 0;
}

/* Forgets the lane's batch (the copies of its pings and their results). */
static void lane_clear(struct store_lane *lane)
{
    free(lane->items);
    free(lane->results);
    lane->items = NULL;
    lane->results = NULL;
    lane->total = 0;
    lane->deliveries = 0;
    lane->retry_at_ms = 0;
}

void writer_free(struct writer *w)
{
    batch_free(&w->batch);
    ack_order_free(&w->acks);
    for (size_t i = 0; w->lanes && i < w->nlanes; i++) {
        lane_clear(&w->lanes[i]);
        udc_db_free(w->lanes[i].db);
    }
    free(w->lanes);
    w->lanes = NULL;
    udc_amqp_free(w->amqp);
    w->amqp = NULL;
}

int writer_ready(struct writer *w, char *reason, size_t len)
{
    if (!atomic_load(&w->amqp_up)) {
        snprintf(reason, len, "broker connection down");
        return 0;
    }
    if (!atomic_load(&w->db_up)) {
        snprintf(reason, len, "database connection down");
        return 0;
    }
    return 1;
}

static struct delivery *delivery_at(struct writer *w, uint64_t number)
{
    return &w->batch.items[number - w->base];
}

/* The broker connection is gone (or we give it up): every delivery in hand will come
 * again, so forget them without acking. Statements in flight still finish; their outcome
 * is ignored. */
static void drop_batch(struct writer *w, const char *why)
{
    if (w->batch.count)
        udc_log_warn("batch left to redelivery", "deliveries=%zu reason=\"%s\"", w->batch.count,
                     why);
    w->base += w->batch.count;
    w->next = w->base;
    batch_clear(&w->batch);
    for (size_t i = 0; i < w->nlanes; i++) {
        struct store_lane *lane = &w->lanes[i];
        if (lane->running)
            lane->discard = 1; /* its copies stay until the statement ends */
        else
            lane_clear(lane);
        lane->deliveries = 0;
    }
    ack_order_reset(&w->acks, w->base);
    w->sent_pings = 0;
    w->consuming = 0;
}

static void give_up_connection(struct writer *w, const char *why)
{
    udc_amqp_close(w->amqp);
    atomic_store(&w->amqp_up, 0);
    drop_batch(w, why);
}

/* Messages to hold for about (connections + spare) batches of pings, given the average size
 * of messages so far. Until the first messages tell their size, a prefetch that large
 * messages cannot turn into a burst of memory; adapt_prefetch() raises it at once for single
 * pings. */
static double wanted_prefetch(const struct writer *w)
{
    double avg = w->pings_per_message, limit = w->cfg->writer.prefetch;
    if (avg <= 0)
        return limit < 64 ? limit : 64;
    double batches = (double)(w->nlanes + WRITER_SPARE_BATCHES);
    double want = batches * (double)w->cfg->writer.batch_size / (avg < 1 ? 1 : avg);
    return want > limit ? limit : want < 1 ? 1 : want;
}

static uint16_t initial_prefetch(const struct writer *w)
{
    return (uint16_t)wanted_prefetch(w);
}

static int ensure_broker(struct writer *w)
{
    if (udc_amqp_ensure(w->amqp) != 0) {
        atomic_store(&w->amqp_up, 0);
        if (w->batch.count)
            drop_batch(w, "broker connection lost");
        w->consuming = 0;
        return -1;
    }
    if (!w->consuming) {
        char err[256];
        if (udc_amqp_check_queue(w->amqp, WRITER_QUEUE, NULL, NULL, err, sizeof err) != 0 ||
            udc_amqp_check_exchange(w->amqp, WRITER_EVENTS_EXCHANGE, err, sizeof err) != 0 ||
            udc_amqp_check_exchange(w->amqp, WRITER_DEAD_EXCHANGE, err, sizeof err) != 0) {
            udc_log_error("broker topology missing; load schema/rabbitmq/definitions.json",
                          "error=\"%s\"", err);
            give_up_connection(w, "topology missing");
            return -1;
        }
        if (udc_amqp_consume(w->amqp, WRITER_QUEUE, initial_prefetch(w)) != 0) {
            give_up_connection(w, "consume failed");
            return -1;
        }
        w->consuming = 1;
    }
    atomic_store(&w->amqp_up, 1);
    return 0;
}

static int ensure_database(struct writer *w, struct store_lane *lane)
{
    int ok = udc_db_ensure(lane->db) == 0;
    atomic_store(&w->db_up, ok);
    return ok ? 0 : -1;
}

/* One delivery in its own transaction (after the database refused a whole batch): a refusal
 * now is this message's own, and it is dead-lettered with the database's reason. 0 when it
 * is stored or refused, -1 when it waits for a retry. */
static int store_one_delivery(struct writer *w, struct store_lane *lane, struct delivery *d)
{
    size_t total = delivery_storable(d);
    if (total == 0)
        return 0;
    struct udc_location *items = malloc(total * sizeof *items);
    struct store_result *results = malloc(total * sizeof *results);
    int rc = -1;
    if (!items || !results)
        goto out;
    size_t k = 0;
    for (size_t j = 0; j < d->pings.count; j++)
        if (d->pings.valid[j])
            items[k++] = d->pings.items[j];
    char err[400];
    enum store_status st = store_batch(lane->db, items, total, results, err, sizeof err);
    if (st == STORE_DB_DOWN || st == STORE_CONFLICT)
        goto out;
    if (st == STORE_REJECTED) {
        snprintf(d->reason, sizeof d->reason, "refused by the database: %s", err);
        free(d->results);
        d->results = NULL; /* nothing of it is stored */
        w->batch.ping_count -= total;
        w->sent_pings -= total;
    } else {
        k = 0;
        for (size_t j = 0; j < d->pings.count; j++)
            if (d->pings.valid[j])
                d->results[j] = results[k++];
    }
    rc = 0;
out:
    free(items);
    free(results);
    return rc;
}

/* Why a delivery goes to udc.dead, or NULL. Fills the unknown-person reason from results. */
static const char *dead_letter_reason(struct delivery *d, const char **label)
{
    if (d->reason[0]) {
        *label = d->results ? "invalid_items" : "invalid_message";
        if (strncmp(d->reason, "refused", 7) == 0)
            *label = "refused";
        return d->reason;
    }
    size_t used = 0;
    for (size_t j = 0; d->results && j < d->pings.count; j++) {
        if (!d->pings.valid[j] || d->results[j].verdict != STORE_UNKNOWN_PERSON)
            continue;
        int n = snprintf(d->reason + used, sizeof d->reason - used,
                         "%sitem %zu: person_id %d does not exist", used ? "; " : "", j,
                         (int)d->pings.items[j].person_id);
        if (n < 0 || (size_t)n >= sizeof d->reason - used)
            break;
        used += (size_t)n;
    }
    *label = "unknown_person";
    return used ? d->reason : NULL;
}

/* Publishes location.stored for the stored pings and the dead letters of the n deliveries
 * from number first. Returns the number of publishes, -1 when the connection broke. */
static int publish_outcomes(struct writer *w, uint64_t first, size_t n, uint64_t *last_seq)
{
    int published = 0;
    struct stored_event ev;
    stored_event_init(&ev);
    for (uint64_t i = first; i < first + n; i++) {
        struct delivery *d = delivery_at(w, i);
        for (size_t j = 0; d->results && j < d->pings.count; j++) {
            if (!d->pings.valid[j] || d->results[j].verdict != STORE_STORED)
                continue;
            if (stored_event_add(&ev, &d->pings.items[j], d->results[j].row_id) != 0)
                goto broken;
            udc_counter_inc(w->m.pings,
                            (const char *[]){d->results[j].inserted ? "stored" : "duplicate"}, 1);
        }
        const char *label = NULL;
        const char *reason = dead_letter_reason(d, &label);
        if (reason) {
            if (udc_amqp_dead_letter(w->amqp, &d->ev, WRITER_DEAD_EXCHANGE, reason, last_seq) != 0)
                goto broken;
            udc_counter_inc(w->m.dead_letters, (const char *[]){label}, 1);
            udc_log_info("dead-lettered", "message_id=%s reason=\"%s\"", d->ev.message_id, reason);
            published++;
        }
    }
    if (ev.count > 0) {
        char message_id[37];
        udc_uuid_v4(message_id);
        struct udc_amqp_message msg = {.body = ev.buf, .len = ev.len, .message_id = message_id};
        if (udc_amqp_publish(w->amqp, WRITER_EVENTS_EXCHANGE, WRITER_EVENTS_KEY, &msg, last_seq) !=
            0)
            goto broken;
        published++;
    }
    stored_event_free(&ev);
    return published;
broken:
    stored_event_free(&ev);
    return -1;
}

static void observe_lag(struct writer *w, size_t n)
{
    int64_t now_s = udc_wall_us() / 1000000;
    for (size_t i = 0; i < n; i++) {
        int64_t ts = w->batch.items[i].ev.timestamp;
        if (ts > 0 && now_s >= ts)
            udc_histogram_observe(w->m.lag_seconds, NULL, (double)(now_s - ts));
    }
}

/* How many deliveries from number next make one transaction: whole messages up to
 * batch_size pings (at least one). Larger transactions only hold more memory longer. */
static size_t flush_count(struct writer *w)
{
    size_t pings = 0, n = 0, limit = (size_t)w->cfg->writer.batch_size;
    for (uint64_t i = w->next; i < w->base + w->batch.count; i++, n++) {
        size_t more = delivery_storable(delivery_at(w, i));
        if (n > 0 && pings + more > limit)
            break;
        pings += more;
    }
    return n;
}

/* A new batch should start now (a lane being free). */
static int batch_due(struct writer *w, uint64_t now_ms)
{
    if (w->next >= w->base + w->batch.count)
        return 0;
    if (w->draining)
        return 1;
    if (w->batch.ping_count - w->sent_pings >= (size_t)w->cfg->writer.batch_size ||
        w->batch.count >= (size_t)udc_amqp_prefetch(w->amqp))
        return 1;
    return now_ms - delivery_at(w, w->next)->received_ms >= (uint64_t)w->cfg->writer.batch_wait_ms;
}

/* Sends the lane's statement, without waiting for it. */
static void send_lane(struct writer *w, struct store_lane *lane)
{
    char err[512];
    lane->started_us = udc_now_us();
    enum store_status st = ensure_database(w, lane) != 0
                               ? STORE_DB_DOWN
                               : store_send(lane->db, lane->items, lane->total, err, sizeof err);
    if (st == STORE_OK) {
        lane->running = 1;
        return;
    }
    if (udc_db_is_ok(lane->db) || udc_db_retry_in_ms(lane->db) == 0)
        udc_log_warn("batch not sent; will retry", "pings=%zu error=\"%s\"", lane->total,
                     udc_db_last_error(lane->db));
    udc_counter_inc(w->m.db_errors, (const char *[]){"unavailable"}, 1);
    atomic_store(&w->db_up, udc_db_is_ok(lane->db));
    w->db_failures++;
    lane->retry_at_ms = udc_now_ms() + RETRY_MS;
}

static void finish_lane(struct writer *w, struct store_lane *lane, enum store_status st,
                        const char *err);

/* Gives the lane the next batch of deliveries and sends it. */
static void start_lane(struct writer *w, struct store_lane *lane)
{
    size_t n = flush_count(w), total = 0;
    for (uint64_t i = w->next; i < w->next + n; i++)
        total += delivery_storable(delivery_at(w, i));
    lane->first = w->next;
    lane->deliveries = n;
    lane->total = total;
    lane->discard = 0;
    lane->retry_at_ms = 0;
    w->next += n;
    w->sent_pings += total;
    if (total == 0) { /* nothing to store (invalid messages only): done at once */
        finish_lane(w, lane, STORE_OK, "");
        return;
    }
    lane->items = malloc(total * sizeof *lane->items);
    lane->results = malloc(total * sizeof *lane->results);
    if (!lane->items || !lane->results) {
        give_up_connection(w, "out of memory");
        return;
    }
    size_t k = 0;
    for (uint64_t i = lane->first; i < lane->first + n; i++) {
        struct delivery *d = delivery_at(w, i);
        for (size_t j = 0; d->results && j < d->pings.count; j++)
            if (d->pings.valid[j])
                lane->items[k++] = d->pings.items[j];
    }
    send_lane(w, lane);
}

static int lane_idle(const struct store_lane *lane)
{
    return !lane->running && lane->deliveries == 0;
}

/* Idle lanes take new batches while batches are due; lanes whose statement failed send it
 * again when its time has come. */
static void start_lanes(struct writer *w)
{
    uint64_t now_ms = udc_now_ms();
    for (size_t i = 0; i < w->nlanes && atomic_load(&w->amqp_up); i++) {
        struct store_lane *lane = &w->lanes[i];
        if (lane->running)
            continue;
        if (lane->deliveries && now_ms >= lane->retry_at_ms && udc_db_retry_in_ms(lane->db) == 0)
            send_lane(w, lane);
        else if (lane_idle(lane) && batch_due(w, now_ms) && ensure_database(w, lane) == 0)
            start_lane(w, lane);
    }
}

/* The statement failed: the database refused the data (one message at a time then, so one
 * bad message cannot hold up the rest), deadlocked with another transaction (sent again at
 * once) or is unavailable (sent again later). 0 when the deliveries are now stored or
 * refused, -1 when the lane keeps them for a retry. */
static int recover_lane(struct writer *w, struct store_lane *lane, enum store_status st,
                        const char *err)
{
    if (st == STORE_REJECTED) {
        udc_log_warn("database refused a batch; storing its messages one by one", "error=\"%s\"",
                     err);
        udc_counter_inc(w->m.db_errors, (const char *[]){"refused"}, 1);
        int rc = 0;
        for (uint64_t i = lane->first; i < lane->first + lane->deliveries && rc == 0; i++)
            rc = store_one_delivery(w, lane, delivery_at(w, i));
        if (rc == 0)
            return 0;
        st = udc_db_is_ok(lane->db) ? STORE_CONFLICT : STORE_DB_DOWN;
    }
    if (st == STORE_CONFLICT) {
        udc_log_info("batch conflicted with another transaction; sending it again",
                     "pings=%zu error=\"%s\"", lane->total, err);
        udc_counter_inc(w->m.db_errors, (const char *[]){"conflict"}, 1);
        lane->retry_at_ms = udc_now_ms();
        return -1;
    }
    udc_log_warn("batch not stored; will retry", "pings=%zu error=\"%s\"", lane->total, err);
    udc_counter_inc(w->m.db_errors, (const char *[]){"unavailable"}, 1);
    atomic_store(&w->db_up, udc_db_is_ok(lane->db));
    w->db_failures++;
    lane->retry_at_ms = udc_now_ms() + RETRY_MS; /* or when the database is back */
    return -1;
}

static void take_results(struct writer *w, struct store_lane *lane)
{
    size_t k = 0;
    udc_histogram_observe(w->m.commit_seconds, NULL,
                          (double)(udc_now_us() - lane->started_us) / 1e6);
    udc_histogram_observe(w->m.batch_size, NULL, (double)lane->total);
    for (uint64_t i = lane->first; i < lane->first + lane->deliveries; i++) {
        struct delivery *d = delivery_at(w, i);
        for (size_t j = 0; d->results && j < d->pings.count; j++)
            if (d->pings.valid[j])
                d->results[j] = lane->results[k++];
    }
}

/* The lane's statement has finished with st: its batch is published, and acked once the
 * broker confirms its events and every earlier delivery's. Idle lanes get their next
 * statements before this batch's events are published, so the database works meanwhile. */
static void finish_lane(struct writer *w, struct store_lane *lane, enum store_status st,
                        const char *err)
{
    if (st == STORE_OK && lane->total)
        take_results(w, lane);
    else if (st != STORE_OK && recover_lane(w, lane, st, err) != 0)
        return;
    uint64_t first = lane->first;
    size_t n = lane->deliveries;
    lane_clear(lane);
    start_lanes(w);
    if (!udc_amqp_is_open(w->amqp))
        return; /* given up meanwhile: everything was dropped */

    uint64_t last_seq = 0;
    if (publish_outcomes(w, first, n, &last_seq) < 0) {
        give_up_connection(w, "publish failed");
        return;
    }
    if (ack_order_published(&w->acks, first, n, last_seq, udc_now_ms()) != 0)
        give_up_connection(w, "out of memory");
}

/* Reads the outcome of the lane's statement when it is there. */
static void poll_lane(struct writer *w, struct store_lane *lane)
{
    enum store_status st = STORE_OK;
    char err[512] = "";
    if (!lane->running)
        return;
    if (store_poll(lane->db, lane->items, lane->total, lane->results, &st, err, sizeof err) > 0)
        return;
    lane->running = 0;
    if (lane->discard) {
        lane->discard = 0;
        lane_clear(lane);
        return;
    }
    finish_lane(w, lane, st, err);
}

static void poll_lanes(struct writer *w)
{
    for (size_t i = 0; i < w->nlanes; i++)
        poll_lane(w, &w->lanes[i]);
}

/* Acks the deliveries at the front whose events, and every earlier delivery's, are all
 * confirmed. */
static void ack_confirmed(struct writer *w)
{
    size_t n = ack_order_confirmed(&w->acks, udc_amqp_confirmed_through(w->amqp));
    uint64_t oldest = ack_order_oldest_ms(&w->acks);
    if (oldest && udc_now_ms() - oldest > (uint64_t)w->cfg->amqp.confirm_timeout_ms) {
        give_up_connection(w, "confirm timeout");
        return;
    }
    if (n == 0)
        return;
    if (udc_amqp_ack(w->amqp, w->batch.items[n - 1].ev.delivery_tag, 1) != 0) {
        give_up_connection(w, "ack failed");
        return;
    }
    observe_lag(w, n);
    for (size_t i = 0; i < n; i++)
        w->sent_pings -= delivery_storable(&w->batch.items[i]);
    batch_drop_front(&w->batch, n);
    w->base += n;
    if (w->batch.count == 0 && udc_now_ms() - w->trimmed_ms > 1000) {
        malloc_trim(0); /* a burst of large messages is over: give the pages back */
        w->trimmed_ms = udc_now_ms();
    }
}

/* Lowers the prefetch when messages carry many pings, so that memory follows the pings in
 * hand; raises it back (up to writer.prefetch) for small ones. basic.qos is a round trip to
 * the broker: after the first sizing it is re-sent only when the count is off by more than a
 * factor of 2, and at most twice a second unless a sharp rise in message size makes it
 * urgent. */
static void adapt_prefetch(struct writer *w, size_t pings)
{
    double avg = w->pings_per_message;
    w->pings_per_message = avg <= 0 ? (double)pings : avg + ((double)pings - avg) / 16;
    double want = wanted_prefetch(w);
    double now = udc_amqp_prefetch(w->amqp);
    uint64_t now_ms = udc_now_ms();
    int urgent = want < now / 4;
    if (w->prefetch_sized &&
        (!(want < now / 2 || want > now * 2) || (!urgent && now_ms - w->prefetch_set_ms < 500)))
        return;
    if ((uint16_t)want == (uint16_t)now)
        return;
    w->prefetch_sized = 1;
    w->prefetch_set_ms = now_ms;
    udc_log_debug("prefetch", "messages=%d pings_per_message=%.1f", (int)want,
                  w->pings_per_message);
    if (udc_amqp_set_prefetch(w->amqp, (uint16_t)want) != 0)
        give_up_connection(w, "basic.qos failed");
}

static void take_delivery(struct writer *w, struct udc_amqp_event *ev)
{
    if (batch_add(&w->batch, ev, udc_wall_us(), udc_now_ms()) != 0) {
        give_up_connection(w, "out of memory");
        return;
    }
    const struct delivery *d = &w->batch.items[w->batch.count - 1];
    adapt_prefetch(w, d->pings.count ? d->pings.count : 1);
}

/* Handles one broker event. -1 when the connection is gone (everything dropped). */
static int handle_event(struct writer *w, struct udc_amqp_event *ev)
{
    int rc = 0;
    switch (ev->type) {
    case UDC_AMQP_DELIVERY:
        take_delivery(w, ev);
        rc = atomic_load(&w->amqp_up) ? 0 : -1;
        break;
    case UDC_AMQP_CONFIRM_ACK: /* counted by the client: udc_amqp_confirmed_through() */
    case UDC_AMQP_TIMEOUT:
        break;
    case UDC_AMQP_CONFIRM_NACK:
    case UDC_AMQP_RETURN:
        /* The broker did not take an event: start over from the redelivery, which
         * re-publishes everything (consumers are idempotent). */
        give_up_connection(w, "publish refused by the broker");
        rc = -1;
        break;
    case UDC_AMQP_CLOSED:
        atomic_store(&w->amqp_up, 0);
        drop_batch(w, ev->reason);
        rc = -1;
        break;
    }
    udc_amqp_event_release(ev);
    return rc;
}

static int any_running(const struct writer *w)
{
    for (size_t i = 0; i < w->nlanes; i++)
        if (w->lanes[i].running)
            return 1;
    return 0;
}

/* Sleeps until the broker, the database (a statement in flight) or a signal has news. */
static void wait_for_news(struct writer *w, int timeout_ms)
{
    struct pollfd p[2 + MAX_LANES] = {{.fd = udc_service_wake_fd(), .events = POLLIN},
                                      {.fd = udc_amqp_fd(w->amqp), .events = POLLIN}};
    for (size_t i = 0; i < w->nlanes; i++)
        p[2 + i] = (struct pollfd){.fd = w->lanes[i].running ? udc_db_socket(w->lanes[i].db) : -1,
                                   .events = POLLIN};
    poll(p, 2 + w->nlanes, timeout_ms);
    udc_service_drain_wake_fd();
}

static int poll_timeout_ms(struct writer *w)
{
    if (any_running(w) || ack_order_pending(&w->acks))
        return 50; /* also the confirm timeout's clock */
    uint64_t now = udc_now_ms(), wake = now + 200;
    int idle = 0;
    for (size_t i = 0; i < w->nlanes; i++) {
        const struct store_lane *lane = &w->lanes[i];
        uint32_t db_in = udc_db_retry_in_ms(lane->db);
        if (lane->deliveries) { /* waiting to send its statement again */
            uint64_t at = lane->retry_at_ms > now + db_in ? lane->retry_at_ms : now + db_in;
            wake = at < wake ? at : wake;
        }
        idle |= lane_idle(lane) && db_in == 0;
    }
    if (idle && w->next < w->base + w->batch.count) {
        uint64_t at = delivery_at(w, w->next)->received_ms + (uint64_t)w->cfg->writer.batch_wait_ms;
        wake = at < wake ? at : wake;
    } else if (w->next < w->base + w->batch.count && now + 100 < wake) {
        wake = now + 100; /* the database is away: look again soon */
    }
    return wake <= now ? 0 : (int)(wake - now);
}

/* Reads every event already there. -1 when the connection went away. */
static int drain_broker(struct writer *w)
{
    struct udc_amqp_event ev;
    for (int i = 0; i < 100000; i++) {
        if (udc_amqp_poll(w->amqp, 0, &ev) == UDC_AMQP_TIMEOUT)
            return 0;
        if (handle_event(w, &ev) != 0)
            return -1;
    }
    return 0;
}

static void step(struct writer *w)
{
    poll_lanes(w);
    if (ensure_broker(w) != 0) {
        wait_for_news(w, 100);
        return;
    }
    if (drain_broker(w) != 0)
        return;
    poll_lanes(w);
    ack_confirmed(w);
    udc_gauge_set(w->m.held, NULL, (double)w->batch.count);
    if (!atomic_load(&w->amqp_up))
        return;
    start_lanes(w);
    int timeout = poll_timeout_ms(w);
    if (timeout > 0)
        wait_for_news(w, timeout);
}

/* READY=1 the first time both connections are up; STATUS= on every change. */
static void report_state(struct writer *w, int *announced)
{
    int state = atomic_load(&w->amqp_up) * 2 + atomic_load(&w->db_up);
    if (state == w->reported_state)
        return;
    w->reported_state = state;
    if (state == 3 && !*announced) {
        udc_service_ready();
        *announced = 1;
    }
    static const char *const text[] = {"waiting for the broker and the database",
                                       "waiting for the broker", "waiting for the database",
                                       "consuming " WRITER_QUEUE};
    udc_service_status("%s", text[state]);
}

/* After SIGTERM: no new deliveries; store, publish and ack what is in hand while both
 * connections hold, within the confirm timeout (a kill loses nothing either way). */
static void drain(struct writer *w)
{
    w->draining = 1;
    uint64_t deadline = udc_now_ms() + (uint64_t)w->cfg->amqp.confirm_timeout_ms;
    udc_log_info("draining", "deliveries=%zu", w->batch.count);
    while (w->batch.count && atomic_load(&w->amqp_up) && udc_now_ms() < deadline) {
        uint64_t failures = w->db_failures;
        step(w);
        if (w->db_failures != failures || !atomic_load(&w->db_up))
            break; /* the database failed: leave the rest to redelivery */
    }
    while (any_running(w)) /* abandoned statements: read their end before closing */
        poll_lanes(w), wait_for_news(w, 50);
}

int writer_run(struct writer *w)
{
    int reachable = 1;
    for (size_t i = 0; i < w->nlanes; i++)
        reachable &= ensure_database(w, &w->lanes[i]) == 0;
    if (!reachable)
        udc_log_warn("database not reachable yet; retrying", "%s", "");
    int announced = 0;
    while (!udc_service_should_stop()) {
        udc_daemon_poll_reload(w->daemon, NULL);
        step(w);
        report_state(w, &announced);
        /* The loop is alive: an outage of the broker or the database is reported by /ready
         * and STATUS=, and must not make systemd restart us in a loop. */
        udc_service_watchdog(1);
    }
    udc_service_stopping();
    udc_amqp_cancel(w->amqp);
    if (w->batch.count && atomic_load(&w->amqp_up))
        drain(w);
    udc_amqp_close(w->amqp);
    return 0;
}
