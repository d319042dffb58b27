/* udc-writer on the throwaway stack, beyond what the pipeline tests cover: statements in
 * flight on several connections (rows inserted in event_id order; a deadlock comes back as
 * a conflict to send again, not as a lost connection or a refusal), one connection still
 * working, and the messages held staying bounded with 100-ping messages. */
#include <check.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "amqp_admin.h"
#include "config.h"
#include "db.h"
#include "httpc.h"
#include "itest.h"
#include "writer/store.h"
#include "suite_run.h"

static int person; /* made for this run */
static const char *events_queue = "udc.test.writer-events";

static void make_person(void)
{
    PGconn *db = itest_db();
    person = (int)itest_db_value(db,
                                 "INSERT INTO person (first_name, last_name, company_name) "
                                 "VALUES ('Writer', 'Tester', 'UdaConnect tests') RETURNING id",
                                 0, NULL);
    PQfinish(db);
}

static struct udc_db *store_db(void)
{
    struct udc_db *db =
        udc_db_new(itest_env("UDC_DB_URL"), store_statements, store_statement_count, 5, 30000);
    char err[256];
    ck_assert_ptr_nonnull(db);
    ck_assert_msg(udc_db_connect(db, err, sizeof err) == 0, "%s", err);
    return db;
}

static struct udc_location ping(const char *event_id, int k)
{
    struct udc_location l = {.person_id = person, .latitude = 2.0 + k * 1e-5, .longitude = -21.0};
    snprintf(l.event_id, sizeof l.event_id, "%s", event_id);
    l.creation_time_us = (int64_t)time(NULL) * 1000000;
    snprintf(l.source, sizeof l.source, "test");
    return l;
}

/* Two fresh UUIDs with lo < hi (PostgreSQL orders uuids like their lower-case text). */
static void two_uuids(char lo[37], char hi[37])
{
    itest_uuid(lo);
    itest_uuid(hi);
    if (strcmp(lo, hi) > 0) {
        char t[37];
        memcpy(t, lo, 37);
        memcpy(lo, hi, 37);
        memcpy(hi, t, 37);
    }
}

START_TEST(rows_are_inserted_in_event_id_order)
{
    char lo[37], hi[37];
    two_uuids(lo, hi);
    struct udc_location items[2] = {ping(hi, 0), ping(lo, 1)}; /* batch order: hi first */
    struct store_result results[2];
    char err[512];
    struct udc_db *db = store_db();
    ck_assert_int_eq(store_batch(db, items, 2, results, err, sizeof err), STORE_OK);
    ck_assert(results[0].inserted && results[1].inserted);
    ck_assert_msg(results[1].row_id < results[0].row_id, "lo got row %lld, hi row %lld",
                  (long long)results[1].row_id, (long long)results[0].row_id);
    udc_db_free(db);
}
END_TEST

/* A transaction of another session holds hi and then wants lo, which the writer's statement
 * has just inserted while it waits for hi: a deadlock, which PostgreSQL breaks by failing the
 * statement that waited first (the writer's). That is a conflict to send again, and sending
 * it again stores the batch. */
START_TEST(a_deadlock_is_a_conflict_and_the_batch_goes_in_again)
{
    char lo[37], hi[37], err[512];
    two_uuids(lo, hi);
    char person_text[16];
    snprintf(person_text, sizeof person_text, "%d", person);
    PGconn *other = itest_db();
    itest_db_exec(other, "BEGIN", 0, NULL);
    const char *insert = "INSERT INTO location (event_id, person_id, coordinate, creation_time,"
                         " source) VALUES ($1::uuid, $2::int,"
                         " ST_SetSRID(ST_MakePoint(-21, 2), 4326)::geography, now(), 'test')";
    const char *p_hi[] = {hi, person_text};
    itest_db_exec(other, insert, 2, p_hi);

    struct udc_db *db = store_db();
    struct udc_location items[2] = {ping(hi, 0), ping(lo, 1)};
    struct store_result results[2];
    ck_assert_int_eq(store_send(db, items, 2, err, sizeof err), STORE_OK);
    usleep(300 * 1000); /* the writer's statement now holds lo and waits for hi */
    const char *p_lo[] = {lo, person_text};
    ck_assert_int_eq(PQsendQueryParams(other, insert, 2, NULL, p_lo, NULL, NULL, 0), 1);

    enum store_status st = STORE_OK;
    int running = 1;
    for (int i = 0; i < 200 && running; i++) {
        running = store_poll(db, items, 2, results, &st, err, sizeof err) > 0;
        if (running)
            usleep(50 * 1000);
    }
    ck_assert_msg(!running, "the statement never ended");
    ck_assert_msg(st == STORE_CONFLICT, "status %d, error %s", (int)st, err);
    ck_assert_str_eq(udc_db_last_sqlstate(db), "40P01");
    ck_assert(udc_db_is_ok(db)); /* not a lost connection */

    PGresult *res = PQgetResult(other); /* the other session's insert went through */
    ck_assert_int_eq(PQresultStatus(res), PGRES_COMMAND_OK);
    PQclear(res);
    while ((res = PQgetResult(other)))
        PQclear(res);
    itest_db_exec(other, "ROLLBACK", 0, NULL);
    PQfinish(other);

    ck_assert_int_eq(store_batch(db, items, 2, results, err, sizeof err), STORE_OK);
    ck_assert(results[0].inserted && results[1].inserted);
    udc_db_free(db);
}
END_TEST

/* --- the running writer ----------------------------------------------------------------- */

static const char *const json_headers[] = {"Content-Type: application/json", NULL};

/* POSTs n batches of k pings; their event ids go to ids (n * k entries of 37 bytes). */
static void post_batches(int n, int k, char (*ids)[37])
{
    char url[512];
    snprintf(url, sizeof url, "%s/api/locations/batch", itest_env("UDC_INGEST_URL"));
    struct httpc *c = httpc_new();
    size_t size = (size_t)k * 200 + 16;
    char *body = malloc(size);
    for (int b = 0; b < n; b++) {
        size_t used = (size_t)snprintf(body, size, "[");
        for (int i = 0; i < k; i++) {
            char *id = ids[b * k + i];
            itest_uuid(id);
            used += (size_t)snprintf(
                body + used, size - used,
                "%s{\"event_id\":\"%s\",\"person_id\":%d,\"latitude\":%.6f,"
                "\"longitude\":-21.5,\"creation_time\":\"2021-04-01T10:%02d:%02dZ\"}",
                i ? "," : "", id, person, 3.0 + i * 1e-5, b % 60, i % 60);
        }
        snprintf(body + used, size - used, "]");
        struct httpc_response r;
        ck_assert_int_eq(httpc_do(c, "POST", url, json_headers, body, strlen(body), &r), 0);
        ck_assert_msg(r.status == 202, "status %ld: %s", r.status, r.body);
        httpc_response_free(&r);
    }
    free(body);
    httpc_free(c);
}

struct stored_wait {
    char (*ids)[37];
    size_t n;
};

static long long stored_count(char (*ids)[37], size_t n)
{
    char **list = malloc(n * sizeof *list);
    for (size_t i = 0; i < n; i++)
        list[i] = ids[i];
    char *arr = itest_pg_array(list, n);
    const char *p[] = {arr};
    PGconn *db = itest_db();
    long long c = itest_db_value(
        db, "SELECT count(DISTINCT event_id) FROM location WHERE event_id = ANY($1::uuid[])", 1, p);
    PQfinish(db);
    free(arr);
    free(list);
    return c;
}

static int all_stored(void *arg)
{
    struct stored_wait *w = arg;
    return stored_count(w->ids, w->n) >= (long long)w->n;
}

/* Rows of the test's person: a cheap progress count while a large backlog drains. */
static long long person_rows(void)
{
    char text[16];
    snprintf(text, sizeof text, "%d", person);
    const char *p[] = {text};
    PGconn *db = itest_db();
    long long n =
        itest_db_value(db, "SELECT count(*) FROM location WHERE person_id = $1::int", 1, p);
    PQfinish(db);
    return n;
}

static long long writer_connections(void)
{
    PGconn *db = itest_db();
    long long n = itest_db_value(
        db, "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'udc-writer'", 0, NULL);
    PQfinish(db);
    return n;
}

static double writer_metric(const char *name)
{
    double v;
    return itest_metric(itest_env("UDC_ADMIN_URL_WRITER"), name, &v) == 0 ? v : -1;
}

static int announced_rows(const struct amqp_admin_message *m, void *arg)
{
    long long *n = arg;
    json_object *o = json_tokener_parse(m->body), *locs;
    if (o && json_object_object_get_ex(o, "locations", &locs))
        *n += (long long)json_object_array_length(locs);
    json_object_put(o);
    return 1;
}

START_TEST(one_connection_still_stores_and_announces)
{
    ck_assert_int_eq(itest_sh("UDC_WRITER_CONNECTIONS=1 scripts/run restart writer >/dev/null"), 0);
    ck_assert_int_eq(writer_connections(), 1);
    enum { BATCHES = 30, PINGS = 50 };
    char(*ids)[37] = calloc(BATCHES * PINGS, 37);
    post_batches(BATCHES, PINGS, ids);
    struct stored_wait w = {ids, BATCHES * PINGS};
    ck_assert_msg(itest_wait(all_stored, &w, 60000), "%lld of %d stored",
                  stored_count(ids, BATCHES * PINGS), BATCHES * PINGS);
    long long announced = 0;
    for (int i = 0; i < 100 && announced < BATCHES * PINGS; i++) {
        amqp_admin_drain(events_queue, 100000, announced_rows, &announced);
        if (announced < BATCHES * PINGS)
            usleep(100 * 1000);
    }
    ck_assert_int_eq(announced, BATCHES * PINGS);
    free(ids);

    ck_assert_int_eq(itest_sh("scripts/run restart writer >/dev/null"), 0);
    struct udc_config cfg;
    char err[256];
    ck_assert_msg(udc_config_load(&cfg, itest_env("UDC_CONFIG"), err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(writer_connections(), cfg.writer.connections);
    udc_config_free(&cfg);
}
END_TEST

/* A backlog of 100-ping messages: once the prefetch is sized for them, the writer holds
 * about (connections + 2) batches' worth of messages, not writer.prefetch of them, and yet
 * enough for every connection to have a full batch. */
START_TEST(held_messages_stay_bounded_with_large_messages)
{
    struct udc_config cfg;
    char err[256];
    ck_assert_msg(udc_config_load(&cfg, itest_env("UDC_CONFIG"), err, sizeof err) == 0, "%s", err);
    double bound = (cfg.writer.connections + 2.0) * cfg.writer.batch_size / 100;
    double enough = cfg.writer.connections * (double)cfg.writer.batch_size / 100;
    ck_assert_msg(bound < cfg.writer.prefetch, "the configuration makes this test moot");

    enum { BATCHES = 1000, PINGS = 100 };
    char(*ids)[37] = calloc(BATCHES * PINGS, 37);
    ck_assert_int_eq(itest_sh("scripts/run kill writer >/dev/null"), 0);
    long long expected = person_rows() + BATCHES * PINGS;
    post_batches(BATCHES, PINGS, ids);
    ck_assert_int_eq(itest_sh("scripts/run restart writer >/dev/null"), 0);
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    double peak = 0, settled_peak = 0;
    int settled_samples = 0;
    struct stored_wait w = {ids, BATCHES * PINGS};
    for (int i = 0; i < 6000 && person_rows() < expected; i++) {
        double held = writer_metric("udc_writer_deliveries_held");
        clock_gettime(CLOCK_MONOTONIC, &t);
        double since = (double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9;
        peak = held > peak ? held : peak;
        if (since > 1.0) { /* deliveries taken before the prefetch was sized are acked by now */
            settled_peak = held > settled_peak ? held : settled_peak;
            settled_samples++;
        }
        usleep(20 * 1000);
    }
    ck_assert_msg(all_stored(&w), "%lld of %d stored", stored_count(ids, BATCHES * PINGS),
                  BATCHES * PINGS);
    fprintf(stderr, "held messages: peak %.0f, after 1 s %.0f (bound %.0f, %d samples)\n", peak,
            settled_peak, bound, settled_samples);
    ck_assert_msg(settled_samples >= 5, "the backlog was gone too soon to tell");
    ck_assert_msg(settled_peak <= bound, "held %.0f messages, bound %.0f", settled_peak, bound);
    ck_assert_msg(peak >= enough, "held at most %.0f messages, fewer than %.0f", peak, enough);
    free(ids);
    udc_config_free(&cfg);
}
END_TEST

static void events_setup(void)
{
    amqp_admin_delete_queue(events_queue); /* left by a failed run */
    amqp_admin_declare_bound_queue(events_queue, "udc.events", "location.stored");
}

static void events_teardown(void)
{
    amqp_admin_delete_queue(events_queue);
}

int main(void)
{
    make_person();
    Suite *s = suite_create("writer");
    TCase *store = tcase_create("store");
    tcase_set_timeout(store, 60);
    tcase_add_test(store, rows_are_inserted_in_event_id_order);
    tcase_add_test(store, a_deadlock_is_a_conflict_and_the_batch_goes_in_again);
    suite_add_tcase(s, store);
    TCase *daemon = tcase_create("daemon");
    tcase_set_timeout(daemon, 300);
    tcase_add_checked_fixture(daemon, events_setup, events_teardown);
    tcase_add_test(daemon, one_connection_still_stores_and_announces);
    tcase_add_test(daemon, held_messages_stay_bounded_with_large_messages);
    suite_add_tcase(s, daemon);
    return udc_test_run(s);
}
