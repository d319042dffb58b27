/* db_conn.c — one PostgreSQL connection: connect, reconnect, prepared statements,
 * transactions, error classification. See db.h. */
#include "db_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define DEFAULT_BACKOFF_BASE_MS 200
#define DEFAULT_BACKOFF_MAX_MS  30000

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* Copy src into dst (size > 0), replacing every occurrence of secret with "***". */
static void copy_redacted(char *dst, size_t size, const char *src, const char *secret)
{
    size_t slen = secret ? strlen(secret) : 0;
    size_t o = 0;
    while (*src && o + 1 < size) {
        if (slen > 0 && strncmp(src, secret, slen) == 0) {
            for (const char *r = "***"; *r && o + 1 < size; r++)
                dst[o++] = *r;
            src += slen;
            continue;
        }
        dst[o++] = *src++;
    }
    dst[o] = '\0';
}

/* The password as written in a URI ("scheme://user:PASS@host") or key=value string
 * ("password=PASS"), found without libpq so that it can be scrubbed from libpq's messages
 * even when the string does not parse. Returns a malloc'd copy or NULL. */
static char *raw_password(const char *url)
{
    const char *scheme_end = strstr(url, "://");
    if (scheme_end) {
        const char *auth = scheme_end + 3;
        size_t auth_len = strcspn(auth, "/?");
        const char *at = NULL;
        for (const char *p = auth; p < auth + auth_len; p++)
            if (*p == '@')
                at = p;
        const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
        if (colon && at > colon + 1)
            return strndup(colon + 1, (size_t)(at - colon - 1));
        return NULL;
    }
    const char *kw = strstr(url, "password");
    if (!kw)
        return NULL;
    const char *v = kw + strlen("password");
    while (*v == ' ')
        v++;
    if (*v++ != '=')
        return NULL;
    while (*v == ' ')
        v++;
    if (*v == '\'') {
        v++;
        return strndup(v, strcspn(v, "'"));
    }
    size_t len = strcspn(v, " \t\n");
    return len ? strndup(v, len) : NULL;
}

/* Remember the password both as written and as libpq decodes it, to scrub from messages. */
static void find_secrets(struct udc_db *db)
{
    db->secrets[0] = raw_password(db->url);
    PQconninfoOption *opts = PQconninfoParse(db->url, NULL);
    for (PQconninfoOption *o = opts; o && o->keyword; o++)
        if (strcmp(o->keyword, "password") == 0 && o->val && *o->val)
            db->secrets[1] = strdup(o->val);
    PQconninfoFree(opts);
}

static void redact_secrets(const struct udc_db *db, char *msg, size_t size)
{
    for (size_t i = 0; i < sizeof db->secrets / sizeof db->secrets[0]; i++) {
        if (!db->secrets[i] || !strstr(msg, db->secrets[i]))
            continue;
        char *tmp = strdup(msg);
        if (tmp)
            copy_redacted(msg, size, tmp, db->secrets[i]);
        else
            snprintf(msg, size, "(message withheld)");
        free(tmp);
    }
}

/* "host=h port=p dbname=d user=u" for logs, from the parsed URL (never the password). */
static void describe_target(struct udc_db *db)
{
    char *perr = NULL;
    PQconninfoOption *opts = PQconninfoParse(db->url, &perr);
    if (!opts) {
        snprintf(db->target, sizeof db->target, "url=unparseable");
        PQfreemem(perr);
        return;
    }
    static const char *const shown[] = {"host", "hostaddr", "port", "dbname", "user"};
    size_t o = 0;
    db->target[0] = '\0';
    for (size_t i = 0; i < sizeof shown / sizeof shown[0]; i++) {
        for (PQconninfoOption *opt = opts; opt->keyword; opt++) {
            if (strcmp(opt->keyword, shown[i]) != 0 || !opt->val || !*opt->val)
                continue;
            char q[96];
            udc_log_quote(q, sizeof q, opt->val);
            int w = snprintf(db->target + o, sizeof db->target - o, "%s%s=%s", o ? " " : "",
                             shown[i], q);
            if (w > 0 && (size_t)w < sizeof db->target - o)
                o += (size_t)w;
        }
    }
    PQconninfoFree(opts);
    if (o == 0)
        snprintf(db->target, sizeof db->target, "host=default");
}

static void free_setup_sql(struct udc_db *db)
{
    for (size_t i = 0; i < db->nsetup; i++)
        free(db->setup_sql[i]);
    free(db->setup_sql);
    db->setup_sql = NULL;
    db->nsetup = 0;
}

static void free_statements(struct udc_db *db)
{
    for (size_t i = 0; i < db->nstmts; i++) {
        free((char *)db->stmts[i].name);
        free((char *)db->stmts[i].sql);
    }
    free(db->stmts);
}

struct udc_db *udc_db_new(const char *url, const struct udc_db_statement *stmts, size_t n,
                          int connect_timeout_s, int statement_timeout_ms)
{
    if (!url || (n > 0 && !stmts))
        return NULL;
    struct udc_db *db = calloc(1, sizeof *db);
    if (!db)
        return NULL;
    db->url = strdup(url);
    db->application_name = strdup(udc_log_get_ident());
    db->stmts = n ? calloc(n, sizeof *db->stmts) : NULL;
    if (!db->url || !db->application_name || (n && !db->stmts)) {
        udc_db_free(db);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        db->nstmts = i + 1;
        db->stmts[i].name = dup_or_null(stmts[i].name);
        db->stmts[i].sql = dup_or_null(stmts[i].sql);
        db->stmts[i].nparams = stmts[i].nparams;
        if (!db->stmts[i].name || !db->stmts[i].sql) {
            udc_db_free(db);
            return NULL;
        }
    }
    db->connect_timeout_s = connect_timeout_s;
    db->statement_timeout_ms = statement_timeout_ms;
    udc_backoff_init(&db->backoff, DEFAULT_BACKOFF_BASE_MS, DEFAULT_BACKOFF_MAX_MS);
    describe_target(db);
    find_secrets(db);
    return db;
}

void udc_db_free(struct udc_db *db)
{
    if (!db)
        return;
    udc_db_disconnect(db);
    free(db->copy_buf);
    free_statements(db);
    free_setup_sql(db);
    free(db->application_name);
    free(db->secrets[0]);
    free(db->secrets[1]);
    free(db->url);
    free(db);
}

int udc_db_set_setup_sql(struct udc_db *db, const char *const *sql, size_t n)
{
    free_setup_sql(db);
    if (n == 0)
        return 0;
    db->setup_sql = calloc(n, sizeof *db->setup_sql);
    if (!db->setup_sql)
        return -1;
    for (size_t i = 0; i < n; i++) {
        db->nsetup = i + 1;
        db->setup_sql[i] = dup_or_null(sql[i]);
        if (!db->setup_sql[i]) {
            free_setup_sql(db);
            return -1;
        }
    }
    return 0;
}

int udc_db_set_application_name(struct udc_db *db, const char *name)
{
    char *copy = strdup(name ? name : "");
    if (!copy)
        return -1;
    free(db->application_name);
    db->application_name = copy;
    return 0;
}

void udc_db_set_backoff(struct udc_db *db, uint32_t base_ms, uint32_t max_ms)
{
    udc_backoff_init(&db->backoff, base_ms, max_ms);
}

/* --- errors ------------------------------------------------------------------------------ */

void udc_db_clear_error(struct udc_db *db)
{
    db->err_kind = UDC_DB_ERR_NONE;
    db->sqlstate[0] = '\0';
    db->errmsg[0] = '\0';
}

/* The connection we had went away: say so once. */
static void note_lost(struct udc_db *db)
{
    if (db->link != UDC_DB_LINK_UP)
        return;
    char q[UDC_DB_ERRLEN + 8];
    udc_log_warn("database connection lost", "%s error=%s", db->target,
                 udc_log_quote(q, sizeof q, db->errmsg));
    db->link = UDC_DB_LINK_DOWN;
}

/* A connect attempt failed: say so once, then only at debug level until it works again. */
static void note_unavailable(struct udc_db *db, uint32_t retry_ms)
{
    char q[UDC_DB_ERRLEN + 8];
    udc_log(db->link == UDC_DB_LINK_DOWN ? UDC_LOG_DEBUG : UDC_LOG_WARN, "database unavailable",
            "%s retry_ms=%u error=%s", db->target, retry_ms,
            udc_log_quote(q, sizeof q, db->errmsg));
    db->link = UDC_DB_LINK_DOWN;
}

static void log_link_up(struct udc_db *db)
{
    if (db->link != UDC_DB_LINK_UP)
        udc_log_info("database connected", "%s", db->target);
    db->link = UDC_DB_LINK_UP;
}

static int sqlstate_is_connection(const char *s)
{
    /* 08: connection exception; 57P01-3: server shutting down / not accepting;
     * 25006: read-only transaction, i.e. we reached a standby after a failover. */
    return strncmp(s, "08", 2) == 0 || strcmp(s, "57P01") == 0 || strcmp(s, "57P02") == 0 ||
           strcmp(s, "57P03") == 0 || strcmp(s, "25006") == 0;
}

static int sqlstate_is_transient(const char *s)
{
    /* serialization failure, deadlock, statement timeout/cancel, lock timeout,
     * insufficient resources (53), system errors (58). */
    return strcmp(s, "40001") == 0 || strcmp(s, "40P01") == 0 || strcmp(s, "57014") == 0 ||
           strcmp(s, "55P03") == 0 || strncmp(s, "53", 2) == 0 || strncmp(s, "58", 2) == 0;
}

/* libpq messages end in newlines and may span lines ("FATAL:  ...\nDETAIL: ..."): flatten
 * every run of white space into one space. */
static void append_flat(char *dst, size_t size, const char *src)
{
    size_t o = strlen(dst);
    for (; *src && o + 1 < size; src++) {
        int white = *src == '\n' || *src == '\r' || *src == '\t' || *src == ' ';
        if (white && (o == 0 || dst[o - 1] == ' '))
            continue;
        dst[o++] = white ? ' ' : *src;
    }
    dst[o] = '\0';
}

static void set_message(struct udc_db *db, const char *what, const char *primary,
                        const char *detail)
{
    db->errmsg[0] = '\0';
    if (what && *what) {
        append_flat(db->errmsg, sizeof db->errmsg, what);
        append_flat(db->errmsg, sizeof db->errmsg, ": ");
    }
    append_flat(db->errmsg, sizeof db->errmsg, primary && *primary ? primary : "unknown error");
    if (detail && *detail) {
        append_flat(db->errmsg, sizeof db->errmsg, " (");
        append_flat(db->errmsg, sizeof db->errmsg, detail);
        append_flat(db->errmsg, sizeof db->errmsg, ")");
    }
    if (db->sqlstate[0]) {
        append_flat(db->errmsg, sizeof db->errmsg, " [SQLSTATE ");
        append_flat(db->errmsg, sizeof db->errmsg, db->sqlstate);
        append_flat(db->errmsg, sizeof db->errmsg, "]");
    }
    size_t len = strlen(db->errmsg);
    if (len > 0 && db->errmsg[len - 1] == ' ')
        db->errmsg[len - 1] = '\0';
    redact_secrets(db, db->errmsg, sizeof db->errmsg);
}

static void copy_out(const struct udc_db *db, char *err, size_t errlen)
{
    if (err && errlen)
        snprintf(err, errlen, "%s", db->errmsg);
}

void udc_db_fail_msg(struct udc_db *db, enum udc_db_error_kind kind, const char *msg, char *err,
                     size_t errlen)
{
    db->err_kind = kind;
    db->sqlstate[0] = '\0';
    set_message(db, NULL, msg, NULL);
    if (kind == UDC_DB_ERR_CONNECTION) {
        db->broken = 1;
        note_lost(db);
    }
    copy_out(db, err, errlen);
}

void udc_db_fail(struct udc_db *db, const PGresult *res, const char *what, char *err, size_t errlen)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    snprintf(db->sqlstate, sizeof db->sqlstate, "%s", state ? state : "");
    const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    const char *detail = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : NULL;
    char status_msg[96];
    if (!primary && res && PQresultStatus(res) != PGRES_FATAL_ERROR &&
        PQresultStatus(res) != PGRES_NONFATAL_ERROR) {
        /* The statement ran but did not return what the caller expected. */
        snprintf(status_msg, sizeof status_msg, "unexpected result %s",
                 PQresStatus(PQresultStatus(res)));
        primary = status_msg;
    }
    if (!primary)
        primary = db->conn ? PQerrorMessage(db->conn) : "not connected";
    set_message(db, what, primary, detail);

    int conn_bad = !db->conn || PQstatus(db->conn) != CONNECTION_OK;
    if (conn_bad || sqlstate_is_connection(db->sqlstate) || (!res && !db->sqlstate[0]))
        db->err_kind = UDC_DB_ERR_CONNECTION;
    else if (sqlstate_is_transient(db->sqlstate))
        db->err_kind = UDC_DB_ERR_TRANSIENT;
    else
        db->err_kind = UDC_DB_ERR_STATEMENT;
    if (db->err_kind == UDC_DB_ERR_CONNECTION) {
        db->broken = 1;
        note_lost(db);
    }
    copy_out(db, err, errlen);
}

enum udc_db_error_kind udc_db_last_error_kind(const struct udc_db *db)
{
    return db->err_kind;
}

int udc_db_error_is_connection(const struct udc_db *db)
{
    return db->err_kind == UDC_DB_ERR_CONNECTION;
}

const char *udc_db_last_sqlstate(const struct udc_db *db)
{
    return db->sqlstate;
}

const char *udc_db_last_error(const struct udc_db *db)
{
    return db->errmsg;
}

PGconn *udc_db_conn(struct udc_db *db)
{
    return db->conn;
}

/* --- connecting -------------------------------------------------------------------------- */

void udc_db_disconnect(struct udc_db *db)
{
    udc_db_copy_reset(db);
    db->in_flight = 0;
    if (db->conn)
        PQfinish(db->conn);
    db->conn = NULL;
    db->broken = 0;
    if (db->link == UDC_DB_LINK_UP)
        db->link = UDC_DB_LINK_NEVER; /* on purpose: not worth a warning */
}

int udc_db_is_ok(const struct udc_db *db)
{
    return db->conn && !db->broken && PQstatus(db->conn) == CONNECTION_OK;
}

/* Run one command on a fresh connection; what names it in the error. */
static int run_setup(struct udc_db *db, const char *sql, const char *what)
{
    PGresult *res = PQexec(db->conn, sql);
    ExecStatusType st = PQresultStatus(res);
    int ok = res && (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK);
    if (!ok)
        udc_db_fail(db, res, what, NULL, 0);
    PQclear(res);
    return ok ? 0 : -1;
}

static int prepare_session(struct udc_db *db)
{
    /* One round trip for both. client_connection_check_interval: a daemon killed in the
     * middle of a statement would otherwise leave it running (and holding its locks) until
     * it finished or timed out, since the backend notices a closed client only when it
     * writes; with this it checks the socket every second while it works. */
    char sql[128];
    int n = snprintf(sql, sizeof sql, "SET client_connection_check_interval = 1000");
    if (db->statement_timeout_ms > 0)
        snprintf(sql + n, sizeof sql - (size_t)n, "; SET statement_timeout = %d",
                 db->statement_timeout_ms);
    if (run_setup(db, sql, "session settings") != 0)
        return -1;
    for (size_t i = 0; i < db->nsetup; i++)
        if (run_setup(db, db->setup_sql[i], "setup sql") != 0)
            return -1;
    for (size_t i = 0; i < db->nstmts; i++) {
        const struct udc_db_statement *s = &db->stmts[i];
        PGresult *res = PQprepare(db->conn, s->name, s->sql, 0, NULL);
        int ok = res && PQresultStatus(res) == PGRES_COMMAND_OK;
        if (!ok)
            udc_db_fail(db, res, s->name, NULL, 0);
        PQclear(res);
        if (!ok)
            return -1;
    }
    return 0;
}

/* 1 when the URL itself sets keyword (then our default must not override it). */
static int url_sets(const char *url, const char *keyword)
{
    int set = 0;
    PQconninfoOption *opts = PQconninfoParse(url, NULL);
    for (PQconninfoOption *o = opts; o && o->keyword; o++)
        if (strcmp(o->keyword, keyword) == 0 && o->val && *o->val)
            set = 1;
    PQconninfoFree(opts);
    return set;
}

static int open_connection(struct udc_db *db)
{
    /* Keepalives and tcp_user_timeout notice a silently dead peer in about a minute instead
     * of the kernel's two hours; the URL may say otherwise. */
    static const char *const tcp_defaults[][2] = {{"keepalives_idle", "30"},
                                                  {"keepalives_interval", "10"},
                                                  {"keepalives_count", "3"},
                                                  {"tcp_user_timeout", "30000"}};
    const size_t ntcp = sizeof tcp_defaults / sizeof tcp_defaults[0];
    char timeout[16];
    snprintf(timeout, sizeof timeout, "%d", db->connect_timeout_s);
    /* dbname first: with expand_dbname its URL fills in everything, and the later keywords
     * (our configuration) override what the URL says. */
    const char *keys[4 + 4 + 1] = {"dbname", "application_name", "connect_timeout",
                                   "client_encoding"};
    const char *vals[4 + 4 + 1] = {db->url, db->application_name,
                                   db->connect_timeout_s > 0 ? timeout : NULL, "UTF8"};
    size_t n = 4;
    for (size_t i = 0; i < ntcp; i++) {
        if (url_sets(db->url, tcp_defaults[i][0]))
            continue;
        keys[n] = tcp_defaults[i][0];
        vals[n++] = tcp_defaults[i][1];
    }
    keys[n] = vals[n] = NULL;
    db->conn = PQconnectdbParams(keys, vals, 1);
    if (!db->conn) {
        udc_db_fail_msg(db, UDC_DB_ERR_CONNECTION, "out of memory", NULL, 0);
        return -1;
    }
    if (PQstatus(db->conn) != CONNECTION_OK) {
        db->sqlstate[0] = '\0';
        set_message(db, "connect", PQerrorMessage(db->conn), NULL);
        db->err_kind = UDC_DB_ERR_CONNECTION;
        return -1;
    }
    return prepare_session(db);
}

int udc_db_connect(struct udc_db *db, char *err, size_t errlen)
{
    udc_db_disconnect(db);
    udc_db_clear_error(db);
    if (open_connection(db) != 0) {
        note_unavailable(db, udc_backoff_fail(&db->backoff, udc_now_ms()));
        if (db->conn)
            PQfinish(db->conn);
        db->conn = NULL;
        db->broken = 0;
        copy_out(db, err, errlen);
        return -1;
    }
    udc_backoff_reset(&db->backoff);
    log_link_up(db);
    return 0;
}

int udc_db_ensure(struct udc_db *db)
{
    if (udc_db_is_ok(db))
        return 0;
    if (db->conn && db->link == UDC_DB_LINK_UP) {
        /* Broken without a failed call of ours noticing (e.g. PQstatus went bad). */
        if (!db->errmsg[0])
            set_message(db, NULL, PQerrorMessage(db->conn), NULL);
        note_lost(db);
    }
    if (!udc_backoff_ready(&db->backoff, udc_now_ms()))
        return -1;
    return udc_db_connect(db, NULL, 0);
}

uint32_t udc_db_retry_in_ms(const struct udc_db *db)
{
    uint64_t now = udc_now_ms();
    return db->backoff.next_at_ms > now ? (uint32_t)(db->backoff.next_at_ms - now) : 0;
}

/* --- statements -------------------------------------------------------------------------- */

static int check_usable(struct udc_db *db, char *err, size_t errlen)
{
    if (!udc_db_is_ok(db)) {
        udc_db_fail_msg(db, UDC_DB_ERR_CONNECTION, "not connected", err, errlen);
        return -1;
    }
    if (db->in_copy) {
        udc_db_fail_msg(db, UDC_DB_ERR_STATEMENT, "COPY in progress", err, errlen);
        return -1;
    }
    if (db->in_flight) {
        udc_db_fail_msg(db, UDC_DB_ERR_STATEMENT, "a sent statement's result is not read yet", err,
                        errlen);
        return -1;
    }
    return 0;
}

static const struct udc_db_statement *find_statement(const struct udc_db *db, const char *name)
{
    for (size_t i = 0; i < db->nstmts; i++)
        if (strcmp(db->stmts[i].name, name) == 0)
            return &db->stmts[i];
    return NULL;
}

PGresult *udc_db_exec_prepared(struct udc_db *db, const char *name, int nparams,
                               const char *const *values, const int *lengths, const int *formats,
                               int expect, char *err, size_t errlen)
{
    if (check_usable(db, err, errlen) != 0)
        return NULL;
    const struct udc_db_statement *s = find_statement(db, name);
    if (!s || s->nparams != nparams) {
        char msg[160];
        snprintf(msg, sizeof msg, s ? "%s: takes %d parameters, given %d" : "%s: no such statement",
                 name, s ? s->nparams : 0, nparams);
        udc_db_fail_msg(db, UDC_DB_ERR_STATEMENT, msg, err, errlen);
        return NULL;
    }
    PGresult *res = PQexecPrepared(db->conn, name, nparams, values, lengths, formats, 0);
    if (res && PQresultStatus(res) == (ExecStatusType)expect) {
        udc_db_clear_error(db);
        return res;
    }
    udc_db_fail(db, res, name, err, errlen);
    PQclear(res);
    return NULL;
}

int udc_db_send_prepared(struct udc_db *db, const char *name, int nparams,
                         const char *const *values, char *err, size_t errlen)
{
    if (check_usable(db, err, errlen) != 0)
        return -1;
    const struct udc_db_statement *s = find_statement(db, name);
    if (!s || s->nparams != nparams) {
        udc_db_fail_msg(db, UDC_DB_ERR_STATEMENT, "no such statement, or wrong parameters", err,
                        errlen);
        return -1;
    }
    if (!PQsendQueryPrepared(db->conn, name, nparams, values, NULL, NULL, 0)) {
        udc_db_fail(db, NULL, name, err, errlen);
        return -1;
    }
    db->in_flight = 1;
    return 0;
}

int udc_db_in_flight(const struct udc_db *db)
{
    return db->in_flight;
}

int udc_db_socket(const struct udc_db *db)
{
    return db->conn ? PQsocket(db->conn) : -1;
}

int udc_db_poll_result(struct udc_db *db, int expect, PGresult **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!db->in_flight || !db->conn) {
        db->in_flight = 0;
        udc_db_fail_msg(db, UDC_DB_ERR_CONNECTION, "no statement in flight", err, errlen);
        return -1;
    }
    if (!PQconsumeInput(db->conn)) {
        db->in_flight = 0;
        udc_db_fail(db, NULL, "reading a result", err, errlen);
        return -1;
    }
    if (PQisBusy(db->conn))
        return 1;
    PGresult *res = PQgetResult(db->conn), *more;
    while ((more = PQgetResult(db->conn)) != NULL) /* the end of this statement's results */
        PQclear(more);
    db->in_flight = 0;
    if (res && PQresultStatus(res) == (ExecStatusType)expect) {
        udc_db_clear_error(db);
        *out = res;
        return 0;
    }
    udc_db_fail(db, res, "statement", err, errlen);
    PQclear(res);
    return -1;
}

/* Run a parameterless command; returns the result for callers that inspect it. */
static PGresult *exec_command(struct udc_db *db, const char *sql, char *err, size_t errlen)
{
    if (check_usable(db, err, errlen) != 0)
        return NULL;
    PGresult *res = PQexec(db->conn, sql);
    ExecStatusType st = PQresultStatus(res);
    if (res && (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)) {
        udc_db_clear_error(db);
        return res;
    }
    udc_db_fail(db, res, sql, err, errlen);
    PQclear(res);
    return NULL;
}

int udc_db_exec(struct udc_db *db, const char *sql, char *err, size_t errlen)
{
    PGresult *res = exec_command(db, sql, err, errlen);
    PQclear(res);
    return res ? 0 : -1;
}

int udc_db_begin(struct udc_db *db, char *err, size_t errlen)
{
    return udc_db_exec(db, "BEGIN", err, errlen);
}

int udc_db_commit(struct udc_db *db, char *err, size_t errlen)
{
    PGresult *res = exec_command(db, "COMMIT", err, errlen);
    if (!res)
        return -1;
    /* COMMIT of a transaction that already failed succeeds as a command but rolls back. */
    int committed = strcmp(PQcmdStatus(res), "COMMIT") == 0;
    PQclear(res);
    if (!committed) {
        udc_db_fail_msg(db, UDC_DB_ERR_STATEMENT,
                        "COMMIT: transaction had failed and was rolled back", err, errlen);
        return -1;
    }
    return 0;
}

int udc_db_rollback(struct udc_db *db, char *err, size_t errlen)
{
    if (db->in_copy)
        udc_db_copy_abort(db, "rolled back");
    if (!udc_db_is_ok(db) || PQtransactionStatus(db->conn) == PQTRANS_IDLE)
        return 0; /* a lost connection took its transaction with it */
    return udc_db_exec(db, "ROLLBACK", err, errlen);
}

int udc_db_ping(struct udc_db *db)
{
    PGresult *res = exec_command(db, "SELECT 1", NULL, 0);
    PQclear(res);
    return res ? 0 : -1;
}
