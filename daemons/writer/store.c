/* store.c — see store.h.
 *
 * One round trip per batch: the pings travel as six parallel arrays, unnest() turns them
 * back into rows, and a single statement inserts the new ones and reports every ping's row
 * id. Arrays instead of COPY keep the statement prepared and the batch one statement, which
 * is its own transaction (no BEGIN/COMMIT round trips), and can be sent without waiting.
 */
#include "store.h"

#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "strbuf.h"

#define STMT_STORE  "writer_store"
#define STMT_LOOKUP "writer_lookup"

/* Rows are inserted in event_id order, not in the batch's order: two statements in flight
 * that share event ids (a redelivery next to the first delivery, two writers) then take the
 * unique index's entries in the same order, and one waits for the other instead of both
 * deadlocking. The row ids of a batch follow event_id order; nothing relies on row ids
 * following the pings' order (the API orders by creation_time, ids only break ties).
 *
 * Pings stored before (redeliveries, repeated requests) are not in "inserted": they come
 * back with a NULL id and are looked up by STMT_LOOKUP, under a fresh snapshot that also
 * sees rows a concurrent transaction committed after this statement's. Joining location
 * here instead would cost an index probe per ping on every batch for what is rare. */
const struct udc_db_statement store_statements[] = {
    {STMT_STORE,
     "WITH input AS ("
     "  SELECT * FROM unnest($1::uuid[], $2::int[], $3::float8[], $4::float8[], $5::int8[],"
     "                       $6::text[])"
     "    WITH ORDINALITY AS t(event_id, person_id, longitude, latitude, created_us, source, idx)"
     "), inserted AS ("
     "  INSERT INTO location (event_id, person_id, coordinate, creation_time, source)"
     "  SELECT i.event_id, i.person_id,"
     "         ST_SetSRID(ST_MakePoint(i.longitude, i.latitude), 4326)::geography,"
     "         timestamptz 'epoch' + i.created_us * interval '1 microsecond', i.source"
     "    FROM input i JOIN person p ON p.id = i.person_id"
     "   ORDER BY i.event_id"
     "  ON CONFLICT (event_id) DO NOTHING"
     "  RETURNING id, event_id"
     ")"
     "SELECT i.idx, ins.id, p.id IS NOT NULL, ins.id IS NOT NULL"
     "  FROM input i"
     "  LEFT JOIN inserted ins ON ins.event_id = i.event_id"
     "  LEFT JOIN person p ON p.id = i.person_id"
     " ORDER BY i.idx",
     6},
    /* One row per array position found: 1-based position, row id. */
    {STMT_LOOKUP,
     "SELECT t.idx, l.id FROM unnest($1::uuid[]) WITH ORDINALITY AS t(event_id, idx)"
     "  JOIN location l ON l.event_id = t.event_id",
     1},
};
const size_t store_statement_count = sizeof store_statements / sizeof store_statements[0];

/* Builds the six array literals. Every value was validated by the codec (UUIDs, finite
 * numbers, sources of [A-Za-z0-9._:@/-]), so none needs quoting; sources are quoted anyway. */
static int build_arrays(const struct udc_location *items, size_t n, struct udc_strbuf arrays[6])
{
    for (int a = 0; a < 6; a++)
        if (udc_strbuf_printf(&arrays[a], "{") != 0)
            return -1;
    for (size_t i = 0; i < n; i++) {
        const char *sep = i ? "," : "";
        const struct udc_location *l = &items[i];
        if (udc_strbuf_printf(&arrays[0], "%s%s", sep, l->event_id) ||
            udc_strbuf_printf(&arrays[1], "%s%" PRId32, sep, l->person_id) ||
            udc_strbuf_printf(&arrays[2], "%s%.17g", sep, l->longitude) ||
            udc_strbuf_printf(&arrays[3], "%s%.17g", sep, l->latitude) ||
            udc_strbuf_printf(&arrays[4], "%s%" PRId64, sep, l->creation_time_us) ||
            udc_strbuf_printf(&arrays[5], "%s\"%s\"", sep, l->source))
            return -1;
    }
    for (int a = 0; a < 6; a++)
        if (udc_strbuf_printf(&arrays[a], "}") != 0)
            return -1;
    return 0;
}

enum store_status store_status_for(enum udc_db_error_kind kind, const char *sqlstate)
{
    if (kind == UDC_DB_ERR_STATEMENT)
        return STORE_REJECTED;
    if (kind == UDC_DB_ERR_TRANSIENT && sqlstate &&
        (strcmp(sqlstate, "40P01") == 0 || strcmp(sqlstate, "40001") == 0))
        return STORE_CONFLICT;
    return STORE_DB_DOWN;
}

static enum store_status failure_status(struct udc_db *db)
{
    return store_status_for(udc_db_last_error_kind(db), udc_db_last_sqlstate(db));
}

/* Fills the ids that the main statement could not see (see STMT_LOOKUP). */
static enum store_status lookup_missing(struct udc_db *db, const struct udc_location *items,
                                        size_t n, struct store_result *results, char *err,
                                        size_t errlen)
{
    struct udc_strbuf ids = UDC_STRBUF_INIT;
    size_t missing = 0;
    size_t *positions = malloc((n ? n : 1) * sizeof *positions); /* array position → item */
    enum store_status status = STORE_OK;

    if (!positions)
        goto oom;
    for (size_t i = 0; i < n; i++) {
        if (results[i].verdict == STORE_STORED && results[i].row_id == 0) {
            if (udc_strbuf_printf(&ids, "%s%s", missing ? "," : "{", items[i].event_id) != 0)
                goto oom;
            positions[missing++] = i;
        }
    }
    if (missing == 0) {
        free(positions);
        return STORE_OK;
    }
    if (udc_strbuf_printf(&ids, "}") != 0)
        goto oom;
    const char *values[1] = {ids.data};
    PGresult *res =
        udc_db_exec_prepared(db, STMT_LOOKUP, 1, values, NULL, NULL, PGRES_TUPLES_OK, err, errlen);
    udc_strbuf_free(&ids);
    if (!res) {
        free(positions);
        return failure_status(db);
    }
    for (int r = 0; r < PQntuples(res); r++) {
        size_t k = (size_t)strtoull(PQgetvalue(res, r, 0), NULL, 10) - 1;
        if (k < missing)
            results[positions[k]].row_id = strtoll(PQgetvalue(res, r, 1), NULL, 10);
    }
    free(positions);
    PQclear(res);
    for (size_t i = 0; i < n; i++) {
        if (results[i].verdict == STORE_STORED && results[i].row_id == 0) {
            snprintf(err, errlen, "event_id %s neither inserted nor found", items[i].event_id);
            status = STORE_DB_DOWN; /* a race we cannot explain: retry the whole batch */
        }
    }
    return status;
oom:
    udc_strbuf_free(&ids);
    free(positions);
    snprintf(err, errlen, "out of memory");
    return STORE_DB_DOWN;
}

struct row_position {
    int64_t row_id;
    size_t position;
};

static int by_row_then_position(const void *a, const void *b)
{
    const struct row_position *x = a, *y = b;
    if (x->row_id != y->row_id)
        return x->row_id < y->row_id ? -1 : 1;
    return (x->position > y->position) - (x->position < y->position);
}

/* A ping sent twice in one batch maps both copies to the one row inserted: only the first
 * copy counts as inserted. Sorting positions by row id finds the copies in O(n log n) (a
 * pairwise scan was quadratic: seconds for the large batches that batched messages make). */
static int forget_repeated_inserts(struct store_result *results, size_t n)
{
    struct row_position *order = malloc((n ? n : 1) * sizeof *order);
    size_t k = 0;
    if (!order)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (results[i].inserted)
            order[k++] = (struct row_position){results[i].row_id, i};
    qsort(order, k, sizeof *order, by_row_then_position);
    for (size_t i = 1; i < k; i++)
        if (order[i].row_id == order[i - 1].row_id)
            results[order[i].position].inserted = 0;
    free(order);
    return 0;
}

enum store_status store_send(struct udc_db *db, const struct udc_location *items, size_t n,
                             char *err, size_t errlen)
{
    struct udc_strbuf arrays[6];
    enum store_status status = STORE_OK;

    for (int a = 0; a < 6; a++)
        udc_strbuf_init(&arrays[a]);

    if (build_arrays(items, n, arrays) != 0) {
        snprintf(err, errlen, "out of memory");
        status = STORE_DB_DOWN;
        goto out;
    }
    const char *values[6];
    for (int a = 0; a < 6; a++)
        values[a] = arrays[a].data;
    if (udc_db_send_prepared(db, STMT_STORE, 6, values, err, errlen) != 0)
        status = failure_status(db);
out:
    for (int a = 0; a < 6; a++)
        udc_strbuf_free(&arrays[a]);
    return status;
}

static enum store_status read_results(struct udc_db *db, PGresult *res,
                                      const struct udc_location *items, size_t n,
                                      struct store_result *results, char *err, size_t errlen)
{
    memset(results, 0, n * sizeof *results);
    for (int r = 0; r < PQntuples(res) && (size_t)r < n; r++) {
        size_t idx = (size_t)strtoull(PQgetvalue(res, r, 0), NULL, 10) - 1;
        if (idx >= n)
            continue;
        int known = PQgetvalue(res, r, 2)[0] == 't';
        results[idx].verdict = known ? STORE_STORED : STORE_UNKNOWN_PERSON;
        results[idx].row_id = PQgetisnull(res, r, 1) ? 0 : strtoll(PQgetvalue(res, r, 1), NULL, 10);
        results[idx].inserted = PQgetvalue(res, r, 3)[0] == 't';
    }
    if (forget_repeated_inserts(results, n) != 0) {
        snprintf(err, errlen, "out of memory");
        return STORE_DB_DOWN;
    }
    /* The insert has committed (it is its own transaction): a lookup now sees every row that
     * conflicted with it. */
    return lookup_missing(db, items, n, results, err, errlen);
}

int store_poll(struct udc_db *db, const struct udc_location *items, size_t n,
               struct store_result *results, enum store_status *status, char *err, size_t errlen)
{
    PGresult *res = NULL;
    int rc = udc_db_poll_result(db, PGRES_TUPLES_OK, &res, err, errlen);
    if (rc > 0)
        return 1;
    if (rc < 0) {
        *status = failure_status(db);
        return 0;
    }
    *status = read_results(db, res, items, n, results, err, errlen);
    PQclear(res);
    return 0;
}

enum store_status store_batch(struct udc_db *db, const struct udc_location *items, size_t n,
                              struct store_result *results, char *err, size_t errlen)
{
    enum store_status status = store_send(db, items, n, err, errlen);
    if (status != STORE_OK)
        return status;
    while (store_poll(db, items, n, results, &status, err, errlen) > 0) {
        struct pollfd p = {.fd = udc_db_socket(db), .events = POLLIN};
        poll(&p, 1, 1000);
    }
    return status;
}
