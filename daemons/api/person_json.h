/* person_json.h — the POC's Person and Location objects, written from query rows.
 *
 * Person:   {"id": 1, "first_name": "…", "last_name": "…", "company_name": "…"}
 * Location: {"id": 29, "person_id": 1, "longitude": "-122.290524", "latitude": "37.553441",
 *            "creation_time": "2020-08-18T10:37:06"}
 * Latitude and longitude stay strings, as in the POC; unlike the POC they are the true
 * latitude (y) and longitude (x).
 */
#ifndef UDC_API_PERSON_JSON_H
#define UDC_API_PERSON_JSON_H

#include <libpq-fe.h>

#include "jbuf.h"

/* Columns col..col+3: id, first_name, last_name, company_name. */
void person_json(struct jbuf *j, const PGresult *res, int row, int col);
/* Columns col..col+4: id, person_id, latitude text, longitude text, creation_time µs. */
void location_row_json(struct jbuf *j, const PGresult *res, int row, int col);

#endif
