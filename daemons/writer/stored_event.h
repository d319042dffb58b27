/* stored_event.h — the body of a location.stored event: the rows one batch stored.
 *
 *   {"locations":[{"id":42,"event_id":"…","person_id":1,"latitude":37.55,
 *                  "longitude":-122.29,"creation_time":"2020-08-18T10:37:06Z","source":"…"}]}
 *
 * The connector reads the rows by id; the other fields make the event useful on its own
 * (for operators reading the queue, and any future consumer).
 */
#ifndef UDC_WRITER_STORED_EVENT_H
#define UDC_WRITER_STORED_EVENT_H

#include <stddef.h>
#include <stdint.h>

#include "location.h"

struct stored_event {
    char *buf;
    size_t len, cap;
    size_t count;
};

void stored_event_init(struct stored_event *ev);
/* Appends one stored row; 0 or -1 (out of memory, or a ping that cannot be serialised). */
int stored_event_add(struct stored_event *ev, const struct udc_location *loc, int64_t row_id);
void stored_event_free(struct stored_event *ev);

#endif
