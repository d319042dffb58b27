/* persons_cache.h — the rendered answer of GET /api/persons without parameters (every
 * person), kept until the database says that person changed.
 *
 *   struct api_body *b = persons_cache_get(cache, version);   // version: person_version
 *   if (!b) { render; b = persons_cache_put(cache, version, &jbuf); }
 *   return api_respond_body(req, b);                         // b's reference goes with it
 *
 * Why: rendering the list (a query of every row, quoting, the ETag) cost far more than
 * sending it. Invalidation comes from the database, not from this process, so several API
 * instances and changes made with psql are all seen: schema/migrations/0006_person_version.sql
 * bumps person_version.version in every transaction that changes person, and each request
 * reads it (one tiny query) before trusting the cache. The version must be read BEFORE the
 * rows are: then the rows are at least as new as the version they are filed under, and a
 * change committed in between only costs one more rendering.
 *
 * Thread-safety: every function may be called from any thread at once. A mutex guards the
 * pointer swap and the reference taken under it, never a query or a rendering.
 */
#ifndef UDC_API_PERSONS_CACHE_H
#define UDC_API_PERSONS_CACHE_H

#include <stdint.h>

#include "api.h"

struct persons_cache;

/* NULL when memory runs out. */
struct persons_cache *persons_cache_new(void);
void persons_cache_free(struct persons_cache *c);

/* The cached answer, with a reference for the caller, when it was rendered at version;
 * otherwise NULL. */
struct api_body *persons_cache_get(struct persons_cache *c, int64_t version);

/* Makes an answer of j (taking its buffer, as api_body_new) and keeps it as the one for
 * version, replacing the previous one. Returns it with a reference for the caller, or NULL
 * when j failed or memory ran out (the cache is then left as it was). */
struct api_body *persons_cache_put(struct persons_cache *c, int64_t version, struct jbuf *j);

#endif
