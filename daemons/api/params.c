/* params.c — see params.h. */
#include "params.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "timefmt.h"

/* Digits only, no sign, no spaces: strtoll alone would accept " 12" and "+12". */
static int all_digits(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return 0;
    return 1;
}

static int parse_int64(const char *s, int64_t *out)
{
    if (!all_digits(s) || strlen(s) > 18)
        return -1;
    errno = 0;
    long long v = strtoll(s, NULL, 10);
    if (errno)
        return -1;
    *out = v;
    return 0;
}

int param_id(const char *text, const char *name, int32_t *out, char *err, size_t errlen)
{
    int64_t v;
    if (!text || parse_int64(text, &v) != 0 || v < 1 || v > INT32_MAX) {
        snprintf(err, errlen, "%s must be a positive integer", name);
        return -1;
    }
    *out = (int32_t)v;
    return 0;
}

static int is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int param_date(const char *text, const char *name, int required, int *present, int64_t *out,
               char *err, size_t errlen)
{
    static const int month_days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (present)
        *present = text != NULL && *text != '\0';
    if (!text || !*text) {
        if (!required)
            return 0;
        snprintf(err, errlen, "%s is required (YYYY-MM-DD)", name);
        return -1;
    }
    int y, m, d, used = 0;
    if (strlen(text) != 10 || sscanf(text, "%4d-%2d-%2d%n", &y, &m, &d, &used) != 3 || used != 10 ||
        text[4] != '-' || text[7] != '-' || y < 1970 || y > 9998 || m < 1 || m > 12 || d < 1 ||
        d > month_days[m - 1] + (m == 2 && is_leap(y))) {
        snprintf(err, errlen, "%s must be a date YYYY-MM-DD", name);
        return -1;
    }
    *out = udc_days_from_civil(y, m, d) * 86400 * INT64_C(1000000);
    return 0;
}

static int parse_number(const char *s, double *out)
{
    char *end;
    if (!*s || strchr(" \t+", s[0]) || strpbrk(s, "xXnNiI"))
        return -1;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

int param_distance(const char *text, double def, double *out, char *err, size_t errlen)
{
    if (!text || !*text) {
        *out = def;
        return 0;
    }
    double v;
    if (parse_number(text, &v) != 0 || v < 0 || v > 1e6) {
        snprintf(err, errlen, "distance must be a number of metres between 0 and 1000000");
        return -1;
    }
    *out = v;
    return 0;
}

int param_window(const char *text, int *present, int32_t *out, char *err, size_t errlen)
{
    int64_t v;
    *present = text && *text;
    if (!*present)
        return 0;
    if (parse_int64(text, &v) != 0 || v > 525600) {
        snprintf(err, errlen, "window must be a whole number of minutes between 0 and 525600");
        return -1;
    }
    *out = (int32_t)v;
    return 0;
}

int param_limit(const char *text, int32_t max, int *present, int32_t *out, char *err, size_t errlen)
{
    int64_t v;
    *present = text && *text;
    if (!*present)
        return 0;
    if (parse_int64(text, &v) != 0 || v < 1 || v > max) {
        snprintf(err, errlen, "limit must be an integer between 1 and %d", (int)max);
        return -1;
    }
    *out = (int32_t)v;
    return 0;
}

int param_cursor_id(const char *text, int64_t *out, char *err, size_t errlen)
{
    if (parse_int64(text, out) != 0) {
        snprintf(err, errlen, "cursor is not one this API handed out");
        return -1;
    }
    return 0;
}

int param_cursor_pair(const char *text, int64_t *first, int64_t *second, char *err, size_t errlen)
{
    char a[24], b[24];
    const char *dot = strchr(text, '.');
    size_t la = dot ? (size_t)(dot - text) : 0;
    if (!dot || la == 0 || la >= sizeof a || strlen(dot + 1) >= sizeof b) {
        snprintf(err, errlen, "cursor is not one this API handed out");
        return -1;
    }
    memcpy(a, text, la);
    a[la] = '\0';
    snprintf(b, sizeof b, "%s", dot + 1);
    int neg = a[0] == '-'; /* times before 1970 cannot occur, but keep the form total */
    if (parse_int64(a + neg, first) != 0 || parse_int64(b, second) != 0) {
        snprintf(err, errlen, "cursor is not one this API handed out");
        return -1;
    }
    if (neg)
        *first = -*first;
    return 0;
}

int param_search(const char *text, char *err, size_t errlen)
{
    size_t n = strlen(text);
    if (n == 0 || n > 100) {
        snprintf(err, errlen, "q must be 1 to 100 characters");
        return -1;
    }
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            snprintf(err, errlen, "q must not contain control characters");
            return -1;
        }
    }
    return 0;
}
