/* pairs.h — the connector's SQL: pairing rows into the `connection` table.
 *
 * A pair is two locations of different people within radius_m metres (geodesic) and
 * window_min minutes; both directions are stored, and the primary key makes every statement
 * here idempotent.
 */
#ifndef UDC_CONNECTOR_PAIRS_H
#define UDC_CONNECTOR_PAIRS_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"

extern const struct udc_db_statement pairs_statements[];
extern const size_t pairs_statement_count;
/* SQL for every (re)connect of the connector's session (udc_db_set_setup_sql). */
extern const char *const pairs_session_setup[];
extern const size_t pairs_session_setup_count;

/* Pairs the given rows with every row of another person, in one transaction. Returns the
 * number of connection rows inserted (0 on a redelivery), or -1 with err. */
long long pairs_for_rows(struct udc_db *db, const int64_t *ids, size_t n, double radius_m,
                         int window_min, char *err, size_t errlen);

/* Pairs the next chunk of rows after the recorded backfill progress and records the new
 * progress, in one transaction. *upto is the last location id of the chunk (0 when nothing
 * was left). Returns pairs inserted, or -1 with err. */
long long pairs_backfill_chunk(struct udc_db *db, int chunk, double radius_m, int window_min,
                               int64_t *upto, char *err, size_t errlen);

#endif
