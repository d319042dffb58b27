/* backoff.h — capped exponential backoff with full jitter, for reconnect loops.
 *
 * Each failure doubles the ceiling (from base_ms up to max_ms); the wait is a random value
 * in [ceiling/2, ceiling] so that many daemons restarting together do not reconnect in step.
 * A success resets it.
 */
#ifndef UDC_BACKOFF_H
#define UDC_BACKOFF_H

#include <stdint.h>

struct udc_backoff {
    uint32_t base_ms;
    uint32_t max_ms;
    uint32_t attempt;    /* failures since the last success */
    uint64_t next_at_ms; /* monotonic time before which no attempt should be made */
    uint32_t seed;
};

void udc_backoff_init(struct udc_backoff *b, uint32_t base_ms, uint32_t max_ms);
/* Record a failure at now_ms; returns the chosen wait in ms. */
uint32_t udc_backoff_fail(struct udc_backoff *b, uint64_t now_ms);
void udc_backoff_reset(struct udc_backoff *b);
/* 1 when an attempt may be made at now_ms. */
int udc_backoff_ready(const struct udc_backoff *b, uint64_t now_ms);

/* Monotonic clock in milliseconds and microseconds. */
uint64_t udc_now_ms(void);
uint64_t udc_now_us(void);
/* Wall clock, microseconds since the Unix epoch. */
int64_t udc_wall_us(void);

#endif
