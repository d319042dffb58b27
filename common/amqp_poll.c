/* amqp_poll.c — turns what the broker sends into udc_amqp_event values (amqp_client.h).
 *
 * amqp_consume_message() reads deliveries; any other frame makes it answer
 * AMQP_STATUS_UNEXPECTED_STATE with the frame put back, which amqp_simple_wait_frame()
 * then returns: confirms, returns (whose content frames follow), closes, flow control.
 */
#include "amqp_client_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

#define NO_EVENT             (-1)
#define CLOSED_IDLE_FLOOR_MS 100

static void clear_event(struct udc_amqp_event *ev)
{
    memset(ev, 0, sizeof *ev);
    ev->exchange = ev->routing_key = ev->message_id = "";
    ev->content_type = ev->app_id = ev->user_id = ev->reply_text = "";
}

void udc_amqp_event_release(struct udc_amqp_event *ev)
{
    struct udc_amqp_event_priv *p = ev->priv_;
    if (p != NULL) {
        if (p->is_delivery)
            amqp_destroy_envelope(&p->env);
        else
            amqp_destroy_message(&p->env.message);
        free(p);
    }
    enum udc_amqp_event_type type = ev->type;
    clear_event(ev);
    ev->type = type;
}

static enum udc_amqp_event_type closed_event(struct udc_amqp_event *ev, const char *reason)
{
    ev->type = UDC_AMQP_CLOSED;
    if (reason[0] == '\0')
        reason = "not connected";
    size_t n = strnlen(reason, sizeof ev->reason - 1);
    memcpy(ev->reason, reason, n);
    ev->reason[n] = '\0';
    return UDC_AMQP_CLOSED;
}

static enum udc_amqp_event_type lost(struct udc_amqp *c, struct udc_amqp_event *ev,
                                     const char *reason, int polite)
{
    udc_amqp_drop_(c, reason, polite);
    return closed_event(ev, reason);
}

/* Already closed: wait until the next reconnect is due (within timeout_ms) so that a
 * loop of ensure + poll does not spin. */
static void idle_while_closed(struct udc_amqp *c, int timeout_ms)
{
    if (timeout_ms == 0)
        return;
    uint64_t now = udc_now_ms();
    uint64_t wait = c->backoff.next_at_ms > now ? c->backoff.next_at_ms - now : 0;
    if (wait < CLOSED_IDLE_FLOOR_MS)
        wait = CLOSED_IDLE_FLOOR_MS;
    if (timeout_ms > 0 && wait > (uint64_t)timeout_ms)
        wait = (uint64_t)timeout_ms;
    struct timespec ts = {.tv_sec = (time_t)(wait / 1000),
                          .tv_nsec = (long)(wait % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

static void fill_message(struct udc_amqp_event *ev, struct udc_amqp_event_priv *p)
{
    const amqp_basic_properties_t *pr = &p->env.message.properties;

    if (pr->_flags & AMQP_BASIC_MESSAGE_ID_FLAG)
        udc_amqp_copy_bytes_(p->message_id, sizeof p->message_id, pr->message_id);
    if (pr->_flags & AMQP_BASIC_CONTENT_TYPE_FLAG)
        udc_amqp_copy_bytes_(p->content_type, sizeof p->content_type, pr->content_type);
    if (pr->_flags & AMQP_BASIC_APP_ID_FLAG)
        udc_amqp_copy_bytes_(p->app_id, sizeof p->app_id, pr->app_id);
    if (pr->_flags & AMQP_BASIC_USER_ID_FLAG)
        udc_amqp_copy_bytes_(p->user_id, sizeof p->user_id, pr->user_id);
    if (pr->_flags & AMQP_BASIC_TIMESTAMP_FLAG)
        ev->timestamp = (int64_t)pr->timestamp;
    ev->body = p->env.message.body.bytes;
    ev->len = p->env.message.body.len;
    ev->exchange = p->exchange;
    ev->routing_key = p->routing_key;
    ev->message_id = p->message_id;
    ev->content_type = p->content_type;
    ev->app_id = p->app_id;
    ev->user_id = p->user_id;
    ev->reply_text = p->reply_text;
    ev->priv_ = p;
}

static enum udc_amqp_event_type delivery_event(struct udc_amqp *c, struct udc_amqp_event *ev,
                                               struct udc_amqp_event_priv *p)
{
    p->is_delivery = 1;
    udc_amqp_copy_bytes_(p->exchange, sizeof p->exchange, p->env.exchange);
    udc_amqp_copy_bytes_(p->routing_key, sizeof p->routing_key, p->env.routing_key);
    fill_message(ev, p);
    ev->type = UDC_AMQP_DELIVERY;
    ev->delivery_tag = p->env.delivery_tag;
    ev->redelivered = p->env.redelivered != 0;
    if (p->env.delivery_tag > c->max_delivery_tag)
        c->max_delivery_tag = p->env.delivery_tag;
    UDC_STAT_ADD(c, delivered, 1);
    return UDC_AMQP_DELIVERY;
}

static int confirm_event(struct udc_amqp *c, struct udc_amqp_event *ev, uint64_t seq, int multiple,
                         int ack)
{
    uint64_t n = udc_amqp_ring_confirm_(&c->ring, seq, multiple);
    atomic_fetch_sub_explicit(&c->stats.unconfirmed, n, memory_order_relaxed);
    if (ack)
        UDC_STAT_ADD(c, confirmed, n);
    else
        UDC_STAT_ADD(c, nacked, n);
    ev->seq = seq;
    ev->multiple = multiple != 0;
    ev->type = ack ? UDC_AMQP_CONFIRM_ACK : UDC_AMQP_CONFIRM_NACK;
    return ev->type;
}

/* basic.return: the method names the reply and the route; header and body follow. */
static int return_event(struct udc_amqp *c, struct udc_amqp_event *ev, const amqp_frame_t *f)
{
    const amqp_basic_return_t *m = f->payload.method.decoded;
    struct udc_amqp_event_priv *p = calloc(1, sizeof *p);
    if (p == NULL)
        return lost(c, ev, "out of memory reading a returned message", 0);
    udc_amqp_copy_bytes_(p->reply_text, sizeof p->reply_text, m->reply_text);
    udc_amqp_copy_bytes_(p->exchange, sizeof p->exchange, m->exchange);
    udc_amqp_copy_bytes_(p->routing_key, sizeof p->routing_key, m->routing_key);
    ev->reply_code = m->reply_code;
    amqp_rpc_reply_t r = amqp_read_message(c->conn, f->channel, &p->env.message, 0);
    if (r.reply_type != AMQP_RESPONSE_NORMAL) {
        free(p);
        return lost(c, ev, "broken basic.return from the broker", 0);
    }
    fill_message(ev, p);
    const amqp_basic_properties_t *pr = &p->env.message.properties;
    if (pr->_flags & AMQP_BASIC_MESSAGE_ID_FLAG)
        ev->seq = udc_amqp_ring_match_return_(
            &c->ring, udc_amqp_id_hash_(pr->message_id.bytes, pr->message_id.len));
    ev->type = UDC_AMQP_RETURN;
    UDC_STAT_ADD(c, returned, 1);
    return UDC_AMQP_RETURN;
}

static int close_event(struct udc_amqp *c, struct udc_amqp_event *ev, const amqp_frame_t *f)
{
    char text[UDC_AMQP_SHORTSTR], why[400];

    if (f->payload.method.id == AMQP_CONNECTION_CLOSE_METHOD) {
        const amqp_connection_close_t *m = f->payload.method.decoded;
        amqp_connection_close_ok_t ok = {0};
        udc_amqp_copy_bytes_(text, sizeof text, m->reply_text);
        snprintf(why, sizeof why, "connection closed by the broker: %u %s", m->reply_code, text);
        amqp_send_method(c->conn, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &ok);
        return lost(c, ev, why, 0);
    }
    const amqp_channel_close_t *m = f->payload.method.decoded;
    amqp_channel_close_ok_t ok = {0};
    udc_amqp_copy_bytes_(text, sizeof text, m->reply_text);
    int rc = amqp_send_method(c->conn, f->channel, AMQP_CHANNEL_CLOSE_OK_METHOD, &ok);
    if (f->channel == UDC_AMQP_CHECK_CHAN && rc == AMQP_STATUS_OK) {
        c->check_channel_open = 0;
        return NO_EVENT;
    }
    snprintf(why, sizeof why, "channel closed by the broker: %u %s", m->reply_code, text);
    return lost(c, ev, why, rc == AMQP_STATUS_OK);
}

static void blocked_changed(struct udc_amqp *c, const amqp_frame_t *f)
{
    char text[UDC_AMQP_SHORTSTR], q[300];

    if (f->payload.method.id == AMQP_CONNECTION_UNBLOCKED_METHOD) {
        atomic_store(&c->blocked, 0);
        udc_log_info("broker unblocked publishing", "where=%s", c->where);
        return;
    }
    const amqp_connection_blocked_t *m = f->payload.method.decoded;
    udc_amqp_copy_bytes_(text, sizeof text, m->reason);
    atomic_store(&c->blocked, 1);
    udc_log_warn("broker blocked publishing", "where=%s reason=%s", c->where,
                 udc_log_quote(q, sizeof q, text));
}

/* A frame other than a delivery: an event type, or NO_EVENT to keep waiting. */
static int handle_frame(struct udc_amqp *c, struct udc_amqp_event *ev, const amqp_frame_t *f)
{
    if (f->frame_type == AMQP_FRAME_HEARTBEAT)
        return NO_EVENT;
    if (f->frame_type != AMQP_FRAME_METHOD)
        return lost(c, ev, "content frame without a method from the broker", 0);
    switch (f->payload.method.id) {
    case AMQP_BASIC_ACK_METHOD: {
        const amqp_basic_ack_t *m = f->payload.method.decoded;
        return confirm_event(c, ev, m->delivery_tag, m->multiple, 1);
    }
    case AMQP_BASIC_NACK_METHOD: {
        const amqp_basic_nack_t *m = f->payload.method.decoded;
        return confirm_event(c, ev, m->delivery_tag, m->multiple, 0);
    }
    case AMQP_BASIC_RETURN_METHOD:
        return return_event(c, ev, f);
    case AMQP_CHANNEL_CLOSE_METHOD:
    case AMQP_CONNECTION_CLOSE_METHOD:
        return close_event(c, ev, f);
    case AMQP_CONNECTION_BLOCKED_METHOD:
    case AMQP_CONNECTION_UNBLOCKED_METHOD:
        blocked_changed(c, f);
        return NO_EVENT;
    case AMQP_BASIC_CANCEL_METHOD:
        /* The queue went away or was taken over; reconnecting consumes again (or reports
         * the queue missing), which beats a consumer silently receiving nothing. */
        return lost(c, ev, "consumer cancelled by the broker", 1);
    default:
        return NO_EVENT; /* e.g. a late reply nobody waits for */
    }
}

enum udc_amqp_event_type udc_amqp_poll(struct udc_amqp *c, int timeout_ms,
                                       struct udc_amqp_event *ev)
{
    clear_event(ev);
    if (c->conn == NULL) {
        idle_while_closed(c, timeout_ms);
        return closed_event(ev, c->last_error);
    }
    uint64_t deadline = timeout_ms >= 0 ? udc_now_ms() + (uint64_t)timeout_ms : 0;
    for (;;) {
        struct timeval tv = {0, 0}, *wait = NULL;
        if (timeout_ms >= 0) {
            uint64_t now = udc_now_ms();
            uint64_t left = deadline > now ? deadline - now : 0;
            tv.tv_sec = (time_t)(left / 1000);
            tv.tv_usec = (suseconds_t)(left % 1000) * 1000;
            wait = &tv;
        }
        /* Every earlier event copied what it keeps, so the frame buffers can be reused. */
        amqp_maybe_release_buffers(c->conn);
        struct udc_amqp_event_priv *p = c->spare ? c->spare : malloc(sizeof *p);
        if (p == NULL)
            return lost(c, ev, "out of memory reading a delivery", 0);
        memset(p, 0, sizeof *p);
        c->spare = p;
        amqp_rpc_reply_t r = amqp_consume_message(c->conn, &p->env, wait, 0);
        if (r.reply_type == AMQP_RESPONSE_NORMAL) {
            c->spare = NULL; /* the event owns it now */
            return delivery_event(c, ev, p);
        }
        if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
            r.library_error == AMQP_STATUS_TIMEOUT) {
            ev->type = UDC_AMQP_TIMEOUT;
            return UDC_AMQP_TIMEOUT;
        }
        if (r.reply_type != AMQP_RESPONSE_LIBRARY_EXCEPTION ||
            r.library_error != AMQP_STATUS_UNEXPECTED_STATE) {
            char why[200];
            snprintf(why, sizeof why, "%s",
                     r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION
                         ? amqp_error_string2(r.library_error)
                         : "unexpected reply while waiting for the broker");
            return lost(c, ev, why, 0);
        }
        amqp_frame_t f;
        int rc = amqp_simple_wait_frame(c->conn, &f);
        if (rc != AMQP_STATUS_OK)
            return lost(c, ev, amqp_error_string2(rc), 0);
        int type = handle_frame(c, ev, &f);
        if (type != NO_EVENT)
            return (enum udc_amqp_event_type)type;
        if (timeout_ms >= 0 && udc_now_ms() >= deadline) {
            ev->type = UDC_AMQP_TIMEOUT;
            return UDC_AMQP_TIMEOUT;
        }
    }
}

static int format_field(char *buf, size_t buflen, const amqp_field_value_t *v)
{
    switch (v->kind) {
    case AMQP_FIELD_KIND_UTF8:
    case AMQP_FIELD_KIND_BYTES:
        udc_amqp_copy_bytes_(buf, buflen, v->value.bytes);
        return 1;
    case AMQP_FIELD_KIND_I8:
        snprintf(buf, buflen, "%d", v->value.i8);
        return 1;
    case AMQP_FIELD_KIND_U8:
        snprintf(buf, buflen, "%u", v->value.u8);
        return 1;
    case AMQP_FIELD_KIND_I16:
        snprintf(buf, buflen, "%d", v->value.i16);
        return 1;
    case AMQP_FIELD_KIND_U16:
        snprintf(buf, buflen, "%u", v->value.u16);
        return 1;
    case AMQP_FIELD_KIND_I32:
        snprintf(buf, buflen, "%d", v->value.i32);
        return 1;
    case AMQP_FIELD_KIND_U32:
        snprintf(buf, buflen, "%u", v->value.u32);
        return 1;
    case AMQP_FIELD_KIND_I64:
    case AMQP_FIELD_KIND_TIMESTAMP:
        snprintf(buf, buflen, "%lld", (long long)v->value.i64);
        return 1;
    case AMQP_FIELD_KIND_U64:
        snprintf(buf, buflen, "%llu", (unsigned long long)v->value.u64);
        return 1;
    case AMQP_FIELD_KIND_BOOLEAN:
        snprintf(buf, buflen, "%s", v->value.boolean ? "true" : "false");
        return 1;
    default:
        return 0;
    }
}

int udc_amqp_event_header(const struct udc_amqp_event *ev, const char *name, char *buf,
                          size_t buflen)
{
    const struct udc_amqp_event_priv *p = ev->priv_;
    if (p == NULL || buf == NULL || buflen == 0)
        return 0;
    const amqp_basic_properties_t *pr = &p->env.message.properties;
    if (!(pr->_flags & AMQP_BASIC_HEADERS_FLAG))
        return 0;
    size_t nlen = strlen(name);
    for (int i = 0; i < pr->headers.num_entries; i++) {
        const amqp_table_entry_t *e = &pr->headers.entries[i];
        if (e->key.len == nlen && memcmp(e->key.bytes, name, nlen) == 0)
            return format_field(buf, buflen, &e->value);
    }
    return 0;
}
