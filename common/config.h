/* config.h — the one configuration of every UdaConnect daemon: udaconnect.conf (libconfig
 * syntax) plus environment overrides.
 *
 *   struct udc_config cfg;
 *   char err[512];
 *   if (udc_config_load(&cfg, path, err, sizeof err) != 0) {
 *       fprintf(stderr, "udc-writer: %s\n", err);   // "FILE:LINE: message"
 *       return 1;
 *   }
 *   ... cfg.writer.batch_size, udc_config_amqp_url(&cfg, "writer") ...
 *   udc_config_free(&cfg);
 *
 * Every section is checked by every daemon: an unknown section or key, a wrong type or an
 * out-of-range value is an error naming the file and line. Keys missing from the file keep
 * their defaults (the values of the sample udaconnect.conf), so an empty file is valid.
 *
 * After the file, the environment: UDC_<SECTION>_<KEY> (upper case) replaces any key, e.g.
 * UDC_DB_URL, UDC_WRITER_BATCH_SIZE, UDC_API_LISTEN="127.0.0.1:1,[::1]:2" (lists are
 * comma-separated). UDC_DB_PASSWORD / UDC_AMQP_PASSWORD then replace only the password inside
 * db.url / every AMQP URL. A bad value is an error naming the variable.
 *
 * To reload on SIGHUP, load into a second struct and swap it in only when that succeeded.
 * A loaded struct is read-only and may be shared between threads; load and free are not
 * thread-safe with respect to readers of the same struct.
 */
#ifndef UDC_CONFIG_H
#define UDC_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "log.h"

struct udc_log_config {
    enum udc_log_level level;
};

struct udc_db_config {
    char *url; /* libpq URI */
    int connect_timeout_s;
    int statement_timeout_ms; /* 0 = no limit */
};

struct udc_amqp_config {
    char *url;       /* default broker URL; see udc_config_amqp_url() */
    int heartbeat_s; /* 0 = no heartbeat */
    int confirm_timeout_ms;
    int reconnect_max_ms;
};

/* "HOST:PORT" or "[V6]:PORT" strings, checked with udc_listen_parse(). */
struct udc_ingest_http_config {
    char **listen;
    size_t listen_count; /* >= 1 */
    char *amqp_url;      /* NULL when not set: amqp.url applies */
    int threads;
    int body_max;
    int batch_max;
    int connection_timeout_s;
    int max_in_flight;
    int max_future_skew_s;
};

struct udc_writer_config {
    char *admin_listen;
    char *amqp_url; /* NULL when not set */
    int prefetch;
    int batch_size;
    int batch_wait_ms;
    int connections; /* statements in flight at once, one database connection each */
};

struct udc_connector_config {
    char *admin_listen;
    char *amqp_url; /* NULL when not set */
    int prefetch;
    int batch_wait_ms;
    double radius_m;
    int window_min;
    int backfill_chunk;
};

struct udc_ingest_amqp_config {
    char *admin_listen;
    char *amqp_url; /* NULL when not set */
    int prefetch;
    int max_future_skew_s;
};

struct udc_api_config {
    char **listen;
    size_t listen_count; /* >= 1 */
    int threads;
    char *www_dir;
    char *ingest_url; /* where POST /api/locations is redirected (307) */
    int page_max;
    int connection_timeout_s;
};

struct udc_config {
    char *path; /* the file it was loaded from */
    struct udc_log_config log;
    struct udc_db_config db;
    struct udc_amqp_config amqp;
    struct udc_ingest_http_config ingest_http;
    struct udc_writer_config writer;
    struct udc_connector_config connector;
    struct udc_ingest_amqp_config ingest_amqp;
    struct udc_api_config api;
    /* Private: bit i is set when key i of the schema came from the environment. */
    uint64_t from_env;
};

/* Fill cfg (any previous content is ignored, not freed) from the file at path (NULL: the
 * default path) and the environment. Returns 0, or -1 with a message in err and cfg left
 * empty (udc_config_free on it is harmless). */
int udc_config_load(struct udc_config *cfg, const char *path, char *err, size_t errlen);
/* Free every string of cfg and zero it. */
void udc_config_free(struct udc_config *cfg);

/* $UDC_CONFIG when set and non-empty, else "/etc/udaconnect/udaconnect.conf". */
const char *udc_config_default_path(void);

/* The broker URL of a daemon's section ("writer", "connector", "ingest_http",
 * "ingest_amqp"): the most specific setting wins —
 * env UDC_<SECTION>_AMQP_URL > env UDC_AMQP_URL > the section's amqp_url > amqp.url.
 * Any other section (or NULL) gets amqp.url. Never NULL for a loaded cfg. */
const char *udc_config_amqp_url(const struct udc_config *cfg, const char *section);

/* For the -t flag: load path (NULL: default), print "udc: configuration file PATH is valid"
 * or "udc: ERROR" to stderr; returns 0 when valid, 1 otherwise. */
int udc_config_check(const char *path);

/* Split "HOST:PORT" (IPv4 address or host name) or "[IPV6]:PORT" into host (without
 * brackets, NUL-terminated, at most hostlen bytes) and port 1..65535. Returns 0 or -1. */
int udc_listen_parse(const char *hostport, char *host, size_t hostlen, unsigned short *port);

#endif
