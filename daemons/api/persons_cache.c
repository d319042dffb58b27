/* persons_cache.c — see persons_cache.h. */
#include "persons_cache.h"

#include <pthread.h>
#include <stdlib.h>

struct persons_cache {
    pthread_mutex_t lock;
    struct api_body *body; /* NULL until the first rendering; holds one reference */
    int64_t version;
};

struct persons_cache *persons_cache_new(void)
{
    struct persons_cache *c = calloc(1, sizeof *c);
    if (c && pthread_mutex_init(&c->lock, NULL) != 0) {
        free(c);
        return NULL;
    }
    return c;
}

void persons_cache_free(struct persons_cache *c)
{
    if (!c)
        return;
    api_body_release(c->body);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

struct api_body *persons_cache_get(struct persons_cache *c, int64_t version)
{
    pthread_mutex_lock(&c->lock);
    struct api_body *b = c->body && c->version == version ? api_body_ref(c->body) : NULL;
    pthread_mutex_unlock(&c->lock);
    return b;
}

struct api_body *persons_cache_put(struct persons_cache *c, int64_t version, struct jbuf *j)
{
    struct api_body *b = api_body_new(j);
    if (!b)
        return NULL;
    api_body_ref(b); /* one for the cache, one for the caller */
    pthread_mutex_lock(&c->lock);
    struct api_body *old = c->body;
    c->body = b;
    c->version = version;
    pthread_mutex_unlock(&c->lock);
    api_body_release(old);
    return b;
}
