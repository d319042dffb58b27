/* Unit tests for udc-api's cache of the rendered list of people (daemons/api/persons_cache.c)
 * and the reference-counted answers it holds (api_body, daemons/api/respond.c). Leaks and
 * double frees show under ASan. */
#include <check.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "api/persons_cache.h"
#include "suite_run.h"

static struct jbuf rendered(const char *json)
{
    struct jbuf j = {0};
    jbuf_raw(&j, json);
    return j;
}

START_TEST(answers_only_for_the_version_it_was_rendered_at)
{
    struct persons_cache *c = persons_cache_new();
    ck_assert_ptr_null(persons_cache_get(c, 1));
    struct jbuf j = rendered("[{\"id\":1}]");
    struct api_body *b = persons_cache_put(c, 7, &j);
    ck_assert_ptr_nonnull(b);
    ck_assert_ptr_null(j.text.data); /* the buffer now belongs to the body */
    ck_assert_str_eq(b->json, "[{\"id\":1}]");
    ck_assert_uint_eq(b->len, 10);
    ck_assert_uint_eq(strlen(b->etag), 18);
    ck_assert_int_eq(b->etag[0], '"');
    api_body_release(b);

    ck_assert_ptr_null(persons_cache_get(c, 6));
    ck_assert_ptr_null(persons_cache_get(c, 8));
    struct api_body *again = persons_cache_get(c, 7);
    ck_assert_ptr_nonnull(again);
    ck_assert_str_eq(again->json, "[{\"id\":1}]");

    /* a new version replaces it; the old body lives on while someone holds it */
    j = rendered("[{\"id\":1},{\"id\":2}]");
    struct api_body *newer = persons_cache_put(c, 8, &j);
    ck_assert_ptr_null(persons_cache_get(c, 7));
    ck_assert_str_eq(again->json, "[{\"id\":1}]");
    ck_assert_str_ne(again->etag, newer->etag);
    api_body_release(again);
    struct api_body *got = persons_cache_get(c, 8);
    ck_assert_ptr_eq(got, newer);
    api_body_release(got);
    api_body_release(newer);
    persons_cache_free(c);
}
END_TEST

START_TEST(same_json_same_etag)
{
    struct jbuf a = rendered("[1,2,3]"), b = rendered("[1,2,3]"), d = rendered("[1,2,4]");
    struct api_body *x = api_body_new(&a), *y = api_body_new(&b), *z = api_body_new(&d);
    ck_assert_str_eq(x->etag, y->etag);
    ck_assert_str_ne(x->etag, z->etag);
    api_body_release(x);
    api_body_release(y);
    api_body_release(z);
    struct jbuf failed = rendered("[]");
    failed.failed = 1;
    ck_assert_ptr_null(api_body_new(&failed));
    ck_assert_ptr_null(failed.text.data);
}
END_TEST

struct worker {
    struct persons_cache *cache;
    int id;
};

/* Readers and writers at once: every body read is whole and of the version asked for. */
static void *hammer(void *arg)
{
    struct worker *w = arg;
    for (int i = 0; i < 20000; i++) {
        int64_t version = i / 100;
        struct api_body *b = persons_cache_get(w->cache, version);
        if (!b) {
            char json[32];
            struct jbuf j = {0};
            snprintf(json, sizeof json, "[%lld]", (long long)version);
            jbuf_raw(&j, json);
            b = persons_cache_put(w->cache, version, &j);
        }
        char want[32];
        snprintf(want, sizeof want, "[%lld]", (long long)version);
        if (strcmp(b->json, want) != 0) {
            api_body_release(b);
            return (void *)1;
        }
        api_body_release(b);
    }
    return NULL;
}

START_TEST(threads_share_it_safely)
{
    struct persons_cache *c = persons_cache_new();
    pthread_t t[4];
    struct worker w[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (struct worker){c, i};
        ck_assert_int_eq(pthread_create(&t[i], NULL, hammer, &w[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        void *rc;
        pthread_join(t[i], &rc);
        ck_assert_ptr_null(rc);
    }
    persons_cache_free(c);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("persons_cache");
    TCase *tc = tcase_create("cache");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, answers_only_for_the_version_it_was_rendered_at);
    tcase_add_test(tc, same_json_same_etag);
    tcase_add_test(tc, threads_share_it_safely);
    suite_add_tcase(s, tc);
    return udc_test_run(s);
}
