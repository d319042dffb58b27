/* publisher.c — see publisher.h.
 *
 * Submissions go through a mutex-protected list and an eventfd that wakes the thread; the
 * thread sleeps in poll(2) on that eventfd and the broker socket, so neither a new job nor a
 * confirm waits for a timer.
 *
 * Single pings that queue up leave as one {"locations": [...]} message (at most MERGE_MAX of
 * them), and every request is still answered only after the confirm of the message that
 * carries its ping. Like a database's group commit, pings leave only while fewer than
 * PING_MESSAGES_OUT messages of pings await their confirm; the others wait for the next
 * confirm and leave together. Under load each broker message, confirm and writer delivery
 * then carries ~10 pings instead of ~3, which is what the broker (the largest user of CPU on
 * one machine) pays for, and the thread sleeps until a confirm instead of waking for every
 * ping: a submitted ping wakes it only when it would be published at once. A ping alone
 * leaves at once, with its event id as message id, so light load sees no change and no delay.
 */
#include "publisher.h"

#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "amqp_client.h"
#include "backoff.h"
#include "uuid.h"
#include "log.h"
#include "pending.h"

#define LOCATIONS_EXCHANGE "udc.locations"
#define ROUTING_KEY        "location.mobile"
#define MERGE_MAX          100 /* pings per merged message, as the batch endpoint's clients */
#define PING_MESSAGES_OUT  2   /* unconfirmed messages of single pings before pings wait */

struct publish_job {
    struct publish_job *next;
    char *body;
    size_t len;
    char message_id[40];
    publish_done_fn done; /* NULL for a merged message: its members are completed instead */
    void *ctx;
    int mergeable;               /* one ping's JSON object, may join a merged message */
    int published;               /* handed to the broker (counted in ping_messages_out) */
    uint64_t submitted_us;       /* monotonic; 0 for a merged message */
    uint64_t published_us;       /* of the message that carried it; 0 while not published */
    struct publish_job *members; /* of a merged message, linked by next */
};

struct publisher {
    const struct udc_config *cfg;
    struct udc_amqp *amqp;
    pthread_t thread;
    int started;
    int wake_fd;

    pthread_mutex_t lock; /* guards queue_head/tail, stopping */
    struct publish_job *queue_head, *queue_tail;
    int stopping;

    struct pending_window window; /* publisher thread only */
    atomic_size_t in_flight;      /* queued + unconfirmed */
    atomic_int ready;
    /* Set while the thread sleeps and a new ping would be published at once: only then does
     * a submitted ping need to wake it (otherwise the next confirm does). */
    atomic_int wants_pings;
    size_t ping_messages_out; /* unconfirmed messages of single pings; publisher thread only */
};

static struct publish_timing job_timing(const struct publish_job *job, uint64_t now_us)
{
    if (!job->published_us)
        return (struct publish_timing){.queued_us = now_us - job->submitted_us};
    return (struct publish_timing){.queued_us = job->published_us - job->submitted_us,
                                   .confirm_us = now_us - job->published_us};
}

/* Completes a job (or each member of a merged message) at now_us. */
static void job_finish(struct publisher *p, struct publish_job *job, int ok, const char *why,
                       uint64_t now_us)
{
    if (job->published && job->mergeable)
        p->ping_messages_out--;
    if (!job->done) { /* a merged message: each submitted job was counted in in_flight */
        struct publish_job *m = job->members;
        while (m) {
            struct publish_job *next = m->next;
            job_finish(p, m, ok, why, now_us);
            m = next;
        }
        free(job->body);
        free(job);
        return;
    }
    struct publish_timing timing = job_timing(job, now_us);
    job->done(job->ctx, ok, why, &timing);
    free(job->body);
    free(job);
    atomic_fetch_sub(&p->in_flight, 1);
}

struct publisher *publisher_new(const struct udc_config *cfg)
{
    struct publisher *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->cfg = cfg;
    p->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    p->amqp = udc_amqp_new(udc_config_amqp_url(cfg, "ingest_http"), "udc-ingest-http",
                           cfg->amqp.heartbeat_s);
    pthread_mutex_init(&p->lock, NULL);
    if (p->wake_fd < 0 || !p->amqp ||
        pending_init(&p->window, (size_t)cfg->ingest_http.max_in_flight) != 0) {
        publisher_free(p);
        return NULL;
    }
    udc_amqp_set_reconnect_max_ms(p->amqp, (uint32_t)cfg->amqp.reconnect_max_ms);
    return p;
}

void publisher_free(struct publisher *p)
{
    if (!p)
        return;
    udc_amqp_free(p->amqp);
    pending_free(&p->window);
    if (p->wake_fd >= 0)
        close(p->wake_fd);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

int publisher_ready(struct publisher *p)
{
    return atomic_load(&p->ready);
}

size_t publisher_in_flight(struct publisher *p)
{
    return atomic_load(&p->in_flight);
}

static void wake(struct publisher *p)
{
    uint64_t one = 1;
    ssize_t ignored = write(p->wake_fd, &one, sizeof one);
    (void)ignored;
}

static int submit(struct publisher *p, const char *body, size_t len, const char *message_id,
                  int mergeable, publish_done_fn done, void *ctx)
{
    if (!atomic_load(&p->ready))
        return -1;
    /* Reserve a place first so the limit holds under concurrent submitters. */
    if (atomic_fetch_add(&p->in_flight, 1) >= (size_t)p->cfg->ingest_http.max_in_flight) {
        atomic_fetch_sub(&p->in_flight, 1);
        return -1;
    }
    struct publish_job *job = calloc(1, sizeof *job);
    char *copy = malloc(len ? len : 1);
    if (!job || !copy) {
        free(job);
        free(copy);
        atomic_fetch_sub(&p->in_flight, 1);
        return -1;
    }
    memcpy(copy, body, len);
    job->body = copy;
    job->len = len;
    job->done = done;
    job->ctx = ctx;
    job->mergeable = mergeable;
    job->submitted_us = udc_now_us();
    snprintf(job->message_id, sizeof job->message_id, "%s", message_id);

    pthread_mutex_lock(&p->lock);
    int refused = p->stopping;
    if (!refused) {
        if (p->queue_tail)
            p->queue_tail->next = job;
        else
            p->queue_head = job;
        p->queue_tail = job;
    }
    pthread_mutex_unlock(&p->lock);
    if (refused) {
        free(copy);
        free(job);
        atomic_fetch_sub(&p->in_flight, 1);
        return -1;
    }
    if (!mergeable || atomic_exchange(&p->wants_pings, 0))
        wake(p);
    return 0;
}

int publisher_submit(struct publisher *p, const char *body, size_t len, const char *message_id,
                     publish_done_fn done, void *ctx)
{
    return submit(p, body, len, message_id, 0, done, ctx);
}

int publisher_submit_ping(struct publisher *p, const char *ping, size_t len, const char *event_id,
                          publish_done_fn done, void *ctx)
{
    return submit(p, ping, len, event_id, 1, done, ctx);
}

static struct publish_job *take_queue(struct publisher *p)
{
    pthread_mutex_lock(&p->lock);
    struct publish_job *jobs = p->queue_head;
    p->queue_head = p->queue_tail = NULL;
    pthread_mutex_unlock(&p->lock);
    return jobs;
}

static int queue_waiting(struct publisher *p)
{
    pthread_mutex_lock(&p->lock);
    int waiting = p->queue_head != NULL;
    pthread_mutex_unlock(&p->lock);
    return waiting;
}

static void fail_jobs(struct publisher *p, struct publish_job *jobs, const char *why)
{
    uint64_t now = udc_now_us();
    while (jobs) {
        struct publish_job *next = jobs->next;
        job_finish(p, jobs, 0, why, now);
        jobs = next;
    }
}

/* Completes the window's settled entries in publish order. */
static void complete_resolved(struct publisher *p)
{
    struct pending_entry e;
    uint64_t now = udc_now_us();
    while (pending_pop_resolved(&p->window, &e)) {
        int ok = e.outcome == PENDING_ACKED;
        job_finish(p, e.owner, ok, ok ? "" : "not confirmed by the broker", now);
    }
}

/* Takes the mergeable jobs at the front of *jobs (at most MERGE_MAX) into one merged
 * message. Returns the front job unchanged when it stands alone, or NULL out of memory (then
 * *jobs is unchanged and the caller publishes the front job alone). */
static struct publish_job *merge_front(struct publish_job **jobs)
{
    struct publish_job *first = *jobs, *last = first;
    size_t count = 1, len = sizeof "{\"locations\":[]}";
    if (!first->mergeable)
        goto alone;
    len += first->len;
    while (count < MERGE_MAX && last->next && last->next->mergeable) {
        last = last->next;
        len += last->len + 1;
        count++;
    }
    if (count == 1)
        goto alone;
    struct publish_job *merged = calloc(1, sizeof *merged);
    char *body = malloc(len);
    if (!merged || !body || udc_uuid_v4(merged->message_id) != 0) {
        free(merged);
        free(body);
        goto alone;
    }
    size_t at = 0;
    memcpy(body, "{\"locations\":[", 14);
    at = 14;
    for (struct publish_job *m = first;; m = m->next) {
        if (m != first)
            body[at++] = ',';
        memcpy(body + at, m->body, m->len);
        at += m->len;
        if (m == last)
            break;
    }
    memcpy(body + at, "]}", 2);
    at += 2;
    merged->body = body;
    merged->len = at;
    merged->members = first;
    merged->mergeable = 1;
    *jobs = last->next;
    last->next = NULL;
    return merged;
alone:
    *jobs = first->next;
    first->next = NULL;
    return first;
}

/* Only the message itself counts in ping_messages_out; its members learn when it left. */
static void mark_published(struct publish_job *job, uint64_t now_us)
{
    job->published = 1;
    job->published_us = now_us;
    for (struct publish_job *m = job->members; m; m = m->next)
        m->published_us = now_us;
}

static int publish_job(struct publisher *p, struct publish_job *job)
{
    struct udc_amqp_message msg = {
        .body = job->body, .len = job->len, .message_id = job->message_id};
    uint64_t seq = 0;
    if (udc_amqp_publish(p->amqp, LOCATIONS_EXCHANGE, ROUTING_KEY, &msg, &seq) != 0) {
        job_finish(p, job, 0, "broker connection lost", udc_now_us());
        return -1;
    }
    uint64_t now = udc_now_us();
    mark_published(job, now);
    if (job->mergeable)
        p->ping_messages_out++;
    pending_push(&p->window, seq, now, job, job->message_id);
    return 0;
}

static size_t list_length(const struct publish_job *j)
{
    size_t n = 0;
    for (; j; j = j->next)
        n++;
    return n;
}

/* Puts jobs back at the front of the queue. */
static void requeue_front(struct publisher *p, struct publish_job *jobs)
{
    if (!jobs)
        return;
    pthread_mutex_lock(&p->lock);
    struct publish_job *last = jobs;
    while (last->next)
        last = last->next;
    last->next = p->queue_head;
    if (!p->queue_head)
        p->queue_tail = last;
    p->queue_head = jobs;
    pthread_mutex_unlock(&p->lock);
}

/* Publishes queued jobs while the window has room. Batch messages leave at once; single
 * pings leave while fewer than PING_MESSAGES_OUT messages of pings await their confirm
 * (or when a full message's worth is queued), else they wait in the queue and leave
 * together, in one message, when a confirm comes: under load each message then carries
 * many pings, which is what the broker and the writer pay for. */
static void publish_queued(struct publisher *p)
{
    struct publish_job *jobs = take_queue(p), *pings = NULL, **pings_tail = &pings;
    while (jobs && !pending_full(&p->window)) {
        struct publish_job *job = jobs;
        jobs = job->next;
        job->next = NULL;
        if (job->mergeable) {
            *pings_tail = job;
            pings_tail = &job->next;
        } else {
            publish_job(p, job);
        }
    }
    size_t waiting = list_length(pings);
    while (pings && !pending_full(&p->window) &&
           (p->ping_messages_out < PING_MESSAGES_OUT || waiting >= MERGE_MAX)) {
        struct publish_job *job = merge_front(&pings);
        waiting = list_length(pings);
        publish_job(p, job);
    }
    if (pings) {
        struct publish_job *last = pings;
        while (last->next)
            last = last->next;
        last->next = jobs;
        jobs = pings;
    }
    requeue_front(p, jobs);
}

static void handle_event(struct publisher *p, const struct udc_amqp_event *ev)
{
    switch (ev->type) {
    case UDC_AMQP_CONFIRM_ACK:
    case UDC_AMQP_CONFIRM_NACK:
        pending_resolve(&p->window, ev->seq, ev->multiple, ev->type == UDC_AMQP_CONFIRM_ACK);
        break;
    case UDC_AMQP_RETURN:
        udc_log_error("ping unroutable: is udc.locations bound to a queue?",
                      "message_id=%s reply=\"%s\"", ev->message_id, ev->reply_text);
        if (ev->seq)
            pending_resolve(&p->window, ev->seq, 0, 0);
        else
            pending_fail_message(&p->window, ev->message_id);
        break;
    case UDC_AMQP_CLOSED:
        atomic_store(&p->ready, 0);
        pending_fail_all(&p->window);
        break;
    default:
        break;
    }
}

/* Reads every event the broker has for us, waiting at most timeout_ms for the first. */
static void pump_events(struct publisher *p, int timeout_ms)
{
    struct pollfd fds[2] = {{.fd = p->wake_fd, .events = POLLIN},
                            {.fd = udc_amqp_fd(p->amqp), .events = POLLIN}};
    struct udc_amqp_event ev;
    int got = 0;
    /* Frames may already wait in the client's buffers: drain those before sleeping. */
    for (;;) {
        udc_amqp_poll(p->amqp, 0, &ev);
        if (ev.type == UDC_AMQP_TIMEOUT)
            break;
        handle_event(p, &ev);
        udc_amqp_event_release(&ev);
        got = 1;
        if (ev.type == UDC_AMQP_CLOSED)
            return;
    }
    if (!got && fds[1].fd >= 0) {
        int publishable = p->ping_messages_out < PING_MESSAGES_OUT && !pending_full(&p->window);
        atomic_store(&p->wants_pings, publishable);
        if (publishable && queue_waiting(p)) { /* submitted before the flag was up */
            atomic_store(&p->wants_pings, 0);
            return;
        }
        poll(fds, 2, timeout_ms);
        atomic_store(&p->wants_pings, 0);
        uint64_t drained;
        ssize_t ignored = read(p->wake_fd, &drained, sizeof drained);
        (void)ignored;
    }
}

static void run_connected(struct publisher *p)
{
    publish_queued(p);
    int timeout = pending_count(&p->window) ? 50 : 500;
    pump_events(p, timeout);
    uint64_t limit_us = (uint64_t)p->cfg->amqp.confirm_timeout_ms * 1000;
    uint64_t now = udc_now_us();
    if (now > limit_us)
        pending_fail_older_than(&p->window, now - limit_us);
    complete_resolved(p);
}

static void run_disconnected(struct publisher *p)
{
    atomic_store(&p->ready, 0);
    pending_fail_all(&p->window);
    complete_resolved(p);
    fail_jobs(p, take_queue(p), "broker unavailable");
    struct pollfd wake_poll = {.fd = p->wake_fd, .events = POLLIN};
    poll(&wake_poll, 1, 100);
}

static int stopping(struct publisher *p)
{
    pthread_mutex_lock(&p->lock);
    int s = p->stopping;
    pthread_mutex_unlock(&p->lock);
    return s;
}

static void *publisher_main(void *arg)
{
    struct publisher *p = arg;
    for (;;) {
        int stop = stopping(p);
        if (stop && atomic_load(&p->in_flight) == 0)
            break;
        if (udc_amqp_ensure(p->amqp) != 0) {
            run_disconnected(p);
            if (stop)
                break;
            continue;
        }
        atomic_store(&p->ready, !stop);
        run_connected(p);
    }
    udc_amqp_close(p->amqp);
    return NULL;
}

int publisher_start(struct publisher *p)
{
    char err[256];
    if (udc_amqp_connect(p->amqp, err, sizeof err) == 0 &&
        udc_amqp_check_exchange(p->amqp, LOCATIONS_EXCHANGE, err, sizeof err) != 0) {
        udc_log_error("broker topology missing; load schema/rabbitmq/definitions.json",
                      "error=\"%s\"", err);
        return -1;
    }
    if (pthread_create(&p->thread, NULL, publisher_main, p) != 0)
        return -1;
    p->started = 1;
    return 0;
}

void publisher_stop(struct publisher *p)
{
    if (!p || !p->started)
        return;
    pthread_mutex_lock(&p->lock);
    p->stopping = 1;
    pthread_mutex_unlock(&p->lock);
    atomic_store(&p->ready, 0);
    wake(p);
    pthread_join(p->thread, NULL);
    p->started = 0;
    /* Anything submitted after the thread left (none: submit refuses while stopping). */
    fail_jobs(p, take_queue(p), "shutting down");
}
