/* metrics.h — Prometheus metrics: counters, gauges and histograms, rendered as text 0.0.4.
 *
 * A registry holds metric families in registration order. Each family has a fixed list of
 * label names; a child (one time series) per tuple of label values is created on first use.
 *
 *   static struct udc_counter *rejected;
 *   rejected = udc_counter_new(udc_metrics_default(), "udc_ingest_rejected_total",
 *                              "Pings rejected, by reason", 1, (const char *[]){"reason"});
 *   udc_counter_inc(rejected, (const char *[]){"bad_latitude"}, 1);
 *
 *   char *text = udc_metrics_render(udc_metrics_default(), &len);   ... free(text);
 *
 * Label values are passed as an array of as many strings as the family has label names
 * (NULL for a family without labels; a NULL entry counts as ""). Keep label values few and
 * bounded (reasons, routes, statuses) — never ids or raw paths.
 *
 * Thread-safety: everything here may be called from any thread. Observations are lock-free
 * atomics; a mutex is taken only when a new child or family is created and while rendering.
 * Families and children live until udc_metrics_free(); pointers to families stay valid.
 */
#ifndef UDC_METRICS_H
#define UDC_METRICS_H

#include <stddef.h>
#include <stdint.h>

struct udc_metrics;
struct udc_counter;
struct udc_gauge;
struct udc_histogram;

/* Value of a callback gauge, read at scrape time (on the scraping thread). */
typedef double (*udc_gauge_fn)(void *ctx);

struct udc_metrics *udc_metrics_new(void);
void udc_metrics_free(struct udc_metrics *reg);
/* The process-wide registry every daemon's /metrics serves; created on first use, never
 * freed. */
struct udc_metrics *udc_metrics_default(void);

/* Registration. Names must match [a-zA-Z_:][a-zA-Z0-9_:]*, label names [a-zA-Z_][a-zA-Z0-9_]*
 * (and not "le" for histograms). A counter's name gets "_total" appended if it lacks it.
 * Registering a name again with the same type and label names returns the existing family,
 * so modules may register what they use independently; a conflicting registration or a bad
 * name returns NULL (and is logged). The strings are copied. */
struct udc_counter *udc_counter_new(struct udc_metrics *reg, const char *name, const char *help,
                                    size_t nlabels, const char *const *label_names);
struct udc_gauge *udc_gauge_new(struct udc_metrics *reg, const char *name, const char *help,
                                size_t nlabels, const char *const *label_names);
/* Bucket upper bounds must be finite and strictly increasing; +Inf is implicit. */
struct udc_histogram *udc_histogram_new(struct udc_metrics *reg, const char *name, const char *help,
                                        size_t nlabels, const char *const *label_names,
                                        size_t nbounds, const double *bounds);
/* An unlabelled gauge whose value is fn(ctx) at each scrape. ctx must outlive the registry
 * or the family must be unregistered with udc_metrics_remove(). Returns 0 or -1. */
int udc_gauge_fn_new(struct udc_metrics *reg, const char *name, const char *help, udc_gauge_fn fn,
                     void *ctx);
/* Remove a family by name (e.g. a callback gauge whose ctx is going away). Returns 0 if found.
 * Callers must no longer use a handle of a removed counter/gauge/histogram. */
int udc_metrics_remove(struct udc_metrics *reg, const char *name);

/* Observations. NULL handles are ignored, so a failed registration never crashes a caller. */
void udc_counter_add(struct udc_counter *c, const char *const *label_values, uint64_t n);
static inline void udc_counter_inc(struct udc_counter *c, const char *const *label_values,
                                   uint64_t n)
{
    udc_counter_add(c, label_values, n);
}
void udc_gauge_set(struct udc_gauge *g, const char *const *label_values, double value);
void udc_gauge_add(struct udc_gauge *g, const char *const *label_values, double delta);
void udc_histogram_observe(struct udc_histogram *h, const char *const *label_values, double value);

/* Current values, mainly for tests and for daemons that log them. A child that was never
 * touched reads as 0. */
uint64_t udc_counter_get(struct udc_counter *c, const char *const *label_values);
double udc_gauge_get(struct udc_gauge *g, const char *const *label_values);
uint64_t udc_histogram_count(struct udc_histogram *h, const char *const *label_values);

/* Prometheus text exposition format 0.0.4: families in registration order, children sorted
 * by label values. Returns a malloc'd NUL-terminated string (caller frees) and its length in
 * *len (if len is not NULL), or NULL when out of memory. */
char *udc_metrics_render(struct udc_metrics *reg, size_t *len);

/* Content-Type of the rendered text. */
#define UDC_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

#endif
