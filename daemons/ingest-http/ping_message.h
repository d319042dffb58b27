/* ping_message.h — one phone ping as the broker message body, written fast.
 *
 * The same JSON object as udc_location_to_json_buf() (location_json.h) — same keys, same
 * order, coordinates that read back as exactly the same doubles — without printf for the
 * usual coordinates (those with at most 9 decimals), which is most of the cost of encoding a
 * ping. Anything unusual goes through udc_location_to_json_buf() itself.
 * Pure function; thread-safe.
 */
#ifndef UDC_INGEST_PING_MESSAGE_H
#define UDC_INGEST_PING_MESSAGE_H

#include <stddef.h>

#include "location.h"

/* Writes loc into buf (NUL-terminated). Returns the length, or -1 when it does not fit or
 * loc cannot be encoded (as udc_location_to_json_buf). */
int ping_message_format(const struct udc_location *loc, char *buf, size_t size);

#endif
