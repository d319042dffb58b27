/* Integration tests for common/db against the PostgreSQL named by UDC_DB_URL.
 *
 * Everything happens in a schema of its own (udc_test_db_PID_TIME), dropped at the end; the
 * connections under test reach it through session setup SQL (search_path).
 */
#include <check.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backoff.h"
#include "db.h"
#include "itest.h"
#include "suite_run.h"

static const char *db_url;
static char schema[64];
static char search_path_sql[128];

/* --- helpers ----------------------------------------------------------------------------- */

static PGconn *admin_connect(void)
{
    PGconn *c = PQconnectdb(db_url);
    ck_assert_msg(PQstatus(c) == CONNECTION_OK, "admin connect: %s", PQerrorMessage(c));
    PQclear(PQexec(c, search_path_sql));
    return c;
}

/* One integer from a query run on its own connection. */
static long admin_scalar(const char *sql)
{
    PGconn *c = admin_connect();
    PGresult *r = PQexec(c, sql);
    ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK, "%s: %s", sql, PQresultErrorMessage(r));
    long v = atol(PQgetvalue(r, 0, 0));
    PQclear(r);
    PQfinish(c);
    return v;
}

static struct udc_db *open_db(const struct udc_db_statement *stmts, size_t n, int stmt_timeout)
{
    struct udc_db *db = udc_db_new(db_url, stmts, n, 5, stmt_timeout);
    ck_assert_ptr_nonnull(db);
    const char *setup[] = {search_path_sql};
    ck_assert_int_eq(udc_db_set_setup_sql(db, setup, 1), 0);
    char err[512];
    ck_assert_msg(udc_db_connect(db, err, sizeof err) == 0, "connect: %s", err);
    return db;
}

/* Run a prepared statement that returns one value; the value as a long. */
static long exec_scalar(struct udc_db *db, const char *name, int n, const char *const *values)
{
    char err[512];
    PGresult *r =
        udc_db_exec_prepared(db, name, n, values, NULL, NULL, PGRES_TUPLES_OK, err, sizeof err);
    ck_assert_msg(r != NULL, "%s: %s", name, err);
    long v = atol(PQgetvalue(r, 0, 0));
    PQclear(r);
    return v;
}

/* Run fn with stderr going to a file; returns what was written (malloc'd). */
static char *capture_stderr(void (*fn)(void *), void *arg)
{
    char path[] = "/tmp/udc-test-db-stderr-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    unlink(path);
    fflush(stderr);
    int saved = dup(2);
    dup2(fd, 2);
    fn(arg);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    off_t size = lseek(fd, 0, SEEK_END);
    char *text = calloc(1, (size_t)size + 1);
    ck_assert_int_eq(pread(fd, text, (size_t)size, 0), size);
    close(fd);
    return text;
}

/* itest_wait conditions on a count query (ctx is the SQL). */
static int counts_some(void *sql)
{
    return admin_scalar(sql) != 0;
}

static int counts_none(void *sql)
{
    return admin_scalar(sql) == 0;
}

static void terminate_backend(long pid)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT pg_terminate_backend(%ld)::int", pid);
    ck_assert_int_eq(admin_scalar(sql), 1);
    /* pg_terminate_backend only signals; wait until the backend is really gone. */
    snprintf(sql, sizeof sql, "SELECT count(*) FROM pg_stat_activity WHERE pid = %ld", pid);
    ck_assert_msg(itest_wait(counts_none, sql, 5000), "backend %ld still there", pid);
}

/* --- connecting -------------------------------------------------------------------------- */

#define SECRET "Sup3rSecretPw"

struct bad_connect {
    const char *url;
    int rc;
    char err[512];
};

static void connect_bad(void *arg)
{
    struct bad_connect *bc = arg;
    struct udc_db *db = udc_db_new(bc->url, NULL, 0, 2, 0);
    ck_assert_ptr_nonnull(db);
    bc->rc = udc_db_connect(db, bc->err, sizeof bc->err);
    ck_assert_int_eq(udc_db_is_ok(db), 0);
    ck_assert_int_eq(udc_db_error_is_connection(db), 1);
    /* The failed attempt armed the backoff: ensure() does not hammer the server. */
    ck_assert_uint_gt(udc_db_retry_in_ms(db), 0);
    ck_assert_int_eq(udc_db_ensure(db), -1);
    ck_assert_int_eq(udc_db_ping(db), -1);
    udc_db_free(db);
}

START_TEST(bad_url_fails_without_revealing_password)
{
    const char *urls[] = {
        "postgresql://someone:" SECRET "@127.0.0.1:1/nowhere",
        "postgresql://someone:" SECRET "@127.0.0.1:notaport/nowhere",
        "postgresql://someone:" SECRET "@127.0.0.1:1/nowhere?nosuchoption=1",
        "host=127.0.0.1 port=1 password=" SECRET " user",
    };
    for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
        struct bad_connect bc = {.url = urls[i]};
        char *log = capture_stderr(connect_bad, &bc);
        ck_assert_int_eq(bc.rc, -1);
        ck_assert_msg(bc.err[0] != '\0', "no error message for %s", urls[i]);
        ck_assert_msg(strstr(bc.err, SECRET) == NULL, "password in error: %s", bc.err);
        ck_assert_msg(strstr(log, SECRET) == NULL, "password in log: %s", log);
        ck_assert_msg(strstr(log, "database unavailable") != NULL, "no log line: %s", log);
        free(log);
    }
    /* The log names where it tried to go. */
    struct bad_connect bc = {.url = urls[0]};
    char *log = capture_stderr(connect_bad, &bc);
    ck_assert_msg(strstr(log, "host=127.0.0.1") && strstr(log, "port=1") &&
                      strstr(log, "dbname=nowhere"),
                  "log lacks the target: %s", log);
    free(log);
}
END_TEST

START_TEST(connect_applies_settings_and_setup_sql)
{
    static const struct udc_db_statement stmts[] = {
        {"timeout", "SELECT current_setting('statement_timeout')", 0},
        {"app", "SELECT current_setting('application_name')", 0},
        {"path", "SELECT current_setting('search_path')", 0},
    };
    struct udc_db *db = udc_db_new(db_url, stmts, 3, 5, 1500);
    const char *setup[] = {search_path_sql};
    ck_assert_int_eq(udc_db_set_setup_sql(db, setup, 1), 0);
    ck_assert_int_eq(udc_db_set_application_name(db, "udc-test-db"), 0);
    ck_assert_int_eq(udc_db_ensure(db), 0);
    ck_assert_int_eq(udc_db_is_ok(db), 1);
    const char *expect[][2] = {{"timeout", "1500ms"}, {"app", "udc-test-db"}, {"path", schema}};
    for (size_t i = 0; i < 3; i++) {
        PGresult *r =
            udc_db_exec_prepared(db, expect[i][0], 0, NULL, NULL, NULL, PGRES_TUPLES_OK, NULL, 0);
        ck_assert_ptr_nonnull(r);
        ck_assert_msg(strstr(PQgetvalue(r, 0, 0), expect[i][1]) != NULL, "%s = %s", expect[i][0],
                      PQgetvalue(r, 0, 0));
        PQclear(r);
    }
    udc_db_free(db);
}
END_TEST

static const char *conn_option(struct udc_db *db, const char *keyword, char *buf, size_t size)
{
    PQconninfoOption *opts = PQconninfo(udc_db_conn(db));
    ck_assert_ptr_nonnull(opts);
    snprintf(buf, size, "(unset)");
    for (PQconninfoOption *o = opts; o->keyword; o++)
        if (strcmp(o->keyword, keyword) == 0 && o->val)
            snprintf(buf, size, "%s", o->val);
    PQconninfoFree(opts);
    return buf;
}

START_TEST(tcp_defaults_yield_to_the_url)
{
    char v[32];
    struct udc_db *db = udc_db_new(db_url, NULL, 0, 5, 0);
    ck_assert_int_eq(udc_db_ensure(db), 0);
    ck_assert_str_eq(conn_option(db, "keepalives_idle", v, sizeof v), "30");
    udc_db_free(db);

    char url[1024];
    snprintf(url, sizeof url, "%s%ckeepalives_idle=77", db_url, strchr(db_url, '?') ? '&' : '?');
    db = udc_db_new(url, NULL, 0, 5, 0);
    ck_assert_int_eq(udc_db_ensure(db), 0);
    ck_assert_str_eq(conn_option(db, "keepalives_idle", v, sizeof v), "77");
    ck_assert_str_eq(conn_option(db, "keepalives_count", v, sizeof v), "3");
    udc_db_free(db);
}
END_TEST

START_TEST(bad_statement_in_table_fails_connect)
{
    static const struct udc_db_statement stmts[] = {
        {"good", "SELECT 1", 0},
        {"bad", "SELEKT 1", 0},
    };
    struct udc_db *db = udc_db_new(db_url, stmts, 2, 5, 0);
    char err[512];
    ck_assert_int_eq(udc_db_connect(db, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "bad") != NULL && strstr(err, "42601") != NULL, "err: %s", err);
    ck_assert_int_eq(udc_db_is_ok(db), 0);
    udc_db_free(db);
}
END_TEST

/* --- prepared statements and reconnect --------------------------------------------------- */

static const struct udc_db_statement calc_stmts[] = {
    {"add", "SELECT $1::int + $2::int", 2},
    {"pid", "SELECT pg_backend_pid()", 0},
};

START_TEST(prepared_statements_survive_a_killed_backend)
{
    struct udc_db *db = open_db(calc_stmts, 2, 0);
    const char *args[] = {"2", "3"};
    ck_assert_int_eq(exec_scalar(db, "add", 2, args), 5);
    long pid = exec_scalar(db, "pid", 0, NULL);

    terminate_backend(pid);

    char err[512] = "";
    PGresult *r =
        udc_db_exec_prepared(db, "add", 2, args, NULL, NULL, PGRES_TUPLES_OK, err, sizeof err);
    ck_assert_ptr_null(r);
    ck_assert_msg(err[0] != '\0', "no message");
    ck_assert_int_eq(udc_db_error_is_connection(db), 1);
    ck_assert_int_eq(udc_db_last_error_kind(db), UDC_DB_ERR_CONNECTION);
    ck_assert_int_eq(udc_db_is_ok(db), 0);

    /* A lost connection is retried at once (the backoff only grows on failed connects). */
    ck_assert_int_eq(udc_db_ensure(db), 0);
    ck_assert_int_eq(exec_scalar(db, "add", 2, args), 5);
    long pid2 = exec_scalar(db, "pid", 0, NULL);
    ck_assert_int_ne(pid, pid2);
    ck_assert_int_eq(udc_db_ping(db), 0);
    udc_db_free(db);
}
END_TEST

/* The result of a sent statement is read without blocking; nothing else may run meanwhile;
 * a failure is classified like a waited-for one. */
START_TEST(sent_statement_result_is_polled)
{
    static const struct udc_db_statement stmts[] = {
        {"slow_add", "SELECT pg_sleep(0.2), $1::int + $2::int", 2},
        {"add", "SELECT $1::int + $2::int", 2},
    };
    struct udc_db *db = open_db(stmts, 2, 0);
    const char *args[] = {"2", "3"};
    char err[512] = "";
    ck_assert_int_eq(udc_db_send_prepared(db, "slow_add", 2, args, err, sizeof err), 0);
    ck_assert_int_eq(udc_db_in_flight(db), 1);
    ck_assert_int_ge(udc_db_socket(db), 0);
    PGresult *r = NULL;
    ck_assert_int_eq(udc_db_poll_result(db, PGRES_TUPLES_OK, &r, err, sizeof err), 1);
    ck_assert_ptr_null(udc_db_exec_prepared(db, "add", 2, args, NULL, NULL, PGRES_TUPLES_OK, NULL,
                                            0)); /* busy: refused, not sent */
    int polls = 0, rc;
    while ((rc = udc_db_poll_result(db, PGRES_TUPLES_OK, &r, err, sizeof err)) > 0) {
        struct pollfd p = {.fd = udc_db_socket(db), .events = POLLIN};
        poll(&p, 1, 1000);
        polls++;
    }
    ck_assert_int_eq(rc, 0);
    ck_assert_int_ge(polls, 1);
    ck_assert_str_eq(PQgetvalue(r, 0, 1), "5");
    PQclear(r);
    ck_assert_int_eq(udc_db_in_flight(db), 0);

    const char *bad[] = {"two", "3"};
    ck_assert_int_eq(udc_db_send_prepared(db, "add", 2, bad, err, sizeof err), 0);
    while ((rc = udc_db_poll_result(db, PGRES_TUPLES_OK, &r, err, sizeof err)) > 0) {
        struct pollfd p = {.fd = udc_db_socket(db), .events = POLLIN};
        poll(&p, 1, 1000);
    }
    ck_assert_int_eq(rc, -1);
    ck_assert_ptr_null(r);
    ck_assert_str_eq(udc_db_last_sqlstate(db), "22P02");
    ck_assert_int_eq(udc_db_last_error_kind(db), UDC_DB_ERR_STATEMENT);
    ck_assert_int_eq(exec_scalar(db, "add", 2, args), 5);
    udc_db_free(db);
}
END_TEST

START_TEST(wrong_statement_use_is_a_statement_error)
{
    struct udc_db *db = open_db(calc_stmts, 2, 0);
    const char *args[] = {"2", "3"};
    ck_assert_ptr_null(
        udc_db_exec_prepared(db, "nosuch", 0, NULL, NULL, NULL, PGRES_TUPLES_OK, NULL, 0));
    ck_assert_int_eq(udc_db_last_error_kind(db), UDC_DB_ERR_STATEMENT);
    ck_assert_ptr_null(
        udc_db_exec_prepared(db, "add", 1, args, NULL, NULL, PGRES_TUPLES_OK, NULL, 0));
    ck_assert_int_eq(udc_db_last_error_kind(db), UDC_DB_ERR_STATEMENT);
    /* Expecting no rows from a SELECT is the caller's mistake, not the connection's. */
    ck_assert_ptr_null(
        udc_db_exec_prepared(db, "add", 2, args, NULL, NULL, PGRES_COMMAND_OK, NULL, 0));
    ck_assert_int_eq(udc_db_last_error_kind(db), UDC_DB_ERR_STATEMENT);
    const char *bad[] = {"two", "3"};
    ck_assert_ptr_null(
        udc_db_exec_prepared(db, "add", 2, bad, NULL, NULL, PGRES_TUPLES_OK, NULL, 0));
    ck_assert_str_eq(udc_db_last_sqlstate(db), "22P02");
    ck_assert_int_eq(udc_db_is_ok(db), 1);
    ck_assert_int_eq(exec_scalar(db, "add", 2, args), 5);
    ck_assert_str_eq(udc_db_last_sqlstate(db), "");
    udc_db_free(db);
}
END_TEST

START_TEST(statement_timeout_is_transient)
{
    static const struct udc_db_statement stmts[] = {{"sleep", "SELECT pg_sleep(2)", 0}};
    struct udc_db *db = open_db(stmts, 1, 200);
    uint64_t t0 = udc_now_ms();
    ck_assert_ptr_null(
        udc_db_exec_prepared(db, "sleep", 0, NULL, NULL, NULL, PGRES_TUPLES_OK, NULL, 0));
    ck_assert_uint_lt(udc_now_ms() - t0, 1500);
    ck_assert_str_eq(udc_db_last_sqlstate(db), "57014");
    ck_assert_int_eq(udc_db_last_error_kind(db), UDC_DB_ERR_TRANSIENT);
    ck_assert_int_eq(udc_db_ping(db), 0);
    udc_db_free(db);
}
END_TEST

/* A daemon killed with SIGKILL in the middle of a statement leaves no statement behind: its
 * backend notices the closed socket within about a second instead of running on to the end
 * (here 60 s; the default statement timeout is 30 s). */
START_TEST(killed_client_statement_is_abandoned)
{
    static const struct udc_db_statement stmts[] = {{"sleep", "SELECT pg_sleep(60)", 0}};
    pid_t child = fork();
    ck_assert_int_ge(child, 0);
    if (child == 0) {
        struct udc_db *db = udc_db_new(db_url, stmts, 1, 5, 0);
        if (!db || udc_db_set_application_name(db, "udc-test-db-orphan") != 0 ||
            udc_db_ensure(db) != 0)
            _exit(1);
        udc_db_exec_prepared(db, "sleep", 0, NULL, NULL, NULL, PGRES_TUPLES_OK, NULL, 0);
        _exit(2);
    }
    char running[] = "SELECT count(*) FROM pg_stat_activity WHERE application_name = "
                     "'udc-test-db-orphan' AND state = 'active'";
    ck_assert_msg(itest_wait(counts_some, running, 10000), "the statement never started");
    ck_assert_int_eq(admin_scalar(running), 1);
    kill(child, SIGKILL);
    ck_assert_int_eq(waitpid(child, NULL, 0), child);
    uint64_t t0 = udc_now_ms();
    char left[] = "SELECT count(*) FROM pg_stat_activity WHERE application_name = "
                  "'udc-test-db-orphan'";
    ck_assert_msg(itest_wait(counts_none, left, 10000), "the statement outlived its client");
    ck_assert_uint_lt(udc_now_ms() - t0, 5000);
}
END_TEST

/* --- transactions and constraint errors -------------------------------------------------- */

static const struct udc_db_statement kv_stmts[] = {
    {"put", "INSERT INTO t_kv (id, v) VALUES ($1, $2)", 2},
    {"has", "SELECT count(*) FROM t_kv WHERE id = $1", 1},
};

static void put_ok(struct udc_db *db, const char *id)
{
    const char *v[] = {id, "x"};
    char err[512];
    PGresult *r =
        udc_db_exec_prepared(db, "put", 2, v, NULL, NULL, PGRES_COMMAND_OK, err, sizeof err);
    ck_assert_msg(r != NULL, "put %s: %s", id, err);
    PQclear(r);
}

static long has(struct udc_db *db, const char *id)
{
    const char *v[] = {id};
    return exec_scalar(db, "has", 1, v);
}

START_TEST(transactions_commit_and_roll_back)
{
    struct udc_db *db = open_db(kv_stmts, 2, 0);
    char err[512];
    ck_assert_int_eq(udc_db_begin(db, err, sizeof err), 0);
    put_ok(db, "101");
    char other[160];
    snprintf(other, sizeof other, "SELECT count(*) FROM %s.t_kv WHERE id = 101", schema);
    ck_assert_int_eq(admin_scalar(other), 0); /* not visible to others before COMMIT */
    ck_assert_int_eq(udc_db_commit(db, err, sizeof err), 0);
    ck_assert_int_eq(admin_scalar(other), 1);
    ck_assert_int_eq(has(db, "101"), 1);

    ck_assert_int_eq(udc_db_begin(db, err, sizeof err), 0);
    put_ok(db, "102");
    ck_assert_int_eq(has(db, "102"), 1); /* visible inside ... */
    ck_assert_int_eq(udc_db_rollback(db, err, sizeof err), 0);
    ck_assert_int_eq(has(db, "102"), 0); /* ... gone after rollback */

    /* A failed statement aborts the transaction: COMMIT then reports failure. */
    ck_assert_int_eq(udc_db_begin(db, err, sizeof err), 0);
    put_ok(db, "103");
    const char *dup[] = {"103", "y"};
    ck_assert_ptr_null(
        udc_db_exec_prepared(db, "put", 2, dup, NULL, NULL, PGRES_COMMAND_OK, NULL, 0));
    ck_assert_int_eq(udc_db_commit(db, err, sizeof err), -1);
    ck_assert_int_eq(udc_db_error_is_connection(db), 0);
    ck_assert_int_eq(has(db, "103"), 0);
    /* Rollback with no transaction open is harmless. */
    ck_assert_int_eq(udc_db_rollback(db, err, sizeof err), 0);
    udc_db_free(db);
}
END_TEST

START_TEST(unique_violation_reports_23505)
{
    struct udc_db *db = open_db(kv_stmts, 2, 0);
    put_ok(db, "201");
    const char *dup[] = {"201", "again"};
    char err[512] = "";
    ck_assert_ptr_null(
        udc_db_exec_prepared(db, "put", 2, dup, NULL, NULL, PGRES_COMMAND_OK, err, sizeof err));
    ck_assert_str_eq(udc_db_last_sqlstate(db), "23505");
    ck_assert_int_eq(udc_db_error_is_connection(db), 0);
    ck_assert_int_eq(udc_db_last_error_kind(db), UDC_DB_ERR_STATEMENT);
    ck_assert_msg(strstr(err, "23505") && strstr(err, "put"), "err: %s", err);
    ck_assert_str_eq(err, udc_db_last_error(db));
    ck_assert_int_eq(udc_db_is_ok(db), 1);
    ck_assert_int_eq(udc_db_ensure(db), 0);
    put_ok(db, "202");
    udc_db_free(db);
}
END_TEST

/* --- COPY -------------------------------------------------------------------------------- */

#define COPY_ROWS 10000

/* Deterministic awkward text for row i; NULL for some rows. buf holds the result. */
static const char *awkward(int i, int column, char *buf, size_t size)
{
    static const char *const pieces[] = {"\t", "\n", "\r", "\\", "\\N", "\\.", "é",
                                         "€",  "😀",  " ",  "\"", "'",   ",",   "plain"};
    const size_t npieces = sizeof pieces / sizeof pieces[0];
    if ((i + column) % 17 == 0)
        return NULL;
    if ((i + column) % 23 == 0)
        return "";
    size_t o = 0;
    buf[0] = '\0';
    for (int k = 0; k < 1 + (i * 7 + column) % 9; k++) {
        const char *p = pieces[(size_t)(i * 31 + k * 7 + column * 3) % npieces];
        size_t len = strlen(p);
        if (o + len + 1 > size)
            break;
        memcpy(buf + o, p, len + 1);
        o += len;
    }
    return buf;
}

START_TEST(copy_round_trips_awkward_text)
{
    static const struct udc_db_statement stmts[] = {
        {"all", "SELECT id, body, note FROM t_copy ORDER BY id", 0},
    };
    struct udc_db *db = open_db(stmts, 1, 0);
    char err[512];
    ck_assert_int_eq(udc_db_begin(db, err, sizeof err), 0);
    ck_assert_int_eq(udc_db_copy_begin(db, "COPY t_copy (id, body, note) FROM STDIN"), 0);
    for (int i = 0; i < COPY_ROWS; i++) {
        char id[16], b1[128], b2[128];
        snprintf(id, sizeof id, "%d", i);
        const char *row[] = {id, awkward(i, 1, b1, sizeof b1), awkward(i, 2, b2, sizeof b2)};
        ck_assert_int_eq(udc_db_copy_row(db, row, 3), 0);
    }
    long rows = udc_db_copy_end(db, err, sizeof err);
    ck_assert_msg(rows == COPY_ROWS, "copy_end %ld: %s", rows, err);
    ck_assert_int_eq(udc_db_commit(db, err, sizeof err), 0);

    PGresult *r =
        udc_db_exec_prepared(db, "all", 0, NULL, NULL, NULL, PGRES_TUPLES_OK, err, sizeof err);
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(PQntuples(r), COPY_ROWS);
    int nulls = 0;
    for (int i = 0; i < COPY_ROWS; i++) {
        ck_assert_int_eq(atoi(PQgetvalue(r, i, 0)), i);
        for (int col = 1; col <= 2; col++) {
            char b[128];
            const char *want = awkward(i, col, b, sizeof b);
            if (!want) {
                ck_assert_msg(PQgetisnull(r, i, col), "row %d col %d not NULL", i, col);
                nulls++;
            } else {
                ck_assert_msg(!PQgetisnull(r, i, col), "row %d col %d NULL", i, col);
                ck_assert_str_eq(PQgetvalue(r, i, col), want);
            }
        }
    }
    ck_assert_int_gt(nulls, 0);
    PQclear(r);
    udc_db_free(db);
}
END_TEST

START_TEST(copy_of_end_marker_text_in_first_column)
{
    static const struct udc_db_statement stmts[] = {
        {"all", "SELECT v FROM t_copy1 ORDER BY n", 0},
    };
    struct udc_db *db = open_db(stmts, 1, 0);
    char err[512];
    ck_assert_int_eq(udc_db_copy_begin(db, "COPY t_copy1 (v) FROM STDIN"), 0);
    const char *values[] = {"\\.", "before", "\\.", "after", "", NULL};
    for (size_t i = 0; i < 6; i++)
        ck_assert_int_eq(udc_db_copy_row(db, &values[i], 1), 0);
    ck_assert_int_eq(udc_db_copy_end(db, err, sizeof err), 6);
    PGresult *r =
        udc_db_exec_prepared(db, "all", 0, NULL, NULL, NULL, PGRES_TUPLES_OK, err, sizeof err);
    ck_assert_int_eq(PQntuples(r), 6);
    for (int i = 0; i < 5; i++)
        ck_assert_str_eq(PQgetvalue(r, i, 0), values[i]);
    ck_assert_int_eq(PQgetisnull(r, 5, 0), 1);
    PQclear(r);
    udc_db_free(db);
}
END_TEST

START_TEST(copy_data_error_is_reported_at_end)
{
    static const struct udc_db_statement stmts[] = {
        {"count", "SELECT count(*) FROM t_copy WHERE id >= 50000", 0},
    };
    struct udc_db *db = open_db(stmts, 1, 0);
    char err[512] = "";
    ck_assert_int_eq(udc_db_begin(db, err, sizeof err), 0);
    ck_assert_int_eq(udc_db_copy_begin(db, "COPY t_copy (id, body, note) FROM STDIN"), 0);
    /* Enough good rows that some are sent before the bad one. */
    int failed_rows = 0;
    for (int i = 0; i < 5000; i++) {
        char id[16];
        snprintf(id, sizeof id, "%d", i == 2500 ? -1 : 50000 + i);
        const char *row[] = {i == 2500 ? "not-a-number" : id, "body", NULL};
        failed_rows += udc_db_copy_row(db, row, 3) != 0;
    }
    ck_assert_int_eq(udc_db_copy_end(db, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "22P02") != NULL, "err: %s", err);
    ck_assert_int_eq(udc_db_last_error_kind(db), UDC_DB_ERR_STATEMENT);
    ck_assert_int_eq(udc_db_is_ok(db), 1);
    ck_assert_int_eq(udc_db_rollback(db, err, sizeof err), 0);
    ck_assert_int_eq(exec_scalar(db, "count", 0, NULL), 0);

    /* An abandoned COPY leaves the connection usable after rollback. */
    ck_assert_int_eq(udc_db_begin(db, err, sizeof err), 0);
    ck_assert_int_eq(udc_db_copy_begin(db, "COPY t_copy (id, body, note) FROM STDIN"), 0);
    const char *row[] = {"60000", "x", "y"};
    ck_assert_int_eq(udc_db_copy_row(db, row, 3), 0);
    ck_assert_ptr_null(
        udc_db_exec_prepared(db, "count", 0, NULL, NULL, NULL, PGRES_TUPLES_OK, NULL, 0));
    udc_db_copy_abort(db, "changed my mind");
    ck_assert_int_eq(udc_db_rollback(db, err, sizeof err), 0);
    ck_assert_int_eq(exec_scalar(db, "count", 0, NULL), 0);
    ck_assert_int_eq(udc_db_copy_end(db, err, sizeof err), -1);
    ck_assert_int_eq(udc_db_copy_begin(db, "COPY nosuchtable (a) FROM STDIN"), -1);
    ck_assert_str_eq(udc_db_last_sqlstate(db), "42P01");
    ck_assert_int_eq(udc_db_ping(db), 0);
    udc_db_free(db);
}
END_TEST

/* --- pool -------------------------------------------------------------------------------- */

#define POOL_SIZE    4
#define POOL_THREADS 8
#define POOL_ITERS   40

static const struct udc_db_statement pool_stmts[] = {
    {"pid", "SELECT pg_backend_pid()", 0},
    {"log",
     "INSERT INTO t_pool (thread, iter, pid) SELECT $1, $2, pg_backend_pid() "
     "FROM pg_sleep(0.002)",
     2},
};

struct pool_run {
    struct udc_db_pool *pool;
    int thread;
    atomic_int *holders;
    atomic_int *max_holders;
    atomic_int *failures;
};

static void *pool_worker(void *arg)
{
    struct pool_run *run = arg;
    for (int i = 0; i < POOL_ITERS; i++) {
        struct udc_db *db = udc_db_pool_acquire(run->pool, 10000);
        if (!db) {
            atomic_fetch_add(run->failures, 1);
            continue;
        }
        int now = atomic_fetch_add(run->holders, 1) + 1;
        int seen = atomic_load(run->max_holders);
        while (now > seen && !atomic_compare_exchange_weak(run->max_holders, &seen, now))
            ;
        char t[16], it[16];
        snprintf(t, sizeof t, "%d", run->thread);
        snprintf(it, sizeof it, "%d", i);
        const char *v[] = {t, it};
        PGresult *r = udc_db_exec_prepared(db, "log", 2, v, NULL, NULL, PGRES_COMMAND_OK, NULL, 0);
        if (!r)
            atomic_fetch_add(run->failures, 1);
        PQclear(r);
        atomic_fetch_sub(run->holders, 1);
        udc_db_pool_release(run->pool, db);
    }
    return NULL;
}

static struct udc_db_pool *open_pool(size_t size)
{
    struct udc_db_pool *pool = udc_db_pool_new(db_url, pool_stmts, 2, size, 5, 10000);
    ck_assert_ptr_nonnull(pool);
    const char *setup[] = {search_path_sql};
    ck_assert_int_eq(udc_db_pool_set_setup_sql(pool, setup, 1), 0);
    return pool;
}

START_TEST(pool_shares_four_connections_among_eight_threads)
{
    struct udc_db_pool *pool = open_pool(POOL_SIZE);
    atomic_int holders = 0, max_holders = 0, failures = 0;
    pthread_t threads[POOL_THREADS];
    struct pool_run runs[POOL_THREADS];
    for (int i = 0; i < POOL_THREADS; i++) {
        runs[i] = (struct pool_run){pool, i, &holders, &max_holders, &failures};
        ck_assert_int_eq(pthread_create(&threads[i], NULL, pool_worker, &runs[i]), 0);
    }
    for (int i = 0; i < POOL_THREADS; i++)
        pthread_join(threads[i], NULL);
    ck_assert_int_eq(atomic_load(&failures), 0);
    ck_assert_int_eq(atomic_load(&max_holders), POOL_SIZE);
    size_t in_use = 99, size = 0;
    udc_db_pool_stats(pool, &in_use, &size);
    ck_assert_uint_eq(in_use, 0);
    ck_assert_uint_eq(size, POOL_SIZE);
    ck_assert_int_eq(admin_scalar("SELECT count(*) FROM t_pool"), POOL_THREADS * POOL_ITERS);
    ck_assert_int_eq(admin_scalar("SELECT count(DISTINCT (thread, iter)) FROM t_pool"),
                     POOL_THREADS * POOL_ITERS);
    ck_assert_int_eq(admin_scalar("SELECT count(DISTINCT pid) FROM t_pool"), POOL_SIZE);
    udc_db_pool_free(pool);
}
END_TEST

START_TEST(pool_times_out_and_recovers_broken_connections)
{
    struct udc_db_pool *pool = open_pool(2);
    struct udc_db *a = udc_db_pool_acquire(pool, 1000);
    struct udc_db *b = udc_db_pool_acquire(pool, 1000);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    ck_assert_ptr_ne(a, b);
    size_t in_use = 0;
    udc_db_pool_stats(pool, &in_use, NULL);
    ck_assert_uint_eq(in_use, 2);

    uint64_t t0 = udc_now_ms();
    ck_assert_ptr_null(udc_db_pool_acquire(pool, 150));
    uint64_t waited = udc_now_ms() - t0;
    ck_assert_uint_ge(waited, 140);
    ck_assert_uint_lt(waited, 2000);
    char why[128];
    udc_db_pool_last_error(pool, why, sizeof why);
    ck_assert_str_eq(why, "timeout");

    /* Kill a's backend, use it (connection error), release it: the next acquire reconnects. */
    long pid = exec_scalar(a, "pid", 0, NULL);
    terminate_backend(pid);
    ck_assert_ptr_null(
        udc_db_exec_prepared(a, "pid", 0, NULL, NULL, NULL, PGRES_TUPLES_OK, NULL, 0));
    ck_assert_int_eq(udc_db_error_is_connection(a), 1);
    udc_db_pool_release(pool, a);
    struct udc_db *c = udc_db_pool_acquire(pool, 1000);
    ck_assert_ptr_eq(c, a);
    ck_assert_int_eq(udc_db_is_ok(c), 1);
    ck_assert_int_ne(exec_scalar(c, "pid", 0, NULL), pid);

    /* An open transaction is rolled back on release. */
    ck_assert_int_eq(udc_db_begin(c, NULL, 0), 0);
    udc_db_pool_release(pool, c);
    c = udc_db_pool_acquire(pool, 1000);
    ck_assert_int_eq(PQtransactionStatus(udc_db_conn(c)), PQTRANS_IDLE);
    udc_db_pool_release(pool, c);
    udc_db_pool_release(pool, b);
    udc_db_pool_stats(pool, &in_use, NULL);
    ck_assert_uint_eq(in_use, 0);
    udc_db_pool_free(pool);
}
END_TEST

START_TEST(pool_acquire_fails_when_database_unreachable)
{
    struct udc_db_pool *pool =
        udc_db_pool_new("postgresql://x:" SECRET "@127.0.0.1:1/none", pool_stmts, 2, 2, 2, 0);
    ck_assert_ptr_nonnull(pool);
    ck_assert_ptr_null(udc_db_pool_acquire(pool, 100));
    char why[512];
    udc_db_pool_last_error(pool, why, sizeof why);
    ck_assert_str_ne(why, "timeout");
    ck_assert_msg(strstr(why, SECRET) == NULL, "why: %s", why);
    size_t in_use = 9;
    udc_db_pool_stats(pool, &in_use, NULL);
    ck_assert_uint_eq(in_use, 0);
    udc_db_pool_free(pool);
}
END_TEST

/* --- ping -------------------------------------------------------------------------------- */

START_TEST(ping_follows_the_connection)
{
    struct udc_db *db = udc_db_new(db_url, NULL, 0, 5, 0);
    ck_assert_int_eq(udc_db_ping(db), -1); /* never connected */
    ck_assert_int_eq(udc_db_ensure(db), 0);
    ck_assert_int_eq(udc_db_ping(db), 0);
    udc_db_disconnect(db);
    ck_assert_int_eq(udc_db_is_ok(db), 0);
    ck_assert_int_eq(udc_db_ping(db), -1);
    ck_assert_int_eq(udc_db_ensure(db), 0);
    ck_assert_int_eq(udc_db_ping(db), 0);
    udc_db_free(db);
}
END_TEST

/* --- main -------------------------------------------------------------------------------- */

static int create_schema(void)
{
    snprintf(schema, sizeof schema, "udc_test_db_%ld_%ld", (long)getpid(), (long)time(NULL));
    snprintf(search_path_sql, sizeof search_path_sql, "SET search_path = %s, public", schema);
    char sql[1024];
    snprintf(sql, sizeof sql,
             "CREATE SCHEMA %s;"
             "CREATE TABLE %s.t_kv (id int PRIMARY KEY, v text);"
             "CREATE TABLE %s.t_copy (id int PRIMARY KEY, body text, note text);"
             "CREATE TABLE %s.t_copy1 (n serial, v text);"
             "CREATE TABLE %s.t_pool (thread int, iter int, pid int);",
             schema, schema, schema, schema, schema);
    /* Outside any test: report with stdio, not ck_assert. */
    PGconn *c = PQconnectdb(db_url);
    PGresult *r = PQexec(c, sql);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok)
        fprintf(stderr, "test_db: %s: %s", sql, PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
    return ok ? 0 : -1;
}

int main(void)
{
    db_url = getenv("UDC_DB_URL");
    if (!db_url || !*db_url) {
        fprintf(stderr, "test_db: UDC_DB_URL is not set\n");
        return EXIT_FAILURE;
    }
    PGconn *probe = PQconnectdb(db_url);
    int reachable = PQstatus(probe) == CONNECTION_OK;
    if (!reachable)
        fprintf(stderr, "test_db: cannot connect: %s", PQerrorMessage(probe));
    PQfinish(probe);
    if (!reachable)
        return EXIT_FAILURE;
    if (create_schema() != 0)
        return EXIT_FAILURE;

    Suite *s = suite_create("db");
    TCase *tc = tcase_create("postgres");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, bad_url_fails_without_revealing_password);
    tcase_add_test(tc, connect_applies_settings_and_setup_sql);
    tcase_add_test(tc, tcp_defaults_yield_to_the_url);
    tcase_add_test(tc, bad_statement_in_table_fails_connect);
    tcase_add_test(tc, prepared_statements_survive_a_killed_backend);
    tcase_add_test(tc, sent_statement_result_is_polled);
    tcase_add_test(tc, wrong_statement_use_is_a_statement_error);
    tcase_add_test(tc, statement_timeout_is_transient);
    tcase_add_test(tc, killed_client_statement_is_abandoned);
    tcase_add_test(tc, transactions_commit_and_roll_back);
    tcase_add_test(tc, unique_violation_reports_23505);
    tcase_add_test(tc, copy_round_trips_awkward_text);
    tcase_add_test(tc, copy_of_end_marker_text_in_first_column);
    tcase_add_test(tc, copy_data_error_is_reported_at_end);
    tcase_add_test(tc, pool_shares_four_connections_among_eight_threads);
    tcase_add_test(tc, pool_times_out_and_recovers_broken_connections);
    tcase_add_test(tc, pool_acquire_fails_when_database_unreachable);
    tcase_add_test(tc, ping_follows_the_connection);
    suite_add_tcase(s, tc);
    int rc = udc_test_run(s);

    char sql[128];
    snprintf(sql, sizeof sql, "SET client_min_messages = warning; DROP SCHEMA %s CASCADE", schema);
    PGconn *c = PQconnectdb(db_url);
    PQclear(PQexec(c, sql));
    PQfinish(c);
    return rc;
}
