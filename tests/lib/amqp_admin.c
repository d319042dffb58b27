/* amqp_admin.c — see amqp_admin.h. Plain rabbitmq-c, kept apart from common/amqp_client so
 * that tests check the daemons' client against an independent one. */
#include "amqp_admin.h"

#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "itest.h"

static void check_reply(amqp_rpc_reply_t r, const char *what)
{
    if (r.reply_type != AMQP_RESPONSE_NORMAL)
        ck_abort_msg("broker refused %s (reply type %d)", what, (int)r.reply_type);
}

static amqp_connection_state_t admin_connect(void)
{
    char *url = strdup(itest_env("UDC_AMQP_URL"));
    struct amqp_connection_info info;
    ck_assert_int_eq(amqp_parse_url(url, &info), AMQP_STATUS_OK);
    amqp_connection_state_t conn = amqp_new_connection();
    amqp_socket_t *sock = amqp_tcp_socket_new(conn);
    ck_assert_int_eq(amqp_socket_open(sock, info.host, info.port), AMQP_STATUS_OK);
    check_reply(amqp_login(conn, info.vhost, 0, 131072, 0, AMQP_SASL_METHOD_PLAIN, info.user,
                           info.password),
                "login");
    amqp_channel_open(conn, 1);
    check_reply(amqp_get_rpc_reply(conn), "channel.open");
    free(url);
    return conn;
}

static void admin_close(amqp_connection_state_t conn)
{
    amqp_channel_close(conn, 1, AMQP_REPLY_SUCCESS);
    amqp_connection_close(conn, AMQP_REPLY_SUCCESS);
    amqp_destroy_connection(conn);
}

void amqp_admin_declare_bound_queue(const char *name, const char *exchange, const char *binding_key)
{
    amqp_connection_state_t conn = admin_connect();
    amqp_table_entry_t arg = {
        .key = amqp_cstring_bytes("x-queue-type"),
        .value = {.kind = AMQP_FIELD_KIND_UTF8, .value.bytes = amqp_cstring_bytes("quorum")}};
    amqp_table_t args = {.num_entries = 1, .entries = &arg};
    amqp_queue_declare(conn, 1, amqp_cstring_bytes(name), 0, 1, 0, 0, args);
    check_reply(amqp_get_rpc_reply(conn), "queue.declare");
    amqp_queue_bind(conn, 1, amqp_cstring_bytes(name), amqp_cstring_bytes(exchange),
                    amqp_cstring_bytes(binding_key), amqp_empty_table);
    check_reply(amqp_get_rpc_reply(conn), "queue.bind");
    admin_close(conn);
}

void amqp_admin_delete_queue(const char *name)
{
    amqp_connection_state_t conn = admin_connect();
    amqp_queue_delete(conn, 1, amqp_cstring_bytes(name), 0, 0);
    check_reply(amqp_get_rpc_reply(conn), "queue.delete");
    admin_close(conn);
}

static void copy_bytes(char *dst, size_t size, amqp_bytes_t b)
{
    size_t n = b.len < size - 1 ? b.len : size - 1;
    memcpy(dst, b.bytes, n);
    dst[n] = '\0';
}

static void read_header(const amqp_basic_properties_t *p, const char *name, char *dst, size_t size)
{
    dst[0] = '\0';
    if (!(p->_flags & AMQP_BASIC_HEADERS_FLAG))
        return;
    for (int i = 0; i < p->headers.num_entries; i++) {
        amqp_table_entry_t *e = &p->headers.entries[i];
        if (e->key.len == strlen(name) && memcmp(e->key.bytes, name, e->key.len) == 0 &&
            (e->value.kind == AMQP_FIELD_KIND_UTF8 || e->value.kind == AMQP_FIELD_KIND_BYTES))
            copy_bytes(dst, size, e->value.value.bytes);
    }
}

size_t amqp_admin_drain(const char *queue, size_t max,
                        int (*keep)(const struct amqp_admin_message *msg, void *ctx), void *ctx)
{
    amqp_connection_state_t conn = admin_connect();
    size_t kept = 0;
    /* Messages not kept stay unacked until the end, so that basic.get moves on past them
     * instead of fetching the same requeued message again. */
    uint64_t *others = calloc(max ? max : 1, sizeof *others);
    size_t n_others = 0;
    for (size_t i = 0; i < max; i++) {
        amqp_rpc_reply_t r = amqp_basic_get(conn, 1, amqp_cstring_bytes(queue), 0);
        check_reply(r, "basic.get");
        if (r.reply.id != AMQP_BASIC_GET_OK_METHOD)
            break; /* empty */
        amqp_basic_get_ok_t *ok = r.reply.decoded;
        uint64_t tag = ok->delivery_tag;
        amqp_message_t m;
        check_reply(amqp_read_message(conn, 1, &m, 0), "message body");
        struct amqp_admin_message msg = {.len = m.body.len};
        msg.body = malloc(m.body.len + 1);
        memcpy(msg.body, m.body.bytes, m.body.len);
        msg.body[m.body.len] = '\0';
        if (m.properties._flags & AMQP_BASIC_MESSAGE_ID_FLAG)
            copy_bytes(msg.message_id, sizeof msg.message_id, m.properties.message_id);
        read_header(&m.properties, "x-udc-error", msg.error_header, sizeof msg.error_header);
        if (keep(&msg, ctx)) {
            amqp_basic_ack(conn, 1, tag, 0);
            kept++;
        } else {
            others[n_others++] = tag;
        }
        free(msg.body);
        amqp_destroy_message(&m);
        amqp_maybe_release_buffers(conn);
    }
    for (size_t i = 0; i < n_others; i++)
        amqp_basic_nack(conn, 1, others[i], 0, 1);
    free(others);
    admin_close(conn);
    return kept;
}
