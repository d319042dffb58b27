/* Partners over AMQP end to end — a partner user made with scripts/partner publishes to
 * udc.partner → udc-ingest-amqp → udc.locations → udc-writer → PostGIS — on the throwaway
 * stack: every ping stored once with source partner:<name>, sending again stores nothing
 * new, invalid messages end in udc.dead.letters with their reasons and can be replayed, the
 * broker refuses whatever a partner may not do, and kill -9 of the gateway under load loses
 * and doubles nothing.
 *
 * The partner's client here is plain rabbitmq-c (not common/amqp_client), so that it can set
 * user_id and see the broker's refusals as they are. */
#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "amqp_admin.h"
#include "httpc.h"
#include "itest.h"
#include "suite_run.h"

#define TEST_PEOPLE 8
#define CHANNEL     1

static int people[TEST_PEOPLE];

/* ---- partner accounts and their client ---- */

struct partner {
    char name[33];
    char password[128];
    char url[512];
    amqp_connection_state_t conn;
    int channel; /* current channel; a refusal closes it and the next one is opened */
};

static void broker_address(char *host, size_t hostlen, int *port)
{
    char *url = strdup(itest_env("UDC_AMQP_URL"));
    struct amqp_connection_info info;
    ck_assert_int_eq(amqp_parse_url(url, &info), AMQP_STATUS_OK);
    snprintf(host, hostlen, "%s", info.host);
    *port = info.port;
    free(url);
}

/* scripts/partner add NAME, reading the password it prints once. */
static void partner_create(struct partner *p, const char *prefix)
{
    snprintf(p->name, sizeof p->name, "%s-%x-%04x", prefix, (unsigned)getpid() & 0xfffff,
             (unsigned)(rand() & 0xffff));
    char cmd[256];
    snprintf(cmd, sizeof cmd, "scripts/partner add %s", p->name);
    fflush(NULL);
    FILE *f = popen(cmd, "r");
    ck_assert_ptr_nonnull(f);
    char line[512];
    p->password[0] = '\0';
    while (fgets(line, sizeof line, f))
        sscanf(line, "password: %127s", p->password);
    ck_assert_int_eq(pclose(f), 0);
    ck_assert_msg(strlen(p->password) >= 16, "scripts/partner add printed no password");
    char host[256];
    int port;
    broker_address(host, sizeof host, &port);
    snprintf(p->url, sizeof p->url, "amqp://%s:%s@%s:%d/udaconnect", p->name, p->password, host,
             port);
}

static void open_channel(struct partner *p)
{
    p->channel++;
    amqp_channel_open(p->conn, (amqp_channel_t)p->channel);
    ck_assert_int_eq(amqp_get_rpc_reply(p->conn).reply_type, AMQP_RESPONSE_NORMAL);
    amqp_confirm_select(p->conn, (amqp_channel_t)p->channel);
    ck_assert_int_eq(amqp_get_rpc_reply(p->conn).reply_type, AMQP_RESPONSE_NORMAL);
}

static void partner_connect(struct partner *p)
{
    char host[256];
    int port;
    broker_address(host, sizeof host, &port);
    p->conn = amqp_new_connection();
    amqp_socket_t *sock = amqp_tcp_socket_new(p->conn);
    ck_assert_int_eq(amqp_socket_open(sock, host, port), AMQP_STATUS_OK);
    amqp_rpc_reply_t r = amqp_login(p->conn, "udaconnect", 0, 131072, 0, AMQP_SASL_METHOD_PLAIN,
                                    p->name, p->password);
    ck_assert_msg(r.reply_type == AMQP_RESPONSE_NORMAL, "partner %s cannot log in", p->name);
    p->channel = 0;
    open_channel(p);
}

static void partner_disconnect(struct partner *p)
{
    amqp_channel_close(p->conn, (amqp_channel_t)p->channel, AMQP_REPLY_SUCCESS);
    amqp_connection_close(p->conn, AMQP_REPLY_SUCCESS);
    amqp_destroy_connection(p->conn);
    p->conn = NULL;
}

static void partner_remove(struct partner *p)
{
    ck_assert_int_eq(itest_sh("scripts/partner remove %s >/dev/null", p->name), 0);
}

/* The broker's answer to a channel it closed: acknowledge, and go on on a new channel. */
static int channel_refused(struct partner *p, const amqp_channel_close_t *m)
{
    int code = m->reply_code;
    amqp_channel_close_ok_t ok = {0};
    amqp_send_method(p->conn, (amqp_channel_t)p->channel, AMQP_CHANNEL_CLOSE_OK_METHOD, &ok);
    open_channel(p);
    return code;
}

/* Publishes and waits for the broker's verdict: 0 confirmed, -1 nacked or returned, or the
 * reply code of the channel error it caused (403 ACCESS_REFUSED, 406 PRECONDITION_FAILED). */
static int partner_publish(struct partner *p, const char *exchange, const char *key,
                           const char *user_id, const char *message_id, const char *body)
{
    amqp_basic_properties_t props = {0};
    props._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG;
    props.content_type = amqp_cstring_bytes("application/json");
    props.delivery_mode = AMQP_DELIVERY_PERSISTENT;
    if (user_id) {
        props._flags |= AMQP_BASIC_USER_ID_FLAG;
        props.user_id = amqp_cstring_bytes(user_id);
    }
    if (message_id) {
        props._flags |= AMQP_BASIC_MESSAGE_ID_FLAG;
        props.message_id = amqp_cstring_bytes(message_id);
    }
    ck_assert_int_eq(amqp_basic_publish(p->conn, (amqp_channel_t)p->channel,
                                        amqp_cstring_bytes(exchange), amqp_cstring_bytes(key), 1, 0,
                                        &props, amqp_cstring_bytes(body)),
                     AMQP_STATUS_OK);
    int returned = 0;
    for (;;) {
        amqp_frame_t frame;
        struct timeval tv = {15, 0};
        int rc = amqp_simple_wait_frame_noblock(p->conn, &frame, &tv);
        ck_assert_msg(rc == AMQP_STATUS_OK, "no answer from the broker: %s",
                      amqp_error_string2(rc));
        if (frame.frame_type != AMQP_FRAME_METHOD)
            continue;
        switch (frame.payload.method.id) {
        case AMQP_BASIC_ACK_METHOD:
            return returned ? -1 : 0;
        case AMQP_BASIC_NACK_METHOD:
            return -1;
        case AMQP_BASIC_RETURN_METHOD: {
            amqp_message_t m;
            ck_assert_int_eq(amqp_read_message(p->conn, frame.channel, &m, 0).reply_type,
                             AMQP_RESPONSE_NORMAL);
            amqp_destroy_message(&m);
            returned = 1;
            break;
        }
        case AMQP_CHANNEL_CLOSE_METHOD:
            return channel_refused(p, frame.payload.method.decoded);
        case AMQP_CONNECTION_CLOSE_METHOD:
            ck_abort_msg("the broker closed the partner's connection");
        }
    }
}

/* Reply code of the channel error basic.consume / basic.get / queue.declare caused (0 when
 * the broker allowed it). */
static int partner_try_read(struct partner *p, const char *queue, int how)
{
    amqp_channel_t ch = (amqp_channel_t)p->channel;
    if (how == 0)
        amqp_basic_consume(p->conn, ch, amqp_cstring_bytes(queue), amqp_empty_bytes, 0, 0, 0,
                           amqp_empty_table);
    else if (how == 1)
        amqp_basic_get(p->conn, ch, amqp_cstring_bytes(queue), 0);
    else
        amqp_queue_declare(p->conn, ch, amqp_cstring_bytes(queue), 0, 0, 1, 1, amqp_empty_table);
    amqp_rpc_reply_t r = amqp_get_rpc_reply(p->conn);
    if (r.reply_type == AMQP_RESPONSE_NORMAL)
        return 0;
    ck_assert_int_eq(r.reply_type, AMQP_RESPONSE_SERVER_EXCEPTION);
    ck_assert_int_eq(r.reply.id, AMQP_CHANNEL_CLOSE_METHOD);
    int code = ((amqp_channel_close_t *)r.reply.decoded)->reply_code;
    amqp_channel_close_ok_t ok = {0};
    amqp_send_method(p->conn, ch, AMQP_CHANNEL_CLOSE_OK_METHOD, &ok);
    open_channel(p);
    return code;
}

/* ---- pings ---- */

static void make_people(void)
{
    PGconn *db = itest_db();
    for (int i = 0; i < TEST_PEOPLE; i++)
        people[i] =
            (int)itest_db_value(db,
                                "INSERT INTO person (first_name, last_name, company_name) "
                                "VALUES ('Partner', 'Tester', 'UdaConnect tests') RETURNING id",
                                0, NULL);
    PQfinish(db);
}

static void ping_json(char *buf, size_t size, const char *event_id, int person, unsigned seq)
{
    snprintf(buf, size,
             "{\"event_id\":\"%s\",\"person_id\":%d,\"latitude\":%.6f,\"longitude\":%.6f,"
             "\"creation_time\":\"2021-04-%02uT%02u:%02u:%02uZ\"}",
             event_id, person, -30.0 - (seq % 1000) * 1e-5, -25.0 - (seq % 777) * 1e-5,
             1 + seq % 28, seq / 3600 % 24, seq / 60 % 60, seq % 60);
}

/* {"locations":[...]} of n new pings; their event ids go to ids[0..n). Caller frees. */
static char *batch_json(size_t n, char **ids, unsigned seq0)
{
    size_t cap = n * 200 + 32, used = 0;
    char *body = malloc(cap);
    used += (size_t)snprintf(body, cap, "{\"locations\":[");
    for (size_t i = 0; i < n; i++) {
        ids[i] = malloc(37);
        itest_uuid(ids[i]);
        char one[200];
        ping_json(one, sizeof one, ids[i], people[(seq0 + i) % TEST_PEOPLE], seq0 + (unsigned)i);
        used += (size_t)snprintf(body + used, cap - used, "%s%s", i ? "," : "", one);
    }
    snprintf(body + used, cap - used, "]}");
    return body;
}

static long long count_by_source(const char *partner)
{
    char source[64];
    snprintf(source, sizeof source, "partner:%s", partner);
    PGconn *db = itest_db();
    const char *params[] = {source};
    long long c = itest_db_value(db, "SELECT count(*) FROM location WHERE source = $1", 1, params);
    PQfinish(db);
    return c;
}

static long long count_ids(char *const *ids, size_t n)
{
    PGconn *db = itest_db();
    char *arr = itest_pg_array(ids, n);
    const char *params[] = {arr};
    long long c = itest_db_value(
        db, "SELECT count(*) FROM location WHERE event_id = ANY($1::uuid[])", 1, params);
    free(arr);
    PQfinish(db);
    return c;
}

struct source_wait {
    const char *partner;
    long long want;
};

static int source_reached(void *arg)
{
    struct source_wait *w = arg;
    return count_by_source(w->partner) >= w->want;
}

static void wait_stored(const char *partner, long long want, int timeout_ms)
{
    struct source_wait w = {partner, want};
    ck_assert_msg(itest_wait(source_reached, &w, timeout_ms),
                  "partner %s: %lld of %lld pings stored after %d ms", partner,
                  count_by_source(partner), want, timeout_ms);
}

/* A counter of a daemon's /metrics (0 when absent). */
static long long metric(const char *admin_env, const char *series)
{
    double v = 0;
    int rc = itest_metric(itest_env(admin_env), series, &v);
    ck_assert_msg(rc >= 0, "no /metrics from %s", admin_env);
    return rc == 0 ? (long long)v : 0;
}

struct metric_wait {
    const char *admin_env;
    const char *series;
    long long want;
};

static int metric_reached(void *arg)
{
    const struct metric_wait *w = arg;
    return metric(w->admin_env, w->series) >= w->want;
}

static void free_ids(char **ids, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(ids[i]);
}

/* ---- tests ---- */

START_TEST(ten_thousand_pings_are_stored_once)
{
    enum {
        BATCH = 100,
        C_BATCHES = 90,
        CLI_BATCHES = 10,
        TOTAL = (C_BATCHES + CLI_BATCHES) * BATCH
    };
    static char *ids[TOTAL];
    struct partner p;
    partner_create(&p, "bulk");
    partner_connect(&p);
    char key[128];
    snprintf(key, sizeof key, "partner.%s.scanner", p.name);

    /* 9,000 pings from a client that sets user_id and waits for each confirm. */
    char *resend = NULL;
    for (int b = 0; b < C_BATCHES; b++) {
        char *body = batch_json(BATCH, ids + b * BATCH, (unsigned)(b * BATCH));
        ck_assert_int_eq(partner_publish(&p, "udc.partner", key, p.name, NULL, body), 0);
        if (b == 7)
            resend = body;
        else
            free(body);
    }
    /* 1,000 more with Debian's amqp-publish: one batch per line, no user_id. It does not
     * wait for confirms, and a quorum queue may drop the last messages of a connection
     * closed right after them, so its input stays open until the gateway republished all. */
    char series[128];
    snprintf(series, sizeof series,
             "udc_ingest_amqp_pings_total{partner=\"%s\",outcome=\"republished\"}", p.name);
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "amqp-publish -u '%s' -e udc.partner -r partner.%s.cli -p -C application/json -l",
             p.url, p.name);
    fflush(NULL);
    FILE *cli = popen(cmd, "w");
    ck_assert_ptr_nonnull(cli);
    for (int b = C_BATCHES; b < C_BATCHES + CLI_BATCHES; b++) {
        char *body = batch_json(BATCH, ids + b * BATCH, (unsigned)(b * BATCH));
        fprintf(cli, "%s\n", body);
        free(body);
    }
    fflush(cli);
    struct metric_wait republished = {"UDC_ADMIN_URL_INGEST_AMQP", series, TOTAL};
    int all_republished = itest_wait(metric_reached, &republished, 120000);
    ck_assert_int_eq(pclose(cli), 0);
    ck_assert_msg(all_republished, "partner %s: %lld of %d pings republished", p.name,
                  metric(republished.admin_env, series), TOTAL);

    wait_stored(p.name, TOTAL, 120000);
    ck_assert_int_eq(count_ids(ids, TOTAL), TOTAL);
    ck_assert_int_eq(count_by_source(p.name), TOTAL);

    /* The same batch again: republished by the gateway, recognised by the writer. */
    long long before = metric("UDC_ADMIN_URL_INGEST_AMQP", series);
    ck_assert_int_eq(before, TOTAL);
    const char *duplicates = "udc_writer_pings_total{outcome=\"duplicate\"}";
    struct metric_wait recognised = {"UDC_ADMIN_URL_WRITER", duplicates,
                                     metric("UDC_ADMIN_URL_WRITER", duplicates) + BATCH};
    ck_assert_int_eq(partner_publish(&p, "udc.partner", key, p.name, NULL, resend), 0);
    itest_wait(metric_reached, &recognised, 30000);
    ck_assert_int_eq(metric("UDC_ADMIN_URL_INGEST_AMQP", series), before + BATCH);
    ck_assert_int_ge(metric("UDC_ADMIN_URL_WRITER", duplicates), recognised.want);
    ck_assert_int_eq(count_by_source(p.name), TOTAL);

    free(resend);
    free_ids(ids, TOTAL);
    partner_disconnect(&p);
    partner_remove(&p);
}
END_TEST

/* ---- dead letters ---- */

#define DEAD_CASES 5

struct dead_search {
    const char *ids[DEAD_CASES];
    char errors[DEAD_CASES][512];
    int found[DEAD_CASES];
};

static int note_dead(const struct amqp_admin_message *m, void *arg)
{
    struct dead_search *s = arg;
    for (int i = 0; i < DEAD_CASES; i++)
        if (strcmp(m->message_id, s->ids[i]) == 0) {
            s->found[i]++;
            snprintf(s->errors[i], sizeof s->errors[i], "%s", m->error_header);
        }
    return 0; /* look only: everything goes back to the queue */
}

/* 1 when every id of s but the "-" placeholders is in the dead-letter queue. */
static int all_dead(void *arg)
{
    struct dead_search *s = arg;
    memset(s->found, 0, sizeof s->found);
    amqp_admin_drain("udc.dead.letters", 100000, note_dead, s);
    for (int i = 0; i < DEAD_CASES; i++)
        if (!s->found[i] && strcmp(s->ids[i], "-") != 0)
            return 0;
    return 1;
}

static int take_ours(const struct amqp_admin_message *m, void *arg)
{
    struct dead_search *s = arg;
    for (int i = 0; i < DEAD_CASES; i++)
        if (strcmp(m->message_id, s->ids[i]) == 0)
            return 1;
    return 0;
}

static int unknown_person_id(void)
{
    PGconn *db = itest_db();
    int id = (int)itest_db_value(db,
                                 "SELECT CASE WHEN EXISTS (SELECT 1 FROM person WHERE id = "
                                 "999999) THEN (SELECT max(id) + 1000 FROM person) ELSE 999999 END",
                                 0, NULL);
    PQfinish(db);
    return id;
}

START_TEST(invalid_messages_are_dead_lettered_with_reasons_and_replayed)
{
    struct partner p;
    partner_create(&p, "bad");
    partner_connect(&p);
    char key[128];
    snprintf(key, sizeof key, "partner.%s.x", p.name);
    int ghost = unknown_person_id();

    char mid[4][37], ev[4][37], body[4][512];
    for (int i = 0; i < 4; i++) {
        itest_uuid(mid[i]);
        itest_uuid(ev[i]);
    }
    snprintf(body[0], sizeof body[0], "{\"event_id\": \"%s\", \"person_id\": ", ev[0]);
    snprintf(body[1], sizeof body[1],
             "{\"person_id\":%d,\"latitude\":1,\"longitude\":2,"
             "\"creation_time\":\"2021-01-01T00:00:00Z\"}",
             people[0]);
    snprintf(body[2], sizeof body[2],
             "{\"event_id\":\"%s\",\"person_id\":%d,\"latitude\":1,\"longitude\":-181,"
             "\"creation_time\":\"2021-01-01T00:00:00Z\"}",
             ev[2], people[0]);
    /* A batch: item 0 valid (stored now), item 1 out of range (dead-lettered here). */
    char good[37];
    itest_uuid(good);
    snprintf(body[3], sizeof body[3],
             "{\"locations\":[{\"event_id\":\"%s\",\"person_id\":%d,\"latitude\":1,"
             "\"longitude\":2,\"creation_time\":\"2021-01-01T00:00:00Z\"},"
             "{\"event_id\":\"%s\",\"person_id\":%d,\"latitude\":100,\"longitude\":2,"
             "\"creation_time\":\"2021-01-01T00:00:00Z\"}]}",
             good, people[1], ev[3], people[1]);
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(partner_publish(&p, "udc.partner", key, p.name, mid[i], body[i]), 0);
    /* Valid here, unknown to the database: the writer dead-letters the republished message,
     * whose message_id is the ping's event_id. */
    char ghost_ev[37], ghost_body[512];
    itest_uuid(ghost_ev);
    snprintf(ghost_body, sizeof ghost_body,
             "{\"event_id\":\"%s\",\"person_id\":%d,\"latitude\":1,\"longitude\":2,"
             "\"creation_time\":\"2021-01-01T00:00:00Z\"}",
             ghost_ev, ghost);
    ck_assert_int_eq(partner_publish(&p, "udc.partner", key, p.name, NULL, ghost_body), 0);

    struct dead_search s = {.ids = {mid[0], mid[1], mid[2], mid[3], ghost_ev}};
    ck_assert_msg(itest_wait(all_dead, &s, 30000), "dead letters found: %d %d %d %d %d", s.found[0],
                  s.found[1], s.found[2], s.found[3], s.found[4]);
    ck_assert_msg(strncmp(s.errors[0], "body is ", 8) == 0 && strstr(s.errors[0], "JSON"), "%s",
                  s.errors[0]);
    ck_assert_str_eq(s.errors[1], "event_id is required");
    ck_assert_str_eq(s.errors[2], "longitude must be between -180 and 180");
    ck_assert_str_eq(s.errors[3], "item 1: latitude must be between -90 and 90");
    char want[128];
    snprintf(want, sizeof want, "person_id %d does not exist", ghost);
    ck_assert_msg(strstr(s.errors[4], want), "%s", s.errors[4]);
    wait_stored(p.name, 1, 30000); /* the valid item of the batch */
    ck_assert_int_eq(count_ids((char *[]){good}, 1), 1);

    /* The person arrives; replay all five. The unknown person's ping is stored now; the
     * others come back as dead letters with the same reasons (no user_id after a replay:
     * the routing key still names the partner). */
    PGconn *db = itest_db();
    char ghost_s[16];
    snprintf(ghost_s, sizeof ghost_s, "%d", ghost);
    itest_db_exec(db,
                  "INSERT INTO person (id, first_name, last_name, company_name) "
                  "VALUES ($1::int, 'Late', 'Comer', 'UdaConnect tests')",
                  1, (const char *[]){ghost_s});
    PQfinish(db);
    ck_assert_int_eq(itest_sh("scripts/dead-letters replay %s %s %s %s %s", mid[0], mid[1], mid[2],
                              mid[3], ghost_ev),
                     0);
    wait_stored(p.name, 2, 30000);
    ck_assert_int_eq(count_ids((char *[]){ghost_ev}, 1), 1);
    ck_assert_int_eq(count_by_source(p.name), 2);
    struct dead_search again = {.ids = {mid[0], mid[1], mid[2], mid[3], "-"}};
    itest_wait(all_dead, &again, 30000);
    for (int i = 0; i < 4; i++)
        ck_assert_msg(again.found[i] == 1, "dead letter %d found %d times after the replay", i,
                      again.found[i]);
    ck_assert_str_eq(again.errors[1], "event_id is required");
    ck_assert_str_eq(again.errors[3], "item 1: latitude must be between -90 and 90");
    /* Replayed ones left the queue: the ghost's dead letter is gone. */
    struct dead_search gone = {.ids = {ghost_ev, "-", "-", "-", "-"}};
    all_dead(&gone);
    ck_assert_int_eq(gone.found[0], 0);
    /* The replayed batch stored its valid item once. */
    ck_assert_int_eq(count_ids((char *[]){good}, 1), 1);

    /* Leave the queue as we found it. */
    ck_assert_int_eq(amqp_admin_drain("udc.dead.letters", 100000, take_ours, &again), 4);
    partner_disconnect(&p);
    partner_remove(&p);
}
END_TEST

START_TEST(the_broker_refuses_what_a_partner_may_not_do)
{
    struct partner p, other;
    partner_create(&p, "perm");
    partner_create(&other, "perm");
    partner_connect(&p);
    char own[128], theirs[128];
    snprintf(own, sizeof own, "partner.%s.x", p.name);
    snprintf(theirs, sizeof theirs, "partner.%s.x", other.name);
    char ping[256], ids[3][37];
    for (int i = 0; i < 3; i++)
        itest_uuid(ids[i]);
    ping_json(ping, sizeof ping, ids[0], people[0], 1);

    /* Allowed: its own key, with or without user_id (valid pings: they are stored). */
    ck_assert_int_eq(partner_publish(&p, "udc.partner", own, p.name, NULL, ping), 0);
    ping_json(ping, sizeof ping, ids[1], people[0], 2);
    ck_assert_int_eq(partner_publish(&p, "udc.partner", own, NULL, NULL, ping), 0);
    /* Refused: another exchange, another partner's key, keys outside partner.NAME. */
    ck_assert_int_eq(partner_publish(&p, "udc.locations", "location.partner.x", NULL, NULL, ping),
                     403);
    ck_assert_int_eq(partner_publish(&p, "udc.dead", "partner.x", NULL, NULL, ping), 403);
    ck_assert_int_eq(partner_publish(&p, "", "udc.partner.inbox", NULL, NULL, ping), 403);
    ck_assert_int_eq(partner_publish(&p, "udc.partner", theirs, p.name, NULL, ping), 403);
    ck_assert_int_eq(partner_publish(&p, "udc.partner", theirs, NULL, NULL, ping), 403);
    char bare[64];
    snprintf(bare, sizeof bare, "partner.%s", p.name);
    ck_assert_int_eq(partner_publish(&p, "udc.partner", bare, NULL, NULL, ping), 403);
    /* Refused: a forged user_id, the other partner's or a daemon's. */
    ck_assert_int_eq(partner_publish(&p, "udc.partner", own, other.name, NULL, ping), 406);
    ck_assert_int_eq(partner_publish(&p, "udc.partner", own, "udc-ingest-amqp", NULL, ping), 406);
    /* Refused: reading any queue, or making one. */
    const char *queues[] = {"udc.partner.inbox", "udc.locations.store", "udc.dead.letters",
                            "udc.connections.compute"};
    for (size_t i = 0; i < sizeof queues / sizeof queues[0]; i++) {
        ck_assert_int_eq(partner_try_read(&p, queues[i], 0), 403);
        ck_assert_int_eq(partner_try_read(&p, queues[i], 1), 403);
    }
    ck_assert_int_eq(partner_try_read(&p, "partner-own-queue", 2), 403);
    /* After all that, publishing under its own key still works, and nothing refused was
     * stored. */
    ping_json(ping, sizeof ping, ids[2], people[0], 3);
    ck_assert_int_eq(partner_publish(&p, "udc.partner", own, p.name, NULL, ping), 0);
    wait_stored(p.name, 3, 30000);
    ck_assert_int_eq(count_ids((char *[]){ids[0], ids[1], ids[2]}, 3), 3);
    ck_assert_int_eq(count_by_source(p.name), 3);

    /* scripts/partner list vouches for both accounts. */
    ck_assert_int_eq(itest_sh("scripts/partner list | grep -E '^%s +ok ' >/dev/null", p.name), 0);
    partner_disconnect(&p);
    partner_remove(&p);
    partner_remove(&other);
    /* A removed partner cannot log in any more. */
    ck_assert_int_ne(
        itest_sh("amqp-publish -u '%s' -e udc.partner -r %s -b x 2>/dev/null", p.url, own), 0);
}
END_TEST

/* ---- kill -9 under load ---- */

struct load {
    struct partner *p;
    char **ids;
    size_t batches, per_batch;
    int failures;
};

static void *publish_load(void *arg)
{
    struct load *l = arg;
    char key[128];
    snprintf(key, sizeof key, "partner.%s.load", l->p->name);
    for (size_t b = 0; b < l->batches; b++) {
        char *body =
            batch_json(l->per_batch, l->ids + b * l->per_batch, (unsigned)(b * l->per_batch));
        if (partner_publish(l->p, "udc.partner", key, l->p->name, NULL, body) != 0)
            l->failures++;
        free(body);
        usleep(5000); /* spread over a few seconds, so the kill lands mid-stream */
    }
    return NULL;
}

START_TEST(kill_9_of_the_gateway_under_load_loses_and_doubles_nothing)
{
    enum { BATCHES = 400, PER_BATCH = 50, TOTAL = BATCHES * PER_BATCH };
    static char *ids[TOTAL];
    struct partner p;
    partner_create(&p, "kill");
    partner_connect(&p);
    struct load l = {&p, ids, BATCHES, PER_BATCH, 0};
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, publish_load, &l), 0);
    usleep(600 * 1000);
    ck_assert_int_eq(itest_sh("scripts/run kill ingest-amqp"), 0);
    usleep(800 * 1000); /* messages pile up in udc.partner.inbox meanwhile */
    ck_assert_int_eq(itest_sh("scripts/run restart ingest-amqp >/dev/null"), 0);
    pthread_join(t, NULL);
    ck_assert_int_eq(l.failures, 0); /* every batch was confirmed by the broker */

    wait_stored(p.name, TOTAL, 180000);
    ck_assert_int_eq(count_ids(ids, TOTAL), TOTAL);
    sleep(1); /* anything redelivered late would show now */
    ck_assert_int_eq(count_by_source(p.name), TOTAL);
    free_ids(ids, TOTAL);
    partner_disconnect(&p);
    partner_remove(&p);
}
END_TEST

int main(void)
{
    srand((unsigned)time(NULL) ^ (unsigned)getpid());
    Suite *s = suite_create("partner");
    TCase *tc = tcase_create("partner");
    tcase_add_unchecked_fixture(tc, make_people, NULL);
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, the_broker_refuses_what_a_partner_may_not_do);
    tcase_add_test(tc, ten_thousand_pings_are_stored_once);
    tcase_add_test(tc, invalid_messages_are_dead_lettered_with_reasons_and_replayed);
    tcase_add_test(tc, kill_9_of_the_gateway_under_load_loses_and_doubles_nothing);
    suite_add_tcase(s, tc);
    return udc_test_run(s);
}
