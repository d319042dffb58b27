/* metrics.c — Prometheus registry and text rendering. See metrics.h.
 *
 * Children of a family sit in a small fixed hash table of lock-free singly linked lists:
 * a new child is fully built, then published at the head of its list with a release store,
 * so readers walk the lists without locks. Children are never removed before the family.
 */
#include "metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define CHILD_BUCKETS 64

enum family_type { FAMILY_COUNTER, FAMILY_GAUGE, FAMILY_HISTOGRAM, FAMILY_GAUGE_FN };

struct child {
    struct child *next;
    uint64_t hash;
    char **values;
    _Atomic uint64_t value;     /* counter count, or gauge double bits */
    _Atomic uint64_t sum_bits;  /* histogram sum (double bits) */
    _Atomic uint64_t buckets[]; /* histogram: per-bucket (non-cumulative) counts, +Inf last */
};

struct family {
    struct family *next;
    enum family_type type;
    char *name;
    char *help;
    size_t nlabels;
    char **label_names;
    size_t nbounds;
    double *bounds;
    udc_gauge_fn fn;
    void *fn_ctx;
    struct child *solo; /* the only child of an unlabelled family */
    pthread_mutex_t create_lock;
    _Atomic(struct child *) children[CHILD_BUCKETS];
};

struct udc_metrics {
    pthread_mutex_t lock; /* guards the family list */
    struct family *head;
    struct family *tail;
};

/* ---- doubles stored in atomics ---- */

static uint64_t double_bits(double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    return bits;
}

static double bits_double(uint64_t bits)
{
    double v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

static void atomic_add_double(_Atomic uint64_t *slot, double delta)
{
    uint64_t old = atomic_load_explicit(slot, memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(slot, &old, double_bits(bits_double(old) + delta),
                                                  memory_order_relaxed, memory_order_relaxed)) {
    }
}

/* ---- names ---- */

static bool valid_metric_name(const char *s)
{
    if (s == NULL || *s == '\0' || (*s >= '0' && *s <= '9'))
        return false;
    for (; *s; s++) {
        char c = *s;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == ':'))
            return false;
    }
    return true;
}

static bool valid_label_name(const char *s)
{
    return valid_metric_name(s) && strchr(s, ':') == NULL && strncmp(s, "__", 2) != 0;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* ---- registry ---- */

struct udc_metrics *udc_metrics_new(void)
{
    struct udc_metrics *reg = calloc(1, sizeof *reg);
    if (reg != NULL)
        pthread_mutex_init(&reg->lock, NULL);
    return reg;
}

static void child_free(struct child *c, size_t nlabels)
{
    for (size_t i = 0; i < nlabels; i++)
        free(c->values[i]);
    free(c->values);
    free(c);
}

static void family_free(struct family *f)
{
    for (size_t b = 0; b < CHILD_BUCKETS; b++) {
        struct child *c = atomic_load(&f->children[b]);
        while (c != NULL) {
            struct child *next = c->next;
            child_free(c, f->nlabels);
            c = next;
        }
    }
    for (size_t i = 0; i < f->nlabels; i++)
        free(f->label_names[i]);
    free(f->label_names);
    free(f->bounds);
    free(f->name);
    free(f->help);
    pthread_mutex_destroy(&f->create_lock);
    free(f);
}

void udc_metrics_free(struct udc_metrics *reg)
{
    if (reg == NULL)
        return;
    struct family *f = reg->head;
    while (f != NULL) {
        struct family *next = f->next;
        family_free(f);
        f = next;
    }
    pthread_mutex_destroy(&reg->lock);
    free(reg);
}

static struct udc_metrics *default_registry;
static pthread_once_t default_once = PTHREAD_ONCE_INIT;

static void default_create(void)
{
    default_registry = udc_metrics_new();
}

struct udc_metrics *udc_metrics_default(void)
{
    pthread_once(&default_once, default_create);
    return default_registry;
}

/* ---- children ---- */

static uint64_t labels_hash(size_t n, const char *const *values)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        for (const char *p = values[i] ? values[i] : ""; *p; p++)
            h = (h ^ (unsigned char)*p) * 1099511628211ULL;
        h = (h ^ 0xff) * 1099511628211ULL;
    }
    return h;
}

static bool labels_equal(const struct child *c, size_t n, const char *const *values)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(c->values[i], values[i] ? values[i] : "") != 0)
            return false;
    }
    return true;
}

static struct child *child_alloc(const struct family *f, uint64_t hash, const char *const *values)
{
    size_t nbuckets = f->type == FAMILY_HISTOGRAM ? f->nbounds + 1 : 0;
    struct child *c = calloc(1, sizeof *c + nbuckets * sizeof c->buckets[0]);
    if (c == NULL)
        return NULL;
    c->hash = hash;
    c->values = calloc(f->nlabels + 1, sizeof *c->values);
    if (c->values == NULL) {
        free(c);
        return NULL;
    }
    for (size_t i = 0; i < f->nlabels; i++) {
        c->values[i] = strdup(values[i] ? values[i] : "");
        if (c->values[i] == NULL) {
            child_free(c, f->nlabels);
            return NULL;
        }
    }
    return c;
}

static struct child *find_in_list(struct child *c, uint64_t hash, size_t n,
                                  const char *const *values)
{
    for (; c != NULL; c = c->next) {
        if (c->hash == hash && labels_equal(c, n, values))
            return c;
    }
    return NULL;
}

/* The child for these label values, created on first use; NULL only when out of memory. */
static struct child *child_get(struct family *f, const char *const *values)
{
    if (f->nlabels == 0)
        return f->solo;
    static const char *const none[1] = {NULL};
    if (values == NULL)
        values = none; /* misuse: a labelled family observed without labels */
    uint64_t hash = labels_hash(f->nlabels, values);
    _Atomic(struct child *) *head = &f->children[hash % CHILD_BUCKETS];
    struct child *c =
        find_in_list(atomic_load_explicit(head, memory_order_acquire), hash, f->nlabels, values);
    if (c != NULL)
        return c;
    pthread_mutex_lock(&f->create_lock);
    struct child *first = atomic_load_explicit(head, memory_order_acquire);
    c = find_in_list(first, hash, f->nlabels, values);
    if (c == NULL) {
        c = child_alloc(f, hash, values);
        if (c != NULL) {
            c->next = first;
            atomic_store_explicit(head, c, memory_order_release);
        }
    }
    pthread_mutex_unlock(&f->create_lock);
    return c;
}

/* ---- families ---- */

static struct family *find_family(struct udc_metrics *reg, const char *name)
{
    for (struct family *f = reg->head; f != NULL; f = f->next) {
        if (strcmp(f->name, name) == 0)
            return f;
    }
    return NULL;
}

static bool same_shape(const struct family *f, enum family_type type, size_t nlabels,
                       const char *const *label_names, size_t nbounds, const double *bounds)
{
    if (f->type != type || f->nlabels != nlabels || f->nbounds != nbounds)
        return false;
    for (size_t i = 0; i < nlabels; i++) {
        if (strcmp(f->label_names[i], label_names[i]) != 0)
            return false;
    }
    for (size_t i = 0; i < nbounds; i++) {
        if (f->bounds[i] != bounds[i])
            return false;
    }
    return true;
}

static bool shape_valid(const char *name, enum family_type type, size_t nlabels,
                        const char *const *label_names, size_t nbounds, const double *bounds)
{
    if (!valid_metric_name(name))
        return false;
    if (nlabels > 0 && label_names == NULL)
        return false;
    for (size_t i = 0; i < nlabels; i++) {
        if (!valid_label_name(label_names[i]))
            return false;
        if (type == FAMILY_HISTOGRAM && strcmp(label_names[i], "le") == 0)
            return false;
        for (size_t j = 0; j < i; j++) {
            if (strcmp(label_names[i], label_names[j]) == 0)
                return false;
        }
    }
    for (size_t i = 0; i < nbounds; i++) {
        if (!isfinite(bounds[i]) || (i > 0 && bounds[i] <= bounds[i - 1]))
            return false;
    }
    return true;
}

static struct family *family_alloc(enum family_type type, const char *name, const char *help,
                                   size_t nlabels, const char *const *label_names, size_t nbounds,
                                   const double *bounds)
{
    struct family *f = calloc(1, sizeof *f);
    if (f == NULL)
        return NULL;
    pthread_mutex_init(&f->create_lock, NULL);
    f->type = type;
    f->name = strdup(name);
    f->help = strdup(help ? help : "");
    f->nlabels = nlabels;
    f->label_names = calloc(nlabels + 1, sizeof *f->label_names);
    f->nbounds = nbounds;
    f->bounds = calloc(nbounds + 1, sizeof *f->bounds);
    bool ok = f->name && f->help && f->label_names && f->bounds;
    for (size_t i = 0; ok && i < nlabels; i++)
        ok = (f->label_names[i] = strdup(label_names[i])) != NULL;
    if (ok && nbounds > 0)
        memcpy(f->bounds, bounds, nbounds * sizeof *bounds);
    if (ok && nlabels == 0) {
        f->solo = child_alloc(f, 0, NULL);
        ok = f->solo != NULL;
        atomic_store(&f->children[0], f->solo);
    }
    if (!ok) {
        family_free(f);
        return NULL;
    }
    return f;
}

static struct family *family_register(struct udc_metrics *reg, enum family_type type,
                                      const char *name, const char *help, size_t nlabels,
                                      const char *const *label_names, size_t nbounds,
                                      const double *bounds, udc_gauge_fn fn, void *fn_ctx)
{
    if (reg == NULL || !shape_valid(name, type, nlabels, label_names, nbounds, bounds)) {
        udc_log_error("metric registration refused", "name=%s", name ? name : "(null)");
        return NULL;
    }
    char full[256];
    if (type == FAMILY_COUNTER && !ends_with(name, "_total"))
        snprintf(full, sizeof full, "%s_total", name);
    else
        snprintf(full, sizeof full, "%s", name);

    pthread_mutex_lock(&reg->lock);
    struct family *f = find_family(reg, full);
    if (f != NULL) {
        if (type == FAMILY_GAUGE_FN ||
            !same_shape(f, type, nlabels, label_names, nbounds, bounds)) {
            udc_log_error("metric registered twice with different shapes", "name=%s", full);
            f = NULL;
        }
        pthread_mutex_unlock(&reg->lock);
        return f;
    }
    f = family_alloc(type, full, help, nlabels, label_names, nbounds, bounds);
    if (f != NULL) {
        f->fn = fn;
        f->fn_ctx = fn_ctx;
        if (reg->tail != NULL)
            reg->tail->next = f;
        else
            reg->head = f;
        reg->tail = f;
    }
    pthread_mutex_unlock(&reg->lock);
    return f;
}

struct udc_counter *udc_counter_new(struct udc_metrics *reg, const char *name, const char *help,
                                    size_t nlabels, const char *const *label_names)
{
    return (struct udc_counter *)family_register(reg, FAMILY_COUNTER, name, help, nlabels,
                                                 label_names, 0, NULL, NULL, NULL);
}

struct udc_gauge *udc_gauge_new(struct udc_metrics *reg, const char *name, const char *help,
                                size_t nlabels, const char *const *label_names)
{
    return (struct udc_gauge *)family_register(reg, FAMILY_GAUGE, name, help, nlabels, label_names,
                                               0, NULL, NULL, NULL);
}

struct udc_histogram *udc_histogram_new(struct udc_metrics *reg, const char *name, const char *help,
                                        size_t nlabels, const char *const *label_names,
                                        size_t nbounds, const double *bounds)
{
    return (struct udc_histogram *)family_register(reg, FAMILY_HISTOGRAM, name, help, nlabels,
                                                   label_names, nbounds, bounds, NULL, NULL);
}

int udc_gauge_fn_new(struct udc_metrics *reg, const char *name, const char *help, udc_gauge_fn fn,
                     void *ctx)
{
    if (fn == NULL)
        return -1;
    return family_register(reg, FAMILY_GAUGE_FN, name, help, 0, NULL, 0, NULL, fn, ctx) ? 0 : -1;
}

int udc_metrics_remove(struct udc_metrics *reg, const char *name)
{
    if (reg == NULL || name == NULL)
        return -1;
    pthread_mutex_lock(&reg->lock);
    struct family *prev = NULL, *f = reg->head;
    while (f != NULL && strcmp(f->name, name) != 0) {
        prev = f;
        f = f->next;
    }
    if (f != NULL) {
        if (prev != NULL)
            prev->next = f->next;
        else
            reg->head = f->next;
        if (reg->tail == f)
            reg->tail = prev;
    }
    pthread_mutex_unlock(&reg->lock);
    if (f == NULL)
        return -1;
    family_free(f);
    return 0;
}

/* ---- observations ---- */

void udc_counter_add(struct udc_counter *c, const char *const *label_values, uint64_t n)
{
    struct family *f = (struct family *)c;
    if (f == NULL)
        return;
    struct child *ch = child_get(f, label_values);
    if (ch != NULL)
        atomic_fetch_add_explicit(&ch->value, n, memory_order_relaxed);
}

void udc_gauge_set(struct udc_gauge *g, const char *const *label_values, double value)
{
    struct family *f = (struct family *)g;
    if (f == NULL)
        return;
    struct child *ch = child_get(f, label_values);
    if (ch != NULL)
        atomic_store_explicit(&ch->value, double_bits(value), memory_order_relaxed);
}

void udc_gauge_add(struct udc_gauge *g, const char *const *label_values, double delta)
{
    struct family *f = (struct family *)g;
    if (f == NULL)
        return;
    struct child *ch = child_get(f, label_values);
    if (ch != NULL)
        atomic_add_double(&ch->value, delta);
}

void udc_histogram_observe(struct udc_histogram *h, const char *const *label_values, double value)
{
    struct family *f = (struct family *)h;
    if (f == NULL)
        return;
    struct child *ch = child_get(f, label_values);
    if (ch == NULL)
        return;
    size_t i = 0;
    while (i < f->nbounds && !(value <= f->bounds[i]))
        i++;
    atomic_fetch_add_explicit(&ch->buckets[i], 1, memory_order_relaxed);
    atomic_add_double(&ch->sum_bits, value);
}

uint64_t udc_counter_get(struct udc_counter *c, const char *const *label_values)
{
    struct family *f = (struct family *)c;
    struct child *ch = f ? child_get(f, label_values) : NULL;
    return ch ? atomic_load(&ch->value) : 0;
}

double udc_gauge_get(struct udc_gauge *g, const char *const *label_values)
{
    struct family *f = (struct family *)g;
    struct child *ch = f ? child_get(f, label_values) : NULL;
    return ch ? bits_double(atomic_load(&ch->value)) : 0.0;
}

uint64_t udc_histogram_count(struct udc_histogram *h, const char *const *label_values)
{
    struct family *f = (struct family *)h;
    struct child *ch = f ? child_get(f, label_values) : NULL;
    uint64_t total = 0;
    for (size_t i = 0; ch != NULL && i <= f->nbounds; i++)
        total += atomic_load(&ch->buckets[i]);
    return total;
}

/* ---- rendering ---- */

struct outbuf {
    char *data;
    size_t len;
    size_t cap;
    bool failed;
};

static void out_reserve(struct outbuf *o, size_t extra)
{
    if (o->failed || o->len + extra + 1 <= o->cap)
        return;
    size_t cap = o->cap ? o->cap : 4096;
    while (cap < o->len + extra + 1)
        cap *= 2;
    char *data = realloc(o->data, cap);
    if (data == NULL) {
        o->failed = true;
        return;
    }
    o->data = data;
    o->cap = cap;
}

static void out_mem(struct outbuf *o, const char *s, size_t n)
{
    out_reserve(o, n);
    if (o->failed)
        return;
    memcpy(o->data + o->len, s, n);
    o->len += n;
    o->data[o->len] = '\0';
}

static void out_str(struct outbuf *o, const char *s)
{
    out_mem(o, s, strlen(s));
}

/* Escapes backslash and newline, and double quote too when in_label. */
static void out_escaped(struct outbuf *o, const char *s, bool in_label)
{
    for (; *s; s++) {
        if (*s == '\\')
            out_str(o, "\\\\");
        else if (*s == '\n')
            out_str(o, "\\n");
        else if (*s == '"' && in_label)
            out_str(o, "\\\"");
        else
            out_mem(o, s, 1);
    }
}

/* Shortest text that reads back as the same double; Prometheus spellings for the specials. */
static void format_double(char *buf, size_t size, double v)
{
    if (isnan(v)) {
        snprintf(buf, size, "NaN");
    } else if (isinf(v)) {
        snprintf(buf, size, v > 0 ? "+Inf" : "-Inf");
    } else {
        for (int prec = 1; prec <= 17; prec++) {
            snprintf(buf, size, "%.*g", prec, v);
            if (strtod(buf, NULL) == v)
                return;
        }
    }
}

static void out_double(struct outbuf *o, double v)
{
    char buf[64];
    format_double(buf, sizeof buf, v);
    out_str(o, buf);
}

static void out_u64(struct outbuf *o, uint64_t v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)v);
    out_str(o, buf);
}

/* {a="x",b="y"} plus an optional le="..." for histogram buckets; nothing when empty. */
static void out_labels(struct outbuf *o, const struct family *f, const struct child *c,
                       const char *le)
{
    if (f->nlabels == 0 && le == NULL)
        return;
    out_str(o, "{");
    for (size_t i = 0; i < f->nlabels; i++) {
        if (i > 0)
            out_str(o, ",");
        out_str(o, f->label_names[i]);
        out_str(o, "=\"");
        out_escaped(o, c->values[i], true);
        out_str(o, "\"");
    }
    if (le != NULL) {
        if (f->nlabels > 0)
            out_str(o, ",");
        out_str(o, "le=\"");
        out_str(o, le);
        out_str(o, "\"");
    }
    out_str(o, "}");
}

static void out_sample_name(struct outbuf *o, const struct family *f, const char *suffix)
{
    out_str(o, f->name);
    out_str(o, suffix);
}

static void render_histogram_child(struct outbuf *o, const struct family *f, const struct child *c)
{
    uint64_t cumulative = 0;
    char le[64];
    for (size_t i = 0; i <= f->nbounds; i++) {
        cumulative += atomic_load_explicit(&c->buckets[i], memory_order_relaxed);
        if (i < f->nbounds)
            format_double(le, sizeof le, f->bounds[i]);
        else
            snprintf(le, sizeof le, "+Inf");
        out_sample_name(o, f, "_bucket");
        out_labels(o, f, c, le);
        out_str(o, " ");
        out_u64(o, cumulative);
        out_str(o, "\n");
    }
    out_sample_name(o, f, "_sum");
    out_labels(o, f, c, NULL);
    out_str(o, " ");
    out_double(o, bits_double(atomic_load_explicit(&c->sum_bits, memory_order_relaxed)));
    out_str(o, "\n");
    /* _count equals the +Inf bucket even while observations race with the scrape. */
    out_sample_name(o, f, "_count");
    out_labels(o, f, c, NULL);
    out_str(o, " ");
    out_u64(o, cumulative);
    out_str(o, "\n");
}

static void render_child(struct outbuf *o, const struct family *f, const struct child *c)
{
    if (f->type == FAMILY_HISTOGRAM) {
        render_histogram_child(o, f, c);
        return;
    }
    out_str(o, f->name);
    out_labels(o, f, c, NULL);
    out_str(o, " ");
    uint64_t v = atomic_load_explicit(&c->value, memory_order_relaxed);
    if (f->type == FAMILY_COUNTER)
        out_u64(o, v);
    else
        out_double(o, bits_double(v));
    out_str(o, "\n");
}

static int child_compare(const void *a, const void *b, void *nlabels)
{
    const struct child *x = *(const struct child *const *)a;
    const struct child *y = *(const struct child *const *)b;
    for (size_t i = 0; i < *(const size_t *)nlabels; i++) {
        int d = strcmp(x->values[i], y->values[i]);
        if (d != 0)
            return d;
    }
    return 0;
}

static void render_children(struct outbuf *o, const struct family *f)
{
    size_t n = 0, cap = 16;
    struct child **list = malloc(cap * sizeof *list);
    for (size_t b = 0; list != NULL && b < CHILD_BUCKETS; b++) {
        for (struct child *c = atomic_load_explicit(&f->children[b], memory_order_acquire);
             c != NULL; c = c->next) {
            if (n == cap) {
                struct child **bigger = realloc(list, 2 * cap * sizeof *list);
                if (bigger == NULL) {
                    free(list);
                    list = NULL;
                    break;
                }
                list = bigger;
                cap *= 2;
            }
            list[n++] = c;
        }
    }
    if (list == NULL) {
        o->failed = true;
        return;
    }
    size_t nlabels = f->nlabels;
    qsort_r(list, n, sizeof *list, child_compare, &nlabels);
    for (size_t i = 0; i < n; i++)
        render_child(o, f, list[i]);
    free(list);
}

static const char *type_name(enum family_type t)
{
    switch (t) {
    case FAMILY_COUNTER:
        return "counter";
    case FAMILY_HISTOGRAM:
        return "histogram";
    default:
        return "gauge";
    }
}

static void render_family(struct outbuf *o, const struct family *f)
{
    out_str(o, "# HELP ");
    out_str(o, f->name);
    out_str(o, " ");
    out_escaped(o, f->help, false);
    out_str(o, "\n# TYPE ");
    out_str(o, f->name);
    out_str(o, " ");
    out_str(o, type_name(f->type));
    out_str(o, "\n");
    if (f->type == FAMILY_GAUGE_FN) {
        out_str(o, f->name);
        out_str(o, " ");
        out_double(o, f->fn(f->fn_ctx));
        out_str(o, "\n");
        return;
    }
    render_children(o, f);
}

char *udc_metrics_render(struct udc_metrics *reg, size_t *len)
{
    struct outbuf o = {0};
    out_reserve(&o, 0);
    if (o.data != NULL)
        o.data[0] = '\0';
    if (reg != NULL) {
        pthread_mutex_lock(&reg->lock);
        for (const struct family *f = reg->head; f != NULL && !o.failed; f = f->next)
            render_family(&o, f);
        pthread_mutex_unlock(&reg->lock);
    }
    if (o.failed) {
        free(o.data);
        return NULL;
    }
    if (len != NULL)
        *len = o.len;
    return o.data;
}
