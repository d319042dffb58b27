/* digits.h — decimal digits written by hand, for the formatters on hot paths (times in every
 * ping message and API answer, ids in API answers), where snprintf's parsing of its format
 * cost more than the digits themselves.
 *
 *   char num[UDC_DIGITS_I64_MAX];
 *   char *start = udc_digits_i64(v, num + sizeof num);   → start .. num + sizeof num
 *   p = udc_digits_fixed(p, month, 2);                    → "08", returns p + 2
 */
#ifndef UDC_DIGITS_H
#define UDC_DIGITS_H

#include <stdint.h>

#define UDC_DIGITS_I64_MAX 20 /* "-9223372036854775808" (no NUL is written) */

/* Writes v in decimal backwards, ending just before end; returns where the text starts. The
 * room before end must hold UDC_DIGITS_I64_MAX bytes. */
char *udc_digits_i64(int64_t v, char *end);

/* Writes 0 <= v < 10^width as exactly width digits, zero-padded; returns p + width. */
char *udc_digits_fixed(char *p, unsigned v, int width);

#endif
