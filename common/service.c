/* service.c — signal flags, self-pipe and sd_notify. See service.h. */
#include "service.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "backoff.h"

static volatile sig_atomic_t stop_requested;
/* SIGHUP bumps the generation; take_reload compares it with the one it saw last. A counter
 * instead of a flag cannot lose a SIGHUP that lands between reading and clearing. */
static volatile sig_atomic_t reload_generation;
static sig_atomic_t reload_seen;
static int wake_pipe[2] = {-1, -1};
static uint64_t watchdog_last_us;

static void wake(void)
{
    if (wake_pipe[1] >= 0) {
        char byte = 1;
        /* A full pipe already wakes the loop, so a failed write loses nothing. */
        ssize_t ignored = write(wake_pipe[1], &byte, 1);
        (void)ignored;
    }
}

static void on_signal(int signo)
{
    int saved_errno = errno;
    if (signo == SIGHUP)
        reload_generation = reload_generation == SIG_ATOMIC_MAX ? 0 : reload_generation + 1;
    else
        stop_requested = 1;
    wake();
    errno = saved_errno;
}

static int install(int signo, void (*handler)(int))
{
    struct sigaction sa = {0};
    sa.sa_handler = handler;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    return sigaction(signo, &sa, NULL);
}

int udc_service_init(void)
{
    if (wake_pipe[0] >= 0)
        return 0;
    if (pipe2(wake_pipe, O_NONBLOCK | O_CLOEXEC) != 0) {
        wake_pipe[0] = wake_pipe[1] = -1;
        return -1;
    }
    if (install(SIGTERM, on_signal) != 0 || install(SIGINT, on_signal) != 0 ||
        install(SIGHUP, on_signal) != 0 || install(SIGPIPE, SIG_IGN) != 0)
        return -1;
    return 0;
}

int udc_service_should_stop(void)
{
    return stop_requested != 0;
}

int udc_service_take_reload(void)
{
    sig_atomic_t generation = reload_generation;
    if (generation == reload_seen)
        return 0;
    reload_seen = generation;
    return 1;
}

void udc_service_request_stop(void)
{
    stop_requested = 1;
    wake();
}

int udc_service_wake_fd(void)
{
    return wake_pipe[0];
}

void udc_service_drain_wake_fd(void)
{
    char buf[64];
    if (wake_pipe[0] < 0)
        return;
    while (read(wake_pipe[0], buf, sizeof buf) > 0) {
    }
}

int udc_service_ready(void)
{
    return sd_notify(0, "READY=1");
}

int udc_service_stopping(void)
{
    return sd_notify(0, "STOPPING=1");
}

int udc_service_reloading(void)
{
    return sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu", (unsigned long long)udc_now_us());
}

int udc_service_status(const char *fmt, ...)
{
    char status[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(status, sizeof status, fmt, ap);
    va_end(ap);
    /* A newline would start another assignment (READY=1...), so the status stays one line. */
    for (char *p = status; *p; p++) {
        if ((unsigned char)*p < 0x20)
            *p = ' ';
    }
    return sd_notifyf(0, "STATUS=%s", status);
}

void udc_service_watchdog(int healthy)
{
    uint64_t interval_us;
    if (!healthy || sd_watchdog_enabled(0, &interval_us) <= 0)
        return;
    uint64_t now = udc_now_us();
    if (watchdog_last_us != 0 && now - watchdog_last_us < interval_us / 2)
        return;
    if (sd_notify(0, "WATCHDOG=1") > 0)
        watchdog_last_us = now;
}
