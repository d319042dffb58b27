/* http_static.c — serving the web page's files from a directory. See http.h. */
#include "http_internal.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

const char *udc_http_content_type(const char *filename)
{
    static const struct {
        const char *ext;
        const char *type;
    } types[] = {
        {".html", "text/html; charset=utf-8"},
        {".htm", "text/html; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"},
        {".json", "application/json"},
        {".map", "application/json"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".jpg", "image/jpeg"},
        {".jpeg", "image/jpeg"},
        {".gif", "image/gif"},
        {".ico", "image/x-icon"},
        {".txt", "text/plain; charset=utf-8"},
        {".woff2", "font/woff2"},
        {".yaml", "application/yaml"},
    };
    const char *dot = strrchr(filename, '.');
    const char *slash = strrchr(filename, '/');
    if (dot != NULL && (slash == NULL || dot > slash)) {
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
            if (strcasecmp(dot, types[i].ext) == 0)
                return types[i].type;
        }
    }
    return "application/octet-stream";
}

/* A relative path is acceptable when no segment is empty-but-inner, "..", or hidden, and it
 * holds no backslash or control byte. */
static bool safe_relative_path(const char *rel)
{
    if (rel[0] == '/')
        return false;
    for (const unsigned char *p = (const unsigned char *)rel; *p; p++) {
        if (*p < 0x20 || *p == 0x7f || *p == '\\')
            return false;
    }
    for (const char *seg = rel; *seg;) {
        const char *end = strchr(seg, '/');
        size_t len = end ? (size_t)(end - seg) : strlen(seg);
        if (seg[0] == '.' || (len == 0 && end != NULL))
            return false; /* ".", "..", ".git", "a//b" */
        seg = end ? end + 1 : seg + len;
    }
    return true;
}

int udc_http_serve_static(struct udc_http_request *req, const char *root_dir, const char *rel_path)
{
    if (rel_path == NULL || root_dir == NULL)
        return http_respond_not_found(req);
    if (rel_path[0] == '/')
        rel_path++;
    char path[4096];
    size_t rlen = strlen(rel_path);
    bool want_index = rlen == 0 || rel_path[rlen - 1] == '/';
    if (!safe_relative_path(rel_path))
        return http_respond_not_found(req);
    int n =
        snprintf(path, sizeof path, "%s/%s%s", root_dir, rel_path, want_index ? "index.html" : "");
    if (n < 0 || (size_t)n >= sizeof path)
        return http_respond_not_found(req);

    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        return http_respond_not_found(req);
    }
    int rc = udc_http_respond(req, 200, udc_http_content_type(path), NULL, 0);
    if (rc != UDC_HTTP_DONE) {
        close(fd);
        return rc;
    }
    free(req->resp.body);
    req->resp.body = NULL;
    req->resp.kind = BODY_FD;
    req->resp.fd = fd;
    req->resp.fd_size = (uint64_t)st.st_size;
    udc_http_add_header(req, "Cache-Control", "no-cache");
    return UDC_HTTP_DONE;
}
