/* http_ceiling.c — a trivial libmicrohttpd server for `scripts/bench`: the most the HTTP
 * layer can do on this machine, configured like udc-ingest-http (epoll, internal thread pool).
 * Every POST body is read and answered 202 with a small JSON body; nothing is parsed.
 *
 * usage: http_ceiling PORT [THREADS]    runs until SIGTERM/SIGINT
 */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char answer[] = "{\"status\":\"accepted\"}";

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

/* The response is queued on a later call than the first: queued on the first call,
 * libmicrohttpd closes the connection after it. */
static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *data,
                              size_t *size, void **state)
{
    (void)cls, (void)url, (void)method, (void)version, (void)data;
    static int marker;
    if (*state == NULL) {
        *state = &marker;
        return MHD_YES;
    }
    if (*size) {
        *size = 0; /* consumed */
        return MHD_YES;
    }
    struct MHD_Response *r =
        MHD_create_response_from_buffer(sizeof answer - 1, (void *)answer, MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(r, "Content-Type", "application/json");
    enum MHD_Result rc = MHD_queue_response(conn, 202, r);
    MHD_destroy_response(r);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: http_ceiling PORT [THREADS]\n");
        return 2;
    }
    unsigned threads = argc > 2 ? (unsigned)atoi(argv[2]) : 2;
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    struct sockaddr_in addr = {.sin_family = AF_INET,
                               .sin_port = htons((uint16_t)atoi(argv[1])),
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG, (uint16_t)atoi(argv[1]), NULL, NULL,
        handle, NULL, MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)10, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "http_ceiling: cannot listen on port %s\n", argv[1]);
        return 1;
    }
    while (!stop)
        pause();
    MHD_stop_daemon(d);
    return 0;
}
