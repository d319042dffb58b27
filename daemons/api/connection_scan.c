/* connection_scan.c — see connection_scan.h.
 *
 * Why the margins hold. P is the planar distance used here: dy = R dlat, dx = R dlon times
 * the mean of both cosines of latitude. Against the great circle distance S its relative error
 * is second order, about (separation / R)^2 / cos^2(latitude): below 4e-6 for 1 km at 85
 * degrees; ETA = 1e-4 is used. PostGIS's spheroid distance D lies within [0.9944, 1.0045] S.
 *   P <= 0.989 d - 1e-6          => D <= 0.989 * 1.0045 / (1 - ETA) d < d   (surely within)
 *   P >  REACH = 1.011 d (1 + 2 ETA) + 1e-6  => D > d                        (surely not)
 *   closest pair (o*, m*) of a person whose smallest P is p:
 *     P(o*, m*) <= (1 + ETA) / (1 - ETA) * 1.0045 / 0.9944 p < 1.0104 p
 * and a pair within d has P < REACH, so it is found among the own pings within reach.
 */
#include "connection_scan.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EARTH_RADIUS_M 6371008.771415 /* PostGIS's mean radius of WGS 84 */
#define M_PER_DEGREE   (EARTH_RADIUS_M * M_PI / 180.0)
#define ETA            1e-4
#define SURE_IN        0.989
#define SURE_OUT       1.011
#define CLOSEST        1.0112
#define SLACK_M        1e-6
#define SLACK_DEG      1e-9
#define MAX_LATITUDE   85.0

enum { CAND_OUT = 0, CAND_IN, CAND_BAND };

struct own_ping {
    double lat, lon, cos_lat, reach_lon; /* reach_lon: degrees of longitude within reach */
    int64_t blat, blon;                  /* bucket */
};

struct bucket_slot {
    int64_t blat, blon;
    size_t start, end; /* into own[]; end == 0: empty slot */
};

struct cell_run {
    int64_t row, c0, c1;
};

struct conn_scan {
    double distance, reach, reach_lat;
    double bucket_lat, bucket_lon; /* degrees */
    struct own_ping *own;
    size_t n_own;
    struct bucket_slot *slots;
    size_t slot_mask;
    int64_t *lo, *hi;
    size_t n_ranges;

    struct conn_ping *cand;
    double *cand_p; /* smallest planar distance to an own ping */
    unsigned char *cand_state;
    size_t n_cand, cap_cand;

    struct conn_pair *band;
    size_t *band_cand;
    size_t n_band, cap_band;

    struct conn_summary *sum;
    size_t n_sum;
    struct conn_pair *closest;
    size_t n_closest, cap_closest;
};

int64_t conn_cell(double lat, double lon)
{
    int64_t row = (int64_t)floor((lat + 90.0) * CONN_CELLS_PER_DEGREE);
    int64_t col = (int64_t)floor((lon + 180.0) * CONN_CELLS_PER_DEGREE);
    return (int64_t)((uint64_t)row << 32) | col;
}

/* The correctly rounded 15, 16 or 17 digits, whichever is the first to read back as v: the
 * shortest exact text, as PostgreSQL's float8 output (%g's notation matches its own for
 * coordinates: fixed, and e-notation below 1e-4). */
const char *conn_float8_text(char *buf, size_t size, double v)
{
    for (int digits = 15; digits <= 17; digits++) {
        snprintf(buf, size, "%.*g", digits, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    return buf;
}

static double radians(double deg)
{
    return deg * (M_PI / 180.0);
}

static int grow(void **arr, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap * 2 : 256;
    while (n < need)
        n *= 2;
    void *p = realloc(*arr, n * size);
    if (!p)
        return -1;
    *arr = p;
    *cap = n;
    return 0;
}

static uint64_t bucket_hash(int64_t blat, int64_t blon)
{
    uint64_t h = (uint64_t)blat * 0x9E3779B97F4A7C15ull ^ (uint64_t)blon * 0xC2B2AE3D27D4EB4Full;
    return h ^ (h >> 29);
}

static int by_bucket(const void *a, const void *b)
{
    const struct own_ping *x = a, *y = b;
    if (x->blat != y->blat)
        return x->blat < y->blat ? -1 : 1;
    return x->blon < y->blon ? -1 : x->blon > y->blon;
}

static int by_cell_run(const void *a, const void *b)
{
    const struct cell_run *x = a, *y = b;
    if (x->row != y->row)
        return x->row < y->row ? -1 : 1;
    return x->c0 < y->c0 ? -1 : x->c0 > y->c0;
}

/* Own pings indexed by buckets at least twice the reach wide: a candidate's own pings within
 * reach lie in at most 2 x 2 buckets. */
static int index_own(struct conn_scan *s)
{
    if (s->n_own > 0)
        qsort(s->own, s->n_own, sizeof *s->own, by_bucket);
    size_t slots = 4;
    while (slots < 2 * s->n_own)
        slots *= 2;
    s->slots = calloc(slots, sizeof *s->slots);
    if (!s->slots)
        return -1;
    s->slot_mask = slots - 1;
    for (size_t i = 0; i < s->n_own;) {
        size_t j = i;
        while (j < s->n_own && s->own[j].blat == s->own[i].blat && s->own[j].blon == s->own[i].blon)
            j++;
        uint64_t h = bucket_hash(s->own[i].blat, s->own[i].blon) & s->slot_mask;
        while (s->slots[h].end != 0)
            h = (h + 1) & s->slot_mask;
        s->slots[h] = (struct bucket_slot){s->own[i].blat, s->own[i].blon, i, j};
        i = j;
    }
    return 0;
}

static const struct bucket_slot *find_bucket(const struct conn_scan *s, int64_t blat, int64_t blon)
{
    for (uint64_t h = bucket_hash(blat, blon) & s->slot_mask; s->slots[h].end != 0;
         h = (h + 1) & s->slot_mask)
        if (s->slots[h].blat == blat && s->slots[h].blon == blon)
            return &s->slots[h];
    return NULL;
}

/* Cell runs of every own ping's reach box, merged into key ranges per grid row. */
static int make_ranges(struct conn_scan *s)
{
    struct cell_run *runs = NULL;
    size_t n = 0, cap = 0;
    for (size_t i = 0; i < s->n_own; i++) {
        const struct own_ping *o = &s->own[i];
        int64_t r0 = (int64_t)floor((o->lat - s->reach_lat + 90.0) * CONN_CELLS_PER_DEGREE);
        int64_t r1 = (int64_t)floor((o->lat + s->reach_lat + 90.0) * CONN_CELLS_PER_DEGREE);
        int64_t c0 = (int64_t)floor((o->lon - o->reach_lon + 180.0) * CONN_CELLS_PER_DEGREE);
        int64_t c1 = (int64_t)floor((o->lon + o->reach_lon + 180.0) * CONN_CELLS_PER_DEGREE);
        for (int64_t r = r0; r <= r1; r++) {
            if (grow((void **)&runs, &cap, n + 1, sizeof *runs) != 0) {
                free(runs);
                return -1;
            }
            runs[n++] = (struct cell_run){r, c0, c1};
        }
    }
    if (n > 0)
        qsort(runs, n, sizeof *runs, by_cell_run);
    s->lo = malloc((n ? n : 1) * sizeof *s->lo);
    s->hi = malloc((n ? n : 1) * sizeof *s->hi);
    if (!s->lo || !s->hi) {
        free(runs);
        return -1;
    }
    for (size_t i = 0; i < n;) {
        struct cell_run m = runs[i++];
        while (i < n && runs[i].row == m.row && runs[i].c0 <= m.c1 + 1) {
            if (runs[i].c1 > m.c1)
                m.c1 = runs[i].c1;
            i++;
        }
        s->lo[s->n_ranges] = (int64_t)((uint64_t)m.row << 32) | m.c0;
        s->hi[s->n_ranges++] = (int64_t)((uint64_t)m.row << 32) | m.c1;
    }
    free(runs);
    return 0;
}

struct conn_scan *conn_scan_new(const struct conn_ping *own, size_t n_own, double distance,
                                int *unsupported)
{
    *unsupported = 0;
    if (!(distance >= 0 && distance <= CONN_SCAN_MAX_DISTANCE)) {
        *unsupported = 1;
        return NULL;
    }
    struct conn_scan *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->distance = distance;
    s->reach = SURE_OUT * distance * (1 + 2 * ETA) + SLACK_M;
    s->reach_lat = s->reach / M_PER_DEGREE + SLACK_DEG;
    s->own = malloc((n_own ? n_own : 1) * sizeof *s->own);
    if (!s->own) {
        free(s);
        return NULL;
    }
    double reach_lon_max = 0;
    for (size_t i = 0; i < n_own; i++) {
        double lat = own[i].lat, lon = own[i].lon;
        double edge = fabs(lat) + s->reach_lat;
        /* Beyond these the planar test's error bound or the grid's columns do not hold. */
        if (!(edge <= MAX_LATITUDE)) {
            *unsupported = 1;
            break;
        }
        double reach_lon = s->reach / (M_PER_DEGREE * cos(radians(edge))) + SLACK_DEG;
        if (!(lon - reach_lon > -180.0 && lon + reach_lon < 180.0)) {
            *unsupported = 1;
            break;
        }
        s->own[i] = (struct own_ping){lat, lon, cos(radians(lat)), reach_lon, 0, 0};
        if (reach_lon > reach_lon_max)
            reach_lon_max = reach_lon;
    }
    if (*unsupported) {
        conn_scan_free(s);
        return NULL;
    }
    s->n_own = n_own;
    s->bucket_lat = 2 * s->reach_lat;
    s->bucket_lon = 2 * reach_lon_max;
    for (size_t i = 0; i < n_own; i++) {
        s->own[i].blat = (int64_t)floor(s->own[i].lat / s->bucket_lat);
        s->own[i].blon = (int64_t)floor(s->own[i].lon / s->bucket_lon);
    }
    if (index_own(s) != 0 || make_ranges(s) != 0) {
        conn_scan_free(s);
        return NULL;
    }
    return s;
}

void conn_scan_free(struct conn_scan *s)
{
    if (!s)
        return;
    free(s->own);
    free(s->slots);
    free(s->lo);
    free(s->hi);
    free(s->cand);
    free(s->cand_p);
    free(s->cand_state);
    free(s->band);
    free(s->band_cand);
    free(s->sum);
    free(s->closest);
    free(s);
}

size_t conn_scan_ranges(const struct conn_scan *s, const int64_t **lo, const int64_t **hi)
{
    *lo = s->lo;
    *hi = s->hi;
    return s->n_ranges;
}

int conn_scan_add_candidate(struct conn_scan *s, const struct conn_ping *p)
{
    if (grow((void **)&s->cand, &s->cap_cand, s->n_cand + 1, sizeof *s->cand) != 0)
        return -1;
    s->cand[s->n_cand++] = *p;
    return 0;
}

/* The square of P (no square root in the inner loop). */
static double planar2(const struct own_ping *o, const struct conn_ping *c, double cos_c)
{
    double dy = (c->lat - o->lat) * M_PER_DEGREE;
    double dx = (c->lon - o->lon) * M_PER_DEGREE * 0.5 * (o->cos_lat + cos_c);
    return dx * dx + dy * dy;
}

/* Calls visit(s, own index, squared planar distance, arg) for each own ping within limit. */
static int each_near(struct conn_scan *s, const struct conn_ping *c, double limit,
                     int (*visit)(struct conn_scan *, size_t, double, void *), void *arg)
{
    double cos_c = cos(radians(c->lat)), limit2 = limit * limit;
    int64_t a0 = (int64_t)floor((c->lat - s->reach_lat) / s->bucket_lat);
    int64_t a1 = (int64_t)floor((c->lat + s->reach_lat) / s->bucket_lat);
    int64_t b0 = (int64_t)floor((c->lon - s->bucket_lon / 2) / s->bucket_lon);
    int64_t b1 = (int64_t)floor((c->lon + s->bucket_lon / 2) / s->bucket_lon);
    for (int64_t a = a0; a <= a1; a++)
        for (int64_t b = b0; b <= b1; b++) {
            const struct bucket_slot *slot = find_bucket(s, a, b);
            if (!slot)
                continue;
            for (size_t i = slot->start; i < slot->end; i++) {
                double p2 = planar2(&s->own[i], c, cos_c);
                if (p2 <= limit2 && visit(s, i, p2, arg) != 0)
                    return -1;
            }
        }
    return 0;
}

static int note_min(struct conn_scan *s, size_t own, double p2, void *arg)
{
    (void)s;
    (void)own;
    double *min = arg;
    if (p2 < *min)
        *min = p2;
    return 0;
}

static int add_band_pair(struct conn_scan *s, size_t own, double p2, void *arg)
{
    (void)p2;
    size_t cand = *(size_t *)arg;
    if (grow((void **)&s->band, &s->cap_band, s->n_band + 1, sizeof *s->band) != 0)
        return -1;
    size_t cap = s->cap_band;
    void *bc = realloc(s->band_cand, cap * sizeof *s->band_cand);
    if (!bc)
        return -1;
    s->band_cand = bc;
    s->band[s->n_band] = (struct conn_pair){0, s->cand[cand].lat, s->cand[cand].lon,
                                            s->own[own].lat, s->own[own].lon};
    s->band_cand[s->n_band++] = cand;
    return 0;
}

int conn_scan_classify(struct conn_scan *s)
{
    s->cand_p = malloc((s->n_cand ? s->n_cand : 1) * sizeof *s->cand_p);
    s->cand_state = malloc(s->n_cand ? s->n_cand : 1);
    if (!s->cand_p || !s->cand_state)
        return -1;
    double sure_in = SURE_IN * s->distance - SLACK_M;
    for (size_t i = 0; i < s->n_cand; i++) {
        double min = INFINITY;
        each_near(s, &s->cand[i], s->reach, note_min, &min);
        min = sqrt(min);
        s->cand_p[i] = min;
        if (min <= sure_in)
            s->cand_state[i] = CAND_IN;
        else if (min <= s->reach) {
            s->cand_state[i] = CAND_BAND;
            if (each_near(s, &s->cand[i], s->reach, add_band_pair, &i) != 0)
                return -1;
        } else
            s->cand_state[i] = CAND_OUT;
    }
    return 0;
}

size_t conn_scan_band_count(const struct conn_scan *s)
{
    return s->n_band;
}

const struct conn_pair *conn_scan_band_pair(const struct conn_scan *s, size_t i)
{
    return &s->band[i];
}

void conn_scan_band_within(struct conn_scan *s, size_t i)
{
    if (i < s->n_band)
        s->cand_state[s->band_cand[i]] = CAND_IN;
}

struct closest_arg {
    size_t summary, cand;
};

static int add_closest_pair(struct conn_scan *s, size_t own, double p2, void *arg)
{
    (void)p2;
    const struct closest_arg *a = arg;
    if (grow((void **)&s->closest, &s->cap_closest, s->n_closest + 1, sizeof *s->closest) != 0)
        return -1;
    const struct conn_ping *c = &s->cand[a->cand];
    s->closest[s->n_closest++] =
        (struct conn_pair){a->summary, c->lat, c->lon, s->own[own].lat, s->own[own].lon};
    return 0;
}

/* A matching ping's sort key (qsort has no context argument, so the key is copied). */
struct hit_key {
    int32_t person;
    int64_t time_us, id;
    size_t cand;
};

static int by_hit_key(const void *a, const void *b)
{
    const struct hit_key *x = a, *y = b;
    if (x->person != y->person)
        return x->person < y->person ? -1 : 1;
    if (x->time_us != y->time_us)
        return x->time_us < y->time_us ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

int conn_scan_summarise(struct conn_scan *s, long limit)
{
    size_t n_hits = 0;
    for (size_t i = 0; i < s->n_cand; i++)
        n_hits += s->cand_state[i] == CAND_IN;
    struct hit_key *hits = malloc((n_hits ? n_hits : 1) * sizeof *hits);
    s->sum = malloc((n_hits ? n_hits : 1) * sizeof *s->sum);
    if (!hits || !s->sum) {
        free(hits);
        return -1;
    }
    n_hits = 0;
    for (size_t i = 0; i < s->n_cand; i++)
        if (s->cand_state[i] == CAND_IN)
            hits[n_hits++] =
                (struct hit_key){s->cand[i].person, s->cand[i].time_us, s->cand[i].id, i};
    if (n_hits > 0)
        qsort(hits, n_hits, sizeof *hits, by_hit_key);
    int rc = 0;
    for (size_t i = 0; i < n_hits && rc == 0;) {
        if (limit >= 0 && s->n_sum >= (size_t)limit)
            break;
        size_t j = i;
        double p_min = INFINITY;
        while (j < n_hits && hits[j].person == hits[i].person) {
            if (s->cand_p[hits[j].cand] < p_min)
                p_min = s->cand_p[hits[j].cand];
            j++;
        }
        const struct conn_ping *first = &s->cand[hits[i].cand];
        s->sum[s->n_sum] = (struct conn_summary){
            hits[i].person, (int64_t)(j - i), hits[i].time_us, hits[j - 1].time_us,
            hits[i].id,     first->lat,       first->lon};
        double limit_p = CLOSEST * p_min + SLACK_M;
        struct closest_arg a = {s->n_sum, 0};
        for (size_t k = i; k < j && rc == 0; k++)
            if (s->cand_p[hits[k].cand] <= limit_p) {
                a.cand = hits[k].cand;
                rc = each_near(s, &s->cand[a.cand], limit_p, add_closest_pair, &a);
            }
        s->n_sum++;
        i = j;
    }
    free(hits);
    return rc;
}

size_t conn_scan_summary_count(const struct conn_scan *s)
{
    return s->n_sum;
}

const struct conn_summary *conn_scan_summary(const struct conn_scan *s, size_t i)
{
    return &s->sum[i];
}

size_t conn_scan_closest_count(const struct conn_scan *s)
{
    return s->n_closest;
}

const struct conn_pair *conn_scan_closest_pair(const struct conn_scan *s, size_t i)
{
    return &s->closest[i];
}

size_t conn_summarise(const struct conn_hit *hits, size_t n, long limit, struct conn_summary *out,
                      double *min_d)
{
    size_t count = 0;
    for (size_t i = 0; i < n && (limit < 0 || count < (size_t)limit);) {
        struct conn_summary *sum = &out[count];
        *sum = (struct conn_summary){
            hits[i].person, 0, hits[i].time_us, hits[i].time_us, hits[i].id, 0, 0};
        double d = hits[i].d;
        for (; i < n && hits[i].person == sum->person; i++) {
            const struct conn_hit *h = &hits[i];
            sum->count++;
            if (h->time_us < sum->first_seen_us ||
                (h->time_us == sum->first_seen_us && h->id < sum->first_id)) {
                sum->first_seen_us = h->time_us;
                sum->first_id = h->id;
            }
            if (h->time_us > sum->last_seen_us)
                sum->last_seen_us = h->time_us;
            if (h->d < d)
                d = h->d;
        }
        min_d[count++] = d;
    }
    return count;
}
