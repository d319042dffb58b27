/* db_pool.c — a fixed set of connections shared by worker threads. See db.h. */
#include "db_private.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

struct udc_db_pool {
    pthread_mutex_t mu;
    pthread_cond_t freed; /* signalled whenever a connection goes back on the free list */
    struct udc_db **all;
    struct udc_db **free; /* a stack: the most recently used, warmest connection goes first */
    size_t size;
    size_t nfree;
    char last_error[UDC_DB_ERRLEN];
};

struct udc_db_pool *udc_db_pool_new(const char *url, const struct udc_db_statement *stmts, size_t n,
                                    size_t size, int connect_timeout_s, int statement_timeout_ms)
{
    if (size == 0)
        return NULL;
    struct udc_db_pool *pool = calloc(1, sizeof *pool);
    if (!pool)
        return NULL;
    pool->all = calloc(size, sizeof *pool->all);
    pool->free = calloc(size, sizeof *pool->free);
    pthread_condattr_t attr;
    int cond_ok = pthread_condattr_init(&attr) == 0;
    cond_ok = cond_ok && pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) == 0 &&
              pthread_cond_init(&pool->freed, &attr) == 0;
    pthread_condattr_destroy(&attr);
    if (!pool->all || !pool->free || !cond_ok || pthread_mutex_init(&pool->mu, NULL) != 0) {
        if (cond_ok)
            pthread_cond_destroy(&pool->freed);
        free(pool->all);
        free(pool->free);
        free(pool);
        return NULL;
    }
    for (size_t i = 0; i < size; i++) {
        pool->all[i] = udc_db_new(url, stmts, n, connect_timeout_s, statement_timeout_ms);
        if (!pool->all[i]) {
            udc_db_pool_free(pool);
            return NULL;
        }
        pool->size = i + 1;
        pool->free[pool->nfree++] = pool->all[i];
    }
    return pool;
}

void udc_db_pool_free(struct udc_db_pool *pool)
{
    if (!pool)
        return;
    if (pool->nfree != pool->size)
        udc_log_error("database pool freed with connections in use", "in_use=%zu",
                      pool->size - pool->nfree);
    for (size_t i = 0; i < pool->size; i++)
        udc_db_free(pool->all[i]);
    pthread_cond_destroy(&pool->freed);
    pthread_mutex_destroy(&pool->mu);
    free(pool->all);
    free(pool->free);
    free(pool);
}

int udc_db_pool_set_setup_sql(struct udc_db_pool *pool, const char *const *sql, size_t n)
{
    for (size_t i = 0; i < pool->size; i++)
        if (udc_db_set_setup_sql(pool->all[i], sql, n) != 0)
            return -1;
    return 0;
}

int udc_db_pool_set_application_name(struct udc_db_pool *pool, const char *name)
{
    for (size_t i = 0; i < pool->size; i++)
        if (udc_db_set_application_name(pool->all[i], name) != 0)
            return -1;
    return 0;
}

static struct timespec deadline_after(int timeout_ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += timeout_ms / 1000;
    ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

static void put_back(struct udc_db_pool *pool, struct udc_db *db)
{
    pthread_mutex_lock(&pool->mu);
    pool->free[pool->nfree++] = db;
    pthread_cond_signal(&pool->freed);
    pthread_mutex_unlock(&pool->mu);
}

struct udc_db *udc_db_pool_acquire(struct udc_db_pool *pool, int timeout_ms)
{
    struct timespec deadline = deadline_after(timeout_ms < 0 ? 0 : timeout_ms);
    pthread_mutex_lock(&pool->mu);
    int rc = 0;
    while (pool->nfree == 0 && rc != ETIMEDOUT) {
        if (timeout_ms < 0)
            pthread_cond_wait(&pool->freed, &pool->mu);
        else
            rc = pthread_cond_timedwait(&pool->freed, &pool->mu, &deadline);
    }
    if (pool->nfree == 0) {
        snprintf(pool->last_error, sizeof pool->last_error, "timeout");
        pthread_mutex_unlock(&pool->mu);
        return NULL;
    }
    struct udc_db *db = pool->free[--pool->nfree];
    pthread_mutex_unlock(&pool->mu);

    /* Reconnect outside the lock: it may take up to connect_timeout. */
    if (udc_db_ensure(db) == 0)
        return db;
    pthread_mutex_lock(&pool->mu);
    snprintf(pool->last_error, sizeof pool->last_error, "%s",
             db->errmsg[0] ? db->errmsg : "database unavailable");
    pthread_mutex_unlock(&pool->mu);
    put_back(pool, db);
    return NULL;
}

static int is_member(const struct udc_db_pool *pool, const struct udc_db *db)
{
    for (size_t i = 0; i < pool->size; i++)
        if (pool->all[i] == db)
            return 1;
    return 0;
}

void udc_db_pool_release(struct udc_db_pool *pool, struct udc_db *db)
{
    if (!db)
        return;
    if (!is_member(pool, db)) {
        udc_log_error("database pool: release of a foreign connection", "%s", "ignored=1");
        return;
    }
    /* Leave no state behind for the next user of this connection. */
    if (db->in_copy)
        udc_db_copy_abort(db, "connection released");
    if (udc_db_is_ok(db)) {
        PGTransactionStatusType ts = PQtransactionStatus(db->conn);
        if (ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR) {
            if (udc_db_rollback(db, NULL, 0) != 0)
                udc_db_disconnect(db);
        } else if (ts != PQTRANS_IDLE) {
            udc_db_disconnect(db);
        }
    }
    put_back(pool, db);
}

void udc_db_pool_stats(struct udc_db_pool *pool, size_t *in_use, size_t *size)
{
    pthread_mutex_lock(&pool->mu);
    if (in_use)
        *in_use = pool->size - pool->nfree;
    if (size)
        *size = pool->size;
    pthread_mutex_unlock(&pool->mu);
}

void udc_db_pool_last_error(struct udc_db_pool *pool, char *buf, size_t size)
{
    if (!buf || size == 0)
        return;
    pthread_mutex_lock(&pool->mu);
    snprintf(buf, size, "%s", pool->last_error);
    pthread_mutex_unlock(&pool->mu);
}
