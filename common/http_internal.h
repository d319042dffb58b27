/* http_internal.h — structures shared by the http_*.c files; not for use outside them.
 *
 * http_server.c   daemons, the libmicrohttpd access handler, lifecycle, slow-client reaper
 * http_router.c   route table and path matching
 * http_request.c  request accessors, suspend/resume
 * http_response.c building responses and queueing them on the connection
 * http_static.c   static files
 * http_health.c   /health, /ready, /metrics
 */
#ifndef UDC_HTTP_INTERNAL_H
#define UDC_HTTP_INTERNAL_H

#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>

#include "http.h"

#define HTTP_MAX_PARAMS   8
#define HTTP_ALLOW_MAX    128
#define HTTP_NO_ROUTE     "none" /* route label of requests that matched no pattern */
#define HTTP_CORS_HEADERS "Content-Type, Idempotency-Key, Authorization, If-None-Match"

/* ---- router ---- */

struct http_route {
    char *method;
    char *pattern;
    char **segs; /* literal text, or the parameter name for a parameter segment */
    char *kinds; /* per segment: 'l' literal, 'p' {param}, 'r' {rest*} (last only) */
    size_t nsegs;
    udc_http_handler handler;
    void *userdata;
};

struct http_router {
    struct http_route *routes;
    size_t n;
    size_t cap;
};

enum http_match_result { MATCH_FOUND, MATCH_NO_PATH, MATCH_NO_METHOD };

struct http_match {
    enum http_match_result result;
    const struct http_route *route; /* MATCH_FOUND: the route; else the best one by path */
    char allow[HTTP_ALLOW_MAX];     /* methods of every pattern matching the path */
};

int http_router_add(struct http_router *r, const char *method, const char *pattern,
                    udc_http_handler handler, void *userdata);
void http_router_free(struct http_router *r);
/* HEAD looks for GET routes. allow always lists OPTIONS and, with GET, HEAD. */
void http_router_match(const struct http_router *r, const char *method, const char *path,
                       struct http_match *m);
/* Fills names/values (values malloc'd, caller frees) for a route known to match path. */
size_t http_route_params(const struct http_route *route, const char *path, const char **names,
                         char **values, size_t max);

/* ---- connections and requests ---- */

/* One per TCP connection, for the reaper that cuts connections which do not deliver a
 * complete request in time (MHD's own timeout is reset by every byte a client trickles). */
struct http_conn {
    struct http_conn *prev, *next;
    int fd;
    _Atomic uint64_t phase_start_ms; /* connection start or end of its last request */
    _Atomic bool busy;               /* request received in full and being answered */
};

struct http_listener {
    struct udc_http_server *server;
    char *address;
    struct MHD_Daemon *daemon;
    uint16_t port;
};

struct udc_http_server {
    struct udc_http_options opts;
    struct http_listener *listeners;
    size_t nlisten;
    struct http_router router;
    bool started;
    _Atomic bool stopping;
    _Atomic int in_flight; /* requests seen and not yet completed */
    _Atomic int suspended; /* suspended and not yet answered on the server thread */

    pthread_mutex_t conn_lock;
    pthread_cond_t reaper_wake;
    struct http_conn *conns;
    pthread_t reaper;
    bool reaper_running;

    void *health; /* userdata of the built-in routes, freed with the server */

    struct udc_counter *requests_total;
    struct udc_histogram *request_seconds;
    struct udc_gauge *open_connections;
    struct udc_gauge *requests_in_flight;
};

enum http_body_kind { BODY_NONE, BODY_BUFFER, BODY_STREAM, BODY_FD };

struct http_header {
    struct http_header *next;
    char *name;
    char *value;
};

struct http_pending {
    bool set;
    unsigned status;
    enum http_body_kind kind;
    char *content_type;
    char *body; /* BODY_BUFFER: malloc'd, or shared when release is set */
    size_t len;
    void (*release)(void *); /* BODY_BUFFER of udc_http_respond_shared */
    void *release_ctx;
    udc_http_reader reader; /* BODY_STREAM */
    void *reader_ctx;
    void (*reader_free)(void *);
    int fd; /* BODY_FD */
    uint64_t fd_size;
};

enum http_req_state { REQ_RECEIVING, REQ_HANDLING, REQ_SUSPENDED, REQ_QUEUED };

struct udc_http_request {
    struct udc_http_server *server;
    struct MHD_Connection *conn;
    struct http_conn *track;
    const char *method; /* owned by MHD, valid for the request's life */
    const char *path;
    struct http_match match;
    size_t nparams;
    const char *param_names[HTTP_MAX_PARAMS];
    char *param_values[HTTP_MAX_PARAMS];
    char *body;
    size_t body_len;
    size_t body_cap;
    bool too_large;
    size_t discarded; /* bytes of a too large body read and dropped */
    bool suspend_called;
    enum http_req_state state;
    struct http_pending resp;
    struct http_header *headers;
    struct http_header **headers_tail;
    unsigned status_sent;
    uint64_t start_us;
    char remote[INET6_ADDRSTRLEN];
};

struct udc_http_request *http_request_new(struct udc_http_server *server,
                                          struct MHD_Connection *conn, const char *method,
                                          const char *path);
void http_request_free(struct udc_http_request *req);
/* Appends upload data; false once the body would exceed body_max. */
bool http_request_append_body(struct udc_http_request *req, const char *data, size_t len);

/* Creates the MHD response from req->resp (500 when unset) and queues it. */
enum MHD_Result http_queue_response(struct udc_http_request *req);
/* The server's own answers. */
int http_respond_not_found(struct udc_http_request *req);
int http_respond_method_not_allowed(struct udc_http_request *req);
int http_respond_preflight(struct udc_http_request *req);
int http_respond_too_large(struct udc_http_request *req);

#endif
