/* connection_queries.c — see connection_queries.h.
 *
 * CONNECTIONS_POC, _LIVE and _PRECOMPUTED each answer the whole question in SQL: they find
 * the matching pings of other people ("hit": one row per other ping, with its closest
 * distance to any of the person's pings), then summarise them per person and join the person
 * and the earliest ping. POC and live probe the GiST index once per cluster of the person's
 * pings (OWN_CLUSTERS) instead of once per ping; the precomputed one reads the connector's
 * pairs through connection_person_other. The contract tests compare them with brute force.
 *
 * The API answers the two frequent questions faster with the statements after them:
 * - POC semantics (no window): connection_scan.c in C, reading the others' pings from the
 *   index-only grid (CONNECTIONS_OWN, _NEAR, migration 0008) and asking PostgreSQL only for
 *   the borderline pairs (_WITHIN) and the exact closest distances (_DISTANCES). CONNECTIONS_POC
 *   answers what the planar test does not cover (distance > 1 km, poles, antimeridian).
 * - precomputed co-presence without a page limit: CONNECTIONS_PAIRS streams the index, the
 *   API sums up per person, CONNECTIONS_PEOPLE adds names and the earliest ping.
 * Both give the statements' answers byte for byte (tests/integration/test_connection_scan.c).
 *
 * Measured (PostgreSQL 15, PostGIS 3.3, 2 cores, JIT off) on 500,000 pings of 1,000 people
 * over 3 days, 50 visits of 10 pings each per person at 300 booths within 2 km, 2 m jitter
 * (a crowd at each booth: 5 m of one of a person's pings holds ~1,300 others), distance 5 m:
 *   POC semantics, one join with ST_DWithin per distinct own point   2.3 s (0.5-5.5 s)
 *   POC semantics, per cluster, sphere pre-decision (CONNECTIONS_POC) ~0.3 s per request
 *   POC semantics, grid index and C (connection_scan.c)              ~65 ms idle machine,
 *     ~130 ms with the machine busy (the old statement: ~300 / ~340 ms in the same runs)
 *   co-presence live, 30 min, per cluster and hour (CONNECTIONS_LIVE) 0.14 s
 *   co-presence precomputed, 30 min (index-only, no sort)            4 ms in PostgreSQL;
 *     summed up in the API: ~2 ms of statement, ~25 % less per request end to end
 * The POC question stays costly on such data because its answer is large: a 3-day range
 * matches ~30,000 other pings of ~1,000 people out of ~53,000 candidates.
 */
#include "connection_queries.h"

#define US_TO_TIME(p) "(timestamptz 'epoch' + " p "::int8 * interval '1 microsecond')"
#define TIME_TO_US(c) "(extract(epoch FROM " c ") * 1000000)::int8"

#define BOUNDS "bounds AS (SELECT " US_TO_TIME("$2") " AS t0, " US_TO_TIME("$3") " AS t1)"

/* One row per connected person: person, earliest matching ping, summary. */
#define RESULT(min_d)                                                                              \
    "SELECT p.id, p.first_name, p.last_name, p.company_name,"                                      \
    "       l.id, l.person_id, ST_Y(l.coordinate::geometry)::text,"                                \
    "       ST_X(l.coordinate::geometry)::text, " TIME_TO_US(                                      \
        "l.creation_time") ","                                                                     \
                           "       " TIME_TO_US("per.first_seen") ", " TIME_TO_US(                 \
                               "per.last_seen") ", " min_d ", per.n"                               \
                                                "  FROM per JOIN person p ON p.id = "              \
                                                "per.person_id JOIN location l ON l.id = "         \
                                                "per.first_id"

/* hit has one row per matching other ping with its closest distance d. */
#define SUMMARY                                                                                    \
    ", per AS ("                                                                                   \
    "  SELECT person_id, min(creation_time) AS first_seen, max(creation_time) AS last_seen,"       \
    "         min(d) AS min_d, count(*) AS n,"                                                     \
    "         (array_agg(id ORDER BY creation_time, id))[1] AS first_id"                           \
    "    FROM hit GROUP BY person_id ORDER BY person_id LIMIT $7::int"                             \
    ")" RESULT("per.min_d") " ORDER BY p.id"

/* The person's pings grouped into clusters (a visit to one spot: pings metres apart), so that
 * the GiST index is probed once per cluster with the cluster's box rather than once per ping,
 * which fetches the same crowd of neighbours again and again (measured below). A grid cell of
 * 0.0002 degrees (about 20 m) holds a visit; a visit cut by a cell border only costs one more
 * probe. Co-presence also splits clusters by hour, so that their time span stays short. */
#define CELL "ST_SnapToGrid(coordinate::geometry, 0.0002)"
#define HOUR "floor(extract(epoch FROM creation_time) / 3600)"
#define OWN_CLUSTERS(key, extra)                                                                   \
    "own AS ("                                                                                     \
    "  SELECT l.coordinate, l.creation_time FROM location l, bounds b"                             \
    "   WHERE l.person_id = $1::int AND l.creation_time >= b.t0 AND l.creation_time < b.t1"        \
    "), cl AS MATERIALIZED ("                                                                      \
    "  SELECT ST_Collect(coordinate::geometry)::geography AS pts,"                                 \
    "         array_agg(coordinate) AS members" extra "    FROM own GROUP BY " key ")"
#define LIVE_EXTRA                                                                                 \
    ", array_agg(creation_time) AS times,"                                                         \
    "  min(creation_time) - make_interval(mins => $5::int) AS t_lo,"                               \
    "  max(creation_time) + make_interval(mins => $5::int) AS t_hi"

/* Distances on the spheroid (what ST_Distance and ST_DWithin use on geography) stay within
 * [0.9944, 1.0045] times the distance on PostGIS's mean-radius sphere (the extreme radii of
 * curvature of WGS 84 over its mean radius). A sphere distance is cheap to get from a point to
 * a whole cluster, so: sphere <= 0.989 d is surely a match, sphere > 1.011 d surely none, and
 * only the thin band between is decided pair by pair on the spheroid. */
#define SURE_IN  "0.989"
#define SURE_OUT "1.011"

/* Other people's pings in the box of cluster c widened by the distance (with the same margin:
 * the box widening is on the sphere). OFFSET 0 keeps the time conditions out of this scan:
 * combined with the creation_time index they made the planner AND two bitmaps per probe
 * (16,000 rows of the time index for 1,600 of the box), several times slower. */
#define NEAR_CLUSTER                                                                               \
    "SELECT id, person_id, creation_time, coordinate FROM location"                                \
    " WHERE coordinate && _ST_Expand(c.pts, $4::float8 * " SURE_OUT ")"                            \
    "   AND person_id <> $1::int AND person_id > $6::int OFFSET 0"

/* Others' pings count in [start_date, end_date + 1 day). */
#define OTHERS_WINDOW(o)                                                                           \
    o ".creation_time >= b.t0 AND " o ".creation_time < b.t1 + interval '1 day'"

/* Bounds computed once, as InitPlans of a materialised CTE: the inlined BOUNDS is evaluated
 * per row where a condition uses it (adding '1 day' to a timestamptz goes through the
 * calendar: measurable over 50,000 candidates), and joining the CTE instead would hide an
 * index's order from the planner. */
#define ONCE_BOUNDS                                                                                \
    "b AS MATERIALIZED (SELECT t0, t1, t1 + interval '1 day' AS t1_others,"                        \
    "  make_interval(mins => $5::int) AS w FROM (SELECT " US_TO_TIME("$2") " AS t0, " US_TO_TIME(  \
        "$3") " AS t1) t)"
#define BOUND(col) "(SELECT " col " FROM b)"

/* The earliest ping (by time, then id) of a group of id, creation_time rows: the minimum of
 * [epoch, id] arrays. An ordered aggregate (array_agg ... ORDER BY) starts a sort for each
 * group — ~200 to ~1,000 of them per request — which took longer than the whole scan. */
#define FIRST_ID "(min(ARRAY[extract(epoch FROM creation_time), id]))[2]::int8 AS first_id"

/* POC: the exact closest pair of a connected person. Only the other's pings whose sphere
 * distance s is within the spheroid/sphere margin of the person's smallest can hold it (a few
 * per person); each is measured against every own ping of every cluster whose probe box
 * holds it (which includes the clusters that found it), on the sphere first and on the
 * spheroid (~4 us a pair) only for the pairs within the same margin. */
#define EXACT_MIN_D                                                                                \
    "(SELECT min(ST_Distance(o.coordinate, m))"                                                    \
    "   FROM unnest(per.ids, per.ss) u (id, s) JOIN location o ON o.id = u.id,"                    \
    "        cl, unnest(cl.members) m"                                                             \
    "  WHERE u.s <= per.s_min * " SURE_OUT " + 1e-9"                                               \
    "    AND cl.pts && _ST_Expand(o.coordinate, $4::float8 * " SURE_OUT ")"                        \
    "    AND ST_Distance(o.coordinate, m, false) <= per.s_min * " SURE_OUT " + 1e-9)"

/* The bounds of CONNECTIONS_NEAR (no window parameter). */
#define ONCE_BOUNDS_NEAR                                                                           \
    "b AS MATERIALIZED (SELECT t0, t1 + interval '1 day' AS t1_others FROM (SELECT " US_TO_TIME(   \
        "$2") " AS t0, " US_TO_TIME("$3") " AS t1) t)"

/* A geography point from float8 coordinates: the same point as the stored one they came
 * from (binary float8 and %.17g text are exact). */
#define GEOG(x, y) "ST_SetSRID(ST_MakePoint(" x ", " y "), 4326)::geography"

/* The precomputed statement reads ~6,500 index entries per person and three days, so every
 * per-row expression counts. connection_person_other (0007) holds all the columns it reads,
 * ordered by other person and other ping: both GROUP BYs stream without a sort. */
/* clang-format off */
#define PRECOMPUTED_HIT \
    "hit AS (" \
    "  SELECT c.other_person_id AS person_id, c.other_location_id AS id," \
    "         min(c.other_creation_time) AS creation_time, min(c.distance_m) AS d" \
    "    FROM connection c" \
    "   WHERE c.person_id = $1::int AND c.creation_time >= " BOUND("t0") \
    "     AND c.creation_time < " BOUND("t1") " AND c.other_person_id > $6::int" \
    "     AND c.other_creation_time >= " BOUND("t0") \
    "     AND c.other_creation_time < " BOUND("t1_others") " AND c.distance_m <= $4::float8" \
    "     AND c.other_creation_time BETWEEN c.creation_time - " BOUND("w") \
    "                                   AND c.creation_time + " BOUND("w") \
    "   GROUP BY c.other_person_id, c.other_location_id)"
/* clang-format on */

const struct udc_db_statement connection_statements[] = {
    {CONNECTIONS_POC,
     "WITH " ONCE_BOUNDS ", own AS ("
     "  SELECT coordinate FROM location"
     "   WHERE person_id = $1::int AND creation_time >= " BOUND(
         "t0") "     AND creation_time < " BOUND("t1") "), cl AS MATERIALIZED ("
                                                       "  SELECT "
                                                       "ST_Collect(coordinate::geometry)::"
                                                       "geography AS pts,"
                                                       "         array_agg(coordinate) AS members "
                                                       "FROM own GROUP BY " CELL
                                                       "), cand AS (" /* OFFSET 0: s is computed
                                                                         once, here, not again above
                                                                         the sort */
                                                       "  SELECT c.members, o.id, o.person_id, "
                                                       "o.creation_time, o.coordinate,"
                                                       "         ST_Distance(o.coordinate, c.pts, "
                                                       "false) AS s"
                                                       "    FROM cl c CROSS JOIN LATERAL "
                                                       "(" NEAR_CLUSTER ") o"
                                                       "   WHERE o.creation_time >= " BOUND("t0") " AND o.creation_time < " BOUND(
                                                           "t1_others") "     AND $5::int IS NOT "
                                                                        "NULL OFFSET 0" /* $5
                                                                                           unused:
                                                                                           one
                                                                                           parameter
                                                                                           list */
                                                                        "), hit AS ("
                                                                        "  SELECT id, person_id, "
                                                                        "creation_time, s FROM cand"
                                                                        "   WHERE s <= $4::float8 "
                                                                        "* " SURE_IN
                                                                        "      OR (s <= $4::float8 "
                                                                        "* " SURE_OUT
                                                                        " AND EXISTS ("
                                                                        "          SELECT FROM "
                                                                        "unnest(members) m WHERE "
                                                                        "ST_DWithin(coordinate, m, "
                                                                        "$4::float8)))"
                                                                        "), ids AS (" /* a ping
                                                                                         found from
                                                                                         two
                                                                                         clusters
                                                                                         counts once
                                                                                       */
                                                                        "  SELECT person_id, id, "
                                                                        "min(creation_time) AS "
                                                                        "creation_time, min(s) AS s"
                                                                        "    FROM hit GROUP BY "
                                                                        "person_id, id"
                                                                        "), per AS ("
                                                                        "  SELECT person_id, "
                                                                        "min(creation_time) AS "
                                                                        "first_seen, "
                                                                        "max(creation_time) AS "
                                                                        "last_seen,"
                                                                        "         count(*) AS "
                                                                        "n, " FIRST_ID ","
                                                                        "         min(s) AS s_min, "
                                                                        "array_agg(id) AS ids, "
                                                                        "array_agg(s) AS ss"
                                                                        "    FROM ids GROUP BY "
                                                                        "person_id ORDER BY "
                                                                        "person_id LIMIT $7::int"
                                                                        ")" RESULT(
                                                                            EXACT_MIN_D) " ORDER "
                                                                                         "BY p.id",
     7},
    {CONNECTIONS_LIVE,
     "WITH " BOUNDS ", " OWN_CLUSTERS(
         CELL ", " HOUR,
         LIVE_EXTRA) ", hit AS ("
                     "  SELECT o.id, o.person_id, o.creation_time, min(pair.d) AS d"
                     "    FROM cl c CROSS JOIN bounds b CROSS JOIN LATERAL "
                     "(" NEAR_CLUSTER ") o"
                     "   CROSS JOIN LATERAL ("
                     "     SELECT ST_Distance(o.coordinate, m.coordinate) AS d"
                     "       FROM unnest(c.members, c.times) m (coordinate, "
                     "creation_time)"
                     "      WHERE m.creation_time BETWEEN o.creation_time - "
                     "make_interval(mins => "
                     "$5::int)"
                     "                                AND o.creation_time + "
                     "make_interval(mins => "
                     "$5::int)"
                     "   ) pair"
                     "   WHERE " OTHERS_WINDOW("o") " AND o.creation_time BETWEEN c.t_lo AND c.t_hi"
                                                    "     AND pair.d <= $4::float8"
                                                    "   GROUP BY o.id, o.person_id, o.creation_time"
                                                    ")" SUMMARY,
     7},
    /* clang-format off */
    {CONNECTIONS_PRECOMPUTED,
     "WITH " ONCE_BOUNDS ", " PRECOMPUTED_HIT ", per AS ("
     "  SELECT person_id, min(creation_time) AS first_seen, max(creation_time) AS last_seen,"
     "         min(d) AS min_d, count(*) AS n, " FIRST_ID
     "    FROM hit GROUP BY person_id ORDER BY person_id LIMIT $7::int"
     ")" RESULT("per.min_d") " ORDER BY p.id",
     7},
    /* The same pairs for the API to sum up itself (connection_scan.h, conn_summarise):
     * one row per other ping, binary: person_id, id, creation_time, closest distance. */
    {CONNECTIONS_PAIRS,
     "WITH " ONCE_BOUNDS ", " PRECOMPUTED_HIT
     " SELECT person_id, id, creation_time, d FROM hit WHERE $7::int IS NULL"
     " ORDER BY person_id, id",
     7},
    /* clang-format on */
    /* clang-format off */
    /* The POC question answered in C (connection_scan.h). The person's pings, binary:
     * id, creation_time, coordinate as EWKB. */
    {CONNECTIONS_OWN,
     "SELECT id, creation_time, coordinate::bytea FROM location"
     " WHERE person_id = $1::int AND creation_time >= " US_TO_TIME("$2")
     "   AND creation_time < " US_TO_TIME("$3"),
     3},
    /* Others' pings in the key ranges [$4[i], $5[i]] of location_cell (0008), from the index
     * alone; binary: id, person_id, creation_time, coordinate as EWKB. OFFSET 0 keeps the
     * other conditions out of the scan: with them the generic plan preferred the index on
     * creation_time, reading all pings of the range. */
    {CONNECTIONS_NEAR,
     "WITH " ONCE_BOUNDS_NEAR " "
     "SELECT l.id, l.person_id, l.creation_time, l.coordinate::bytea"
     "  FROM unnest($4::int8[], $5::int8[]) r (lo, hi) CROSS JOIN LATERAL ("
     "    SELECT id, person_id, creation_time, coordinate FROM location"
     "     WHERE location_cell(coordinate) BETWEEN r.lo AND r.hi OFFSET 0) l"
     " WHERE l.person_id <> $1::int AND l.person_id > $6::int"
     "   AND l.creation_time >= " BOUND("t0") " AND l.creation_time < " BOUND("t1_others"),
     6},
    /* Ordinals of the pairs (other's ping, own ping) within $5 metres, PostGIS deciding. */
    {CONNECTIONS_WITHIN,
     "SELECT i FROM unnest($1::float8[], $2::float8[], $3::float8[], $4::float8[])"
     "  WITH ORDINALITY u (olat, olon, mlat, mlon, i)"
     " WHERE ST_DWithin(" GEOG("olon", "olat") ", " GEOG("mlon", "mlat") ", $5::float8)",
     5},
    /* Per connected person ($1 ids, $2 earliest pings): the person and the ping. */
    {CONNECTIONS_PEOPLE,
     "SELECT p.id, p.first_name, p.last_name, p.company_name,"
     "       ST_Y(l.coordinate::geometry)::text, ST_X(l.coordinate::geometry)::text"
     "  FROM unnest($1::int4[], $2::int8[]) WITH ORDINALITY s (person_id, first_id, k)"
     "  JOIN person p ON p.id = s.person_id JOIN location l ON l.id = s.first_id"
     " ORDER BY s.k",
     2},
    /* The spheroid distance of each pair (other's ping, own ping), in order. No joins on
     * arrays: generic plans guess 10 rows for an unnest, and a join by position then became
     * a nested loop over all pairs x all people (~1,000,000 comparisons, ~40 ms). */
    {CONNECTIONS_DISTANCES,
     "SELECT ST_Distance(" GEOG("olon", "olat") ", " GEOG("mlon", "mlat") ")"
     "  FROM unnest($1::float8[], $2::float8[], $3::float8[], $4::float8[])"
     "       WITH ORDINALITY u (olat, olon, mlat, mlon, i)"
     " ORDER BY i",
     4},
    /* The people $1, in that order. */
    {CONNECTIONS_PERSONS,
     "SELECT p.id, p.first_name, p.last_name, p.company_name"
     "  FROM unnest($1::int4[]) WITH ORDINALITY s (person_id, k)"
     "  JOIN person p ON p.id = s.person_id"
     " ORDER BY s.k",
     1},
    /* clang-format on */
};
const size_t connection_statement_count =
    sizeof connection_statements / sizeof connection_statements[0];

const char *const connection_session_setup[] = {"SET jit = off"};
const size_t connection_session_setup_count =
    sizeof connection_session_setup / sizeof connection_session_setup[0];
