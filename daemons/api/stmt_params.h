/* stmt_params.h — the text parameters of one prepared statement, formatted in place:
 *
 *   struct stmt_params p = {0};
 *   stmt_param_int(&p, person);
 *   stmt_param_opt_int(&p, q.has_limit, q.limit + 1);   (SQL NULL when absent)
 *   res = api_query(db, req, "stmt", p.n, p.values, &rc);
 *
 * Integers in decimal, doubles with 17 significant digits (they read back exactly). At most
 * STMT_PARAMS_MAX parameters; more are ignored (n stays at the maximum).
 */
#ifndef UDC_API_STMT_PARAMS_H
#define UDC_API_STMT_PARAMS_H

#include <stdint.h>

#define STMT_PARAMS_MAX 8

struct stmt_params {
    char text[STMT_PARAMS_MAX][32];
    const char *values[STMT_PARAMS_MAX];
    int n;
};

void stmt_param_int(struct stmt_params *p, int64_t v);
void stmt_param_double(struct stmt_params *p, double v);
/* v when present, else SQL NULL. */
void stmt_param_opt_int(struct stmt_params *p, int present, int64_t v);

#endif
