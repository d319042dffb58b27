/* db_copy.c — COPY ... FROM STDIN in text format, rows buffered and sent in large chunks.
 * See db.h. */
#include "db_private.h"

#include <stdlib.h>
#include <string.h>

/* Send to the server whenever this much is buffered: large enough that a batch of a few
 * thousand location rows goes out in a handful of writes. */
#define COPY_CHUNK (64 * 1024)

enum { COPY_NONE = 0, COPY_ACTIVE = 1, COPY_FAILED = 2 };

/* The letter that follows the backslash when c must be escaped, else 0. */
static char escape_letter(char c)
{
    switch (c) {
    case '\\':
        return '\\';
    case '\t':
        return 't';
    case '\n':
        return 'n';
    case '\r':
        return 'r';
    default:
        return 0;
    }
}

static void put(char *out, size_t outsize, size_t *len, char c)
{
    if (*len + 1 < outsize)
        out[*len] = c;
    (*len)++;
}

size_t udc_db_copy_escape(const char *in, char *out, size_t outsize)
{
    size_t len = 0;
    if (!in) {
        put(out, outsize, &len, '\\');
        put(out, outsize, &len, 'N');
    }
    for (const char *p = in; p && *p; p++) {
        char letter = escape_letter(*p);
        if (letter)
            put(out, outsize, &len, '\\');
        put(out, outsize, &len, letter ? letter : *p);
    }
    if (outsize > 0)
        out[len < outsize ? len : outsize - 1] = '\0';
    return len;
}

void udc_db_copy_reset(struct udc_db *db)
{
    db->in_copy = COPY_NONE;
    db->copy_len = 0;
}

/* Read every pending result; the first failure (or the COPY's own result) decides.
 * Returns rows copied or -1. */
static long collect_copy_result(struct udc_db *db, char *err, size_t errlen)
{
    long rows = -1;
    int failed = 0;
    PGresult *res;
    while ((res = PQgetResult(db->conn)) != NULL) {
        ExecStatusType st = PQresultStatus(res);
        if (st == PGRES_COPY_IN) {
            /* Still copying: only happens if the end was not sent; end it now. */
            PQputCopyEnd(db->conn, "COPY abandoned");
        } else if (st == PGRES_COMMAND_OK && !failed) {
            rows = atol(PQcmdTuples(res));
        } else if (!failed) {
            udc_db_fail(db, res, "COPY", err, errlen);
            failed = 1;
        }
        PQclear(res);
        if (PQstatus(db->conn) != CONNECTION_OK)
            break;
    }
    if (!failed && rows < 0)
        udc_db_fail(db, NULL, "COPY", err, errlen);
    return failed ? -1 : rows;
}

/* PQputCopyData/End failed: either the connection is gone, or the server already rejected
 * the data and its error is waiting to be read. */
static void copy_send_failed(struct udc_db *db)
{
    if (PQstatus(db->conn) == CONNECTION_OK)
        collect_copy_result(db, NULL, 0);
    else
        udc_db_fail(db, NULL, "COPY", NULL, 0);
    db->in_copy = COPY_FAILED;
    db->copy_len = 0;
}

static int flush_copy(struct udc_db *db)
{
    if (db->copy_len == 0)
        return 0;
    if (db->copy_len > (size_t)0x7fffffff ||
        PQputCopyData(db->conn, db->copy_buf, (int)db->copy_len) != 1) {
        copy_send_failed(db);
        return -1;
    }
    db->copy_len = 0;
    return 0;
}

int udc_db_copy_begin(struct udc_db *db, const char *copy_sql)
{
    if (!udc_db_is_ok(db)) {
        udc_db_fail_msg(db, UDC_DB_ERR_CONNECTION, "not connected", NULL, 0);
        return -1;
    }
    if (db->in_copy) {
        udc_db_fail_msg(db, UDC_DB_ERR_STATEMENT, "COPY already in progress", NULL, 0);
        return -1;
    }
    PGresult *res = PQexec(db->conn, copy_sql);
    ExecStatusType st = PQresultStatus(res);
    if (res && st == PGRES_COPY_IN) {
        PQclear(res);
        udc_db_clear_error(db);
        db->in_copy = COPY_ACTIVE;
        db->copy_len = 0;
        return 0;
    }
    udc_db_fail(db, res, "COPY", NULL, 0);
    PQclear(res);
    if (st == PGRES_COPY_OUT || st == PGRES_COPY_BOTH) {
        /* Not a COPY FROM STDIN: the connection is now mid-protocol; start afresh. */
        db->broken = 1;
        db->err_kind = UDC_DB_ERR_STATEMENT;
    }
    return -1;
}

static int reserve(struct udc_db *db, size_t extra)
{
    if (db->copy_len + extra <= db->copy_cap)
        return 0;
    size_t cap = db->copy_cap ? db->copy_cap : COPY_CHUNK * 2;
    while (cap < db->copy_len + extra)
        cap *= 2;
    char *buf = realloc(db->copy_buf, cap);
    if (!buf)
        return -1;
    db->copy_buf = buf;
    db->copy_cap = cap;
    return 0;
}

int udc_db_copy_row(struct udc_db *db, const char *const *fields, size_t n)
{
    if (db->in_copy != COPY_ACTIVE) {
        if (db->in_copy == COPY_NONE)
            udc_db_fail_msg(db, UDC_DB_ERR_STATEMENT, "no COPY in progress", NULL, 0);
        return -1;
    }
    if (n == 0) {
        udc_db_fail_msg(db, UDC_DB_ERR_STATEMENT, "COPY row without fields", NULL, 0);
        db->in_copy = COPY_FAILED;
        return -1;
    }
    size_t need = n; /* a tab between fields and the newline at the end */
    for (size_t i = 0; i < n; i++)
        need += udc_db_copy_escape(fields[i], NULL, 0);
    if (reserve(db, need + 1) != 0) {
        udc_db_fail_msg(db, UDC_DB_ERR_TRANSIENT, "COPY: out of memory", NULL, 0);
        db->in_copy = COPY_FAILED;
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        char *at = db->copy_buf + db->copy_len;
        db->copy_len += udc_db_copy_escape(fields[i], at, db->copy_cap - db->copy_len);
        db->copy_buf[db->copy_len++] = i + 1 < n ? '\t' : '\n';
    }
    return db->copy_len >= COPY_CHUNK ? flush_copy(db) : 0;
}

long udc_db_copy_end(struct udc_db *db, char *err, size_t errlen)
{
    if (db->in_copy != COPY_ACTIVE) {
        if (db->in_copy == COPY_NONE)
            udc_db_fail_msg(db, UDC_DB_ERR_STATEMENT, "no COPY in progress", NULL, 0);
        udc_db_copy_reset(db);
        if (err && errlen)
            snprintf(err, errlen, "%s", db->errmsg);
        return -1;
    }
    long rows = -1;
    if (flush_copy(db) == 0) {
        if (PQputCopyEnd(db->conn, NULL) == 1)
            rows = collect_copy_result(db, err, errlen);
        else
            copy_send_failed(db);
    }
    if (rows < 0 && err && errlen)
        snprintf(err, errlen, "%s", db->errmsg);
    udc_db_copy_reset(db);
    return rows;
}

void udc_db_copy_abort(struct udc_db *db, const char *reason)
{
    if (db->in_copy == COPY_ACTIVE && db->conn && PQstatus(db->conn) == CONNECTION_OK) {
        /* The server answers with an error we asked for: keep the caller's last error. */
        enum udc_db_error_kind kind = db->err_kind;
        char state[sizeof db->sqlstate];
        char msg[sizeof db->errmsg];
        memcpy(state, db->sqlstate, sizeof state);
        memcpy(msg, db->errmsg, sizeof msg);
        if (PQputCopyEnd(db->conn, reason ? reason : "COPY abandoned") == 1) {
            PGresult *res;
            while ((res = PQgetResult(db->conn)) != NULL) {
                PQclear(res);
                if (PQstatus(db->conn) != CONNECTION_OK)
                    break;
            }
        } else {
            db->broken = 1;
        }
        if (PQstatus(db->conn) != CONNECTION_OK)
            db->broken = 1;
        db->err_kind = kind;
        memcpy(db->sqlstate, state, sizeof state);
        memcpy(db->errmsg, msg, sizeof msg);
    }
    udc_db_copy_reset(db);
}
