/* location_batch.c — see location_batch.h.
 *
 * Every accepted form is reduced to one JSON array of items before decoding, so that
 * item indexes mean the same thing whatever the form. */
#include "location_batch.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "location_json.h"

struct body {
    const char *text;
    size_t len;
    struct json_tokener *tok;
    struct udc_location_error *err;
};

static int is_json_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static size_t skip_space(const struct body *b, size_t pos)
{
    while (pos < b->len && is_json_space(b->text[pos]))
        pos++;
    return pos;
}

static int body_error_at(const struct body *b, size_t offset, const char *what, const char *detail)
{
    size_t line = 1, column = 1;
    for (size_t i = 0; i < offset && i < b->len; i++) {
        column++;
        if (b->text[i] == '\n') {
            line++;
            column = 1;
        }
    }
    return udc_location_error_set(b->err, -1, "body", "%s at line %zu, column %zu%s%s", what, line,
                                  column, detail[0] ? ": " : "", detail);
}

/* Parse one JSON value starting at pos; *end is set just past it. NULL on error. */
static json_object *parse_value(const struct body *b, size_t pos, size_t *end)
{
    json_tokener_reset(b->tok);
    json_object *value = json_tokener_parse_ex(b->tok, b->text + pos, (int)(b->len - pos));
    enum json_tokener_error e = json_tokener_get_error(b->tok);
    size_t stop = pos + json_tokener_get_parse_end(b->tok);
    if (value != NULL && e == json_tokener_success) {
        *end = stop;
        return value;
    }
    json_object_put(value);
    if (e == json_tokener_continue && b->text[pos] != '{' && b->text[pos] != '[')
        udc_location_error_set(b->err, -1, "body",
                               "must be a JSON object, an array of objects or NDJSON");
    else if (e == json_tokener_continue)
        body_error_at(b, stop, "is incomplete JSON: it ends", "");
    else
        body_error_at(b, stop, "is malformed JSON", json_tokener_error_desc(e));
    return NULL;
}

/* Whether a newline separates the value that the tokener stopped at (it may have consumed
 * the whitespace after the value, newline included) from the next one at next. */
static int newline_before(const struct body *b, size_t stopped, size_t next)
{
    while (stopped > 0 && is_json_space(b->text[stopped - 1]))
        stopped--;
    return memchr(b->text + stopped, '\n', next - stopped) != NULL;
}

/* Objects, one per line, from pos on, appended to list (which owns them). */
static int collect_ndjson(const struct body *b, size_t pos, size_t max_items, json_object *list)
{
    size_t prev_end = pos;
    for (pos = skip_space(b, pos); pos < b->len; pos = skip_space(b, prev_end)) {
        if (!newline_before(b, prev_end, pos))
            return body_error_at(b, pos, "has unexpected data after the JSON value", "");
        if (json_object_array_length(list) >= max_items)
            return udc_location_error_set(b->err, -1, "body", "must hold at most %zu items",
                                          max_items);
        json_object *value = parse_value(b, pos, &prev_end);
        if (value == NULL)
            return -1;
        json_object_array_add(list, value);
    }
    return 0;
}

static int is_wrapper(json_object *value)
{
    return json_object_is_type(value, json_type_object) &&
           json_object_object_get_ex(value, "locations", NULL);
}

/* {"locations": [...]} → its array (borrowed from wrapper). */
static json_object *unwrap(const struct body *b, json_object *wrapper)
{
    json_object *list = NULL;
    json_object_object_foreach(wrapper, key, value)
    {
        if (strcmp(key, "locations") != 0) {
            udc_location_error_set(b->err, -1, key, "unknown field");
            return NULL;
        }
        list = value;
    }
    if (!json_object_is_type(list, json_type_array)) {
        udc_location_error_set(b->err, -1, "locations", "must be an array of location objects");
        return NULL;
    }
    return list;
}

/* The body as one array of items. *owner receives what the caller must json_object_put(). */
static json_object *items_of_body(const struct body *b, size_t max_items, json_object **owner)
{
    size_t pos = skip_space(b, 0), end;
    if (pos == b->len) {
        udc_location_error_set(b->err, -1, "body", "must not be empty");
        return NULL;
    }
    json_object *first = parse_value(b, pos, &end);
    if (first == NULL)
        return NULL;
    size_t next = skip_space(b, end);
    int alone = next == b->len;
    if (json_object_is_type(first, json_type_array) || is_wrapper(first)) {
        *owner = first;
        if (!alone) {
            body_error_at(b, next, "has unexpected data after the JSON value", "");
            return NULL;
        }
        return json_object_is_type(first, json_type_array) ? first : unwrap(b, first);
    }
    if (!json_object_is_type(first, json_type_object)) {
        *owner = first;
        udc_location_error_set(b->err, -1, "body",
                               "must be a JSON object, an array of objects or NDJSON");
        return NULL;
    }
    json_object *list = json_object_new_array();
    *owner = list;
    if (list == NULL) {
        json_object_put(first);
        udc_location_error_set(b->err, -1, "body", "could not be held in memory");
        return NULL;
    }
    json_object_array_add(list, first);
    return alone || collect_ndjson(b, end, max_items, list) == 0 ? list : NULL;
}

static int allocate(struct udc_location_batch *out, size_t count)
{
    out->count = count;
    out->items = calloc(count, sizeof *out->items);
    out->errors = calloc(count, sizeof *out->errors);
    out->valid = calloc(count, sizeof *out->valid);
    return out->items && out->errors && out->valid ? 0 : -1;
}

static void decode_items(json_object *list, const struct udc_location_rules *rules,
                         struct udc_location_batch *out)
{
    for (size_t i = 0; i < out->count; i++) {
        json_object *item = json_object_array_get_idx(list, i);
        if (udc_location_from_json(item, rules, &out->items[i], &out->errors[i]) == 0) {
            out->valid[i] = 1;
            out->valid_count++;
        } else {
            out->errors[i].index = (int)i;
        }
    }
}

static int check_count(const struct body *b, size_t count, size_t max_items)
{
    if (count == 0)
        return udc_location_error_set(b->err, -1, "body", "must hold at least one location");
    if (count > max_items)
        return udc_location_error_set(b->err, -1, "body", "must hold at most %zu items", max_items);
    return 0;
}

int udc_location_batch_parse(const char *body, size_t len, size_t max_items,
                             const struct udc_location_rules *rules, struct udc_location_batch *out,
                             struct udc_location_error *body_err)
{
    memset(out, 0, sizeof *out);
    if (body == NULL && len > 0)
        return udc_location_error_set(body_err, -1, "body", "must not be empty");
    if (len > INT_MAX) /* json_tokener_parse_ex takes an int length */
        return udc_location_error_set(body_err, -1, "body", "is too large");
    struct body b = {body, len, json_tokener_new_ex(UDC_LOCATION_JSON_DEPTH), body_err};
    if (b.tok == NULL)
        return udc_location_error_set(body_err, -1, "body", "could not be parsed (no memory)");
    json_tokener_set_flags(b.tok, JSON_TOKENER_STRICT | JSON_TOKENER_ALLOW_TRAILING_CHARS |
                                      JSON_TOKENER_VALIDATE_UTF8);
    json_object *owner = NULL;
    json_object *list = items_of_body(&b, max_items, &owner);
    int rc = -1;
    if (list != NULL && check_count(&b, json_object_array_length(list), max_items) == 0) {
        if (allocate(out, json_object_array_length(list)) == 0) {
            decode_items(list, rules, out);
            rc = 0;
        } else {
            udc_location_batch_free(out);
            udc_location_error_set(body_err, -1, "body", "could not be held in memory");
        }
    }
    json_object_put(owner);
    json_tokener_free(b.tok);
    return rc;
}

void udc_location_batch_free(struct udc_location_batch *batch)
{
    if (batch == NULL)
        return;
    free(batch->items);
    free(batch->errors);
    free(batch->valid);
    memset(batch, 0, sizeof *batch);
}

char *udc_location_batch_to_json(const struct udc_location *items, size_t n, size_t *len_out)
{
    static const char head[] = "{\"locations\":[", tail[] = "]}";
    if (n > (SIZE_MAX - sizeof head - sizeof tail) / UDC_LOCATION_JSON_MAX)
        return NULL;
    size_t size = sizeof head + sizeof tail + n * UDC_LOCATION_JSON_MAX;
    char *buf = malloc(size);
    if (buf == NULL)
        return NULL;
    size_t pos = sizeof head - 1;
    memcpy(buf, head, pos);
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            buf[pos++] = ',';
        int written = udc_location_to_json_buf(&items[i], buf + pos, size - pos);
        if (written < 0) {
            free(buf);
            return NULL;
        }
        pos += (size_t)written;
    }
    memcpy(buf + pos, tail, sizeof tail);
    if (len_out != NULL)
        *len_out = pos + sizeof tail - 1;
    return buf;
}
