/* amqp_publish.c — confirmed publishing and dead-lettering of amqp_client.h. */
#include "amqp_client_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_CONTENT_TYPE "application/json"
#define MAX_HEADERS          64
#define DEAD_LETTER_HEADERS  7

/* Publish on channel 1 (mandatory) and remember the seq until its confirm arrives. */
static int publish_raw(struct udc_amqp *c, const char *exchange, const char *routing_key,
                       const amqp_basic_properties_t *props, amqp_bytes_t body,
                       amqp_bytes_t message_id, uint64_t *seq_out)
{
    if (c->conn == NULL || !udc_amqp_shortstr_ok_(exchange) ||
        !udc_amqp_shortstr_ok_(routing_key) || (body.len > 0 && body.bytes == NULL))
        return -1;
    if (udc_amqp_ring_reserve_(&c->ring) != 0)
        return -1;
    int rc = amqp_basic_publish(c->conn, UDC_AMQP_CHANNEL, amqp_cstring_bytes(exchange),
                                amqp_cstring_bytes(routing_key), 1, 0, props, body);
    if (rc != AMQP_STATUS_OK) {
        char why[200];
        snprintf(why, sizeof why, "publish failed: %s", amqp_error_string2(rc));
        udc_amqp_drop_(c, why, 0);
        return -1;
    }
    uint64_t seq = c->next_seq++;
    udc_amqp_ring_add_(&c->ring, seq, udc_amqp_id_hash_(message_id.bytes, message_id.len),
                       udc_now_ms());
    UDC_STAT_ADD(c, published, 1);
    UDC_STAT_ADD(c, unconfirmed, 1);
    if (seq_out != NULL)
        *seq_out = seq;
    return 0;
}

static amqp_table_entry_t string_entry(const char *name, const char *value)
{
    amqp_table_entry_t e = {
        .key = amqp_cstring_bytes(name),
        .value = {.kind = AMQP_FIELD_KIND_UTF8, .value.bytes = amqp_cstring_bytes(value)},
    };
    return e;
}

int udc_amqp_publish(struct udc_amqp *c, const char *exchange, const char *routing_key,
                     const struct udc_amqp_message *msg, uint64_t *seq_out)
{
    amqp_table_entry_t entries[MAX_HEADERS];
    amqp_basic_properties_t props = {0};
    const char *content_type = msg->content_type ? msg->content_type : DEFAULT_CONTENT_TYPE;

    if (msg->n_headers > MAX_HEADERS || !udc_amqp_shortstr_ok_(content_type) ||
        (msg->message_id != NULL && !udc_amqp_shortstr_ok_(msg->message_id)))
        return -1;
    for (size_t i = 0; i < msg->n_headers; i++) {
        const struct udc_amqp_header *h = &msg->headers[i];
        if (!udc_amqp_shortstr_ok_(h->name) || h->value == NULL)
            return -1;
        entries[i] = string_entry(h->name, h->value);
    }
    props._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG |
                   AMQP_BASIC_APP_ID_FLAG | AMQP_BASIC_TIMESTAMP_FLAG;
    props.content_type = amqp_cstring_bytes(content_type);
    props.delivery_mode = AMQP_DELIVERY_PERSISTENT;
    props.app_id = amqp_cstring_bytes(c->app_id);
    props.timestamp = (uint64_t)time(NULL);
    amqp_bytes_t id = amqp_empty_bytes;
    if (msg->message_id != NULL) {
        props._flags |= AMQP_BASIC_MESSAGE_ID_FLAG;
        id = props.message_id = amqp_cstring_bytes(msg->message_id);
    }
    if (msg->n_headers > 0) {
        props._flags |= AMQP_BASIC_HEADERS_FLAG;
        props.headers.num_entries = (int)msg->n_headers;
        props.headers.entries = entries;
    }
    amqp_bytes_t body = {.len = msg->len, .bytes = (void *)msg->body};
    return publish_raw(c, exchange, routing_key, &props, body, id, seq_out);
}

static int is_dead_letter_header(amqp_bytes_t key)
{
    static const char *const ours[] = {"x-udc-error",       "x-udc-queue",   "x-udc-exchange",
                                       "x-udc-routing-key", "x-udc-user-id", "x-udc-dead-by",
                                       "x-udc-dead-at"};
    for (size_t i = 0; i < sizeof ours / sizeof ours[0]; i++)
        if (key.len == strlen(ours[i]) && memcmp(key.bytes, ours[i], key.len) == 0)
            return 1;
    return 0;
}

int udc_amqp_dead_letter(struct udc_amqp *c, const struct udc_amqp_event *delivery,
                         const char *dead_exchange, const char *reason, uint64_t *seq_out)
{
    const struct udc_amqp_event_priv *p = delivery->priv_;
    char dead_at[32];

    if (delivery->type != UDC_AMQP_DELIVERY || p == NULL || !p->is_delivery || c->conn == NULL)
        return -1;
    const amqp_basic_properties_t *orig = &p->env.message.properties;
    const amqp_table_t *orig_headers =
        (orig->_flags & AMQP_BASIC_HEADERS_FLAG) ? &orig->headers : NULL;
    size_t n_orig = orig_headers ? (size_t)orig_headers->num_entries : 0;
    amqp_table_entry_t *entries = malloc((n_orig + DEAD_LETTER_HEADERS) * sizeof *entries);
    if (entries == NULL)
        return -1;

    /* Earlier x-udc-* headers (a message dead-lettered before) give way to the new ones. */
    size_t n = 0;
    for (size_t i = 0; i < n_orig; i++)
        if (!is_dead_letter_header(orig_headers->entries[i].key))
            entries[n++] = orig_headers->entries[i];
    time_t now = time(NULL);
    struct tm tm;
    strftime(dead_at, sizeof dead_at, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
    entries[n++] = string_entry("x-udc-error", reason ? reason : "unspecified");
    entries[n++] = string_entry("x-udc-queue", c->consume_queue);
    entries[n++] = string_entry("x-udc-exchange", p->exchange);
    entries[n++] = string_entry("x-udc-routing-key", p->routing_key);
    entries[n++] = string_entry("x-udc-dead-by", c->app_id);
    entries[n++] = string_entry("x-udc-dead-at", dead_at);
    if (orig->_flags & AMQP_BASIC_USER_ID_FLAG)
        entries[n++] = (amqp_table_entry_t){
            .key = amqp_cstring_bytes("x-udc-user-id"),
            .value = {.kind = AMQP_FIELD_KIND_UTF8, .value.bytes = orig->user_id}};

    /* The broker refuses a user_id that is not ours, so it travels as a header instead. */
    amqp_basic_properties_t props = *orig;
    props._flags &= ~AMQP_BASIC_USER_ID_FLAG;
    props._flags |= AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_HEADERS_FLAG;
    props.delivery_mode = AMQP_DELIVERY_PERSISTENT;
    props.headers.num_entries = (int)n;
    props.headers.entries = entries;
    amqp_bytes_t id =
        (orig->_flags & AMQP_BASIC_MESSAGE_ID_FLAG) ? orig->message_id : amqp_empty_bytes;

    int rc =
        publish_raw(c, dead_exchange, p->routing_key, &props, p->env.message.body, id, seq_out);
    free(entries);
    if (rc == 0)
        UDC_STAT_ADD(c, dead_lettered, 1);
    return rc;
}
