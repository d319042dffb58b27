/* pairs.c — see pairs.h.
 *
 * The pairing statement finds each new row's neighbours through the GiST index on
 * coordinate (ST_DWithin on geography, spheroid distance), filters by time and person, and
 * inserts both directions. A pair of two new rows is found from both ends; ON CONFLICT DO
 * NOTHING keeps one copy.
 *
 * The new rows are grouped into clusters (a grid cell of 0.0002 degrees, about 20 m, and an
 * hour), and the GiST index is probed once per cluster with the cluster's box widened by the
 * radius rather than once per row: at a conference booth the rows of a chunk share their
 * neighbours, and probing per row fetched the same ~600 heap rows again for each (a
 * 5,000-row backfill chunk of the 500,000-ping set: 16 s probing per row, 6 s per cluster, the rest
 * being the inserts and their foreign-key checks). Each candidate is then tested against
 * the cluster's rows: first the cluster's time span, then per row time, person and distance.
 *
 * The index scan is the bare box test (what ST_DWithin's own index condition is), and the
 * time and distance conditions follow it (OFFSET 0 keeps them out): left to itself the
 * planner ANDed a bitmap of the creation_time index (every ping within the window: 16,000
 * rows on a busy day) with the GiST one (1,600) for each probe.
 */
#include "pairs.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STMT_PAIR       "connector_pair"
#define CELL            "ST_SnapToGrid(coordinate::geometry, 0.0002)"
#define HOUR            "floor(extract(epoch FROM creation_time) / 3600)"
#define STMT_NEXT_CHUNK "connector_next_chunk"
#define STMT_PROGRESS   "connector_progress"

const struct udc_db_statement pairs_statements[] = {
    /* $1 location ids, $2 radius in metres, $3 window in minutes. */
    {STMT_PAIR,
     "WITH new AS ("
     "  SELECT id, person_id, coordinate, creation_time FROM location"
     "   WHERE id = ANY($1::bigint[])"
     "), cl AS MATERIALIZED ("
     "  SELECT ST_Collect(coordinate::geometry)::geography AS pts,"
     "         array_agg(id) AS ids, array_agg(person_id) AS ps, array_agg(coordinate) AS cs,"
     "         array_agg(creation_time) AS ts,"
     "         min(creation_time) - make_interval(mins => $3::int) AS t_lo,"
     "         max(creation_time) + make_interval(mins => $3::int) AS t_hi"
     "    FROM new GROUP BY " CELL ", " HOUR "), found AS ("
     "  SELECT n.id AS a, o.id AS b, n.person_id AS pa, o.person_id AS pb,"
     "         ST_Distance(n.coordinate, o.coordinate) AS d,"
     "         n.creation_time AS ta, o.creation_time AS tb"
     "    FROM cl c CROSS JOIN LATERAL ("
     "      SELECT id, person_id, coordinate, creation_time FROM location"
     "       WHERE coordinate && _ST_Expand(c.pts, $2::float8) OFFSET 0) o"
     "   CROSS JOIN LATERAL unnest(c.ids, c.ps, c.cs, c.ts) n (id, person_id, coordinate,"
     "                                                         creation_time)"
     "   WHERE o.creation_time BETWEEN c.t_lo AND c.t_hi"
     "     AND o.person_id <> n.person_id"
     "     AND o.creation_time BETWEEN n.creation_time - make_interval(mins => $3::int)"
     "                             AND n.creation_time + make_interval(mins => $3::int)"
     "     AND ST_DWithin(o.coordinate, n.coordinate, $2::float8)"
     ")"
     "INSERT INTO connection (location_id, other_location_id, person_id, other_person_id,"
     "                        distance_m, creation_time, other_creation_time)"
     "SELECT a, b, pa, pb, d, ta, tb FROM found"
     " UNION ALL SELECT b, a, pb, pa, d, tb, ta FROM found"
     " ON CONFLICT DO NOTHING",
     3},
    /* The next $1 ids after the recorded progress, locking the progress row. */
    {STMT_NEXT_CHUNK,
     "SELECT COALESCE(array_agg(id ORDER BY id), '{}')::text, COALESCE(max(id), 0) FROM ("
     "  SELECT id FROM location"
     "   WHERE id > (SELECT last_location_id FROM connector_backfill FOR UPDATE)"
     "   ORDER BY id LIMIT $1::int) chunk",
     1},
    {STMT_PROGRESS,
     "UPDATE connector_backfill SET last_location_id = $1::bigint, updated_at = now()", 1},
};
const size_t pairs_statement_count = sizeof pairs_statements / sizeof pairs_statements[0];

/* JIT compiled each backfill chunk's plan anew (~1.3 s per 5,000-row chunk, more than the
 * pairing itself on a warm cache): the statements are index probes and short joins, which
 * JIT does not speed up. */
const char *const pairs_session_setup[] = {"SET jit = off"};
const size_t pairs_session_setup_count = sizeof pairs_session_setup / sizeof pairs_session_setup[0];

/* '{1,2,3}' */
static char *id_array(const int64_t *ids, size_t n)
{
    char *buf = malloc(n * 21 + 3);
    if (!buf)
        return NULL;
    size_t len = 0;
    buf[len++] = '{';
    for (size_t i = 0; i < n; i++)
        len += (size_t)sprintf(buf + len, "%s%" PRId64, i ? "," : "", ids[i]);
    buf[len++] = '}';
    buf[len] = '\0';
    return buf;
}

static long long run_pairing(struct udc_db *db, const char *ids, double radius_m, int window_min,
                             char *err, size_t errlen)
{
    char radius[32], window[16];
    snprintf(radius, sizeof radius, "%.17g", radius_m);
    snprintf(window, sizeof window, "%d", window_min);
    const char *params[] = {ids, radius, window};
    PGresult *res =
        udc_db_exec_prepared(db, STMT_PAIR, 3, params, NULL, NULL, PGRES_COMMAND_OK, err, errlen);
    if (!res)
        return -1;
    long long inserted = strtoll(PQcmdTuples(res), NULL, 10);
    PQclear(res);
    return inserted;
}

long long pairs_for_rows(struct udc_db *db, const int64_t *ids, size_t n, double radius_m,
                         int window_min, char *err, size_t errlen)
{
    char ignored[128];
    char *array = id_array(ids, n);
    if (!array) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    long long inserted = -1;
    if (udc_db_begin(db, err, errlen) == 0) {
        inserted = run_pairing(db, array, radius_m, window_min, err, errlen);
        if (inserted < 0 || udc_db_commit(db, err, errlen) != 0) {
            udc_db_rollback(db, ignored, sizeof ignored);
            inserted = -1;
        }
    }
    free(array);
    return inserted;
}

long long pairs_backfill_chunk(struct udc_db *db, int chunk, double radius_m, int window_min,
                               int64_t *upto, char *err, size_t errlen)
{
    char ignored[128], limit[16];
    snprintf(limit, sizeof limit, "%d", chunk);
    const char *params[] = {limit};
    *upto = 0;
    if (udc_db_begin(db, err, errlen) != 0)
        return -1;
    PGresult *res = udc_db_exec_prepared(db, STMT_NEXT_CHUNK, 1, params, NULL, NULL,
                                         PGRES_TUPLES_OK, err, errlen);
    long long inserted = -1;
    if (!res)
        goto fail;
    *upto = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
    char *ids = strdup(PQgetvalue(res, 0, 0));
    PQclear(res);
    if (!ids)
        goto fail;
    inserted = *upto ? run_pairing(db, ids, radius_m, window_min, err, errlen) : 0;
    free(ids);
    if (inserted < 0)
        goto fail;
    if (*upto) {
        char last[24];
        snprintf(last, sizeof last, "%" PRId64, *upto);
        const char *p[] = {last};
        res = udc_db_exec_prepared(db, STMT_PROGRESS, 1, p, NULL, NULL, PGRES_COMMAND_OK, err,
                                   errlen);
        if (!res)
            goto fail;
        PQclear(res);
    }
    if (udc_db_commit(db, err, errlen) != 0)
        goto fail;
    return inserted;
fail:
    udc_db_rollback(db, ignored, sizeof ignored);
    return -1;
}
