/* Unit tests for common/strbuf: growth, in-place writes, printf, hand-over and failures. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "strbuf.h"
#include "suite_run.h"

/* The content is exactly want (n bytes) followed by a NUL. */
static void assert_content(const struct udc_strbuf *b, const char *want, size_t n)
{
    ck_assert_uint_eq(b->len, n);
    ck_assert_ptr_nonnull(b->data);
    ck_assert_int_eq(memcmp(b->data, want, n), 0);
    ck_assert_int_eq(b->data[n], '\0');
    ck_assert_uint_gt(b->cap, b->len);
}

START_TEST(appends_bytes_and_strings_behind_a_nul)
{
    struct udc_strbuf b = UDC_STRBUF_INIT;
    ck_assert_ptr_null(b.data);
    ck_assert_int_eq(udc_strbuf_append_str(&b, "ab"), 0);
    ck_assert_int_eq(udc_strbuf_append(&b, "c\0d", 3), 0);
    ck_assert_int_eq(udc_strbuf_append(&b, "", 0), 0);
    ck_assert_int_eq(udc_strbuf_append_str(&b, "e"), 0);
    assert_content(&b, "abc\0de", 6);
    udc_strbuf_free(&b);
}
END_TEST

START_TEST(grows_across_many_appends_without_losing_content)
{
    struct udc_strbuf b;
    udc_strbuf_init(&b);
    size_t total = 0, want_len = 300000;
    char *want = malloc(want_len);
    ck_assert_ptr_nonnull(want);
    for (size_t i = 0; i < want_len; i++)
        want[i] = (char)('a' + i * 7 % 26);
    /* Pieces of every size from 1 byte to past the first allocation. */
    for (size_t piece = 1; total < want_len; piece = piece * 3 % 9001 + 1) {
        size_t n = piece < want_len - total ? piece : want_len - total;
        ck_assert_int_eq(udc_strbuf_append(&b, want + total, n), 0);
        total += n;
        ck_assert_uint_eq(b.len, total);
    }
    assert_content(&b, want, want_len);
    free(want);
    udc_strbuf_free(&b);
}
END_TEST

START_TEST(printf_appends_short_and_long_output)
{
    struct udc_strbuf b = UDC_STRBUF_INIT;
    ck_assert_int_eq(udc_strbuf_printf(&b, "{%d,", 42), 0);
    ck_assert_int_eq(udc_strbuf_printf(&b, "%s", ""), 0);
    assert_content(&b, "{42,", 4);

    /* Longer than the room left: formatted a second time after growing. */
    size_t long_len = 10000;
    char *text = malloc(long_len + 1);
    ck_assert_ptr_nonnull(text);
    memset(text, 'x', long_len);
    text[long_len] = '\0';
    ck_assert_int_eq(udc_strbuf_printf(&b, "%s}", text), 0);
    ck_assert_uint_eq(b.len, 4 + long_len + 1);
    ck_assert_int_eq(memcmp(b.data, "{42,", 4), 0);
    ck_assert_int_eq(memcmp(b.data + 4, text, long_len), 0);
    ck_assert_str_eq(b.data + 4 + long_len, "}");
    free(text);
    udc_strbuf_free(&b);
}
END_TEST

START_TEST(reserve_then_commit_writes_in_place)
{
    struct udc_strbuf b = UDC_STRBUF_INIT;
    ck_assert_int_eq(udc_strbuf_append_str(&b, "id="), 0);
    ck_assert_int_eq(udc_strbuf_reserve(&b, 10), 0);
    ck_assert_uint_ge(b.cap - b.len, 11);
    char *tail = b.data + b.len;
    int n = snprintf(tail, b.cap - b.len, "%d", 12345);
    udc_strbuf_commit(&b, (size_t)n);
    assert_content(&b, "id=12345", 8);

    /* Reserving what is already there keeps the memory where it is. */
    char *before = b.data;
    ck_assert_int_eq(udc_strbuf_reserve(&b, b.cap - b.len - 1), 0);
    ck_assert_ptr_eq(b.data, before);
    udc_strbuf_free(&b);
}
END_TEST

START_TEST(failed_calls_leave_the_content_unchanged)
{
    struct udc_strbuf b = UDC_STRBUF_INIT;
    ck_assert_int_eq(udc_strbuf_append_str(&b, "kept"), 0);
    size_t cap = b.cap;

    ck_assert_int_eq(udc_strbuf_reserve(&b, SIZE_MAX), -1);
    ck_assert_int_eq(udc_strbuf_reserve(&b, SIZE_MAX - b.len), -1);
    volatile size_t huge = SIZE_MAX - 2; /* not a constant, or the compiler objects */
    ck_assert_int_eq(udc_strbuf_append(&b, "x", huge), -1);
    /* A wide character the C locale cannot encode: vsnprintf fails, possibly after writing. */
    const wchar_t unencodable[] = {L'\x20ac', 0};
    ck_assert_int_eq(udc_strbuf_printf(&b, "lost%ls", unencodable), -1);
    assert_content(&b, "kept", 4);
    ck_assert_uint_eq(b.cap, cap);

    ck_assert_int_eq(udc_strbuf_append_str(&b, "!"), 0);
    assert_content(&b, "kept!", 5);
    udc_strbuf_free(&b);
}
END_TEST

START_TEST(reset_keeps_the_memory_and_free_releases_it)
{
    struct udc_strbuf b = UDC_STRBUF_INIT;
    ck_assert_int_eq(udc_strbuf_append_str(&b, "first"), 0);
    char *memory = b.data;
    udc_strbuf_reset(&b);
    ck_assert_ptr_eq(b.data, memory);
    assert_content(&b, "", 0);
    ck_assert_int_eq(udc_strbuf_append_str(&b, "second"), 0);
    assert_content(&b, "second", 6);

    udc_strbuf_free(&b);
    ck_assert_ptr_null(b.data);
    ck_assert_uint_eq(b.len, 0);
    ck_assert_uint_eq(b.cap, 0);
    udc_strbuf_free(&b); /* twice is harmless */
    ck_assert_int_eq(udc_strbuf_append_str(&b, "third"), 0);
    assert_content(&b, "third", 5);
    udc_strbuf_free(&b);
}
END_TEST

START_TEST(detach_hands_the_content_over)
{
    struct udc_strbuf b = UDC_STRBUF_INIT;
    ck_assert_int_eq(udc_strbuf_printf(&b, "[%d,%d]", 1, 2), 0);
    char *memory = b.data;
    size_t len = 0;
    char *text = udc_strbuf_detach(&b, &len);
    ck_assert_ptr_eq(text, memory); /* no copy */
    ck_assert_uint_eq(len, 5);
    ck_assert_str_eq(text, "[1,2]");
    ck_assert_ptr_null(b.data);
    ck_assert_uint_eq(b.len, 0);
    free(text);

    text = udc_strbuf_detach(&b, NULL); /* never grew: still a string */
    ck_assert_ptr_nonnull(text);
    ck_assert_str_eq(text, "");
    free(text);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("strbuf");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, appends_bytes_and_strings_behind_a_nul);
    tcase_add_test(tc, grows_across_many_appends_without_losing_content);
    tcase_add_test(tc, printf_appends_short_and_long_output);
    tcase_add_test(tc, reserve_then_commit_writes_in_place);
    tcase_add_test(tc, failed_calls_leave_the_content_unchanged);
    tcase_add_test(tc, reset_keeps_the_memory_and_free_releases_it);
    tcase_add_test(tc, detach_hands_the_content_over);
    suite_add_tcase(s, tc);
    return udc_test_run(s);
}
