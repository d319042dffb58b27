/* connection_queries.h — the statements behind GET /api/persons/{id}/connection.
 *
 * The first three answer the whole question. They take the same parameters and return the
 * same columns, one row per connected person sorted by person id:
 *   $1 person id, $2 start (µs since the epoch, start_date 00:00 UTC), $3 end (µs, end_date
 *   00:00 UTC), $4 distance in metres, $5 window in minutes (ignored by CONNECTIONS_POC),
 *   $6 only people with a greater id (the page cursor; 0 for the first page), $7 limit or NULL.
 * The person's pings count in [$2, $3), the others' in [$2, $3 + 1 day) — the POC's rule.
 * The API answers most questions with the faster statements after them (see the comment at
 * the top of connection_queries.c).
 */
#ifndef UDC_API_CONNECTION_QUERIES_H
#define UDC_API_CONNECTION_QUERIES_H

#include <stddef.h>

#include "db.h"

#define CONNECTIONS_POC         "connections_poc"
#define CONNECTIONS_LIVE        "connections_live"
#define CONNECTIONS_PRECOMPUTED "connections_precomputed"

/* The POC question in C (connection_scan.h), in this order; parameters and columns are
 * described at each statement in connection_queries.c. OWN and NEAR answer in binary. */
#define CONNECTIONS_OWN       "connections_own"
#define CONNECTIONS_NEAR      "connections_near"
#define CONNECTIONS_WITHIN    "connections_within"
#define CONNECTIONS_DISTANCES "connections_distances"
#define CONNECTIONS_PERSONS   "connections_persons"
/* CONNECTIONS_PRECOMPUTED's pairs per other ping, summed up by the API, then its people. */
#define CONNECTIONS_PAIRS  "connections_pairs"
#define CONNECTIONS_PEOPLE "connections_people"

/* Result columns of the first three. */
enum {
    CONN_COL_PERSON = 0,        /* 4 columns: id, first_name, last_name, company_name */
    CONN_COL_LOCATION = 4,      /* 5 columns: the other's earliest matching ping */
    CONN_COL_FIRST_SEEN = 9,    /* µs */
    CONN_COL_LAST_SEEN = 10,    /* µs */
    CONN_COL_MIN_DISTANCE = 11, /* metres */
    CONN_COL_COUNT = 12,        /* the other's distinct matching pings */
};

extern const struct udc_db_statement connection_statements[];
extern const size_t connection_statement_count;

/* Session settings these statements need (run on every connect, udc_db_set_setup_sql):
 * JIT off — the planner's row estimates for the spatial joins are far too high, so JIT
 * compiled them every time: about 1 s of compilation on a query that runs in 0.2–1 s. */
extern const char *const connection_session_setup[];
extern const size_t connection_session_setup_count;

#endif
