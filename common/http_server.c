/* http_server.c — libmicrohttpd daemons, request dispatch, lifecycle, slow-client reaper.
 * See http.h.
 *
 * Request life on a server thread (libmicrohttpd calls on_request several times per request):
 *   1st call    headers complete: create the request, refuse a too large Content-Length;
 *   next calls  body data: buffer it up to body_max;
 *   last call   body complete: route and call the handler, queue its response;
 *   (resumed)   after udc_http_resume: queue the response set by the other thread.
 * Responses are never queued on the first call except to refuse a body, because libmicrohttpd
 * then answers with "Connection: close" and keep-alive is lost.
 */
#include "http_internal.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "backoff.h"
#include "log.h"
#include "metrics.h"

#define DEFAULT_BODY_MAX   (1024 * 1024)
#define DEFAULT_TIMEOUT_S  30
#define DEFAULT_DRAIN_MS   5000
#define REAPER_INTERVAL_MS 200

static const double latency_bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                        0.1,    0.25,  0.5,    1,     2.5,  5,     10};

/* ---- options ---- */

static void set_err(char *err, size_t errlen, const char *fmt, const char *arg, const char *why)
{
    if (err != NULL && errlen > 0)
        snprintf(err, errlen, fmt, arg, why);
}

static void register_metrics(struct udc_http_server *s)
{
    struct udc_metrics *reg = s->opts.metrics;
    s->requests_total =
        udc_counter_new(reg, "udc_http_requests_total", "HTTP requests answered, by route pattern",
                        3, (const char *[]){"route", "method", "status"});
    s->request_seconds =
        udc_histogram_new(reg, "udc_http_request_duration_seconds",
                          "Time from request headers to the response being sent, by route pattern",
                          1, (const char *[]){"route"},
                          sizeof latency_bounds / sizeof latency_bounds[0], latency_bounds);
    s->open_connections =
        udc_gauge_new(reg, "udc_http_connections", "Open HTTP client connections", 0, NULL);
    s->requests_in_flight = udc_gauge_new(reg, "udc_http_requests_in_flight",
                                          "HTTP requests received and not yet answered", 0, NULL);
}

struct udc_http_server *udc_http_new(const struct udc_http_options *opts, char *err, size_t errlen)
{
    if (opts == NULL || opts->listen == NULL || opts->nlisten == 0) {
        set_err(err, errlen, "%s%s", "http: no listen address", "");
        return NULL;
    }
    struct udc_http_server *s = calloc(1, sizeof *s);
    if (s == NULL) {
        set_err(err, errlen, "%s%s", "http: out of memory", "");
        return NULL;
    }
    s->opts = *opts;
    s->opts.listen = NULL; /* the caller's array need not outlive this call */
    if (s->opts.threads == 0)
        s->opts.threads = 1;
    if (s->opts.body_max == 0)
        s->opts.body_max = DEFAULT_BODY_MAX;
    if (s->opts.connection_timeout_s == 0)
        s->opts.connection_timeout_s = DEFAULT_TIMEOUT_S;
    if (s->opts.drain_timeout_ms == 0)
        s->opts.drain_timeout_ms = DEFAULT_DRAIN_MS;
    if (s->opts.metrics == NULL)
        s->opts.metrics = udc_metrics_default();
    pthread_mutex_init(&s->conn_lock, NULL);
    pthread_cond_init(&s->reaper_wake, NULL);
    s->listeners = calloc(opts->nlisten, sizeof *s->listeners);
    if (s->listeners == NULL) {
        udc_http_stop(s);
        set_err(err, errlen, "%s%s", "http: out of memory", "");
        return NULL;
    }
    for (size_t i = 0; i < opts->nlisten; i++) {
        s->listeners[i].server = s;
        s->listeners[i].address = strdup(opts->listen[i] ? opts->listen[i] : "");
        s->nlisten++;
        if (s->listeners[i].address == NULL) {
            udc_http_stop(s);
            set_err(err, errlen, "%s%s", "http: out of memory", "");
            return NULL;
        }
    }
    register_metrics(s);
    return s;
}

int udc_http_route(struct udc_http_server *server, const char *method, const char *pattern,
                   udc_http_handler handler, void *userdata)
{
    if (server == NULL || server->started)
        return -1;
    int rc = http_router_add(&server->router, method, pattern, handler, userdata);
    if (rc != 0)
        udc_log_error("bad route", "method=%s pattern=%s", method ? method : "",
                      pattern ? pattern : "");
    return rc;
}

/* ---- connection tracking and the reaper ---- */

static void on_connection(void *cls, struct MHD_Connection *connection, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    struct udc_http_server *s = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        struct http_conn *c = calloc(1, sizeof *c);
        if (c == NULL)
            return; /* untracked: only MHD's idle timeout applies to it */
        const union MHD_ConnectionInfo *info =
            MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
        c->fd = info ? info->connect_fd : -1;
        atomic_store(&c->phase_start_ms, udc_now_ms());
        pthread_mutex_lock(&s->conn_lock);
        c->next = s->conns;
        if (s->conns != NULL)
            s->conns->prev = c;
        s->conns = c;
        pthread_mutex_unlock(&s->conn_lock);
        *socket_context = c;
        udc_gauge_add(s->open_connections, NULL, 1);
        return;
    }
    struct http_conn *c = *socket_context;
    if (c == NULL)
        return;
    /* Unlinked before libmicrohttpd closes the fd, so the reaper never touches a reused fd. */
    pthread_mutex_lock(&s->conn_lock);
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    pthread_mutex_unlock(&s->conn_lock);
    free(c);
    *socket_context = NULL;
    udc_gauge_add(s->open_connections, NULL, -1);
}

static struct http_conn *conn_track(struct MHD_Connection *connection)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return info ? info->socket_context : NULL;
}

static void reap_slow_connections(struct udc_http_server *s, uint64_t now)
{
    uint64_t limit = (uint64_t)s->opts.connection_timeout_s * 1000;
    for (struct http_conn *c = s->conns; c != NULL; c = c->next) {
        if (atomic_load(&c->busy) || c->fd < 0)
            continue;
        if (now - atomic_load(&c->phase_start_ms) > limit) {
            /* libmicrohttpd sees end of stream on its next read and closes the connection. */
            shutdown(c->fd, SHUT_RDWR);
            atomic_store(&c->phase_start_ms, now); /* once per period is enough */
        }
    }
}

static void *reaper_main(void *arg)
{
    struct udc_http_server *s = arg;
    pthread_mutex_lock(&s->conn_lock);
    while (!atomic_load(&s->stopping)) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += REAPER_INTERVAL_MS * 1000000L;
        until.tv_sec += until.tv_nsec / 1000000000L;
        until.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&s->reaper_wake, &s->conn_lock, &until);
        reap_slow_connections(s, udc_now_ms());
    }
    pthread_mutex_unlock(&s->conn_lock);
    return NULL;
}

/* ---- request dispatch ---- */

static bool content_length_too_large(struct MHD_Connection *conn, size_t max)
{
    const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
    if (cl == NULL)
        return false;
    char *end;
    errno = 0;
    unsigned long long n = strtoull(cl, &end, 10);
    return errno == ERANGE || (end != cl && n > max);
}

/* Runs the matched handler, or answers 404 / 405 / preflight itself. Returns true when the
 * handler suspended the request: req then belongs to whoever resumes it, so the caller must
 * not touch it any more. */
static bool dispatch(struct udc_http_request *req)
{
    struct http_match *m = &req->match;
    int rc;
    if (req->too_large)
        rc = http_respond_too_large(req);
    else if (m->result == MATCH_NO_PATH)
        rc = http_respond_not_found(req);
    else if (m->result == MATCH_NO_METHOD && strcmp(req->method, "OPTIONS") == 0)
        rc = http_respond_preflight(req);
    else if (m->result == MATCH_NO_METHOD)
        rc = http_respond_method_not_allowed(req);
    else {
        req->nparams = http_route_params(m->route, req->path, req->param_names, req->param_values,
                                         HTTP_MAX_PARAMS);
        rc = m->route->handler(req, m->route->userdata);
    }
    if (rc == UDC_HTTP_PENDING && req->suspend_called)
        return true;
    if (rc == UDC_HTTP_PENDING || req->suspend_called) {
        udc_log_error("handler suspended without returning pending, or the reverse", "route=%s",
                      udc_http_route_pattern(req));
        if (req->suspend_called)
            return true; /* it will be resumed by someone; leave it alone */
    }
    if (!req->resp.set)
        udc_http_respond_error(req, 500, "internal error");
    return false;
}

static void mark_busy(struct udc_http_request *req)
{
    if (req->track != NULL)
        atomic_store(&req->track->busy, true);
}

static enum MHD_Result first_call(struct udc_http_server *s, struct MHD_Connection *conn,
                                  const char *url, const char *method, void **con_cls)
{
    struct udc_http_request *req = http_request_new(s, conn, method, url);
    if (req == NULL)
        return MHD_NO;
    *con_cls = req;
    req->start_us = udc_now_us();
    req->track = conn_track(conn);
    atomic_fetch_add(&s->in_flight, 1);
    udc_gauge_add(s->requests_in_flight, NULL, 1);
    http_router_match(&s->router, method, url, &req->match);
    if (content_length_too_large(conn, s->opts.body_max)) {
        /* Queued before the body is read, so libmicrohttpd closes the connection after the
         * answer instead of reading a body nobody wants. */
        req->too_large = true;
        http_respond_too_large(req);
        mark_busy(req);
        return http_queue_response(req);
    }
    return MHD_YES;
}

/* A chunked body that outgrew body_max: libmicrohttpd 0.9.75 cannot queue a response before
 * the body has been read, so read on without keeping it and answer 413 at the end; past a
 * bounded allowance, give up and close the connection. */
static enum MHD_Result discard_body(struct udc_http_request *req, size_t n)
{
    size_t max = req->server->opts.body_max;
    if (!req->too_large) {
        req->too_large = true;
        req->discarded = req->body_len;
        free(req->body);
        req->body = NULL;
        req->body_len = req->body_cap = 0;
    }
    req->discarded += n;
    return req->discarded / 4 > max ? MHD_NO : MHD_YES;
}

/* Percent-decoding of paths and query values, except %00, which stays as it is: a NUL would
 * silently cut the string ("/index.html%00.png"). Returns the new length. */
static size_t unescape(void *cls, struct MHD_Connection *conn, char *s)
{
    (void)cls;
    (void)conn;
    char *out = s;
    for (const char *in = s; *in;) {
        unsigned v;
        if (in[0] == '%' && isxdigit((unsigned char)in[1]) && isxdigit((unsigned char)in[2]) &&
            sscanf(in + 1, "%2x", &v) == 1 && v != 0) {
            *out++ = (char)v;
            in += 3;
        } else {
            *out++ = *in++;
        }
    }
    *out = '\0';
    return (size_t)(out - s);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    struct udc_http_server *s = cls;
    struct udc_http_request *req = *con_cls;
    (void)version;
    if (req == NULL)
        return first_call(s, conn, url, method, con_cls);

    if (*upload_data_size > 0) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (req->state != REQ_RECEIVING)
            return MHD_YES;
        if (!req->too_large && http_request_append_body(req, upload_data, n))
            return MHD_YES;
        return discard_body(req, n);
    }

    switch (req->state) {
    case REQ_RECEIVING:
        req->state = REQ_HANDLING;
        mark_busy(req);
        if (atomic_load(&s->stopping)) {
            udc_http_add_header(req, "Retry-After", "1");
            udc_http_respond_error(req, 503, "shutting down");
            return http_queue_response(req);
        }
        if (dispatch(req))
            return MHD_YES;
        return http_queue_response(req);
    case REQ_SUSPENDED:
        atomic_fetch_sub(&s->suspended, 1);
        return http_queue_response(req);
    default:
        return MHD_YES;
    }
}

static const char *method_label(const char *method)
{
    static const char *const known[] = {"GET",    "HEAD",    "POST",  "PUT",
                                        "DELETE", "OPTIONS", "PATCH", NULL};
    for (size_t i = 0; known[i] != NULL; i++) {
        if (strcmp(method, known[i]) == 0)
            return known[i];
    }
    return "other";
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct udc_http_server *s = cls;
    struct udc_http_request *req = *con_cls;
    struct http_conn *track = conn_track(conn);
    (void)toe;
    if (track != NULL) {
        atomic_store(&track->phase_start_ms, udc_now_ms());
        atomic_store(&track->busy, false);
    }
    if (req == NULL)
        return;
    *con_cls = NULL;
    if (req->status_sent != 0) {
        char status[8];
        const char *route = udc_http_route_pattern(req);
        snprintf(status, sizeof status, "%u", req->status_sent);
        udc_counter_inc(s->requests_total,
                        (const char *[]){route, method_label(req->method), status}, 1);
        udc_histogram_observe(s->request_seconds, (const char *[]){route},
                              (double)(udc_now_us() - req->start_us) / 1e6);
    }
    if (req->state == REQ_SUSPENDED)
        atomic_fetch_sub(&s->suspended, 1); /* cut while suspended: only at daemon shutdown */
    http_request_free(req);
    udc_gauge_add(s->requests_in_flight, NULL, -1);
    atomic_fetch_sub(&s->in_flight, 1);
}

/* ---- listeners ---- */

/* "HOST:PORT", "[v6]:PORT", "*:PORT" or ":PORT" → a listening socket, or -1 with err set. */
static int open_listener(const char *address, char *err, size_t errlen)
{
    char host[256];
    const char *colon = strrchr(address, ':');
    if (colon == NULL || colon[1] == '\0' || (size_t)(colon - address) >= sizeof host) {
        set_err(err, errlen, "http: bad listen address \"%s\"%s", address, "");
        return -1;
    }
    const char *h = address;
    size_t hlen = (size_t)(colon - address);
    if (hlen >= 2 && h[0] == '[' && h[hlen - 1] == ']')
        h++, hlen -= 2;
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    bool any = hlen == 0 || strcmp(host, "*") == 0;

    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    int gai = getaddrinfo(any ? NULL : host, colon + 1, &hints, &res);
    if (gai != 0) {
        set_err(err, errlen, "http: cannot resolve \"%s\": %s", address, gai_strerror(gai));
        return -1;
    }
    int fd = -1, saved = 0;
    for (struct addrinfo *ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            saved = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 1024) != 0) {
            saved = errno;
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0)
        set_err(err, errlen, "http: cannot listen on \"%s\": %s", address, strerror(saved));
    return fd;
}

static uint16_t socket_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
        return 0;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return 0;
}

/* libmicrohttpd's own messages, as log lines: most are about single clients (debug), a few
 * about the server's health (warn). */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512], quoted[600];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t len = strlen(msg);
    while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == ' '))
        msg[--len] = '\0';
    bool serious = strcasestr(msg, "limit") || strcasestr(msg, "failed to") ||
                   strcasestr(msg, "out of memory");
    udc_log(serious ? UDC_LOG_WARN : UDC_LOG_DEBUG, "libmicrohttpd", "detail=%s",
            udc_log_quote(quoted, sizeof quoted, msg));
}

static int start_listener(struct udc_http_server *s, struct http_listener *l, char *err,
                          size_t errlen)
{
    int fd = open_listener(l->address, err, errlen);
    if (fd < 0)
        return -1;
    l->port = socket_port(fd);
    unsigned flags =
        MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ITC | MHD_USE_ERROR_LOG;
    struct MHD_OptionItem extra[3], *o = extra;
    if (s->opts.threads > 1)
        *o++ = (struct MHD_OptionItem){MHD_OPTION_THREAD_POOL_SIZE, s->opts.threads, NULL};
    if (s->opts.connection_memory > 0)
        *o++ = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_MEMORY_LIMIT,
                                       (intptr_t)s->opts.connection_memory, NULL};
    *o = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
    l->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, s, MHD_OPTION_LISTEN_SOCKET, fd,
        MHD_OPTION_CONNECTION_TIMEOUT, s->opts.connection_timeout_s, MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, s, MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
        MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
        MHD_OPTION_CONNECTION_LIMIT,
        s->opts.connection_limit ? s->opts.connection_limit : (unsigned)FD_SETSIZE * 4,
        MHD_OPTION_ARRAY, extra, MHD_OPTION_END);
    if (l->daemon == NULL) {
        close(fd);
        set_err(err, errlen, "http: cannot start server on \"%s\"%s", l->address, "");
        return -1;
    }
    return 0;
}

int udc_http_start(struct udc_http_server *s, char *err, size_t errlen)
{
    if (s == NULL || s->started)
        return -1;
    s->started = true;
    for (size_t i = 0; i < s->nlisten; i++) {
        if (start_listener(s, &s->listeners[i], err, errlen) != 0)
            return -1;
    }
    if (pthread_create(&s->reaper, NULL, reaper_main, s) != 0) {
        set_err(err, errlen, "%s%s", "http: cannot start the reaper thread", "");
        return -1;
    }
    s->reaper_running = true;
    for (size_t i = 0; i < s->nlisten; i++)
        udc_log_info("http listening", "address=%s port=%u", s->listeners[i].address,
                     (unsigned)s->listeners[i].port);
    return 0;
}

uint16_t udc_http_bound_port(const struct udc_http_server *s, size_t i)
{
    if (s == NULL || i >= s->nlisten || s->listeners[i].daemon == NULL)
        return 0;
    return s->listeners[i].port;
}

/* ---- shutdown ---- */

static void drain(struct udc_http_server *s)
{
    uint64_t deadline = udc_now_ms() + s->opts.drain_timeout_ms;
    uint64_t next_note = udc_now_ms() + 5000;
    for (;;) {
        int in_flight = atomic_load(&s->in_flight);
        int suspended = atomic_load(&s->suspended);
        uint64_t now = udc_now_ms();
        if (in_flight <= 0 || (now >= deadline && suspended <= 0))
            break;
        if (now >= next_note) {
            udc_log_warn("http stop waits for suspended requests", "suspended=%d", suspended);
            next_note = now + 5000;
        }
        struct timespec ten_ms = {0, 10 * 1000000L};
        nanosleep(&ten_ms, NULL);
    }
}

void udc_http_stop(struct udc_http_server *s)
{
    if (s == NULL)
        return;
    /* No MHD_quiesce_daemon: with a thread pool and epoll it races the workers' own
     * handling of the listen socket and can abort inside libmicrohttpd 0.9.75. New requests
     * are answered 503 instead while the ones in flight finish. */
    atomic_store(&s->stopping, true);
    drain(s);
    if (s->reaper_running) {
        pthread_mutex_lock(&s->conn_lock);
        pthread_cond_signal(&s->reaper_wake);
        pthread_mutex_unlock(&s->conn_lock);
        pthread_join(s->reaper, NULL);
    }
    for (size_t i = 0; i < s->nlisten; i++) {
        if (s->listeners[i].daemon != NULL)
            MHD_stop_daemon(s->listeners[i].daemon);
        free(s->listeners[i].address);
    }
    free(s->listeners);
    http_router_free(&s->router);
    free(s->health);
    pthread_cond_destroy(&s->reaper_wake);
    pthread_mutex_destroy(&s->conn_lock);
    free(s);
}
