/* connection_scan.h — the POC question ("whom was the person within d metres of?") answered
 * in C around two plain index reads, with PostgreSQL deciding only the borderline pairs.
 *
 * The caller (routes_connections.c) runs:
 *   1. the person's pings in the date range (conn_scan_new);
 *   2. conn_scan_ranges: the grid cells (location_cell of migration 0008) around them, as
 *      merged key ranges; the others' pings in those cells come from an index-only scan
 *      (conn_scan_add_candidate for each);
 *   3. conn_scan_classify: every candidate gets a planar distance in local metres to the
 *      person's nearby pings. Planar and PostGIS sphere distances agree within 1e-4 here
 *      (distance <= CONN_SCAN_MAX_DISTANCE, |latitude| <= 85), and the spheroid stays within
 *      [0.9944, 1.0045] times the sphere, so a pair at <= 0.989 d is surely within d and one
 *      beyond 1.011 d surely not. The thin band between is listed (conn_scan_band_*) for
 *      PostgreSQL's ST_DWithin, whose verdicts come back through conn_scan_band_within;
 *   4. conn_scan_summarise: one summary per other person, sorted by id, at most `limit`
 *      (count, first and last seen, earliest ping), and for each the few pairs that can hold
 *      the exact closest distance (planar within 1.011 of the person's smallest), which
 *      PostgreSQL measures on the spheroid with ST_Distance.
 * So every distance in the answer and every borderline decision is PostGIS's own.
 *
 * conn_scan_new refuses (NULL, *unsupported = 1) questions the planar test does not cover:
 * larger distances, pings near a pole or the antimeridian. The caller answers those with the
 * statement CONNECTIONS_POC, which computes the same answer in SQL.
 *
 * Not thread-safe: one scan per request.
 */
#ifndef UDC_API_CONNECTION_SCAN_H
#define UDC_API_CONNECTION_SCAN_H

#include <stddef.h>
#include <stdint.h>

/* location_cell (migration 0008): row and column of a 0.00005-degree grid, row << 32 | col.
 * Computed with the same float8 operations as the SQL function, so both agree bit for bit. */
#define CONN_CELLS_PER_DEGREE  20000.0
#define CONN_SCAN_MAX_DISTANCE 1000.0 /* metres */

int64_t conn_cell(double lat, double lon);

struct conn_ping {
    int64_t id;
    int32_t person;
    int64_t time_us; /* since the Unix epoch */
    double lat, lon;
};

struct conn_summary {
    int32_t person;
    int64_t count;
    int64_t first_seen_us, last_seen_us;
    int64_t first_id; /* the earliest matching ping (by time, then id) */
    double first_lat, first_lon;
};

/* v as PostgreSQL's float8 text output writes it (the shortest text that reads back as v, as
 * ST_Y(...)::text gives it): into buf, which it returns. */
const char *conn_float8_text(char *buf, size_t size, double v);

/* A pair for PostgreSQL: other's ping, own ping, and (for closest pairs) its summary. */
struct conn_pair {
    size_t summary;
    double other_lat, other_lon, own_lat, own_lon;
};

struct conn_scan;

struct conn_scan *conn_scan_new(const struct conn_ping *own, size_t n_own, double distance,
                                int *unsupported);
void conn_scan_free(struct conn_scan *s);

/* Key ranges [lo[i], hi[i]] of location_cell covering every point a pair within distance
 * could have; sorted, disjoint. Owned by s. */
size_t conn_scan_ranges(const struct conn_scan *s, const int64_t **lo, const int64_t **hi);

/* 0, or -1 out of memory. Candidates may come in any order and include faraway pings. */
int conn_scan_add_candidate(struct conn_scan *s, const struct conn_ping *p);

/* 0, or -1 out of memory. Lists the band pairs. */
int conn_scan_classify(struct conn_scan *s);
size_t conn_scan_band_count(const struct conn_scan *s);
const struct conn_pair *conn_scan_band_pair(const struct conn_scan *s, size_t i);
/* PostgreSQL says band pair i is within the distance. */
void conn_scan_band_within(struct conn_scan *s, size_t i);

/* After the band verdicts: summaries by person id (at most limit; limit < 0: all) and the
 * pairs that may hold each one's closest distance. 0, or -1 out of memory. */
int conn_scan_summarise(struct conn_scan *s, long limit);
size_t conn_scan_summary_count(const struct conn_scan *s);
const struct conn_summary *conn_scan_summary(const struct conn_scan *s, size_t i);
size_t conn_scan_closest_count(const struct conn_scan *s);
const struct conn_pair *conn_scan_closest_pair(const struct conn_scan *s, size_t i);

/* Matching pings of other people with their closest distance, sorted by person (any order
 * within a person; a ping at most once): one summary per person into out[] with its smallest
 * distance in min_d[], at most limit (< 0: all). Returns the number of summaries. Used for the
 * precomputed pairs (CONNECTIONS_PAIRS). first_lat/first_lon are left 0. */
struct conn_hit {
    int32_t person;
    int64_t id, time_us;
    double d;
};
size_t conn_summarise(const struct conn_hit *hits, size_t n, long limit, struct conn_summary *out,
                      double *min_d);

#endif
