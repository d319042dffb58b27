/* config_env.c — environment overrides of the configuration: UDC_<SECTION>_<KEY> for every
 * key of the schema, then UDC_DB_PASSWORD / UDC_AMQP_PASSWORD spliced into the URLs.
 * An empty variable counts as unset. */
#include "config_schema.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void env_name(const struct udc_cfg_key *key, char *buf, size_t size)
{
    snprintf(buf, size, "UDC_%s_%s", key->section, key->name);
    for (char *p = buf; *p; p++)
        *p = (char)toupper((unsigned char)*p);
}

static const char *env_value(const char *name)
{
    const char *value = getenv(name);
    return value != NULL && value[0] != '\0' ? value : NULL;
}

static int env_error(char *err, size_t errlen, const char *var, const char *message)
{
    if (err != NULL && errlen > 0)
        snprintf(err, errlen, "%s: %s", var, message);
    return -1;
}

static int apply_key_overrides(struct udc_config *cfg, char *err, size_t errlen)
{
    for (size_t i = 0; i < udc_cfg_key_count; i++) {
        const struct udc_cfg_key *key = &udc_cfg_keys[i];
        char var[96], message[256];
        env_name(key, var, sizeof var);
        const char *value = env_value(var);
        if (value == NULL)
            continue;
        if (udc_cfg_set_text(cfg, key, value, message, sizeof message) != 0)
            return env_error(err, errlen, var, message);
        cfg->from_env |= UINT64_C(1) << i;
    }
    return 0;
}

/* Percent-encode everything but RFC 3986 unreserved characters, as both libpq and
 * librabbitmq decode %XX in user info and query values. */
static void percent_encode(const char *text, char *out)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if (isalnum(*p) || strchr("-._~", *p) != NULL) {
            *out++ = (char)*p;
        } else {
            *out++ = '%';
            *out++ = hex[*p >> 4];
            *out++ = hex[*p & 15];
        }
    }
    *out = '\0';
}

/* url with its password replaced by password, or NULL when the URL has no user name and is
 * not a libpq URL (libpq also takes ?password=). *no_user is set in that case. */
static char *with_password(const char *url, const char *password, int *no_user)
{
    char *encoded = malloc(strlen(password) * 3 + 1);
    if (encoded == NULL)
        return NULL;
    percent_encode(password, encoded);

    const char *authority = strstr(url, "://");
    authority = authority ? authority + 3 : url;
    size_t authority_len = strcspn(authority, "/?#");
    const char *at = memrchr(authority, '@', authority_len);
    char *result = NULL;
    if (at != NULL) {
        const char *colon = memchr(authority, ':', (size_t)(at - authority));
        const char *user_end = colon ? colon : at;
        if (asprintf(&result, "%.*s:%s%s", (int)(user_end - url), url, encoded, at) < 0)
            result = NULL;
    } else if (strncmp(url, "postgres", 8) == 0) {
        const char *sep = strchr(url, '?') ? "&" : "?";
        if (asprintf(&result, "%s%spassword=%s", url, sep, encoded) < 0)
            result = NULL;
    } else {
        *no_user = 1;
    }
    free(encoded);
    return result;
}

static int inject_password(struct udc_config *cfg, const struct udc_cfg_key *key, const char *var,
                           const char *password, char *err, size_t errlen)
{
    char **slot = udc_cfg_string_slot(cfg, key);
    if (*slot == NULL)
        return 0;
    int no_user = 0;
    char *url = with_password(*slot, password, &no_user);
    if (url == NULL) {
        char message[128];
        snprintf(message, sizeof message, "%s.%s has no user name to go with the password",
                 key->section, key->name);
        return env_error(err, errlen, var, no_user ? message : "out of memory");
    }
    free(*slot);
    *slot = url;
    return 0;
}

static int apply_passwords(struct udc_config *cfg, char *err, size_t errlen)
{
    const char *db_password = env_value("UDC_DB_PASSWORD");
    const char *amqp_password = env_value("UDC_AMQP_PASSWORD");
    for (size_t i = 0; i < udc_cfg_key_count; i++) {
        const struct udc_cfg_key *key = &udc_cfg_keys[i];
        int rc = 0;
        if (key->type == UDC_CFG_PG_URL && db_password != NULL)
            rc = inject_password(cfg, key, "UDC_DB_PASSWORD", db_password, err, errlen);
        else if (key->type == UDC_CFG_AMQP_URL && amqp_password != NULL)
            rc = inject_password(cfg, key, "UDC_AMQP_PASSWORD", amqp_password, err, errlen);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int udc_cfg_apply_env(struct udc_config *cfg, char *err, size_t errlen)
{
    if (apply_key_overrides(cfg, err, errlen) != 0)
        return -1;
    return apply_passwords(cfg, err, errlen);
}
