/* store.h — writing a batch of pings to the location table in one transaction.
 *
 * Idempotent on event_id: a ping whose event_id is already stored is not inserted again,
 * but its row id is still reported, so a redelivered batch gets its location.stored events
 * published like the first time. A ping of an unknown person is reported as such (for the
 * dead-letter queue) and does not stop the others.
 */
#ifndef UDC_WRITER_STORE_H
#define UDC_WRITER_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "location.h"

enum store_verdict {
    STORE_STORED,         /* row_id is the row (new or already there) */
    STORE_UNKNOWN_PERSON, /* person_id names nobody: dead-letter it */
};

struct store_result {
    enum store_verdict verdict;
    int64_t row_id;
    int inserted; /* 1: this call inserted the row; 0: it was there already */
};

enum store_status {
    STORE_OK,
    STORE_DB_DOWN,  /* connection lost or transient failure: keep the batch, retry later */
    STORE_REJECTED, /* the database refused the data (a statement error): isolate it */
    STORE_CONFLICT, /* deadlock or serialization failure with a concurrent transaction:
                       rolled back, nothing is wrong with the data; send it again at once */
};

/* The status for a failed statement: its error kind and SQLSTATE (udc_db_last_*). */
enum store_status store_status_for(enum udc_db_error_kind kind, const char *sqlstate);

/* The writer's prepared statements, for udc_db_new(). */
extern const struct udc_db_statement store_statements[];
extern const size_t store_statement_count;

/* Inserts n pings in one transaction; results[i] for items[i]. On STORE_OK the transaction
 * is committed. Otherwise it is rolled back and err says why. Waits for the outcome. */
enum store_status store_batch(struct udc_db *db, const struct udc_location *items, size_t n,
                              struct store_result *results, char *err, size_t errlen);

/* The same in two halves, so that the caller can work while the database does:
 * store_send() sends the statement (STORE_OK, or the failure). Then store_poll() whenever
 * udc_db_socket() is readable: 1 while the statement runs; 0 when done, with *status and
 * (on STORE_OK, the rows committed) results[i] for items[i]. items must stay as they were
 * in between. */
enum store_status store_send(struct udc_db *db, const struct udc_location *items, size_t n,
                             char *err, size_t errlen);
int store_poll(struct udc_db *db, const struct udc_location *items, size_t n,
               struct store_result *results, enum store_status *status, char *err, size_t errlen);

#endif
