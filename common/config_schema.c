/* config_schema.c — the table of configuration keys and the checked setters. See
 * config_schema.h. Adding a key: a field in config.h and one row here. */
#include "config_schema.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OFF(field) offsetof(struct udc_config, field)
#define INT_KEY(sec, key, def, lo, hi)                                                             \
    {                                                                                              \
#sec, #key, UDC_CFG_INT, OFF(sec.key), 0, #def, lo, hi                                     \
    }
#define DOUBLE_KEY(sec, key, def, lo, hi)                                                          \
    {                                                                                              \
#sec, #key, UDC_CFG_DOUBLE, OFF(sec.key), 0, #def, lo, hi                                  \
    }
#define TEXT_KEY(sec, key, type, def)                                                              \
    {                                                                                              \
#sec, #key, type, OFF(sec.key), 0, def, 0, 0                                               \
    }
#define LIST_KEY(sec, key, def)                                                                    \
    {                                                                                              \
#sec, #key, UDC_CFG_HOSTPORT_LIST, OFF(sec.key), OFF(sec.key##_count), def, 0, 0           \
    }

#define LOCAL_AMQP "@127.0.0.1:5672/udaconnect"

/* Defaults are the values of the sample udaconnect.conf, except that a daemon's own amqp_url
 * is unset by default so that amqp.url (or UDC_AMQP_URL) alone is enough. */
const struct udc_cfg_key udc_cfg_keys[] = {
    TEXT_KEY(log, level, UDC_CFG_LEVEL, "info"),

    TEXT_KEY(db, url, UDC_CFG_PG_URL, "postgresql://udaconnect@127.0.0.1:5432/udaconnect"),
    INT_KEY(db, connect_timeout_s, 5, 1, 3600),
    INT_KEY(db, statement_timeout_ms, 30000, 0, 86400000),

    TEXT_KEY(amqp, url, UDC_CFG_AMQP_URL, "amqp://guest:guest" LOCAL_AMQP),
    INT_KEY(amqp, heartbeat_s, 30, 0, 3600),
    INT_KEY(amqp, confirm_timeout_ms, 5000, 1, 600000),
    INT_KEY(amqp, reconnect_max_ms, 30000, 1, 3600000),

    LIST_KEY(ingest_http, listen, "127.0.0.1:30002"),
    TEXT_KEY(ingest_http, amqp_url, UDC_CFG_AMQP_URL, NULL),
    INT_KEY(ingest_http, threads, 2, 1, 1024),
    INT_KEY(ingest_http, body_max, 1048576, 1, 1073741824),
    INT_KEY(ingest_http, batch_max, 1000, 1, 1000000),
    INT_KEY(ingest_http, connection_timeout_s, 10, 1, 86400),
    INT_KEY(ingest_http, max_in_flight, 4096, 1, 1000000),
    INT_KEY(ingest_http, max_future_skew_s, 300, 0, 31536000),

    TEXT_KEY(writer, admin_listen, UDC_CFG_HOSTPORT, "127.0.0.1:30010"),
    TEXT_KEY(writer, amqp_url, UDC_CFG_AMQP_URL, NULL),
    INT_KEY(writer, prefetch, 2000, 1, 65535),
    INT_KEY(writer, batch_size, 1000, 1, 1000000),
    INT_KEY(writer, batch_wait_ms, 250, 0, 60000),
    INT_KEY(writer, connections, 3, 1, 16),

    TEXT_KEY(connector, admin_listen, UDC_CFG_HOSTPORT, "127.0.0.1:30011"),
    TEXT_KEY(connector, amqp_url, UDC_CFG_AMQP_URL, NULL),
    INT_KEY(connector, prefetch, 2000, 1, 65535),
    INT_KEY(connector, batch_wait_ms, 100, 0, 60000),
    DOUBLE_KEY(connector, radius_m, 5.0, 0.01, 100000),
    INT_KEY(connector, window_min, 30, 0, 10080),
    INT_KEY(connector, backfill_chunk, 5000, 1, 1000000),

    TEXT_KEY(ingest_amqp, admin_listen, UDC_CFG_HOSTPORT, "127.0.0.1:30012"),
    TEXT_KEY(ingest_amqp, amqp_url, UDC_CFG_AMQP_URL, NULL),
    INT_KEY(ingest_amqp, prefetch, 500, 1, 65535),
    INT_KEY(ingest_amqp, max_future_skew_s, 300, 0, 31536000),

    LIST_KEY(api, listen, "127.0.0.1:30001,127.0.0.1:30000"),
    INT_KEY(api, threads, 4, 1, 1024),
    TEXT_KEY(api, www_dir, UDC_CFG_STRING, "/usr/share/udaconnect/www"),
    INT_KEY(api, page_max, 1000, 1, 1000000),
    INT_KEY(api, connection_timeout_s, 30, 1, 86400),
    TEXT_KEY(api, ingest_url, UDC_CFG_STRING, "http://localhost:30002"),
};

const size_t udc_cfg_key_count = sizeof udc_cfg_keys / sizeof udc_cfg_keys[0];

/* struct udc_config.from_env has one bit per row. */
_Static_assert(sizeof udc_cfg_keys / sizeof udc_cfg_keys[0] <= 64, "too many keys for from_env");

const struct udc_cfg_key *udc_cfg_key_find(const char *section, const char *name)
{
    for (size_t i = 0; i < udc_cfg_key_count; i++) {
        if (strcmp(udc_cfg_keys[i].section, section) == 0 &&
            strcmp(udc_cfg_keys[i].name, name) == 0)
            return &udc_cfg_keys[i];
    }
    return NULL;
}

int udc_cfg_section_known(const char *section)
{
    for (size_t i = 0; i < udc_cfg_key_count; i++) {
        if (strcmp(udc_cfg_keys[i].section, section) == 0)
            return 1;
    }
    return 0;
}

static void *field(struct udc_config *cfg, const struct udc_cfg_key *key)
{
    return (char *)cfg + key->offset;
}

char **udc_cfg_string_slot(struct udc_config *cfg, const struct udc_cfg_key *key)
{
    return (char **)field(cfg, key);
}

static size_t *list_count(struct udc_config *cfg, const struct udc_cfg_key *key)
{
    return (size_t *)((char *)cfg + key->count_offset);
}

static void free_list(char **items, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(items[i]);
    free(items);
}

void udc_cfg_clear(struct udc_config *cfg, const struct udc_cfg_key *key)
{
    switch (key->type) {
    case UDC_CFG_STRING:
    case UDC_CFG_PG_URL:
    case UDC_CFG_AMQP_URL:
    case UDC_CFG_HOSTPORT: {
        char **slot = udc_cfg_string_slot(cfg, key);
        free(*slot);
        *slot = NULL;
        break;
    }
    case UDC_CFG_HOSTPORT_LIST: {
        char ***slot = field(cfg, key);
        free_list(*slot, *list_count(cfg, key));
        *slot = NULL;
        *list_count(cfg, key) = 0;
        break;
    }
    case UDC_CFG_LEVEL:
    case UDC_CFG_INT:
    case UDC_CFG_DOUBLE:
        break;
    }
}

static int fail(char *err, size_t errlen, const struct udc_cfg_key *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, const struct udc_cfg_key *key, const char *fmt, ...)
{
    if (err == NULL || errlen == 0)
        return -1;
    int n = snprintf(err, errlen, "%s.%s ", key->section, key->name);
    if (n >= 0 && (size_t)n < errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* ---- udc_listen_parse ---- */

static int valid_hostname(const char *host, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)host[i];
        if (!isalnum(c) && c != '.' && c != '-' && c != '_')
            return 0;
    }
    return 1;
}

/* An IPv6 address, optionally with a %zone suffix (fe80::1%eth0). */
static int valid_ipv6(const char *host, size_t len)
{
    const char *zone = memchr(host, '%', len);
    size_t addr_len = zone ? (size_t)(zone - host) : len;
    char addr[INET6_ADDRSTRLEN];
    struct in6_addr parsed;
    if (addr_len == 0 || addr_len >= sizeof addr)
        return 0;
    memcpy(addr, host, addr_len);
    addr[addr_len] = '\0';
    if (inet_pton(AF_INET6, addr, &parsed) != 1)
        return 0;
    return zone == NULL || (zone + 1 < host + len && valid_hostname(zone + 1, len - addr_len - 1));
}

static int parse_port(const char *text, unsigned short *port)
{
    size_t len = strlen(text);
    if (len == 0 || len > 5 || strspn(text, "0123456789") != len)
        return -1;
    long value = strtol(text, NULL, 10);
    if (value < 1 || value > 65535)
        return -1;
    *port = (unsigned short)value;
    return 0;
}

int udc_listen_parse(const char *hostport, char *host, size_t hostlen, unsigned short *port)
{
    const char *start, *end, *port_text;
    int valid;
    if (hostport == NULL || host == NULL || hostlen == 0 || port == NULL)
        return -1;
    if (hostport[0] == '[') {
        start = hostport + 1;
        end = strchr(start, ']');
        if (end == NULL || end[1] != ':')
            return -1;
        port_text = end + 2;
        valid = valid_ipv6(start, (size_t)(end - start));
    } else {
        start = hostport;
        end = strchr(start, ':');
        if (end == NULL || strchr(end + 1, ':') != NULL) /* bare IPv6 needs brackets */
            return -1;
        port_text = end + 1;
        valid = valid_hostname(start, (size_t)(end - start));
    }
    size_t len = (size_t)(end - start);
    if (!valid || len == 0 || len >= hostlen || parse_port(port_text, port) != 0)
        return -1;
    memcpy(host, start, len);
    host[len] = '\0';
    return 0;
}

/* ---- checked stores ---- */

static int has_control_chars(const char *text)
{
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if (*p < 0x20 || *p == 0x7f)
            return 1;
    }
    return 0;
}

static int starts_with(const char *text, const char *prefix)
{
    return strncmp(text, prefix, strlen(prefix)) == 0;
}

static int valid_hostport(const char *text)
{
    char host[256];
    unsigned short port;
    return udc_listen_parse(text, host, sizeof host, &port) == 0;
}

/* The rule a string value breaks, or NULL when it is fine. */
static const char *string_rule(const struct udc_cfg_key *key, const char *text)
{
    if (text[0] == '\0')
        return "must not be empty";
    if (has_control_chars(text))
        return "must not contain control characters";
    switch (key->type) {
    case UDC_CFG_PG_URL:
        if (!starts_with(text, "postgresql://") && !starts_with(text, "postgres://"))
            return "must be a postgresql:// URL";
        break;
    case UDC_CFG_AMQP_URL:
        if (!starts_with(text, "amqp://") && !starts_with(text, "amqps://"))
            return "must be an amqp:// or amqps:// URL";
        break;
    case UDC_CFG_HOSTPORT:
    case UDC_CFG_HOSTPORT_LIST:
        if (!valid_hostport(text))
            return "must be HOST:PORT or [IPV6]:PORT with a port from 1 to 65535";
        break;
    default:
        break;
    }
    return NULL;
}

static int store_string(struct udc_config *cfg, const struct udc_cfg_key *key, const char *text,
                        char *err, size_t errlen)
{
    if (key->type == UDC_CFG_LEVEL) {
        enum udc_log_level level;
        if (udc_log_level_parse(text, &level) != 0)
            return fail(err, errlen, key, "must be one of debug, info, warn, error");
        *(enum udc_log_level *)field(cfg, key) = level;
        return 0;
    }
    const char *rule = string_rule(key, text);
    if (rule != NULL)
        return fail(err, errlen, key, "%s", rule);
    char *copy = strdup(text);
    if (copy == NULL)
        return fail(err, errlen, key, "could not be stored: out of memory");
    udc_cfg_clear(cfg, key);
    *udc_cfg_string_slot(cfg, key) = copy;
    return 0;
}

static int out_of_range(const struct udc_cfg_key *key, double value, char *err, size_t errlen)
{
    if (value >= key->min && value <= key->max)
        return 0;
    return fail(err, errlen, key, "must be between %.15g and %.15g", key->min, key->max);
}

static int store_int(struct udc_config *cfg, const struct udc_cfg_key *key, long long value,
                     char *err, size_t errlen)
{
    if (out_of_range(key, (double)value, err, errlen))
        return -1;
    *(int *)field(cfg, key) = (int)value;
    return 0;
}

static int store_double(struct udc_config *cfg, const struct udc_cfg_key *key, double value,
                        char *err, size_t errlen)
{
    if (!isfinite(value))
        return fail(err, errlen, key, "must be a finite number");
    if (out_of_range(key, value, err, errlen))
        return -1;
    *(double *)field(cfg, key) = value;
    return 0;
}

/* Takes ownership of items (all of them, also on error). */
static int store_list(struct udc_config *cfg, const struct udc_cfg_key *key, char **items,
                      size_t count, char *err, size_t errlen)
{
    if (count == 0) {
        free_list(items, count);
        return fail(err, errlen, key, "must list at least one address");
    }
    for (size_t i = 0; i < count; i++) {
        const char *rule = string_rule(key, items[i]);
        if (rule != NULL) {
            fail(err, errlen, key, "entry '%s' %s", items[i], rule);
            free_list(items, count);
            return -1;
        }
    }
    udc_cfg_clear(cfg, key);
    *(char ***)field(cfg, key) = items;
    *list_count(cfg, key) = count;
    return 0;
}

/* ---- from text ---- */

static int parse_long_long(const char *text, long long *out)
{
    char *end;
    errno = 0;
    long long value = strtoll(text, &end, 10);
    if (text[0] == '\0' || isspace((unsigned char)text[0]) || *end != '\0' || errno != 0)
        return -1;
    *out = value;
    return 0;
}

static int parse_double(const char *text, double *out)
{
    char *end;
    errno = 0;
    double value = strtod(text, &end);
    if (text[0] == '\0' || isspace((unsigned char)text[0]) || *end != '\0' || errno != 0)
        return -1;
    *out = value;
    return 0;
}

/* "a, b,c" → {"a","b","c"}; surrounding blanks of each item are dropped. */
static int split_list(const char *text, char ***items_out, size_t *count_out)
{
    size_t cap = 1;
    for (const char *p = text; *p; p++)
        cap += *p == ',';
    char **items = calloc(cap, sizeof *items);
    if (items == NULL)
        return -1;
    size_t count = 0;
    for (const char *p = text;; p++) {
        size_t len = strcspn(p, ",");
        const char *end = p + len;
        while (p < end && isblank((unsigned char)*p))
            p++;
        while (end > p && isblank((unsigned char)end[-1]))
            end--;
        items[count] = strndup(p, (size_t)(end - p));
        if (items[count] == NULL) {
            free_list(items, count);
            return -1;
        }
        count++;
        p += strcspn(p, ",");
        if (*p == '\0')
            break;
    }
    *items_out = items;
    *count_out = count;
    return 0;
}

int udc_cfg_set_text(struct udc_config *cfg, const struct udc_cfg_key *key, const char *text,
                     char *err, size_t errlen)
{
    switch (key->type) {
    case UDC_CFG_INT: {
        long long value;
        if (parse_long_long(text, &value) != 0)
            return fail(err, errlen, key, "must be an integer");
        return store_int(cfg, key, value, err, errlen);
    }
    case UDC_CFG_DOUBLE: {
        double value;
        if (parse_double(text, &value) != 0)
            return fail(err, errlen, key, "must be a number");
        return store_double(cfg, key, value, err, errlen);
    }
    case UDC_CFG_HOSTPORT_LIST: {
        char **items;
        size_t count;
        if (split_list(text, &items, &count) != 0)
            return fail(err, errlen, key, "could not be stored: out of memory");
        return store_list(cfg, key, items, count, err, errlen);
    }
    default:
        return store_string(cfg, key, text, err, errlen);
    }
}

/* ---- from libconfig ---- */

static int is_integer_setting(const config_setting_t *s)
{
    int type = config_setting_type(s);
    return type == CONFIG_TYPE_INT || type == CONFIG_TYPE_INT64;
}

static int set_list_setting(struct udc_config *cfg, const struct udc_cfg_key *key,
                            const config_setting_t *setting, char *err, size_t errlen)
{
    int type = config_setting_type(setting);
    if (type != CONFIG_TYPE_ARRAY && type != CONFIG_TYPE_LIST)
        return fail(err, errlen, key, "must be a list of strings");
    size_t count = (size_t)config_setting_length(setting);
    char **items = calloc(count ? count : 1, sizeof *items);
    if (items == NULL)
        return fail(err, errlen, key, "could not be stored: out of memory");
    for (size_t i = 0; i < count; i++) {
        const config_setting_t *elem = config_setting_get_elem(setting, (unsigned)i);
        const char *text = config_setting_get_string(elem);
        items[i] = text ? strdup(text) : NULL;
        if (items[i] == NULL) {
            free_list(items, i);
            return text ? fail(err, errlen, key, "could not be stored: out of memory")
                        : fail(err, errlen, key, "must be a list of strings");
        }
    }
    return store_list(cfg, key, items, count, err, errlen);
}

int udc_cfg_set_setting(struct udc_config *cfg, const struct udc_cfg_key *key,
                        const config_setting_t *setting, char *err, size_t errlen)
{
    switch (key->type) {
    case UDC_CFG_INT:
        if (!is_integer_setting(setting))
            return fail(err, errlen, key, "must be an integer");
        return store_int(cfg, key, config_setting_get_int64(setting), err, errlen);
    case UDC_CFG_DOUBLE:
        if (is_integer_setting(setting))
            return store_double(cfg, key, (double)config_setting_get_int64(setting), err, errlen);
        if (config_setting_type(setting) != CONFIG_TYPE_FLOAT)
            return fail(err, errlen, key, "must be a number");
        return store_double(cfg, key, config_setting_get_float(setting), err, errlen);
    case UDC_CFG_HOSTPORT_LIST:
        return set_list_setting(cfg, key, setting, err, errlen);
    default:
        if (config_setting_type(setting) != CONFIG_TYPE_STRING)
            return fail(err, errlen, key, "must be a string");
        return store_string(cfg, key, config_setting_get_string(setting), err, errlen);
    }
}
