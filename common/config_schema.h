/* config_schema.h — private to the config module: the table of every configuration key
 * (section, name, type, where it lives in struct udc_config, default, range) and the setters
 * that check a value against its row and store it. config.c feeds them libconfig settings,
 * config_env.c feeds them environment strings; defaults go through the same path.
 *
 * Setters write "section.key must ..." into err; the caller prefixes FILE:LINE or the
 * variable name.
 */
#ifndef UDC_CONFIG_SCHEMA_H
#define UDC_CONFIG_SCHEMA_H

#include <libconfig.h>
#include <stddef.h>

#include "config.h"

enum udc_cfg_type {
    UDC_CFG_STRING,        /* char *, non-empty */
    UDC_CFG_PG_URL,        /* char *, postgresql:// or postgres:// */
    UDC_CFG_AMQP_URL,      /* char *, amqp:// or amqps:// */
    UDC_CFG_LEVEL,         /* enum udc_log_level, given as its name */
    UDC_CFG_HOSTPORT,      /* char *, checked by udc_listen_parse */
    UDC_CFG_HOSTPORT_LIST, /* char ** + size_t count, at least one */
    UDC_CFG_INT,           /* int within [min, max] */
    UDC_CFG_DOUBLE,        /* double within [min, max]; an integer is accepted */
};

struct udc_cfg_key {
    const char *section;
    const char *name;
    enum udc_cfg_type type;
    size_t offset;       /* of the field in struct udc_config */
    size_t count_offset; /* lists: of the size_t count */
    const char *def;     /* default as text (lists comma-separated); NULL: left unset */
    double min, max;     /* numbers only */
};

extern const struct udc_cfg_key udc_cfg_keys[];
extern const size_t udc_cfg_key_count;

/* NULL when the section has no such key. */
const struct udc_cfg_key *udc_cfg_key_find(const char *section, const char *name);
int udc_cfg_section_known(const char *section);

/* Store a value given as text (a default or an environment variable). */
int udc_cfg_set_text(struct udc_config *cfg, const struct udc_cfg_key *key, const char *text,
                     char *err, size_t errlen);
/* Store a value from the file; only the libconfig types that match the row are accepted. */
int udc_cfg_set_setting(struct udc_config *cfg, const struct udc_cfg_key *key,
                        const config_setting_t *setting, char *err, size_t errlen);
/* Free whatever the row owns in cfg and clear it. */
void udc_cfg_clear(struct udc_config *cfg, const struct udc_cfg_key *key);
/* The string a string-typed row holds (may be NULL); its address for replacement. */
char **udc_cfg_string_slot(struct udc_config *cfg, const struct udc_cfg_key *key);

/* config_env.c: UDC_<SECTION>_<KEY> overrides, then UDC_DB_PASSWORD / UDC_AMQP_PASSWORD. */
int udc_cfg_apply_env(struct udc_config *cfg, char *err, size_t errlen);

#endif
