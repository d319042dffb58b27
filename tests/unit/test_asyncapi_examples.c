/* docs/asyncapi.yaml tells partners the truth: each example of the partnerPings message is
 * accepted whole by udc-ingest-amqp's validation, and each deadLetter example is refused
 * with exactly the x-udc-error its headers show.
 *
 * The document keeps every example payload and header object on one line as JSON (valid
 * YAML too), so the examples are found with plain line handling: inside the section of a
 * message (a line "    partnerPings:" or "    deadLetter:"), "- name: X" starts an example,
 * "headers: {...}" and "payload: ..." hold its JSON. Run from the repository root. */
#include <check.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backoff.h"
#include "ingest-amqp/partner_message.h"
#include "suite_run.h"

#define DOC "docs/asyncapi.yaml"

enum section { OTHER, PINGS, DEAD };

struct counts {
    int pings, dead;
};

static const char *after_key(const char *line, const char *key)
{
    while (*line == ' ')
        line++;
    size_t n = strlen(key);
    return strncmp(line, key, n) == 0 ? line + n : NULL;
}

static json_object *parse_json_line(const char *text, const char *what, const char *name)
{
    json_object *o = json_tokener_parse(text);
    ck_assert_msg(o != NULL, "%s of example %s is not one-line JSON: %s", what, name, text);
    return o;
}

static const char *header_of(json_object *headers, const char *key, const char *name)
{
    json_object *v;
    ck_assert_msg(json_object_object_get_ex(headers, key, &v), "example %s lacks header %s", name,
                  key);
    return json_object_get_string(v);
}

static void check_example(enum section sec, const char *name, json_object *headers,
                          const char *payload, struct counts *c)
{
    struct udc_location_rules rules = {.now_us = udc_wall_us(),
                                       .max_future_skew_us = 300 * INT64_C(1000000)};
    struct partner_verdict v;
    if (sec == PINGS) {
        json_object *o = parse_json_line(payload, "payload", name);
        json_object *arr = json_object_is_type(o, json_type_array) ? o : NULL;
        if (!arr)
            json_object_object_get_ex(o, "locations", &arr);
        size_t items = arr ? json_object_array_length(arr) : 1;
        ck_assert_int_eq(partner_message_check("acme", "partner.acme.scanner", payload,
                                               strlen(payload), &rules, &v),
                         0);
        ck_assert_msg(v.reason[0] == '\0', "example %s is refused: %s", name, v.reason);
        ck_assert_uint_eq(v.pings, items);
        json_object_put(o);
        c->pings++;
    } else {
        ck_assert_msg(headers != NULL, "dead-letter example %s has no headers line", name);
        json_object_put(parse_json_line(payload, "payload", name));
        const char *key = header_of(headers, "x-udc-routing-key", name);
        const char *want = header_of(headers, "x-udc-error", name);
        ck_assert_str_eq(header_of(headers, "x-udc-exchange", name), "udc.partner");
        ck_assert_int_eq(partner_message_check("", key, payload, strlen(payload), &rules, &v), 0);
        ck_assert_msg(strcmp(v.reason, want) == 0,
                      "example %s: refused with '%s', document says '%s'", name, v.reason, want);
        c->dead++;
    }
    partner_verdict_free(&v);
}

static struct counts check_document(FILE *f)
{
    struct counts c = {0, 0};
    enum section sec = OTHER;
    char line[8192], name[128] = "";
    json_object *headers = NULL;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        const char *rest;
        size_t indent = strspn(line, " ");
        if (line[indent] != '\0' && line[indent] != '#' && indent <= 4) {
            /* A key at the level of components.messages names the message that follows;
             * any shallower key ends it. */
            sec = indent < 4                               ? OTHER
                  : strcmp(line + 4, "partnerPings:") == 0 ? PINGS
                  : strcmp(line + 4, "deadLetter:") == 0   ? DEAD
                                                           : OTHER;
        }
        if (sec == OTHER)
            continue;
        if ((rest = after_key(line, "- name: "))) {
            snprintf(name, sizeof name, "%s", rest);
            json_object_put(headers);
            headers = NULL;
        } else if ((rest = after_key(line, "headers: {"))) {
            ck_assert_msg(name[0], "headers outside an example: %s", line);
            headers = parse_json_line(rest - 1, "headers", name);
        } else if (name[0] && (rest = after_key(line, "payload: ")) &&
                   (rest[0] == '{' || rest[0] == '[')) {
            check_example(sec, name, headers, rest, &c);
            json_object_put(headers);
            headers = NULL;
            name[0] = '\0';
        }
    }
    json_object_put(headers);
    return c;
}

START_TEST(examples_match_the_codec)
{
    FILE *f = fopen(DOC, "r");
    ck_assert_msg(f != NULL, "cannot open %s (run from the repository root)", DOC);
    struct counts c = check_document(f);
    fclose(f);
    /* The document has 3 + 4 examples; finding fewer means the extraction broke. */
    ck_assert_int_ge(c.pings, 3);
    ck_assert_int_ge(c.dead, 4);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("asyncapi_examples");
    TCase *tc = tcase_create("examples");
    tcase_add_test(tc, examples_match_the_codec);
    suite_add_tcase(s, tc);
    return udc_test_run(s);
}
