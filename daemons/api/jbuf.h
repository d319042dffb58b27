/* jbuf.h — a growing buffer that writes JSON directly, for the API's responses.
 *
 *   struct jbuf j = {0};
 *   jbuf_raw(&j, "[");
 *   jbuf_obj_begin(&j); jbuf_int(&j, "id", 1); jbuf_str(&j, "first_name", "Pam"); jbuf_obj_end(&j);
 *   jbuf_raw(&j, "]");
 *   if (j.failed) → 500; else respond with j.text.data, j.text.len; udc_strbuf_free(&j.text);
 *
 * The JSON goes into j.text, a common growable buffer (strbuf.h). Commas between members and
 * array items are placed automatically. Out of memory sets `failed` and turns later calls
 * into no-ops, so callers check once at the end.
 */
#ifndef UDC_API_JBUF_H
#define UDC_API_JBUF_H

#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

struct jbuf {
    struct udc_strbuf text;
    int failed;
    int need_comma; /* inside an object or array, after its first member/item */
};

void jbuf_raw(struct jbuf *j, const char *s);
void jbuf_array_begin(struct jbuf *j); /* "[" (as an array item when one is open) */
void jbuf_array_end(struct jbuf *j);
void jbuf_obj_begin(struct jbuf *j); /* "{" (as an array item when one is open) */
void jbuf_obj_end(struct jbuf *j);
void jbuf_key(struct jbuf *j, const char *key); /* "key": for a nested value */
void jbuf_int(struct jbuf *j, const char *key, int64_t v);
void jbuf_num(struct jbuf *j, const char *key, double v);      /* null when not finite */
void jbuf_str(struct jbuf *j, const char *key, const char *v); /* escaped; NULL → null */
void jbuf_time(struct jbuf *j, const char *key, int64_t us);   /* POC form, naive UTC */

#endif
