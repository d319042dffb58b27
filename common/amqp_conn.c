/* amqp_conn.c — connection life cycle of amqp_client.h: URL, connect, close, reconnect. */
#include "amqp_client_private.h"

#include <amqp_tcp_socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

#define DEFAULT_CONNECT_TIMEOUT_MS 5000
#define DEFAULT_RPC_TIMEOUT_MS     10000
#define RECONNECT_BASE_MS          200
#define DEFAULT_RECONNECT_MAX_MS   30000
#define FRAME_MAX                  131072

/* "amqp://user:secret@host/" → "amqp://user:***@host/", for error messages. */
static void redact_url(char *dst, size_t dstlen, const char *url)
{
    snprintf(dst, dstlen, "%s", url);
    char *auth = strstr(dst, "://");
    if (auth == NULL)
        return;
    auth += 3;
    char *at = strrchr(auth, '@');
    char *colon = strchr(auth, ':');
    if (at != NULL && colon != NULL && colon < at) {
        char rest[512];
        snprintf(rest, sizeof rest, "%s", at);
        snprintf(colon, dstlen - (size_t)(colon - dst), ":***%s", rest);
    }
}

static int parse_url(struct udc_amqp *c, const char *url)
{
    char shown[512];
    struct amqp_connection_info info;
    char *copy = strdup(url); /* amqp_parse_url writes into its input */

    redact_url(shown, sizeof shown, url);
    if (copy == NULL)
        return -1;
    amqp_default_connection_info(&info);
    int rc = amqp_parse_url(copy, &info);
    if (rc != AMQP_STATUS_OK || info.ssl) {
        udc_log_error("invalid AMQP URL", "url=%s error=%s",
                      udc_log_quote((char[600]){0}, 600, shown),
                      rc != AMQP_STATUS_OK ? "unparsable" : "amqps-not-supported");
        free(copy);
        return -1;
    }
    c->host = strdup(info.host);
    c->user = strdup(info.user);
    c->password = strdup(info.password);
    c->vhost = strdup(info.vhost);
    c->port = info.port;
    free(copy);
    if (!c->host || !c->user || !c->password || !c->vhost)
        return -1;
    snprintf(c->where, sizeof c->where, "%s@%s:%d/%s", c->user, c->host, c->port, c->vhost);
    return 0;
}

struct udc_amqp *udc_amqp_new(const char *url, const char *app_id, int heartbeat_s)
{
    struct udc_amqp *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    if (url == NULL || parse_url(c, url) != 0) {
        udc_amqp_free(c);
        return NULL;
    }
    snprintf(c->app_id, sizeof c->app_id, "%s", app_id ? app_id : "udaconnect");
    c->heartbeat_s = heartbeat_s > 0 ? heartbeat_s : 0;
    c->connect_timeout_ms = DEFAULT_CONNECT_TIMEOUT_MS;
    c->rpc_timeout_ms = DEFAULT_RPC_TIMEOUT_MS;
    udc_backoff_init(&c->backoff, RECONNECT_BASE_MS, DEFAULT_RECONNECT_MAX_MS);
    return c;
}

void udc_amqp_free(struct udc_amqp *c)
{
    if (c == NULL)
        return;
    udc_amqp_close(c);
    udc_amqp_ring_free_(&c->ring);
    free(c->spare);
    if (c->password != NULL)
        memset(c->password, 0, strlen(c->password));
    free(c->host);
    free(c->user);
    free(c->password);
    free(c->vhost);
    free(c);
}

void udc_amqp_set_connect_timeout_ms(struct udc_amqp *c, int ms)
{
    c->connect_timeout_ms = ms > 0 ? ms : DEFAULT_CONNECT_TIMEOUT_MS;
}

void udc_amqp_set_rpc_timeout_ms(struct udc_amqp *c, int ms)
{
    c->rpc_timeout_ms = ms > 0 ? ms : DEFAULT_RPC_TIMEOUT_MS;
}

void udc_amqp_set_reconnect_max_ms(struct udc_amqp *c, uint32_t ms)
{
    uint32_t attempt = c->backoff.attempt;
    uint64_t next_at = c->backoff.next_at_ms;
    udc_backoff_init(&c->backoff, RECONNECT_BASE_MS, ms);
    c->backoff.attempt = attempt;
    c->backoff.next_at_ms = next_at;
}

static struct timeval ms_to_timeval(int ms)
{
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
    return tv;
}

void udc_amqp_copy_bytes_(char *dst, size_t dstlen, amqp_bytes_t src)
{
    size_t n = 0;
    const unsigned char *p = src.bytes;

    if (dstlen == 0)
        return;
    for (; p != NULL && n < src.len && n + 1 < dstlen && p[n] != '\0'; n++)
        dst[n] = (p[n] < ' ' || p[n] == 0x7f) ? '?' : (char)p[n];
    dst[n] = '\0';
}

int udc_amqp_shortstr_ok_(const char *s)
{
    return s != NULL && strlen(s) < UDC_AMQP_SHORTSTR;
}

int udc_amqp_close_code_(amqp_rpc_reply_t r)
{
    if (r.reply_type != AMQP_RESPONSE_SERVER_EXCEPTION || r.reply.decoded == NULL)
        return 0;
    if (r.reply.id == AMQP_CHANNEL_CLOSE_METHOD)
        return ((amqp_channel_close_t *)r.reply.decoded)->reply_code;
    if (r.reply.id == AMQP_CONNECTION_CLOSE_METHOD)
        return ((amqp_connection_close_t *)r.reply.decoded)->reply_code;
    return 0;
}

static void describe_reply(amqp_rpc_reply_t r, char *buf, size_t len)
{
    char text[UDC_AMQP_SHORTSTR];

    switch (r.reply_type) {
    case AMQP_RESPONSE_NORMAL:
        snprintf(buf, len, "ok");
        return;
    case AMQP_RESPONSE_NONE:
        snprintf(buf, len, "no reply from the broker");
        return;
    case AMQP_RESPONSE_LIBRARY_EXCEPTION:
        snprintf(buf, len, "%s", amqp_error_string2(r.library_error));
        return;
    case AMQP_RESPONSE_SERVER_EXCEPTION:
        if (r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
            amqp_channel_close_t *m = r.reply.decoded;
            udc_amqp_copy_bytes_(text, sizeof text, m->reply_text);
            snprintf(buf, len, "channel closed by the broker: %u %s", m->reply_code, text);
        } else if (r.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
            amqp_connection_close_t *m = r.reply.decoded;
            udc_amqp_copy_bytes_(text, sizeof text, m->reply_text);
            snprintf(buf, len, "connection closed by the broker: %u %s", m->reply_code, text);
        } else {
            snprintf(buf, len, "unexpected method 0x%08x from the broker", r.reply.id);
        }
        return;
    }
    snprintf(buf, len, "unknown reply");
}

void udc_amqp_rpc_failed_(struct udc_amqp *c, amqp_rpc_reply_t r, amqp_channel_t channel,
                          const char *what, char *err, size_t errlen)
{
    char why[400];

    describe_reply(r, why, sizeof why);
    if (err != NULL && errlen > 0)
        snprintf(err, errlen, "%s: %s", what, why);
    if (c->conn == NULL)
        return;
    if (r.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION && r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
        amqp_channel_close_ok_t ok = {0};
        int rc = amqp_send_method(c->conn, channel, AMQP_CHANNEL_CLOSE_OK_METHOD, &ok);
        if (channel == UDC_AMQP_CHECK_CHAN && rc == AMQP_STATUS_OK) {
            c->check_channel_open = 0;
            return;
        }
        udc_amqp_drop_(c, why, rc == AMQP_STATUS_OK);
        return;
    }
    if (r.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION &&
        r.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
        amqp_connection_close_ok_t ok = {0};
        amqp_send_method(c->conn, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &ok);
    }
    /* A library error (socket, timeout) leaves the protocol state unknown: start over. */
    udc_amqp_drop_(c, why, 0);
}

static void reset_channel_state(struct udc_amqp *c)
{
    c->next_seq = 1;
    c->max_delivery_tag = 0;
    c->check_channel_open = 0;
    c->consumer_tag[0] = '\0'; /* the consumer died with the channel; consume_queue stays */
    atomic_store(&c->blocked, 0);
    udc_amqp_ring_reset_(&c->ring);
    atomic_store(&c->stats.unconfirmed, 0);
}

void udc_amqp_drop_(struct udc_amqp *c, const char *reason, int polite)
{
    if (c->conn == NULL)
        return;
    int was_open = atomic_exchange(&c->open, 0);
    if (polite)
        amqp_connection_close(c->conn, AMQP_REPLY_SUCCESS);
    amqp_destroy_connection(c->conn);
    c->conn = NULL;
    c->closed_at_ms = udc_now_ms();
    reset_channel_state(c);
    snprintf(c->last_error, sizeof c->last_error, "%s", reason);
    if (was_open && c->logged != LOGGED_DOWN) {
        char q[300];
        udc_log_warn("broker connection lost", "where=%s reason=%s", c->where,
                     udc_log_quote(q, sizeof q, reason));
        c->logged = LOGGED_DOWN;
        snprintf(c->logged_error, sizeof c->logged_error, "%s", reason);
    }
}

/* Client properties: a connection name for the management UI, and the capabilities that
 * make the broker tell us about a cancelled consumer or a resource alarm. */
static int login(struct udc_amqp *c, char *err, size_t errlen)
{
    amqp_table_entry_t caps[2] = {
        {.key = amqp_cstring_bytes("consumer_cancel_notify"),
         .value = {.kind = AMQP_FIELD_KIND_BOOLEAN, .value.boolean = 1}},
        {.key = amqp_cstring_bytes("connection.blocked"),
         .value = {.kind = AMQP_FIELD_KIND_BOOLEAN, .value.boolean = 1}},
    };
    amqp_table_entry_t props[2] = {
        {.key = amqp_cstring_bytes("connection_name"),
         .value = {.kind = AMQP_FIELD_KIND_UTF8, .value.bytes = amqp_cstring_bytes(c->app_id)}},
        {.key = amqp_cstring_bytes("capabilities"),
         .value = {.kind = AMQP_FIELD_KIND_TABLE, .value.table = {2, caps}}},
    };
    amqp_table_t table = {2, props};

    amqp_rpc_reply_t r =
        amqp_login_with_properties(c->conn, c->vhost, 0, FRAME_MAX, c->heartbeat_s, &table,
                                   AMQP_SASL_METHOD_PLAIN, c->user, c->password);
    if (r.reply_type == AMQP_RESPONSE_NORMAL)
        return 0;
    char why[400];
    describe_reply(r, why, sizeof why);
    if (udc_amqp_close_code_(r) == AMQP_ACCESS_REFUSED ||
        (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
         r.library_error == AMQP_STATUS_CONNECTION_CLOSED))
        snprintf(err, errlen, "login to %s refused (wrong user or password?): %s", c->where, why);
    else
        snprintf(err, errlen, "login to %s failed: %s", c->where, why);
    return -1;
}

static int open_channel(struct udc_amqp *c, char *err, size_t errlen)
{
    amqp_channel_open(c->conn, UDC_AMQP_CHANNEL);
    amqp_rpc_reply_t r = amqp_get_rpc_reply(c->conn);
    if (r.reply_type != AMQP_RESPONSE_NORMAL) {
        udc_amqp_rpc_failed_(c, r, UDC_AMQP_CHANNEL, "channel.open", err, errlen);
        return -1;
    }
    amqp_confirm_select(c->conn, UDC_AMQP_CHANNEL);
    r = amqp_get_rpc_reply(c->conn);
    if (r.reply_type != AMQP_RESPONSE_NORMAL) {
        udc_amqp_rpc_failed_(c, r, UDC_AMQP_CHANNEL, "confirm.select", err, errlen);
        return -1;
    }
    return 0;
}

int udc_amqp_connect(struct udc_amqp *c, char *err, size_t errlen)
{
    char scratch[256];
    if (err == NULL || errlen == 0) {
        err = scratch;
        errlen = sizeof scratch;
    }
    err[0] = '\0';
    if (c->conn != NULL)
        return 0;

    c->conn = amqp_new_connection();
    amqp_socket_t *sock = c->conn ? amqp_tcp_socket_new(c->conn) : NULL;
    if (sock == NULL) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    struct timeval connect_tv = ms_to_timeval(c->connect_timeout_ms);
    struct timeval rpc_tv = ms_to_timeval(c->rpc_timeout_ms);
    amqp_set_handshake_timeout(c->conn, &connect_tv);
    amqp_set_rpc_timeout(c->conn, &rpc_tv);
    int rc = amqp_socket_open_noblock(sock, c->host, c->port, &connect_tv);
    if (rc != AMQP_STATUS_OK) {
        snprintf(err, errlen, "cannot connect to %s:%d: %s", c->host, c->port,
                 amqp_error_string2(rc));
        goto fail;
    }
    if (login(c, err, errlen) != 0)
        goto fail;
    reset_channel_state(c);
    if (open_channel(c, err, errlen) != 0)
        goto fail;
    atomic_store(&c->open, 1);
    return 0;

fail:
    snprintf(c->last_error, sizeof c->last_error, "%s", err);
    if (c->conn != NULL) {
        amqp_destroy_connection(c->conn);
        c->conn = NULL;
    }
    return -1;
}

int udc_amqp_is_open(const struct udc_amqp *c)
{
    return atomic_load(&((struct udc_amqp *)c)->open);
}

int udc_amqp_is_blocked(const struct udc_amqp *c)
{
    return atomic_load(&((struct udc_amqp *)c)->blocked);
}

const char *udc_amqp_last_error(const struct udc_amqp *c)
{
    return c->last_error;
}

const char *udc_amqp_where(const struct udc_amqp *c)
{
    return c->where;
}

int udc_amqp_fd(const struct udc_amqp *c)
{
    return c->conn != NULL ? amqp_get_sockfd(c->conn) : -1;
}

void udc_amqp_close(struct udc_amqp *c)
{
    if (c->conn == NULL)
        return;
    /* A requested close is not news worth a warning. */
    c->logged = LOGGED_NOTHING;
    atomic_store(&c->open, 0);
    udc_amqp_drop_(c, "closed by the application", 1);
}

static void log_connect_failure(struct udc_amqp *c, const char *err, uint32_t retry_ms)
{
    char q[300];
    /* Once per change: a broker that stays down does not fill the log, but a new reason
     * (e.g. the broker is back but refuses the password) is worth a line. */
    if (c->logged == LOGGED_DOWN && strcmp(c->logged_error, err) == 0) {
        udc_log_debug("broker still unavailable", "where=%s retry_ms=%u", c->where, retry_ms);
        return;
    }
    udc_log_warn("broker unavailable", "where=%s error=%s retry_ms=%u", c->where,
                 udc_log_quote(q, sizeof q, err), retry_ms);
    c->logged = LOGGED_DOWN;
    snprintf(c->logged_error, sizeof c->logged_error, "%s", err);
}

int udc_amqp_ensure(struct udc_amqp *c)
{
    char err[256];

    if (c->conn != NULL)
        return 0;
    uint64_t now = udc_now_ms();
    if (!udc_backoff_ready(&c->backoff, now))
        return -1;
    if (udc_amqp_connect(c, err, sizeof err) == 0 &&
        (c->consume_queue[0] == '\0' || udc_amqp_start_consumer_(c, err, sizeof err) == 0)) {
        UDC_STAT_ADD(c, connects, 1);
        if (c->ever_connected)
            UDC_STAT_ADD(c, reconnects, 1);
        udc_log_info("broker connected", "where=%s attempts=%u consuming=%s", c->where,
                     c->backoff.attempt + 1, c->consume_queue[0] ? c->consume_queue : "-");
        c->ever_connected = 1;
        c->logged = LOGGED_UP;
        udc_backoff_reset(&c->backoff);
        return 0;
    }
    if (c->conn != NULL) { /* connected, but the consumer could not be restored */
        atomic_store(&c->open, 0);
        amqp_destroy_connection(c->conn);
        c->conn = NULL;
        reset_channel_state(c);
        snprintf(c->last_error, sizeof c->last_error, "%s", err);
    }
    UDC_STAT_ADD(c, connect_errors, 1);
    log_connect_failure(c, err, udc_backoff_fail(&c->backoff, udc_now_ms()));
    return -1;
}

void udc_amqp_get_stats(const struct udc_amqp *c, struct udc_amqp_stats *out)
{
    struct udc_amqp_counters *s = &((struct udc_amqp *)c)->stats;
#define LOAD(f) out->f = atomic_load_explicit(&s->f, memory_order_relaxed)
    LOAD(published);
    LOAD(confirmed);
    LOAD(nacked);
    LOAD(returned);
    LOAD(delivered);
    LOAD(acked);
    LOAD(rejected);
    LOAD(dead_lettered);
    LOAD(connects);
    LOAD(reconnects);
    LOAD(connect_errors);
    LOAD(unconfirmed);
#undef LOAD
}
