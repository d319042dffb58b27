/* connection_queries.c — see connection_queries.h.
 *
 * Each statement first finds the matching pings of other people ("hit": one row per other
 * ping, with its closest distance to any of the person's pings), then summarises them per
 * person and joins the person and the earliest ping.
 *
 * POC semantics (no time proximity): a person's pings of one visit lie metres apart, and a
 * probe of the GiST index per ping finds the same neighbours again and again (500 probes,
 * 160,000 pairs for 27,000 distinct pings on the benchmark's data). So the own pings are
 * grouped by a grid of OWN_CELL degrees (about 11 m × 9 m) into multipoints, and each
 * multipoint is one probe: ST_DWithin and ST_Distance against a multipoint are exact (the
 * distance to its nearest point) and PostGIS caches the multipoint's tree across the rows
 * of one probe. Pairs are materialised in probe order so that the distance is computed while
 * the multipoint is still the cached one, then reduced per other ping.
 */
#include "connection_queries.h"

/* Grid of the own pings' groups, in degrees (see above): larger cells mean fewer probes but
 * more candidates outside the distance; 0.0001 was fastest on the benchmark's data. */
#define OWN_CELL "0.0001"

#define US_TO_TIME(p) "(timestamptz 'epoch' + " p "::int8 * interval '1 microsecond')"
#define TIME_TO_US(c) "(extract(epoch FROM " c ") * 1000000)::int8"

#define BOUNDS "bounds AS (SELECT " US_TO_TIME("$2") " AS t0, " US_TO_TIME("$3") " AS t1)"

#define SUMMARY                                                                                    \
    ", per AS ("                                                                                   \
    "  SELECT person_id, min(creation_time) AS first_seen, max(creation_time) AS last_seen,"      \
    "         min(d) AS min_d, count(*) AS n,"                                                     \
    "         (array_agg(id ORDER BY creation_time, id))[1] AS first_id"                           \
    "    FROM hit GROUP BY person_id ORDER BY person_id LIMIT $7::int"                             \
    ")"                                                                                            \
    "SELECT p.id, p.first_name, p.last_name, p.company_name,"                                     \
    "       l.id, l.person_id, ST_Y(l.coordinate::geometry)::text,"                                \
    "       ST_X(l.coordinate::geometry)::text, " TIME_TO_US("l.creation_time") ","                \
    "       " TIME_TO_US("per.first_seen") ", " TIME_TO_US("per.last_seen") ", per.min_d, per.n" \
    "  FROM per JOIN person p ON p.id = per.person_id JOIN location l ON l.id = per.first_id"     \
    " ORDER BY p.id"

/* Others' pings: not the person, after the cursor, inside the others' window. */
#define OTHERS_FILTER(o)                                                                           \
    o ".person_id <> $1::int AND " o ".person_id > $6::int"                                        \
    " AND " o ".creation_time >= b.t0 AND " o ".creation_time < b.t1 + interval '1 day'"

const struct udc_db_statement connection_statements[] = {
    {CONNECTIONS_POC,
     "WITH " BOUNDS ", own AS ("
     "  SELECT ST_Collect(l.coordinate::geometry)::geography AS points"
     "    FROM location l, bounds b"
     "   WHERE l.person_id = $1::int AND l.creation_time >= b.t0 AND l.creation_time < b.t1"
     "   GROUP BY ST_SnapToGrid(l.coordinate::geometry, " OWN_CELL ")"
     "), pair AS MATERIALIZED ("
     "  SELECT o.id, o.person_id, o.creation_time, ST_Distance(o.coordinate, own.points) AS d"
     "    FROM own CROSS JOIN bounds b"
     "    JOIN location o ON ST_DWithin(o.coordinate, own.points, $4::float8)"
     "   WHERE " OTHERS_FILTER("o") " AND $5::int IS NOT NULL" /* $5 unused: one parameter list */
     "), hit AS ("
     "  SELECT id, person_id, creation_time, min(d) AS d FROM pair"
     "   GROUP BY id, person_id, creation_time"
     ")" SUMMARY,
     7},
    {CONNECTIONS_LIVE,
     "WITH " BOUNDS ", own AS ("
     "  SELECT l.coordinate, l.creation_time FROM location l, bounds b"
     "   WHERE l.person_id = $1::int AND l.creation_time >= b.t0 AND l.creation_time < b.t1"
     "), hit AS ("
     "  SELECT o.id, o.person_id, o.creation_time,"
     "         min(ST_Distance(o.coordinate, own.coordinate)) AS d"
     "    FROM own CROSS JOIN bounds b"
     "    JOIN location o ON ST_DWithin(o.coordinate, own.coordinate, $4::float8)"
     "     AND o.creation_time BETWEEN own.creation_time - make_interval(mins => $5::int)"
     "                             AND own.creation_time + make_interval(mins => $5::int)"
     "   WHERE " OTHERS_FILTER("o")
     "   GROUP BY o.id, o.person_id, o.creation_time"
     ")" SUMMARY,
     7},
    {CONNECTIONS_PRECOMPUTED,
     "WITH " BOUNDS ", hit AS ("
     "  SELECT c.other_location_id AS id, c.other_person_id AS person_id,"
     "         c.other_creation_time AS creation_time, min(c.distance_m) AS d"
     "    FROM connection c, bounds b"
     "   WHERE c.person_id = $1::int AND c.creation_time >= b.t0 AND c.creation_time < b.t1"
     "     AND c.other_person_id > $6::int AND c.other_creation_time >= b.t0"
     "     AND c.other_creation_time < b.t1 + interval '1 day'"
     "     AND c.distance_m <= $4::float8"
     "     AND c.other_creation_time BETWEEN c.creation_time - make_interval(mins => $5::int)"
     "                                   AND c.creation_time + make_interval(mins => $5::int)"
     "   GROUP BY 1, 2, 3"
     ")" SUMMARY,
     7},
};
const size_t connection_statement_count =
    sizeof connection_statements / sizeof connection_statements[0];
