/* http_response.c — building responses and queueing them with libmicrohttpd. See http.h. */
#include "http_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when it is not valid UTF-8. */
static size_t utf8_sequence(const unsigned char *s)
{
    if (s[0] < 0x80)
        return 1;
    size_t len;
    unsigned min;
    unsigned cp;
    if ((s[0] & 0xe0) == 0xc0) {
        len = 2, min = 0x80, cp = s[0] & 0x1f;
    } else if ((s[0] & 0xf0) == 0xe0) {
        len = 3, min = 0x800, cp = s[0] & 0x0f;
    } else if ((s[0] & 0xf8) == 0xf0) {
        len = 4, min = 0x10000, cp = s[0] & 0x07;
    } else {
        return 0;
    }
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

/* Bytes copied as they are: printable ASCII other than '"' and '\\'. */
static inline bool json_plain(unsigned char c)
{
    return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
}

/* The output of one quote call: written (≤ size - 1) and needed bytes, snprintf-like. */
struct quote_out {
    char *buf;
    size_t size, written, need;
};

/* Appends k bytes. A splittable piece (plain ASCII) may be cut where the buffer ends; any
 * other (an escape, a UTF-8 sequence) is written whole or not at all, so that truncated
 * output never ends inside one. */
static void quote_put(struct quote_out *o, const void *src, size_t k, bool splittable)
{
    if (o->size > 0 && o->written == o->need) {
        size_t room = o->size - 1 - o->written;
        size_t take = k <= room ? k : splittable ? room : 0;
        memcpy(o->buf + o->written, src, take);
        o->written += take;
    }
    o->need += k;
}

/* Writes the escape or character at p (not plain, not NUL); returns the bytes consumed. */
static size_t quote_special(struct quote_out *o, const unsigned char *p)
{
    char esc[8];
    if (*p == '"' || *p == '\\') {
        esc[0] = '\\', esc[1] = (char)*p;
        quote_put(o, esc, 2, false);
    } else if (*p == '\n') {
        quote_put(o, "\\n", 2, false);
    } else if (*p == '\r') {
        quote_put(o, "\\r", 2, false);
    } else if (*p == '\t') {
        quote_put(o, "\\t", 2, false);
    } else if (*p < 0x80) { /* the other control characters and DEL */
        static const char hex[] = "0123456789abcdef";
        memcpy(esc, "\\u00", 4);
        esc[4] = hex[*p >> 4], esc[5] = hex[*p & 0xf];
        quote_put(o, esc, 6, false);
    } else {
        size_t seq = utf8_sequence(p);
        if (seq == 0) { /* invalid UTF-8 would make the whole document invalid */
            quote_put(o, "\\ufffd", 6, false);
            return 1;
        }
        quote_put(o, p, seq, false);
        return seq;
    }
    return 1;
}

/* One pass, and runs of plain ASCII (nearly all of a name) go out with one memcpy: quoting
 * was a fifth of the time of GET /api/persons when it went byte by byte. */
size_t udc_http_json_quote(char *buf, size_t size, const char *s)
{
    struct quote_out o = {.buf = buf, .size = size};
    const unsigned char *p = (const unsigned char *)s;
    quote_put(&o, "\"", 1, false);
    for (;;) {
        const unsigned char *run = p;
        while (json_plain(*p))
            p++;
        if (p > run)
            quote_put(&o, run, (size_t)(p - run), true);
        if (*p == '\0')
            break;
        p += quote_special(&o, p);
    }
    quote_put(&o, "\"", 1, false);
    if (size > 0)
        buf[o.written] = '\0';
    return o.need;
}

/* malloc'd JSON string literal of s. */
static char *json_quote_alloc(const char *s)
{
    size_t need = udc_http_json_quote(NULL, 0, s);
    char *out = malloc(need + 1);
    if (out != NULL)
        udc_http_json_quote(out, need + 1, s);
    return out;
}

int udc_http_add_header(struct udc_http_request *req, const char *name, const char *value)
{
    if (name == NULL || value == NULL || strpbrk(name, "\r\n:") || strpbrk(value, "\r\n"))
        return UDC_HTTP_FAILED; /* header injection */
    struct http_header *h = calloc(1, sizeof *h);
    if (h == NULL)
        return UDC_HTTP_FAILED;
    h->name = strdup(name);
    h->value = strdup(value);
    if (h->name == NULL || h->value == NULL) {
        free(h->name);
        free(h->value);
        free(h);
        return UDC_HTTP_FAILED;
    }
    *req->headers_tail = h;
    req->headers_tail = &h->next;
    return UDC_HTTP_DONE;
}

/* Takes ownership of body (malloc'd) whatever happens. */
static int respond_owned(struct udc_http_request *req, unsigned status, const char *content_type,
                         char *body, size_t len)
{
    if (req->resp.set || req->state == REQ_QUEUED) {
        udc_log_error("second response to one request", "path=%s", req->path);
        free(body);
        return UDC_HTTP_FAILED;
    }
    char *type = strdup(content_type ? content_type : "application/octet-stream");
    if (type == NULL) {
        free(body);
        return UDC_HTTP_FAILED;
    }
    req->resp = (struct http_pending){.set = true,
                                      .status = status,
                                      .kind = BODY_BUFFER,
                                      .content_type = type,
                                      .body = body,
                                      .len = len,
                                      .fd = -1};
    return UDC_HTTP_DONE;
}

int udc_http_respond(struct udc_http_request *req, unsigned status, const char *content_type,
                     const char *body, size_t len)
{
    char *copy = malloc(len + 1);
    if (copy == NULL)
        return UDC_HTTP_FAILED;
    if (len > 0)
        memcpy(copy, body, len);
    copy[len] = '\0';
    return respond_owned(req, status, content_type, copy, len);
}

int udc_http_respond_shared(struct udc_http_request *req, unsigned status, const char *content_type,
                            const char *body, size_t len, void (*release)(void *release_ctx),
                            void *release_ctx)
{
    if (respond_owned(req, status, content_type, NULL, len) != UDC_HTTP_DONE) {
        release(release_ctx);
        return UDC_HTTP_FAILED;
    }
    req->resp.body = (char *)body;
    req->resp.release = release;
    req->resp.release_ctx = release_ctx;
    return UDC_HTTP_DONE;
}

int udc_http_respond_json(struct udc_http_request *req, unsigned status, const char *json,
                          size_t len)
{
    return udc_http_respond(req, status, "application/json", json, len);
}

int udc_http_respond_text(struct udc_http_request *req, unsigned status, const char *text,
                          size_t len)
{
    return udc_http_respond(req, status, "text/plain; charset=utf-8", text, len);
}

int udc_http_respond_error(struct udc_http_request *req, unsigned status, const char *fmt, ...)
{
    char *message = NULL;
    va_list ap;
    va_start(ap, fmt);
    int rc = vasprintf(&message, fmt, ap);
    va_end(ap);
    char *quoted = rc >= 0 ? json_quote_alloc(message) : NULL;
    char *body = NULL;
    int len = quoted ? asprintf(&body, "{\"error\":%s}", quoted) : -1;
    free(message);
    free(quoted);
    if (len < 0)
        return UDC_HTTP_FAILED;
    return respond_owned(req, status, "application/json", body, (size_t)len);
}

int udc_http_respond_stream(struct udc_http_request *req, unsigned status, const char *content_type,
                            udc_http_reader reader, void *ctx, void (*free_cb)(void *ctx))
{
    int rc = respond_owned(req, status, content_type, NULL, 0);
    if (rc != UDC_HTTP_DONE) {
        if (free_cb != NULL)
            free_cb(ctx);
        return rc;
    }
    req->resp.kind = BODY_STREAM;
    req->resp.reader = reader;
    req->resp.reader_ctx = ctx;
    req->resp.reader_free = free_cb;
    return UDC_HTTP_DONE;
}

/* ---- the server's own answers ---- */

int http_respond_not_found(struct udc_http_request *req)
{
    char *path = json_quote_alloc(req->path);
    char *body = NULL;
    int len = path ? asprintf(&body, "{\"error\":\"not found\",\"path\":%s}", path) : -1;
    free(path);
    if (len < 0)
        return UDC_HTTP_FAILED;
    return respond_owned(req, 404, "application/json", body, (size_t)len);
}

int http_respond_method_not_allowed(struct udc_http_request *req)
{
    static const char body[] = "{\"message\":\"The method is not allowed for the requested URL.\"}";
    udc_http_add_header(req, "Allow", req->match.allow);
    return udc_http_respond_json(req, 405, body, sizeof body - 1);
}

int http_respond_preflight(struct udc_http_request *req)
{
    udc_http_add_header(req, "Allow", req->match.allow);
    if (req->server->opts.cors) {
        const char *asked = udc_http_header(req, "Access-Control-Request-Headers");
        udc_http_add_header(req, "Access-Control-Allow-Methods", req->match.allow);
        udc_http_add_header(req, "Access-Control-Allow-Headers", asked ? asked : HTTP_CORS_HEADERS);
        udc_http_add_header(req, "Access-Control-Max-Age", "86400");
    }
    return udc_http_respond(req, 200, "text/plain; charset=utf-8", "", 0);
}

int http_respond_too_large(struct udc_http_request *req)
{
    return udc_http_respond_error(req, 413, "request body larger than %zu bytes",
                                  req->server->opts.body_max);
}

/* ---- queueing ---- */

static struct MHD_Response *create_mhd_response(struct http_pending *p)
{
    struct MHD_Response *r = NULL;
    switch (p->kind) {
    case BODY_BUFFER:
        if (p->release != NULL)
            r = MHD_create_response_from_buffer_with_free_callback_cls(p->len, p->body, p->release,
                                                                       p->release_ctx);
        else
            r = MHD_create_response_from_buffer_with_free_callback(p->len, p->body, free);
        if (r != NULL)
            p->body = NULL, p->release = NULL; /* MHD frees it with the response */
        break;
    case BODY_STREAM:
        r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, p->reader, p->reader_ctx,
                                              p->reader_free);
        if (r != NULL)
            p->reader_free = NULL, p->kind = BODY_NONE;
        break;
    case BODY_FD:
        r = MHD_create_response_from_fd64(p->fd_size, p->fd);
        if (r != NULL)
            p->fd = -1;
        break;
    case BODY_NONE:
        break;
    }
    return r;
}

static void add_response_headers(struct udc_http_request *req, struct MHD_Response *r)
{
    struct udc_http_server *s = req->server;
    if (req->resp.content_type != NULL)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, req->resp.content_type);
    for (const struct http_header *h = req->headers; h != NULL; h = h->next)
        MHD_add_response_header(r, h->name, h->value);
    if (s->opts.cors) {
        MHD_add_response_header(r, MHD_HTTP_HEADER_ACCESS_CONTROL_ALLOW_ORIGIN, "*");
        MHD_add_response_header(r, "Access-Control-Expose-Headers",
                                "Location, Link, Retry-After, ETag, X-Next-Cursor");
    }
    if (atomic_load(&s->stopping))
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
}

enum MHD_Result http_queue_response(struct udc_http_request *req)
{
    if (!req->resp.set)
        udc_http_respond_error(req, 500, "internal error: no response");
    struct MHD_Response *r = create_mhd_response(&req->resp);
    if (r == NULL) {
        udc_log_error("cannot create response", "path=%s", req->path);
        return MHD_NO;
    }
    add_response_headers(req, r);
    enum MHD_Result rc = MHD_queue_response(req->conn, req->resp.status, r);
    MHD_destroy_response(r);
    req->state = REQ_QUEUED;
    if (rc == MHD_YES)
        req->status_sent = req->resp.status;
    return rc;
}
