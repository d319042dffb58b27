/* udc-dead-letters — the program behind scripts/dead-letters (built by make into
 * build/bin/udc-dead-letters): browse, show, replay and purge the dead letters of
 * UdaConnect's udc.dead.letters queue, reasons included.
 *
 *   UDC_AMQP_URL=amqp://admin:pw@host:port/udaconnect udc-dead-letters [-q QUEUE] COMMAND
 *     list                 one entry per dead letter: its ref, when, by whom, where it was
 *                          going, message id, reason
 *     show REF|ID          every property, header and the body of that dead letter
 *     replay REF|ID ...    publish the selected dead letters (by ref or message id) to the
 *                          exchange and routing key they were refused from, confirmed, then
 *                          remove them from the queue
 *     replay --all         the same for every dead letter present when the command starts
 *     purge                remove every dead letter
 *
 * Browsing loses nothing: each message is fetched with basic.get WITHOUT acknowledging it,
 * so the broker holds it for this channel; closing the channel at the end returns every
 * message not replayed to the queue. A quorum queue does not keep the order of returned
 * messages, so positions mean nothing from one command to the next: each dead letter is named
 * by its ref, 12 hex digits hashed from what never changes in it (body, routing, message id,
 * reason, time of death). Identical dead letters share a ref and are handled together.
 *
 * Why the message was dead-lettered: header x-udc-error (set by the UdaConnect daemons),
 * or for the broker's own dead-lettering (delivery limit reached, rejected) the x-first-death-*
 * headers. Where it came from: x-udc-exchange / x-udc-routing-key, else x-first-death-exchange
 * and the routing key it carries. A replayed message keeps body and properties, without the
 * dead-letter headers and without user_id (only the original user could send that one).
 *
 * Stand-alone (librabbitmq only), so it builds without the project's Makefile.
 */
#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CHANNEL      1
#define MAX_SELECTED 4096

struct session {
    amqp_connection_state_t conn;
    const char *queue;
};

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("dead-letters: error: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static const char *rpc_error(amqp_rpc_reply_t r)
{
    static char buf[512];
    switch (r.reply_type) {
    case AMQP_RESPONSE_NORMAL:
        return "ok";
    case AMQP_RESPONSE_NONE:
        return "missing RPC reply";
    case AMQP_RESPONSE_LIBRARY_EXCEPTION:
        return amqp_error_string2(r.library_error);
    case AMQP_RESPONSE_SERVER_EXCEPTION:
        if (r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
            amqp_channel_close_t *m = r.reply.decoded;
            snprintf(buf, sizeof buf, "channel closed by the broker: %u %.*s", m->reply_code,
                     (int)m->reply_text.len, (const char *)m->reply_text.bytes);
            return buf;
        }
        if (r.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
            amqp_connection_close_t *m = r.reply.decoded;
            snprintf(buf, sizeof buf, "connection closed by the broker: %u %.*s", m->reply_code,
                     (int)m->reply_text.len, (const char *)m->reply_text.bytes);
            return buf;
        }
        return "broker error";
    }
    return "unknown error";
}

static void check_rpc(amqp_connection_state_t conn, const char *what)
{
    amqp_rpc_reply_t r = amqp_get_rpc_reply(conn);
    if (r.reply_type != AMQP_RESPONSE_NORMAL)
        die("%s: %s", what, rpc_error(r));
}

static void open_session(struct session *s, const char *queue)
{
    const char *env = getenv("UDC_AMQP_URL");
    if (!env || !*env)
        die("UDC_AMQP_URL is not set (the broker's admin URL; scripts/dead-letters sets it)");
    char *url = strdup(env);
    struct amqp_connection_info info;
    if (!url || amqp_parse_url(url, &info) != AMQP_STATUS_OK)
        die("UDC_AMQP_URL is not a valid amqp:// URL");
    s->queue = queue;
    s->conn = amqp_new_connection();
    amqp_socket_t *sock = amqp_tcp_socket_new(s->conn);
    struct timeval tv = {10, 0};
    if (!sock || amqp_socket_open_noblock(sock, info.host, info.port, &tv) != AMQP_STATUS_OK)
        die("cannot connect to %s:%d", info.host, info.port);
    amqp_rpc_reply_t r = amqp_login(s->conn, info.vhost, 0, 131072, 0, AMQP_SASL_METHOD_PLAIN,
                                    info.user, info.password);
    if (r.reply_type != AMQP_RESPONSE_NORMAL)
        die("login as %s to vhost %s failed: %s", info.user, info.vhost, rpc_error(r));
    free(url);
    amqp_channel_open(s->conn, CHANNEL);
    check_rpc(s->conn, "opening a channel");
}

/* Messages in the queue now (passive declare: fails when the queue does not exist). */
static uint32_t queue_depth(struct session *s)
{
    amqp_queue_declare_ok_t *ok = amqp_queue_declare(s->conn, CHANNEL, amqp_cstring_bytes(s->queue),
                                                     1, 0, 0, 0, amqp_empty_table);
    check_rpc(s->conn, "checking the queue");
    return ok->message_count;
}

/* Closing the channel hands every unacknowledged message back to the queue. */
static void close_session(struct session *s)
{
    amqp_channel_close(s->conn, CHANNEL, AMQP_REPLY_SUCCESS);
    amqp_connection_close(s->conn, AMQP_REPLY_SUCCESS);
    amqp_destroy_connection(s->conn);
}

/* ---- one fetched dead letter ---- */

struct letter {
    uint64_t tag;
    char exchange[256], routing_key[256]; /* as the dead letter was routed */
    amqp_message_t msg;
};

/* basic.get without ack. 1 fetched, 0 queue empty. */
static int fetch(struct session *s, struct letter *l)
{
    amqp_rpc_reply_t r =
        amqp_basic_get(s->conn, CHANNEL, amqp_cstring_bytes(s->queue), /*no_ack=*/0);
    if (r.reply_type != AMQP_RESPONSE_NORMAL)
        die("basic.get: %s", rpc_error(r));
    if (r.reply.id == AMQP_BASIC_GET_EMPTY_METHOD)
        return 0;
    amqp_basic_get_ok_t *ok = r.reply.decoded;
    l->tag = ok->delivery_tag;
    snprintf(l->exchange, sizeof l->exchange, "%.*s", (int)ok->exchange.len,
             (const char *)ok->exchange.bytes);
    snprintf(l->routing_key, sizeof l->routing_key, "%.*s", (int)ok->routing_key.len,
             (const char *)ok->routing_key.bytes);
    r = amqp_read_message(s->conn, CHANNEL, &l->msg, 0);
    if (r.reply_type != AMQP_RESPONSE_NORMAL)
        die("reading a message: %s", rpc_error(r));
    return 1;
}

static void release(struct session *s, struct letter *l)
{
    amqp_destroy_message(&l->msg);
    amqp_maybe_release_buffers(s->conn);
}

static const amqp_field_value_t *header(const struct letter *l, const char *name)
{
    const amqp_basic_properties_t *p = &l->msg.properties;
    if (!(p->_flags & AMQP_BASIC_HEADERS_FLAG))
        return NULL;
    size_t n = strlen(name);
    for (int i = 0; i < p->headers.num_entries; i++) {
        const amqp_table_entry_t *e = &p->headers.entries[i];
        if (e->key.len == n && memcmp(e->key.bytes, name, n) == 0)
            return &e->value;
    }
    return NULL;
}

/* A string header into buf ("" when absent or not a string). */
static const char *header_str(const struct letter *l, const char *name, char *buf, size_t size)
{
    const amqp_field_value_t *v = header(l, name);
    buf[0] = '\0';
    if (v && (v->kind == AMQP_FIELD_KIND_UTF8 || v->kind == AMQP_FIELD_KIND_BYTES))
        snprintf(buf, size, "%.*s", (int)v->value.bytes.len, (const char *)v->value.bytes.bytes);
    return buf;
}

static void bytes_str(amqp_bytes_t b, char *buf, size_t size)
{
    snprintf(buf, size, "%.*s", (int)b.len, b.bytes ? (const char *)b.bytes : "");
}

static void prop_str(const struct letter *l, amqp_flags_t flag, amqp_bytes_t b, char *buf,
                     size_t size)
{
    if (l->msg.properties._flags & flag)
        bytes_str(b, buf, size);
    else
        buf[0] = '\0';
}

/* When the broker dead-lettered l: "time" of the latest x-death entry (0 when unknown). */
static time_t death_time(const struct letter *l)
{
    const amqp_field_value_t *v = header(l, "x-death");
    if (!v || v->kind != AMQP_FIELD_KIND_ARRAY || v->value.array.num_entries < 1 ||
        v->value.array.entries[0].kind != AMQP_FIELD_KIND_TABLE)
        return 0;
    const amqp_table_t *t = &v->value.array.entries[0].value.table;
    for (int i = 0; i < t->num_entries; i++)
        if (t->entries[i].key.len == 4 && memcmp(t->entries[i].key.bytes, "time", 4) == 0 &&
            t->entries[i].value.kind == AMQP_FIELD_KIND_TIMESTAMP)
            return (time_t)t->entries[i].value.value.u64;
    return 0;
}

struct origin {
    char exchange[256], routing_key[256], reason[2048], by[128], at[64], message_id[256];
};

static void describe(const struct letter *l, struct origin *o)
{
    const amqp_basic_properties_t *p = &l->msg.properties;
    prop_str(l, AMQP_BASIC_MESSAGE_ID_FLAG, p->message_id, o->message_id, sizeof o->message_id);
    if (header_str(l, "x-udc-exchange", o->exchange, sizeof o->exchange)[0]) {
        header_str(l, "x-udc-routing-key", o->routing_key, sizeof o->routing_key);
        header_str(l, "x-udc-error", o->reason, sizeof o->reason);
        header_str(l, "x-udc-dead-by", o->by, sizeof o->by);
        header_str(l, "x-udc-dead-at", o->at, sizeof o->at);
        return;
    }
    /* Dead-lettered by the broker itself (delivery limit, rejection, expiry). */
    char why[128], queue[256];
    header_str(l, "x-first-death-exchange", o->exchange, sizeof o->exchange);
    header_str(l, "x-first-death-reason", why, sizeof why);
    header_str(l, "x-first-death-queue", queue, sizeof queue);
    snprintf(o->routing_key, sizeof o->routing_key, "%s", l->routing_key);
    if (why[0])
        snprintf(o->reason, sizeof o->reason, "broker: %s in queue %s%s", why, queue,
                 strcmp(why, "delivery_limit") == 0 ? " (failed too often; see the daemon's log)"
                                                    : "");
    else
        snprintf(o->reason, sizeof o->reason, "(no reason recorded)");
    snprintf(o->by, sizeof o->by, "rabbitmq");
    o->at[0] = '\0';
    time_t t = death_time(l);
    struct tm tm;
    if (t > 0)
        strftime(o->at, sizeof o->at, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
}

/* FNV-1a, 64 bits. */
static uint64_t fnv(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= UINT64_C(1099511628211);
    }
    return h;
}

/* The stable name of a dead letter (see the top of the file). */
static void letter_ref(const struct letter *l, char out[13])
{
    struct origin o;
    describe(l, &o);
    char first_death[256];
    const char *fields[] = {o.exchange,
                            o.routing_key,
                            o.reason,
                            o.by,
                            o.at,
                            o.message_id,
                            header_str(l, "x-first-death-queue", first_death, sizeof first_death)};
    uint64_t h = UINT64_C(14695981039346656037);
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        h = fnv(h, fields[i], strlen(fields[i]) + 1);
    h = fnv(h, l->msg.body.bytes, l->msg.body.len);
    snprintf(out, 13, "%012" PRIx64, h >> 16);
}

/* ---- list and show ---- */

static void print_list_line(const struct letter *l)
{
    struct origin o;
    char ref[13];
    describe(l, &o);
    letter_ref(l, ref);
    printf("%s %-20s %-16s %s -> %s  id=%s\n             reason: %s\n", ref, o.at[0] ? o.at : "-",
           o.by[0] ? o.by : "-", o.exchange[0] ? o.exchange : "(unknown)", o.routing_key,
           o.message_id[0] ? o.message_id : "-", o.reason);
}

static void print_value(const amqp_field_value_t *v);

static void print_table(const amqp_table_t *t)
{
    printf("{");
    for (int i = 0; i < t->num_entries; i++) {
        printf("%s%.*s: ", i ? ", " : "", (int)t->entries[i].key.len,
               (const char *)t->entries[i].key.bytes);
        print_value(&t->entries[i].value);
    }
    printf("}");
}

static void print_value(const amqp_field_value_t *v)
{
    switch (v->kind) {
    case AMQP_FIELD_KIND_UTF8:
    case AMQP_FIELD_KIND_BYTES:
        printf("%.*s", (int)v->value.bytes.len, (const char *)v->value.bytes.bytes);
        break;
    case AMQP_FIELD_KIND_BOOLEAN:
        printf("%s", v->value.boolean ? "true" : "false");
        break;
    case AMQP_FIELD_KIND_I8:
        printf("%d", v->value.i8);
        break;
    case AMQP_FIELD_KIND_U8:
        printf("%u", v->value.u8);
        break;
    case AMQP_FIELD_KIND_I16:
        printf("%d", v->value.i16);
        break;
    case AMQP_FIELD_KIND_U16:
        printf("%u", v->value.u16);
        break;
    case AMQP_FIELD_KIND_I32:
        printf("%" PRId32, v->value.i32);
        break;
    case AMQP_FIELD_KIND_U32:
        printf("%" PRIu32, v->value.u32);
        break;
    case AMQP_FIELD_KIND_I64:
    case AMQP_FIELD_KIND_TIMESTAMP:
        printf("%" PRId64, v->value.i64);
        break;
    case AMQP_FIELD_KIND_U64:
        printf("%" PRIu64, v->value.u64);
        break;
    case AMQP_FIELD_KIND_F32:
        printf("%g", (double)v->value.f32);
        break;
    case AMQP_FIELD_KIND_F64:
        printf("%g", v->value.f64);
        break;
    case AMQP_FIELD_KIND_ARRAY:
        printf("[");
        for (int i = 0; i < v->value.array.num_entries; i++) {
            printf("%s", i ? ", " : "");
            print_value(&v->value.array.entries[i]);
        }
        printf("]");
        break;
    case AMQP_FIELD_KIND_TABLE:
        print_table(&v->value.table);
        break;
    default:
        printf("(value of kind %d)", (int)v->kind);
    }
}

static void print_body(amqp_bytes_t b)
{
    const unsigned char *s = b.bytes;
    for (size_t i = 0; i < b.len; i++) {
        if (s[i] == '\n' || s[i] == '\t' || (s[i] >= 0x20 && s[i] != 0x7f))
            putchar(s[i]);
        else
            printf("\\x%02x", s[i]);
    }
    if (b.len == 0 || s[b.len - 1] != '\n')
        putchar('\n');
}

static void print_full(const char *ref, const struct letter *l)
{
    const amqp_basic_properties_t *p = &l->msg.properties;
    struct origin o;
    describe(l, &o);
    char buf[512];
    printf("dead letter %s\n  reason:        %s\n  dead-lettered: %s by %s\n"
           "  replays to:    exchange %s, routing key %s\n",
           ref, o.reason, o.at[0] ? o.at : "-", o.by, o.exchange[0] ? o.exchange : "(unknown)",
           o.routing_key);
    printf("  in queue as:   exchange %s, routing key %s\n", l->exchange, l->routing_key);
    static const struct {
        amqp_flags_t flag;
        const char *name;
        size_t offset;
    } props[] = {
        {AMQP_BASIC_MESSAGE_ID_FLAG, "message_id", offsetof(amqp_basic_properties_t, message_id)},
        {AMQP_BASIC_CONTENT_TYPE_FLAG, "content_type",
         offsetof(amqp_basic_properties_t, content_type)},
        {AMQP_BASIC_APP_ID_FLAG, "app_id", offsetof(amqp_basic_properties_t, app_id)},
        {AMQP_BASIC_USER_ID_FLAG, "user_id", offsetof(amqp_basic_properties_t, user_id)},
        {AMQP_BASIC_CORRELATION_ID_FLAG, "correlation_id",
         offsetof(amqp_basic_properties_t, correlation_id)},
    };
    printf("properties:\n");
    for (size_t i = 0; i < sizeof props / sizeof props[0]; i++) {
        if (!(p->_flags & props[i].flag))
            continue;
        bytes_str(*(const amqp_bytes_t *)((const char *)p + props[i].offset), buf, sizeof buf);
        printf("  %-14s %s\n", props[i].name, buf);
    }
    if (p->_flags & AMQP_BASIC_DELIVERY_MODE_FLAG)
        printf("  %-14s %u\n", "delivery_mode", p->delivery_mode);
    if (p->_flags & AMQP_BASIC_TIMESTAMP_FLAG)
        printf("  %-14s %" PRIu64 "\n", "timestamp", p->timestamp);
    printf("headers:\n");
    for (int i = 0; (p->_flags & AMQP_BASIC_HEADERS_FLAG) && i < p->headers.num_entries; i++) {
        printf("  %.*s: ", (int)p->headers.entries[i].key.len,
               (const char *)p->headers.entries[i].key.bytes);
        print_value(&p->headers.entries[i].value);
        printf("\n");
    }
    printf("body (%zu bytes):\n", l->msg.body.len);
    print_body(l->msg.body);
}

/* ---- replay ---- */

static int is_dead_letter_header(amqp_bytes_t key)
{
    static const char *const prefixes[] = {"x-udc-", "x-death", "x-first-death-", "x-last-death-",
                                           "x-delivery-count"};
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
        size_t n = strlen(prefixes[i]);
        if (key.len >= n && memcmp(key.bytes, prefixes[i], n) == 0)
            return 1;
    }
    return 0;
}

/* Waits for the confirm of the one publish in flight. 0 acked; -1 nacked or returned. */
static int await_confirm(struct session *s, char *why, size_t whylen)
{
    int returned = 0;
    for (;;) {
        amqp_frame_t frame;
        struct timeval tv = {30, 0};
        int rc = amqp_simple_wait_frame_noblock(s->conn, &frame, &tv);
        if (rc != AMQP_STATUS_OK)
            die("waiting for the broker's confirm: %s", amqp_error_string2(rc));
        if (frame.frame_type != AMQP_FRAME_METHOD)
            continue;
        switch (frame.payload.method.id) {
        case AMQP_BASIC_ACK_METHOD:
            if (returned)
                return -1;
            return 0;
        case AMQP_BASIC_NACK_METHOD:
            snprintf(why, whylen, "the broker refused it (nack)");
            return -1;
        case AMQP_BASIC_RETURN_METHOD: {
            amqp_basic_return_t *ret = frame.payload.method.decoded;
            snprintf(why, whylen, "unroutable: %u %.*s", ret->reply_code, (int)ret->reply_text.len,
                     (const char *)ret->reply_text.bytes);
            amqp_message_t m;
            amqp_rpc_reply_t r = amqp_read_message(s->conn, frame.channel, &m, 0);
            if (r.reply_type == AMQP_RESPONSE_NORMAL)
                amqp_destroy_message(&m);
            returned = 1;
            break;
        }
        case AMQP_CHANNEL_CLOSE_METHOD: {
            amqp_channel_close_t *m = frame.payload.method.decoded;
            die("the broker closed the channel: %u %.*s", m->reply_code, (int)m->reply_text.len,
                (const char *)m->reply_text.bytes);
        }
        case AMQP_CONNECTION_CLOSE_METHOD:
            die("the broker closed the connection");
        default:
            break;
        }
    }
}

/* Publish l to where it came from, confirmed; then ack the dead letter. 0 replayed. */
static int replay_one(struct session *s, const char *ref, struct letter *l)
{
    struct origin o;
    describe(l, &o);
    if (!o.exchange[0]) {
        fprintf(stderr, "dead-letters: %s: original exchange unknown; not replayed\n", ref);
        return -1;
    }
    amqp_basic_properties_t props = l->msg.properties;
    amqp_table_entry_t *kept = NULL;
    int nkept = 0;
    if (props._flags & AMQP_BASIC_HEADERS_FLAG) {
        kept = calloc((size_t)props.headers.num_entries + 1, sizeof *kept);
        if (!kept)
            die("out of memory");
        for (int i = 0; i < props.headers.num_entries; i++)
            if (!is_dead_letter_header(props.headers.entries[i].key))
                kept[nkept++] = props.headers.entries[i];
        props.headers.entries = kept;
        props.headers.num_entries = nkept;
        if (nkept == 0)
            props._flags &= ~AMQP_BASIC_HEADERS_FLAG;
    }
    props._flags &= ~AMQP_BASIC_USER_ID_FLAG; /* only its original sender may set it */
    props._flags |= AMQP_BASIC_DELIVERY_MODE_FLAG;
    props.delivery_mode = AMQP_DELIVERY_PERSISTENT;
    int rc = amqp_basic_publish(s->conn, CHANNEL, amqp_cstring_bytes(o.exchange),
                                amqp_cstring_bytes(o.routing_key), /*mandatory=*/1, 0, &props,
                                l->msg.body);
    free(kept);
    if (rc != AMQP_STATUS_OK)
        die("publishing: %s", amqp_error_string2(rc));
    char why[512] = "";
    if (await_confirm(s, why, sizeof why) != 0) {
        fprintf(stderr, "dead-letters: %s: not replayed to %s %s: %s (kept)\n", ref, o.exchange,
                o.routing_key, why);
        return -1;
    }
    if (amqp_basic_ack(s->conn, CHANNEL, l->tag, 0) != AMQP_STATUS_OK)
        die("acknowledging dead letter %s after replaying it", ref);
    printf("replayed %s to %s %s (id=%s)\n", ref, o.exchange, o.routing_key,
           o.message_id[0] ? o.message_id : "-");
    return 0;
}

/* ---- selection ---- */

struct selection {
    int all;
    size_t count;
    const char *items[MAX_SELECTED]; /* refs or message ids */
    unsigned char used[MAX_SELECTED];
};

/* 1 when l is named by ref or message id in sel (marking the names used). */
static int selected(struct selection *sel, const char *ref, const struct letter *l)
{
    if (sel->all)
        return 1;
    char id[256];
    prop_str(l, AMQP_BASIC_MESSAGE_ID_FLAG, l->msg.properties.message_id, id, sizeof id);
    int hit = 0;
    for (size_t i = 0; i < sel->count; i++) {
        const char *it = sel->items[i];
        if (strcmp(it, ref) == 0 || (id[0] && strcmp(it, id) == 0)) {
            sel->used[i] = 1;
            hit = 1;
        }
    }
    return hit;
}

/* ---- commands ---- */

static int cmd_list(struct session *s)
{
    uint32_t depth = queue_depth(s);
    size_t n = 0;
    struct letter l;
    /* Only as many as were there at the start: new arrivals wait for the next list. */
    while (n < depth && fetch(s, &l)) {
        print_list_line(&l);
        release(s, &l);
        n++;
    }
    printf("%zu dead letter%s in %s\n", n, n == 1 ? "" : "s", s->queue);
    return 0;
}

static int cmd_show(struct session *s, const char *want)
{
    uint32_t depth = queue_depth(s);
    struct selection sel = {.count = 1, .items = {want}};
    struct letter l;
    for (size_t n = 0; n < depth && fetch(s, &l); n++) {
        char ref[13];
        letter_ref(&l, ref);
        int hit = selected(&sel, ref, &l);
        if (hit)
            print_full(ref, &l);
        release(s, &l);
        if (hit)
            return 0;
    }
    fprintf(stderr, "dead-letters: no dead letter %s among the %" PRIu32 " in %s\n", want, depth,
            s->queue);
    return 1;
}

static int cmd_replay(struct session *s, struct selection *sel)
{
    uint32_t depth = queue_depth(s);
    amqp_confirm_select(s->conn, CHANNEL);
    check_rpc(s->conn, "confirm.select");
    size_t replayed = 0, failed = 0;
    struct letter l;
    /* Only the ones there at the start: a replayed message refused again comes back as a
     * new dead letter and must not be replayed twice by one command. */
    for (size_t n = 0; n < depth && fetch(s, &l); n++) {
        char ref[13];
        letter_ref(&l, ref);
        if (selected(sel, ref, &l)) {
            if (replay_one(s, ref, &l) == 0)
                replayed++;
            else
                failed++;
        }
        release(s, &l);
    }
    for (size_t i = 0; !sel->all && i < sel->count; i++)
        if (!sel->used[i]) {
            fprintf(stderr, "dead-letters: no dead letter %s\n", sel->items[i]);
            failed++;
        }
    printf("%zu replayed, %zu not\n", replayed, failed);
    return failed ? 1 : 0;
}

static int cmd_purge(struct session *s)
{
    amqp_queue_purge_ok_t *ok = amqp_queue_purge(s->conn, CHANNEL, amqp_cstring_bytes(s->queue));
    check_rpc(s->conn, "purging");
    printf("%" PRIu32 " dead letter%s removed from %s\n", ok->message_count,
           ok->message_count == 1 ? "" : "s", s->queue);
    return 0;
}

static void usage(FILE *f)
{
    fputs("usage: udc-dead-letters [-q QUEUE] list | show REF|ID | replay REF|ID... | "
          "replay --all | purge\n(broker URL from UDC_AMQP_URL; QUEUE defaults to "
          "udc.dead.letters)\n",
          f);
}

int main(int argc, char **argv)
{
    const char *queue = "udc.dead.letters";
    int i = 1;
    if (i + 1 < argc && strcmp(argv[i], "-q") == 0) {
        queue = argv[i + 1];
        i += 2;
    }
    if (i >= argc) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[i++];
    struct session s;
    int rc = 2;
    if (strcmp(cmd, "list") == 0 && i == argc) {
        open_session(&s, queue);
        rc = cmd_list(&s);
    } else if (strcmp(cmd, "show") == 0 && i + 1 == argc) {
        open_session(&s, queue);
        rc = cmd_show(&s, argv[i]);
    } else if (strcmp(cmd, "replay") == 0 && i < argc) {
        static struct selection sel;
        if (i + 1 == argc && strcmp(argv[i], "--all") == 0)
            sel.all = 1;
        for (; !sel.all && i < argc; i++) {
            if (sel.count == MAX_SELECTED)
                die("at most %d dead letters per replay", MAX_SELECTED);
            if (strcmp(argv[i], "--all") == 0)
                die("replay takes --all alone, or refs and message ids");
            sel.items[sel.count++] = argv[i];
        }
        open_session(&s, queue);
        rc = cmd_replay(&s, &sel);
    } else if (strcmp(cmd, "purge") == 0 && i == argc) {
        open_session(&s, queue);
        rc = cmd_purge(&s);
    } else {
        usage(stderr);
        return 2;
    }
    close_session(&s);
    return rc;
}
