/* writer.c — see writer.h. */
#include "writer.h"

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
}

int writer_init(struct writer *w, struct udc_daemon *daemon)
{
    const struct udc_config *cfg = &daemon->cfg;
    memset(w, 0, sizeof *w);
    w->daemon = daemon;
    w->cfg = cfg;
    w->reported_state = -1;
    w->amqp = udc_amqp_new(udc_config_amqp_url(cfg, "writer"), "udc-writer", cfg->amqp.heartbeat_s);
    w->db = udc_db_new(cfg->db.url, store_statements, store_statement_count,
                       cfg->db.connect_timeout_s, cfg->db.statement_timeout_ms);
    if (!w->amqp || !w->db) {
        writer_free(w);
        return -1;
    }
    udc_amqp_set_reconnect_max_ms(w->amqp, (uint32_t)cfg->amqp.reconnect_max_ms);
    metrics_init(&w->m);
    return 0;
}

void writer_free(struct writer *w)
{
    batch_free(&w->batch);
    udc_amqp_free(w->amqp);
    udc_db_free(w->db);
    w->amqp = NULL;
    w->db = NULL;
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

/* The broker connection is gone (or we give it up): every delivery in hand will come
 * again, so forget them without acking. */
static void drop_batch(struct writer *w, const char *why)
{
    if (w->batch.count)
        udc_log_warn("batch left to redelivery", "deliveries=%zu reason=\"%s\"", w->batch.count,
                     why);
    batch_clear(&w->batch);
    w->consuming = 0;
}

static void give_up_connection(struct writer *w, const char *why)
{
    udc_amqp_close(w->amqp);
    atomic_store(&w->amqp_up, 0);
    drop_batch(w, why);
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
        if (udc_amqp_consume(w->amqp, WRITER_QUEUE, (uint16_t)w->cfg->writer.prefetch) != 0) {
            give_up_connection(w, "consume failed");
            return -1;
        }
        w->consuming = 1;
    }
    atomic_store(&w->amqp_up, 1);
    return 0;
}

static int ensure_database(struct writer *w)
{
    int ok = udc_db_ensure(w->db) == 0;
    atomic_store(&w->db_up, ok);
    return ok ? 0 : -1;
}

static int batch_due(const struct writer *w, uint64_t now_ms)
{
    const struct batch *b = &w->batch;
    if (b->count == 0 || now_ms < w->retry_at_ms)
        return 0;
    if (b->ping_count >= (size_t)w->cfg->writer.batch_size ||
        b->count >= (size_t)w->cfg->writer.prefetch)
        return 1;
    return now_ms - b->items[0].received_ms >= (uint64_t)w->cfg->writer.batch_wait_ms;
}

static void take_delivery(struct writer *w, struct udc_amqp_event *ev)
{
    if (batch_add(&w->batch, ev, udc_wall_us(), udc_now_ms()) != 0)
        give_up_connection(w, "out of memory");
}

/* Handles one broker event while waiting; confirms are counted into *acked / *failed. */
static int handle_event(struct writer *w, struct udc_amqp_event *ev, uint64_t *confirmed_upto,
                        int *failed)
{
    switch (ev->type) {
    case UDC_AMQP_DELIVERY:
        take_delivery(w, ev);
        break;
    case UDC_AMQP_CONFIRM_ACK:
        if (ev->seq > *confirmed_upto)
            *confirmed_upto = ev->seq; /* acks of one channel cover earlier seqs in time */
        break;
    case UDC_AMQP_CONFIRM_NACK:
    case UDC_AMQP_RETURN:
        *failed = 1;
        break;
    case UDC_AMQP_CLOSED:
        atomic_store(&w->amqp_up, 0);
        drop_batch(w, ev->reason);
        udc_amqp_event_release(ev);
        return -1;
    case UDC_AMQP_TIMEOUT:
        break;
    }
    udc_amqp_event_release(ev);
    return 0;
}

/* One delivery in its own transaction (after the database refused a whole batch): a refusal
 * now is this message's own, and it is dead-lettered with the database's reason. */
static int store_one_delivery(struct writer *w, struct delivery *d)
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
    enum store_status st = store_batch(w->db, items, total, results, err, sizeof err);
    if (st == STORE_DB_DOWN)
        goto out;
    if (st == STORE_REJECTED) {
        snprintf(d->reason, sizeof d->reason, "refused by the database: %s", err);
        free(d->results);
        d->results = NULL; /* nothing of it is stored */
        w->batch.ping_count -= total;
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

/* Stores the valid pings of the first n deliveries in one transaction; falls back to one
 * transaction per delivery when the database refuses the batch, so one bad message cannot
 * hold up the rest. -1: the database is unavailable, keep everything for later. */
static int store_deliveries(struct writer *w, size_t n)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += delivery_storable(&w->batch.items[i]);
    if (total == 0)
        return 0;

    struct udc_location *items = malloc(total * sizeof *items);
    struct store_result *results = malloc(total * sizeof *results);
    int rc = -1;
    if (!items || !results)
        goto out;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        struct delivery *d = &w->batch.items[i];
        for (size_t j = 0; d->results && j < d->pings.count; j++)
            if (d->pings.valid[j])
                items[k++] = d->pings.items[j];
    }

    char err[512];
    uint64_t started = udc_now_us();
    enum store_status st = store_batch(w->db, items, total, results, err, sizeof err);
    if (st == STORE_REJECTED) {
        udc_log_warn("database refused a batch; storing its messages one by one", "error=\"%s\"",
                     err);
        udc_counter_inc(w->m.db_errors, (const char *[]){"refused"}, 1);
        rc = 0;
        for (size_t i = 0; i < n && rc == 0; i++)
            rc = store_one_delivery(w, &w->batch.items[i]);
        goto out;
    }
    if (st == STORE_DB_DOWN) {
        udc_log_warn("batch not stored; will retry", "pings=%zu error=\"%s\"", total, err);
        udc_counter_inc(w->m.db_errors, (const char *[]){"unavailable"}, 1);
        atomic_store(&w->db_up, udc_db_is_ok(w->db));
        goto out;
    }
    udc_histogram_observe(w->m.commit_seconds, NULL, (double)(udc_now_us() - started) / 1e6);
    udc_histogram_observe(w->m.batch_size, NULL, (double)total);
    k = 0;
    for (size_t i = 0; i < n; i++) {
        struct delivery *d = &w->batch.items[i];
        for (size_t j = 0; d->results && j < d->pings.count; j++)
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

/* Publishes location.stored for the stored pings and the dead letters of the first n
 * deliveries. Returns the number of publishes, -1 when the connection broke. */
static int publish_outcomes(struct writer *w, size_t n, uint64_t *last_seq)
{
    int published = 0;
    struct stored_event ev;
    stored_event_init(&ev);
    for (size_t i = 0; i < n; i++) {
        struct delivery *d = &w->batch.items[i];
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

/* Waits until every publish up to last_seq is confirmed. Deliveries that arrive meanwhile
 * join the batch behind the ones being flushed. 0 confirmed; -1 failed (connection given up
 * or dropped: everything in hand will be redelivered). */
static int await_confirms(struct writer *w, uint64_t last_seq)
{
    uint64_t confirmed = 0;
    int failed = 0;
    uint64_t deadline = udc_now_ms() + (uint64_t)w->cfg->amqp.confirm_timeout_ms;
    while (confirmed < last_seq && !failed) {
        if (udc_now_ms() > deadline) {
            give_up_connection(w, "confirm timeout");
            return -1;
        }
        struct udc_amqp_event ev;
        udc_amqp_poll(w->amqp, 100, &ev);
        if (handle_event(w, &ev, &confirmed, &failed) != 0)
            return -1;
    }
    if (failed) {
        /* A nack or return means the broker did not take an event: start over from the
         * redelivery, which re-publishes everything (consumers are idempotent). */
        give_up_connection(w, "publish refused by the broker");
        return -1;
    }
    return 0;
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

/* How many leading deliveries make one transaction: whole messages up to batch_size pings
 * (at least one). While the writer stores, the broker keeps delivering up to the prefetch;
 * storing all of that at once would make transactions of up to prefetch × pings per message
 * rows (200,000 with 100-ping messages) and hold every one of them until the commit. */
static size_t flush_count(const struct writer *w)
{
    size_t pings = 0, n = 0, limit = (size_t)w->cfg->writer.batch_size;
    while (n < w->batch.count) {
        size_t more = delivery_storable(&w->batch.items[n]);
        if (n > 0 && pings + more > limit)
            break;
        pings += more;
        n++;
    }
    return n;
}

/* Store, publish, confirm, ack — in that order — for the first deliveries in hand. */
static void flush(struct writer *w)
{
    size_t n = flush_count(w);
    if (n == 0 || ensure_database(w) != 0)
        return;
    if (store_deliveries(w, n) != 0) {
        w->retry_at_ms = udc_now_ms() + 250; /* kept: retried shortly, or when the db is back */
        return;
    }
    uint64_t last_seq = 0;
    int published = publish_outcomes(w, n, &last_seq);
    if (published < 0) {
        give_up_connection(w, "publish failed");
        return;
    }
    if (published > 0 && await_confirms(w, last_seq) != 0)
        return;
    uint64_t last_tag = w->batch.items[n - 1].ev.delivery_tag;
    if (udc_amqp_ack(w->amqp, last_tag, 1) != 0) {
        give_up_connection(w, "ack failed");
        return;
    }
    observe_lag(w, n);
    batch_drop_front(&w->batch, n);
}

static void wait_a_little(int ms)
{
    struct pollfd p = {.fd = udc_service_wake_fd(), .events = POLLIN};
    poll(&p, 1, ms);
    udc_service_drain_wake_fd();
}

static int poll_timeout_ms(const struct writer *w)
{
    if (w->batch.count == 0)
        return 200;
    uint64_t age = udc_now_ms() - w->batch.items[0].received_ms;
    uint64_t wait = (uint64_t)w->cfg->writer.batch_wait_ms;
    return age >= wait ? 0 : (int)(wait - age);
}

static void step(struct writer *w)
{
    if (ensure_broker(w) != 0) {
        wait_a_little(100);
        return;
    }
    if (w->batch.count > 0 && !atomic_load(&w->db_up) && ensure_database(w) != 0) {
        /* Keep the broker connection alive (heartbeats) while the database is away. */
        struct udc_amqp_event ev;
        uint64_t c = 0;
        int f = 0;
        udc_amqp_poll(w->amqp, 100, &ev);
        handle_event(w, &ev, &c, &f);
        return;
    }
    struct udc_amqp_event ev;
    uint64_t confirmed = 0;
    int failed = 0;
    udc_amqp_poll(w->amqp, poll_timeout_ms(w), &ev);
    if (handle_event(w, &ev, &confirmed, &failed) != 0)
        return;
    /* Drain what is already buffered before deciding, so batches fill at full speed. */
    while (!batch_due(w, udc_now_ms())) {
        udc_amqp_poll(w->amqp, 0, &ev);
        if (ev.type == UDC_AMQP_TIMEOUT)
            break;
        if (handle_event(w, &ev, &confirmed, &failed) != 0)
            return;
    }
    if (batch_due(w, udc_now_ms()))
        flush(w);
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

int writer_run(struct writer *w)
{
    if (ensure_database(w) != 0)
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
    if (w->batch.count && atomic_load(&w->amqp_up)) {
        udc_log_info("draining", "deliveries=%zu", w->batch.count);
        flush(w);
    }
    udc_amqp_close(w->amqp);
    return 0;
}
