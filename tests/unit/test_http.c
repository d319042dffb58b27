/* Unit tests for common/http: an in-process server on 127.0.0.1, port 0, driven with libcurl
 * (tests/lib/httpc) and raw sockets. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backoff.h"
#include "http.h"
#include "httpc.h"
#include "metrics.h"
#include "suite_run.h"

#define BODY_MAX 4096

static struct udc_http_server *server;
static struct udc_metrics *registry;
static char www[256];
static _Atomic bool ready_flag;

/* ---- handlers ---- */

static int echo_connection(struct udc_http_request *req, void *userdata)
{
    (void)userdata;
    char body[512];
    const char *start = udc_http_query(req, "start_date");
    int n =
        snprintf(body, sizeof body, "{\"id\":\"%s\",\"start\":\"%s\",\"route\":\"%s\"}",
                 udc_http_param(req, "id"), start ? start : "(none)", udc_http_route_pattern(req));
    return udc_http_respond_json(req, 200, body, (size_t)n);
}

static int echo_param(struct udc_http_request *req, void *userdata)
{
    const char *name = userdata;
    const char *v = udc_http_param(req, name);
    return udc_http_respond_text(req, 200, v ? v : "(null)", v ? strlen(v) : 6);
}

static int literal_special(struct udc_http_request *req, void *userdata)
{
    (void)userdata;
    return udc_http_respond_text(req, 200, "special", 7);
}

static int create_person(struct udc_http_request *req, void *userdata)
{
    (void)userdata;
    size_t len;
    const char *body = udc_http_body(req, &len);
    char out[128];
    int n = snprintf(out, sizeof out, "{\"received\":%zu,\"first\":\"%c\",\"ctype\":\"%s\"}", len,
                     len ? body[0] : '-', udc_http_header(req, "content-TYPE"));
    udc_http_add_header(req, "Location", "/api/persons/7");
    return udc_http_respond_json(req, 201, out, (size_t)n);
}

static int echo_query(struct udc_http_request *req, void *userdata)
{
    (void)userdata;
    const char *a = udc_http_query(req, "a");
    const char *b = udc_http_query(req, "b");
    const char *missing = udc_http_query(req, "missing");
    char out[256];
    int n = snprintf(out, sizeof out, "a=[%s] b=[%s] missing=%s", a ? a : "", b ? b : "",
                     missing ? missing : "NULL");
    return udc_http_respond_text(req, 200, out, (size_t)n);
}

static int fail_with_escapes(struct udc_http_request *req, void *userdata)
{
    (void)userdata;
    return udc_http_respond_error(req, 400, "bad \"%s\"\n\\ %d\x01", "x", 42);
}

static int forget_to_respond(struct udc_http_request *req, void *userdata)
{
    (void)req;
    (void)userdata;
    return UDC_HTTP_DONE;
}

static int remote_addr(struct udc_http_request *req, void *userdata)
{
    (void)userdata;
    const char *r = udc_http_remote_addr(req);
    return udc_http_respond_text(req, 200, r, strlen(r));
}

struct async_job {
    struct udc_http_request *req;
    long delay_ms;
};

static void *finish_later(void *arg)
{
    struct async_job *job = arg;
    struct udc_http_request *req = job->req;
    struct timespec delay = {job->delay_ms / 1000, (job->delay_ms % 1000) * 1000000L};
    free(job);
    nanosleep(&delay, NULL);
    size_t len;
    udc_http_body(req, &len);
    char out[128];
    int n = snprintf(out, sizeof out, "{\"confirmed\":%zu}", len);
    udc_http_add_header(req, "X-Async", "yes");
    udc_http_respond_json(req, 202, out, (size_t)n);
    udc_http_resume(req);
    return NULL;
}

static _Atomic int async_suspended; /* requests async_accept has suspended */

/* Answers later from another thread, as ingest-http does when the broker confirms. */
static int async_accept(struct udc_http_request *req, void *userdata)
{
    struct async_job *job = malloc(sizeof *job);
    pthread_t t;
    if (job == NULL || udc_http_suspend(req) != 0) {
        free(job);
        return udc_http_respond_error(req, 500, "cannot suspend");
    }
    atomic_fetch_add(&async_suspended, 1);
    *job = (struct async_job){req, *(const long *)userdata};
    if (pthread_create(&t, NULL, finish_later, job) != 0) {
        /* Still ours: nobody else got it. */
        free(job);
        udc_http_respond_error(req, 500, "no thread");
        udc_http_resume(req);
        return UDC_HTTP_PENDING;
    }
    pthread_detach(t);
    return UDC_HTTP_PENDING;
}

static const long quick_ms = 30, slow_ms = 400;

struct ticker {
    int sent;
};

static _Atomic int ticker_freed;

static ssize_t tick(void *ctx, uint64_t pos, char *buf, size_t max)
{
    struct ticker *t = ctx;
    (void)pos;
    if (t->sent == 3)
        return UDC_HTTP_STREAM_END;
    int n = snprintf(buf, max, "data: %d\n\n", t->sent++);
    return n;
}

static void ticker_free(void *ctx)
{
    free(ctx);
    atomic_fetch_add(&ticker_freed, 1);
}

static int events(struct udc_http_request *req, void *userdata)
{
    (void)userdata;
    struct ticker *t = calloc(1, sizeof *t);
    udc_http_add_header(req, "Cache-Control", "no-store");
    return udc_http_respond_stream(req, 200, "text/event-stream", tick, t, ticker_free);
}

static int serve_www(struct udc_http_request *req, void *userdata)
{
    (void)userdata;
    return udc_http_serve_static(req, www, udc_http_param(req, "path"));
}

/* A body shared by every answer of /shared, released once per answer. */
static const char shared_body[] = "{\"shared\":true}";
static _Atomic int shared_released;

static void shared_release(void *ctx)
{
    ck_assert_ptr_eq(ctx, shared_body);
    atomic_fetch_add(&shared_released, 1);
}

static int respond_shared(struct udc_http_request *req, void *userdata)
{
    (void)userdata;
    return udc_http_respond_shared(req, 200, "application/json", shared_body,
                                   sizeof shared_body - 1, shared_release, (void *)shared_body);
}

/* Responds twice: the second, refused, call must still release its body. */
static int respond_shared_twice(struct udc_http_request *req, void *userdata)
{
    (void)userdata;
    int rc = respond_shared(req, NULL);
    ck_assert_int_eq(respond_shared(req, NULL), UDC_HTTP_FAILED);
    return rc;
}

static bool is_ready(void *ctx, char *reason, size_t len)
{
    (void)ctx;
    if (atomic_load(&ready_flag))
        return true;
    snprintf(reason, len, "broker \"away\"");
    return false;
}

/* ---- fixture ---- */

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

static struct udc_http_server *make_server(unsigned timeout_s, size_t nlisten)
{
    const char *listen[] = {"127.0.0.1:0", "127.0.0.1:0"};
    struct udc_http_options o = {.listen = listen,
                                 .nlisten = nlisten,
                                 .threads = 2,
                                 .body_max = BODY_MAX,
                                 .connection_timeout_s = timeout_s,
                                 .cors = true,
                                 .metrics = registry};
    char err[256];
    struct udc_http_server *s = udc_http_new(&o, err, sizeof err);
    ck_assert_msg(s != NULL, "%s", err);
    ck_assert_int_eq(
        udc_http_route(s, "GET", "/api/persons/{id}/connection", echo_connection, NULL), 0);
    ck_assert_int_eq(udc_http_route(s, "GET", "/api/persons/{id}", echo_param, "id"), 0);
    ck_assert_int_eq(udc_http_route(s, "POST", "/api/persons", create_person, NULL), 0);
    ck_assert_int_eq(udc_http_route(s, "GET", "/api/things/special", literal_special, NULL), 0);
    ck_assert_int_eq(udc_http_route(s, "GET", "/api/things/{id}", echo_param, "id"), 0);
    ck_assert_int_eq(udc_http_route(s, "GET", "/q", echo_query, NULL), 0);
    ck_assert_int_eq(udc_http_route(s, "GET", "/fail", fail_with_escapes, NULL), 0);
    ck_assert_int_eq(udc_http_route(s, "GET", "/forgot", forget_to_respond, NULL), 0);
    ck_assert_int_eq(udc_http_route(s, "GET", "/whoami", remote_addr, NULL), 0);
    ck_assert_int_eq(udc_http_route(s, "POST", "/async", async_accept, (void *)&quick_ms), 0);
    ck_assert_int_eq(udc_http_route(s, "POST", "/slow-async", async_accept, (void *)&slow_ms), 0);
    ck_assert_int_eq(udc_http_route(s, "GET", "/events", events, NULL), 0);
    ck_assert_int_eq(udc_http_route(s, "GET", "/shared", respond_shared, NULL), 0);
    ck_assert_int_eq(udc_http_route(s, "GET", "/shared-twice", respond_shared_twice, NULL), 0);
    ck_assert_int_eq(udc_http_route(s, "GET", "/www/{path*}", serve_www, NULL), 0);
    ck_assert_int_eq(udc_http_route(s, "GET", "/bad/{unclosed", echo_param, "x"), -1);
    ck_assert_int_eq(udc_http_route(s, "GET", "/bad/{rest*}/more", echo_param, "x"), -1);
    ck_assert_int_eq(udc_http_mount_health(s, is_ready, NULL, registry), 0);
    ck_assert_int_eq(udc_http_start(s, err, sizeof err), 0);
    ck_assert_uint_ne(udc_http_bound_port(s, 0), 0);
    return s;
}

static void setup(void)
{
    registry = udc_metrics_new();
    atomic_store(&ready_flag, true);
    atomic_store(&async_suspended, 0);
    snprintf(www, sizeof www, "/tmp/udc-test-http-%d", (int)getpid());
    char path[512];
    mkdir(www, 0700);
    snprintf(path, sizeof path, "%s/www", www);
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/secret.txt", www);
    write_file(path, "top secret");
    snprintf(path, sizeof path, "%s/www/index.html", www);
    write_file(path, "<h1>UdaConnect</h1>");
    snprintf(path, sizeof path, "%s/www/app.css", www);
    write_file(path, "body{}");
    snprintf(path, sizeof path, "%s/www/.env", www);
    write_file(path, "hidden");
    strcat(www, "/www");
    server = make_server(2, 1);
}

static void teardown(void)
{
    udc_http_stop(server);
    server = NULL;
    udc_metrics_free(registry);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf /tmp/udc-test-http-%d", (int)getpid());
    ck_assert_int_eq(system(cmd), 0);
}

static const char *url(const char *path)
{
    static char buf[512];
    snprintf(buf, sizeof buf, "http://127.0.0.1:%u%s", udc_http_bound_port(server, 0), path);
    return buf;
}

static struct httpc_response get(const char *path)
{
    struct httpc_response r;
    ck_assert_int_eq(httpc_request("GET", url(path), NULL, NULL, 0, &r), 0);
    return r;
}

static void assert_header(const struct httpc_response *r, const char *name, const char *want)
{
    char buf[256];
    const char *v = httpc_header(r, name, buf, sizeof buf);
    ck_assert_msg(v != NULL, "header %s missing in:\n%s", name, r->headers);
    ck_assert_str_eq(v, want);
}

/* ---- routing ---- */

START_TEST(routes_with_params_and_query)
{
    struct httpc_response r = get("/api/persons/42/connection?start_date=2020-01-01");
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "{\"id\":\"42\",\"start\":\"2020-01-01\","
                             "\"route\":\"/api/persons/{id}/connection\"}");
    assert_header(&r, "Content-Type", "application/json");
    httpc_response_free(&r);

    r = get("/api/persons/abc");
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "abc");
    httpc_response_free(&r);
}
END_TEST

START_TEST(literal_segment_beats_parameter)
{
    struct httpc_response r = get("/api/things/special");
    ck_assert_str_eq(r.body, "special");
    httpc_response_free(&r);
    r = get("/api/things/other");
    ck_assert_str_eq(r.body, "other");
    httpc_response_free(&r);
}
END_TEST

START_TEST(unknown_path_is_404_json)
{
    struct httpc_response r = get("/nope/%22x%22");
    ck_assert_int_eq(r.status, 404);
    ck_assert_str_eq(r.body, "{\"error\":\"not found\",\"path\":\"/nope/\\\"x\\\"\"}");
    assert_header(&r, "Content-Type", "application/json");
    assert_header(&r, "Access-Control-Allow-Origin", "*");
    httpc_response_free(&r);
    /* An empty segment does not match a parameter. */
    r = get("/api/persons//connection");
    ck_assert_int_eq(r.status, 404);
    httpc_response_free(&r);
}
END_TEST

START_TEST(other_method_is_405_with_allow)
{
    struct httpc_response r;
    ck_assert_int_eq(httpc_request("DELETE", url("/api/persons/1"), NULL, NULL, 0, &r), 0);
    ck_assert_int_eq(r.status, 405);
    ck_assert_str_eq(r.body, "{\"message\":\"The method is not allowed for the requested URL.\"}");
    assert_header(&r, "Allow", "GET, HEAD, OPTIONS");
    assert_header(&r, "Access-Control-Allow-Origin", "*");
    httpc_response_free(&r);

    ck_assert_int_eq(httpc_request("PUT", url("/api/persons"), NULL, "{}", 2, &r), 0);
    ck_assert_int_eq(r.status, 405);
    assert_header(&r, "Allow", "POST, OPTIONS");
    httpc_response_free(&r);
}
END_TEST

START_TEST(head_uses_get_route_without_body)
{
    struct httpc_response r;
    ck_assert_int_eq(httpc_request("HEAD", url("/api/persons/5"), NULL, NULL, 0, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_eq(r.len, 0);
    httpc_response_free(&r);
}
END_TEST

/* ---- CORS ---- */

START_TEST(cors_header_on_success_and_errors)
{
    const char *paths[] = {"/api/persons/1", "/fail", "/missing"};
    long want[] = {200, 400, 404};
    for (size_t i = 0; i < 3; i++) {
        struct httpc_response r = get(paths[i]);
        ck_assert_int_eq(r.status, want[i]);
        assert_header(&r, "Access-Control-Allow-Origin", "*");
        httpc_response_free(&r);
    }
}
END_TEST

START_TEST(preflight_answers_known_routes)
{
    struct httpc_response r;
    const char *hdrs[] = {"Origin: http://localhost:30000", "Access-Control-Request-Method: POST",
                          "Access-Control-Request-Headers: content-type, idempotency-key", NULL};
    ck_assert_int_eq(httpc_request("OPTIONS", url("/api/persons"), hdrs, NULL, 0, &r), 0);
    ck_assert_int_eq(r.status, 200);
    assert_header(&r, "Access-Control-Allow-Origin", "*");
    assert_header(&r, "Access-Control-Allow-Methods", "POST, OPTIONS");
    assert_header(&r, "Access-Control-Allow-Headers", "content-type, idempotency-key");
    assert_header(&r, "Access-Control-Max-Age", "86400");
    httpc_response_free(&r);

    ck_assert_int_eq(httpc_request("OPTIONS", url("/api/persons/3"), NULL, NULL, 0, &r), 0);
    ck_assert_int_eq(r.status, 200);
    char buf[256];
    ck_assert_ptr_nonnull(strstr(httpc_header(&r, "Access-Control-Allow-Headers", buf, sizeof buf),
                                 "Idempotency-Key"));
    httpc_response_free(&r);

    ck_assert_int_eq(httpc_request("OPTIONS", url("/unknown"), NULL, NULL, 0, &r), 0);
    ck_assert_int_eq(r.status, 404);
    httpc_response_free(&r);
}
END_TEST

/* ---- bodies ---- */

START_TEST(body_is_buffered_whole)
{
    char *body = malloc(BODY_MAX);
    memset(body, 'b', BODY_MAX);
    body[0] = 'a';
    struct httpc_response r;
    const char *hdrs[] = {"Content-Type: application/json", NULL};
    ck_assert_int_eq(httpc_request("POST", url("/api/persons"), hdrs, body, BODY_MAX, &r), 0);
    ck_assert_int_eq(r.status, 201);
    ck_assert_str_eq(r.body, "{\"received\":4096,\"first\":\"a\",\"ctype\":\"application/json\"}");
    assert_header(&r, "Location", "/api/persons/7");
    httpc_response_free(&r);

    const char *chunked[] = {"Transfer-Encoding: chunked", "Content-Type: text/plain", NULL};
    ck_assert_int_eq(httpc_request("POST", url("/api/persons"), chunked, body, BODY_MAX, &r), 0);
    ck_assert_int_eq(r.status, 201);
    ck_assert_str_eq(r.body, "{\"received\":4096,\"first\":\"a\",\"ctype\":\"text/plain\"}");
    httpc_response_free(&r);
    free(body);
}
END_TEST

START_TEST(too_large_body_is_413_by_content_length)
{
    size_t len = BODY_MAX + 1;
    char *body = calloc(1, len);
    struct httpc_response r;
    ck_assert_int_eq(httpc_request("POST", url("/api/persons"), NULL, body, len, &r), 0);
    ck_assert_int_eq(r.status, 413);
    ck_assert_str_eq(r.body, "{\"error\":\"request body larger than 4096 bytes\"}");
    assert_header(&r, "Access-Control-Allow-Origin", "*");
    httpc_response_free(&r);
    free(body);
}
END_TEST

START_TEST(too_large_body_is_413_when_chunked)
{
    size_t len = 3 * BODY_MAX;
    char *body = calloc(1, len);
    struct httpc_response r;
    const char *chunked[] = {"Transfer-Encoding: chunked", NULL};
    int rc = httpc_request("POST", url("/api/persons"), chunked, body, len, &r);
    ck_assert_int_eq(rc, 0);
    ck_assert_int_eq(r.status, 413);
    ck_assert_str_eq(r.body, "{\"error\":\"request body larger than 4096 bytes\"}");
    httpc_response_free(&r);
    free(body);

    /* Far too large: not read to the end; the connection is closed, with or without an answer
     * depending on how far the client got. */
    len = 64 * BODY_MAX;
    body = calloc(1, len);
    rc = httpc_request("POST", url("/api/persons"), chunked, body, len, &r);
    ck_assert(rc == -1 || r.status == 413);
    httpc_response_free(&r);
    free(body);

    /* The server is still fine. */
    r = get("/api/persons/1");
    ck_assert_int_eq(r.status, 200);
    httpc_response_free(&r);
}
END_TEST

/* ---- query and errors ---- */

START_TEST(query_parameters_are_percent_decoded)
{
    struct httpc_response r = get("/q?a=x%20y%2Bz%26&b=%C3%A9t%C3%A9&flag");
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "a=[x y+z&] b=[\xC3\xA9t\xC3\xA9] missing=NULL");
    httpc_response_free(&r);
    r = get("/api/persons/a%20b");
    ck_assert_str_eq(r.body, "a b");
    httpc_response_free(&r);
}
END_TEST

START_TEST(error_message_is_json_escaped)
{
    struct httpc_response r = get("/fail");
    ck_assert_int_eq(r.status, 400);
    ck_assert_str_eq(r.body, "{\"error\":\"bad \\\"x\\\"\\n\\\\ 42\\u0001\"}");
    httpc_response_free(&r);

    char buf[64];
    ck_assert_uint_eq(udc_http_json_quote(buf, sizeof buf,
                                          "a\xff"
                                          "b\xC3\xA9"),
                      12);
    ck_assert_str_eq(buf, "\"a\\ufffdb\xC3\xA9\"");
    ck_assert_uint_eq(udc_http_json_quote(buf, 4, "abcdef"), 8);
    ck_assert_str_eq(buf, "\"ab");
}
END_TEST

/* The byte-by-byte quoting that the fast path replaced, as the oracle for its output. */
static size_t reference_quote(char *buf, size_t size, const char *s)
{
    size_t n = 0;
#define EMIT(str, k)                                                                               \
    do {                                                                                           \
        if (n + (k) < size)                                                                        \
            memcpy(buf + n, (str), (k));                                                           \
        n += (k);                                                                                  \
    } while (0)
    EMIT("\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        char esc[8];
        size_t seq = 0;
        if (*p < 0x80) {
            seq = 1;
        } else {
            size_t len = (*p & 0xe0) == 0xc0   ? 2
                         : (*p & 0xf0) == 0xe0 ? 3
                         : (*p & 0xf8) == 0xf0 ? 4
                                               : 0;
            unsigned cp = len == 2 ? *p & 0x1f : len == 3 ? *p & 0x0f : *p & 0x07;
            unsigned min = len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
            seq = len;
            for (size_t i = 1; i < len && seq; i++) {
                if ((p[i] & 0xc0) != 0x80)
                    seq = 0;
                else
                    cp = (cp << 6) | (p[i] & 0x3f);
            }
            if (seq && (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)))
                seq = 0;
        }
        if (*p == '"' || *p == '\\') {
            esc[0] = '\\', esc[1] = (char)*p;
            EMIT(esc, 2);
        } else if (*p == '\n') {
            EMIT("\\n", 2);
        } else if (*p == '\r') {
            EMIT("\\r", 2);
        } else if (*p == '\t') {
            EMIT("\\t", 2);
        } else if (*p < 0x20 || *p == 0x7f) {
            snprintf(esc, sizeof esc, "\\u%04x", *p);
            EMIT(esc, 6);
        } else if (seq == 0) {
            EMIT("\\ufffd", 6);
            seq = 1;
        } else {
            EMIT(p, seq);
        }
        p += seq;
    }
    EMIT("\"", 1);
#undef EMIT
    buf[n < size ? n : size - 1] = '\0';
    return n;
}

static void assert_quote(const char *s, const char *want)
{
    char buf[4096];
    size_t n = udc_http_json_quote(buf, sizeof buf, s);
    ck_assert_str_eq(buf, want);
    ck_assert_uint_eq(n, strlen(want));
    ck_assert_uint_eq(udc_http_json_quote(NULL, 0, s), n);
}

START_TEST(json_quote_escapes_exactly)
{
    assert_quote("", "\"\"");
    assert_quote("Pam Trexler", "\"Pam Trexler\"");
    assert_quote("say \"hi\" \\ bye", "\"say \\\"hi\\\" \\\\ bye\"");
    assert_quote("a\nb\rc\td", "\"a\\nb\\rc\\td\"");
    assert_quote("\x01\x1f\x7f x", "\"\\u0001\\u001f\\u007f x\"");
    /* 2-, 3- and 4-byte characters pass through */
    assert_quote("Zo\xC3\xAB \xE6\x97\xA5 \xF0\x9F\x98\x80!",
                 "\"Zo\xC3\xAB \xE6\x97\xA5 \xF0\x9F\x98\x80!\"");
    /* invalid: stray continuation, overlong, surrogate, beyond U+10FFFF, cut short at the end */
    assert_quote("a\x80"
                 "b",
                 "\"a\\ufffdb\"");
    assert_quote("\xC0\xAF", "\"\\ufffd\\ufffd\"");
    assert_quote("\xED\xA0\x80", "\"\\ufffd\\ufffd\\ufffd\"");
    assert_quote("\xF4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
    assert_quote("x\xE6\x97", "\"x\\ufffd\\ufffd\"");
    assert_quote("\xFF\xFE", "\"\\ufffd\\ufffd\"");
}
END_TEST

START_TEST(json_quote_copies_long_ascii_runs)
{
    char s[3000], want[3010];
    for (size_t i = 0; i < sizeof s - 1; i++)
        s[i] = (char)(' ' + 1 + i % 90 == '"' || ' ' + 1 + i % 90 == '\\' ? 'q' : ' ' + 1 + i % 90);
    s[sizeof s - 1] = '\0';
    snprintf(want, sizeof want, "\"%s\"", s);
    assert_quote(s, want);
    s[1500] = '"'; /* an escape in the middle of a run */
    char got[4096], ref[4096];
    ck_assert_uint_eq(udc_http_json_quote(got, sizeof got, s), reference_quote(ref, sizeof ref, s));
    ck_assert_str_eq(got, ref);
}
END_TEST

START_TEST(json_quote_matches_the_reference_on_random_bytes)
{
    /* Biased toward the interesting bytes: plain runs, escapes, UTF-8 lead/continuation. */
    static const unsigned char alphabet[] = {'a',  'Z',  ' ',  '~',  '"',  '\\', '\n', '\t',
                                             0x01, 0x7f, 0x80, 0xbf, 0xc2, 0xc0, 0xe0, 0xed,
                                             0xf0, 0xf4, 0xf5, 0xff, 0x9f, 0xa0};
    unsigned seed = 12345;
    for (int round = 0; round < 20000; round++) {
        char s[40], got[300], ref[300];
        size_t len = (size_t)(rand_r(&seed) % 39);
        for (size_t i = 0; i < len; i++)
            s[i] = (char)alphabet[rand_r(&seed) % sizeof alphabet];
        s[len] = '\0';
        size_t n = udc_http_json_quote(got, sizeof got, s);
        ck_assert_uint_eq(n, reference_quote(ref, sizeof ref, s));
        ck_assert_msg(strcmp(got, ref) == 0, "round %d: %s vs %s", round, got, ref);
    }
}
END_TEST

START_TEST(json_quote_truncates_between_characters)
{
    char buf[8];
    ck_assert_uint_eq(udc_http_json_quote(buf, 4, "abcdef"), 8);
    ck_assert_str_eq(buf, "\"ab");
    /* an escape or a UTF-8 sequence that does not fit is left out whole */
    ck_assert_uint_eq(udc_http_json_quote(buf, 5, "ab\ncd"), 8);
    ck_assert_str_eq(buf, "\"ab");
    ck_assert_uint_eq(udc_http_json_quote(buf, 5, "ab\xE6\x97\xA5"), 7);
    ck_assert_str_eq(buf, "\"ab");
    ck_assert_uint_eq(udc_http_json_quote(buf, 1, "abc"), 5);
    ck_assert_str_eq(buf, "");
    ck_assert_uint_eq(udc_http_json_quote(buf, 5, "abc"), 5);
    ck_assert_str_eq(buf, "\"abc");
}
END_TEST

START_TEST(shared_body_is_sent_and_released_once)
{
    atomic_store(&shared_released, 0);
    for (int i = 0; i < 3; i++) {
        struct httpc_response r = get("/shared");
        ck_assert_int_eq(r.status, 200);
        ck_assert_str_eq(r.body, shared_body);
        httpc_response_free(&r);
    }
    struct httpc_response r = get("/shared-twice");
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, shared_body);
    httpc_response_free(&r);
    udc_http_stop(server); /* every response is finished once the server is gone */
    server = make_server(2, 1);
    ck_assert_int_eq(atomic_load(&shared_released), 5);
}
END_TEST

START_TEST(handler_without_response_gives_500)
{
    struct httpc_response r = get("/forgot");
    ck_assert_int_eq(r.status, 500);
    ck_assert_str_eq(r.body, "{\"error\":\"internal error\"}");
    httpc_response_free(&r);
}
END_TEST

START_TEST(remote_address_is_reported)
{
    struct httpc_response r = get("/whoami");
    ck_assert_str_eq(r.body, "127.0.0.1");
    httpc_response_free(&r);
}
END_TEST

/* ---- connections ---- */

START_TEST(keep_alive_reuses_the_connection)
{
    struct httpc *c = httpc_new();
    struct httpc_response r;
    ck_assert_int_eq(httpc_do(c, "GET", url("/api/persons/1"), NULL, NULL, 0, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_int_eq(r.connects, 1);
    httpc_response_free(&r);
    ck_assert_int_eq(httpc_do(c, "GET", url("/api/persons/2"), NULL, NULL, 0, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_int_eq(r.connects, 0);
    httpc_response_free(&r);
    ck_assert_int_eq(httpc_do(c, "POST", url("/api/persons"), NULL, "{}", 2, &r), 0);
    ck_assert_int_eq(r.status, 201);
    ck_assert_int_eq(r.connects, 0);
    httpc_response_free(&r);
    ck_assert_int_eq(httpc_do(c, "GET", url("/missing"), NULL, NULL, 0, &r), 0);
    ck_assert_int_eq(r.status, 404);
    ck_assert_int_eq(r.connects, 0);
    httpc_response_free(&r);
    httpc_free(c);
}
END_TEST

#define ASYNC_CLIENTS  8
#define ASYNC_REQUESTS 10

static void *async_client(void *arg)
{
    long ok = 0;
    struct httpc *c = httpc_new();
    (void)arg;
    for (int i = 0; i < ASYNC_REQUESTS; i++) {
        struct httpc_response r;
        char body[32];
        int n = snprintf(body, sizeof body, "{\"n\":%d}", i);
        if (httpc_do(c, "POST", url("/async"), NULL, body, (size_t)n, &r) == 0 && r.status == 202 &&
            strcmp(r.body, n == 7 ? "{\"confirmed\":7}" : "?") == 0)
            ok++;
        else
            fprintf(stderr, "async request %d: status %ld body %s error %s\n", i, r.status,
                    r.body ? r.body : "(none)", r.error ? r.error : "(none)");
        httpc_response_free(&r);
    }
    httpc_free(c);
    return (void *)ok;
}

START_TEST(suspended_request_is_answered_from_another_thread)
{
    struct httpc_response r;
    ck_assert_int_eq(httpc_request("POST", url("/async"), NULL, "hello", 5, &r), 0);
    ck_assert_int_eq(r.status, 202);
    ck_assert_str_eq(r.body, "{\"confirmed\":5}");
    assert_header(&r, "X-Async", "yes");
    assert_header(&r, "Access-Control-Allow-Origin", "*");
    httpc_response_free(&r);

    pthread_t threads[ASYNC_CLIENTS];
    for (int i = 0; i < ASYNC_CLIENTS; i++)
        ck_assert_int_eq(pthread_create(&threads[i], NULL, async_client, NULL), 0);
    long ok = 0;
    for (int i = 0; i < ASYNC_CLIENTS; i++) {
        void *res;
        pthread_join(threads[i], &res);
        ok += (long)res;
    }
    ck_assert_int_eq(ok, ASYNC_CLIENTS * ASYNC_REQUESTS);
}
END_TEST

/* Polls done(ctx) every 5 ms for up to 5 s; the assertions after it say what was awaited. */
static void wait_for(bool (*done)(void *), void *ctx)
{
    struct timespec ms5 = {0, 5 * 1000000L};
    for (int i = 0; i < 1000 && !done(ctx); i++)
        nanosleep(&ms5, NULL);
}

static bool some_request_suspended(void *unused)
{
    (void)unused;
    return atomic_load(&async_suspended) >= 1;
}

static bool ticker_was_freed(void *unused)
{
    (void)unused;
    return atomic_load(&ticker_freed) != 0;
}

static bool gauge_reached_one(void *gauge)
{
    return udc_gauge_get(gauge, NULL) >= 1;
}

static void *post_slow_async(void *arg)
{
    struct httpc_response *r = arg;
    httpc_request("POST", url("/slow-async"), NULL, "abc", 3, r);
    return NULL;
}

START_TEST(stop_waits_for_suspended_requests)
{
    struct udc_gauge *in_flight =
        udc_gauge_new(registry, "udc_http_requests_in_flight",
                      "HTTP requests received and not yet answered", 0, NULL);
    ck_assert_ptr_nonnull(in_flight);
    struct httpc_response r = {0};
    pthread_t t;
    uint64_t sent = udc_now_ms();
    ck_assert_int_eq(pthread_create(&t, NULL, post_slow_async, &r), 0);
    /* In flight is not enough: a request whose body is still arriving when stop begins is
     * answered 503 without reaching its handler. */
    wait_for(some_request_suspended, NULL);
    ck_assert_int_eq(atomic_load(&async_suspended), 1);
    ck_assert_double_eq(udc_gauge_get(in_flight, NULL), 1);
    udc_http_stop(server);
    server = NULL;
    /* It did wait for the answer, which comes slow_ms after the request at the earliest. */
    ck_assert_uint_ge(udc_now_ms() - sent, (uint64_t)slow_ms);
    pthread_join(t, NULL);
    ck_assert_int_eq(r.status, 202);
    ck_assert_str_eq(r.body, "{\"confirmed\":3}");
    assert_header(&r, "Connection", "close");
    httpc_response_free(&r);
}
END_TEST

START_TEST(stream_response_is_sent_chunked)
{
    struct httpc_response r = get("/events");
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "data: 0\n\ndata: 1\n\ndata: 2\n\n");
    assert_header(&r, "Content-Type", "text/event-stream");
    assert_header(&r, "Transfer-Encoding", "chunked");
    assert_header(&r, "Cache-Control", "no-store");
    httpc_response_free(&r);
    wait_for(ticker_was_freed, NULL);
    ck_assert_int_eq(atomic_load(&ticker_freed), 1);
}
END_TEST

static int connect_raw(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons(udc_http_bound_port(server, 0))};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    struct timeval tv = {0, 100 * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

/* Reads the answer on a raw socket into buf (NUL-terminated) until it holds `until` (when not
 * NULL), the peer closes, or `tries` reads (100 ms each at most) have passed. */
static void recv_answer(int fd, char *buf, size_t size, const char *until, int tries)
{
    size_t got = 0;
    buf[0] = '\0';
    for (int i = 0; i < tries && !(until && strstr(buf, until)); i++) {
        ssize_t n = recv(fd, buf + got, size - 1 - got, 0);
        if (n == 0)
            break;
        if (n > 0) {
            got += (size_t)n;
            buf[got] = '\0';
        }
    }
}

/* True once the peer has closed: recv gives 0 or a hard error. */
static bool peer_closed(int fd)
{
    char c;
    ssize_t n = recv(fd, &c, 1, 0);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

START_TEST(trickling_client_is_cut_after_the_timeout)
{
    /* 2 s timeout; the client sends a byte every 400 ms, so it is never idle long enough for
     * an idle timer: only a limit on the whole request cuts it. */
    int fd = connect_raw();
    const char *line =
        "GET /api/persons/1 HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaa";
    uint64_t start = udc_now_ms();
    bool cut = false;
    for (size_t i = 0; i < strlen(line) && !cut; i++) {
        if (send(fd, line + i, 1, MSG_NOSIGNAL) != 1) {
            cut = true;
            break;
        }
        for (int k = 0; k < 4 && !cut; k++)
            cut = peer_closed(fd);
    }
    uint64_t elapsed = udc_now_ms() - start;
    close(fd);
    ck_assert_msg(cut, "slow client was not cut");
    ck_assert_uint_ge(elapsed, 1500);
    ck_assert_uint_le(elapsed, 4500);
}
END_TEST

START_TEST(prompt_client_on_a_raw_socket_is_served)
{
    int fd = connect_raw();
    const char *req = "GET /api/persons/9 HTTP/1.1\r\nHost: x\r\n\r\n";
    ck_assert_int_eq(send(fd, req, strlen(req), MSG_NOSIGNAL), (ssize_t)strlen(req));
    char buf[1024];
    recv_answer(fd, buf, sizeof buf, "\r\n\r\n9", 20);
    close(fd);
    ck_assert_msg(strncmp(buf, "HTTP/1.1 200", 12) == 0, "%s", buf);
}
END_TEST

static void *stop_server(void *arg)
{
    udc_http_stop(arg);
    return NULL;
}

START_TEST(request_completed_during_stop_is_refused_503)
{
    struct udc_gauge *in_flight =
        udc_gauge_new(registry, "udc_http_requests_in_flight",
                      "HTTP requests received and not yet answered", 0, NULL);
    int fd = connect_raw();
    const char *head = "POST /async HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\n";
    ck_assert_int_eq(send(fd, head, strlen(head), MSG_NOSIGNAL), (ssize_t)strlen(head));
    wait_for(gauge_reached_one, in_flight);
    ck_assert_double_eq(udc_gauge_get(in_flight, NULL), 1);
    /* Stop begins while the body is still on its way: the request must not reach its
     * handler, and the stop waits for its answer. */
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, stop_server, server), 0);
    server = NULL;
    struct timespec ms100 = {0, 100 * 1000000L};
    nanosleep(&ms100, NULL);
    ck_assert_int_eq(send(fd, "abc", 3, MSG_NOSIGNAL), 3);
    char buf[1024];
    recv_answer(fd, buf, sizeof buf, "shutting down", 50);
    close(fd);
    pthread_join(t, NULL);
    ck_assert_msg(strncmp(buf, "HTTP/1.1 503", 12) == 0, "%s", buf);
    ck_assert_msg(strstr(buf, "Retry-After: 1\r\n") != NULL, "%s", buf);
    ck_assert_msg(strstr(buf, "shutting down") != NULL, "%s", buf);
    ck_assert_int_eq(atomic_load(&async_suspended), 0);
}
END_TEST

/* ---- static files ---- */

START_TEST(static_files_are_served_safely)
{
    struct httpc_response r = get("/www/");
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "<h1>UdaConnect</h1>");
    assert_header(&r, "Content-Type", "text/html; charset=utf-8");
    httpc_response_free(&r);

    r = get("/www/app.css");
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "body{}");
    assert_header(&r, "Content-Type", "text/css; charset=utf-8");
    httpc_response_free(&r);

    const char *refused[] = {"/www/%2e%2e/secret.txt",
                             "/www/..%2fsecret.txt",
                             "/www/a/%2e%2e/%2e%2e/secret.txt",
                             "/www/.env",
                             "/www/%2fetc%2fpasswd",
                             "/www/nothing.html",
                             "/www/index.html%00.png",
                             "/www/..%5csecret.txt"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        r = get(refused[i]);
        ck_assert_msg(r.status == 404, "%s gave %ld", refused[i], r.status);
        ck_assert_ptr_null(strstr(r.body, "top secret"));
        httpc_response_free(&r);
    }
    ck_assert_str_eq(udc_http_content_type("x/logo.SVG"), "image/svg+xml");
    ck_assert_str_eq(udc_http_content_type("favicon.ico"), "image/x-icon");
    ck_assert_str_eq(udc_http_content_type("a.js"), "text/javascript; charset=utf-8");
    ck_assert_str_eq(udc_http_content_type("dir.d/noext"), "application/octet-stream");
}
END_TEST

START_TEST(raw_dot_dot_path_is_refused)
{
    /* curl would normalise "..", so send it by hand. */
    int fd = connect_raw();
    const char *req = "GET /www/../secret.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    ck_assert_int_eq(send(fd, req, strlen(req), MSG_NOSIGNAL), (ssize_t)strlen(req));
    char buf[2048];
    recv_answer(fd, buf, sizeof buf, NULL, 30);
    close(fd);
    ck_assert_msg(strncmp(buf, "HTTP/1.1 404", 12) == 0, "%s", buf);
    ck_assert_ptr_null(strstr(buf, "top secret"));
}
END_TEST

/* ---- built-in endpoints ---- */

static const char *first_missing(const char *text, const char *const *want, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (strstr(text, want[i]) == NULL)
            return want[i];
    }
    return NULL;
}

START_TEST(health_ready_and_metrics)
{
    struct httpc_response r = get("/health");
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "\"healthy\"");
    httpc_response_free(&r);

    r = get("/ready");
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "{\"ready\":true}");
    httpc_response_free(&r);
    atomic_store(&ready_flag, false);
    r = get("/ready");
    ck_assert_int_eq(r.status, 503);
    ck_assert_str_eq(r.body, "{\"ready\":false,\"reason\":\"broker \\\"away\\\"\"}");
    httpc_response_free(&r);

    r = get("/api/persons/1");
    httpc_response_free(&r);
    r = get("/api/persons/2");
    httpc_response_free(&r);
    r = get("/no/such/thing");
    httpc_response_free(&r);

    const char *want[] = {
        "udc_http_requests_total{route=\"/api/persons/{id}\",method=\"GET\",status=\"200\"} 2\n",
        "udc_http_requests_total{route=\"/health\",method=\"GET\",status=\"200\"} 1\n",
        "udc_http_requests_total{route=\"/ready\",method=\"GET\",status=\"503\"} 1\n",
        "udc_http_requests_total{route=\"none\",method=\"GET\",status=\"404\"} 1\n",
        "udc_http_request_duration_seconds_count{route=\"/api/persons/{id}\"} 2\n",
        "udc_http_request_duration_seconds_bucket{route=\"/ready\",le=\"+Inf\"} 2\n",
        "# TYPE udc_http_connections gauge\n",
    };
    size_t nwant = sizeof want / sizeof want[0];
    /* A request is counted when libmicrohttpd reports it complete, after its last byte went
     * out: the next request, on another connection and thread, can overtake that. */
    for (int attempt = 0;; attempt++) {
        r = get("/metrics");
        ck_assert_int_eq(r.status, 200);
        if (first_missing(r.body, want, nwant) == NULL || attempt == 100)
            break;
        httpc_response_free(&r);
        struct timespec ms20 = {0, 20 * 1000000L};
        nanosleep(&ms20, NULL);
    }
    assert_header(&r, "Content-Type", UDC_METRICS_CONTENT_TYPE);
    const char *missing = first_missing(r.body, want, nwant);
    ck_assert_msg(missing == NULL, "missing %s in\n%s", missing, r.body);
    /* Raw paths never become labels. */
    ck_assert_ptr_null(strstr(r.body, "/api/persons/1"));
    ck_assert_ptr_null(strstr(r.body, "/no/such/thing"));
    httpc_response_free(&r);
}
END_TEST

START_TEST(several_listeners_share_the_router)
{
    struct udc_http_server *two = make_server(2, 2);
    for (size_t i = 0; i < 2; i++) {
        char u[128];
        snprintf(u, sizeof u, "http://127.0.0.1:%u/api/persons/%zu", udc_http_bound_port(two, i),
                 i);
        struct httpc_response r;
        ck_assert_int_eq(httpc_request("GET", u, NULL, NULL, 0, &r), 0);
        ck_assert_int_eq(r.status, 200);
        ck_assert_int_eq(r.body[0], (int)('0' + i));
        httpc_response_free(&r);
    }
    ck_assert_uint_ne(udc_http_bound_port(two, 0), udc_http_bound_port(two, 1));
    ck_assert_uint_eq(udc_http_bound_port(two, 2), 0);
    udc_http_stop(two);
}
END_TEST

START_TEST(bad_listen_address_is_reported)
{
    const char *listen[] = {"127.0.0.1"};
    struct udc_http_options o = {.listen = listen, .nlisten = 1, .metrics = registry};
    char err[256] = "";
    struct udc_http_server *s = udc_http_new(&o, err, sizeof err);
    ck_assert_ptr_nonnull(s);
    ck_assert_int_eq(udc_http_start(s, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "127.0.0.1"));
    udc_http_stop(s);

    /* The port the fixture's server holds is taken. */
    char taken[64];
    snprintf(taken, sizeof taken, "127.0.0.1:%u", udc_http_bound_port(server, 0));
    listen[0] = taken;
    s = udc_http_new(&o, err, sizeof err);
    ck_assert_int_eq(udc_http_start(s, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "in use"));
    udc_http_stop(s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("http");
    TCase *tc = tcase_create("server");
    tcase_set_timeout(tc, 30);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, routes_with_params_and_query);
    tcase_add_test(tc, literal_segment_beats_parameter);
    tcase_add_test(tc, unknown_path_is_404_json);
    tcase_add_test(tc, other_method_is_405_with_allow);
    tcase_add_test(tc, head_uses_get_route_without_body);
    tcase_add_test(tc, cors_header_on_success_and_errors);
    tcase_add_test(tc, preflight_answers_known_routes);
    tcase_add_test(tc, body_is_buffered_whole);
    tcase_add_test(tc, too_large_body_is_413_by_content_length);
    tcase_add_test(tc, too_large_body_is_413_when_chunked);
    tcase_add_test(tc, query_parameters_are_percent_decoded);
    tcase_add_test(tc, error_message_is_json_escaped);
    tcase_add_test(tc, json_quote_escapes_exactly);
    tcase_add_test(tc, json_quote_copies_long_ascii_runs);
    tcase_add_test(tc, json_quote_matches_the_reference_on_random_bytes);
    tcase_add_test(tc, json_quote_truncates_between_characters);
    tcase_add_test(tc, shared_body_is_sent_and_released_once);
    tcase_add_test(tc, handler_without_response_gives_500);
    tcase_add_test(tc, remote_address_is_reported);
    tcase_add_test(tc, keep_alive_reuses_the_connection);
    tcase_add_test(tc, suspended_request_is_answered_from_another_thread);
    tcase_add_test(tc, stop_waits_for_suspended_requests);
    tcase_add_test(tc, request_completed_during_stop_is_refused_503);
    tcase_add_test(tc, stream_response_is_sent_chunked);
    tcase_add_test(tc, trickling_client_is_cut_after_the_timeout);
    tcase_add_test(tc, prompt_client_on_a_raw_socket_is_served);
    tcase_add_test(tc, static_files_are_served_safely);
    tcase_add_test(tc, raw_dot_dot_path_is_refused);
    tcase_add_test(tc, health_ready_and_metrics);
    tcase_add_test(tc, several_listeners_share_the_router);
    tcase_add_test(tc, bad_listen_address_is_reported);
    suite_add_tcase(s, tc);
    return udc_test_run(s);
}
