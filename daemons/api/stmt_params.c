/* stmt_params.c — see stmt_params.h. */
#include "stmt_params.h"

#include <inttypes.h>
#include <stdio.h>

static char *next_slot(struct stmt_params *p)
{
    if (p->n >= STMT_PARAMS_MAX)
        return NULL;
    p->values[p->n] = p->text[p->n];
    return p->text[p->n++];
}

void stmt_param_int(struct stmt_params *p, int64_t v)
{
    char *slot = next_slot(p);
    if (slot)
        snprintf(slot, sizeof p->text[0], "%" PRId64, v);
}

void stmt_param_double(struct stmt_params *p, double v)
{
    char *slot = next_slot(p);
    if (slot)
        snprintf(slot, sizeof p->text[0], "%.17g", v);
}

void stmt_param_opt_int(struct stmt_params *p, int present, int64_t v)
{
    char *slot = next_slot(p);
    if (slot && present)
        snprintf(slot, sizeof p->text[0], "%" PRId64, v);
    else if (slot)
        p->values[p->n - 1] = NULL;
}
