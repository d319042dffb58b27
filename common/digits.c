/* digits.c — see digits.h. */
#include "digits.h"

char *udc_digits_i64(int64_t v, char *end)
{
    uint64_t magnitude = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    char *p = end;
    do {
        *--p = (char)('0' + magnitude % 10);
        magnitude /= 10;
    } while (magnitude > 0);
    if (v < 0)
        *--p = '-';
    return p;
}

char *udc_digits_fixed(char *p, unsigned v, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        p[i] = (char)('0' + v % 10);
        v /= 10;
    }
    return p + width;
}
