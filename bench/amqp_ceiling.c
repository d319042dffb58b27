/* amqp_ceiling.c — what the RabbitMQ node can do alone, for `scripts/bench`: persistent
 * publishing with publisher confirms (a window of unconfirmed messages, like udc-ingest-http)
 * into a durable quorum queue, and consuming with manual acks (like udc-writer), both alone
 * and at the same time on two connections.
 *
 * usage: amqp_ceiling AMQP_URL QUEUE COUNT BODY_FILE [WINDOW [PREFETCH]]
 * Prints one line per phase: "publish|consume|together <messages> <seconds> <msgs/s>".
 * The queue is declared (quorum, durable), purged first and deleted at the end.
 *
 * usage: amqp_ceiling --drain AMQP_URL QUEUE
 * Stands in for udc-writer on an existing queue: takes its messages like the writer (prefetch
 * 2000, manual acks of everything in hand every 100 ms) and stores nothing, until SIGTERM or
 * SIGINT; then acks the rest and prints "drained <messages>". The bench measures the accept
 * side's ceiling with it. Every message it takes is lost: for throwaway stacks only.
 */
#include <pthread.h>
#include <signal.h>
#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

struct job {
    const char *url, *queue;
    long count;
    int window, prefetch;
    amqp_bytes_t body;
    double seconds;
    int failed;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int rpc_ok(amqp_connection_state_t c, const char *what)
{
    amqp_rpc_reply_t r = amqp_get_rpc_reply(c);
    if (r.reply_type == AMQP_RESPONSE_NORMAL)
        return 1;
    fprintf(stderr, "amqp_ceiling: %s failed (reply type %d, library error %s)\n", what,
            r.reply_type, amqp_error_string2(r.library_error));
    return 0;
}

static amqp_connection_state_t open_channel(const char *url)
{
    struct amqp_connection_info info;
    char *copy = strdup(url);
    if (!copy || amqp_parse_url(copy, &info) != AMQP_STATUS_OK) {
        fprintf(stderr, "amqp_ceiling: bad URL\n");
        free(copy);
        return NULL;
    }
    amqp_connection_state_t c = amqp_new_connection();
    amqp_socket_t *s = amqp_tcp_socket_new(c);
    if (!s || amqp_socket_open(s, info.host, info.port) != AMQP_STATUS_OK) {
        fprintf(stderr, "amqp_ceiling: cannot connect to %s:%d\n", info.host, info.port);
        free(copy);
        amqp_destroy_connection(c);
        return NULL;
    }
    amqp_rpc_reply_t r =
        amqp_login(c, info.vhost, 0, 131072, 0, AMQP_SASL_METHOD_PLAIN, info.user, info.password);
    free(copy);
    if (r.reply_type != AMQP_RESPONSE_NORMAL) {
        fprintf(stderr, "amqp_ceiling: login failed\n");
        amqp_destroy_connection(c);
        return NULL;
    }
    amqp_channel_open(c, 1);
    if (!rpc_ok(c, "channel.open")) {
        amqp_destroy_connection(c);
        return NULL;
    }
    return c;
}

static void close_channel(amqp_connection_state_t c)
{
    amqp_channel_close(c, 1, AMQP_REPLY_SUCCESS);
    amqp_connection_close(c, AMQP_REPLY_SUCCESS);
    amqp_destroy_connection(c);
}

static int declare_queue(const char *url, const char *queue, int delete_it)
{
    amqp_connection_state_t c = open_channel(url);
    if (!c)
        return -1;
    int ok;
    if (delete_it) {
        amqp_queue_delete(c, 1, amqp_cstring_bytes(queue), 0, 0);
        ok = rpc_ok(c, "queue.delete");
    } else {
        amqp_table_entry_t e = {
            .key = amqp_cstring_bytes("x-queue-type"),
            .value = {.kind = AMQP_FIELD_KIND_UTF8, .value.bytes = amqp_cstring_bytes("quorum")}};
        amqp_table_t args = {.num_entries = 1, .entries = &e};
        amqp_queue_declare(c, 1, amqp_cstring_bytes(queue), 0, 1, 0, 0, args);
        ok = rpc_ok(c, "queue.declare");
        if (ok) {
            amqp_queue_purge(c, 1, amqp_cstring_bytes(queue));
            ok = rpc_ok(c, "queue.purge");
        }
    }
    close_channel(c);
    return ok ? 0 : -1;
}

/* Reads one frame (waiting at most timeout, NULL = forever); counts confirmed messages. */
static int read_confirm(amqp_connection_state_t c, struct timeval *timeout, uint64_t *confirmed)
{
    amqp_frame_t f;
    int rc = amqp_simple_wait_frame_noblock(c, &f, timeout);
    if (rc == AMQP_STATUS_TIMEOUT)
        return 0;
    if (rc != AMQP_STATUS_OK)
        return -1;
    if (f.frame_type != AMQP_FRAME_METHOD)
        return 0;
    if (f.payload.method.id == AMQP_BASIC_ACK_METHOD) {
        amqp_basic_ack_t *a = f.payload.method.decoded;
        if (a->multiple)
            *confirmed = a->delivery_tag;
        else if (a->delivery_tag > *confirmed)
            *confirmed = a->delivery_tag; /* acks come in order: the highest is the count */
        return 0;
    }
    fprintf(stderr, "amqp_ceiling: unexpected method 0x%x while publishing\n", f.payload.method.id);
    return -1;
}

static void *publish(void *arg)
{
    struct job *j = arg;
    amqp_connection_state_t c = open_channel(j->url);
    if (!c) {
        j->failed = 1;
        return NULL;
    }
    amqp_confirm_select(c, 1);
    if (!rpc_ok(c, "confirm.select")) {
        j->failed = 1;
        close_channel(c);
        return NULL;
    }
    amqp_basic_properties_t props = {._flags = AMQP_BASIC_CONTENT_TYPE_FLAG |
                                               AMQP_BASIC_DELIVERY_MODE_FLAG,
                                     .content_type = amqp_cstring_bytes("application/json"),
                                     .delivery_mode = AMQP_DELIVERY_PERSISTENT};
    uint64_t confirmed = 0;
    double t0 = now_s();
    for (long sent = 0; sent < j->count; sent++) {
        while ((int64_t)sent - (int64_t)confirmed >= j->window)
            if (read_confirm(c, NULL, &confirmed) != 0)
                goto fail;
        if (amqp_basic_publish(c, 1, amqp_empty_bytes, amqp_cstring_bytes(j->queue), 0, 0, &props,
                               j->body) != AMQP_STATUS_OK)
            goto fail;
        struct timeval zero = {0, 0};
        while (amqp_data_in_buffer(c) || amqp_frames_enqueued(c))
            if (read_confirm(c, &zero, &confirmed) != 0)
                goto fail;
    }
    while ((int64_t)confirmed < j->count)
        if (read_confirm(c, NULL, &confirmed) != 0)
            goto fail;
    j->seconds = now_s() - t0;
    close_channel(c);
    return NULL;
fail:
    fprintf(stderr, "amqp_ceiling: publishing failed after %llu confirms\n",
            (unsigned long long)confirmed);
    j->failed = 1;
    close_channel(c);
    return NULL;
}

/* A channel consuming queue with manual acks and the given prefetch, or NULL. */
static amqp_connection_state_t open_consumer(const char *url, const char *queue, int prefetch)
{
    amqp_connection_state_t c = open_channel(url);
    if (!c)
        return NULL;
    amqp_basic_qos(c, 1, 0, (uint16_t)prefetch, 0);
    amqp_basic_consume(c, 1, amqp_cstring_bytes(queue), amqp_empty_bytes, 0, 0, 0,
                       amqp_empty_table);
    if (!rpc_ok(c, "basic.consume")) {
        close_channel(c);
        return NULL;
    }
    return c;
}

static void *consume(void *arg)
{
    struct job *j = arg;
    amqp_connection_state_t c = open_consumer(j->url, j->queue, j->prefetch);
    if (!c) {
        j->failed = 1;
        return NULL;
    }
    double t0 = now_s();
    long got = 0;
    int ack_every = j->prefetch / 2 > 0 ? j->prefetch / 2 : 1;
    while (got < j->count) {
        amqp_envelope_t env;
        amqp_maybe_release_buffers(c);
        amqp_rpc_reply_t r = amqp_consume_message(c, &env, NULL, 0);
        if (r.reply_type != AMQP_RESPONSE_NORMAL) {
            fprintf(stderr, "amqp_ceiling: consuming failed after %ld messages\n", got);
            j->failed = 1;
            break;
        }
        got++;
        if (got % ack_every == 0 || got == j->count)
            amqp_basic_ack(c, 1, env.delivery_tag, 1);
        amqp_destroy_envelope(&env);
    }
    j->seconds = now_s() - t0;
    close_channel(c);
    return NULL;
}

static volatile sig_atomic_t stop_draining;

static void on_stop_signal(int sig)
{
    (void)sig;
    stop_draining = 1;
}

/* Acks everything up to tag (multiple); 0 when there is nothing to ack or it was sent. */
static int ack_through(amqp_connection_state_t c, uint64_t *unacked_tag)
{
    if (*unacked_tag == 0)
        return 0;
    int rc = amqp_basic_ack(c, 1, *unacked_tag, 1);
    *unacked_tag = 0;
    return rc == AMQP_STATUS_OK ? 0 : -1;
}

static int drain(const char *url, const char *queue)
{
    struct sigaction sa = {.sa_handler = on_stop_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    amqp_connection_state_t c = open_consumer(url, queue, 2000);
    if (!c)
        return 1;
    long drained = 0;
    uint64_t unacked_tag = 0;
    double acked_at = now_s();
    int rc = 0;
    while (!stop_draining) {
        amqp_envelope_t env;
        struct timeval wait = {0, 20000}; /* see the stop flag and the ack clock often */
        amqp_maybe_release_buffers(c);
        amqp_rpc_reply_t r = amqp_consume_message(c, &env, &wait, 0);
        if (r.reply_type == AMQP_RESPONSE_NORMAL) {
            unacked_tag = env.delivery_tag;
            drained++;
            amqp_destroy_envelope(&env);
        } else if (!(r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
                     r.library_error == AMQP_STATUS_TIMEOUT)) {
            fprintf(stderr, "amqp_ceiling: draining failed after %ld messages\n", drained);
            rc = 1;
            break;
        }
        if (now_s() - acked_at >= 0.1) {
            if (ack_through(c, &unacked_tag) != 0) {
                rc = 1;
                break;
            }
            acked_at = now_s();
        }
    }
    if (rc == 0 && ack_through(c, &unacked_tag) != 0)
        rc = 1;
    close_channel(c);
    printf("drained %ld\n", drained);
    return rc;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = malloc(1 << 24);
    *len = buf ? fread(buf, 1, (1 << 24) - 1, f) : 0;
    fclose(f);
    while (*len > 0 && (buf[*len - 1] == '\n' || buf[*len - 1] == '\r'))
        (*len)--;
    return buf;
}

static void report(const char *phase, const struct job *j)
{
    printf("%s %ld %.3f %.0f\n", phase, j->count, j->seconds, (double)j->count / j->seconds);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "--drain") == 0)
        return drain(argv[2], argv[3]);
    if (argc < 5) {
        fprintf(stderr, "usage: amqp_ceiling AMQP_URL QUEUE COUNT BODY_FILE [WINDOW [PREFETCH]]\n"
                        "       amqp_ceiling --drain AMQP_URL QUEUE\n");
        return 2;
    }
    size_t len;
    char *body = read_file(argv[4], &len);
    if (!body || len == 0) {
        fprintf(stderr, "amqp_ceiling: cannot read %s\n", argv[4]);
        return 2;
    }
    struct job base = {.url = argv[1],
                       .queue = argv[2],
                       .count = atol(argv[3]),
                       .window = argc > 5 ? atoi(argv[5]) : 1000,
                       .prefetch = argc > 6 ? atoi(argv[6]) : 2000,
                       .body = {.len = len, .bytes = body}};
    if (base.count < 1 || base.window < 1 || base.prefetch < 1 || base.prefetch > 65535)
        return 2;
    if (declare_queue(base.url, base.queue, 0) != 0)
        return 1;
    int rc = 0;
    struct job pub = base, con = base;
    publish(&pub);
    if (!pub.failed)
        consume(&con);
    if (pub.failed || con.failed) {
        rc = 1;
    } else {
        report("publish", &pub);
        report("consume", &con);
        struct job p2 = base, c2 = base;
        pthread_t tp, tc;
        double t0 = now_s();
        pthread_create(&tc, NULL, consume, &c2);
        pthread_create(&tp, NULL, publish, &p2);
        pthread_join(tp, NULL);
        pthread_join(tc, NULL);
        struct job both = base;
        both.seconds = now_s() - t0;
        if (p2.failed || c2.failed)
            rc = 1;
        else
            report("together", &both);
    }
    declare_queue(base.url, base.queue, 1);
    free(body);
    return rc;
}
