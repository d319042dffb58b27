/* log.h — one line per event on stderr: time, level, daemon, message, key=value fields.
 *
 *   udc_log_info("batch stored", "rows=%d ms=%.1f", n, ms);
 *   → 2026-11-28T04:31:40.123Z level=info daemon=writer msg="batch stored" rows=12 ms=3.4
 *
 * The field string is a printf format; values that may contain spaces or quotes should go
 * through udc_log_quote(). Thread-safe: each line is written with one write(2).
 */
#ifndef UDC_LOG_H
#define UDC_LOG_H

#include <stddef.h>

enum udc_log_level { UDC_LOG_DEBUG, UDC_LOG_INFO, UDC_LOG_WARN, UDC_LOG_ERROR };

/* Name that appears as daemon=NAME on every line (not copied: pass a literal). */
void udc_log_set_ident(const char *ident);
const char *udc_log_get_ident(void);
void udc_log_set_level(enum udc_log_level level);
enum udc_log_level udc_log_get_level(void);

/* "debug", "info", "warn"/"warning", "error" → 0 and *out set; anything else → -1. */
int udc_log_level_parse(const char *name, enum udc_log_level *out);
const char *udc_log_level_name(enum udc_log_level level);

void udc_log(enum udc_log_level level, const char *msg, const char *fields_fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Format a string as a logfmt value: bare if it is safe, else double-quoted with escapes.
 * Writes at most size bytes including the NUL; returns buf. */
char *udc_log_quote(char *buf, size_t size, const char *value);

#define udc_log_debug(msg, ...) udc_log(UDC_LOG_DEBUG, msg, __VA_ARGS__)
#define udc_log_info(msg, ...)  udc_log(UDC_LOG_INFO, msg, __VA_ARGS__)
#define udc_log_warn(msg, ...)  udc_log(UDC_LOG_WARN, msg, __VA_ARGS__)
#define udc_log_error(msg, ...) udc_log(UDC_LOG_ERROR, msg, __VA_ARGS__)

#endif
