/* amqp_client.h — UdaConnect's RabbitMQ client: one connection, confirmed publishing,
 * consuming with manual acks, dead-lettering with a reason, reconnect with backoff.
 *
 * (Named amqp_client.h, not amqp.h: with -Icommon a common/amqp.h would shadow the
 * rabbitmq-c header <amqp.h>.)
 *
 * Typical loop of a daemon:
 *
 *   struct udc_amqp *c = udc_amqp_new(url, "writer", 30);
 *   for (;;) {
 *       if (udc_amqp_ensure(c) != 0) { sleep a little; continue; }   // not ready meanwhile
 *       struct udc_amqp_event ev;
 *       switch (udc_amqp_poll(c, 100, &ev)) {
 *       case UDC_AMQP_DELIVERY:     handle ev.body/ev.len, later udc_amqp_ack(c, tag, 0)
 *       case UDC_AMQP_CONFIRM_ACK:  seqs up to ev.seq (ev.multiple) are safe at the broker
 *       case UDC_AMQP_CONFIRM_NACK: ... were refused: publish again or fail the request
 *       case UDC_AMQP_RETURN:       ev.seq (when known) was unroutable: its ack follows
 *       case UDC_AMQP_CLOSED:       every unconfirmed seq and unacked delivery tag is void
 *       case UDC_AMQP_TIMEOUT:      nothing happened
 *       }
 *       udc_amqp_event_release(&ev);
 *   }
 *
 * Channel 1 carries publishing (confirm mode) and the consumer; passive checks of the
 * topology run on channel 2, so a missing exchange or queue never disturbs publishes in
 * flight. Any socket error, heartbeat timeout, connection or channel-1 exception closes the
 * connection: the caller sees UDC_AMQP_CLOSED (or -1 from a call) and udc_amqp_ensure()
 * reconnects, restoring the consumer registered with udc_amqp_consume().
 *
 * Heartbeats are sent and checked while the caller is inside udc_amqp_poll(), so a thread
 * that only publishes must still poll (it has to anyway, to read its confirms).
 *
 * Thread-safety: a struct udc_amqp belongs to one thread. Only udc_amqp_is_open(),
 * udc_amqp_is_blocked() and udc_amqp_get_stats() may be called from other threads (e.g. a
 * /ready or /metrics handler).
 */
#ifndef UDC_AMQP_CLIENT_H
#define UDC_AMQP_CLIENT_H

#include <stddef.h>
#include <stdint.h>

struct udc_amqp;

/* One header of a published message: a string value (AMQP longstr). */
struct udc_amqp_header {
    const char *name;
    const char *value;
};

/* A message to publish. Always sent persistent (delivery_mode 2), mandatory, with the
 * connection's app_id and the current time as timestamp. */
struct udc_amqp_message {
    const void *body;
    size_t len;
    const char *content_type; /* NULL: "application/json" */
    const char *message_id;   /* NULL: none */
    const struct udc_amqp_header *headers;
    size_t n_headers;
};

enum udc_amqp_event_type {
    UDC_AMQP_TIMEOUT,
    UDC_AMQP_DELIVERY,
    UDC_AMQP_CONFIRM_ACK,
    UDC_AMQP_CONFIRM_NACK,
    UDC_AMQP_RETURN,
    UDC_AMQP_CLOSED,
};

/* What udc_amqp_poll() saw. String fields are never NULL ("" when absent), NUL-terminated
 * (a value holding a NUL byte is cut there) and valid until udc_amqp_event_release(). */
struct udc_amqp_event {
    enum udc_amqp_event_type type;

    /* CONFIRM_ACK / CONFIRM_NACK: the seq, and whether it covers every earlier seq too.
     * RETURN: the seq of the returned publish, found by its message_id among the
     * unconfirmed ones (0 when it cannot be told). */
    uint64_t seq;
    int multiple;

    /* DELIVERY */
    uint64_t delivery_tag;
    int redelivered;

    /* DELIVERY and RETURN: the message and where it was sent. */
    const void *body;
    size_t len;
    const char *exchange;
    const char *routing_key;
    const char *message_id;
    const char *content_type;
    const char *app_id;
    const char *user_id; /* set and checked by RabbitMQ: the publishing broker user */
    int64_t timestamp;   /* seconds since the epoch, 0 when absent */

    /* RETURN: why the broker returned it (e.g. 312 NO_ROUTE). */
    uint16_t reply_code;
    const char *reply_text;

    /* CLOSED: why. */
    char reason[256];

    void *priv_; /* owned memory; internal */
};

/* Counters since udc_amqp_new(), for /metrics. */
struct udc_amqp_stats {
    uint64_t published;      /* publishes written to the socket (incl. dead letters) */
    uint64_t confirmed;      /* publishes acked by the broker */
    uint64_t nacked;         /* publishes nacked by the broker */
    uint64_t returned;       /* mandatory publishes returned as unroutable */
    uint64_t delivered;      /* deliveries received */
    uint64_t acked;          /* basic.ack sent for deliveries */
    uint64_t rejected;       /* basic.nack sent for deliveries */
    uint64_t dead_lettered;  /* dead letters published */
    uint64_t connects;       /* successful connects, first one included */
    uint64_t reconnects;     /* successful connects after the first */
    uint64_t connect_errors; /* failed connect attempts */
    uint64_t unconfirmed;    /* publishes now waiting for their confirm (a gauge) */
};

/* url: amqp://user:pass@host:port/vhost (vhost percent-decoded; amqps is not supported).
 * app_id: this daemon's name, sent as app_id of every publish and as connection name.
 * heartbeat_s: 0 disables heartbeats. Returns NULL (and logs why, without the password)
 * on an invalid URL or out of memory. */
struct udc_amqp *udc_amqp_new(const char *url, const char *app_id, int heartbeat_s);
void udc_amqp_free(struct udc_amqp *c);

/* Settings; take effect at the next connect. Defaults: 5000 ms connect (TCP + handshake),
 * 10000 ms for each synchronous call, 30000 ms backoff cap. */
void udc_amqp_set_connect_timeout_ms(struct udc_amqp *c, int ms);
void udc_amqp_set_rpc_timeout_ms(struct udc_amqp *c, int ms);
void udc_amqp_set_reconnect_max_ms(struct udc_amqp *c, uint32_t ms);

/* Open TCP, log in, open channel 1 in confirm mode. 0 or -1 with err filled. Does not
 * log and does not restore the consumer (udc_amqp_ensure does both). */
int udc_amqp_connect(struct udc_amqp *c, char *err, size_t errlen);
/* Connect when closed and the backoff allows; logs once per change of state.
 * 0 when open, -1 otherwise. */
int udc_amqp_ensure(struct udc_amqp *c);
int udc_amqp_is_open(const struct udc_amqp *c);
/* 1 while the broker has blocked publishing (resource alarm): publishes are held. */
int udc_amqp_is_blocked(const struct udc_amqp *c);
/* Close politely; unconfirmed publishes and unacked deliveries are void afterwards. */
void udc_amqp_close(struct udc_amqp *c);
/* Why the last connect or the connection failed ("" if it never did). */
const char *udc_amqp_last_error(const struct udc_amqp *c);
/* "user@host:port/vhost", for logs. */
const char *udc_amqp_where(const struct udc_amqp *c);
/* Socket fd while open, else -1 (readable means work for udc_amqp_poll, but frames may
 * also wait in buffers: poll with timeout 0 until TIMEOUT before sleeping on the fd). */
int udc_amqp_fd(const struct udc_amqp *c);

/* Passive declares: 0 when the object exists, -1 with a clear err otherwise ("exchange 'x'
 * does not exist in vhost 'y'"). The connection stays usable after a missing object. */
int udc_amqp_check_exchange(struct udc_amqp *c, const char *name, char *err, size_t errlen);
int udc_amqp_check_queue(struct udc_amqp *c, const char *name, uint32_t *messages,
                         uint32_t *consumers, char *err, size_t errlen);

/* Publish with confirms, without waiting for the confirm: *seq_out (may be NULL) gets the
 * seq that a later CONFIRM_ACK/NACK names. Seqs start at 1 on each connect. 0 or -1 (not
 * open, or the connection broke: then it is closed). */
int udc_amqp_publish(struct udc_amqp *c, const char *exchange, const char *routing_key,
                     const struct udc_amqp_message *msg, uint64_t *seq_out);
/* The highest seq S such that every publish with seq <= S has had its confirm (ack or nack)
 * on this connection; 0 when none has. */
uint64_t udc_amqp_confirmed_through(const struct udc_amqp *c);
/* Publishes waiting for their confirm, and how long the oldest has waited (0 if none). */
uint64_t udc_amqp_unconfirmed(const struct udc_amqp *c);
uint64_t udc_amqp_oldest_unconfirmed_ms(const struct udc_amqp *c);

/* basic.qos(prefetch) + basic.consume(queue, manual ack) on channel 1. Remembered: after a
 * reconnect udc_amqp_ensure() consumes again. One consumer per connection. */
int udc_amqp_consume(struct udc_amqp *c, const char *queue, uint16_t prefetch);
/* Change the consumer's prefetch (kept for reconnects): the consumer is cancelled and
 * registered again with the new basic.qos, since a consumer keeps the prefetch it started
 * with. Deliveries received before stay valid (ack them as usual) and do not count against
 * the new limit. Three round trips to the broker: not for every message. 0, or -1 (then the
 * connection is closed). Without a consumer it only sets the count. */
int udc_amqp_set_prefetch(struct udc_amqp *c, uint16_t prefetch);
uint16_t udc_amqp_prefetch(const struct udc_amqp *c);
/* Stop deliveries (for draining); deliveries already received can still be acked. */
int udc_amqp_cancel(struct udc_amqp *c);
/* Ack/nack a delivery tag of the current connection; a tag never delivered is refused
 * (-1) rather than sent, since the broker would close the channel for it. */
int udc_amqp_ack(struct udc_amqp *c, uint64_t delivery_tag, int multiple);
int udc_amqp_nack(struct udc_amqp *c, uint64_t delivery_tag, int multiple, int requeue);

/* Republish a DELIVERY's original body and properties to dead_exchange with its original
 * routing key, adding headers x-udc-error (reason), x-udc-queue, x-udc-exchange,
 * x-udc-routing-key, x-udc-user-id (the original user_id, which cannot be kept as a
 * property), x-udc-dead-by (this app_id) and x-udc-dead-at (RFC 3339). A confirmed publish:
 * ack the original only once *seq_out is confirmed. */
int udc_amqp_dead_letter(struct udc_amqp *c, const struct udc_amqp_event *delivery,
                         const char *dead_exchange, const char *reason, uint64_t *seq_out);

/* Next event from the broker, waiting at most timeout_ms (<0: forever, 0: only what is
 * already buffered). Returns ev->type. CLOSED when the connection is (or becomes) closed. */
enum udc_amqp_event_type udc_amqp_poll(struct udc_amqp *c, int timeout_ms,
                                       struct udc_amqp_event *ev);
/* Frees what a DELIVERY or RETURN owns; harmless on any event, and twice. */
void udc_amqp_event_release(struct udc_amqp_event *ev);
/* A string header of a DELIVERY/RETURN copied into buf (cut to buflen-1): 1 found, 0 not. */
int udc_amqp_event_header(const struct udc_amqp_event *ev, const char *name, char *buf,
                          size_t buflen);

void udc_amqp_get_stats(const struct udc_amqp *c, struct udc_amqp_stats *out);

#endif
