/* gateway.c — see gateway.h. */
#include "gateway.h"

#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "backoff.h"
#include "log.h"
#include "partner_message.h"
#include "service.h"

/* Events handled in one go before acking what is finished and looking at signals. */
#define EVENTS_PER_ROUND 512

static const double lag_bounds[] = {0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60, 300};

static void metrics_init(struct gateway_metrics *m)
{
    struct udc_metrics *reg = udc_metrics_default();
    m->messages =
        udc_counter_new(reg, "udc_ingest_amqp_messages_total",
                        "Partner messages handled, by outcome", 1, (const char *[]){"outcome"});
    m->pings =
        udc_counter_new(reg, "udc_ingest_amqp_pings_total", "Partner pings, by partner and outcome",
                        2, (const char *[]){"partner", "outcome"});
    m->dead_letters = udc_counter_new(reg, "udc_ingest_amqp_dead_letters_total",
                                      "Partner messages sent to udc.dead, by reason", 1,
                                      (const char *[]){"reason"});
    m->redelivered = udc_counter_new(reg, "udc_ingest_amqp_redelivered_total",
                                     "Partner messages received again after a failure", 0, NULL);
    m->broker_errors =
        udc_counter_new(reg, "udc_ingest_amqp_broker_errors_total",
                        "Broker connections given up, by kind", 1, (const char *[]){"kind"});
    m->lag_seconds =
        udc_histogram_new(reg, "udc_ingest_amqp_lag_seconds",
                          "From the partner's publish (message timestamp, when set) to our ack", 0,
                          NULL, sizeof lag_bounds / sizeof lag_bounds[0], lag_bounds);
}

int gateway_init(struct gateway *g, struct udc_daemon *daemon)
{
    const struct udc_config *cfg = &daemon->cfg;
    memset(g, 0, sizeof *g);
    g->daemon = daemon;
    g->reported_up = -1;
    g->prefetch = (uint16_t)(cfg->ingest_amqp.prefetch > 65535 ? 65535 : cfg->ingest_amqp.prefetch);
    g->confirm_timeout_ms = cfg->amqp.confirm_timeout_ms;
    g->max_future_skew_us = (int64_t)cfg->ingest_amqp.max_future_skew_s * 1000000;
    g->amqp = udc_amqp_new(udc_config_amqp_url(cfg, "ingest_amqp"), "udc-ingest-amqp",
                           cfg->amqp.heartbeat_s);
    if (!g->amqp)
        return -1;
    udc_amqp_set_reconnect_max_ms(g->amqp, (uint32_t)cfg->amqp.reconnect_max_ms);
    metrics_init(&g->m);
    return 0;
}

void gateway_free(struct gateway *g)
{
    ack_window_free(&g->window);
    udc_amqp_free(g->amqp);
    g->amqp = NULL;
}

int gateway_ready(struct gateway *g, char *reason, size_t len)
{
    if (!atomic_load(&g->amqp_up)) {
        snprintf(reason, len, "broker connection down or not consuming " GATEWAY_QUEUE);
        return 0;
    }
    return 1;
}

/* The connection is gone, or we give it up: every delivery not yet acked comes again. */
static void forget_in_hand(struct gateway *g, const char *why)
{
    if (ack_window_count(&g->window))
        udc_log_warn("messages left to redelivery", "deliveries=%zu reason=\"%s\"",
                     ack_window_count(&g->window), why);
    ack_window_clear(&g->window);
    g->consuming = 0;
    atomic_store(&g->amqp_up, 0);
}

static void give_up_connection(struct gateway *g, const char *kind, const char *why)
{
    udc_log_warn("closing the broker connection", "kind=%s reason=\"%s\"", kind, why);
    udc_counter_inc(g->m.broker_errors, (const char *[]){kind}, 1);
    udc_amqp_close(g->amqp);
    forget_in_hand(g, why);
}

static int ensure_broker(struct gateway *g)
{
    if (udc_amqp_ensure(g->amqp) != 0) {
        if (g->consuming || ack_window_count(&g->window))
            forget_in_hand(g, "broker connection lost");
        atomic_store(&g->amqp_up, 0);
        return -1;
    }
    if (!g->consuming) {
        char err[256];
        ack_window_clear(&g->window); /* a new connection: seqs and tags start again */
        if (udc_amqp_check_queue(g->amqp, GATEWAY_QUEUE, NULL, NULL, err, sizeof err) != 0 ||
            udc_amqp_check_exchange(g->amqp, GATEWAY_LOCATIONS_EXCHANGE, err, sizeof err) != 0 ||
            udc_amqp_check_exchange(g->amqp, GATEWAY_DEAD_EXCHANGE, err, sizeof err) != 0) {
            udc_log_error("broker topology missing; load schema/rabbitmq/definitions.json",
                          "error=\"%s\"", err);
            give_up_connection(g, "topology", err);
            return -1;
        }
        if (udc_amqp_consume(g->amqp, GATEWAY_QUEUE, g->prefetch) != 0) {
            give_up_connection(g, "consume", udc_amqp_last_error(g->amqp));
            return -1;
        }
        g->consuming = 1;
        udc_log_info("consuming", "queue=" GATEWAY_QUEUE " prefetch=%u", (unsigned)g->prefetch);
    }
    atomic_store(&g->amqp_up, 1);
    return 0;
}

static void count_verdict(struct gateway *g, const struct partner_verdict *v)
{
    const char *partner = v->partner[0] ? v->partner : "unknown";
    if (v->pings)
        udc_counter_inc(g->m.pings, (const char *[]){partner, "republished"}, v->pings);
    if (v->invalid)
        udc_counter_inc(g->m.pings, (const char *[]){partner, "invalid"}, v->invalid);
    const char *outcome = !v->reason[0] ? "republished" : v->out_body ? "partial" : "dead_lettered";
    udc_counter_inc(g->m.messages, (const char *[]){outcome}, 1);
    if (v->reason[0])
        udc_counter_inc(g->m.dead_letters, (const char *[]){v->label}, 1);
}

/* Decide about one delivery and publish what follows from it; the delivery joins the ack
 * window with the seqs of those publishes. -1: the connection was given up. */
static int take_delivery(struct gateway *g, struct udc_amqp_event *ev)
{
    struct udc_location_rules rules = {.now_us = udc_wall_us(),
                                       .max_future_skew_us = g->max_future_skew_us};
    struct partner_verdict v;
    if (ev->redelivered)
        udc_counter_inc(g->m.redelivered, NULL, 1);
    if (partner_message_check(ev->user_id, ev->routing_key, ev->body, ev->len, &rules, &v) != 0) {
        give_up_connection(g, "memory", "out of memory deciding about a message");
        return -1;
    }
    uint64_t seqs[ACK_WINDOW_MAX_SEQS];
    size_t nseq = 0;
    if (v.out_body) {
        struct udc_amqp_message msg = {
            .body = v.out_body, .len = v.out_len, .message_id = v.message_id};
        if (udc_amqp_publish(g->amqp, GATEWAY_LOCATIONS_EXCHANGE, v.out_routing_key, &msg,
                             &seqs[nseq++]) != 0)
            goto broken;
    }
    if (v.reason[0]) {
        if (udc_amqp_dead_letter(g->amqp, ev, GATEWAY_DEAD_EXCHANGE, v.reason, &seqs[nseq++]) != 0)
            goto broken;
        udc_log_info("dead-lettered", "partner=%s message_id=%s reason=\"%s\"",
                     v.partner[0] ? v.partner : "-", ev->message_id[0] ? ev->message_id : "-",
                     v.reason);
    }
    if (ack_window_push(&g->window, ev->delivery_tag, seqs, nseq) != 0) {
        partner_verdict_free(&v);
        give_up_connection(g, "memory", "out of memory tracking a delivery");
        return -1;
    }
    count_verdict(g, &v);
    if (ev->timestamp > 0) {
        int64_t now_s = udc_wall_us() / 1000000;
        if (now_s >= ev->timestamp)
            udc_histogram_observe(g->m.lag_seconds, NULL, (double)(now_s - ev->timestamp));
    }
    partner_verdict_free(&v);
    return 0;
broken:
    partner_verdict_free(&v);
    give_up_connection(g, "publish", udc_amqp_last_error(g->amqp));
    return -1;
}

/* -1 when the connection is gone (given up or closed by the broker). */
static int handle_event(struct gateway *g, struct udc_amqp_event *ev)
{
    int rc = 0;
    switch (ev->type) {
    case UDC_AMQP_DELIVERY:
        rc = take_delivery(g, ev);
        break;
    case UDC_AMQP_CONFIRM_ACK:
        ack_window_confirm(&g->window, ev->seq, ev->multiple);
        break;
    case UDC_AMQP_CONFIRM_NACK:
        /* The broker did not take a publish: start over from the redelivery. */
        give_up_connection(g, "nack", "the broker refused a publish");
        rc = -1;
        break;
    case UDC_AMQP_RETURN:
        /* Unroutable: udc.locations or udc.dead lost its binding. Nothing is acked;
         * after a reconnect everything in hand comes again. */
        udc_log_error("publish returned as unroutable; check the bindings",
                      "exchange=%s routing_key=%s reply=\"%s\"", ev->exchange, ev->routing_key,
                      ev->reply_text);
        give_up_connection(g, "unroutable", ev->reply_text);
        rc = -1;
        break;
    case UDC_AMQP_CLOSED:
        forget_in_hand(g, ev->reason);
        rc = -1;
        break;
    case UDC_AMQP_TIMEOUT:
        break;
    }
    udc_amqp_event_release(ev);
    return rc;
}

/* Ack the finished prefix of the window. -1 when the connection broke. */
static int ack_finished(struct gateway *g)
{
    size_t n;
    uint64_t tag = ack_window_take_done(&g->window, &n);
    if (tag == 0)
        return 0;
    if (udc_amqp_ack(g->amqp, tag, 1) != 0) {
        give_up_connection(g, "ack", "ack failed");
        return -1;
    }
    return 0;
}

static int confirms_overdue(struct gateway *g)
{
    if (udc_amqp_oldest_unconfirmed_ms(g->amqp) <= (uint64_t)g->confirm_timeout_ms)
        return 0;
    give_up_connection(g, "confirm_timeout", "publishes not confirmed in time");
    return 1;
}

static void wait_a_little(int ms)
{
    struct pollfd p = {.fd = udc_service_wake_fd(), .events = POLLIN};
    poll(&p, 1, ms);
    udc_service_drain_wake_fd();
}

/* One round: wait for an event, take what else is buffered, ack what is finished. */
static void step(struct gateway *g, int timeout_ms)
{
    struct udc_amqp_event ev;
    udc_amqp_poll(g->amqp, timeout_ms, &ev);
    if (handle_event(g, &ev) != 0)
        return;
    for (int i = 0; i < EVENTS_PER_ROUND; i++) {
        udc_amqp_poll(g->amqp, 0, &ev);
        if (ev.type == UDC_AMQP_TIMEOUT)
            break;
        if (handle_event(g, &ev) != 0)
            return;
    }
    if (ack_finished(g) == 0)
        confirms_overdue(g);
}

static void report_state(struct gateway *g, int *announced)
{
    int up = atomic_load(&g->amqp_up);
    if (up == g->reported_up)
        return;
    g->reported_up = up;
    if (up && !*announced) {
        udc_service_ready();
        *announced = 1;
    }
    udc_service_status("%s", up ? "consuming " GATEWAY_QUEUE : "waiting for the broker");
}

static void apply_reload(struct gateway *g)
{
    struct udc_config fresh;
    if (udc_daemon_poll_reload(g->daemon, &fresh) != 1)
        return;
    g->max_future_skew_us = (int64_t)fresh.ingest_amqp.max_future_skew_s * 1000000;
    g->confirm_timeout_ms = fresh.amqp.confirm_timeout_ms;
    udc_log_info("reloaded",
                 "max_future_skew_s=%d (prefetch and broker URL apply at the next "
                 "connection restart)",
                 fresh.ingest_amqp.max_future_skew_s);
    udc_config_free(&fresh);
}

/* After SIGTERM: no new deliveries; wait for the confirms of what is in hand and ack it. */
static void drain(struct gateway *g)
{
    if (!atomic_load(&g->amqp_up))
        return;
    udc_amqp_cancel(g->amqp);
    uint64_t deadline = udc_now_ms() + (uint64_t)g->confirm_timeout_ms;
    if (ack_window_count(&g->window))
        udc_log_info("draining", "deliveries=%zu", ack_window_count(&g->window));
    while (ack_window_count(&g->window) && atomic_load(&g->amqp_up) && udc_now_ms() < deadline)
        step(g, 100);
    if (ack_window_count(&g->window))
        udc_log_warn("stopping with unconfirmed messages; they will be redelivered",
                     "deliveries=%zu", ack_window_count(&g->window));
}

int gateway_run(struct gateway *g)
{
    int announced = 0;
    while (!udc_service_should_stop()) {
        apply_reload(g);
        if (ensure_broker(g) != 0)
            wait_a_little(100);
        else
            step(g, 200);
        report_state(g, &announced);
        /* The loop is alive; a broker outage shows in /ready and STATUS=, and must not
         * make systemd restart us in a loop. */
        udc_service_watchdog(1);
    }
    udc_service_stopping();
    drain(g);
    udc_amqp_close(g->amqp);
    return 0;
}
