/* partner_message.c — see partner_message.h. */
#include "partner_message.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "location_batch.h"
#include "location_json.h"

int partner_name_valid(const char *name)
{
    size_t n = 0;
    for (; name[n]; n++) {
        char c = name[n];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            return 0;
    }
    return n >= 1 && n <= PARTNER_NAME_MAX;
}

static void set_reason(struct partner_verdict *v, const char *label, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_reason(struct partner_verdict *v, const char *label, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->reason, sizeof v->reason, fmt, ap);
    va_end(ap);
    v->label = label;
}

/* The partner named by "partner.<name>.<anything>", or -1 with the reason set. */
static int partner_of_key(const char *routing_key, struct partner_verdict *v)
{
    const size_t plen = strlen(PARTNER_KEY_PREFIX);
    const char *dot = NULL;
    if (strncmp(routing_key, PARTNER_KEY_PREFIX, plen) == 0)
        dot = strchr(routing_key + plen, '.');
    size_t n = dot ? (size_t)(dot - (routing_key + plen)) : 0;
    if (dot && n >= 1 && n <= PARTNER_NAME_MAX) {
        memcpy(v->partner, routing_key + plen, n);
        v->partner[n] = '\0';
        if (partner_name_valid(v->partner))
            return 0;
    }
    v->partner[0] = '\0';
    set_reason(v, "routing_key", "routing_key '%.200s' must be partner.<your user name>.<anything>",
               routing_key);
    return -1;
}

static int check_sender(const char *user_id, const char *routing_key, struct partner_verdict *v)
{
    if (partner_of_key(routing_key, v) != 0)
        return -1;
    if (user_id && user_id[0] && strcmp(user_id, v->partner) != 0) {
        set_reason(v, "identity",
                   "user_id '%.64s' does not match partner '%s' of routing_key '%.200s'", user_id,
                   v->partner, routing_key);
        return -1;
    }
    return 0;
}

/* "item 3: latitude must be between -90 and 90; item 7: ..." cut to fit, with a count of
 * what did not fit. */
static void describe_invalid(const struct udc_location_batch *b, struct partner_verdict *v)
{
    size_t used = 0, listed = 0;
    const size_t room = sizeof v->reason - 48; /* keeps space for the "and N more" tail */
    for (size_t i = 0; i < b->count; i++) {
        if (b->valid[i])
            continue;
        const struct udc_location_error *e = &b->errors[i];
        char one[256], where[32] = "";
        if (b->count > 1) /* a single ping needs no position */
            snprintf(where, sizeof where, "item %zu: ", i);
        int n = snprintf(one, sizeof one, "%s%s%s %s", used ? "; " : "", where, e->field, e->rule);
        if (n < 0 || used + (size_t)n >= room)
            break;
        memcpy(v->reason + used, one, (size_t)n + 1);
        used += (size_t)n;
        listed++;
    }
    if (listed < v->invalid)
        snprintf(v->reason + used, sizeof v->reason - used, "; and %zu more invalid items",
                 v->invalid - listed);
    v->label = "invalid_items";
}

/* The valid pings, attributed to the partner, as the message for udc.locations. */
static int build_output(const struct udc_location_batch *b, struct partner_verdict *v)
{
    struct udc_location *items = malloc(b->valid_count * sizeof *items);
    if (!items)
        return -1;
    size_t k = 0;
    for (size_t i = 0; i < b->count; i++) {
        if (!b->valid[i])
            continue;
        items[k] = b->items[i];
        snprintf(items[k].source, sizeof items[k].source, "%s%s", PARTNER_SOURCE_PREFIX,
                 v->partner);
        k++;
    }
    int rc = 0;
    if (b->count == 1) {
        char buf[UDC_LOCATION_JSON_MAX];
        int n = udc_location_to_json_buf(&items[0], buf, sizeof buf);
        v->out_body = n < 0 ? NULL : strndup(buf, (size_t)n);
        v->out_len = n < 0 ? 0 : (size_t)n;
        memcpy(v->message_id, items[0].event_id, sizeof v->message_id);
    } else {
        v->out_body = udc_location_batch_to_json(items, k, &v->out_len);
        rc = udc_uuid_v4(v->message_id);
    }
    free(items);
    if (!v->out_body || rc != 0) {
        free(v->out_body);
        v->out_body = NULL;
        return -1;
    }
    v->pings = k;
    snprintf(v->out_routing_key, sizeof v->out_routing_key, "%s%s", PARTNER_OUT_PREFIX, v->partner);
    return 0;
}

int partner_message_check(const char *user_id, const char *routing_key, const void *body,
                          size_t len, const struct udc_location_rules *rules,
                          struct partner_verdict *v)
{
    memset(v, 0, sizeof *v);
    if (check_sender(user_id, routing_key ? routing_key : "", v) != 0)
        return 0;
    if (len > PARTNER_BODY_MAX) {
        set_reason(v, "too_large", "body must be at most %d bytes (got %zu)", PARTNER_BODY_MAX,
                   len);
        return 0;
    }

    struct udc_location_rules r = *rules;
    r.require_event_id = 1;
    r.require_creation_time = 1;
    r.require_source = 0; /* the partner is the source */
    struct udc_location_batch b;
    struct udc_location_error body_err;
    if (udc_location_batch_parse(body, len, PARTNER_BATCH_MAX, &r, &b, &body_err) != 0) {
        set_reason(v, "malformed", "%s %s", body_err.field, body_err.rule);
        return 0;
    }
    v->invalid = b.count - b.valid_count;
    int rc = 0;
    if (v->invalid > 0)
        describe_invalid(&b, v);
    if (b.valid_count > 0 && build_output(&b, v) != 0) {
        partner_verdict_free(v);
        rc = -1;
    }
    udc_location_batch_free(&b);
    return rc;
}

void partner_verdict_free(struct partner_verdict *v)
{
    free(v->out_body);
    memset(v, 0, sizeof *v);
}
