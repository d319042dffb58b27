/* itest.h — what integration tests share: the throwaway stack's addresses (environment set
 * by scripts/test from run/env), database queries, scripts, and waiting for a condition.
 *
 * Every function fails the running check test (ck_abort) rather than returning an error:
 * an integration test cannot go on without its servers.
 */
#ifndef UDC_TEST_ITEST_H
#define UDC_TEST_ITEST_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

/* The variable's value; fails the test when it is unset (tests never skip). */
const char *itest_env(const char *name);

/* A new connection to $UDC_DB_URL (caller PQfinish-es it). */
PGconn *itest_db(void);
/* The first column of the first row of a parameterised query, as a long long. */
long long itest_db_value(PGconn *db, const char *sql, int nparams, const char *const *params);
/* Runs a statement, failing the test on error. */
void itest_db_exec(PGconn *db, const char *sql, int nparams, const char *const *params);

/* Runs a shell command from the repository root (where scripts/test runs us); returns its
 * exit status. Output goes to the test's stderr. */
int itest_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Polls cond(ctx) every 100 ms until it returns non-zero or timeout_ms passes; returns
 * the last value of cond. */
int itest_wait(int (*cond)(void *ctx), void *ctx, int timeout_ms);

/* GET url until it answers 200 (e.g. a daemon's /ready) or timeout; 1 when it did. */
int itest_wait_http_ok(const char *url, int timeout_ms);

/* One series of the Prometheus text at base_url + "/metrics": series is a name, or a name
 * with its labels as rendered ('udc_x_bucket{le="0.25"}'). Returns 0 with *value set, 1 when
 * the series is absent, -1 when the request failed or did not answer 200. */
int itest_metric(const char *base_url, const char *series, double *value);

/* A canonical random v4 UUID. */
void itest_uuid(char out[37]);

/* Postgres array literal '{a,b,...}' of n strings (caller frees). */
char *itest_pg_array(char *const *items, size_t n);

#endif
