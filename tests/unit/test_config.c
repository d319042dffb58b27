/* Unit tests for common/config: the sample file, defaults, file errors with their lines,
 * environment overrides, passwords, the broker URL precedence, and udc_listen_parse. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "config_schema.h"
#include "suite_run.h"

extern char **environ;

static char tmpdir[64];
static char conf_path[128];
static char err[1024];
static struct udc_config cfg;

/* The harness exports UDC_DB_URL and friends; each test starts from a clean slate. */
static void unset_udc_environment(void)
{
    for (;;) {
        char name[128] = "";
        for (char **e = environ; *e; e++) {
            if (strncmp(*e, "UDC_", 4) == 0) {
                size_t len = strcspn(*e, "=");
                snprintf(name, sizeof name, "%.*s", (int)len, *e);
                break;
            }
        }
        if (name[0] == '\0')
            return;
        unsetenv(name);
    }
}

static void setup(void)
{
    unset_udc_environment();
    strcpy(tmpdir, "/tmp/udc-test-config-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    snprintf(conf_path, sizeof conf_path, "%s/test.conf", tmpdir);
    memset(&cfg, 0, sizeof cfg);
    err[0] = '\0';
}

static void teardown(void)
{
    udc_config_free(&cfg);
    unlink(conf_path);
    rmdir(tmpdir);
}

static const char *write_conf(const char *text)
{
    FILE *f = fopen(conf_path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    return conf_path;
}

/* Load text; the load must fail with an error containing "PATH:LINE: message". */
static void assert_load_error(const char *text, int line, const char *message)
{
    char expected[512];
    ck_assert_int_eq(udc_config_load(&cfg, write_conf(text), err, sizeof err), -1);
    snprintf(expected, sizeof expected, "%s:%d: %s", conf_path, line, message);
    ck_assert_msg(strstr(err, expected) != NULL, "error \"%s\" lacks \"%s\"", err, expected);
    ck_assert_ptr_null(cfg.db.url); /* a failed load leaves nothing to free */
}

static void load_ok(const char *text)
{
    int rc = udc_config_load(&cfg, write_conf(text), err, sizeof err);
    ck_assert_msg(rc == 0, "load failed: %s", err);
}

START_TEST(sample_file_loads)
{
    int rc = udc_config_load(&cfg, "udaconnect.conf", err, sizeof err);
    ck_assert_msg(rc == 0, "udaconnect.conf: %s", err);
    ck_assert_str_eq(cfg.path, "udaconnect.conf");
    ck_assert_int_eq(cfg.log.level, UDC_LOG_INFO);
    ck_assert_str_eq(cfg.db.url, "postgresql://udaconnect@127.0.0.1:5432/udaconnect");
    ck_assert_int_eq(cfg.db.statement_timeout_ms, 30000);
    ck_assert_int_eq(cfg.amqp.confirm_timeout_ms, 5000);
    ck_assert_uint_eq(cfg.ingest_http.listen_count, 1);
    ck_assert_str_eq(cfg.ingest_http.listen[0], "127.0.0.1:30002");
    ck_assert_int_eq(cfg.ingest_http.body_max, 1048576);
    ck_assert_str_eq(cfg.writer.amqp_url, "amqp://udc-writer:writer@127.0.0.1:5672/udaconnect");
    ck_assert_int_eq(cfg.writer.batch_wait_ms, 250);
    ck_assert_double_eq(cfg.connector.radius_m, 5.0);
    ck_assert_int_eq(cfg.connector.backfill_chunk, 5000);
    ck_assert_str_eq(cfg.ingest_amqp.admin_listen, "127.0.0.1:30012");
    ck_assert_int_eq(cfg.ingest_amqp.prefetch, 500);
    ck_assert_uint_eq(cfg.api.listen_count, 2);
    ck_assert_str_eq(cfg.api.listen[1], "127.0.0.1:30000");
    ck_assert_str_eq(cfg.api.www_dir, "/usr/share/udaconnect/www");
    ck_assert_str_eq(udc_config_amqp_url(&cfg, "writer"), cfg.writer.amqp_url);
    ck_assert_str_eq(udc_config_amqp_url(&cfg, "api"), cfg.amqp.url);
}
END_TEST

/* Every default equals the sample file's value, except the daemons' own amqp_url. */
START_TEST(empty_file_gets_the_sample_values)
{
    struct udc_config sample;
    ck_assert_int_eq(udc_config_load(&sample, "udaconnect.conf", err, sizeof err), 0);
    load_ok("# nothing\n");
    for (size_t i = 0; i < udc_cfg_key_count; i++) {
        const struct udc_cfg_key *key = &udc_cfg_keys[i];
        const char *a = (const char *)&cfg + key->offset;
        const char *b = (const char *)&sample + key->offset;
        switch (key->type) {
        case UDC_CFG_INT:
            ck_assert_int_eq(*(const int *)a, *(const int *)b);
            break;
        case UDC_CFG_DOUBLE:
            ck_assert_double_eq(*(const double *)a, *(const double *)b);
            break;
        case UDC_CFG_LEVEL:
            ck_assert_int_eq(*(const enum udc_log_level *)a, *(const enum udc_log_level *)b);
            break;
        case UDC_CFG_HOSTPORT_LIST: {
            size_t n = *(const size_t *)((const char *)&cfg + key->count_offset);
            ck_assert_uint_eq(n, *(const size_t *)((const char *)&sample + key->count_offset));
            for (size_t j = 0; j < n; j++)
                ck_assert_str_eq((*(char *const *const *)a)[j], (*(char *const *const *)b)[j]);
            break;
        }
        default:
            if (strcmp(key->name, "amqp_url") == 0)
                ck_assert_ptr_null(*(char *const *)a);
            else
                ck_assert_str_eq(*(char *const *)a, *(char *const *)b);
        }
    }
    ck_assert_str_eq(udc_config_amqp_url(&cfg, "writer"),
                     "amqp://guest:guest@127.0.0.1:5672/udaconnect");
    udc_config_free(&sample);
}
END_TEST

START_TEST(partial_file_keeps_other_defaults)
{
    load_ok("writer = {\n  batch_size = 250;\n};\nconnector = { radius_m = 7; };\n");
    ck_assert_int_eq(cfg.writer.batch_size, 250);
    ck_assert_int_eq(cfg.writer.prefetch, 2000);
    ck_assert_double_eq(cfg.connector.radius_m, 7.0); /* an integer where a float goes */
    ck_assert_int_eq(cfg.db.connect_timeout_s, 5);
}
END_TEST

START_TEST(misspelt_key_names_file_and_line)
{
    assert_load_error("# comment\n"
                      "db = {\n"
                      "  url = \"postgresql://u@h/d\";\n"
                      "  ulr = \"postgresql://u@h/d\";\n"
                      "};\n",
                      4, "unknown key 'db.ulr'");
}
END_TEST

START_TEST(misspelt_section_names_file_and_line)
{
    assert_load_error("log = { level = \"info\"; };\n\nwirter = {\n  batch_size = 5;\n};\n", 3,
                      "unknown section 'wirter'");
}
END_TEST

START_TEST(wrong_types_are_errors)
{
    static const struct {
        const char *text;
        int line;
        const char *message;
    } cases[] = {
        {"db = {\n\n connect_timeout_s = \"5\";\n};\n", 3,
         "db.connect_timeout_s must be an integer"},
        {"writer = {\n batch_size = 10.5;\n};\n", 2, "writer.batch_size must be an integer"},
        {"writer = {\n batch_size = true;\n};\n", 2, "writer.batch_size must be an integer"},
        {"connector = {\n radius_m = \"5\";\n};\n", 2, "connector.radius_m must be a number"},
        {"db = {\n url = 5;\n};\n", 2, "db.url must be a string"},
        {"api = {\n listen = \"127.0.0.1:1\";\n};\n", 2, "api.listen must be a list of strings"},
        {"api = {\n listen = ( \"127.0.0.1:1\", 2 );\n};\n", 2,
         "api.listen must be a list of strings"},
        {"\nlog = 5;\n", 2, "log must be a group"},
        {"log = {\n level = { x = 1; };\n};\n", 2, "log.level must be a string"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_load_error(cases[i].text, cases[i].line, cases[i].message);
}
END_TEST

START_TEST(out_of_range_values_are_errors)
{
    static const struct {
        const char *text;
        const char *message;
    } cases[] = {
        {"writer = { prefetch = 0; };", "writer.prefetch must be between 1 and 65535"},
        {"writer = { batch_size = 10000000000L; };", "writer.batch_size must be between"},
        {"ingest_http = { body_max = -1; };", "ingest_http.body_max must be between"},
        {"connector = { radius_m = -1.0; };", "connector.radius_m must be between"},
        {"log = { level = \"loud\"; };", "log.level must be one of debug, info, warn, error"},
        {"db = { url = \"mysql://x@h/d\"; };", "db.url must be a postgresql:// URL"},
        {"amqp = { url = \"http://h/\"; };", "amqp.url must be an amqp:// or amqps:// URL"},
        {"writer = { amqp_url = \"\"; };", "writer.amqp_url must not be empty"},
        {"writer = { admin_listen = \"localhost\"; };", "writer.admin_listen must be HOST:PORT"},
        {"writer = { admin_listen = \"127.0.0.1:0\"; };", "writer.admin_listen must be HOST:PORT"},
        {"api = { listen = [ \"127.0.0.1:1\", \"h:70000\" ]; };",
         "api.listen entry 'h:70000' must be HOST:PORT"},
        {"api = { listen = [ ]; };", "api.listen must list at least one address"},
        {"api = { www_dir = \"a\\nb\"; };", "api.www_dir must not contain control characters"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_load_error(cases[i].text, 1, cases[i].message);
}
END_TEST

START_TEST(syntax_error_names_file_and_line)
{
    assert_load_error("db = {\n  connect_timeout_s = 5;\n  url = ;\n};\n", 3, "syntax error");
    assert_load_error("db = {\n url = \"a\";\n url = \"b\";\n};\n", 3, "duplicate setting");
}
END_TEST

START_TEST(missing_file_is_an_error)
{
    char missing[160];
    snprintf(missing, sizeof missing, "%s/absent.conf", tmpdir);
    ck_assert_int_eq(udc_config_load(&cfg, missing, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, missing));
    ck_assert_ptr_nonnull(strstr(err, "No such file"));
}
END_TEST

START_TEST(env_overrides_scalars)
{
    setenv("UDC_WRITER_BATCH_SIZE", "77", 1);
    setenv("UDC_LOG_LEVEL", "debug", 1);
    setenv("UDC_DB_URL", "postgresql://other@10.0.0.1/x", 1);
    setenv("UDC_CONNECTOR_RADIUS_M", "2.5", 1);
    setenv("UDC_INGEST_HTTP_BATCH_MAX", "10", 1);
    setenv("UDC_WRITER_PREFETCH", "", 1); /* empty counts as unset */
    load_ok("writer = { batch_size = 5; prefetch = 9; };\n");
    ck_assert_int_eq(cfg.writer.batch_size, 77);
    ck_assert_int_eq(cfg.writer.prefetch, 9);
    ck_assert_int_eq(cfg.log.level, UDC_LOG_DEBUG);
    ck_assert_str_eq(cfg.db.url, "postgresql://other@10.0.0.1/x");
    ck_assert_double_eq(cfg.connector.radius_m, 2.5);
    ck_assert_int_eq(cfg.ingest_http.batch_max, 10);
}
END_TEST

START_TEST(env_overrides_lists)
{
    setenv("UDC_API_LISTEN", "127.0.0.1:8080, [::1]:8081", 1);
    load_ok("");
    ck_assert_uint_eq(cfg.api.listen_count, 2);
    ck_assert_str_eq(cfg.api.listen[0], "127.0.0.1:8080");
    ck_assert_str_eq(cfg.api.listen[1], "[::1]:8081");
}
END_TEST

START_TEST(invalid_env_values_name_the_variable)
{
    static const struct {
        const char *var, *value, *message;
    } cases[] = {
        {"UDC_WRITER_BATCH_SIZE", "abc",
         "UDC_WRITER_BATCH_SIZE: writer.batch_size must be an integer"},
        {"UDC_WRITER_BATCH_SIZE", "12x", "writer.batch_size must be an integer"},
        {"UDC_INGEST_HTTP_BATCH_MAX", "0", "UDC_INGEST_HTTP_BATCH_MAX: ingest_http.batch_max"},
        {"UDC_CONNECTOR_RADIUS_M", "nan", "connector.radius_m must be a finite number"},
        {"UDC_API_LISTEN", "127.0.0.1:1,,127.0.0.1:2", "UDC_API_LISTEN: api.listen entry ''"},
        {"UDC_LOG_LEVEL", "chatty", "UDC_LOG_LEVEL: log.level must be one of"},
        {"UDC_AMQP_URL", "localhost", "UDC_AMQP_URL: amqp.url must be an amqp://"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        setenv(cases[i].var, cases[i].value, 1);
        ck_assert_int_eq(udc_config_load(&cfg, write_conf(""), err, sizeof err), -1);
        ck_assert_msg(strstr(err, cases[i].message) != NULL, "\"%s\" lacks \"%s\"", err,
                      cases[i].message);
        unsetenv(cases[i].var);
    }
}
END_TEST

START_TEST(passwords_go_into_the_urls)
{
    setenv("UDC_DB_PASSWORD", "s3cr:t@/x", 1);
    setenv("UDC_AMQP_PASSWORD", "pw", 1);
    int rc = udc_config_load(&cfg, "udaconnect.conf", err, sizeof err);
    ck_assert_msg(rc == 0, "%s", err);
    ck_assert_str_eq(cfg.db.url,
                     "postgresql://udaconnect:s3cr%3At%40%2Fx@127.0.0.1:5432/udaconnect");
    ck_assert_str_eq(cfg.amqp.url, "amqp://guest:pw@127.0.0.1:5672/udaconnect");
    ck_assert_str_eq(cfg.writer.amqp_url, "amqp://udc-writer:pw@127.0.0.1:5672/udaconnect");
    ck_assert_str_eq(cfg.ingest_http.amqp_url,
                     "amqp://udc-ingest-http:pw@127.0.0.1:5672/udaconnect");
    udc_config_free(&cfg);

    /* Also into a URL given by the environment, and as ?password= without a user. */
    setenv("UDC_AMQP_URL", "amqp://bob@broker:5672/v", 1);
    setenv("UDC_DB_URL", "postgresql:///udaconnect?host=/tmp", 1);
    load_ok("");
    ck_assert_str_eq(cfg.amqp.url, "amqp://bob:pw@broker:5672/v");
    ck_assert_str_eq(cfg.db.url, "postgresql:///udaconnect?host=/tmp&password=s3cr%3At%40%2Fx");
}
END_TEST

START_TEST(amqp_password_needs_a_user)
{
    setenv("UDC_AMQP_PASSWORD", "pw", 1);
    ck_assert_int_eq(
        udc_config_load(&cfg, write_conf("amqp = { url = \"amqp://h/v\"; };"), err, sizeof err),
        -1);
    ck_assert_ptr_nonnull(strstr(err, "UDC_AMQP_PASSWORD: amqp.url has no user name"));
}
END_TEST

START_TEST(amqp_url_precedence)
{
    static const char *text = "amqp = { url = \"amqp://a@shared/v\"; };\n"
                              "writer = { amqp_url = \"amqp://w@own/v\"; };\n";
    load_ok(text);
    ck_assert_str_eq(udc_config_amqp_url(&cfg, "writer"), "amqp://w@own/v");
    ck_assert_str_eq(udc_config_amqp_url(&cfg, "connector"), "amqp://a@shared/v");
    ck_assert_str_eq(udc_config_amqp_url(&cfg, NULL), "amqp://a@shared/v");
    udc_config_free(&cfg);

    setenv("UDC_AMQP_URL", "amqp://e@env/v", 1);
    load_ok(text);
    ck_assert_str_eq(udc_config_amqp_url(&cfg, "writer"), "amqp://e@env/v");
    ck_assert_str_eq(udc_config_amqp_url(&cfg, "connector"), "amqp://e@env/v");
    udc_config_free(&cfg);

    setenv("UDC_WRITER_AMQP_URL", "amqp://x@envown/v", 1);
    load_ok(text);
    ck_assert_str_eq(udc_config_amqp_url(&cfg, "writer"), "amqp://x@envown/v");
    ck_assert_str_eq(udc_config_amqp_url(&cfg, "ingest_amqp"), "amqp://e@env/v");
}
END_TEST

START_TEST(free_clears_and_is_idempotent)
{
    load_ok("api = { listen = [ \"127.0.0.1:1\", \"127.0.0.1:2\", \"127.0.0.1:3\" ]; };");
    ck_assert_uint_eq(cfg.api.listen_count, 3);
    udc_config_free(&cfg);
    ck_assert_ptr_null(cfg.api.listen);
    ck_assert_uint_eq(cfg.api.listen_count, 0);
    ck_assert_ptr_null(cfg.path);
    udc_config_free(&cfg);
    udc_config_free(NULL);
}
END_TEST

START_TEST(default_path_and_check)
{
    ck_assert_str_eq(udc_config_default_path(), "/etc/udaconnect/udaconnect.conf");
    setenv("UDC_CONFIG", conf_path, 1);
    ck_assert_str_eq(udc_config_default_path(), conf_path);
    write_conf("writer = { batch_size = 3; };");
    ck_assert_int_eq(udc_config_check(NULL), 0);
    write_conf("writer = { batch_sise = 3; };");
    ck_assert_int_eq(udc_config_check(conf_path), 1);
}
END_TEST

START_TEST(listen_parse_accepts_and_rejects)
{
    char host[64];
    unsigned short port;
    ck_assert_int_eq(udc_listen_parse("127.0.0.1:30001", host, sizeof host, &port), 0);
    ck_assert_str_eq(host, "127.0.0.1");
    ck_assert_uint_eq(port, 30001);
    ck_assert_int_eq(udc_listen_parse("api.example-1.org:1", host, sizeof host, &port), 0);
    ck_assert_str_eq(host, "api.example-1.org");
    ck_assert_uint_eq(port, 1);
    ck_assert_int_eq(udc_listen_parse("[::1]:65535", host, sizeof host, &port), 0);
    ck_assert_str_eq(host, "::1");
    ck_assert_uint_eq(port, 65535);
    ck_assert_int_eq(udc_listen_parse("[fe80::1%eth0]:80", host, sizeof host, &port), 0);
    ck_assert_str_eq(host, "fe80::1%eth0");

    static const char *bad[] = {"",         "host",        ":80",   "h:",      "h:0",
                                "h:65536",  "h:8o",        "h:+80", "::1:80",  "[::1]80",
                                "[::1]",    "[nothex]:80", "[]:80", "h st:80", "h:80 ",
                                "h:123456", "[::1%]:80",   "a/b:80"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(udc_listen_parse(bad[i], host, sizeof host, &port) == -1, "'%s' accepted",
                      bad[i]);
    char tiny[4];
    ck_assert_int_eq(udc_listen_parse("abcd:1", tiny, sizeof tiny, &port), -1);
    ck_assert_int_eq(udc_listen_parse("abc:1", tiny, sizeof tiny, &port), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, sample_file_loads);
    tcase_add_test(tc, empty_file_gets_the_sample_values);
    tcase_add_test(tc, partial_file_keeps_other_defaults);
    tcase_add_test(tc, misspelt_key_names_file_and_line);
    tcase_add_test(tc, misspelt_section_names_file_and_line);
    tcase_add_test(tc, wrong_types_are_errors);
    tcase_add_test(tc, out_of_range_values_are_errors);
    tcase_add_test(tc, syntax_error_names_file_and_line);
    tcase_add_test(tc, missing_file_is_an_error);
    tcase_add_test(tc, env_overrides_scalars);
    tcase_add_test(tc, env_overrides_lists);
    tcase_add_test(tc, invalid_env_values_name_the_variable);
    tcase_add_test(tc, passwords_go_into_the_urls);
    tcase_add_test(tc, amqp_password_needs_a_user);
    tcase_add_test(tc, amqp_url_precedence);
    tcase_add_test(tc, free_clears_and_is_idempotent);
    tcase_add_test(tc, default_path_and_check);
    tcase_add_test(tc, listen_parse_accepts_and_rejects);
    suite_add_tcase(s, tc);
    return udc_test_run(s);
}
