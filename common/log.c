/* log.c — logfmt lines on stderr. See log.h. */
#include "log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static const char *log_ident = "udc";
static _Atomic int log_level = UDC_LOG_INFO;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void udc_log_set_ident(const char *ident)
{
    log_ident = ident;
}

const char *udc_log_get_ident(void)
{
    return log_ident;
}

void udc_log_set_level(enum udc_log_level level)
{
    atomic_store(&log_level, (int)level);
}

enum udc_log_level udc_log_get_level(void)
{
    return (enum udc_log_level)atomic_load(&log_level);
}

int udc_log_level_parse(const char *name, enum udc_log_level *out)
{
    if (name == NULL)
        return -1;
    for (int i = UDC_LOG_DEBUG; i <= UDC_LOG_ERROR; i++) {
        if (strcasecmp(name, level_names[i]) == 0) {
            *out = (enum udc_log_level)i;
            return 0;
        }
    }
    if (strcasecmp(name, "warning") == 0) {
        *out = UDC_LOG_WARN;
        return 0;
    }
    return -1;
}

const char *udc_log_level_name(enum udc_log_level level)
{
    if (level < UDC_LOG_DEBUG || level > UDC_LOG_ERROR)
        return "unknown";
    return level_names[level];
}

static int needs_quotes(const char *s)
{
    if (*s == '\0')
        return 1;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c >= 0x7f)
            return 1;
    }
    return 0;
}

char *udc_log_quote(char *buf, size_t size, const char *value)
{
    size_t n = 0;

    if (size == 0)
        return buf;
    if (value == NULL)
        value = "";
    if (!needs_quotes(value)) {
        snprintf(buf, size, "%s", value);
        return buf;
    }
    /* Reserve room for the closing quote and NUL at every step. */
    if (n + 3 <= size)
        buf[n++] = '"';
    for (const char *p = value; *p && n + 4 <= size; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"' || c == '\\') {
            buf[n++] = '\\';
            buf[n++] = (char)c;
        } else if (c == '\n') {
            buf[n++] = '\\';
            buf[n++] = 'n';
        } else if (c < ' ' || c == 0x7f) {
            buf[n++] = '?';
        } else {
            buf[n++] = (char)c;
        }
    }
    if (n + 2 <= size)
        buf[n++] = '"';
    buf[n] = '\0';
    return buf;
}

void udc_log(enum udc_log_level level, const char *msg, const char *fields_fmt, ...)
{
    char line[2048], quoted[512];
    struct timespec ts;
    struct tm tm;
    size_t n;
    va_list ap;

    if ((int)level < atomic_load(&log_level))
        return;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    n = strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%S", &tm);
    n += (size_t)snprintf(line + n, sizeof line - n, ".%03ldZ level=%s daemon=%s msg=%s",
                          ts.tv_nsec / 1000000, udc_log_level_name(level), log_ident,
                          udc_log_quote(quoted, sizeof quoted, msg));
    if (fields_fmt != NULL && fields_fmt[0] != '\0' && n < sizeof line - 2) {
        line[n++] = ' ';
        va_start(ap, fields_fmt);
        int w = vsnprintf(line + n, sizeof line - n, fields_fmt, ap);
        va_end(ap);
        if (w > 0)
            n += (size_t)w;
    }
    if (n > sizeof line - 2)
        n = sizeof line - 2;
    line[n++] = '\n';
    /* One write per line so concurrent threads and daemons never interleave mid-line. */
    ssize_t ignored = write(STDERR_FILENO, line, n);
    (void)ignored;
}
