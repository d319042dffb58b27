/* strbuf.h — a growable byte buffer for building text (JSON answers, SQL array literals).
 *
 *   struct udc_strbuf b = UDC_STRBUF_INIT;
 *   if (udc_strbuf_append_str(&b, "{\"id\":") != 0 || udc_strbuf_printf(&b, "%d}", id) != 0)
 *       → out of memory (b still holds what it held before the failed call)
 *   use b.data, b.len;            or   char *text = udc_strbuf_detach(&b, &len); ... free(text);
 *   udc_strbuf_free(&b);
 *
 * data[0..len) is the content; once anything was added, data[len] is a NUL, so data is also
 * a C string (unless the content itself holds NULs). data is NULL until the first growth.
 * Every function returns 0, or -1 when memory runs out or the size would overflow; a failed
 * call leaves the buffer valid and its content unchanged.
 *
 * Writing in place: after udc_strbuf_reserve(b, n) succeeds, the cap - len bytes at
 * data + len (at least n + 1) are the caller's to fill; udc_strbuf_commit(b, k) then adds the
 * first k <= n of them to the content.
 *
 * Not thread-safe: one buffer belongs to one thread at a time.
 */
#ifndef UDC_STRBUF_H
#define UDC_STRBUF_H

#include <stddef.h>
#include <string.h>

struct udc_strbuf {
    char *data;
    size_t len; /* bytes of content */
    size_t cap; /* bytes allocated at data (content, NUL and spare room) */
};

#define UDC_STRBUF_INIT ((struct udc_strbuf){NULL, 0, 0})

void udc_strbuf_init(struct udc_strbuf *b);

int udc_strbuf_printf(struct udc_strbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Empties the buffer and keeps its memory for reuse. */
void udc_strbuf_reset(struct udc_strbuf *b);

/* Releases the memory; the buffer is empty (and usable) afterwards. */
void udc_strbuf_free(struct udc_strbuf *b);

/* Hands the content over as a NUL-terminated malloc'd string (caller frees), its length in
 * *len when len is not NULL, and leaves the buffer empty. NULL only when memory runs out (an
 * empty buffer that never grew yields a new ""); the buffer is then unchanged. */
char *udc_strbuf_detach(struct udc_strbuf *b, size_t *len);

/* The slow path of udc_strbuf_reserve: more memory. */
int udc_strbuf_grow(struct udc_strbuf *b, size_t n);

/* Room for n more bytes of content and the NUL after them.
 * Inline, as is appending, because answers are built from many short pieces: when there is
 * room (nearly always) reserving and appending are a compare and a copy, with no call. */
static inline int udc_strbuf_reserve(struct udc_strbuf *b, size_t n)
{
    return n < b->cap - b->len ? 0 : udc_strbuf_grow(b, n);
}

/* Adds k bytes written in place after a successful udc_strbuf_reserve(b, n), k <= n. */
static inline void udc_strbuf_commit(struct udc_strbuf *b, size_t k)
{
    b->len += k;
    b->data[b->len] = '\0';
}

static inline int udc_strbuf_append(struct udc_strbuf *b, const void *bytes, size_t n)
{
    if (udc_strbuf_reserve(b, n) != 0)
        return -1;
    memcpy(b->data + b->len, bytes, n);
    udc_strbuf_commit(b, n);
    return 0;
}

static inline int udc_strbuf_append_str(struct udc_strbuf *b, const char *s)
{
    return udc_strbuf_append(b, s, strlen(s));
}

#endif
