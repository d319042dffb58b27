/* jbuf.c — see jbuf.h. */
#include "jbuf.h"

#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "digits.h"
#include "http.h"
#include "timefmt.h"

/* Room for n more bytes and a NUL; 0, or -1 (and failed) when memory runs out. */
static int reserve(struct jbuf *j, size_t n)
{
    if (j->failed)
        return -1;
    if (udc_strbuf_reserve(&j->text, n) != 0) {
        j->failed = 1;
        return -1;
    }
    return 0;
}

static void append(struct jbuf *j, const char *s, size_t n)
{
    if (j->failed)
        return;
    if (udc_strbuf_append(&j->text, s, n) != 0)
        j->failed = 1;
}

void jbuf_raw(struct jbuf *j, const char *s)
{
    append(j, s, strlen(s));
}

static void separate(struct jbuf *j)
{
    if (j->need_comma)
        append(j, ",", 1);
    j->need_comma = 1;
}

static void open_value(struct jbuf *j, const char *bracket)
{
    separate(j);
    append(j, bracket, 1);
    j->need_comma = 0;
}

static void close_value(struct jbuf *j, const char *bracket)
{
    append(j, bracket, 1);
    j->need_comma = 1;
}

void jbuf_array_begin(struct jbuf *j)
{
    open_value(j, "[");
}

void jbuf_array_end(struct jbuf *j)
{
    close_value(j, "]");
}

void jbuf_obj_begin(struct jbuf *j)
{
    open_value(j, "{");
}

void jbuf_obj_end(struct jbuf *j)
{
    close_value(j, "}");
}

/* Quotes straight into the buffer: once when it has room, which it nearly always has. */
static void quoted(struct jbuf *j, const char *s)
{
    struct udc_strbuf *t = &j->text;
    if (reserve(j, 64) != 0)
        return;
    size_t n = udc_http_json_quote(t->data + t->len, t->cap - t->len, s);
    if (n >= t->cap - t->len) {
        if (reserve(j, n) != 0)
            return;
        udc_http_json_quote(t->data + t->len, t->cap - t->len, s);
    }
    udc_strbuf_commit(t, n);
}

void jbuf_key(struct jbuf *j, const char *key)
{
    separate(j);
    quoted(j, key);
    append(j, ":", 1);
    j->need_comma = 0; /* the value follows without a comma */
}

void jbuf_int(struct jbuf *j, const char *key, int64_t v)
{
    char num[UDC_DIGITS_I64_MAX];
    jbuf_key(j, key);
    char *start = udc_digits_i64(v, num + sizeof num);
    append(j, start, (size_t)(num + sizeof num - start));
    j->need_comma = 1;
}

void jbuf_num(struct jbuf *j, const char *key, double v)
{
    char num[32];
    jbuf_key(j, key);
    if (isfinite(v)) {
        int n = snprintf(num, sizeof num, "%.15g", v);
        if (!strpbrk(num, ".en")) /* keep it a JSON float: 0 → 0.0 */
            n += snprintf(num + n, sizeof num - (size_t)n, ".0");
        append(j, num, (size_t)n);
    } else
        append(j, "null", 4);
    j->need_comma = 1;
}

void jbuf_str(struct jbuf *j, const char *key, const char *v)
{
    jbuf_key(j, key);
    if (v)
        quoted(j, v);
    else
        append(j, "null", 4);
    j->need_comma = 1;
}

void jbuf_time(struct jbuf *j, const char *key, int64_t us)
{
    char text[UDC_TIME_BUF];
    if (udc_time_format_naive(us, text, sizeof text) < 0)
        jbuf_str(j, key, NULL);
    else
        jbuf_str(j, key, text);
}
