/* db_private.h — the connection state shared by db_conn.c, db_copy.c and db_pool.c.
 * Not for daemons: they use db.h.
 */
#ifndef UDC_DB_PRIVATE_H
#define UDC_DB_PRIVATE_H

#include "backoff.h"
#include "db.h"

#define UDC_DB_ERRLEN 512

/* What the log last said about this connection, so each change is logged once. */
enum udc_db_link_state { UDC_DB_LINK_NEVER, UDC_DB_LINK_UP, UDC_DB_LINK_DOWN };

struct udc_db {
    char *url;
    char *secrets[2]; /* the URL's password as written and as decoded; scrubbed from messages */
    char *application_name;
    char target[256]; /* "host=... port=... dbname=... user=..." for logs: never the password */
    struct udc_db_statement *stmts;
    size_t nstmts;
    char **setup_sql;
    size_t nsetup;
    int connect_timeout_s;
    int statement_timeout_ms;

    PGconn *conn;
    int broken; /* a connection-level failure was seen; reconnect before reuse */
    enum udc_db_link_state link;
    struct udc_backoff backoff;

    enum udc_db_error_kind err_kind;
    char sqlstate[6];
    char errmsg[UDC_DB_ERRLEN];

    /* A statement sent with udc_db_send_prepared() whose result is not read yet. */
    int in_flight;

    /* COPY in progress: rows are escaped into this buffer and sent in chunks. */
    int in_copy;
    char *copy_buf;
    size_t copy_len;
    size_t copy_cap;
};

/* Record a failure: message, SQLSTATE from res (may be NULL), kind from both, copy to err.
 * Marks the connection broken on connection-level failures. */
void udc_db_fail(struct udc_db *db, const PGresult *res, const char *what, char *err,
                 size_t errlen);
/* Record a failure with a message of our own (no server result). */
void udc_db_fail_msg(struct udc_db *db, enum udc_db_error_kind kind, const char *msg, char *err,
                     size_t errlen);
void udc_db_clear_error(struct udc_db *db);
/* Drop the buffered COPY state without sending anything. */
void udc_db_copy_reset(struct udc_db *db);

#endif
