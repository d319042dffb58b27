/* config.c — loading udaconnect.conf: defaults, the file, the environment. See config.h;
 * the keys themselves live in config_schema.c. */
#include "config.h"

#include <errno.h>
#include <libconfig.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_schema.h"

#define DEFAULT_PATH "/etc/udaconnect/udaconnect.conf"

const char *udc_config_default_path(void)
{
    const char *path = getenv("UDC_CONFIG");
    return path != NULL && path[0] != '\0' ? path : DEFAULT_PATH;
}

static int report(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int report(char *err, size_t errlen, const char *fmt, ...)
{
    if (err != NULL && errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

void udc_config_free(struct udc_config *cfg)
{
    if (cfg == NULL)
        return;
    for (size_t i = 0; i < udc_cfg_key_count; i++)
        udc_cfg_clear(cfg, &udc_cfg_keys[i]);
    free(cfg->path);
    memset(cfg, 0, sizeof *cfg);
}

static int apply_defaults(struct udc_config *cfg, char *err, size_t errlen)
{
    for (size_t i = 0; i < udc_cfg_key_count; i++) {
        const struct udc_cfg_key *key = &udc_cfg_keys[i];
        char message[256];
        if (key->def != NULL && udc_cfg_set_text(cfg, key, key->def, message, sizeof message))
            return report(err, errlen, "default: %s", message);
    }
    return 0;
}

static const char *source_file(const config_setting_t *setting, const char *path)
{
    const char *file = config_setting_source_file(setting);
    return file != NULL ? file : path;
}

static int setting_error(const config_setting_t *setting, const char *path, char *err,
                         size_t errlen, const char *message)
{
    return report(err, errlen, "%s:%u: %s", source_file(setting, path),
                  (unsigned)config_setting_source_line(setting), message);
}

static int load_section(struct udc_config *cfg, const config_setting_t *section, const char *path,
                        char *err, size_t errlen)
{
    const char *section_name = config_setting_name(section);
    char message[512];
    if (!config_setting_is_group(section)) {
        snprintf(message, sizeof message, "%s must be a group { ... }", section_name);
        return setting_error(section, path, err, errlen, message);
    }
    for (int i = 0; i < config_setting_length(section); i++) {
        const config_setting_t *setting = config_setting_get_elem(section, (unsigned)i);
        const char *name = config_setting_name(setting);
        const struct udc_cfg_key *key = udc_cfg_key_find(section_name, name);
        if (key == NULL) {
            snprintf(message, sizeof message, "unknown key '%s.%s'", section_name, name);
            return setting_error(setting, path, err, errlen, message);
        }
        if (udc_cfg_set_setting(cfg, key, setting, message, sizeof message) != 0)
            return setting_error(setting, path, err, errlen, message);
    }
    return 0;
}

static int read_file(config_t *lc, const char *path, char *err, size_t errlen)
{
    /* libconfig says only "file I/O error"; find out why first. */
    FILE *probe = fopen(path, "r");
    if (probe == NULL)
        return report(err, errlen, "%s: %s", path, strerror(errno));
    fclose(probe);
    if (config_read_file(lc, path) == CONFIG_TRUE)
        return 0;
    const char *file = config_error_file(lc);
    return report(err, errlen, "%s:%d: %s", file ? file : path, config_error_line(lc),
                  config_error_text(lc));
}

static int load_file(struct udc_config *cfg, const char *path, char *err, size_t errlen)
{
    config_t lc;
    config_init(&lc);
    int rc = read_file(&lc, path, err, errlen);
    const config_setting_t *root = config_root_setting(&lc);
    for (int i = 0; rc == 0 && i < config_setting_length(root); i++) {
        const config_setting_t *section = config_setting_get_elem(root, (unsigned)i);
        const char *name = config_setting_name(section);
        if (udc_cfg_section_known(name)) {
            rc = load_section(cfg, section, path, err, errlen);
        } else {
            char message[300];
            snprintf(message, sizeof message, "unknown section '%s'", name);
            rc = setting_error(section, path, err, errlen, message);
        }
    }
    config_destroy(&lc);
    return rc;
}

int udc_config_load(struct udc_config *cfg, const char *path, char *err, size_t errlen)
{
    memset(cfg, 0, sizeof *cfg);
    if (path == NULL)
        path = udc_config_default_path();
    cfg->path = strdup(path);
    int rc = cfg->path == NULL ? report(err, errlen, "out of memory") : 0;
    if (rc == 0)
        rc = apply_defaults(cfg, err, errlen);
    if (rc == 0)
        rc = load_file(cfg, path, err, errlen);
    if (rc == 0)
        rc = udc_cfg_apply_env(cfg, err, errlen);
    if (rc != 0)
        udc_config_free(cfg);
    return rc;
}

static int came_from_env(const struct udc_config *cfg, const struct udc_cfg_key *key)
{
    return (cfg->from_env >> (size_t)(key - udc_cfg_keys)) & 1;
}

const char *udc_config_amqp_url(const struct udc_config *cfg, const char *section)
{
    const struct udc_cfg_key *shared = udc_cfg_key_find("amqp", "url");
    const struct udc_cfg_key *own = section ? udc_cfg_key_find(section, "amqp_url") : NULL;
    if (own != NULL) {
        const char *url = *udc_cfg_string_slot((struct udc_config *)cfg, own);
        if (came_from_env(cfg, own) || (url != NULL && !came_from_env(cfg, shared)))
            return url;
    }
    return cfg->amqp.url;
}

int udc_config_check(const char *path)
{
    struct udc_config cfg;
    char err[1024];
    if (path == NULL)
        path = udc_config_default_path();
    if (udc_config_load(&cfg, path, err, sizeof err) != 0) {
        fprintf(stderr, "udc: %s\n", err);
        return 1;
    }
    fprintf(stderr, "udc: configuration file %s is valid\n", path);
    udc_config_free(&cfg);
    return 0;
}
