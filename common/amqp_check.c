/* amqp_check.c — passive declares of amqp_client.h, on a channel of their own so that a
 * missing object (which makes the broker close the channel) leaves publishing alone. */
#include "amqp_client_private.h"

#include <stdio.h>
#include <string.h>

static int ready_for_check(struct udc_amqp *c, const char *kind, const char *name, char *err,
                           size_t errlen)
{
    if (c->conn == NULL) {
        snprintf(err, errlen, "cannot check %s: not connected to %s", kind, c->where);
        return -1;
    }
    if (!udc_amqp_shortstr_ok_(name)) {
        snprintf(err, errlen, "%s name missing or longer than 255 bytes", kind);
        return -1;
    }
    if (c->check_channel_open)
        return 0;
    amqp_channel_open(c->conn, UDC_AMQP_CHECK_CHAN);
    amqp_rpc_reply_t r = amqp_get_rpc_reply(c->conn);
    if (r.reply_type != AMQP_RESPONSE_NORMAL) {
        udc_amqp_rpc_failed_(c, r, UDC_AMQP_CHECK_CHAN, "channel.open", err, errlen);
        return -1;
    }
    c->check_channel_open = 1;
    return 0;
}

static void explain_failure(struct udc_amqp *c, amqp_rpc_reply_t r, const char *kind,
                            const char *name, char *err, size_t errlen)
{
    int code = udc_amqp_close_code_(r);
    char what[400];

    snprintf(what, sizeof what, "passive declare of %s '%s'", kind, name);
    udc_amqp_rpc_failed_(c, r, UDC_AMQP_CHECK_CHAN, what, err, errlen);
    if (code == AMQP_NOT_FOUND)
        snprintf(err, errlen, "%s '%s' does not exist in vhost '%s'", kind, name, c->vhost);
    else if (code == AMQP_ACCESS_REFUSED)
        snprintf(err, errlen, "%s '%s' in vhost '%s': access refused for user '%s'", kind, name,
                 c->vhost, c->user);
}

int udc_amqp_check_exchange(struct udc_amqp *c, const char *name, char *err, size_t errlen)
{
    char scratch[256];
    if (err == NULL || errlen == 0) {
        err = scratch;
        errlen = sizeof scratch;
    }
    if (ready_for_check(c, "exchange", name, err, errlen) != 0)
        return -1;
    amqp_exchange_declare(c->conn, UDC_AMQP_CHECK_CHAN, amqp_cstring_bytes(name), amqp_empty_bytes,
                          1, 0, 0, 0, amqp_empty_table);
    amqp_rpc_reply_t r = amqp_get_rpc_reply(c->conn);
    if (r.reply_type != AMQP_RESPONSE_NORMAL) {
        explain_failure(c, r, "exchange", name, err, errlen);
        return -1;
    }
    return 0;
}

int udc_amqp_check_queue(struct udc_amqp *c, const char *name, uint32_t *messages,
                         uint32_t *consumers, char *err, size_t errlen)
{
    char scratch[256];
    if (err == NULL || errlen == 0) {
        err = scratch;
        errlen = sizeof scratch;
    }
    if (ready_for_check(c, "queue", name, err, errlen) != 0)
        return -1;
    amqp_queue_declare_ok_t *ok = amqp_queue_declare(
        c->conn, UDC_AMQP_CHECK_CHAN, amqp_cstring_bytes(name), 1, 0, 0, 0, amqp_empty_table);
    amqp_rpc_reply_t r = amqp_get_rpc_reply(c->conn);
    if (ok == NULL || r.reply_type != AMQP_RESPONSE_NORMAL) {
        explain_failure(c, r, "queue", name, err, errlen);
        return -1;
    }
    if (messages != NULL)
        *messages = ok->message_count;
    if (consumers != NULL)
        *consumers = ok->consumer_count;
    return 0;
}
