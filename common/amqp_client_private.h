/* amqp_client_private.h — state shared by the amqp_*.c files behind amqp_client.h.
 * Not for daemons: they use amqp_client.h only.
 */
#ifndef UDC_AMQP_CLIENT_PRIVATE_H
#define UDC_AMQP_CLIENT_PRIVATE_H

#include <amqp.h>
#include <stdatomic.h>
#include <stdint.h>

#include "amqp_client.h"
#include "backoff.h"

#define UDC_AMQP_CHANNEL    1 /* publishing (confirm mode) and consuming */
#define UDC_AMQP_CHECK_CHAN 2 /* passive declares: their failures close only this channel */
#define UDC_AMQP_SHORTSTR   256

/* One publish waiting for its confirm. */
struct udc_amqp_inflight {
    uint64_t id_hash; /* of message_id, to tell which seq a basic.return is about */
    uint64_t sent_ms;
    uint8_t state;
};

enum { INFLIGHT_PENDING, INFLIGHT_RETURNED, INFLIGHT_DONE };

/* Unconfirmed publishes, by seq: a ring whose head is the oldest still pending. */
struct udc_amqp_ring {
    struct udc_amqp_inflight *slots;
    size_t cap; /* a power of two, or 0 */
    size_t head;
    size_t count;
    uint64_t first_seq; /* seq of slots[head] */
    uint64_t pending;   /* entries not yet confirmed */
};

struct udc_amqp_counters {
    _Atomic uint64_t published, confirmed, nacked, returned, delivered, acked, rejected,
        dead_lettered, connects, reconnects, connect_errors, unconfirmed;
};

/* What a DELIVERY or RETURN event owns (its priv_). */
struct udc_amqp_event_priv {
    int is_delivery;     /* env is a whole envelope; for a RETURN only env.message is set */
    amqp_envelope_t env; /* body, properties, headers */
    char exchange[UDC_AMQP_SHORTSTR], routing_key[UDC_AMQP_SHORTSTR];
    char message_id[UDC_AMQP_SHORTSTR], content_type[UDC_AMQP_SHORTSTR];
    char app_id[UDC_AMQP_SHORTSTR], user_id[UDC_AMQP_SHORTSTR];
    char reply_text[UDC_AMQP_SHORTSTR];
};

enum udc_amqp_logged { LOGGED_NOTHING, LOGGED_UP, LOGGED_DOWN };

struct udc_amqp {
    /* Where and who; the password is never logged. */
    char *host, *user, *password, *vhost;
    int port;
    char app_id[UDC_AMQP_SHORTSTR];
    char where[512];
    int heartbeat_s, connect_timeout_ms, rpc_timeout_ms;

    amqp_connection_state_t conn; /* NULL while closed */
    _Atomic int open;
    _Atomic int blocked;
    int check_channel_open;
    uint64_t next_seq;         /* of the next publish on this channel */
    uint64_t max_delivery_tag; /* highest delivery tag received on this channel */
    struct udc_amqp_ring ring;
    struct udc_amqp_event_priv *spare; /* reused by poll while no delivery takes it */

    /* The consumer to restore after a reconnect ("" when none). */
    char consume_queue[UDC_AMQP_SHORTSTR];
    char consumer_tag[UDC_AMQP_SHORTSTR];
    uint16_t prefetch;

    struct udc_backoff backoff;
    int ever_connected;
    enum udc_amqp_logged logged;
    char logged_error[256];
    char last_error[256];
    uint64_t closed_at_ms;

    struct udc_amqp_counters stats;
};

#define UDC_STAT_ADD(c, field, n)                                                                  \
    atomic_fetch_add_explicit(&(c)->stats.field, (n), memory_order_relaxed)

/* Connection lost or abandoned: free it, void seqs and tags, log once. polite: try a
 * connection.close first (only when the socket is believed healthy). */
void udc_amqp_drop_(struct udc_amqp *c, const char *reason, int polite);
/* A failed synchronous call: describe it in err, answer a broker close with close-ok, and
 * drop the connection unless only the check channel was closed. */
void udc_amqp_rpc_failed_(struct udc_amqp *c, amqp_rpc_reply_t r, amqp_channel_t channel,
                          const char *what, char *err, size_t errlen);
/* Reply code of a broker close in r (e.g. 404), 0 if r is not one. */
int udc_amqp_close_code_(amqp_rpc_reply_t r);
/* Copy bytes from the broker into a C string: cut at NUL, control bytes become '?'. */
void udc_amqp_copy_bytes_(char *dst, size_t dstlen, amqp_bytes_t src);
/* 1 when s fits an AMQP short string. */
int udc_amqp_shortstr_ok_(const char *s);
/* Re-issue qos + consume for the remembered queue. */
int udc_amqp_start_consumer_(struct udc_amqp *c, char *err, size_t errlen);

/* The unconfirmed-publish ring. */
void udc_amqp_ring_reset_(struct udc_amqp_ring *r);
void udc_amqp_ring_free_(struct udc_amqp_ring *r);
int udc_amqp_ring_reserve_(struct udc_amqp_ring *r);
void udc_amqp_ring_add_(struct udc_amqp_ring *r, uint64_t seq, uint64_t id_hash, uint64_t now_ms);
/* Mark seq (or every seq up to it) confirmed; returns how many were newly confirmed. */
uint64_t udc_amqp_ring_confirm_(struct udc_amqp_ring *r, uint64_t seq, int multiple);
/* The oldest pending, not yet returned seq whose message_id hashes to id_hash; 0 if none. */
uint64_t udc_amqp_ring_match_return_(struct udc_amqp_ring *r, uint64_t id_hash);
uint64_t udc_amqp_id_hash_(const void *id, size_t len);

#endif
