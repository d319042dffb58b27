/* http_request.c — the request object handed to handlers, and suspend/resume. See http.h. */
#include "http_internal.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"

static void format_remote(struct udc_http_request *req)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = info ? info->client_addr : NULL;
    req->remote[0] = '\0';
    if (sa == NULL)
        return;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, req->remote,
                  sizeof req->remote);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, req->remote,
                  sizeof req->remote);
}

struct udc_http_request *http_request_new(struct udc_http_server *server,
                                          struct MHD_Connection *conn, const char *method,
                                          const char *path)
{
    struct udc_http_request *req = calloc(1, sizeof *req);
    if (req == NULL)
        return NULL;
    req->server = server;
    req->conn = conn;
    req->method = method;
    req->path = path;
    req->headers_tail = &req->headers;
    req->resp.fd = -1;
    req->state = REQ_RECEIVING;
    format_remote(req);
    return req;
}

static void pending_clear(struct http_pending *p)
{
    if (p->release != NULL)
        p->release(p->release_ctx);
    else
        free(p->body);
    free(p->content_type);
    if (p->kind == BODY_STREAM && p->reader_free != NULL)
        p->reader_free(p->reader_ctx);
    if (p->kind == BODY_FD && p->fd >= 0)
        close(p->fd);
    *p = (struct http_pending){.fd = -1};
}

void http_request_free(struct udc_http_request *req)
{
    if (req == NULL)
        return;
    for (size_t i = 0; i < req->nparams; i++)
        free(req->param_values[i]);
    free(req->body);
    pending_clear(&req->resp);
    struct http_header *h = req->headers;
    while (h != NULL) {
        struct http_header *next = h->next;
        free(h->name);
        free(h->value);
        free(h);
        h = next;
    }
    free(req);
}

bool http_request_append_body(struct udc_http_request *req, const char *data, size_t len)
{
    size_t max = req->server->opts.body_max;
    if (len > max || req->body_len > max - len)
        return false;
    if (req->body_len + len + 1 > req->body_cap) {
        size_t cap = req->body_cap ? req->body_cap : 1024;
        while (cap < req->body_len + len + 1)
            cap *= 2;
        char *body = realloc(req->body, cap);
        if (body == NULL)
            return false;
        req->body = body;
        req->body_cap = cap;
    }
    memcpy(req->body + req->body_len, data, len);
    req->body_len += len;
    req->body[req->body_len] = '\0';
    return true;
}

const char *udc_http_method(const struct udc_http_request *req)
{
    return req->method;
}

const char *udc_http_path(const struct udc_http_request *req)
{
    return req->path;
}

const char *udc_http_route_pattern(const struct udc_http_request *req)
{
    return req->match.route ? req->match.route->pattern : HTTP_NO_ROUTE;
}

const char *udc_http_param(const struct udc_http_request *req, const char *name)
{
    for (size_t i = 0; i < req->nparams; i++) {
        if (strcmp(req->param_names[i], name) == 0)
            return req->param_values[i];
    }
    return NULL;
}

const char *udc_http_query(const struct udc_http_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *udc_http_header(const struct udc_http_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *udc_http_body(const struct udc_http_request *req, size_t *len)
{
    if (len != NULL)
        *len = req->body_len;
    return req->body ? req->body : "";
}

const char *udc_http_remote_addr(const struct udc_http_request *req)
{
    return req->remote;
}

int udc_http_suspend(struct udc_http_request *req)
{
    if (req->state != REQ_HANDLING || req->suspend_called)
        return -1;
    req->suspend_called = true;
    req->state = REQ_SUSPENDED;
    atomic_fetch_add(&req->server->suspended, 1);
    MHD_suspend_connection(req->conn);
    return 0;
}

void udc_http_resume(struct udc_http_request *req)
{
    /* The server thread picks the connection up again and queues req->resp; from here on req
     * belongs to it, and may be freed at any moment. */
    MHD_resume_connection(req->conn);
}
