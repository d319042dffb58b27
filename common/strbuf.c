/* strbuf.c — see strbuf.h. */
#include "strbuf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* The first allocation: most answers fit, so most buffers grow once. */
#define FIRST_CAP 4096

void udc_strbuf_init(struct udc_strbuf *b)
{
    *b = UDC_STRBUF_INIT;
}

int udc_strbuf_grow(struct udc_strbuf *b, size_t n)
{
    if (n >= SIZE_MAX - b->len)
        return -1;
    size_t need = b->len + n + 1;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : FIRST_CAP;
    while (cap < need)
        cap = cap <= SIZE_MAX / 2 ? cap * 2 : need;
    char *grown = realloc(b->data, cap);
    if (!grown)
        return -1;
    if (!b->data)
        grown[0] = '\0';
    b->data = grown;
    b->cap = cap;
    return 0;
}

int udc_strbuf_printf(struct udc_strbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->data ? b->data + b->len : NULL, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (n < 0)
        goto failed;
    if ((size_t)n >= b->cap - b->len) {
        if (udc_strbuf_reserve(b, (size_t)n) != 0)
            goto failed;
        va_start(ap, fmt);
        vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
    }
    udc_strbuf_commit(b, (size_t)n);
    return 0;

failed:
    if (b->data) /* vsnprintf may have written past the content */
        b->data[b->len] = '\0';
    return -1;
}

void udc_strbuf_reset(struct udc_strbuf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void udc_strbuf_free(struct udc_strbuf *b)
{
    free(b->data);
    udc_strbuf_init(b);
}

char *udc_strbuf_detach(struct udc_strbuf *b, size_t *len)
{
    char *text = b->data ? b->data : calloc(1, 1);
    if (!text)
        return NULL;
    if (len)
        *len = b->len;
    udc_strbuf_init(b);
    return text;
}
