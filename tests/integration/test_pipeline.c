/* The location pipeline end to end — udc-ingest-http → RabbitMQ → udc-writer → PostGIS —
 * on the throwaway stack: accepted pings are stored exactly once, bad input is refused with
 * a reason, single pings share broker messages under load and leave alone at light load,
 * and nothing accepted is lost or doubled when the writer is killed, the broker restarts or
 * the database restarts under load. */
#include <arpa/inet.h>
#include <check.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "amqp_admin.h"
#include "httpc.h"
#include "itest.h"
#include "suite_run.h"

#define TEST_PEOPLE 8

static int people[TEST_PEOPLE]; /* person ids made for this run, far from the seed's */

static const char *const json_headers[] = {"Content-Type: application/json", NULL};

static char *ingest_url(const char *path)
{
    static __thread char url[512];
    snprintf(url, sizeof url, "%s%s", itest_env("UDC_INGEST_URL"), path);
    return url;
}

static void make_people(void)
{
    PGconn *db = itest_db();
    for (int i = 0; i < TEST_PEOPLE; i++)
        people[i] =
            (int)itest_db_value(db,
                                "INSERT INTO person (first_name, last_name, company_name) "
                                "VALUES ('Pipeline', 'Tester', 'UdaConnect tests') RETURNING id",
                                0, NULL);
    PQfinish(db);
}

/* A valid ping body for person index k, in the sea west of Africa (no seed data there). */
static void ping_body(char *buf, size_t size, int k, unsigned seq)
{
    snprintf(buf, size,
             "{\"person_id\":%d,\"latitude\":%.6f,\"longitude\":%.6f,"
             "\"creation_time\":\"2021-03-0%uT%02u:%02u:%02uZ\"}",
             people[k % TEST_PEOPLE], 1.0 + (seq % 1000) * 1e-5, -20.0 - (seq % 777) * 1e-5,
             1 + seq % 9, seq / 3600 % 24, seq / 60 % 60, seq % 60);
}

static long long stored_count(char *const *event_ids, size_t n)
{
    PGconn *db = itest_db();
    char *arr = itest_pg_array(event_ids, n);
    const char *params[] = {arr};
    long long c = itest_db_value(
        db, "SELECT count(*) FROM location WHERE event_id = ANY($1::uuid[])", 1, params);
    free(arr);
    PQfinish(db);
    return c;
}

struct stored_wait {
    char *const *ids;
    size_t n;
};

static int all_stored(void *arg)
{
    struct stored_wait *w = arg;
    return stored_count(w->ids, w->n) >= (long long)w->n;
}

static long post(const char *path, const char *const *headers, const char *body,
                 struct httpc_response *r)
{
    ck_assert_int_eq(httpc_request("POST", ingest_url(path), headers, body, strlen(body), r), 0);
    return r->status;
}

static void event_id_of(const struct httpc_response *r, char out[37])
{
    json_object *o = json_tokener_parse(r->body);
    json_object *id;
    ck_assert_msg(o && json_object_object_get_ex(o, "event_id", &id), "no event_id in %s", r->body);
    snprintf(out, 37, "%s", json_object_get_string(id));
    json_object_put(o);
}

START_TEST(accepted_pings_are_stored_once)
{
    enum { N = 200 };
    char *ids[N];
    char body[256];
    for (int i = 0; i < N; i++) {
        struct httpc_response r;
        ping_body(body, sizeof body, i, (unsigned)i);
        ck_assert_int_eq(post("/api/locations", json_headers, body, &r), 202);
        ids[i] = malloc(37);
        event_id_of(&r, ids[i]);
        httpc_response_free(&r);
    }
    /* Ids made by udc-ingest-http are version 7: requests one after another get ids in
     * order, which go in at the right edge of location's unique index. */
    for (int i = 0; i < N; i++) {
        ck_assert_int_eq(ids[i][14], '7');
        ck_assert_msg(i == 0 || strcmp(ids[i - 1], ids[i]) < 0, "%s !< %s", ids[i - 1], ids[i]);
    }
    struct stored_wait w = {ids, N};
    ck_assert_msg(itest_wait(all_stored, &w, 30000), "only %lld of %d stored", stored_count(ids, N),
                  N);
    /* The row holds what was posted: longitude is x, latitude is y. */
    PGconn *db = itest_db();
    const char *p[] = {ids[7]};
    ck_assert_int_eq(itest_db_value(db,
                                    "SELECT round(ST_Y(coordinate::geometry) * 1e6) FROM location "
                                    "WHERE event_id = $1",
                                    1, p),
                     1000070);
    ck_assert_int_eq(itest_db_value(db,
                                    "SELECT count(*) FROM location WHERE event_id = $1 "
                                    "AND source = 'mobile' AND creation_time = "
                                    "'2021-03-08T00:00:07Z'",
                                    1, p),
                     1);
    PQfinish(db);
    for (int i = 0; i < N; i++)
        free(ids[i]);
}
END_TEST

START_TEST(same_event_id_twice_is_one_row)
{
    char key[37], header[80], body[256];
    itest_uuid(key);
    snprintf(header, sizeof header, "Idempotency-Key: %s", key);
    const char *headers[] = {"Content-Type: application/json", header, NULL};
    ping_body(body, sizeof body, 1, 4242);
    for (int i = 0; i < 3; i++) {
        struct httpc_response r;
        ck_assert_int_eq(post("/api/locations", headers, body, &r), 202);
        char got[37];
        event_id_of(&r, got);
        ck_assert_str_eq(got, key);
        httpc_response_free(&r);
    }
    /* Also as a body field. */
    char body2[320];
    snprintf(body2, sizeof body2, "{\"event_id\":\"%s\",%s", key, body + 1);
    struct httpc_response r;
    ck_assert_int_eq(post("/api/locations", json_headers, body2, &r), 202);
    httpc_response_free(&r);
    char *ids[] = {key};
    struct stored_wait w = {ids, 1};
    ck_assert(itest_wait(all_stored, &w, 20000));
    sleep(1); /* any duplicate would have been written by now */
    ck_assert_int_eq(stored_count(ids, 1), 1);
}
END_TEST

START_TEST(batch_stores_exactly_the_valid_items)
{
    char a[256], b[256], body[1024];
    ping_body(a, sizeof a, 2, 5000);
    ping_body(b, sizeof b, 3, 5001);
    snprintf(body, sizeof body,
             "[%s,{\"person_id\":%d,\"latitude\":95,\"longitude\":1},%s,"
             "{\"person_id\":\"abc\",\"latitude\":1,\"longitude\":1}]",
             a, people[0], b);
    struct httpc_response r;
    ck_assert_int_eq(post("/api/locations/batch", json_headers, body, &r), 202);
    json_object *o = json_tokener_parse(r.body);
    ck_assert_ptr_nonnull(o);
    ck_assert_int_eq(json_object_get_int(json_object_object_get(o, "accepted")), 2);
    ck_assert_int_eq(json_object_get_int(json_object_object_get(o, "rejected")), 2);
    json_object *items = json_object_object_get(o, "items");
    ck_assert_int_eq(json_object_array_length(items), 4);
    const char *expect_status[] = {"accepted", "rejected", "accepted", "rejected"};
    const char *expect_field[] = {NULL, "latitude", NULL, "person_id"};
    char *ids[2];
    int k = 0;
    for (int i = 0; i < 4; i++) {
        json_object *it = json_object_array_get_idx(items, (size_t)i);
        ck_assert_int_eq(json_object_get_int(json_object_object_get(it, "index")), i);
        ck_assert_str_eq(json_object_get_string(json_object_object_get(it, "status")),
                         expect_status[i]);
        if (expect_field[i])
            ck_assert_str_eq(json_object_get_string(json_object_object_get(it, "field")),
                             expect_field[i]);
        else
            ids[k++] = strdup(json_object_get_string(json_object_object_get(it, "event_id")));
    }
    json_object_put(o);
    httpc_response_free(&r);
    ck_assert_int_eq(ids[0][14], '7'); /* made by udc-ingest-http: version 7, as single pings */
    ck_assert_int_eq(ids[1][14], '7');
    struct stored_wait w = {ids, 2};
    ck_assert(itest_wait(all_stored, &w, 20000));
    free(ids[0]);
    free(ids[1]);

    /* NDJSON too; and a batch with nothing valid is a 400 with the verdicts. */
    snprintf(body, sizeof body, "%s\n%s\n", a, b);
    const char *nd[] = {"Content-Type: application/x-ndjson", NULL};
    ck_assert_int_eq(post("/api/locations/batch", nd, body, &r), 202);
    httpc_response_free(&r);
    ck_assert_int_eq(post("/api/locations/batch", json_headers, "[{\"person_id\":0}]", &r), 400);
    ck_assert_ptr_nonnull(strstr(r.body, "\"rejected\":1"));
    httpc_response_free(&r);
}
END_TEST

struct bad_case {
    const char *body;
    const char *field; /* the field the error must name */
};

START_TEST(bad_input_is_refused_with_the_field_named)
{
    static const struct bad_case cases[] = {
        {"{\"person_id\":1,", "body"},
        {"not json", "body"},
        {"[1,2]", "body"},
        {"{\"person_id\":\"x\",\"latitude\":1,\"longitude\":1}", "person_id"},
        {"{\"person_id\":1.5,\"latitude\":1,\"longitude\":1}", "person_id"},
        {"{\"person_id\":1,\"latitude\":true,\"longitude\":1}", "latitude"},
        {"{\"person_id\":1,\"latitude\":NaN,\"longitude\":1}", "latitude"},
        {"{\"person_id\":1,\"latitude\":1,\"longitude\":Infinity}", "longitude"},
        {"{\"person_id\":1,\"latitude\":90.0001,\"longitude\":1}", "latitude"},
        {"{\"person_id\":1,\"latitude\":1,\"longitude\":-180.5}", "longitude"},
        {"{\"latitude\":1,\"longitude\":1}", "person_id"},
        {"{\"person_id\":1,\"longitude\":1}", "latitude"},
        {"{\"person_id\":1,\"latitude\":1}", "longitude"},
        {"{\"person_id\":1,\"latitude\":1,\"longitude\":1,\"creation_time\":\"yesterday\"}",
         "creation_time"},
        {"{\"person_id\":1,\"latitude\":1,\"longitude\":1,\"creation_time\":\"2999-01-01T00:00:"
         "00Z\"}",
         "creation_time"},
        {"{\"person_id\":1,\"latitude\":1,\"longitude\":1,\"event_id\":\"nope\"}", "event_id"},
        {"{\"person_id\":1,\"latitude\":1,\"longitude\":1,\"colour\":\"red\"}", "colour"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct httpc_response r;
        long status = post("/api/locations", json_headers, cases[i].body, &r);
        ck_assert_msg(status == 400, "%s → %ld", cases[i].body, status);
        json_object *o = json_tokener_parse(r.body);
        ck_assert_msg(o != NULL, "error body is not JSON: %s", r.body);
        ck_assert_str_eq(json_object_get_string(json_object_object_get(o, "field")),
                         cases[i].field);
        ck_assert_ptr_nonnull(json_object_object_get(o, "error"));
        json_object_put(o);
        httpc_response_free(&r);
    }
    struct httpc_response r;
    const char *text[] = {"Content-Type: text/plain", NULL};
    ck_assert_int_eq(post("/api/locations", text, "{}", &r), 415);
    httpc_response_free(&r);
    const char *bad_key[] = {"Content-Type: application/json", "Idempotency-Key: 42", NULL};
    ck_assert_int_eq(
        post("/api/locations", bad_key, "{\"person_id\":1,\"latitude\":1,\"longitude\":1}", &r),
        400);
    httpc_response_free(&r);
}
END_TEST

static int connect_ingest(void)
{
    const char *url = itest_env("UDC_INGEST_URL"); /* http://127.0.0.1:PORT */
    const char *colon = strrchr(url, ':');
    ck_assert_ptr_nonnull(colon);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(colon + 1))};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    return fd;
}

/* Reads what the server sends until it closes (or 10 s pass). */
static size_t read_until_close(int fd, char *buf, size_t size)
{
    struct timeval tv = {.tv_sec = 10};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    size_t len = 0;
    ssize_t n;
    while (len + 1 < size && (n = recv(fd, buf + len, size - 1 - len, 0)) > 0)
        len += (size_t)n;
    buf[len] = '\0';
    return len;
}

/* The answer comes as soon as the headers announce too large a body, before any of it is
 * sent, and the connection is closed: nobody uploads 10 MB to be refused. A client that
 * had kept sending would race the close (its unread bytes make the kernel reset the
 * connection), which is why clients ask with "Expect: 100-continue" — see below. */
START_TEST(ten_megabyte_body_is_413)
{
    char head[256], answer[4096];
    int n = snprintf(head, sizeof head,
                     "POST /api/locations HTTP/1.1\r\nHost: x\r\n"
                     "Content-Type: application/json\r\nContent-Length: %u\r\n\r\n",
                     10u << 20);
    int fd = connect_ingest();
    ck_assert_int_eq(send(fd, head, (size_t)n, MSG_NOSIGNAL), n);
    read_until_close(fd, answer, sizeof answer);
    close(fd);
    ck_assert_msg(strncmp(answer, "HTTP/1.1 413", 12) == 0, "answer: %.200s", answer);
    ck_assert_ptr_nonnull(strstr(answer, "\"error\""));

    /* A client that asks first gets the 413 instead of a 100 and sends nothing. */
    size_t len = 10u << 20;
    char *big = malloc(len + 1);
    memset(big, ' ', len);
    big[0] = '{';
    big[len - 1] = '}';
    big[len] = '\0';
    const char *expect[] = {"Content-Type: application/json", "Expect: 100-continue", NULL};
    struct httpc_response r;
    httpc_request("POST", ingest_url("/api/locations"), expect, big, len, &r);
    ck_assert_int_eq(r.status, 413);
    httpc_response_free(&r);
    free(big);
    /* The server is still fine. */
    ck_assert(itest_wait_http_ok(ingest_url("/ready"), 5000));
}
END_TEST

START_TEST(slow_client_is_cut_and_others_are_served)
{
    const char *req =
        "POST /api/locations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "Content-Length: 40\r\n\r\n{\"person_id\":1,\"latitude\":1,\"longitude\":1}";
    int fd = connect_ingest();
    time_t start = time(NULL);
    int cut = 0;
    for (size_t i = 0; req[i] && time(NULL) - start < 40; i++) {
        if (send(fd, &req[i], 1, MSG_NOSIGNAL) != 1) {
            cut = 1;
            break;
        }
        /* Meanwhile a normal client gets its answer at once. */
        if (i == 2)
            ck_assert(itest_wait_http_ok(ingest_url("/health"), 2000));
        sleep(1);
        char c;
        if (recv(fd, &c, 1, MSG_DONTWAIT) == 0) {
            cut = 1;
            break;
        }
    }
    close(fd);
    ck_assert_msg(cut, "a client sending one byte a second was never cut off");
    ck_assert_int_le(time(NULL) - start, 30);
}
END_TEST

static char unknown_event[37];

static int is_unknown_person_letter(const struct amqp_admin_message *m, void *found)
{
    if (strcmp(m->message_id, unknown_event) != 0)
        return 0;
    ck_assert_msg(strstr(m->error_header, "person_id") != NULL, "reason: %s", m->error_header);
    ck_assert_ptr_nonnull(strstr(m->body, unknown_event)); /* the original body */
    *(int *)found = 1;
    return 1;
}

static int dead_letter_arrived(void *found)
{
    amqp_admin_drain("udc.dead.letters", 10000, is_unknown_person_letter, found);
    return *(int *)found;
}

START_TEST(unknown_person_goes_to_dead_letters_with_its_reason)
{
    struct httpc_response r;
    ck_assert_int_eq(post("/api/locations", json_headers,
                          "{\"person_id\":2147483000,\"latitude\":1,\"longitude\":1}", &r),
                     202);
    event_id_of(&r, unknown_event);
    httpc_response_free(&r);
    int found = 0;
    ck_assert_msg(itest_wait(dead_letter_arrived, &found, 20000),
                  "no dead letter for %s in udc.dead.letters", unknown_event);
    char *ids[] = {unknown_event};
    ck_assert_int_eq(stored_count(ids, 1), 0);
}
END_TEST

/* --- grouping of single pings ------------------------------------------------------- */

/* A private queue on udc.locations that sees every message udc-ingest-http publishes. */
static const char *ingest_messages_queue = "udc.test.ingest-messages";

static void grouping_setup(void)
{
    amqp_admin_declare_bound_queue(ingest_messages_queue, "udc.locations", "location.mobile");
}

static void grouping_teardown(void)
{
    amqp_admin_delete_queue(ingest_messages_queue);
}

/* How the broker messages carried the pings of one test. */
struct carriage {
    char *const *ids; /* the test's event ids */
    size_t n;
    size_t messages; /* messages that carried at least one of them */
    size_t pings;    /* of them, over all those messages */
    size_t alone;    /* messages of one bare ping whose message id is its event id */
};

static int is_ours(const struct carriage *c, const char *event_id)
{
    for (size_t i = 0; event_id && i < c->n; i++)
        if (strcmp(c->ids[i], event_id) == 0)
            return 1;
    return 0;
}

static const char *event_id_field(json_object *ping)
{
    json_object *id;
    return json_object_object_get_ex(ping, "event_id", &id) ? json_object_get_string(id) : NULL;
}

static int count_carried(const struct amqp_admin_message *m, void *arg)
{
    struct carriage *c = arg;
    json_object *o = json_tokener_parse(m->body);
    ck_assert_msg(o != NULL, "message %s is not JSON: %s", m->message_id, m->body);
    json_object *locations;
    size_t ours = 0;
    if (json_object_object_get_ex(o, "locations", &locations)) {
        for (size_t i = 0; i < json_object_array_length(locations); i++)
            ours += is_ours(c, event_id_field(json_object_array_get_idx(locations, i)));
    } else if (is_ours(c, event_id_field(o))) {
        ours = 1;
        c->alone += strcmp(m->message_id, event_id_field(o)) == 0;
    }
    c->messages += ours > 0;
    c->pings += ours;
    json_object_put(o);
    return 1; /* the queue is the test's own: take everything */
}

static int all_carried(void *arg)
{
    struct carriage *c = arg;
    amqp_admin_drain(ingest_messages_queue, 10000, count_carried, c);
    return c->pings >= c->n;
}

/* Posts one ping with the given event id (as Idempotency-Key); the HTTP status. */
static long post_ping(int k, unsigned seq, const char *event_id)
{
    char body[256], header[80];
    ping_body(body, sizeof body, k, seq);
    snprintf(header, sizeof header, "Idempotency-Key: %s", event_id);
    const char *headers[] = {"Content-Type: application/json", header, NULL};
    struct httpc_response r;
    httpc_request("POST", ingest_url("/api/locations"), headers, body, strlen(body), &r);
    long status = r.status;
    httpc_response_free(&r);
    return status;
}

START_TEST(a_single_ping_at_light_load_leaves_alone)
{
    enum { N = 5 };
    char ids[N][37], *id_list[N];
    for (int i = 0; i < N; i++) {
        itest_uuid(ids[i]);
        id_list[i] = ids[i];
        ck_assert_int_eq(post_ping(i, 7000u + (unsigned)i, ids[i]), 202);
    }
    struct carriage c = {id_list, N, 0, 0, 0};
    ck_assert_msg(itest_wait(all_carried, &c, 20000), "%zu of %d pings reached the test queue",
                  c.pings, N);
    ck_assert_uint_eq(c.messages, N);
    ck_assert_uint_eq(c.alone, N);
}
END_TEST

/* The broker's process (of the throwaway stack), to hold its confirms back. */
static pid_t broker_pid(void)
{
    char path[512];
    snprintf(path, sizeof path, "%s/rabbitmq/rabbitmq.pid", itest_env("UDC_RUN_DIR"));
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    long pid = 0;
    int read = fscanf(f, "%ld", &pid);
    fclose(f);
    ck_assert_msg(read == 1 && pid > 1, "no pid in %s", path);
    return (pid_t)pid;
}

/* One series of udc-ingest-http's /metrics ("name" or "name{labels}"), or -1. */
static double ingest_metric(const char *series)
{
    double v;
    return itest_metric(itest_env("UDC_INGEST_URL"), series, &v) == 0 ? v : -1;
}

/* Pings queued or awaiting confirm. */
static double ingest_in_flight(void)
{
    return ingest_metric("udc_ingest_in_flight");
}

enum { GROUPED_PINGS = 48, STALL_MS = 400 };

static int all_submitted(void *unused)
{
    (void)unused;
    return ingest_in_flight() >= GROUPED_PINGS;
}

struct poster {
    pthread_t thread;
    int k;
    char event_id[37];
    long status;
};

static void *post_one(void *arg)
{
    struct poster *p = arg;
    p->status = post_ping(p->k, 8000u + (unsigned)p->k, p->event_id);
    return NULL;
}

START_TEST(single_pings_share_messages_while_confirms_are_slow)
{
    struct poster posters[GROUPED_PINGS];
    char *id_list[GROUPED_PINGS];
    pid_t broker = broker_pid();
    /* The broker sleeps (no confirms) until every ping is submitted; should the test die
     * meanwhile, the background resume wakes it well inside the daemons' confirm timeout. */
    ck_assert_int_eq(itest_sh("(sleep 4; kill -CONT %ld) >/dev/null 2>&1 &", (long)broker), 0);
    double queued_before = ingest_metric("udc_ingest_queued_seconds_count");
    double queued_quickly_before = ingest_metric("udc_ingest_queued_seconds_bucket{le=\"0.25\"}");
    ck_assert_int_eq(kill(broker, SIGSTOP), 0);
    for (int i = 0; i < GROUPED_PINGS; i++) {
        posters[i].k = i;
        itest_uuid(posters[i].event_id);
        id_list[i] = posters[i].event_id;
        pthread_create(&posters[i].thread, NULL, post_one, &posters[i]);
    }
    int submitted = itest_wait(all_submitted, NULL, 2500);
    usleep(STALL_MS * 1000); /* the pings behind the first two messages wait this long */
    kill(broker, SIGCONT);
    ck_assert_msg(submitted, "only %.0f of %d pings reached the publisher", ingest_in_flight(),
                  GROUPED_PINGS);
    for (int i = 0; i < GROUPED_PINGS; i++) {
        pthread_join(posters[i].thread, NULL);
        ck_assert_int_eq(posters[i].status, 202);
    }

    struct carriage c = {id_list, GROUPED_PINGS, 0, 0, 0};
    ck_assert_msg(itest_wait(all_carried, &c, 20000), "%zu of %d pings reached the test queue",
                  c.pings, GROUPED_PINGS);
    fprintf(stderr, "grouping: %d concurrent pings in %zu broker messages\n", GROUPED_PINGS,
            c.messages);
    ck_assert_uint_eq(c.pings, GROUPED_PINGS); /* each exactly once */
    /* Two messages may leave before the confirms stall; the rest wait and leave together. */
    ck_assert_msg(c.messages <= GROUPED_PINGS / 8, "%d pings took %zu messages", GROUPED_PINGS,
                  c.messages);
    /* Each answered ping tells how long it waited to be published; those that waited for the
     * stalled confirms say so. */
    ck_assert_double_eq(ingest_metric("udc_ingest_queued_seconds_count") - queued_before,
                        GROUPED_PINGS);
    double queued_quickly =
        ingest_metric("udc_ingest_queued_seconds_bucket{le=\"0.25\"}") - queued_quickly_before;
    ck_assert_msg(queued_quickly < GROUPED_PINGS - 2,
                  "%.0f of %d pings were published within 0.25 s despite the stall", queued_quickly,
                  GROUPED_PINGS);
}
END_TEST

/* --- faults under load -------------------------------------------------------------- */

enum { LOAD_PINGS = 20000, LOAD_THREADS = 8 };

struct load {
    char (*ids)[37];         /* LOAD_PINGS event ids */
    unsigned char *accepted; /* 1 once a 202 came back for ids[i] */
    int next;                /* next ping to send */
    int sent;
    pthread_mutex_t lock;
    int unavailable, errors;
};

static int take_ping(struct load *l)
{
    pthread_mutex_lock(&l->lock);
    int i = l->next < LOAD_PINGS ? l->next++ : -1;
    pthread_mutex_unlock(&l->lock);
    return i;
}

/* A phone: sends each ping until it is accepted, retrying with the same Idempotency-Key
 * after a 503 or a lost connection, as clients are told to. */
static void *load_client(void *arg)
{
    struct load *l = arg;
    struct httpc *c = httpc_new();
    httpc_set_timeout_ms(c, 15000);
    char body[256], header[80];
    for (int i; (i = take_ping(l)) >= 0;) {
        ping_body(body, sizeof body, i, (unsigned)i + 10000);
        snprintf(header, sizeof header, "Idempotency-Key: %s", l->ids[i]);
        const char *headers[] = {"Content-Type: application/json", header, NULL};
        for (int attempt = 0; attempt < 600; attempt++) {
            struct httpc_response r;
            int rc =
                httpc_do(c, "POST", ingest_url("/api/locations"), headers, body, strlen(body), &r);
            long status = rc == 0 ? r.status : 0;
            httpc_response_free(&r);
            if (status == 202) {
                l->accepted[i] = 1;
                break;
            }
            pthread_mutex_lock(&l->lock);
            if (status == 503)
                l->unavailable++;
            else
                l->errors++;
            pthread_mutex_unlock(&l->lock);
            ck_assert_msg(status == 503 || status == 0, "unexpected status %ld", status);
            usleep(100 * 1000);
        }
        __atomic_add_fetch(&l->sent, 1, __ATOMIC_SEQ_CST);
    }
    httpc_free(c);
    return NULL;
}

static struct load *load_start(pthread_t *threads)
{
    struct load *l = calloc(1, sizeof *l);
    l->ids = calloc(LOAD_PINGS, sizeof *l->ids);
    l->accepted = calloc(LOAD_PINGS, 1);
    pthread_mutex_init(&l->lock, NULL);
    for (int i = 0; i < LOAD_PINGS; i++)
        itest_uuid(l->ids[i]);
    for (int t = 0; t < LOAD_THREADS; t++)
        pthread_create(&threads[t], NULL, load_client, l);
    return l;
}

static void wait_sent(struct load *l, int n)
{
    while (__atomic_load_n(&l->sent, __ATOMIC_SEQ_CST) < n)
        usleep(50 * 1000);
}

static const char *events_queue = "udc.test.stored-events";

struct seen_events {
    long long *row_ids;
    size_t n, cap;
};

static int collect_event(const struct amqp_admin_message *m, void *arg)
{
    struct seen_events *s = arg;
    json_object *o = json_tokener_parse(m->body);
    json_object *locs;
    ck_assert_msg(o && json_object_object_get_ex(o, "locations", &locs), "bad event %s", m->body);
    for (size_t i = 0; i < json_object_array_length(locs); i++) {
        if (s->n == s->cap) {
            s->cap = s->cap ? s->cap * 2 : 4096;
            s->row_ids = realloc(s->row_ids, s->cap * sizeof *s->row_ids);
        }
        json_object *it = json_object_array_get_idx(locs, i);
        s->row_ids[s->n++] = json_object_get_int64(json_object_object_get(it, "id"));
    }
    json_object_put(o);
    return 1;
}

/* After the load: every accepted ping stored exactly once, and every stored row of the run
 * announced on udc.events. */
static void load_verify(struct load *l, pthread_t *threads, const char *fault)
{
    for (int t = 0; t < LOAD_THREADS; t++)
        pthread_join(threads[t], NULL);
    char **accepted = malloc(LOAD_PINGS * sizeof *accepted);
    size_t n = 0;
    for (int i = 0; i < LOAD_PINGS; i++)
        if (l->accepted[i])
            accepted[n++] = l->ids[i];
    fprintf(stderr, "%s: %zu accepted, %d answers 503, %d transport errors\n", fault, n,
            l->unavailable, l->errors);
    ck_assert_msg(n == LOAD_PINGS, "%s: clients gave up on %zu pings", fault, LOAD_PINGS - n);
    struct stored_wait w = {accepted, n};
    ck_assert_msg(itest_wait(all_stored, &w, 180000), "%s: %lld of %zu accepted pings stored",
                  fault, stored_count(accepted, n), n);
    PGconn *db = itest_db();
    char *arr = itest_pg_array(accepted, n);
    const char *p[] = {arr};
    ck_assert_int_eq(itest_db_value(db,
                                    "SELECT count(*) - count(DISTINCT event_id) FROM location "
                                    "WHERE event_id = ANY($1::uuid[])",
                                    1, p),
                     0);
    /* Every stored row had its location.stored event (the test queue saw them all). */
    PGresult *res = PQexecParams(db,
                                 "SELECT id FROM location WHERE event_id = ANY($1::uuid[]) "
                                 "ORDER BY id",
                                 1, NULL, p, NULL, NULL, 0);
    ck_assert_int_eq(PQresultStatus(res), PGRES_TUPLES_OK);
    struct seen_events seen = {0};
    for (int round = 0; round < 100; round++) {
        amqp_admin_drain(events_queue, 100000, collect_event, &seen);
        size_t missing = 0;
        for (int r = 0; r < PQntuples(res); r++) {
            long long id = strtoll(PQgetvalue(res, r, 0), NULL, 10);
            int found = 0;
            for (size_t k = 0; k < seen.n && !found; k++)
                found = seen.row_ids[k] == id;
            missing += !found;
        }
        if (missing == 0)
            break;
        ck_assert_msg(round < 99, "%s: %zu stored rows never had a location.stored event", fault,
                      missing);
        sleep(1);
    }
    free(seen.row_ids);
    PQclear(res);
    PQfinish(db);
    free(arr);
    free(accepted);
    free(l->ids);
    free(l->accepted);
    free(l);
}

static void fault_setup(void)
{
    amqp_admin_declare_bound_queue(events_queue, "udc.events", "location.stored");
}

static void fault_teardown(void)
{
    amqp_admin_delete_queue(events_queue);
}

START_TEST(kill_9_writer_under_load_loses_nothing)
{
    pthread_t threads[LOAD_THREADS];
    struct load *l = load_start(threads);
    wait_sent(l, LOAD_PINGS / 4);
    ck_assert_int_eq(itest_sh("scripts/run kill writer"), 0);
    wait_sent(l, LOAD_PINGS / 2);
    ck_assert_int_eq(itest_sh("scripts/run restart writer >/dev/null"), 0);
    load_verify(l, threads, "writer killed");
}
END_TEST

START_TEST(broker_restart_under_load_loses_nothing)
{
    pthread_t threads[LOAD_THREADS];
    struct load *l = load_start(threads);
    wait_sent(l, LOAD_PINGS / 4);
    ck_assert_int_eq(itest_sh("scripts/stack restart-broker >/dev/null"), 0);
    load_verify(l, threads, "broker restarted");
}
END_TEST

START_TEST(database_restart_under_load_loses_nothing)
{
    pthread_t threads[LOAD_THREADS];
    struct load *l = load_start(threads);
    wait_sent(l, LOAD_PINGS / 4);
    ck_assert_int_eq(itest_sh("scripts/stack restart-db >/dev/null"), 0);
    load_verify(l, threads, "database restarted");
}
END_TEST

int main(void)
{
    make_people();
    Suite *s = suite_create("pipeline");
    TCase *basics = tcase_create("basics");
    tcase_set_timeout(basics, 120);
    tcase_add_test(basics, accepted_pings_are_stored_once);
    tcase_add_test(basics, same_event_id_twice_is_one_row);
    tcase_add_test(basics, batch_stores_exactly_the_valid_items);
    tcase_add_test(basics, bad_input_is_refused_with_the_field_named);
    tcase_add_test(basics, ten_megabyte_body_is_413);
    tcase_add_test(basics, slow_client_is_cut_and_others_are_served);
    tcase_add_test(basics, unknown_person_goes_to_dead_letters_with_its_reason);
    suite_add_tcase(s, basics);
    TCase *grouping = tcase_create("grouping");
    tcase_set_timeout(grouping, 120);
    tcase_add_checked_fixture(grouping, grouping_setup, grouping_teardown);
    tcase_add_test(grouping, a_single_ping_at_light_load_leaves_alone);
    tcase_add_test(grouping, single_pings_share_messages_while_confirms_are_slow);
    suite_add_tcase(s, grouping);
    TCase *faults = tcase_create("faults");
    tcase_set_timeout(faults, 600);
    tcase_add_checked_fixture(faults, fault_setup, fault_teardown);
    tcase_add_test(faults, kill_9_writer_under_load_loses_nothing);
    tcase_add_test(faults, broker_restart_under_load_loses_nothing);
    tcase_add_test(faults, database_restart_under_load_loses_nothing);
    suite_add_tcase(s, faults);
    return udc_test_run(s);
}
