/* daemon.c — see daemon.h. */
#include "daemon.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "service.h"

static void print_usage(const char *name, const char *const *extra_flags)
{
    fprintf(stderr, "usage: udc-%s [-c FILE] [-t] [-h] [-V]", name);
    for (size_t i = 0; extra_flags && extra_flags[i]; i++)
        fprintf(stderr, " [--%s]", extra_flags[i]);
    fprintf(stderr,
            "\n  -c FILE  configuration file (default %s)\n"
            "  -t       check the configuration file and exit\n"
            "  -h       this help\n"
            "  -V       print the version\n",
            udc_config_default_path());
}

/* Long options: the daemon's extra flags, each returning 1000 + its index. */
static int parse_command_line(struct udc_daemon *d, int argc, char **argv,
                              const char *const *extra_flags, int *check_only)
{
    struct option longopts[17];
    size_t n = 0;
    for (; extra_flags && extra_flags[n] && n < 16; n++)
        longopts[n] = (struct option){extra_flags[n], no_argument, NULL, 1000 + (int)n};
    longopts[n] = (struct option){0};

    optind = 1;
    int opt;
    while ((opt = getopt_long(argc, argv, "c:thV", longopts, NULL)) != -1) {
        if (opt >= 1000) {
            d->flags |= 1u << (opt - 1000);
        } else if (opt == 'c') {
            d->config_path = optarg;
        } else if (opt == 't') {
            *check_only = 1;
        } else if (opt == 'h') {
            print_usage(d->name, extra_flags);
            return 0;
        } else if (opt == 'V') {
            printf("udc-%s %s\n", d->name, UDC_VERSION);
            return 0;
        } else {
            print_usage(d->name, extra_flags);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "udc-%s: unexpected argument '%s'\n", d->name, argv[optind]);
        return 2;
    }
    return -1;
}

int udc_daemon_begin(struct udc_daemon *d, const char *name, int argc, char **argv,
                     const char *const *extra_flags)
{
    char err[1024];
    int check_only = 0;

    memset(d, 0, sizeof *d);
    d->name = name;
    udc_log_set_ident(name);
    int rc = parse_command_line(d, argc, argv, extra_flags, &check_only);
    if (rc >= 0)
        return rc;
    if (check_only)
        return udc_config_check(d->config_path);
    if (udc_config_load(&d->cfg, d->config_path, err, sizeof err) != 0) {
        char quoted[1100];
        udc_log_error("invalid configuration", "error=%s",
                      udc_log_quote(quoted, sizeof quoted, err));
        return 1;
    }
    udc_log_set_level(d->cfg.log.level);
    if (udc_service_init() != 0) {
        udc_log_error("cannot install signal handlers", "%s", "");
        udc_config_free(&d->cfg);
        return 1;
    }
    udc_log_info("starting", "version=%s config=%s", UDC_VERSION, d->cfg.path);
    return -1;
}

int udc_daemon_poll_reload(struct udc_daemon *d, struct udc_config *fresh)
{
    struct udc_config next;
    char err[1024], quoted[1100];

    if (!udc_service_take_reload())
        return 0;
    udc_service_reloading();
    if (udc_config_load(&next, d->config_path, err, sizeof err) != 0) {
        udc_log_error("reload refused: invalid configuration, keeping the running one", "error=%s",
                      udc_log_quote(quoted, sizeof quoted, err));
        udc_service_ready();
        return -1;
    }
    udc_log_set_level(next.log.level);
    udc_log_info("configuration reloaded", "log_level=%s", udc_log_level_name(next.log.level));
    udc_service_ready();
    if (fresh)
        *fresh = next;
    else
        udc_config_free(&next);
    return 1;
}

void udc_daemon_end(struct udc_daemon *d)
{
    udc_config_free(&d->cfg);
}
