/* gen_pings.c — deterministic synthetic conference data for `scripts/gen-data` and
 * `scripts/bench`.
 *
 * A venue of B booths spread over a disc of about 2 km; P people, each on D days from 09:00
 * to 18:00 UTC visiting booths one after another. A visit stands at one spot (a random point
 * within --spot-radius metres of the booth) and pings every 30–90 s with metre-scale jitter
 * around it; between visits people walk (no pings). Same options, same seed: same bytes on
 * every machine (own PRNG, no libc rand, fixed output formatting).
 *
 * usage: gen_pings [options] FORMAT
 *   FORMAT  persons  TSV for COPY person (id, first_name, last_name, company_name)
 *           copy     TSV for COPY location (event_id, person_id, coordinate as hex EWKB,
 *                    creation_time, source), sorted by creation_time
 *           csv      person_id,latitude,longitude,creation_time (sorted, with header)
 *           json     one POST /api/locations body per line (no event_id)
 *           batch    one POST /api/locations/batch body of --batch pings per line
 *   --people P --booths B --days D --pings N --seed S --start YYYY-MM-DD
 *   --spot-radius M (metres, default 10) --jitter M (metres, σ per axis, default 1)
 *   --batch K (default 100) --source NAME (copy format; default synthetic)
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define VENUE_LAT   37.5536
#define VENUE_LON   -122.2908
#define VENUE_R_M   1000.0
#define M_PER_DEG   111320.0
#define DAY_START_S (9 * 3600)
#define DAY_LEN_S   (9 * 3600)

struct opts {
    long people, booths, days, pings, batch;
    uint64_t seed;
    double spot_radius_m, jitter_m;
    int64_t start_s; /* start date 00:00 UTC, seconds since the epoch */
    const char *source;
};

struct ping {
    int64_t t_ms;
    int32_t person;
    double lat, lon;
};

/* --- deterministic randomness (splitmix64) ----------------------------------------------- */

struct rng {
    uint64_t s;
};

static uint64_t rng_next(struct rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static struct rng rng_for(uint64_t seed, uint64_t stream)
{
    struct rng r = {seed * 0x2545f4914f6cdd1dULL ^ (stream + 1) * 0x9e3779b97f4a7c15ULL};
    rng_next(&r);
    return r;
}

static double rng_unit(struct rng *r) /* [0, 1) */
{
    return (double)(rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

static long rng_range(struct rng *r, long lo, long hi) /* [lo, hi] */
{
    return lo + (long)(rng_next(r) % (uint64_t)(hi - lo + 1));
}

static double rng_gauss(struct rng *r)
{
    double u = rng_unit(r), v = rng_unit(r);
    return sqrt(-2.0 * log(1.0 - u)) * cos(2.0 * M_PI * v);
}

/* A uniform point in a disc of radius_m around (lat, lon). */
static void point_in_disc(struct rng *r, double lat, double lon, double radius_m, double *olat,
                          double *olon)
{
    double d = radius_m * sqrt(rng_unit(r)), a = 2.0 * M_PI * rng_unit(r);
    *olat = lat + d * sin(a) / M_PER_DEG;
    *olon = lon + d * cos(a) / (M_PER_DEG * cos(lat * M_PI / 180.0));
}

/* --- the venue and its visitors -------------------------------------------------------- */

static const char *const first_names[] = {
    "Ada",       "Alan",   "Barbara", "Brian",    "Carol",    "Dennis", "Edsger", "Frances",
    "Grace",     "Ken",    "Linus",   "Margaret", "Niklaus",  "Radia",  "Rob",    "Shafi",
    "Sophie",    "Tim",    "Tony",    "Ward",     "Yukihiro", "Zainab", "Hedy",   "John",
    "Katherine", "Leslie", "Mary",    "Ole",      "Peter",    "Ruth",   "Susan",  "Vint"};
static const char *const last_names[] = {
    "Lovelace", "Turing",     "Liskov",   "Kernighan",   "Kay",      "Ritchie",    "Dijkstra",
    "Allen",    "Hopper",     "Thompson", "Torvalds",    "Hamilton", "Wirth",      "Perlman",
    "Pike",     "Goldwasser", "Wilson",   "Berners-Lee", "Hoare",    "Cunningham", "Matsumoto",
    "Abbas",    "Lamarr",     "McCarthy", "Johnson",     "Lamport",  "Keller",     "Dahl",
    "Naur",     "Teitelbaum", "Kare",     "Cerf"};
static const char *const companies[] = {
    "Alpha Geo",   "Beacon Labs",  "Compass Works",  "Delta Mapping", "Evergreen Data",
    "Fathom Inc",  "Gridline",     "Harbor Systems", "Isobar Co",     "Junction Ltd",
    "Keystone AG", "Latitude One", "Meridian Soft",  "North Star",    "Orbit Analytics",
    "Parallax",    "Quadrant",     "Radius Tech",    "Sextant",       "Tangent Partners"};
#define COUNT(a) (long)(sizeof(a) / sizeof((a)[0]))

static void emit_persons(const struct opts *o)
{
    for (long p = 1; p <= o->people; p++) {
        struct rng r = rng_for(o->seed, 0x70000000ULL + (uint64_t)p);
        printf("%ld\t%s\t%s\t%s\n", p, first_names[rng_range(&r, 0, COUNT(first_names) - 1)],
               last_names[rng_range(&r, 0, COUNT(last_names) - 1)],
               companies[rng_range(&r, 0, COUNT(companies) - 1)]);
    }
}

/* The pings of one person on one day: `quota` pings in visits of 3–15 pings, 30–90 s apart,
 * with walks between visits sharing out the rest of the 09:00–18:00 day. */
static size_t person_day(const struct opts *o, const double *booth_lat, const double *booth_lon,
                         long person, long day, long quota, struct ping *out)
{
    struct rng r = rng_for(o->seed, ((uint64_t)person << 16) | (uint64_t)day);
    if (quota <= 0)
        return 0;
    /* Visit sizes and the gaps inside visits first, so the walks can fill the day exactly. */
    long sizes[512];
    long visits = 0, left = quota;
    while (left > 0 && visits < 512) {
        long k = rng_range(&r, 3, 15);
        if (k > left)
            k = left;
        sizes[visits++] = k;
        left -= k;
    }
    if (left > 0)
        sizes[visits - 1] += left;
    int32_t *steps = malloc((size_t)quota * sizeof *steps);
    if (!steps)
        abort();
    double busy_ms = 0;
    for (long i = 0; i < quota; i++) {
        steps[i] = (int32_t)rng_range(&r, 30000, 90000);
        busy_ms += steps[i];
    }
    double day_ms = (double)DAY_LEN_S * 1000.0 - 60000.0, scale = 1.0;
    double free_ms = day_ms - busy_ms;
    if (free_ms < 0) { /* more pings than a day holds at these intervals: squeeze them */
        scale = day_ms / busy_ms;
        free_ms = 0;
    }
    double *walk = malloc((size_t)(visits + 1) * sizeof *walk), walk_sum = 0;
    if (!walk)
        abort();
    for (long v = 0; v <= visits; v++) {
        walk[v] = 0.2 + rng_unit(&r);
        walk_sum += walk[v];
    }
    double t = (double)(o->start_s + day * 86400 + DAY_START_S) * 1000.0;
    size_t n = 0;
    long step = 0;
    for (long v = 0; v < visits; v++) {
        t += free_ms * walk[v] / walk_sum;
        long b = rng_range(&r, 0, o->booths - 1);
        double spot_lat, spot_lon;
        point_in_disc(&r, booth_lat[b], booth_lon[b], o->spot_radius_m, &spot_lat, &spot_lon);
        double m_per_deg_lon = M_PER_DEG * cos(spot_lat * M_PI / 180.0);
        for (long k = 0; k < sizes[v]; k++) {
            out[n].t_ms = (int64_t)t;
            out[n].person = (int32_t)person;
            out[n].lat = spot_lat + o->jitter_m * rng_gauss(&r) / M_PER_DEG;
            out[n].lon = spot_lon + o->jitter_m * rng_gauss(&r) / m_per_deg_lon;
            n++;
            t += steps[step++] * scale;
        }
    }
    free(steps);
    free(walk);
    return n;
}

static int by_time(const void *a, const void *b)
{
    const struct ping *x = a, *y = b;
    if (x->t_ms != y->t_ms)
        return x->t_ms < y->t_ms ? -1 : 1;
    return (x->person > y->person) - (x->person < y->person);
}

static struct ping *generate(const struct opts *o, size_t *count)
{
    double *blat = malloc((size_t)o->booths * sizeof *blat);
    double *blon = malloc((size_t)o->booths * sizeof *blon);
    struct ping *all = malloc((size_t)o->pings * sizeof *all);
    if (!blat || !blon || !all)
        abort();
    struct rng r = rng_for(o->seed, 0x60000000ULL);
    for (long b = 0; b < o->booths; b++)
        point_in_disc(&r, VENUE_LAT, VENUE_LON, VENUE_R_M, &blat[b], &blon[b]);
    size_t n = 0;
    long slots = o->people * o->days;
    for (long p = 0; p < o->people; p++) {
        for (long d = 0; d < o->days; d++) {
            long slot = p * o->days + d;
            long quota = o->pings / slots + (slot < o->pings % slots ? 1 : 0);
            n += person_day(o, blat, blon, p + 1, d, quota, all + n);
        }
    }
    qsort(all, n, sizeof *all, by_time);
    free(blat);
    free(blon);
    *count = n;
    return all;
}

/* --- output ----------------------------------------------------------------------------- */

static void format_time(int64_t t_ms, char *buf, size_t len, int iso)
{
    time_t s = (time_t)(t_ms / 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    snprintf(buf, len,
             iso ? "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ" : "%04d-%02d-%02d %02d:%02d:%02d.%03d+00",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
             (int)(t_ms % 1000));
}

/* Point(lon, lat) with SRID 4326 as little-endian hex EWKB. */
static void ewkb_hex(double lon, double lat, char out[51])
{
    static const char hex[] = "0123456789ABCDEF";
    unsigned char b[25] = {0x01, 0x01, 0x00, 0x00, 0x20, 0xE6, 0x10, 0x00, 0x00};
    memcpy(b + 9, &lon, 8); /* x86 and every platform this runs on are little-endian */
    memcpy(b + 17, &lat, 8);
    for (int i = 0; i < 25; i++) {
        out[2 * i] = hex[b[i] >> 4];
        out[2 * i + 1] = hex[b[i] & 15];
    }
    out[50] = '\0';
}

/* A version-7 UUID from the ping's time, as udc-ingest-http makes for a ping that comes
 * without one (common/uuid.h): the loaded rows' ids are then in creation_time order, as the
 * ids of the rows the pipeline stores are in arrival order. */
static void uuid_for(uint64_t seed, size_t i, int64_t t_ms, char out[37])
{
    struct rng r = rng_for(seed ^ 0x5eedULL, 0x80000000ULL + i);
    uint64_t hi = rng_next(&r), lo = rng_next(&r);
    hi = (uint64_t)t_ms << 16 | 0x7000ULL | (hi & 0xfffULL);   /* version 7 */
    lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL; /* variant */
    snprintf(out, 37, "%08x-%04x-%04x-%04x-%012llx", (unsigned)(hi >> 32),
             (unsigned)(hi >> 16 & 0xffff), (unsigned)(hi & 0xffff), (unsigned)(lo >> 48),
             (unsigned long long)(lo & 0xffffffffffffULL));
}

static void print_json_ping(const struct ping *p)
{
    char t[40];
    format_time(p->t_ms, t, sizeof t, 1);
    printf("{\"person_id\":%d,\"latitude\":%.7f,\"longitude\":%.7f,\"creation_time\":\"%s\"}",
           p->person, p->lat, p->lon, t);
}

static void emit(const struct opts *o, const char *format)
{
    size_t n;
    struct ping *all = generate(o, &n);
    char t[40], wkb[51], id[37];
    if (strcmp(format, "csv") == 0)
        printf("person_id,latitude,longitude,creation_time\n");
    for (size_t i = 0; i < n; i++) {
        const struct ping *p = &all[i];
        if (strcmp(format, "copy") == 0) {
            format_time(p->t_ms, t, sizeof t, 0);
            ewkb_hex(p->lon, p->lat, wkb);
            uuid_for(o->seed, i, p->t_ms, id);
            printf("%s\t%d\t%s\t%s\t%s\n", id, p->person, wkb, t, o->source);
        } else if (strcmp(format, "csv") == 0) {
            format_time(p->t_ms, t, sizeof t, 1);
            printf("%d,%.7f,%.7f,%s\n", p->person, p->lat, p->lon, t);
        } else if (strcmp(format, "json") == 0) {
            print_json_ping(p);
            putchar('\n');
        } else { /* batch */
            printf(i % (size_t)o->batch == 0 ? "{\"locations\":[" : ",");
            print_json_ping(p);
            if (i % (size_t)o->batch == (size_t)o->batch - 1 || i == n - 1)
                printf("]}\n");
        }
    }
    free(all);
}

static int parse_date(const char *s, int64_t *out)
{
    struct tm tm = {0};
    char *end = strptime(s, "%Y-%m-%d", &tm);
    if (!end || *end)
        return -1;
    *out = (int64_t)timegm(&tm);
    return 0;
}

static int usage(void)
{
    fprintf(stderr,
            "usage: gen_pings [--people P] [--booths B] [--days D] [--pings N] [--seed S]\n"
            "                 [--start YYYY-MM-DD] [--spot-radius M] [--jitter M] [--batch K]\n"
            "                 [--source NAME]\n"
            "                 persons|copy|csv|json|batch\n");
    return 2;
}

int main(int argc, char **argv)
{
    struct opts o = {.people = 1000,
                     .booths = 300,
                     .days = 3,
                     .pings = 500000,
                     .batch = 100,
                     .seed = 42,
                     .spot_radius_m = 10.0,
                     .jitter_m = 1.0,
                     .source = "synthetic"};
    parse_date("2020-08-17", &o.start_s);
    const char *format = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (a[0] != '-') {
            format = a;
            continue;
        }
        if (!v)
            return usage();
        i++;
        if (strcmp(a, "--people") == 0)
            o.people = atol(v);
        else if (strcmp(a, "--booths") == 0)
            o.booths = atol(v);
        else if (strcmp(a, "--days") == 0)
            o.days = atol(v);
        else if (strcmp(a, "--pings") == 0)
            o.pings = atol(v);
        else if (strcmp(a, "--batch") == 0)
            o.batch = atol(v);
        else if (strcmp(a, "--seed") == 0)
            o.seed = strtoull(v, NULL, 10);
        else if (strcmp(a, "--spot-radius") == 0)
            o.spot_radius_m = atof(v);
        else if (strcmp(a, "--jitter") == 0)
            o.jitter_m = atof(v);
        else if (strcmp(a, "--source") == 0)
            o.source = v;
        else if (strcmp(a, "--start") == 0) {
            if (parse_date(v, &o.start_s) != 0)
                return usage();
        } else
            return usage();
    }
    if (!format || o.people < 1 || o.booths < 1 || o.days < 1 || o.pings < 1 || o.batch < 1 ||
        o.pings / (o.people * o.days) > 3 * 512 || o.spot_radius_m < 0 || o.jitter_m < 0)
        return usage();
    if (strcmp(format, "persons") == 0)
        emit_persons(&o);
    else if (!strcmp(format, "copy") || !strcmp(format, "csv") || !strcmp(format, "json") ||
             !strcmp(format, "batch"))
        emit(&o, format);
    else
        return usage();
    return fflush(stdout) == 0 ? 0 : 1;
}
