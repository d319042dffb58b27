/* httpc.h — a small libcurl HTTP client for tests and load generators.
 *
 *   struct httpc_response r;
 *   if (httpc_request("POST", url, (const char *[]){"Content-Type: application/json", NULL},
 *                     body, strlen(body), &r) == 0) {
 *       ck_assert_int_eq(r.status, 202);
 *       char buf[64]; httpc_header(&r, "Location", buf, sizeof buf);
 *       httpc_response_free(&r);
 *   }
 *
 * httpc_request uses a fresh connection per call. To reuse connections (keep-alive), make a
 * client with httpc_new() and call httpc_do() on it; one client per thread.
 * A header "Transfer-Encoding: chunked" among the request headers sends the body chunked.
 *
 * Thread-safe: libcurl is initialised once; every call uses its own handle (or the caller's
 * client, which must not be shared between threads).
 */
#ifndef UDC_TEST_HTTPC_H
#define UDC_TEST_HTTPC_H

#include <stddef.h>

struct httpc_response {
    long status;
    char *body; /* NUL-terminated */
    size_t len;
    char *headers;     /* raw header block of the final response, NUL-terminated */
    long connects;     /* new connections opened for this request (0 = an old one reused) */
    const char *error; /* libcurl's word for a transport error; "" after a response */
};

struct httpc;

/* 0 when a response arrived (any status); -1 on transport errors (refused, reset, timeout),
 * with out->status 0. out must be freed with httpc_response_free in both cases. */
int httpc_request(const char *method, const char *url, const char *const *headers, const char *body,
                  size_t len, struct httpc_response *out);

struct httpc *httpc_new(void);
int httpc_do(struct httpc *client, const char *method, const char *url, const char *const *headers,
             const char *body, size_t len, struct httpc_response *out);
void httpc_free(struct httpc *client);
/* Per-request timeout of a client in ms (default 30000). */
void httpc_set_timeout_ms(struct httpc *client, long ms);

/* Value of the first header called name (case-insensitive), trimmed, copied into buf; NULL
 * when absent. */
const char *httpc_header(const struct httpc_response *r, const char *name, char *buf, size_t size);
void httpc_response_free(struct httpc_response *r);

#endif
