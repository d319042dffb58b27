/* partner_message.h — what udc-ingest-amqp decides about one message a partner published to
 * udc.partner: who sent it, which of its pings go on to udc.locations, and why the rest is
 * dead-lettered. Pure (no broker, no clock of its own): the caller supplies the delivery's
 * user_id, routing key and body, and the validation rules.
 *
 *   struct partner_verdict v;
 *   if (partner_message_check(ev.user_id, ev.routing_key, ev.body, ev.len, &rules, &v) != 0)
 *       ... out of memory: leave the delivery to redelivery
 *   if (v.out_body)  publish v.out_body (v.out_len bytes) to udc.locations with key
 *                    v.out_routing_key and message_id v.message_id
 *   if (v.reason[0]) dead-letter the original with v.reason (metrics label v.label)
 *   partner_verdict_free(&v);
 *
 * Who sent it. Partners publish with routing key "partner.<name>.<anything>"; RabbitMQ's
 * topic permissions (scripts/partner) let a partner user publish only under its own name, so
 * the name in the routing key is vouched for by the broker. The user_id property, when
 * present, is checked by the broker against the login user and must equal that name. A
 * message without user_id (amqp-publish cannot set it; a dead letter replayed by an operator
 * has lost it) is attributed by its routing key.
 *
 * Thread-safe: no shared state.
 */
#ifndef UDC_INGEST_AMQP_PARTNER_MESSAGE_H
#define UDC_INGEST_AMQP_PARTNER_MESSAGE_H

#include <stddef.h>

#include "location.h"
#include "uuid.h"

#define PARTNER_NAME_MAX      32            /* [a-z0-9-]{1,32} */
#define PARTNER_BODY_MAX      (1024 * 1024) /* larger bodies are dead-lettered unread */
#define PARTNER_BATCH_MAX     1000          /* pings per message */
#define PARTNER_REASON_MAX    1024          /* x-udc-error is cut to this */
#define PARTNER_KEY_PREFIX    "partner."
#define PARTNER_OUT_PREFIX    "location.partner."
#define PARTNER_SOURCE_PREFIX "partner:"

struct partner_verdict {
    char partner[PARTNER_NAME_MAX + 1]; /* "" when the sender could not be told */
    /* The message for udc.locations (malloc'd; NULL when no ping is valid): one location
     * object when the partner sent one ping, else {"locations":[...]}. */
    char *out_body;
    size_t out_len;
    char out_routing_key[sizeof PARTNER_OUT_PREFIX + PARTNER_NAME_MAX];
    char message_id[UDC_UUID_BUF]; /* the event_id of a single ping, a new UUID for a batch */
    size_t pings;                  /* valid pings in out_body */
    size_t invalid;                /* items rejected */
    /* Non-empty: dead-letter the original message with this reason (x-udc-error). When
     * out_body is set too, the reason lists only the rejected items. */
    char reason[PARTNER_REASON_MAX];
    const char *label; /* bounded metrics label of the reason: identity, routing_key,
                          too_large, malformed, invalid_items; NULL when no reason */
};

/* 1 when name is a valid partner name: 1 to 32 characters of [a-z0-9-]. */
int partner_name_valid(const char *name);

/* Fill *v for one delivery. rules: the caller's clock and future skew; require_event_id and
 * require_creation_time are forced on (partners' retries must be idempotent). Returns 0, or
 * -1 when memory ran out (v is then empty). Always free v with partner_verdict_free. */
int partner_message_check(const char *user_id, const char *routing_key, const void *body,
                          size_t len, const struct udc_location_rules *rules,
                          struct partner_verdict *v);

void partner_verdict_free(struct partner_verdict *v);

#endif
