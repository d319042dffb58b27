/* httpc.c — libcurl client for tests. See httpc.h. */
#include "httpc.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct httpc {
    CURL *curl;
    long timeout_ms;
};

struct growbuf {
    char *data;
    size_t len;
    size_t cap;
};

struct upload {
    const char *data;
    size_t len;
    size_t pos;
};

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void global_init(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
}

static size_t grow_append(void *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct growbuf *b = userdata;
    size_t n = size * nmemb;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *data = realloc(b->data, cap);
        if (data == NULL)
            return 0;
        b->data = data;
        b->cap = cap;
    }
    memcpy(b->data + b->len, ptr, n);
    b->len += n;
    b->data[b->len] = '\0';
    return n;
}

/* Keeps only the header block of the last response (after 100 Continue, redirects). */
static size_t header_append(void *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct growbuf *b = userdata;
    size_t n = size * nmemb;
    if (n >= 5 && strncmp(ptr, "HTTP/", 5) == 0)
        b->len = 0;
    return grow_append(ptr, size, nmemb, userdata);
}

/* Hands out the body in small pieces so that chunked uploads have several chunks. */
static size_t upload_read(char *buf, size_t size, size_t nmemb, void *userdata)
{
    struct upload *u = userdata;
    size_t n = size * nmemb;
    if (n > 4096)
        n = 4096;
    if (n > u->len - u->pos)
        n = u->len - u->pos;
    memcpy(buf, u->data + u->pos, n);
    u->pos += n;
    return n;
}

struct httpc *httpc_new(void)
{
    pthread_once(&init_once, global_init);
    struct httpc *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    c->curl = curl_easy_init();
    c->timeout_ms = 30000;
    if (c->curl == NULL) {
        free(c);
        return NULL;
    }
    return c;
}

void httpc_free(struct httpc *c)
{
    if (c == NULL)
        return;
    curl_easy_cleanup(c->curl);
    free(c);
}

void httpc_set_timeout_ms(struct httpc *c, long ms)
{
    c->timeout_ms = ms;
}

static bool wants_chunked(const char *const *headers)
{
    for (size_t i = 0; headers && headers[i]; i++) {
        if (strncasecmp(headers[i], "Transfer-Encoding:", 18) == 0 &&
            strcasestr(headers[i] + 18, "chunked") != NULL)
            return true;
    }
    return false;
}

static bool has_header(const char *const *headers, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; headers && headers[i]; i++)
        if (strncasecmp(headers[i], name, n) == 0 && headers[i][n] == ':')
            return true;
    return false;
}

int httpc_do(struct httpc *c, const char *method, const char *url, const char *const *headers,
             const char *body, size_t len, struct httpc_response *out)
{
    memset(out, 0, sizeof *out);
    CURL *curl = c->curl;
    struct growbuf bodybuf = {0}, headbuf = {0};
    struct upload up = {body ? body : "", body ? len : 0, 0};
    struct curl_slist *list = NULL;
    for (size_t i = 0; headers && headers[i]; i++)
        list = curl_slist_append(list, headers[i]);
    /* curl would otherwise send "Expect: 100-continue" for larger bodies and wait; a test
     * that wants it says so. */
    if (!has_header(headers, "Expect"))
        list = curl_slist_append(list, "Expect:");

    curl_easy_reset(curl);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, c->timeout_ms);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, grow_append);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &bodybuf);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, header_append);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &headbuf);
    if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
    } else if (wants_chunked(headers)) {
        curl_easy_setopt(curl, CURLOPT_POST, 1L);
        curl_easy_setopt(curl, CURLOPT_READFUNCTION, upload_read);
        curl_easy_setopt(curl, CURLOPT_READDATA, &up);
        curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    } else if (body != NULL || strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 ||
               strcmp(method, "PATCH") == 0) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, up.data);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)up.len);
        curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    } else if (strcmp(method, "GET") != 0) {
        curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    }

    CURLcode rc = curl_easy_perform(curl);
    curl_slist_free_all(list);
    out->body = bodybuf.data ? bodybuf.data : strdup("");
    out->len = bodybuf.len;
    out->headers = headbuf.data ? headbuf.data : strdup("");
    curl_easy_getinfo(curl, CURLINFO_NUM_CONNECTS, &out->connects);
    out->error = rc == CURLE_OK ? "" : curl_easy_strerror(rc);
    if (rc != CURLE_OK)
        return -1;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &out->status);
    return 0;
}

int httpc_request(const char *method, const char *url, const char *const *headers, const char *body,
                  size_t len, struct httpc_response *out)
{
    struct httpc *c = httpc_new();
    if (c == NULL) {
        memset(out, 0, sizeof *out);
        out->error = "out of memory";
        return -1;
    }
    int rc = httpc_do(c, method, url, headers, body, len, out);
    httpc_free(c);
    return rc;
}

const char *httpc_header(const struct httpc_response *r, const char *name, char *buf, size_t size)
{
    size_t nlen = strlen(name);
    for (const char *line = r->headers; line && *line;) {
        const char *eol = strchr(line, '\n');
        size_t llen = eol ? (size_t)(eol - line) : strlen(line);
        if (llen > nlen && strncasecmp(line, name, nlen) == 0 && line[nlen] == ':') {
            const char *v = line + nlen + 1;
            const char *end = line + llen;
            while (v < end && (*v == ' ' || *v == '\t'))
                v++;
            while (end > v && (end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\t'))
                end--;
            size_t vlen = (size_t)(end - v);
            if (size == 0)
                return NULL;
            if (vlen >= size)
                vlen = size - 1;
            memcpy(buf, v, vlen);
            buf[vlen] = '\0';
            return buf;
        }
        line = eol ? eol + 1 : line + llen;
    }
    return NULL;
}

void httpc_response_free(struct httpc_response *r)
{
    free(r->body);
    free(r->headers);
    memset(r, 0, sizeof *r);
}
