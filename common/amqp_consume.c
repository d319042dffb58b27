/* amqp_consume.c — the consumer of amqp_client.h: qos, consume, cancel, ack, nack. */
#include "amqp_client_private.h"

#include <stdio.h>
#include <string.h>

#include "log.h"

int udc_amqp_start_consumer_(struct udc_amqp *c, char *err, size_t errlen)
{
    /* Checked first on the check channel: a missing queue then is a clear error and not a
     * closed channel 1. */
    if (udc_amqp_check_queue(c, c->consume_queue, NULL, NULL, err, errlen) != 0)
        return -1;
    amqp_basic_qos(c->conn, UDC_AMQP_CHANNEL, 0, c->prefetch, 0);
    amqp_rpc_reply_t r = amqp_get_rpc_reply(c->conn);
    if (r.reply_type != AMQP_RESPONSE_NORMAL) {
        udc_amqp_rpc_failed_(c, r, UDC_AMQP_CHANNEL, "basic.qos", err, errlen);
        return -1;
    }
    amqp_basic_consume_ok_t *ok =
        amqp_basic_consume(c->conn, UDC_AMQP_CHANNEL, amqp_cstring_bytes(c->consume_queue),
                           amqp_empty_bytes, 0, 0, 0, amqp_empty_table);
    r = amqp_get_rpc_reply(c->conn);
    if (ok == NULL || r.reply_type != AMQP_RESPONSE_NORMAL) {
        char what[300];
        snprintf(what, sizeof what, "basic.consume of queue '%s'", c->consume_queue);
        udc_amqp_rpc_failed_(c, r, UDC_AMQP_CHANNEL, what, err, errlen);
        return -1;
    }
    udc_amqp_copy_bytes_(c->consumer_tag, sizeof c->consumer_tag, ok->consumer_tag);
    return 0;
}

int udc_amqp_consume(struct udc_amqp *c, const char *queue, uint16_t prefetch)
{
    char err[300], q[320];

    if (c->conn == NULL || !udc_amqp_shortstr_ok_(queue))
        return -1;
    if (c->consumer_tag[0] != '\0') /* one consumer per connection; asking again is fine */
        return strcmp(c->consume_queue, queue) == 0 ? 0 : -1;
    snprintf(c->consume_queue, sizeof c->consume_queue, "%s", queue);
    c->prefetch = prefetch;
    if (udc_amqp_start_consumer_(c, err, sizeof err) != 0) {
        udc_log_error("cannot consume", "queue=%s error=%s", c->consume_queue,
                      udc_log_quote(q, sizeof q, err));
        c->consume_queue[0] = '\0';
        c->consumer_tag[0] = '\0';
        return -1;
    }
    return 0;
}

int udc_amqp_set_prefetch(struct udc_amqp *c, uint16_t prefetch)
{
    char err[300];

    c->prefetch = prefetch;
    if (c->conn == NULL || c->consumer_tag[0] == '\0')
        return 0;
    /* A consumer keeps the prefetch it was created with (basic.qos with global=false only
     * applies to later consumers, and quorum queues refuse global=true): consume anew.
     * Deliveries of the old consumer stay unacked on the channel and are acked as usual. */
    amqp_basic_cancel(c->conn, UDC_AMQP_CHANNEL, amqp_cstring_bytes(c->consumer_tag));
    amqp_rpc_reply_t r = amqp_get_rpc_reply(c->conn);
    if (r.reply_type != AMQP_RESPONSE_NORMAL) {
        udc_amqp_rpc_failed_(c, r, UDC_AMQP_CHANNEL, "basic.cancel", NULL, 0);
        return -1;
    }
    c->consumer_tag[0] = '\0';
    if (udc_amqp_start_consumer_(c, err, sizeof err) != 0) {
        if (c->conn != NULL)
            udc_amqp_drop_(c, err, 1);
        return -1;
    }
    return 0;
}

uint16_t udc_amqp_prefetch(const struct udc_amqp *c)
{
    return c->prefetch;
}

int udc_amqp_cancel(struct udc_amqp *c)
{
    char tag[UDC_AMQP_SHORTSTR];

    snprintf(tag, sizeof tag, "%s", c->consumer_tag);
    c->consume_queue[0] = '\0';
    c->consumer_tag[0] = '\0';
    if (c->conn == NULL || tag[0] == '\0')
        return c->conn == NULL ? -1 : 0;
    amqp_basic_cancel(c->conn, UDC_AMQP_CHANNEL, amqp_cstring_bytes(tag));
    amqp_rpc_reply_t r = amqp_get_rpc_reply(c->conn);
    if (r.reply_type != AMQP_RESPONSE_NORMAL) {
        udc_amqp_rpc_failed_(c, r, UDC_AMQP_CHANNEL, "basic.cancel", NULL, 0);
        return -1;
    }
    return 0;
}

static int tag_ok(const struct udc_amqp *c, uint64_t tag, int multiple)
{
    if (c->conn == NULL || tag > c->max_delivery_tag)
        return 0;
    return tag > 0 || multiple; /* tag 0 with multiple means "all so far" */
}

static int sent(struct udc_amqp *c, int rc, const char *what)
{
    if (rc == AMQP_STATUS_OK)
        return 0;
    char why[200];
    snprintf(why, sizeof why, "%s failed: %s", what, amqp_error_string2(rc));
    udc_amqp_drop_(c, why, 0);
    return -1;
}

int udc_amqp_ack(struct udc_amqp *c, uint64_t delivery_tag, int multiple)
{
    if (!tag_ok(c, delivery_tag, multiple))
        return -1;
    int rc = amqp_basic_ack(c->conn, UDC_AMQP_CHANNEL, delivery_tag, multiple != 0);
    if (sent(c, rc, "basic.ack") != 0)
        return -1;
    UDC_STAT_ADD(c, acked, 1);
    return 0;
}

int udc_amqp_nack(struct udc_amqp *c, uint64_t delivery_tag, int multiple, int requeue)
{
    if (!tag_ok(c, delivery_tag, multiple))
        return -1;
    int rc = amqp_basic_nack(c->conn, UDC_AMQP_CHANNEL, delivery_tag, multiple != 0, requeue != 0);
    if (sent(c, rc, "basic.nack") != 0)
        return -1;
    UDC_STAT_ADD(c, rejected, 1);
    return 0;
}
