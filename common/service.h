/* service.h — the systemd-style life cycle of a daemon: signals and sd_notify.
 *
 *   udc_service_init();                        // before starting threads
 *   ... connect ...
 *   udc_service_ready();                       // READY=1
 *   while (!udc_service_should_stop()) {
 *       poll({work fds..., udc_service_wake_fd()}, timeout);
 *       udc_service_drain_wake_fd();
 *       if (udc_service_take_reload()) { udc_service_reloading(); ...; udc_service_ready(); }
 *       udc_service_watchdog(connected);       // WATCHDOG=1 only while healthy
 *   }
 *   udc_service_stopping();                    // STOPPING=1, then drain and exit 0
 *
 * SIGTERM and SIGINT request a stop, SIGHUP a reload; the handlers only set flags and write
 * one byte to a non-blocking self-pipe whose read end wakes poll loops. SIGPIPE is ignored.
 * Every notify call is harmless (returns 0) when NOTIFY_SOCKET is unset.
 *
 * Thread-safety: should_stop, request_stop and the notify calls may be used from any
 * thread. take_reload, drain_wake_fd and watchdog belong to one thread (the main loop).
 */
#ifndef UDC_SERVICE_H
#define UDC_SERVICE_H

/* Install the handlers and create the self-pipe; a second call does nothing.
 * Returns 0, or -1 with errno set. */
int udc_service_init(void);

/* 1 once SIGTERM/SIGINT arrived or udc_service_request_stop() was called. */
int udc_service_should_stop(void);
/* 1 when a SIGHUP arrived since the last call (read and clear). */
int udc_service_take_reload(void);
/* Ask the process to stop as SIGTERM would (for fatal paths and tests). */
void udc_service_request_stop(void);

/* Read end of the self-pipe (readable after a signal), -1 before udc_service_init(). */
int udc_service_wake_fd(void);
/* Empty the self-pipe, so the next poll sleeps until the next signal. */
void udc_service_drain_wake_fd(void);

/* sd_notify wrappers: > 0 sent, 0 no NOTIFY_SOCKET, < 0 negative errno. */
int udc_service_ready(void);     /* READY=1 (also after a reload) */
int udc_service_stopping(void);  /* STOPPING=1 */
int udc_service_reloading(void); /* RELOADING=1 with MONOTONIC_USEC, for Type=notify-reload */
int udc_service_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Call often: sends WATCHDOG=1 when the unit has a watchdog (WATCHDOG_USEC for this pid),
 * healthy is non-zero and at least half the interval passed since the last one sent. */
void udc_service_watchdog(int healthy);

#endif
