/* http_router.c — route table: patterns with {param} and {rest*} segments. See http.h. */
#include "http_internal.h"

#include <stdlib.h>
#include <string.h>

/* Splits "/a/b/c" into its segments (without the leading '/'); "/" gives one empty segment.
 * Returns the count, or -1 when the path does not start with '/'. Segments point into path
 * and are delimited by lengths, so no copy is needed. */
static long split_path(const char *path, const char **starts, size_t *lens, size_t max)
{
    if (path[0] != '/')
        return -1;
    size_t n = 0;
    const char *p = path + 1;
    for (;;) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        if (n == max)
            return (long)max + 1; /* more segments than any route has */
        starts[n] = p;
        lens[n] = len;
        n++;
        if (slash == NULL)
            return (long)n;
        p = slash + 1;
    }
}

static int parse_pattern(struct http_route *r, const char *pattern)
{
    const char *starts[64];
    size_t lens[64];
    long n = split_path(pattern, starts, lens, 64);
    if (n < 0 || n > 64)
        return -1;
    r->segs = calloc((size_t)n, sizeof *r->segs);
    r->kinds = calloc((size_t)n + 1, 1);
    if (r->segs == NULL || r->kinds == NULL)
        return -1;
    r->nsegs = (size_t)n;
    size_t nparams = 0;
    for (long i = 0; i < n; i++) {
        const char *s = starts[i];
        size_t len = lens[i];
        char kind = 'l';
        if (len >= 2 && s[0] == '{' && s[len - 1] == '}') {
            s++;
            len -= 2;
            kind = 'p';
            if (len >= 1 && s[len - 1] == '*') {
                len--;
                kind = 'r';
                if (i != n - 1)
                    return -1;
            }
            if (len == 0 || memchr(s, '{', len) || memchr(s, '}', len) ||
                ++nparams > HTTP_MAX_PARAMS)
                return -1;
        } else if (memchr(s, '{', len) || memchr(s, '}', len)) {
            return -1;
        }
        r->kinds[i] = kind;
        r->segs[i] = strndup(s, len);
        if (r->segs[i] == NULL)
            return -1;
    }
    return 0;
}

static void route_free(struct http_route *r)
{
    for (size_t i = 0; r->segs && i < r->nsegs; i++)
        free(r->segs[i]);
    free(r->segs);
    free(r->kinds);
    free(r->method);
    free(r->pattern);
}

int http_router_add(struct http_router *r, const char *method, const char *pattern,
                    udc_http_handler handler, void *userdata)
{
    if (method == NULL || pattern == NULL || handler == NULL || method[0] == '\0')
        return -1;
    if (r->n == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 16;
        struct http_route *routes = realloc(r->routes, cap * sizeof *routes);
        if (routes == NULL)
            return -1;
        r->routes = routes;
        r->cap = cap;
    }
    struct http_route route = {.handler = handler, .userdata = userdata};
    route.method = strdup(method);
    route.pattern = strdup(pattern);
    if (route.method == NULL || route.pattern == NULL || parse_pattern(&route, pattern) != 0) {
        route_free(&route);
        return -1;
    }
    r->routes[r->n++] = route;
    return 0;
}

void http_router_free(struct http_router *r)
{
    for (size_t i = 0; i < r->n; i++)
        route_free(&r->routes[i]);
    free(r->routes);
    r->routes = NULL;
    r->n = r->cap = 0;
}

static bool route_matches(const struct http_route *r, const char **starts, const size_t *lens,
                          size_t n)
{
    bool rest = r->nsegs > 0 && r->kinds[r->nsegs - 1] == 'r';
    size_t fixed = rest ? r->nsegs - 1 : r->nsegs;
    if (rest ? n < fixed : n != fixed)
        return false;
    for (size_t i = 0; i < fixed; i++) {
        if (r->kinds[i] == 'p') {
            if (lens[i] == 0)
                return false;
        } else if (strlen(r->segs[i]) != lens[i] || memcmp(r->segs[i], starts[i], lens[i]) != 0) {
            return false;
        }
    }
    return true;
}

/* >0 when a is more specific than b: compared segment by segment, literal > param > rest. */
static int specificity(const struct http_route *a, const struct http_route *b)
{
    static const char rank[128] = {['l'] = 3, ['p'] = 2, ['r'] = 1};
    for (size_t i = 0; i < a->nsegs || i < b->nsegs; i++) {
        int ra = i < a->nsegs ? rank[(int)a->kinds[i]] : 0;
        int rb = i < b->nsegs ? rank[(int)b->kinds[i]] : 0;
        if (ra != rb)
            return ra - rb;
    }
    return 0;
}

static void allow_add(char *allow, const char *method)
{
    size_t mlen = strlen(method);
    for (const char *p = allow; *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == mlen && memcmp(p, method, len) == 0)
            return;
        p = end ? end + 2 : p + len;
    }
    size_t used = strlen(allow);
    if (used + mlen + 3 > HTTP_ALLOW_MAX)
        return;
    if (used > 0)
        strcat(allow, ", ");
    strcat(allow, method);
}

void http_router_match(const struct http_router *r, const char *method, const char *path,
                       struct http_match *m)
{
    const char *starts[64];
    size_t lens[64];
    long n = split_path(path, starts, lens, 64);
    const char *wanted = strcmp(method, "HEAD") == 0 ? "GET" : method;
    const struct http_route *best_any = NULL, *best = NULL;
    bool has_get = false;

    m->allow[0] = '\0';
    for (size_t i = 0; n >= 0 && n <= 64 && i < r->n; i++) {
        const struct http_route *route = &r->routes[i];
        if (!route_matches(route, starts, lens, (size_t)n))
            continue;
        allow_add(m->allow, route->method);
        has_get = has_get || strcmp(route->method, "GET") == 0;
        if (best_any == NULL || specificity(route, best_any) > 0)
            best_any = route;
        if (strcmp(route->method, wanted) == 0 && (best == NULL || specificity(route, best) > 0))
            best = route;
    }
    if (has_get)
        allow_add(m->allow, "HEAD");
    if (best_any != NULL)
        allow_add(m->allow, "OPTIONS");
    m->route = best ? best : best_any;
    m->result = best ? MATCH_FOUND : best_any ? MATCH_NO_METHOD : MATCH_NO_PATH;
}

size_t http_route_params(const struct http_route *route, const char *path, const char **names,
                         char **values, size_t max)
{
    const char *starts[64];
    size_t lens[64];
    long n = split_path(path, starts, lens, 64);
    size_t count = 0;
    for (size_t i = 0; n > 0 && i < route->nsegs && i < (size_t)n && count < max; i++) {
        if (route->kinds[i] == 'l')
            continue;
        names[count] = route->segs[i];
        values[count] = route->kinds[i] == 'r' ? strdup(starts[i]) : strndup(starts[i], lens[i]);
        if (values[count] == NULL)
            break;
        count++;
    }
    /* A rest parameter matching nothing ("/static/" vs "/static/{p*}" is "", but "/static"
     * has no segment for it) still exists, as "". */
    if (route->nsegs > 0 && route->kinds[route->nsegs - 1] == 'r' && (size_t)n < route->nsegs &&
        count < max) {
        names[count] = route->segs[route->nsegs - 1];
        values[count] = strdup("");
        if (values[count] != NULL)
            count++;
    }
    return count;
}
