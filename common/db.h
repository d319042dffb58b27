/* db.h — PostgreSQL access on libpq: one connection with its prepared statements, reconnect
 * with capped backoff, transactions, COPY FROM STDIN, and a pool for threaded daemons.
 *
 * A daemon declares its statements once, in a static table, and runs them by name:
 *
 *   static const struct udc_db_statement stmts[] = {
 *       {"person_by_id", "SELECT id, first_name FROM person WHERE id = $1", 1},
 *   };
 *   struct udc_db *db = udc_db_new(url, stmts, 1, 5, 30000);
 *   if (udc_db_ensure(db) == 0) {
 *       const char *v[] = {"5"};
 *       PGresult *r = udc_db_exec_prepared(db, "person_by_id", 1, v, NULL, NULL,
 *                                          PGRES_TUPLES_OK, err, sizeof err);
 *       ...
 *       PQclear(r);
 *   }
 *
 * Every (re)connect runs the session setup SQL, sets statement_timeout and prepares every
 * statement again, so callers never see a connection without them.
 *
 * Failures are classified (udc_db_last_error_kind): a lost connection or a transient server
 * condition means "retry the whole unit of work later"; a statement error means the data or
 * the SQL is wrong and retrying will not help. After a connection error the connection is
 * marked bad and the next udc_db_ensure() reconnects (no sooner than the backoff allows).
 *
 * Bulk load:  udc_db_begin; udc_db_copy_begin(db, "COPY t (a, b) FROM STDIN");
 *             udc_db_copy_row(...) per row; udc_db_copy_end; ...; udc_db_commit.
 *
 * The URL is a libpq URI or key=value string and may hold a password; only host, port,
 * dbname and user ever reach the log.
 *
 * Thread-safety: a struct udc_db is used by one thread at a time (no internal locking).
 * The pool is thread-safe: every udc_db_pool_* function may be called from any thread;
 * an acquired connection belongs to the acquiring thread until it is released.
 */
#ifndef UDC_DB_H
#define UDC_DB_H

#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

struct udc_db_statement {
    const char *name;
    const char *sql; /* parameters as $1..$n; cast in SQL ($1::uuid) where the type matters */
    int nparams;
};

enum udc_db_error_kind {
    UDC_DB_ERR_NONE = 0,
    UDC_DB_ERR_CONNECTION, /* connection lost or unusable: reconnect, retry the work later */
    UDC_DB_ERR_TRANSIENT,  /* serialization failure, deadlock, timeout, server overload:
                              roll back and retry the same work */
    UDC_DB_ERR_STATEMENT,  /* the statement or its data is wrong (constraint, syntax, type) */
};

struct udc_db;

/* Copies url, statement table and strings; does not connect. NULL on allocation failure.
 * connect_timeout_s <= 0 means libpq's default (no limit); statement_timeout_ms <= 0 means
 * the server default. */
struct udc_db *udc_db_new(const char *url, const struct udc_db_statement *stmts, size_t n,
                          int connect_timeout_s, int statement_timeout_ms);
void udc_db_free(struct udc_db *db);

/* SQL run after every connect, before the statements are prepared, e.g.
 * "SET synchronous_commit = off" or "CREATE TEMP TABLE ...". Copied. 0 or -1 (no memory). */
int udc_db_set_setup_sql(struct udc_db *db, const char *const *sql, size_t n);
/* Shown in pg_stat_activity; copied. Default "udaconnect". Takes effect on the next connect. */
int udc_db_set_application_name(struct udc_db *db, const char *name);
/* Reconnect backoff (defaults: 200 ms base, 30 s cap). */
void udc_db_set_backoff(struct udc_db *db, uint32_t base_ms, uint32_t max_ms);

/* Connect now (dropping any existing connection), run setup SQL, prepare statements.
 * 0, or -1 with a message without the password. Ignores the backoff. */
int udc_db_connect(struct udc_db *db, char *err, size_t errlen);
/* 0 when the connection is usable, reconnecting first if it is bad and the backoff allows;
 * -1 otherwise (does not block beyond one connect attempt). Logs once per state change. */
int udc_db_ensure(struct udc_db *db);
/* Milliseconds until udc_db_ensure() will try again (0 when it would try now). */
uint32_t udc_db_retry_in_ms(const struct udc_db *db);
/* 1 when connected and not known to be broken. */
int udc_db_is_ok(const struct udc_db *db);
/* Drop the connection; the next udc_db_ensure() reconnects. */
void udc_db_disconnect(struct udc_db *db);

/* Run a prepared statement. values[i] NULL is SQL NULL; lengths/formats NULL means text.
 * expect is PGRES_TUPLES_OK or PGRES_COMMAND_OK. Returns the result (caller PQclear()s it),
 * or NULL with the error in err (may be NULL) and in udc_db_last_error(). */
PGresult *udc_db_exec_prepared(struct udc_db *db, const char *name, int nparams,
                               const char *const *values, const int *lengths, const int *formats,
                               int expect, char *err, size_t errlen);
/* The same without waiting: send, then call udc_db_poll_result() whenever udc_db_socket()
 * is readable (or at any time) until it returns <= 0. One statement at a time; no other
 * call may run on the connection meanwhile. 0 sent, or -1 with the error. */
int udc_db_send_prepared(struct udc_db *db, const char *name, int nparams,
                         const char *const *values, char *err, size_t errlen);
/* 1: not finished yet. 0: *out is the result (status expect; caller PQclear()s it).
 * -1: failed (classified as for udc_db_exec_prepared). Never blocks for long: it reads what
 * has arrived. */
int udc_db_poll_result(struct udc_db *db, int expect, PGresult **out, char *err, size_t errlen);
/* 1 while a sent statement's result has not been read. */
int udc_db_in_flight(const struct udc_db *db);
/* The connection's socket, -1 when not connected. */
int udc_db_socket(const struct udc_db *db);
/* Parameterless commands only (BEGIN, COMMIT, SET ...): 0 or -1. */
int udc_db_exec(struct udc_db *db, const char *sql, char *err, size_t errlen);

int udc_db_begin(struct udc_db *db, char *err, size_t errlen);
/* -1 also when the transaction had already failed (it is rolled back then). After a
 * connection error during COMMIT the outcome is unknown: redo the work idempotently. */
int udc_db_commit(struct udc_db *db, char *err, size_t errlen);
/* Also ends an aborted transaction. On a lost connection there is nothing left to roll back:
 * returns 0. */
int udc_db_rollback(struct udc_db *db, char *err, size_t errlen);

/* SELECT 1: 0 when the server answers. For readiness probes. */
int udc_db_ping(struct udc_db *db);

/* About the last failure on this connection (reset by each successful call). */
enum udc_db_error_kind udc_db_last_error_kind(const struct udc_db *db);
int udc_db_error_is_connection(const struct udc_db *db);
/* Five-character SQLSTATE, or "" when the server sent none (e.g. connection lost). */
const char *udc_db_last_sqlstate(const struct udc_db *db);
const char *udc_db_last_error(const struct udc_db *db);
/* The raw libpq connection (NULL when not connected), for what this module does not wrap. */
PGconn *udc_db_conn(struct udc_db *db);

/* --- COPY FROM STDIN, text format ------------------------------------------------------- */

/* Functions without an err buffer leave the message in udc_db_last_error(). */

/* Start "COPY table (cols) FROM STDIN" (text format). 0 or -1. */
int udc_db_copy_begin(struct udc_db *db, const char *copy_sql);
/* Append one row; fields[i] NULL is SQL NULL. Rows are buffered and sent in large chunks.
 * 0 or -1 (connection failure while sending). */
int udc_db_copy_row(struct udc_db *db, const char *const *fields, size_t n);
/* Send the rest and finish: rows copied (>= 0), or -1 with the error (data errors such as a
 * bad value surface here). */
long udc_db_copy_end(struct udc_db *db, char *err, size_t errlen);
/* Abandon the COPY; the server fails it and the transaction must be rolled back. */
void udc_db_copy_abort(struct udc_db *db, const char *reason);

/* Escape one field for COPY text format: backslash, tab, newline and CR become \\, \t, \n,
 * \r; NULL becomes \N. Writes at most outsize bytes including the NUL (out may be NULL when
 * outsize is 0) and returns the full escaped length, like snprintf. */
size_t udc_db_copy_escape(const char *in, char *out, size_t outsize);

/* --- Pool: one connection per worker thread --------------------------------------------- */

struct udc_db_pool;

/* size connections, created lazily on first acquire. NULL on allocation failure or size 0. */
struct udc_db_pool *udc_db_pool_new(const char *url, const struct udc_db_statement *stmts, size_t n,
                                    size_t size, int connect_timeout_s, int statement_timeout_ms);
/* Applies to every member; call before the first acquire. 0 or -1. */
int udc_db_pool_set_setup_sql(struct udc_db_pool *pool, const char *const *sql, size_t n);
int udc_db_pool_set_application_name(struct udc_db_pool *pool, const char *name);
/* A connected udc_db, waiting up to timeout_ms (< 0: forever) for a free one. NULL when none
 * became free in time or the database is unreachable (see udc_db_pool_last_error). */
struct udc_db *udc_db_pool_acquire(struct udc_db_pool *pool, int timeout_ms);
/* Return a connection. An open transaction is rolled back; a connection in the middle of a
 * COPY or otherwise broken is dropped and reconnected by a later acquire. */
void udc_db_pool_release(struct udc_db_pool *pool, struct udc_db *db);
void udc_db_pool_stats(struct udc_db_pool *pool, size_t *in_use, size_t *size);
/* Why the last acquire returned NULL: "timeout" or the connection error. Copied into buf. */
void udc_db_pool_last_error(struct udc_db_pool *pool, char *buf, size_t size);
/* All connections must have been released. */
void udc_db_pool_free(struct udc_db_pool *pool);

#endif
