/* event_ids.c — reading the row ids out of a location.stored event. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>

#include "connector.h"

static int push_id(int64_t **ids, size_t *count, size_t *cap, int64_t id)
{
    if (*count == *cap) {
        size_t n = *cap ? *cap * 2 : 1024;
        int64_t *grown = realloc(*ids, n * sizeof *grown);
        if (!grown)
            return -1;
        *ids = grown;
        *cap = n;
    }
    (*ids)[(*count)++] = id;
    return 0;
}

int connector_event_ids(const char *body, size_t len, int64_t **ids, size_t *count, size_t *cap,
                        char *why, size_t whylen)
{
    json_tokener *tok = json_tokener_new_ex(8);
    if (!tok) {
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    json_object *root = json_tokener_parse_ex(tok, body, (int)len);
    int complete = json_tokener_get_error(tok) == json_tokener_success &&
                   json_tokener_get_parse_end(tok) == len;
    json_tokener_free(tok);
    json_object *locations;
    int rc = -1;
    if (!complete || !json_object_is_type(root, json_type_object) ||
        !json_object_object_get_ex(root, "locations", &locations) ||
        !json_object_is_type(locations, json_type_array)) {
        snprintf(why, whylen, "body is not a location.stored event ({\"locations\": [...]})");
        goto out;
    }
    size_t before = *count;
    for (size_t i = 0; i < json_object_array_length(locations); i++) {
        json_object *id, *item = json_object_array_get_idx(locations, i);
        if (!json_object_is_type(item, json_type_object) ||
            !json_object_object_get_ex(item, "id", &id) ||
            !json_object_is_type(id, json_type_int) || json_object_get_int64(id) < 1) {
            snprintf(why, whylen, "locations[%zu].id must be a positive integer", i);
            *count = before;
            goto out;
        }
        if (push_id(ids, count, cap, json_object_get_int64(id)) != 0) {
            snprintf(why, whylen, "out of memory");
            *count = before;
            goto out;
        }
    }
    rc = 0;
out:
    json_object_put(root);
    return rc;
}
