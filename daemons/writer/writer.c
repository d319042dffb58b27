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

static void job_free(struct store_job *job)
{
    free(job->items);
    free(job->results);
    job->items = NULL;
    job->results = NULL;
    job->total = 0;
    job->deliveries = 0;
}

void writer_free(struct writer *w)
{
    batch_free(&w->batch);
    job_free(&w->job);
    free(w->groups);
    w->groups = NULL;
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
 * again, so forget them without acking. A statement in flight still finishes; its outcome
 * is ignored. */
static void drop_batch(struct writer *w, const char *why)
{
    if (w->batch.count)
        udc_log_warn("batch left to redelivery", "deliveries=%zu reason=\"%s\"", w->batch.count,
                     why);
    batch_clear(&w->batch);
    if (w->job.running)
        w->job.discard = 1;
    else
        job_free(&w->job);
    w->job.deliveries = 0;
    w->ngroups = 0;
    w->held = 0;
    w->sent_pings = 0;
    w->consuming = 0;
}

static void give_up_connection(struct writer *w, const char *why)
{
    udc_amqp_close(w->amqp);
    atomic_store(&w->amqp_up, 0);
    drop_batch(w, why);
}

/* Until the first messages tell their size, a prefetch that large messages cannot turn into
 * a burst of memory; adapt_prefetch() raises it at once for single pings. */
static uint16_t initial_prefetch(const struct writer *w)
{
    int prefetch = w->cfg->writer.prefetch;
    if (w->pings_per_message <= 0 && prefetch > 64)
        prefetch = 64;
    return (uint16_t)prefetch;
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

static int ensure_database(struct writer *w)
{
    int ok = udc_db_ensure(w->db) == 0;
    atomic_store(&w->db_up, ok);
    return ok ? 0 : -1;
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

/* Publishes location.stored for the stored pings and the dead letters of deliveries
 * first..first+n-1. Returns the number of publishes, -1 when the connection broke. */
static int publish_outcomes(struct writer *w, size_t first, size_t n, uint64_t *last_seq)
{
    int published = 0;
    struct stored_event ev;
    stored_event_init(&ev);
    for (size_t i = first; i < first + n; i++) {
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

static void observe_lag(struct writer *w, size_t n)
{
    int64_t now_s = udc_wall_us() / 1000000;
    for (size_t i = 0; i < n; i++) {
        int64_t ts = w->batch.items[i].ev.timestamp;
        if (ts > 0 && now_s >= ts)
            udc_histogram_observe(w->m.lag_seconds, NULL, (double)(now_s - ts));
    }
}

/* Deliveries not yet in a published group or the statement in flight start here. */
static size_t first_unsent(const struct writer *w)
{
    return w->held + w->job.deliveries;
}

/* How many deliveries from first_unsent make one transaction: whole messages up to
 * batch_size pings (at least one). Larger transactions only hold more memory longer. */
static size_t flush_count(const struct writer *w)
{
    size_t pings = 0, n = 0, limit = (size_t)w->cfg->writer.batch_size;
    for (size_t i = first_unsent(w); i < w->batch.count; i++, n++) {
        size_t more = delivery_storable(&w->batch.items[i]);
        if (n > 0 && pings + more > limit)
            break;
        pings += more;
    }
    return n;
}

static int batch_due(const struct writer *w, uint64_t now_ms)
{
    size_t first = first_unsent(w);
    if (first >= w->batch.count || w->job.running || now_ms < w->retry_at_ms)
        return 0;
    if (w->draining)
        return 1;
    if (w->batch.ping_count - w->sent_pings >= (size_t)w->cfg->writer.batch_size ||
        w->batch.count >= (size_t)udc_amqp_prefetch(w->amqp))
        return 1;
    return now_ms - w->batch.items[first].received_ms >= (uint64_t)w->cfg->writer.batch_wait_ms;
}

/* Sends the next transaction's statement, without waiting for it. */
static void start_job(struct writer *w)
{
    struct store_job *job = &w->job;
    size_t first = first_unsent(w), n = flush_count(w), total = 0;
    if (n == 0 || ensure_database(w) != 0)
        return;
    for (size_t i = first; i < first + n; i++)
        total += delivery_storable(&w->batch.items[i]);
    job->deliveries = n;
    job->total = total;
    job->discard = 0;
    if (total == 0)
        return; /* nothing to store (invalid messages only): "done" at once */
    job->items = malloc(total * sizeof *job->items);
    job->results = malloc(total * sizeof *job->results);
    if (!job->items || !job->results) {
        job_free(job);
        give_up_connection(w, "out of memory");
        return;
    }
    size_t k = 0;
    for (size_t i = first; i < first + n; i++) {
        struct delivery *d = &w->batch.items[i];
        for (size_t j = 0; d->results && j < d->pings.count; j++)
            if (d->pings.valid[j])
                job->items[k++] = d->pings.items[j];
    }
    char err[512];
    job->started_us = udc_now_us();
    enum store_status st = store_send(w->db, job->items, total, err, sizeof err);
    if (st != STORE_OK) {
        udc_log_warn("batch not sent; will retry", "pings=%zu error=\"%s\"", total, err);
        udc_counter_inc(w->m.db_errors, (const char *[]){"unavailable"}, 1);
        atomic_store(&w->db_up, udc_db_is_ok(w->db));
        job_free(job);
        w->retry_at_ms = udc_now_ms() + 250;
        return;
    }
    job->running = 1;
    w->sent_pings += total;
}

/* The statement failed: the database refused the data (one message at a time then, so one
 * bad message cannot hold up the rest) or is unavailable (everything kept for a retry).
 * 0 when the deliveries are now stored or refused, -1 when they wait for the retry. */
static int recover_job(struct writer *w, enum store_status st, const char *err)
{
    size_t first = w->held;
    if (st == STORE_REJECTED) {
        udc_log_warn("database refused a batch; storing its messages one by one", "error=\"%s\"",
                     err);
        udc_counter_inc(w->m.db_errors, (const char *[]){"refused"}, 1);
        int rc = 0;
        for (size_t i = first; i < first + w->job.deliveries && rc == 0; i++)
            rc = store_one_delivery(w, &w->batch.items[i]);
        if (rc == 0)
            return 0;
    } else {
        udc_log_warn("batch not stored; will retry", "pings=%zu error=\"%s\"", w->job.total, err);
        udc_counter_inc(w->m.db_errors, (const char *[]){"unavailable"}, 1);
    }
    atomic_store(&w->db_up, udc_db_is_ok(w->db));
    w->retry_at_ms = udc_now_ms() + 250; /* kept: retried shortly, or when the db is back */
    return -1;
}

static void take_results(struct writer *w)
{
    struct store_job *job = &w->job;
    size_t k = 0;
    udc_histogram_observe(w->m.commit_seconds, NULL,
                          (double)(udc_now_us() - job->started_us) / 1e6);
    udc_histogram_observe(w->m.batch_size, NULL, (double)job->total);
    for (size_t i = w->held; i < w->held + job->deliveries; i++) {
        struct delivery *d = &w->batch.items[i];
        for (size_t j = 0; d->results && j < d->pings.count; j++)
            if (d->pings.valid[j])
                d->results[j] = job->results[k++];
    }
}

/* The statement in flight has finished with st: the batch becomes a published group. The
 * next statement is sent before this batch's events, so the database works meanwhile. */
static void finish_job(struct writer *w, enum store_status st, const char *err)
{
    struct store_job *job = &w->job;
    w->sent_pings -= job->total;
    if (st == STORE_OK)
        take_results(w);
    else if (recover_job(w, st, err) != 0) {
        job_free(job);
        return;
    }
    size_t first = w->held, n = job->deliveries, pings = 0;
    job_free(job);
    for (size_t i = first; i < first + n; i++)
        pings += delivery_storable(&w->batch.items[i]);
    w->held += n;
    w->sent_pings += pings;
    if (batch_due(w, udc_now_ms()))
        start_job(w);
    if (!udc_amqp_is_open(w->amqp))
        return; /* given up meanwhile: everything was dropped */

    uint64_t last_seq = 0;
    if (publish_outcomes(w, first, n, &last_seq) < 0) {
        give_up_connection(w, "publish failed");
        return;
    }
    if (w->ngroups == w->groups_cap) {
        size_t cap = w->groups_cap ? w->groups_cap * 2 : 16;
        struct published_group *grown = realloc(w->groups, cap * sizeof *grown);
        if (!grown) {
            give_up_connection(w, "out of memory");
            return;
        }
        w->groups = grown;
        w->groups_cap = cap;
    }
    w->groups[w->ngroups++] = (struct published_group){n, pings, last_seq, udc_now_ms()};
}

/* Reads the outcome of the statement in flight when it is there. */
static void poll_job(struct writer *w)
{
    struct store_job *job = &w->job;
    enum store_status st = STORE_OK;
    char err[512] = "";
    if (job->running) {
        if (store_poll(w->db, job->items, job->total, job->results, &st, err, sizeof err) > 0)
            return;
        job->running = 0;
        if (job->discard) {
            job_free(job);
            return;
        }
    } else if (job->deliveries == 0) {
        return; /* no job */
    }
    finish_job(w, st, err);
}

/* Acks the deliveries of the leading groups whose events are all confirmed. */
static void ack_confirmed(struct writer *w)
{
    uint64_t through = udc_amqp_confirmed_through(w->amqp);
    size_t g = 0, n = 0, pings = 0;
    while (g < w->ngroups && w->groups[g].last_seq <= through) {
        n += w->groups[g].deliveries;
        pings += w->groups[g].pings;
        g++;
    }
    if (g < w->ngroups &&
        udc_now_ms() - w->groups[g].published_ms > (uint64_t)w->cfg->amqp.confirm_timeout_ms) {
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
    batch_drop_front(&w->batch, n);
    w->held -= n;
    w->sent_pings -= pings;
    w->ngroups -= g;
    memmove(w->groups, w->groups + g, w->ngroups * sizeof *w->groups);
    if (w->batch.count == 0 && udc_now_ms() - w->trimmed_ms > 1000) {
        malloc_trim(0); /* a burst of large messages is over: give the pages back */
        w->trimmed_ms = udc_now_ms();
    }
}

/* Lowers the prefetch when messages carry many pings, so that memory follows the pings in
 * hand; raises it back (up to writer.prefetch) for small ones. basic.qos is a round trip to
 * the broker: it is re-sent only when the count is off by more than a factor of 2, and at
 * most twice a second unless a sharp rise in message size makes it urgent. */
static void adapt_prefetch(struct writer *w, size_t pings)
{
    double avg = w->pings_per_message;
    avg = avg <= 0 ? (double)pings : avg + ((double)pings - avg) / 16;
    w->pings_per_message = avg;
    double want = WRITER_PINGS_IN_HAND * (double)w->cfg->writer.batch_size / (avg < 1 ? 1 : avg);
    if (want > w->cfg->writer.prefetch)
        want = w->cfg->writer.prefetch;
    if (want < 1)
        want = 1;
    double now = udc_amqp_prefetch(w->amqp);
    uint64_t now_ms = udc_now_ms();
    int urgent = want < now / 4;
    if (!(want < now / 2 || want > now * 2) || (!urgent && now_ms - w->prefetch_set_ms < 500))
        return;
    w->prefetch_set_ms = now_ms;
    udc_log_debug("prefetch", "messages=%d pings_per_message=%.1f", (int)want, avg);
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

/* Sleeps until the broker, the database (statement in flight) or a signal has news. */
static void wait_for_news(struct writer *w, int timeout_ms)
{
    struct pollfd p[3] = {{.fd = udc_service_wake_fd(), .events = POLLIN},
                          {.fd = udc_amqp_fd(w->amqp), .events = POLLIN},
                          {.fd = w->job.running ? udc_db_socket(w->db) : -1, .events = POLLIN}};
    poll(p, 3, timeout_ms);
    udc_service_drain_wake_fd();
}

static int poll_timeout_ms(const struct writer *w)
{
    if (w->job.running || w->ngroups)
        return 50; /* also the confirm timeout's clock */
    size_t first = first_unsent(w);
    if (first >= w->batch.count)
        return 200;
    uint64_t now = udc_now_ms();
    if (now < w->retry_at_ms)
        return (int)(w->retry_at_ms - now);
    uint64_t age = now - w->batch.items[first].received_ms;
    uint64_t wait = (uint64_t)w->cfg->writer.batch_wait_ms;
    return age >= wait ? 0 : (int)(wait - age);
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
    poll_job(w);
    if (ensure_broker(w) != 0) {
        wait_for_news(w, 100);
        return;
    }
    if (drain_broker(w) != 0)
        return;
    poll_job(w);
    ack_confirmed(w);
    if (!atomic_load(&w->amqp_up))
        return;
    if (first_unsent(w) < w->batch.count && !atomic_load(&w->db_up) && ensure_database(w) != 0) {
        wait_for_news(w, 100); /* the broker's heartbeats go on meanwhile */
        return;
    }
    if (batch_due(w, udc_now_ms()))
        start_job(w);
    if (!w->job.running && w->job.deliveries)
        return; /* a job with nothing to store is finished at once by the next poll_job */
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
        uint64_t retry_at = w->retry_at_ms;
        step(w);
        if (w->retry_at_ms != retry_at || !atomic_load(&w->db_up))
            break; /* the database failed: leave the rest to redelivery */
    }
    while (w->job.running) /* an abandoned statement: read its end before closing */
        poll_job(w), wait_for_news(w, 50);
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
    if (w->batch.count && atomic_load(&w->amqp_up))
        drain(w);
    udc_amqp_close(w->amqp);
    return 0;
}
