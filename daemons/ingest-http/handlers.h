/* handlers.h — udc-ingest-http's routes: POST /api/locations and POST /api/locations/batch.
 *
 * A request is validated on the HTTP thread, then suspended until the broker confirms its
 * message: 202 only after the confirm, 503 + Retry-After when the broker is away or the
 * confirm does not come in time, 400/415 for bad input. Never a 2xx for an unconfirmed ping.
 */
#ifndef UDC_INGEST_HANDLERS_H
#define UDC_INGEST_HANDLERS_H

#include "config.h"
#include "http.h"
#include "publisher.h"

struct ingest {
    const struct udc_config *cfg;
    struct publisher *publisher;
};

void ingest_metrics_init(struct ingest *in);
/* Mounts both routes on server. */
int ingest_routes(struct udc_http_server *server, struct ingest *in);

#endif
