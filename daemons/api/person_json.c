/* person_json.c — see person_json.h. */
#include "person_json.h"

#include "api.h"

void person_json(struct jbuf *j, const PGresult *res, int row, int col)
{
    jbuf_obj_begin(j);
    jbuf_int(j, "id", api_col_int(res, row, col));
    jbuf_str(j, "first_name", api_col_text(res, row, col + 1));
    jbuf_str(j, "last_name", api_col_text(res, row, col + 2));
    jbuf_str(j, "company_name", api_col_text(res, row, col + 3));
    jbuf_obj_end(j);
}

void location_row_json(struct jbuf *j, const PGresult *res, int row, int col)
{
    jbuf_obj_begin(j);
    jbuf_int(j, "id", api_col_int(res, row, col));
    jbuf_int(j, "person_id", api_col_int(res, row, col + 1));
    jbuf_str(j, "latitude", api_col_text(res, row, col + 2));
    jbuf_str(j, "longitude", api_col_text(res, row, col + 3));
    jbuf_time(j, "creation_time", api_col_int(res, row, col + 4));
    jbuf_obj_end(j);
}
