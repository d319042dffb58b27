/* handlers.c — see handlers.h. */
#include "handlers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "backoff.h"
#include "location_batch.h"
#include "location_json.h"
#include "log.h"
#include "metrics.h"
#include "ping_message.h"
#include "strbuf.h"
#include "uuid.h"

#define SOURCE_MOBILE "mobile"

static struct udc_counter *accepted_total, *rejected_total, *unavailable_total;
static struct udc_histogram *queued_seconds, *confirm_seconds;

static double in_flight_gauge(void *ctx)
{
    return (double)publisher_in_flight(((struct ingest *)ctx)->publisher);
}

void ingest_metrics_init(struct ingest *in)
{
    static const double bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                    0.05,   0.1,   0.25,   0.5,   1,    5};
    struct udc_metrics *reg = udc_metrics_default();
    accepted_total = udc_counter_new(reg, "udc_ingest_accepted_total",
                                     "Pings confirmed by the broker and answered 202", 0, NULL);
    rejected_total =
        udc_counter_new(reg, "udc_ingest_rejected_total", "Pings refused as invalid, by field", 1,
                        (const char *[]){"field"});
    unavailable_total =
        udc_counter_new(reg, "udc_ingest_unavailable_total",
                        "Requests answered 503 (broker away, not confirmed)", 0, NULL);
    size_t nbounds = sizeof bounds / sizeof bounds[0];
    queued_seconds = udc_histogram_new(
        reg, "udc_ingest_queued_seconds",
        "From a request's hand-over to the publisher to the publish of the message carrying it", 0,
        NULL, nbounds, bounds);
    confirm_seconds =
        udc_histogram_new(reg, "udc_ingest_confirm_seconds", "From publish to the broker's confirm",
                          0, NULL, nbounds, bounds);
    udc_gauge_fn_new(reg, "udc_ingest_in_flight", "Messages queued or awaiting confirm",
                     in_flight_gauge, in);
}

/* --- responses ------------------------------------------------------------------------ */

static int text_quoted(struct udc_strbuf *t, const char *s)
{
    char buf[512];
    size_t n = udc_http_json_quote(buf, sizeof buf, s);
    return udc_strbuf_append(t, buf, n < sizeof buf ? n : sizeof buf - 1);
}

/* 400 with the POC's schema_errors shape plus a sentence: {"error": "latitude must be …",
 * "field": "latitude", "schema_errors": {"latitude": ["must be …"]}} */
static int respond_invalid(struct udc_http_request *req, unsigned status,
                           const struct udc_location_error *e)
{
    char sentence[256];
    struct udc_strbuf t = UDC_STRBUF_INIT;
    snprintf(sentence, sizeof sentence, "%s %s", e->field, e->rule);
    int ok = udc_strbuf_append_str(&t, "{\"error\":") == 0 && text_quoted(&t, sentence) == 0 &&
             udc_strbuf_append_str(&t, ",\"field\":") == 0 && text_quoted(&t, e->field) == 0 &&
             udc_strbuf_append_str(&t, ",\"schema_errors\":{") == 0 &&
             text_quoted(&t, e->field) == 0 && udc_strbuf_append_str(&t, ":[") == 0 &&
             text_quoted(&t, e->rule) == 0 && udc_strbuf_append_str(&t, "]}}") == 0;
    udc_counter_inc(rejected_total, (const char *[]){e->field}, 1);
    int rc = ok ? udc_http_respond_json(req, status, t.data, t.len)
                : udc_http_respond_error(req, 500, "out of memory");
    udc_strbuf_free(&t);
    return rc;
}

static int respond_unavailable(struct udc_http_request *req, const char *why)
{
    udc_counter_inc(unavailable_total, NULL, 1);
    udc_http_add_header(req, "Retry-After", "1");
    return udc_http_respond_error(req, 503, "%s; retry with the same Idempotency-Key", why);
}

/* --- request checks ----------------------------------------------------------------- */

/* 415 unless the body is declared as JSON (or NDJSON for batches); no Content-Type is
 * tolerated, as the POC's clients did not always send one. */
static int content_type_ok(struct udc_http_request *req, int allow_ndjson)
{
    const char *ct = udc_http_header(req, "Content-Type");
    if (!ct || !*ct)
        return 1;
    size_t n = strcspn(ct, "; ");
    if ((n == 16 && strncasecmp(ct, "application/json", n) == 0) ||
        (n > 5 && strncasecmp(ct + n - 5, "+json", 5) == 0))
        return 1;
    return allow_ndjson && ((n == 20 && strncasecmp(ct, "application/x-ndjson", n) == 0) ||
                            (n == 20 && strncasecmp(ct, "application/jsonlines", n) == 0));
}

static struct udc_location_rules phone_rules(const struct ingest *in)
{
    return (struct udc_location_rules){
        .now_us = udc_wall_us(),
        .max_future_skew_us = (int64_t)in->cfg->ingest_http.max_future_skew_s * 1000000,
    };
}

/* The event id: the Idempotency-Key header, else the body's event_id, else a new one made
 * from the request's time (version 7: see uuid.h for why). */
static int assign_event_id(struct udc_http_request *req, int64_t now_us, struct udc_location *loc,
                           struct udc_location_error *err)
{
    const char *key = udc_http_header(req, "Idempotency-Key");
    if (key && *key) {
        char canonical[37];
        if (udc_uuid_canonical(key, strlen(key), canonical) != 0 || udc_uuid_is_nil(canonical))
            return udc_location_error_set(err, 0, "Idempotency-Key", "must be a UUID");
        if (loc->event_id[0] && strcmp(loc->event_id, canonical) != 0)
            return udc_location_error_set(
                err, 0, "event_id", "must equal the Idempotency-Key header when both are given");
        memcpy(loc->event_id, canonical, sizeof canonical);
    }
    if (!loc->event_id[0] && udc_uuid_v7(now_us, loc->event_id) != 0)
        return udc_location_error_set(err, 0, "event_id", "could not be generated");
    return 0;
}

/* --- completion ----------------------------------------------------------------------- */

struct single_ctx {
    struct udc_http_request *req;
    char event_id[37];
};

/* Where an accepted request's time went between its handler and its answer. */
static void observe_timing(const struct publish_timing *t)
{
    udc_histogram_observe(queued_seconds, NULL, (double)t->queued_us / 1e6);
    udc_histogram_observe(confirm_seconds, NULL, (double)t->confirm_us / 1e6);
}

static void single_done(void *arg, int ok, const char *why, const struct publish_timing *timing)
{
    struct single_ctx *c = arg;
    if (ok) {
        char body[96];
        int n = snprintf(body, sizeof body, "{\"event_id\":\"%s\",\"status\":\"accepted\"}",
                         c->event_id);
        udc_counter_inc(accepted_total, NULL, 1);
        observe_timing(timing);
        udc_http_respond_json(c->req, 202, body, (size_t)n);
    } else {
        respond_unavailable(c->req, why);
    }
    udc_http_resume(c->req);
    free(c);
}

static int post_location(struct udc_http_request *req, void *userdata)
{
    struct ingest *in = userdata;
    struct udc_location_rules rules = phone_rules(in);
    struct udc_location_batch b;
    struct udc_location_error err;
    size_t len;
    const char *body = udc_http_body(req, &len);

    if (!content_type_ok(req, 0))
        return udc_http_respond_error(req, 415, "Content-Type must be application/json");
    size_t lead = 0;
    while (lead < len && strchr(" \t\r\n", body[lead]))
        lead++;
    if (lead == len || body[lead] != '{') {
        udc_location_error_set(&err, -1, "body", "must be a JSON object");
        return respond_invalid(req, 400, &err);
    }
    if (udc_location_batch_parse(body, len, 1, &rules, &b, &err) != 0)
        return respond_invalid(req, 400, &err);
    if (!b.valid[0]) {
        err = b.errors[0];
        udc_location_batch_free(&b);
        return respond_invalid(req, 400, &err);
    }
    struct udc_location loc = b.items[0];
    udc_location_batch_free(&b);
    snprintf(loc.source, sizeof loc.source, "%s", SOURCE_MOBILE);
    if (assign_event_id(req, rules.now_us, &loc, &err) != 0)
        return respond_invalid(req, 400, &err);

    char message[UDC_LOCATION_JSON_MAX];
    int n = ping_message_format(&loc, message, sizeof message);
    struct single_ctx *c = calloc(1, sizeof *c);
    if (n < 0 || !c) {
        free(c);
        return udc_http_respond_error(req, 500, "cannot encode the ping");
    }
    c->req = req;
    memcpy(c->event_id, loc.event_id, sizeof c->event_id);
    udc_http_suspend(req);
    if (publisher_submit_ping(in->publisher, message, (size_t)n, loc.event_id, single_done, c) !=
        0) {
        free(c);
        respond_unavailable(req, "broker unavailable");
        udc_http_resume(req);
    }
    return UDC_HTTP_PENDING;
}

/* --- batches ----------------------------------------------------------------------------- */

/* One request of POST /api/locations/batch: the verdicts are known before publishing; the
 * answer waits for the confirm of the one message that carries the valid pings. */
struct batch_ctx {
    struct udc_http_request *req;
    struct udc_strbuf verdicts; /* "[{…},{…}]" */
    size_t accepted, rejected;
};

static int add_verdicts(struct udc_strbuf *t, const struct udc_location_batch *b, size_t *rejected)
{
    char head[96];
    if (udc_strbuf_append_str(t, "[") != 0)
        return -1;
    for (size_t i = 0; i < b->count; i++) {
        int ok;
        snprintf(head, sizeof head, "%s{\"index\":%zu,", i ? "," : "", i);
        if (b->valid[i]) {
            ok = udc_strbuf_append_str(t, head) == 0 &&
                 udc_strbuf_append_str(t, "\"status\":\"accepted\",\"event_id\":\"") == 0 &&
                 udc_strbuf_append_str(t, b->items[i].event_id) == 0 &&
                 udc_strbuf_append_str(t, "\"}") == 0;
        } else {
            const struct udc_location_error *e = &b->errors[i];
            char sentence[256];
            snprintf(sentence, sizeof sentence, "%s %s", e->field, e->rule);
            ok = udc_strbuf_append_str(t, head) == 0 &&
                 udc_strbuf_append_str(t, "\"status\":\"rejected\",\"field\":") == 0 &&
                 text_quoted(t, e->field) == 0 && udc_strbuf_append_str(t, ",\"error\":") == 0 &&
                 text_quoted(t, sentence) == 0 && udc_strbuf_append_str(t, "}") == 0;
            udc_counter_inc(rejected_total, (const char *[]){e->field}, 1);
            (*rejected)++;
        }
        if (!ok)
            return -1;
    }
    return udc_strbuf_append_str(t, "]");
}

static int respond_batch(struct udc_http_request *req, unsigned status, struct batch_ctx *c)
{
    struct udc_strbuf t = UDC_STRBUF_INIT;
    char head[128];
    snprintf(head, sizeof head, "{\"accepted\":%zu,\"rejected\":%zu,\"items\":", c->accepted,
             c->rejected);
    int ok = udc_strbuf_append_str(&t, head) == 0 &&
             udc_strbuf_append(&t, c->verdicts.data, c->verdicts.len) == 0 &&
             udc_strbuf_append_str(&t, "}") == 0;
    int rc = ok ? udc_http_respond_json(req, status, t.data, t.len)
                : udc_http_respond_error(req, 500, "out of memory");
    udc_strbuf_free(&t);
    return rc;
}

static void batch_ctx_free(struct batch_ctx *c)
{
    udc_strbuf_free(&c->verdicts);
    free(c);
}

static void batch_done(void *arg, int ok, const char *why, const struct publish_timing *timing)
{
    struct batch_ctx *c = arg;
    if (ok) {
        udc_counter_inc(accepted_total, NULL, c->accepted);
        observe_timing(timing);
        respond_batch(c->req, 202, c);
    } else {
        respond_unavailable(c->req, why);
    }
    udc_http_resume(c->req);
    batch_ctx_free(c);
}

/* Gives each valid ping its event id (its own, or a new one made from the request's time)
 * and the source. */
static void stamp_pings(struct udc_location_batch *b, int64_t now_us)
{
    for (size_t i = 0; i < b->count; i++) {
        if (!b->valid[i])
            continue;
        if (!b->items[i].event_id[0] && udc_uuid_v7(now_us, b->items[i].event_id) != 0) {
            b->valid[i] = 0;
            b->valid_count--;
            udc_location_error_set(&b->errors[i], (int)i, "event_id", "could not be generated");
            continue;
        }
        snprintf(b->items[i].source, sizeof b->items[i].source, "%s", SOURCE_MOBILE);
    }
}

/* The valid pings as one {"locations":[…]} message. */
static char *valid_pings_message(const struct udc_location_batch *b, size_t *len)
{
    struct udc_location *valid = malloc(b->valid_count * sizeof *valid);
    if (!valid)
        return NULL;
    size_t n = 0;
    for (size_t i = 0; i < b->count; i++)
        if (b->valid[i])
            valid[n++] = b->items[i];
    char *json = udc_location_batch_to_json(valid, n, len);
    free(valid);
    return json;
}

static int post_batch(struct udc_http_request *req, void *userdata)
{
    struct ingest *in = userdata;
    struct udc_location_rules rules = phone_rules(in);
    struct udc_location_batch b;
    struct udc_location_error err;
    size_t len;
    const char *body = udc_http_body(req, &len);

    if (!content_type_ok(req, 1))
        return udc_http_respond_error(
            req, 415, "Content-Type must be application/json or application/x-ndjson");
    if (udc_location_batch_parse(body, len, (size_t)in->cfg->ingest_http.batch_max, &rules, &b,
                                 &err) != 0)
        return respond_invalid(req, 400, &err);
    stamp_pings(&b, rules.now_us);

    struct batch_ctx *c = calloc(1, sizeof *c);
    if (!c || add_verdicts(&c->verdicts, &b, &c->rejected) != 0) {
        udc_location_batch_free(&b);
        if (c)
            batch_ctx_free(c);
        return udc_http_respond_error(req, 500, "out of memory");
    }
    c->req = req;
    c->accepted = b.valid_count;
    if (b.valid_count == 0) {
        udc_location_batch_free(&b);
        int rc = respond_batch(req, 400, c);
        batch_ctx_free(c);
        return rc;
    }
    size_t message_len = 0;
    char *message = valid_pings_message(&b, &message_len);
    char message_id[37];
    udc_location_batch_free(&b);
    if (!message || udc_uuid_v4(message_id) != 0) {
        free(message);
        batch_ctx_free(c);
        return udc_http_respond_error(req, 500, "cannot encode the batch");
    }
    udc_http_suspend(req);
    if (publisher_submit(in->publisher, message, message_len, message_id, batch_done, c) != 0) {
        batch_ctx_free(c);
        respond_unavailable(req, "broker unavailable");
        udc_http_resume(req);
    }
    free(message);
    return UDC_HTTP_PENDING;
}

int ingest_routes(struct udc_http_server *server, struct ingest *in)
{
    if (udc_http_route(server, "POST", "/api/locations", post_location, in) != 0 ||
        udc_http_route(server, "POST", "/api/locations/batch", post_batch, in) != 0)
        return -1;
    return 0;
}
