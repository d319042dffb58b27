/* Integration tests for common/amqp_client against the RabbitMQ of UDC_AMQP_URL (a user with
 * configure/write/read on its vhost). Each test declares its own exchanges and queues with
 * unique names through a plain rabbitmq-c connection, so the code under test only checks
 * and uses them, as the daemons do; the queues expire on their own if a test dies.
 */
#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "amqp_client.h"
#include "backoff.h"
#include "suite_run.h"

#define WAIT_MS    10000
#define N_CONFIRMS 5000

static const char *url;
static struct amqp_connection_info info; /* parsed UDC_AMQP_URL, points into url_copy */
static char *url_copy;

/* Names of this test's objects. */
static char exchange[96], queue[96], dead_exchange[96], dead_queue[96];
static amqp_connection_state_t admin; /* the plain connection that declares them */

static void admin_ok(const char *what)
{
    amqp_rpc_reply_t r = amqp_get_rpc_reply(admin);
    ck_assert_msg(r.reply_type == AMQP_RESPONSE_NORMAL, "%s failed (reply type %d)", what,
                  r.reply_type);
}

static void declare_queue(const char *name)
{
    amqp_table_entry_t expires = {.key = amqp_cstring_bytes("x-expires"),
                                  .value = {.kind = AMQP_FIELD_KIND_I32, .value.i32 = 120000}};
    amqp_table_t args = {1, &expires};
    amqp_queue_declare(admin, 1, amqp_cstring_bytes(name), 0, 0, 0, 0, args);
    admin_ok("queue.declare");
}

static void declare_exchange(const char *name, const char *type)
{
    amqp_exchange_declare(admin, 1, amqp_cstring_bytes(name), amqp_cstring_bytes(type), 0, 0, 1, 0,
                          amqp_empty_table);
    admin_ok("exchange.declare");
}

static void bind_queue(const char *q, const char *x, const char *key)
{
    amqp_queue_bind(admin, 1, amqp_cstring_bytes(q), amqp_cstring_bytes(x), amqp_cstring_bytes(key),
                    amqp_empty_table);
    admin_ok("queue.bind");
}

static void setup(void)
{
    static int counter;
    url_copy = strdup(url);
    amqp_default_connection_info(&info);
    ck_assert_int_eq(amqp_parse_url(url_copy, &info), AMQP_STATUS_OK);

    admin = amqp_new_connection();
    amqp_socket_t *s = amqp_tcp_socket_new(admin);
    ck_assert_int_eq(amqp_socket_open(s, info.host, info.port), AMQP_STATUS_OK);
    amqp_rpc_reply_t r = amqp_login(admin, info.vhost, 0, 131072, 0, AMQP_SASL_METHOD_PLAIN,
                                    info.user, info.password);
    ck_assert_int_eq(r.reply_type, AMQP_RESPONSE_NORMAL);
    amqp_channel_open(admin, 1);
    admin_ok("channel.open");

    const char *base = "udc.test";
    int n = ++counter;
    snprintf(exchange, sizeof exchange, "%s.%d.%d.x", base, (int)getpid(), n);
    snprintf(queue, sizeof queue, "%s.%d.%d.q", base, (int)getpid(), n);
    snprintf(dead_exchange, sizeof dead_exchange, "%s.%d.%d.dead", base, (int)getpid(), n);
    snprintf(dead_queue, sizeof dead_queue, "%s.%d.%d.dead.q", base, (int)getpid(), n);
    declare_exchange(exchange, "direct");
    declare_exchange(dead_exchange, "fanout");
    declare_queue(queue);
    declare_queue(dead_queue);
    bind_queue(queue, exchange, "loc");
    bind_queue(dead_queue, dead_exchange, "");
}

static void teardown(void)
{
    amqp_queue_delete(admin, 1, amqp_cstring_bytes(queue), 0, 0);
    amqp_queue_delete(admin, 1, amqp_cstring_bytes(dead_queue), 0, 0);
    amqp_exchange_delete(admin, 1, amqp_cstring_bytes(exchange), 0);
    amqp_exchange_delete(admin, 1, amqp_cstring_bytes(dead_exchange), 0);
    amqp_connection_close(admin, AMQP_REPLY_SUCCESS);
    amqp_destroy_connection(admin);
    free(url_copy);
}

static struct udc_amqp *connected(int heartbeat_s)
{
    char err[256];
    struct udc_amqp *c = udc_amqp_new(url, "udc-test", heartbeat_s);
    ck_assert_ptr_nonnull(c);
    ck_assert_msg(udc_amqp_connect(c, err, sizeof err) == 0, "connect: %s", err);
    ck_assert_int_eq(udc_amqp_is_open(c), 1);
    return c;
}

static uint64_t publish(struct udc_amqp *c, const char *key, const char *id, const char *body)
{
    struct udc_amqp_header source = {"x-udc-source", "test"};
    struct udc_amqp_message m = {
        .body = body, .len = strlen(body), .message_id = id, .headers = &source, .n_headers = 1};
    uint64_t seq = 0;
    ck_assert_int_eq(udc_amqp_publish(c, exchange, key, &m, &seq), 0);
    return seq;
}

/* Next event that is not a TIMEOUT, within WAIT_MS. */
static enum udc_amqp_event_type next_event(struct udc_amqp *c, struct udc_amqp_event *ev)
{
    uint64_t deadline = udc_now_ms() + WAIT_MS;
    while (udc_amqp_poll(c, 200, ev) == UDC_AMQP_TIMEOUT)
        ck_assert_msg(udc_now_ms() < deadline, "no event within %d ms", WAIT_MS);
    return ev->type;
}

/* Wait until every publish so far is acked; fails on a nack, return or close. */
static void wait_all_confirmed(struct udc_amqp *c)
{
    struct udc_amqp_event ev;
    while (udc_amqp_unconfirmed(c) > 0) {
        enum udc_amqp_event_type t = next_event(c, &ev);
        ck_assert_msg(t == UDC_AMQP_CONFIRM_ACK, "expected an ack, got event %d (%s)", t,
                      ev.reason);
    }
}

static void wait_queue_count(struct udc_amqp *c, const char *q, uint32_t want)
{
    char err[256];
    uint32_t messages = UINT32_MAX, consumers;
    /* Acks travel on another channel than the check: give the broker a moment. */
    for (int i = 0; i < 50 && messages != want; i++) {
        ck_assert_msg(udc_amqp_check_queue(c, q, &messages, &consumers, err, sizeof err) == 0, "%s",
                      err);
        if (messages != want)
            usleep(100000);
    }
    ck_assert_uint_eq(messages, want);
}

static void url_with(char *out, size_t len, const char *password, int port)
{
    snprintf(out, len, "amqp://%s:%s@%s:%d/%s", info.user, password, info.host, port, info.vhost);
}

static int closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
    close(fd); /* nobody listens there now */
    return ntohs(a.sin_port);
}

START_TEST(connect_and_connect_errors)
{
    char err[256], bad[512];

    struct udc_amqp *c = connected(0);
    udc_amqp_close(c);
    ck_assert_int_eq(udc_amqp_is_open(c), 0);
    udc_amqp_free(c);

    url_with(bad, sizeof bad, "wrong-password-xyzzy", info.port);
    c = udc_amqp_new(bad, "udc-test", 0);
    ck_assert_ptr_nonnull(c);
    ck_assert_int_eq(udc_amqp_connect(c, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "refused") != NULL, "%s", err);
    ck_assert_ptr_null(strstr(err, "xyzzy"));
    ck_assert_int_eq(udc_amqp_is_open(c), 0);
    ck_assert_int_eq(udc_amqp_ensure(c), -1);
    struct udc_amqp_event ev;
    ck_assert_int_eq(udc_amqp_poll(c, 0, &ev), UDC_AMQP_CLOSED);
    ck_assert_int_eq(udc_amqp_publish(c, exchange, "loc",
                                      &(struct udc_amqp_message){.body = "x", .len = 1}, NULL),
                     -1);
    udc_amqp_free(c);

    url_with(bad, sizeof bad, info.password, closed_port());
    c = udc_amqp_new(bad, "udc-test", 0);
    ck_assert_int_eq(udc_amqp_connect(c, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "cannot connect") != NULL, "%s", err);
    struct udc_amqp_stats st;
    ck_assert_int_eq(udc_amqp_ensure(c), -1);
    ck_assert_int_eq(udc_amqp_ensure(c), -1); /* too early: the backoff says wait */
    udc_amqp_get_stats(c, &st);
    ck_assert_uint_eq(st.connect_errors, 1);
    udc_amqp_free(c);

    ck_assert_ptr_null(udc_amqp_new("http://nowhere/", "udc-test", 0));
    ck_assert_ptr_null(udc_amqp_new("amqps://u:p@localhost/v", "udc-test", 0));
}
END_TEST

START_TEST(thousands_of_confirms_in_flight)
{
    static unsigned char acked[N_CONFIRMS + 1];
    struct udc_amqp *c = connected(0);
    struct udc_amqp_event ev;
    char body[64];

    for (int i = 1; i <= N_CONFIRMS; i++) {
        snprintf(body, sizeof body, "{\"n\":%d}", i);
        ck_assert_uint_eq(publish(c, "loc", NULL, body), (uint64_t)i);
    }
    ck_assert_uint_gt(udc_amqp_unconfirmed(c), 0);
    int count = 0, multiples = 0;
    while (count < N_CONFIRMS) {
        enum udc_amqp_event_type t = next_event(c, &ev);
        ck_assert_int_eq(t, UDC_AMQP_CONFIRM_ACK);
        ck_assert_uint_le(ev.seq, N_CONFIRMS);
        multiples += ev.multiple;
        for (uint64_t s = ev.multiple ? 1 : ev.seq; s <= ev.seq; s++) {
            if (!acked[s]) {
                acked[s] = 1;
                count++;
            }
        }
    }
    ck_assert_int_gt(multiples, 0); /* the broker batches confirms under load */
    ck_assert_uint_eq(udc_amqp_unconfirmed(c), 0);
    ck_assert_uint_eq(udc_amqp_oldest_unconfirmed_ms(c), 0);
    struct udc_amqp_stats st;
    udc_amqp_get_stats(c, &st);
    ck_assert_uint_eq(st.published, N_CONFIRMS);
    ck_assert_uint_eq(st.confirmed, N_CONFIRMS);
    ck_assert_uint_eq(st.unconfirmed, 0);
    wait_queue_count(c, queue, N_CONFIRMS);
    udc_amqp_free(c);
}
END_TEST

START_TEST(unroutable_message_is_returned_then_acked)
{
    struct udc_amqp *c = connected(0);
    struct udc_amqp_event ev;

    uint64_t first = publish(c, "loc", "routable-1", "{}");
    uint64_t lost = publish(c, "no-binding", "unroutable-1", "{\"lost\":true}");
    ck_assert_uint_eq(lost, first + 1);

    int returned = 0, acked_lost = 0;
    while (!acked_lost) {
        enum udc_amqp_event_type t = next_event(c, &ev);
        if (t == UDC_AMQP_RETURN) {
            ck_assert_str_eq(ev.message_id, "unroutable-1");
            ck_assert_uint_eq(ev.seq, lost);
            ck_assert_uint_eq(ev.reply_code, 312);
            ck_assert_str_eq(ev.reply_text, "NO_ROUTE");
            ck_assert_str_eq(ev.routing_key, "no-binding");
            ck_assert_uint_eq(ev.len, strlen("{\"lost\":true}"));
            ck_assert_int_eq(memcmp(ev.body, "{\"lost\":true}", ev.len), 0);
            returned = 1;
        } else {
            ck_assert_int_eq(t, UDC_AMQP_CONFIRM_ACK);
            if (ev.seq >= lost) {
                ck_assert_msg(returned, "the ack came before the return");
                acked_lost = 1;
            }
        }
        udc_amqp_event_release(&ev);
    }
    struct udc_amqp_stats st;
    udc_amqp_get_stats(c, &st);
    ck_assert_uint_eq(st.returned, 1);
    udc_amqp_free(c);
}
END_TEST

START_TEST(consume_with_prefetch_and_ack_multiple)
{
    struct udc_amqp *c = connected(0);
    struct udc_amqp_event ev;
    char id[32], header[64];

    for (int i = 0; i < 50; i++) {
        snprintf(id, sizeof id, "msg-%d", i);
        publish(c, "loc", id, "{\"hello\":1}");
    }
    wait_all_confirmed(c);
    ck_assert_int_eq(udc_amqp_consume(c, queue, 10), 0);
    ck_assert_int_eq(udc_amqp_consume(c, queue, 10), 0);       /* asking again is fine */
    ck_assert_int_eq(udc_amqp_consume(c, dead_queue, 10), -1); /* a second one is not */
    ck_assert_int_eq(udc_amqp_ack(c, 1, 0), -1);               /* nothing delivered yet */

    int received = 0;
    while (received < 50) {
        uint64_t last = 0;
        int in_round = 0;
        /* Prefetch 10: exactly 10 arrive, then nothing until they are acked. */
        while (udc_amqp_poll(c, 500, &ev) == UDC_AMQP_DELIVERY) {
            if (received + in_round == 0) {
                ck_assert_str_eq(ev.message_id, "msg-0");
                ck_assert_str_eq(ev.app_id, "udc-test");
                ck_assert_str_eq(ev.content_type, "application/json");
                ck_assert_str_eq(ev.exchange, exchange);
                ck_assert_str_eq(ev.routing_key, "loc");
                ck_assert_int_gt(ev.timestamp, 1600000000);
                ck_assert_int_eq(ev.redelivered, 0);
                ck_assert_int_eq(udc_amqp_event_header(&ev, "x-udc-source", header, sizeof header),
                                 1);
                ck_assert_str_eq(header, "test");
                ck_assert_int_eq(udc_amqp_event_header(&ev, "x-none", header, sizeof header), 0);
                ck_assert_uint_eq(ev.len, strlen("{\"hello\":1}"));
            }
            last = ev.delivery_tag;
            in_round++;
            udc_amqp_event_release(&ev);
        }
        ck_assert_int_eq(ev.type, UDC_AMQP_TIMEOUT);
        ck_assert_int_eq(in_round, 10);
        ck_assert_int_eq(udc_amqp_ack(c, last + 1, 1), -1); /* never delivered */
        ck_assert_int_eq(udc_amqp_ack(c, last, 1), 0);
        received += in_round;
    }
    wait_queue_count(c, queue, 0);
    ck_assert_int_eq(udc_amqp_is_open(c), 1);
    struct udc_amqp_stats st;
    udc_amqp_get_stats(c, &st);
    ck_assert_uint_eq(st.delivered, 50);
    udc_amqp_free(c);
}
END_TEST

START_TEST(nack_with_requeue_redelivers)
{
    struct udc_amqp *c = connected(0);
    struct udc_amqp_event ev;

    publish(c, "loc", "again-1", "{}");
    wait_all_confirmed(c);
    ck_assert_int_eq(udc_amqp_consume(c, queue, 5), 0);
    ck_assert_int_eq(next_event(c, &ev), UDC_AMQP_DELIVERY);
    ck_assert_int_eq(ev.redelivered, 0);
    ck_assert_int_eq(udc_amqp_nack(c, ev.delivery_tag, 0, 1), 0);
    udc_amqp_event_release(&ev);

    ck_assert_int_eq(next_event(c, &ev), UDC_AMQP_DELIVERY);
    ck_assert_str_eq(ev.message_id, "again-1");
    ck_assert_int_eq(ev.redelivered, 1);
    ck_assert_int_eq(udc_amqp_ack(c, ev.delivery_tag, 0), 0);
    udc_amqp_event_release(&ev);
    udc_amqp_event_release(&ev); /* twice is harmless */
    wait_queue_count(c, queue, 0);
    udc_amqp_free(c);
}
END_TEST

START_TEST(dead_letter_keeps_body_and_gives_reason)
{
    struct udc_amqp *c = connected(0);
    struct udc_amqp_event ev, dead;
    const char *body = "{\"person_id\":999999}";
    char header[128];

    publish(c, "loc", "bad-1", body);
    wait_all_confirmed(c);
    ck_assert_int_eq(udc_amqp_check_exchange(c, dead_exchange, NULL, 0), 0);
    ck_assert_int_eq(udc_amqp_consume(c, queue, 5), 0);
    ck_assert_int_eq(next_event(c, &ev), UDC_AMQP_DELIVERY);

    uint64_t seq = 0;
    ck_assert_int_eq(udc_amqp_dead_letter(c, &ev, dead_exchange, "unknown person 999999", &seq), 0);
    ck_assert_uint_gt(seq, 0);
    ck_assert_int_eq(next_event(c, &dead), UDC_AMQP_CONFIRM_ACK);
    ck_assert_uint_ge(dead.seq, seq);
    ck_assert_int_eq(udc_amqp_ack(c, ev.delivery_tag, 0), 0);
    udc_amqp_event_release(&ev);

    struct udc_amqp *reader = connected(0);
    ck_assert_int_eq(udc_amqp_consume(reader, dead_queue, 5), 0);
    ck_assert_int_eq(next_event(reader, &dead), UDC_AMQP_DELIVERY);
    ck_assert_uint_eq(dead.len, strlen(body));
    ck_assert_int_eq(memcmp(dead.body, body, dead.len), 0);
    ck_assert_str_eq(dead.message_id, "bad-1");
    ck_assert_str_eq(dead.app_id, "udc-test");
    ck_assert_int_eq(udc_amqp_event_header(&dead, "x-udc-error", header, sizeof header), 1);
    ck_assert_str_eq(header, "unknown person 999999");
    ck_assert_int_eq(udc_amqp_event_header(&dead, "x-udc-queue", header, sizeof header), 1);
    ck_assert_str_eq(header, queue);
    ck_assert_int_eq(udc_amqp_event_header(&dead, "x-udc-source", header, sizeof header), 1);
    ck_assert_str_eq(header, "test");
    ck_assert_int_eq(udc_amqp_event_header(&dead, "x-udc-user-id", header, sizeof header), 0);
    ck_assert_int_eq(udc_amqp_ack(reader, dead.delivery_tag, 0), 0);
    udc_amqp_event_release(&dead);

    wait_queue_count(c, queue, 0);
    wait_queue_count(c, dead_queue, 0);
    struct udc_amqp_stats st;
    udc_amqp_get_stats(c, &st);
    ck_assert_uint_eq(st.dead_lettered, 1);
    udc_amqp_free(reader);
    udc_amqp_free(c);
}
END_TEST

START_TEST(missing_objects_are_clear_errors_and_harmless)
{
    struct udc_amqp *c = connected(0);
    char err[256], want[256];
    uint32_t messages = 99;

    uint64_t before = publish(c, "loc", "in-flight", "{}"); /* must survive the failures */
    ck_assert_int_eq(udc_amqp_check_exchange(c, "udc.test.no-such-exchange", err, sizeof err), -1);
    snprintf(want, sizeof want, "exchange 'udc.test.no-such-exchange' does not exist in vhost '%s'",
             info.vhost);
    ck_assert_str_eq(err, want);
    ck_assert_int_eq(udc_amqp_is_open(c), 1);
    ck_assert_int_eq(udc_amqp_check_queue(c, "udc.test.no-such-queue", NULL, NULL, err, sizeof err),
                     -1);
    ck_assert_msg(strstr(err, "queue 'udc.test.no-such-queue' does not exist") != NULL, "%s", err);
    ck_assert_int_eq(udc_amqp_consume(c, "udc.test.no-such-queue", 1), -1);
    ck_assert_int_eq(udc_amqp_is_open(c), 1);

    ck_assert_int_eq(udc_amqp_check_exchange(c, exchange, err, sizeof err), 0);
    ck_assert_int_eq(udc_amqp_check_queue(c, queue, &messages, NULL, err, sizeof err), 0);
    uint64_t after = publish(c, "loc", "after", "{}");
    ck_assert_uint_eq(after, before + 1);
    wait_all_confirmed(c);
    wait_queue_count(c, queue, 2);
    udc_amqp_free(c);
}
END_TEST

START_TEST(broken_connection_is_reported_and_reconnected)
{
    struct udc_amqp *c = udc_amqp_new(url, "udc-test", 5);
    struct udc_amqp_event ev;

    ck_assert_int_eq(udc_amqp_ensure(c), 0);
    ck_assert_int_eq(udc_amqp_consume(c, queue, 5), 0);
    publish(c, "loc", "before-break", "{}");
    ck_assert_int_eq(shutdown(udc_amqp_fd(c), SHUT_RDWR), 0);

    /* What was already received may still come first; then the loss. */
    while (next_event(c, &ev) != UDC_AMQP_CLOSED) {
        ck_assert(ev.type == UDC_AMQP_DELIVERY || ev.type == UDC_AMQP_CONFIRM_ACK);
        udc_amqp_event_release(&ev);
    }
    ck_assert_str_ne(ev.reason, "");
    ck_assert_int_eq(udc_amqp_is_open(c), 0);
    ck_assert_int_eq(udc_amqp_fd(c), -1);
    ck_assert_uint_eq(udc_amqp_unconfirmed(c), 0); /* void: the caller treats them as failed */

    uint64_t deadline = udc_now_ms() + WAIT_MS;
    while (udc_amqp_ensure(c) != 0) {
        ck_assert(udc_now_ms() < deadline);
        udc_amqp_poll(c, 100, &ev);
    }
    struct udc_amqp_stats st;
    udc_amqp_get_stats(c, &st);
    ck_assert_uint_eq(st.reconnects, 1);
    ck_assert_uint_eq(st.connects, 2);

    /* Seqs start over and the consumer is back. */
    ck_assert_uint_eq(publish(c, "loc", "after-break", "{}"), 1);
    int got_after = 0;
    while (!got_after) {
        enum udc_amqp_event_type t = next_event(c, &ev);
        ck_assert_int_ne(t, UDC_AMQP_CLOSED);
        if (t == UDC_AMQP_DELIVERY) {
            got_after = strcmp(ev.message_id, "after-break") == 0;
            ck_assert_int_eq(udc_amqp_ack(c, ev.delivery_tag, 0), 0);
        }
        udc_amqp_event_release(&ev);
    }
    udc_amqp_free(c);
}
END_TEST

START_TEST(channel_error_closes_and_ensure_recovers)
{
    struct udc_amqp *c = udc_amqp_new(url, "udc-test", 0);
    struct udc_amqp_event ev;
    struct udc_amqp_message m = {.body = "{}", .len = 2, .message_id = "nowhere"};

    ck_assert_int_eq(udc_amqp_ensure(c), 0);
    /* basic.publish is asynchronous: the broker answers a missing exchange by closing the
     * channel, which must surface as CLOSED with the broker's reason. */
    ck_assert_int_eq(udc_amqp_publish(c, "udc.test.no-such-exchange", "k", &m, NULL), 0);
    ck_assert_int_eq(next_event(c, &ev), UDC_AMQP_CLOSED);
    ck_assert_msg(strstr(ev.reason, "404") != NULL, "%s", ev.reason);
    ck_assert_int_eq(udc_amqp_is_open(c), 0);
    ck_assert_str_eq(udc_amqp_last_error(c), ev.reason);
    ck_assert_int_eq(udc_amqp_ensure(c), 0);
    ck_assert_uint_eq(publish(c, "loc", "fine", "{}"), 1);
    wait_all_confirmed(c);
    udc_amqp_free(c);
}
END_TEST

START_TEST(heartbeats_keep_an_idle_connection)
{
    struct udc_amqp *c = connected(1);
    struct udc_amqp_event ev;
    uint64_t until = udc_now_ms() + 4000;

    /* With a 1 s heartbeat the broker drops a silent client after about 2 s. */
    while (udc_now_ms() < until)
        ck_assert_int_eq(udc_amqp_poll(c, 300, &ev), UDC_AMQP_TIMEOUT);
    ck_assert_int_eq(udc_amqp_is_open(c), 1);
    publish(c, "loc", "alive", "{}");
    wait_all_confirmed(c);
    udc_amqp_free(c);
}
END_TEST

int main(void)
{
    url = getenv("UDC_AMQP_URL");
    if (url == NULL || url[0] == '\0') {
        fprintf(stderr, "test_amqp: UDC_AMQP_URL is not set\n");
        return EXIT_FAILURE;
    }
    Suite *s = suite_create("amqp");
    TCase *tc = tcase_create("broker");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, connect_and_connect_errors);
    tcase_add_test(tc, thousands_of_confirms_in_flight);
    tcase_add_test(tc, unroutable_message_is_returned_then_acked);
    tcase_add_test(tc, consume_with_prefetch_and_ack_multiple);
    tcase_add_test(tc, nack_with_requeue_redelivers);
    tcase_add_test(tc, dead_letter_keeps_body_and_gives_reason);
    tcase_add_test(tc, missing_objects_are_clear_errors_and_harmless);
    tcase_add_test(tc, broken_connection_is_reported_and_reconnected);
    tcase_add_test(tc, channel_error_closes_and_ensure_recovers);
    tcase_add_test(tc, heartbeats_keep_an_idle_connection);
    suite_add_tcase(s, tc);
    return udc_test_run(s);
}
