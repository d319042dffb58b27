/* timefmt.c — see timefmt.h. Calendar arithmetic is done here (proleptic Gregorian, after
 * H. Hinnant's days_from_civil) rather than with timegm(3) so that it does not depend on
 * the process time zone or on the C library's range for time_t. */
#include "timefmt.h"

#include <string.h>

#include "digits.h"

#define US_PER_SECOND   INT64_C(1000000)
#define SECONDS_PER_DAY INT64_C(86400)

static const char syntax_rule[] =
    "must be a date-time YYYY-MM-DDTHH:MM:SS[.frac][Z|+HH:MM|-HH:MM], e.g. 2020-08-18T10:37:06Z";

struct cursor {
    const char *p;
    const char *end;
};

int64_t udc_days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int *year, int *month, int *day)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    *day = (int)(doy - (153 * mp + 2) / 5 + 1);
    *month = (int)m;
    *year = (int)(yoe + era * 400 + (m <= 2));
}

static int is_leap_year(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap_year(y) ? 29 : days[m - 1];
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Read exactly n decimal digits. */
static int read_digits(struct cursor *c, int n, int *out)
{
    if (c->end - c->p < n)
        return -1;
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!is_digit(c->p[i]))
            return -1;
        v = v * 10 + (c->p[i] - '0');
    }
    c->p += n;
    *out = v;
    return 0;
}

static int read_char(struct cursor *c, const char *accepted)
{
    if (c->p == c->end)
        return -1;
    for (const char *a = accepted; *a; a++) {
        if (*c->p == *a) {
            c->p++;
            return 0;
        }
    }
    return -1;
}

/* ".frac" → microseconds (truncated). Absent fraction gives 0. */
static int read_fraction(struct cursor *c, int64_t *us, const char **why)
{
    *us = 0;
    if (read_char(c, ".") < 0)
        return 0;
    int digits = 0;
    int64_t scale = 100000;
    while (c->p < c->end && is_digit(*c->p)) {
        if (++digits > 9) {
            *why = "fraction of a second must have 1 to 9 digits";
            return -1;
        }
        *us += (*c->p - '0') * scale;
        scale /= 10;
        c->p++;
    }
    if (digits == 0) {
        *why = "fraction of a second must have 1 to 9 digits";
        return -1;
    }
    return 0;
}

/* Zone designator → seconds east of UTC. Absent means UTC. */
static int read_offset(struct cursor *c, int64_t *offset_s, const char **why)
{
    *offset_s = 0;
    if (c->p == c->end || read_char(c, "Zz") == 0)
        return 0;
    char sign = *c->p;
    if (read_char(c, "+-") < 0) {
        *why = syntax_rule;
        return -1;
    }
    int hh, mm;
    if (read_digits(c, 2, &hh) < 0) {
        *why = syntax_rule;
        return -1;
    }
    if (c->p < c->end && *c->p == ':')
        c->p++;
    if (read_digits(c, 2, &mm) < 0) {
        *why = syntax_rule;
        return -1;
    }
    if (hh > 23 || mm > 59) {
        *why = "offset must be between -23:59 and +23:59";
        return -1;
    }
    *offset_s = (int64_t)(hh * 3600 + mm * 60) * (sign == '-' ? -1 : 1);
    return 0;
}

struct civil_time {
    int year, month, day, hour, minute, second;
};

static int read_civil(struct cursor *c, struct civil_time *t)
{
    if (read_digits(c, 4, &t->year) < 0 || read_char(c, "-") < 0 ||
        read_digits(c, 2, &t->month) < 0 || read_char(c, "-") < 0 ||
        read_digits(c, 2, &t->day) < 0 || read_char(c, "Tt ") < 0 ||
        read_digits(c, 2, &t->hour) < 0 || read_char(c, ":") < 0 ||
        read_digits(c, 2, &t->minute) < 0 || read_char(c, ":") < 0 ||
        read_digits(c, 2, &t->second) < 0)
        return -1;
    return 0;
}

static const char *civil_range_error(const struct civil_time *t)
{
    if (t->year < 1970 || t->year > 9999)
        return "year must be between 1970 and 9999";
    if (t->month < 1 || t->month > 12)
        return "month must be between 01 and 12";
    if (t->day < 1 || t->day > days_in_month(t->year, t->month))
        return "day must exist in the month";
    if (t->hour > 23)
        return "hour must be between 00 and 23";
    if (t->minute > 59)
        return "minute must be between 00 and 59";
    if (t->second > 59)
        return "second must be between 00 and 59";
    return NULL;
}

int udc_time_parse(const char *text, size_t len, int64_t *out_us, const char **why)
{
    const char *unused;
    if (why == NULL)
        why = &unused;
    struct cursor c = {text, text + len};
    struct civil_time t;
    if (text == NULL || read_civil(&c, &t) < 0) {
        *why = syntax_rule;
        return -1;
    }
    if ((*why = civil_range_error(&t)) != NULL)
        return -1;
    int64_t frac_us, offset_s;
    if (read_fraction(&c, &frac_us, why) < 0 || read_offset(&c, &offset_s, why) < 0)
        return -1;
    if (c.p != c.end) {
        *why = syntax_rule;
        return -1;
    }
    int64_t seconds = udc_days_from_civil(t.year, t.month, t.day) * SECONDS_PER_DAY +
                      t.hour * 3600 + t.minute * 60 + t.second - offset_s;
    int64_t us = seconds * US_PER_SECOND + frac_us;
    if (us < UDC_TIME_MIN_US || us > UDC_TIME_MAX_US) {
        *why = "must be between 1970-01-01T00:00:00Z and 9999-12-31T23:59:59Z";
        return -1;
    }
    *out_us = us;
    return 0;
}

/* Digits by hand (digits.h): the API formats a few thousand times per answer and ingest one
 * per ping. */
static int format_time(int64_t us, const char *zone, char *buf, size_t size)
{
    if (us < UDC_TIME_MIN_US || us > UDC_TIME_MAX_US || buf == NULL)
        return -1;
    int64_t seconds = us / US_PER_SECOND;
    int micros = (int)(us % US_PER_SECOND);
    int64_t days = seconds / SECONDS_PER_DAY;
    int of_day = (int)(seconds % SECONDS_PER_DAY);
    int year, month, day;
    civil_from_days(days, &year, &month, &day);
    char text[UDC_TIME_BUF], *p = text; /* years 1970-9999: always four digits */
    p = udc_digits_fixed(p, (unsigned)year, 4);
    *p++ = '-';
    p = udc_digits_fixed(p, (unsigned)month, 2);
    *p++ = '-';
    p = udc_digits_fixed(p, (unsigned)day, 2);
    *p++ = 'T';
    p = udc_digits_fixed(p, (unsigned)(of_day / 3600), 2);
    *p++ = ':';
    p = udc_digits_fixed(p, (unsigned)(of_day / 60 % 60), 2);
    *p++ = ':';
    p = udc_digits_fixed(p, (unsigned)(of_day % 60), 2);
    if (micros != 0) {
        *p++ = '.';
        p = udc_digits_fixed(p, (unsigned)micros, 6);
    }
    size_t n = (size_t)(p - text), zone_len = strlen(zone);
    if (n + zone_len >= size)
        return -1;
    memcpy(buf, text, n);
    memcpy(buf + n, zone, zone_len + 1);
    return (int)(n + zone_len);
}

int udc_time_format_rfc3339(int64_t us, char *buf, size_t size)
{
    return format_time(us, "Z", buf, size);
}

int udc_time_format_naive(int64_t us, char *buf, size_t size)
{
    return format_time(us, "", buf, size);
}
