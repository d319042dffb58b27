/* backoff.c — see backoff.h. */
#include "backoff.h"

#include <time.h>
#include <unistd.h>

void udc_backoff_init(struct udc_backoff *b, uint32_t base_ms, uint32_t max_ms)
{
    b->base_ms = base_ms ? base_ms : 1;
    b->max_ms = max_ms < b->base_ms ? b->base_ms : max_ms;
    b->attempt = 0;
    b->next_at_ms = 0;
    b->seed = (uint32_t)getpid() ^ (uint32_t)udc_now_us();
}

static uint32_t next_random(uint32_t *state)
{
    /* xorshift32: jitter only needs to decorrelate daemons, not be unpredictable. */
    uint32_t x = *state ? *state : 0x9e3779b9u;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *state = x;
    return x;
}

uint32_t udc_backoff_fail(struct udc_backoff *b, uint64_t now_ms)
{
    uint64_t ceiling = b->base_ms;
    for (uint32_t i = 0; i < b->attempt && ceiling < b->max_ms; i++)
        ceiling *= 2;
    if (ceiling > b->max_ms)
        ceiling = b->max_ms;
    if (b->attempt < 64)
        b->attempt++;
    uint32_t half = (uint32_t)(ceiling / 2);
    uint32_t wait = half + next_random(&b->seed) % ((uint32_t)ceiling - half + 1);
    b->next_at_ms = now_ms + wait;
    return wait;
}

void udc_backoff_reset(struct udc_backoff *b)
{
    b->attempt = 0;
    b->next_at_ms = 0;
}

int udc_backoff_ready(const struct udc_backoff *b, uint64_t now_ms)
{
    return now_ms >= b->next_at_ms;
}

uint64_t udc_now_ms(void)
{
    return udc_now_us() / 1000;
}

uint64_t udc_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int64_t udc_wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}
