/* itest.c — see itest.h. */
#include "itest.h"

#include <check.h>
#include <stdarg.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "httpc.h"
#include "uuid.h"

const char *itest_env(const char *name)
{
    const char *value = getenv(name);
    if (!value || !*value)
        ck_abort_msg("%s is not set: run integration tests through `make test`", name);
    return value;
}

PGconn *itest_db(void)
{
    PGconn *db = PQconnectdb(itest_env("UDC_DB_URL"));
    if (PQstatus(db) != CONNECTION_OK)
        ck_abort_msg("cannot connect to the database: %s", PQerrorMessage(db));
    return db;
}

long long itest_db_value(PGconn *db, const char *sql, int nparams, const char *const *params)
{
    PGresult *res = PQexecParams(db, sql, nparams, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) < 1)
        ck_abort_msg("query failed: %s: %s", sql, PQerrorMessage(db));
    long long v = PQgetisnull(res, 0, 0) ? 0 : strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return v;
}

void itest_db_exec(PGconn *db, const char *sql, int nparams, const char *const *params)
{
    PGresult *res = PQexecParams(db, sql, nparams, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        ck_abort_msg("statement failed: %s: %s", sql, PQerrorMessage(db));
    PQclear(res);
}

int itest_sh(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    fflush(NULL);
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

int itest_wait(int (*cond)(void *ctx), void *ctx, int timeout_ms)
{
    struct timespec pause = {0, 100 * 1000 * 1000};
    for (int waited = 0;; waited += 100) {
        int v = cond(ctx);
        if (v || waited >= timeout_ms)
            return v;
        nanosleep(&pause, NULL);
    }
}

static int http_ok(void *url)
{
    struct httpc_response r;
    int ok = httpc_request("GET", url, NULL, NULL, 0, &r) == 0 && r.status == 200;
    httpc_response_free(&r);
    return ok;
}

int itest_wait_http_ok(const char *url, int timeout_ms)
{
    return itest_wait(http_ok, (void *)url, timeout_ms);
}

int itest_metric(const char *base_url, const char *series, double *value)
{
    char url[512];
    snprintf(url, sizeof url, "%s/metrics", base_url);
    struct httpc_response r;
    if (httpc_request("GET", url, NULL, NULL, 0, &r) != 0 || r.status != 200 || !r.body) {
        httpc_response_free(&r);
        return -1;
    }
    int rc = 1;
    size_t n = strlen(series);
    for (const char *line = r.body; line && *line; line = strchr(line, '\n')) {
        if (*line == '\n')
            line++;
        if (strncmp(line, series, n) == 0 && line[n] == ' ') {
            *value = strtod(line + n + 1, NULL);
            rc = 0;
            break;
        }
    }
    httpc_response_free(&r);
    return rc;
}

void itest_uuid(char out[37])
{
    ck_assert_int_eq(udc_uuid_v4(out), 0);
}

char *itest_pg_array(char *const *items, size_t n)
{
    size_t len = 3;
    for (size_t i = 0; i < n; i++)
        len += strlen(items[i]) + 1;
    char *buf = malloc(len);
    ck_assert_ptr_nonnull(buf);
    char *p = buf;
    *p++ = '{';
    for (size_t i = 0; i < n; i++) {
        if (i)
            *p++ = ',';
        size_t l = strlen(items[i]);
        memcpy(p, items[i], l);
        p += l;
    }
    *p++ = '}';
    *p = '\0';
    return buf;
}
