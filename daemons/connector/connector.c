/* connector.c — see connector.h. */
#include "connector.h"

#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backoff.h"
#include "log.h"
#include "pairs.h"
#include "service.h"

int connector_init(struct connector *c, struct udc_daemon *daemon)
{
    const struct udc_config *cfg = &daemon->cfg;
    static const double bounds[] = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10};
    memset(c, 0, sizeof *c);
    c->daemon = daemon;
    c->cfg = cfg;
    c->reported_state = -1;
    c->amqp =
        udc_amqp_new(udc_config_amqp_url(cfg, "connector"), "udc-connector", cfg->amqp.heartbeat_s);
    c->db = udc_db_new(cfg->db.url, pairs_statements, pairs_statement_count,
                       cfg->db.connect_timeout_s, cfg->db.statement_timeout_ms);
    if (!c->amqp || !c->db ||
        udc_db_set_setup_sql(c->db, pairs_session_setup, pairs_session_setup_count) != 0) {
        connector_free(c);
        return -1;
    }
    udc_amqp_set_reconnect_max_ms(c->amqp, (uint32_t)cfg->amqp.reconnect_max_ms);
    struct udc_metrics *reg = udc_metrics_default();
    c->pairs_total = udc_counter_new(reg, "udc_connector_pairs_total",
                                     "Connection rows stored (both directions)", 0, NULL);
    c->rows_total =
        udc_counter_new(reg, "udc_connector_locations_total", "Stored locations paired", 0, NULL);
    c->dead_total = udc_counter_new(reg, "udc_connector_dead_letters_total",
                                    "Events that were not location.stored events", 0, NULL);
    c->batch_seconds = udc_histogram_new(reg, "udc_connector_batch_seconds",
                                         "Time to pair one batch (transaction)", 0, NULL,
                                         sizeof bounds / sizeof bounds[0], bounds);
    return 0;
}

static void release_held(struct connector *c)
{
    for (size_t i = 0; i < c->held_count; i++)
        udc_amqp_event_release(&c->held[i]);
    c->held_count = 0;
    c->id_count = 0;
}

void connector_free(struct connector *c)
{
    release_held(c);
    free(c->held);
    free(c->ids);
    udc_amqp_free(c->amqp);
    udc_db_free(c->db);
    c->held = NULL;
    c->ids = NULL;
    c->amqp = NULL;
    c->db = NULL;
}

int connector_ready(struct connector *c, char *reason, size_t len)
{
    if (!atomic_load(&c->amqp_up))
        snprintf(reason, len, "broker connection down");
    else if (!atomic_load(&c->db_up))
        snprintf(reason, len, "database connection down");
    else
        return 1;
    return 0;
}

static void give_up_connection(struct connector *c, const char *why)
{
    if (c->held_count)
        udc_log_warn("events left to redelivery", "deliveries=%zu reason=\"%s\"", c->held_count,
                     why);
    udc_amqp_close(c->amqp);
    atomic_store(&c->amqp_up, 0);
    release_held(c);
    c->consuming = 0;
}

static int ensure_broker(struct connector *c)
{
    if (udc_amqp_ensure(c->amqp) != 0) {
        atomic_store(&c->amqp_up, 0);
        release_held(c);
        c->consuming = 0;
        return -1;
    }
    if (!c->consuming) {
        char err[256];
        if (udc_amqp_check_queue(c->amqp, CONNECTOR_QUEUE, NULL, NULL, err, sizeof err) != 0 ||
            udc_amqp_consume(c->amqp, CONNECTOR_QUEUE, (uint16_t)c->cfg->connector.prefetch) != 0) {
            udc_log_error("cannot consume; load schema/rabbitmq/definitions.json",
                          "queue=%s error=\"%s\"", CONNECTOR_QUEUE, err);
            give_up_connection(c, "consume failed");
            return -1;
        }
        c->consuming = 1;
    }
    atomic_store(&c->amqp_up, 1);
    return 0;
}

/* Waits for the confirm of one publish (a dead letter). 0 when acked. */
static int await_confirm(struct connector *c, uint64_t seq)
{
    uint64_t deadline = udc_now_ms() + (uint64_t)c->cfg->amqp.confirm_timeout_ms;
    while (udc_now_ms() < deadline) {
        struct udc_amqp_event ev;
        udc_amqp_poll(c->amqp, 100, &ev);
        int type = ev.type, done = 0, ok = 0;
        if (type == UDC_AMQP_DELIVERY) {
            /* Keep order simple: a delivery during a dead-letter wait is given back. */
            udc_amqp_nack(c->amqp, ev.delivery_tag, 0, 1);
        } else if (type == UDC_AMQP_CONFIRM_ACK && ev.seq >= seq) {
            done = ok = 1;
        } else if (type == UDC_AMQP_CONFIRM_NACK || type == UDC_AMQP_RETURN ||
                   type == UDC_AMQP_CLOSED) {
            done = 1;
        }
        udc_amqp_event_release(&ev);
        if (done)
            return ok ? 0 : -1;
    }
    return -1;
}

/* Takes a delivery: its ids join the batch, or (not an event) it goes to udc.dead. */
static void take_delivery(struct connector *c, struct udc_amqp_event *ev)
{
    char why[200];
    if (connector_event_ids(ev->body, ev->len, &c->ids, &c->id_count, &c->id_cap, why,
                            sizeof why) != 0) {
        uint64_t seq = 0;
        if (udc_amqp_dead_letter(c->amqp, ev, CONNECTOR_DEAD_EXCHANGE, why, &seq) != 0 ||
            await_confirm(c, seq) != 0 || udc_amqp_ack(c->amqp, ev->delivery_tag, 0) != 0) {
            give_up_connection(c, "dead-lettering failed");
        } else {
            udc_counter_inc(c->dead_total, NULL, 1);
            udc_log_warn("dead-lettered an event", "reason=\"%s\"", why);
        }
        udc_amqp_event_release(ev);
        return;
    }
    if (c->held_count == c->held_cap) {
        size_t n = c->held_cap ? c->held_cap * 2 : 256;
        struct udc_amqp_event *grown = realloc(c->held, n * sizeof *grown);
        if (!grown) {
            udc_amqp_event_release(ev);
            give_up_connection(c, "out of memory");
            return;
        }
        c->held = grown;
        c->held_cap = n;
    }
    if (c->held_count == 0)
        c->first_held_ms = udc_now_ms();
    c->held[c->held_count++] = *ev;
    memset(ev, 0, sizeof *ev);
}

/* Pairs the held rows in one transaction; ack after commit. */
static void flush(struct connector *c)
{
    char err[512];
    if (udc_db_ensure(c->db) != 0) {
        atomic_store(&c->db_up, 0);
        return;
    }
    atomic_store(&c->db_up, 1);
    uint64_t started = udc_now_us();
    long long pairs = pairs_for_rows(c->db, c->ids, c->id_count, c->cfg->connector.radius_m,
                                     c->cfg->connector.window_min, err, sizeof err);
    if (pairs < 0) {
        udc_log_warn("batch not paired; will retry", "rows=%zu error=\"%s\"", c->id_count, err);
        atomic_store(&c->db_up, udc_db_is_ok(c->db));
        c->retry_at_ms = udc_now_ms() + 250;
        return;
    }
    udc_histogram_observe(c->batch_seconds, NULL, (double)(udc_now_us() - started) / 1e6);
    udc_counter_inc(c->pairs_total, NULL, (uint64_t)pairs);
    udc_counter_inc(c->rows_total, NULL, c->id_count);
    if (udc_amqp_ack(c->amqp, c->held[c->held_count - 1].delivery_tag, 1) != 0) {
        give_up_connection(c, "ack failed");
        return;
    }
    release_held(c);
}

static int batch_due(const struct connector *c)
{
    uint64_t now = udc_now_ms();
    if (c->held_count == 0 || now < c->retry_at_ms)
        return 0;
    return c->held_count >= (size_t)c->cfg->connector.prefetch ||
           now - c->first_held_ms >= (uint64_t)c->cfg->connector.batch_wait_ms;
}

static void handle_event(struct connector *c, struct udc_amqp_event *ev)
{
    if (ev->type == UDC_AMQP_DELIVERY) {
        take_delivery(c, ev);
        return;
    }
    if (ev->type == UDC_AMQP_CLOSED) {
        atomic_store(&c->amqp_up, 0);
        release_held(c);
        c->consuming = 0;
    }
    udc_amqp_event_release(ev);
}

static void step(struct connector *c)
{
    if (ensure_broker(c) != 0) {
        struct pollfd p = {.fd = udc_service_wake_fd(), .events = POLLIN};
        poll(&p, 1, 100);
        udc_service_drain_wake_fd();
        return;
    }
    int timeout = 200;
    if (c->held_count) {
        uint64_t age = udc_now_ms() - c->first_held_ms;
        uint64_t wait = (uint64_t)c->cfg->connector.batch_wait_ms;
        timeout = age >= wait ? 0 : (int)(wait - age);
        if (timeout > 100)
            timeout = 100;
    }
    struct udc_amqp_event ev;
    udc_amqp_poll(c->amqp, timeout, &ev);
    handle_event(c, &ev);
    while (!batch_due(c) && atomic_load(&c->amqp_up)) {
        udc_amqp_poll(c->amqp, 0, &ev);
        if (ev.type == UDC_AMQP_TIMEOUT)
            break;
        handle_event(c, &ev);
    }
    if (batch_due(c))
        flush(c);
}

static void report_state(struct connector *c, int *announced)
{
    if (!atomic_load(&c->db_up) && udc_db_ensure(c->db) == 0)
        atomic_store(&c->db_up, 1);
    int state = atomic_load(&c->amqp_up) * 2 + atomic_load(&c->db_up);
    if (state == c->reported_state)
        return;
    c->reported_state = state;
    if (state == 3 && !*announced) {
        udc_service_ready();
        *announced = 1;
    }
    static const char *const text[] = {"waiting for the broker and the database",
                                       "waiting for the broker", "waiting for the database",
                                       "consuming " CONNECTOR_QUEUE};
    udc_service_status("%s", text[state]);
}

int connector_run(struct connector *c)
{
    int announced = 0;
    while (!udc_service_should_stop()) {
        udc_daemon_poll_reload(c->daemon, NULL);
        step(c);
        report_state(c, &announced);
        udc_service_watchdog(1);
    }
    udc_service_stopping();
    udc_amqp_cancel(c->amqp);
    if (c->held_count && atomic_load(&c->amqp_up)) {
        udc_log_info("draining", "deliveries=%zu", c->held_count);
        c->retry_at_ms = 0;
        flush(c);
    }
    udc_amqp_close(c->amqp);
    return 0;
}

int connector_backfill(struct connector *c)
{
    char err[512];
    if (udc_db_connect(c->db, err, sizeof err) != 0) {
        udc_log_error("backfill: database unavailable", "error=\"%s\"", err);
        return 1;
    }
    udc_service_ready();
    long long total = 0;
    for (;;) {
        if (udc_service_should_stop()) {
            udc_log_info("backfill interrupted; run it again to resume", "pairs=%lld", total);
            return 0;
        }
        int64_t upto = 0;
        long long pairs = pairs_backfill_chunk(
            c->db, c->cfg->connector.backfill_chunk, c->cfg->connector.radius_m,
            c->cfg->connector.window_min, &upto, err, sizeof err);
        if (pairs < 0) {
            udc_log_error("backfill failed; run it again to resume", "error=\"%s\"", err);
            return 1;
        }
        if (pairs == 0 && upto == 0)
            break; /* nothing left after the recorded progress */
        total += pairs;
        udc_service_status("backfill: up to location %" PRId64, upto);
        udc_log_info("backfill chunk", "up_to_location=%" PRId64 " pairs=%lld", upto, pairs);
    }
    udc_log_info("backfill done", "pairs=%lld", total);
    return 0;
}
