/* Unit tests for common/service: signal flags and the self-pipe, and the sd_notify datagrams
 * as a service manager would receive them on NOTIFY_SOCKET. */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "service.h"
#include "suite_run.h"

static char tmpdir[64];
static char socket_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
static int notify_fd = -1;

static int wake_fd_readable(void)
{
    struct pollfd pfd = {.fd = udc_service_wake_fd(), .events = POLLIN};
    return poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLIN);
}

START_TEST(sighup_requests_a_reload_and_wakes)
{
    ck_assert_int_eq(udc_service_init(), 0);
    ck_assert_int_ge(udc_service_wake_fd(), 0);
    ck_assert_int_eq(wake_fd_readable(), 0);
    ck_assert_int_eq(udc_service_take_reload(), 0);

    raise(SIGHUP);
    ck_assert_int_eq(wake_fd_readable(), 1);
    ck_assert_int_eq(udc_service_take_reload(), 1);
    ck_assert_int_eq(udc_service_take_reload(), 0);
    ck_assert_int_eq(udc_service_should_stop(), 0);
    udc_service_drain_wake_fd();
    ck_assert_int_eq(wake_fd_readable(), 0);

    /* Two SIGHUPs before the loop looks are one reload. */
    raise(SIGHUP);
    raise(SIGHUP);
    ck_assert_int_eq(udc_service_take_reload(), 1);
    ck_assert_int_eq(udc_service_take_reload(), 0);
}
END_TEST

START_TEST(sigterm_requests_a_stop_and_wakes)
{
    ck_assert_int_eq(udc_service_init(), 0);
    ck_assert_int_eq(udc_service_should_stop(), 0);
    raise(SIGTERM);
    ck_assert_int_eq(udc_service_should_stop(), 1);
    ck_assert_int_eq(wake_fd_readable(), 1);
    ck_assert_int_eq(udc_service_take_reload(), 0);
}
END_TEST

START_TEST(sigint_requests_a_stop)
{
    ck_assert_int_eq(udc_service_init(), 0);
    raise(SIGINT);
    ck_assert_int_eq(udc_service_should_stop(), 1);
}
END_TEST

START_TEST(request_stop_wakes)
{
    ck_assert_int_eq(udc_service_init(), 0);
    udc_service_request_stop();
    ck_assert_int_eq(udc_service_should_stop(), 1);
    ck_assert_int_eq(wake_fd_readable(), 1);
}
END_TEST

START_TEST(init_is_idempotent_and_ignores_sigpipe)
{
    ck_assert_int_eq(udc_service_init(), 0);
    int fd = udc_service_wake_fd();
    ck_assert_int_eq(udc_service_init(), 0);
    ck_assert_int_eq(udc_service_wake_fd(), fd);
    struct sigaction sa;
    ck_assert_int_eq(sigaction(SIGPIPE, NULL, &sa), 0);
    ck_assert_ptr_eq((void *)sa.sa_handler, (void *)SIG_IGN);
    raise(SIGPIPE); /* would kill the test process otherwise */
}
END_TEST

START_TEST(many_signals_never_block)
{
    ck_assert_int_eq(udc_service_init(), 0);
    /* More wake-ups than a pipe holds: the handler must not block on a full pipe. */
    for (int i = 0; i < 100000; i++)
        udc_service_request_stop();
    raise(SIGHUP);
    ck_assert_int_eq(udc_service_take_reload(), 1);
    udc_service_drain_wake_fd();
    ck_assert_int_eq(wake_fd_readable(), 0);
}
END_TEST

/* ---- sd_notify ---- */

static void notify_setup(void)
{
    strcpy(tmpdir, "/tmp/udc-test-service-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    ck_assert_int_lt(snprintf(socket_path, sizeof socket_path, "%s/notify", tmpdir),
                     (int)sizeof socket_path);
    notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(notify_fd, 0);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    memcpy(addr.sun_path, socket_path, sizeof socket_path);
    ck_assert_int_eq(bind(notify_fd, (struct sockaddr *)&addr, sizeof addr), 0);
    setenv("NOTIFY_SOCKET", socket_path, 1);
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
}

static void notify_teardown(void)
{
    close(notify_fd);
    unlink(socket_path);
    rmdir(tmpdir);
    unsetenv("NOTIFY_SOCKET");
}

/* The next datagram, or "" when none is queued (sd_notify sends synchronously). */
static const char *next_datagram(void)
{
    static char buf[1024];
    ssize_t n = recv(notify_fd, buf, sizeof buf - 1, MSG_DONTWAIT);
    if (n < 0) {
        ck_assert_int_eq(errno, EAGAIN);
        n = 0;
    }
    buf[n] = '\0';
    return buf;
}

START_TEST(notify_messages_arrive)
{
    ck_assert_int_gt(udc_service_ready(), 0);
    ck_assert_str_eq(next_datagram(), "READY=1");
    ck_assert_int_gt(udc_service_status("stored %d rows", 12), 0);
    ck_assert_str_eq(next_datagram(), "STATUS=stored 12 rows");
    ck_assert_int_gt(udc_service_stopping(), 0);
    ck_assert_str_eq(next_datagram(), "STOPPING=1");
    ck_assert_int_gt(udc_service_reloading(), 0);
    const char *reloading = next_datagram();
    ck_assert_msg(strncmp(reloading, "RELOADING=1\nMONOTONIC_USEC=", 27) == 0, "got %s", reloading);
    ck_assert_str_eq(next_datagram(), "");
}
END_TEST

START_TEST(status_stays_one_line)
{
    ck_assert_int_gt(udc_service_status("%s", "broker lost\nREADY=1"), 0);
    ck_assert_str_eq(next_datagram(), "STATUS=broker lost READY=1");
}
END_TEST

START_TEST(notify_without_socket_is_harmless)
{
    unsetenv("NOTIFY_SOCKET");
    ck_assert_int_eq(udc_service_ready(), 0);
    ck_assert_int_eq(udc_service_status("x"), 0);
    ck_assert_int_eq(udc_service_stopping(), 0);
    setenv("WATCHDOG_USEC", "1000000", 1);
    udc_service_watchdog(1);
    ck_assert_str_eq(next_datagram(), "");
}
END_TEST

static void set_watchdog(const char *usec, pid_t pid)
{
    char pid_text[32];
    snprintf(pid_text, sizeof pid_text, "%ld", (long)pid);
    setenv("WATCHDOG_USEC", usec, 1);
    setenv("WATCHDOG_PID", pid_text, 1);
}

START_TEST(watchdog_only_when_healthy_and_due)
{
    udc_service_watchdog(1); /* no WATCHDOG_USEC: no watchdog */
    ck_assert_str_eq(next_datagram(), "");

    set_watchdog("2000000", getpid());
    udc_service_watchdog(0);
    ck_assert_str_eq(next_datagram(), "");
    udc_service_watchdog(1);
    ck_assert_str_eq(next_datagram(), "WATCHDOG=1");
    udc_service_watchdog(1); /* within half the interval */
    ck_assert_str_eq(next_datagram(), "");

    set_watchdog("20000", getpid());
    usleep(15000); /* past half of 20 ms */
    udc_service_watchdog(0);
    ck_assert_str_eq(next_datagram(), "");
    udc_service_watchdog(1);
    ck_assert_str_eq(next_datagram(), "WATCHDOG=1");
}
END_TEST

START_TEST(watchdog_is_for_its_own_pid_only)
{
    set_watchdog("2000000", getpid() + 1);
    udc_service_watchdog(1);
    ck_assert_str_eq(next_datagram(), "");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("service");
    TCase *signals = tcase_create("signals");
    tcase_add_test(signals, sighup_requests_a_reload_and_wakes);
    tcase_add_test(signals, sigterm_requests_a_stop_and_wakes);
    tcase_add_test(signals, sigint_requests_a_stop);
    tcase_add_test(signals, request_stop_wakes);
    tcase_add_test(signals, init_is_idempotent_and_ignores_sigpipe);
    tcase_add_test(signals, many_signals_never_block);
    suite_add_tcase(s, signals);

    TCase *notify = tcase_create("notify");
    tcase_add_checked_fixture(notify, notify_setup, notify_teardown);
    tcase_add_test(notify, notify_messages_arrive);
    tcase_add_test(notify, status_stays_one_line);
    tcase_add_test(notify, notify_without_socket_is_harmless);
    tcase_add_test(notify, watchdog_only_when_healthy_and_due);
    tcase_add_test(notify, watchdog_is_for_its_own_pid_only);
    suite_add_tcase(s, notify);

    return udc_test_run(s);
}
