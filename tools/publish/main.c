/* udc-publish — publish each line of standard input as one persistent message and wait
 * until the broker has confirmed every one (built by make into build/bin/udc-publish).
 *
 *   UDC_AMQP_URL=amqp://user:pw@host:port/vhost udc-publish -e EXCHANGE -r ROUTING_KEY \
 *       [-C CONTENT_TYPE] [-w WINDOW] [-t TIMEOUT_S] < messages
 *
 * One message per non-empty line (at most 1 MiB; a trailing CR is dropped), published with
 * publisher confirms and the mandatory flag, at most WINDOW (default 1000) unconfirmed at a
 * time. Exit status 0 only when every message was acked by the broker and routed to a queue;
 * 1 when one was nacked or returned as unroutable, the connection failed, or the confirms
 * did not come within TIMEOUT_S (default 60) after the last line; 2 for bad usage. The
 * counts go to stderr either way. A message whose fate is unknown may have arrived, so
 * publishing the input again is safe only for consumers that recognise repeats (UdaConnect's
 * do, by event_id or row id).
 *
 * Why not Debian's amqp-publish: it waits for no confirm, and RabbitMQ may drop the last
 * messages of a connection closed right after them (docs/partners.md). The URL comes from
 * the environment so that its password does not show in ps(1).
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "amqp_client.h"
#include "backoff.h"
#include "log.h"

#define MAX_MESSAGE (1024 * 1024)

struct options {
    const char *exchange, *routing_key, *content_type;
    long window, timeout_s;
};

static int usage(void)
{
    fputs("usage: UDC_AMQP_URL=amqp://... udc-publish -e EXCHANGE -r ROUTING_KEY"
          " [-C CONTENT_TYPE] [-w WINDOW] [-t TIMEOUT_S] < messages\n",
          stderr);
    return 2;
}

static int parse_options(int argc, char **argv, struct options *o)
{
    *o = (struct options){.content_type = "application/json", .window = 1000, .timeout_s = 60};
    int c;
    char *end;
    while ((c = getopt(argc, argv, "e:r:C:w:t:")) != -1) {
        switch (c) {
        case 'e':
            o->exchange = optarg;
            break;
        case 'r':
            o->routing_key = optarg;
            break;
        case 'C':
            o->content_type = optarg;
            break;
        case 'w':
        case 't': {
            long v = strtol(optarg, &end, 10);
            if (*end || v < 1 || v > 65535)
                return -1;
            *(c == 'w' ? &o->window : &o->timeout_s) = v;
            break;
        }
        default:
            return -1;
        }
    }
    return optind == argc && o->exchange && o->routing_key ? 0 : -1;
}

/* Handles one event from the broker (confirms are counted by the client itself); -1 when
 * the connection is gone. */
static int handle_event(struct udc_amqp *amqp, int timeout_ms)
{
    struct udc_amqp_event ev;
    enum udc_amqp_event_type type = udc_amqp_poll(amqp, timeout_ms, &ev);
    if (type == UDC_AMQP_RETURN)
        fprintf(stderr, "udc-publish: returned unroutable (%u %s): no queue is bound to %s\n",
                ev.reply_code, ev.reply_text, ev.routing_key);
    if (type == UDC_AMQP_CLOSED)
        fprintf(stderr, "udc-publish: connection lost: %s\n", ev.reason);
    udc_amqp_event_release(&ev);
    return type == UDC_AMQP_CLOSED ? -1 : 0;
}

/* Waits until at most `allowed` publishes are unconfirmed; -1 on a lost connection or when
 * deadline_ms (monotonic) passes first. */
static int wait_confirms(struct udc_amqp *amqp, uint64_t allowed, int64_t deadline_ms)
{
    while (udc_amqp_unconfirmed(amqp) > allowed) {
        int64_t left = deadline_ms - (int64_t)udc_now_ms();
        if (left <= 0) {
            fprintf(stderr, "udc-publish: no confirm within the timeout\n");
            return -1;
        }
        if (handle_event(amqp, (int)(left < 1000 ? left : 1000)) != 0)
            return -1;
    }
    return 0;
}

/* Publishes every line of in; 0 when all were published (confirmed or not yet). */
static int publish_lines(struct udc_amqp *amqp, const struct options *o, FILE *in)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    uint64_t line_no = 0;
    int rc = 0;
    while (rc == 0 && (len = getline(&line, &cap, in)) >= 0) {
        line_no++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            len--;
        if (len == 0)
            continue;
        if (len > MAX_MESSAGE) {
            fprintf(stderr, "udc-publish: line %" PRIu64 " is over 1 MiB; stopped there\n",
                    line_no);
            rc = -1;
            break;
        }
        struct udc_amqp_message m = {
            .body = line, .len = (size_t)len, .content_type = o->content_type};
        if (udc_amqp_publish(amqp, o->exchange, o->routing_key, &m, NULL) != 0) {
            fprintf(stderr, "udc-publish: publish failed: %s\n", udc_amqp_last_error(amqp));
            rc = -1;
            break;
        }
        /* Confirms are read as they come, so that the window never stalls the socket. */
        rc = wait_confirms(amqp, (uint64_t)o->window - 1,
                           (int64_t)udc_now_ms() + o->timeout_s * 1000);
    }
    free(line);
    return rc;
}

int main(int argc, char **argv)
{
    struct options o;
    if (parse_options(argc, argv, &o) != 0)
        return usage();
    const char *url = getenv("UDC_AMQP_URL");
    if (!url || !*url) {
        fputs("udc-publish: UDC_AMQP_URL is not set\n", stderr);
        return 2;
    }
    udc_log_set_ident("publish");
    udc_log_set_level(UDC_LOG_WARN);
    struct udc_amqp *amqp = udc_amqp_new(url, "udc-publish", 30);
    char err[256];
    if (!amqp || udc_amqp_connect(amqp, err, sizeof err) != 0) {
        fprintf(stderr, "udc-publish: %s\n", amqp ? err : "out of memory");
        udc_amqp_free(amqp);
        return 1;
    }
    int rc = publish_lines(amqp, &o, stdin);
    if (rc == 0)
        rc = wait_confirms(amqp, 0, (int64_t)udc_now_ms() + o.timeout_s * 1000);
    struct udc_amqp_stats n;
    udc_amqp_get_stats(amqp, &n);
    udc_amqp_close(amqp);
    udc_amqp_free(amqp);
    /* The broker acks a returned message too, after returning it. */
    int all_good = rc == 0 && n.confirmed == n.published && n.nacked == 0 && n.returned == 0;
    fprintf(stderr,
            "udc-publish: %" PRIu64 " published, %" PRIu64 " acked (%" PRIu64
            " of them returned unroutable), %" PRIu64 " nacked%s\n",
            n.published, n.confirmed, n.returned, n.nacked,
            all_good ? "" : " — not every message arrived");
    return all_good ? 0 : 1;
}
