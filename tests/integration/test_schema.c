/* Integration tests of the database schema (schema/migrations), the default seed
 * (schema/seed) and scripts/migrate, against the database in UDC_DB_URL (migrations and
 * seed applied by the harness). Changes are rolled back or removed afterwards. */
#include <check.h>
#include <errno.h>
#include <libpq-fe.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "suite_run.h"

#define MAX_ROWS 256

static PGconn *connect_db(void)
{
    const char *url = getenv("UDC_DB_URL");
    ck_assert_msg(url != NULL && *url != '\0', "UDC_DB_URL is not set");
    PGconn *conn = PQconnectdb(url);
    ck_assert_msg(PQstatus(conn) == CONNECTION_OK, "cannot connect: %s", PQerrorMessage(conn));
    return conn;
}

/* Runs a parameterised query that must succeed; the caller clears the result. */
static PGresult *query(PGconn *conn, const char *sql, int nparams, const char *const *params)
{
    PGresult *res = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(res);
    ck_assert_msg(st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK, "%s: %s", sql,
                  PQresultErrorMessage(res));
    return res;
}

static long query_long(PGconn *conn, const char *sql, int nparams, const char *const *params)
{
    PGresult *res = query(conn, sql, nparams, params);
    ck_assert_int_eq(PQntuples(res), 1);
    long v = strtol(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return v;
}

/* The checkout: the first folder at or above the working directory, then above this
 * program, that holds scripts/migrate. */
static void find_repo(char *out, size_t size)
{
    char dir[PATH_MAX], probe[PATH_MAX + 32];
    for (int from_exe = 0; from_exe < 2; from_exe++) {
        if (from_exe) {
            ssize_t n = readlink("/proc/self/exe", dir, sizeof dir - 1);
            ck_assert_int_gt(n, 0);
            dir[n] = '\0';
        } else {
            ck_assert_ptr_nonnull(getcwd(dir, sizeof dir));
        }
        for (;;) {
            snprintf(probe, sizeof probe, "%s/scripts/migrate", dir);
            if (access(probe, X_OK) == 0) {
                snprintf(out, size, "%s", dir);
                return;
            }
            char *slash = strrchr(dir, '/');
            if (slash == NULL || slash == dir)
                break;
            *slash = '\0';
        }
    }
    ck_abort_msg("scripts/migrate not found above the working directory or the test binary");
}

/* One row of schema/seed/locations.csv. */
struct seed_location {
    char id[16], person_id[16], latitude[32], longitude[32], creation_time[40];
};

static int read_seed_locations(struct seed_location *rows, int max)
{
    char repo[PATH_MAX], path[PATH_MAX + 32], line[256];
    find_repo(repo, sizeof repo);
    snprintf(path, sizeof path, "%s/schema/seed/locations.csv", repo);
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
    int n = 0;
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f)); /* header */
    line[strcspn(line, "\r\n")] = '\0';                 /* the file has CRLF line ends */
    ck_assert_str_eq(line, "id,person_id,latitude,longitude,creation_time");
    while (n < max && fgets(line, sizeof line, f) != NULL) {
        line[strcspn(line, "\r\n")] = '\0';
        struct seed_location *r = &rows[n];
        int got = sscanf(line, "%15[^,],%15[^,],%31[^,],%31[^,],%39[^\n]", r->id, r->person_id,
                         r->latitude, r->longitude, r->creation_time);
        ck_assert_int_eq(got, 5);
        n++;
    }
    fclose(f);
    return n;
}

/* Runs scripts/migrate --db UDC_DB_URL [--dir DIR]; returns its exit status and stores
 * its combined output in out. No shell: the URL is passed as one argument. */
static int run_migrate(const char *dir, char *out, size_t size)
{
    char repo[PATH_MAX], script[PATH_MAX + 32];
    find_repo(repo, sizeof repo);
    snprintf(script, sizeof script, "%s/scripts/migrate", repo);
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        dup2(fds[1], STDERR_FILENO);
        close(fds[0]);
        close(fds[1]);
        const char *argv[] = {script, "--db", getenv("UDC_DB_URL"), dir ? "--dir" : NULL,
                              dir,    NULL};
        execv(script, (char *const *)argv);
        _exit(127);
    }
    close(fds[1]);
    size_t len = 0;
    ssize_t n;
    while ((n = read(fds[0], out + len, size - 1 - len)) > 0)
        len += (size_t)n;
    out[len] = '\0';
    close(fds[0]);
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

START_TEST(tables_exist)
{
    PGconn *conn = connect_db();
    const char *tables[] = {
        "person",        "location", "connection", "connector_backfill", "schema_migrations",
        "person_version"};
    for (size_t i = 0; i < sizeof tables / sizeof *tables; i++) {
        const char *p[] = {tables[i]};
        long n = query_long(conn,
                            "SELECT count(*) FROM pg_tables "
                            "WHERE schemaname = 'public' AND tablename = $1",
                            1, p);
        ck_assert_msg(n == 1, "table %s missing", tables[i]);
    }
    /* connector_backfill is a single row starting at 0 or a real location id. */
    ck_assert_int_eq(query_long(conn, "SELECT count(*) FROM connector_backfill", 0, NULL), 1);
    PQfinish(conn);
}
END_TEST

/* "amname|col1,col2" for every index of a table, in column order. */
static int index_shapes(PGconn *conn, const char *table, char shapes[][128], int max)
{
    const char *p[] = {table};
    PGresult *res = query(conn,
                          "SELECT am.amname || '|' || array_to_string(ARRAY("
                          "  SELECT a.attname FROM unnest(i.indkey) WITH ORDINALITY k(attnum, ord)"
                          "  JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum"
                          "  ORDER BY k.ord), ',') || CASE WHEN i.indisunique THEN '|unique' "
                          "  ELSE '' END "
                          "FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                          "JOIN pg_am am ON am.oid = c.relam "
                          "WHERE i.indrelid = $1::regclass",
                          1, p);
    int n = PQntuples(res) < max ? PQntuples(res) : max;
    for (int r = 0; r < n; r++)
        snprintf(shapes[r], sizeof shapes[r], "%s", PQgetvalue(res, r, 0));
    PQclear(res);
    return n;
}

static int has_shape(char shapes[][128], int n, const char *want)
{
    for (int i = 0; i < n; i++)
        if (strcmp(shapes[i], want) == 0)
            return 1;
    return 0;
}

START_TEST(location_indexes_exist)
{
    PGconn *conn = connect_db();
    char shapes[32][128];
    int n = index_shapes(conn, "location", shapes, 32);
    ck_assert_msg(has_shape(shapes, n, "gist|coordinate"), "no GiST index on coordinate");
    ck_assert_msg(has_shape(shapes, n, "btree|person_id,creation_time"),
                  "no btree on (person_id, creation_time)");
    ck_assert_msg(has_shape(shapes, n, "btree|creation_time"), "no btree on creation_time");
    ck_assert_msg(has_shape(shapes, n, "btree|event_id|unique"), "event_id not unique");
    ck_assert_msg(has_shape(shapes, n, "btree|id|unique"), "no primary key on id");

    n = index_shapes(conn, "connection", shapes, 32);
    ck_assert_msg(has_shape(shapes, n, "btree|location_id,other_location_id|unique"),
                  "connection primary key");
    ck_assert_msg(has_shape(shapes, n,
                            "btree|person_id,other_person_id,other_location_id,"
                            "creation_time,other_creation_time,distance_m"),
                  "connection index by person and other side");
    PQfinish(conn);
}
END_TEST

START_TEST(seed_people_are_loaded_with_their_ids)
{
    PGconn *conn = connect_db();
    long n = query_long(conn,
                        "SELECT count(*) FROM person WHERE (id, first_name, last_name, "
                        "company_name) IN ((1, 'Pam', 'Trexler', 'Hampton, Hampton and McQuill'),"
                        " (5, 'Taco', 'Fargo', 'Alpha Omega Upholstery'), (6, 'Frank', 'Shader',"
                        " 'USDA'), (8, 'Paul', 'Badman', 'Paul Badman & Associates'), (9, 'Otto',"
                        " 'Spring', 'The Chicken Sisters Restaurant'))",
                        0, NULL);
    ck_assert_int_eq(n, 5);
    PQfinish(conn);
}
END_TEST

/* Every seed row: same id and person, latitude is y and longitude is x, time taken as UTC. */
START_TEST(seed_locations_match_the_csv)
{
    static struct seed_location rows[MAX_ROWS];
    int nrows = read_seed_locations(rows, MAX_ROWS);
    ck_assert_int_eq(nrows, 39);
    PGconn *conn = connect_db();
    for (int i = 0; i < nrows; i++) {
        const char *p[] = {rows[i].id};
        PGresult *res = query(conn,
                              "SELECT person_id, ST_Y(coordinate::geometry), "
                              "ST_X(coordinate::geometry), "
                              "extract(epoch FROM creation_time)::bigint, source, "
                              "event_id = md5('seed-location-' || id)::uuid "
                              "FROM location WHERE id = $1",
                              1, p);
        ck_assert_msg(PQntuples(res) == 1, "seed location %s missing", rows[i].id);
        ck_assert_str_eq(PQgetvalue(res, 0, 0), rows[i].person_id);
        ck_assert_double_eq_tol(strtod(PQgetvalue(res, 0, 1), NULL), strtod(rows[i].latitude, NULL),
                                1e-9);
        ck_assert_double_eq_tol(strtod(PQgetvalue(res, 0, 2), NULL),
                                strtod(rows[i].longitude, NULL), 1e-9);
        struct tm tm = {0};
        ck_assert_ptr_nonnull(strptime(rows[i].creation_time, "%Y-%m-%d %H:%M:%S", &tm));
        ck_assert_int_eq(strtoll(PQgetvalue(res, 0, 3), NULL, 10), (long long)timegm(&tm));
        ck_assert_str_eq(PQgetvalue(res, 0, 4), "seed");
        ck_assert_str_eq(PQgetvalue(res, 0, 5), "t");
        PQclear(res);
    }
    PQfinish(conn);
}
END_TEST

/* The seed inserted explicit ids; inserts without one must still get fresh ids. */
START_TEST(sequences_are_past_the_seed_ids)
{
    PGconn *conn = connect_db();
    PQclear(query(conn, "BEGIN", 0, NULL));
    long person = query_long(conn,
                             "INSERT INTO person (first_name, last_name, company_name) "
                             "VALUES ('Test', 'Sequence', 'Schema Tests') RETURNING id",
                             0, NULL);
    ck_assert_int_gt(person, 9);
    char person_id[32];
    snprintf(person_id, sizeof person_id, "%ld", person);
    const char *p[] = {person_id};
    long location = query_long(conn,
                               "INSERT INTO location (event_id, person_id, coordinate, "
                               "creation_time, source) VALUES (gen_random_uuid(), $1, "
                               "ST_SetSRID(ST_MakePoint(-122.29, 37.55), 4326)::geography, "
                               "now(), 'test') RETURNING id",
                               1, p);
    ck_assert_int_gt(location, 68);
    PQclear(query(conn, "ROLLBACK", 0, NULL));
    PQfinish(conn);
}
END_TEST

/* udc-api keeps its list of people until person_version moves: every kind of change of
 * person must move it, once per statement, and reads must not. */
START_TEST(person_version_moves_with_every_change_of_person)
{
    PGconn *conn = connect_db();
    const char *version = "SELECT version FROM person_version";
    ck_assert_int_eq(query_long(conn, "SELECT count(*) FROM person_version", 0, NULL), 1);
    PQclear(query(conn, "BEGIN", 0, NULL));
    long v = query_long(conn, version, 0, NULL);
    PQclear(query(conn, "SELECT * FROM person", 0, NULL));
    ck_assert_int_eq(query_long(conn, version, 0, NULL), v);
    PQclear(query(conn,
                  "INSERT INTO person (first_name, last_name, company_name) "
                  "VALUES ('Ver', 'One', 'Schema Tests'), ('Ver', 'Two', 'Schema Tests')",
                  0, NULL));
    ck_assert_int_eq(query_long(conn, version, 0, NULL), v + 1);
    PQclear(query(conn, "UPDATE person SET last_name = 'Three' WHERE first_name = 'Ver'", 0, NULL));
    ck_assert_int_eq(query_long(conn, version, 0, NULL), v + 2);
    PQclear(query(conn, "DELETE FROM person WHERE first_name = 'Ver'", 0, NULL));
    ck_assert_int_eq(query_long(conn, version, 0, NULL), v + 3);
    PQclear(query(conn, "TRUNCATE person CASCADE", 0, NULL));
    ck_assert_int_eq(query_long(conn, version, 0, NULL), v + 4);
    PQclear(query(conn, "ROLLBACK", 0, NULL));
    ck_assert_int_eq(query_long(conn, version, 0, NULL), v); /* moves only with a commit */
    PQfinish(conn);
}
END_TEST

START_TEST(duplicate_event_id_is_rejected)
{
    PGconn *conn = connect_db();
    PQclear(query(conn, "BEGIN", 0, NULL));
    PGresult *res = PQexec(conn, "INSERT INTO location (event_id, person_id, coordinate, "
                                 "creation_time) SELECT event_id, person_id, coordinate, "
                                 "creation_time FROM location WHERE id = 29");
    ck_assert_int_eq(PQresultStatus(res), PGRES_FATAL_ERROR);
    ck_assert_str_eq(PQresultErrorField(res, PG_DIAG_SQLSTATE), "23505"); /* unique_violation */
    ck_assert_ptr_nonnull(strstr(PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME), "event_id"));
    PQclear(res);
    PQclear(query(conn, "ROLLBACK", 0, NULL));
    PQfinish(conn);
}
END_TEST

START_TEST(connection_rejects_a_pair_of_one_person)
{
    PGconn *conn = connect_db();
    PQclear(query(conn, "BEGIN", 0, NULL));
    PGresult *res = PQexec(conn, "INSERT INTO connection SELECT 36, 37, 1, 1, 0, now(), now()");
    ck_assert_int_eq(PQresultStatus(res), PGRES_FATAL_ERROR);
    ck_assert_str_eq(PQresultErrorField(res, PG_DIAG_SQLSTATE), "23514"); /* check_violation */
    PQclear(res);
    PQclear(query(conn, "ROLLBACK", 0, NULL));
    PQfinish(conn);
}
END_TEST

/* The co-presence query is an index-only scan: the connector's inserts must be vacuumed
 * often enough for the visibility map to mark their pages (0007). */
START_TEST(connection_is_vacuumed_after_inserts)
{
    PGconn *conn = connect_db();
    long n = query_long(conn,
                        "SELECT count(*) FROM pg_class, unnest(reloptions) o "
                        "WHERE oid = 'connection'::regclass AND o IN "
                        "('autovacuum_vacuum_insert_scale_factor=0', "
                        "'autovacuum_vacuum_insert_threshold=20000')",
                        0, NULL);
    ck_assert_int_eq(n, 2);
    PQfinish(conn);
}
END_TEST

/* Autovacuum and pg_restore evaluate index expressions with an empty search_path: the
 * location_cell index (0008, 0009) must work there, or the table is never vacuumed. */
START_TEST(location_cell_works_without_a_search_path)
{
    PGconn *conn = connect_db();
    PQclear(query(conn, "SET search_path = ''", 0, NULL));
    ck_assert_int_gt(query_long(conn,
                                "SELECT count(DISTINCT public.location_cell(coordinate)) "
                                "FROM public.location",
                                0, NULL),
                     0);
    PQclear(query(conn, "VACUUM (ANALYZE) public.location", 0, NULL));
    PQfinish(conn);
}
END_TEST

START_TEST(migrate_again_applies_nothing)
{
    static char out[16384];
    PGconn *conn = connect_db();
    /* Count and latest applied_at: both unchanged when nothing is applied. */
    const char *state = "SELECT count(*) || ' ' || max(applied_at) FROM schema_migrations";
    char before[128];
    PGresult *res = query(conn, state, 0, NULL);
    snprintf(before, sizeof before, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    ck_assert_int_ge(atoi(before), 6);
    for (int run = 0; run < 2; run++) {
        ck_assert_msg(run_migrate(NULL, out, sizeof out) == 0, "migrate failed: %s", out);
        ck_assert_msg(strstr(out, "applied ") == NULL, "applied something: %s", out);
        ck_assert_msg(strstr(out, "nothing to apply") != NULL, "%s", out);
        res = query(conn, state, 0, NULL);
        ck_assert_str_eq(PQgetvalue(res, 0, 0), before);
        PQclear(res);
    }
    PQfinish(conn);
}
END_TEST

/* A folder with the real migrations plus extra ones, for probing migrate itself. */
static void make_migrations_dir(char *dir, size_t size, const char *extra_name,
                                const char *extra_sql)
{
    char repo[PATH_MAX], cmd[PATH_MAX * 3], path[PATH_MAX + 64];
    find_repo(repo, sizeof repo);
    snprintf(dir, size, "/tmp/udc-test-migrations.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(cmd, sizeof cmd, "cp '%s'/schema/migrations/*.sql '%s'/", repo, dir);
    ck_assert_int_eq(system(cmd), 0);
    snprintf(path, sizeof path, "%s/%s", dir, extra_name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(extra_sql, f);
    fclose(f);
}

static void remove_dir(const char *dir)
{
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

START_TEST(migrate_applies_a_new_migration_once)
{
    static char out[16384];
    char dir[PATH_MAX], sql[256], table[64];
    snprintf(table, sizeof table, "udc_probe_%ld", (long)getpid());
    snprintf(sql, sizeof sql, "CREATE TABLE %s (x int);\nINSERT INTO %s VALUES (1);\n", table,
             table);
    make_migrations_dir(dir, sizeof dir, "9999_probe.sql", sql);
    PGconn *conn = connect_db();
    const char *p[] = {table};

    int rc = run_migrate(dir, out, sizeof out);
    ck_assert_msg(rc == 0, "migrate failed: %s", out);
    ck_assert_msg(strstr(out, "applied 9999_probe") != NULL, "%s", out);
    ck_assert_msg(strstr(out, "applied 0001") == NULL, "re-applied: %s", out);
    rc = run_migrate(dir, out, sizeof out);
    ck_assert_msg(rc == 0 && strstr(out, "nothing to apply") != NULL, "second run: %s", out);
    ck_assert_int_eq(
        query_long(conn, "SELECT count(*) FROM schema_migrations WHERE version = '9999'", 0, NULL),
        1);
    ck_assert_int_eq(query_long(conn, "SELECT count(*) FROM pg_tables WHERE tablename = $1", 1, p),
                     1);

    char drop[128];
    snprintf(drop, sizeof drop, "DROP TABLE %s", table);
    PQclear(query(conn, drop, 0, NULL));
    PQclear(query(conn, "DELETE FROM schema_migrations WHERE version = '9999'", 0, NULL));
    PQfinish(conn);
    remove_dir(dir);
}
END_TEST

START_TEST(failed_migration_is_rolled_back)
{
    static char out[16384];
    char dir[PATH_MAX], sql[256], table[64];
    snprintf(table, sizeof table, "udc_probe_broken_%ld", (long)getpid());
    snprintf(sql, sizeof sql, "CREATE TABLE %s (x int);\nSELECT 1 / 0;\n", table);
    make_migrations_dir(dir, sizeof dir, "9998_broken.sql", sql);
    PGconn *conn = connect_db();
    const char *p[] = {table};

    int rc = run_migrate(dir, out, sizeof out);
    ck_assert_msg(rc != 0, "a failing migration reported success: %s", out);
    ck_assert_msg(strstr(out, "9998_broken") != NULL, "error does not name the file: %s", out);
    ck_assert_int_eq(
        query_long(conn, "SELECT count(*) FROM schema_migrations WHERE version = '9998'", 0, NULL),
        0);
    ck_assert_int_eq(query_long(conn, "SELECT count(*) FROM pg_tables WHERE tablename = $1", 1, p),
                     0);
    PQfinish(conn);
    remove_dir(dir);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("schema");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, tables_exist);
    tcase_add_test(tc, location_indexes_exist);
    tcase_add_test(tc, seed_people_are_loaded_with_their_ids);
    tcase_add_test(tc, seed_locations_match_the_csv);
    tcase_add_test(tc, sequences_are_past_the_seed_ids);
    tcase_add_test(tc, person_version_moves_with_every_change_of_person);
    tcase_add_test(tc, duplicate_event_id_is_rejected);
    tcase_add_test(tc, connection_rejects_a_pair_of_one_person);
    tcase_add_test(tc, connection_is_vacuumed_after_inserts);
    tcase_add_test(tc, location_cell_works_without_a_search_path);
    tcase_add_test(tc, migrate_again_applies_nothing);
    tcase_add_test(tc, migrate_applies_a_new_migration_once);
    tcase_add_test(tc, failed_migration_is_rolled_back);
    suite_add_tcase(s, tc);
    return udc_test_run(s);
}
