/* http.h — the HTTP server of every UdaConnect daemon, on libmicrohttpd.
 *
 *   struct udc_http_options o = { .listen = (const char *[]){"127.0.0.1:30001"}, .nlisten = 1,
 *                                 .threads = 4, .body_max = 1 << 20,
 *                                 .connection_timeout_s = 30, .cors = true };
 *   struct udc_http_server *s = udc_http_new(&o, err, sizeof err);
 *   udc_http_route(s, "GET", "/api/persons/{id}", get_person, db);
 *   udc_http_mount_health(s, is_ready, ctx, NULL);
 *   udc_http_start(s, err, sizeof err);  ...  udc_http_stop(s);
 *
 *   static int get_person(struct udc_http_request *req, void *db) {
 *       const char *id = udc_http_param(req, "id");
 *       ...
 *       return udc_http_respond_json(req, 200, json, len);
 *   }
 *
 * Each listen address gets its own libmicrohttpd daemon (epoll, internal pool of `threads`
 * threads each) and all share one router. Handlers run on those threads, so a handler must
 * not block for long; handlers of one server run concurrently.
 *
 * What the server does by itself: 404 JSON for unknown paths, 405 JSON with `Allow` for a
 * known path with another method, answers CORS preflight (OPTIONS) for known paths, adds
 * `Access-Control-Allow-Origin: *` to every response when cors is on, 413 JSON for a body
 * over body_max (checked against Content-Length before reading; a chunked body is read and
 * dropped up to 4 × body_max, then the connection is closed without an answer), cuts connections
 * that do not deliver a complete request within connection_timeout_s (also clients trickling
 * bytes), counts requests into metrics. HEAD is served by the GET handler; the body is not sent.
 *
 * Handler return value: a handler returns the value of a udc_http_respond_* call (or
 * UDC_HTTP_DONE after one), or UDC_HTTP_PENDING after udc_http_suspend(). A handler that
 * returns without responding gets a 500.
 *
 * Ownership of struct udc_http_request: the server owns it. It is valid from the handler
 * call until the response has been queued; accessors (param, query, header, body) may be used
 * during that time by whoever currently holds the request:
 *   - synchronous: the handler thread, until the handler returns;
 *   - asynchronous: the handler calls udc_http_suspend(req), hands req to exactly one other
 *     party and returns UDC_HTTP_PENDING without touching req again. That party (any thread)
 *     later calls one udc_http_respond_* (and udc_http_add_header as needed), then
 *     udc_http_resume(req) exactly once; after udc_http_resume returns, req may already be
 *     freed and must not be touched. While suspended the connection is not timed out.
 * Every suspended request must be resumed before udc_http_stop() can finish; stop waits for
 * them (so the owner of pending work should answer it, e.g. with 503, when shutting down).
 *
 * Thread-safety: udc_http_route/mount before udc_http_start only. udc_http_stop from one
 * thread. Request functions as described above.
 */
#ifndef UDC_HTTP_H
#define UDC_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct udc_metrics;
struct udc_http_server;
struct udc_http_request;

enum { UDC_HTTP_DONE = 0, UDC_HTTP_PENDING = 1, UDC_HTTP_FAILED = -1 };

typedef int (*udc_http_handler)(struct udc_http_request *req, void *userdata);

struct udc_http_options {
    const char *const *listen; /* "HOST:PORT" each ("[::1]:80", "*:80", port 0 = any) */
    size_t nlisten;
    unsigned threads;              /* worker threads per listen address; 0 → 1 */
    size_t body_max;               /* largest accepted request body; 0 → 1 MiB */
    unsigned connection_timeout_s; /* idle / incomplete-request limit; 0 → 30 */
    bool cors;                     /* Access-Control-* headers and preflight answers */
    unsigned drain_timeout_ms;     /* udc_http_stop: wait for in-flight requests; 0 → 5000 */
    struct udc_metrics *metrics;   /* request counters go here; NULL → udc_metrics_default() */
    unsigned connection_limit;     /* per listen address; 0 → libmicrohttpd's default */
    /* libmicrohttpd's buffer per connection (request line, headers, body chunks, response
     * headers); 0 → its default of 32 KiB. It is zeroed after every request, so a daemon of
     * small requests at high rates saves CPU with a smaller one (requests whose headers do
     * not fit are refused by libmicrohttpd). */
    size_t connection_memory;
};

/* Returns NULL with a message in err when the options are invalid or memory runs out. */
struct udc_http_server *udc_http_new(const struct udc_http_options *opts, char *err, size_t errlen);
/* Binds and starts every listener. 0, or -1 with a message naming the address. */
int udc_http_start(struct udc_http_server *server, char *err, size_t errlen);
/* Stops accepting, lets in-flight requests finish (up to drain_timeout_ms; suspended requests
 * until resumed), closes every connection and frees the server. Also frees a server that was
 * never started. */
void udc_http_stop(struct udc_http_server *server);
/* Port actually bound by listen address i (useful with port 0); 0 if not started. */
uint16_t udc_http_bound_port(const struct udc_http_server *server, size_t i);

/* method: "GET", "POST", ... ; pattern: "/api/persons/{id}/connection". A segment "{name}"
 * matches one non-empty segment; a last segment "{name*}" matches the rest of the path
 * (possibly empty). Literal segments win over parameters when several patterns match.
 * Returns 0, or -1 for a malformed pattern or out of memory. */
int udc_http_route(struct udc_http_server *server, const char *method, const char *pattern,
                   udc_http_handler handler, void *userdata);

/* ---- the request ---- */
const char *udc_http_method(const struct udc_http_request *req);
const char *udc_http_path(const struct udc_http_request *req); /* percent-decoded */
/* The matched pattern, e.g. "/api/persons/{id}" (metrics label, logs). */
const char *udc_http_route_pattern(const struct udc_http_request *req);
/* Path parameter by name, percent-decoded; NULL if the pattern has no such parameter. */
const char *udc_http_param(const struct udc_http_request *req, const char *name);
/* Query parameter (first occurrence), percent-decoded; NULL when absent or without value. */
const char *udc_http_query(const struct udc_http_request *req, const char *name);
/* Request header, name case-insensitive; NULL when absent. */
const char *udc_http_header(const struct udc_http_request *req, const char *name);
/* The whole body (NUL-terminated for convenience; may contain NULs) and its length. */
const char *udc_http_body(const struct udc_http_request *req, size_t *len);
/* Client address as text ("127.0.0.1", "::1"). */
const char *udc_http_remote_addr(const struct udc_http_request *req);

/* ---- responses (exactly one per request) ---- */
/* Extra response header (Location, Link, Retry-After, ETag, Cache-Control, ...). Both strings
 * are copied; may be called before or after the respond call, until the response is sent. */
int udc_http_add_header(struct udc_http_request *req, const char *name, const char *value);
/* Body is copied. Each returns UDC_HTTP_DONE, or UDC_HTTP_FAILED when req already has a
 * response or memory ran out (the client then gets a 500). */
int udc_http_respond(struct udc_http_request *req, unsigned status, const char *content_type,
                     const char *body, size_t len);
int udc_http_respond_json(struct udc_http_request *req, unsigned status, const char *json,
                          size_t len);
int udc_http_respond_text(struct udc_http_request *req, unsigned status, const char *text,
                          size_t len);
/* {"error": "<formatted message>"} with JSON escaping. */
int udc_http_respond_error(struct udc_http_request *req, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Like udc_http_respond, but body is not copied: the server sends it from where it is and
 * calls release(release_ctx) once when done with it (also when this call fails), on any
 * server thread. For a large body shared by many answers (e.g. reference-counted). */
int udc_http_respond_shared(struct udc_http_request *req, unsigned status, const char *content_type,
                            const char *body, size_t len, void (*release)(void *release_ctx),
                            void *release_ctx);

/* Streaming body (Server-Sent Events, large exports), sent chunked. reader fills buf with up
 * to max bytes at stream offset pos and returns the count, UDC_HTTP_STREAM_END when done or
 * UDC_HTTP_STREAM_ERROR to abort the connection. It runs on a server thread; returning 0
 * means "nothing yet" and it will be called again soon, so a reader that waits should block
 * briefly (well under connection_timeout_s, e.g. emitting SSE ": keep-alive" comments).
 * free_cb(ctx) runs once when the response is finished or abandoned (may be NULL). */
#define UDC_HTTP_STREAM_END   ((ssize_t)-1)
#define UDC_HTTP_STREAM_ERROR ((ssize_t)-2)
typedef ssize_t (*udc_http_reader)(void *ctx, uint64_t pos, char *buf, size_t max);
int udc_http_respond_stream(struct udc_http_request *req, unsigned status, const char *content_type,
                            udc_http_reader reader, void *ctx, void (*free_cb)(void *ctx));

/* Serve root_dir/rel_path (a leading '/' is dropped; "" or a path ending in '/' means its
 * index.html). Refuses "..", hidden segments, backslashes and control bytes with 404, as
 * for missing files and non-regular files. Returns like udc_http_respond. */
int udc_http_serve_static(struct udc_http_request *req, const char *root_dir, const char *rel_path);
/* Content-Type for a file name by extension; "application/octet-stream" when unknown. */
const char *udc_http_content_type(const char *filename);

/* ---- asynchronous completion (see "Ownership" above) ---- */
/* Call inside the handler before returning UDC_HTTP_PENDING. 0 or -1. */
int udc_http_suspend(struct udc_http_request *req);
/* Call once from any thread after the respond call. req is invalid afterwards. */
void udc_http_resume(struct udc_http_request *req);

/* ---- built-in endpoints ---- */
/* Return true when ready; otherwise write a short reason into reason. Runs on server threads. */
typedef bool (*udc_http_ready_fn)(void *ctx, char *reason, size_t reason_len);
/* GET /health → 200 "healthy"; GET /ready → 200 {"ready":true} or 503
 * {"ready":false,"reason":...} (ready_fn NULL → always ready); GET /metrics → the registry
 * (NULL → udc_metrics_default()) as Prometheus text. */
int udc_http_mount_health(struct udc_http_server *server, udc_http_ready_fn ready_fn,
                          void *ready_ctx, struct udc_metrics *registry);

/* The small admin server of a worker daemon: one listen address, one thread, /health,
 * /ready (from ready_fn) and /metrics of the default registry. Logs and returns NULL when it
 * cannot start. Stop it with udc_http_stop(). */
struct udc_http_server *udc_http_admin_start(const char *listen, udc_http_ready_fn ready_fn,
                                             void *ready_ctx);

/* Write s as a JSON string literal (with quotes) into buf; returns the length it needed
 * (like snprintf: the output is truncated, still NUL-terminated, when that is >= size; a
 * truncated output never ends inside an escape or a UTF-8 sequence). Invalid UTF-8 becomes
 * \ufffd, control characters \n \r \t or \u00XX. buf may be NULL when size is 0. */
size_t udc_http_json_quote(char *buf, size_t size, const char *s);

#endif
