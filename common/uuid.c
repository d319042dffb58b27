/* uuid.c — see uuid.h. */
#include "uuid.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>

static const char hex_digits[] = "0123456789abcdef";

static int is_hyphen_position(size_t i)
{
    return i == 8 || i == 13 || i == 18 || i == 23;
}

static int fill_random(unsigned char *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = getrandom(buf + got, len - got, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        got += (size_t)n;
    }
    return 0;
}

static void format_bytes(const unsigned char bytes[16], char out[UDC_UUID_BUF])
{
    size_t pos = 0;
    for (size_t i = 0; i < 16; i++) {
        if (is_hyphen_position(pos))
            out[pos++] = '-';
        out[pos++] = hex_digits[bytes[i] >> 4];
        out[pos++] = hex_digits[bytes[i] & 0x0f];
    }
    out[pos] = '\0';
}

int udc_uuid_v4(char out[UDC_UUID_BUF])
{
    unsigned char bytes[16];
    if (fill_random(bytes, sizeof bytes) < 0)
        return -1;
    bytes[6] = (unsigned char)((bytes[6] & 0x0f) | 0x40); /* version 4 */
    bytes[8] = (unsigned char)((bytes[8] & 0x3f) | 0x80); /* RFC variant 10xx */
    format_bytes(bytes, out);
    return 0;
}

int udc_uuid_v7(int64_t unix_us, char out[UDC_UUID_BUF])
{
    unsigned char bytes[16];
    if (unix_us < 0 || fill_random(bytes + 8, 8) < 0)
        return -1;
    uint64_t ms = (uint64_t)unix_us / 1000;
    /* RFC 9562 §6.2, method 3: rand_a carries the microseconds within the millisecond as a
     * 12-bit fraction, so ids made in the same millisecond still sort by time. */
    unsigned frac = (unsigned)((uint64_t)unix_us % 1000 * 4096 / 1000);
    for (int i = 0; i < 6; i++)
        bytes[i] = (unsigned char)(ms >> (40 - 8 * i));
    bytes[6] = (unsigned char)(0x70 | frac >> 8); /* version 7 */
    bytes[7] = (unsigned char)(frac & 0xff);
    bytes[8] = (unsigned char)((bytes[8] & 0x3f) | 0x80); /* RFC variant 10xx */
    format_bytes(bytes, out);
    return 0;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int udc_uuid_canonical(const char *text, size_t len, char out[UDC_UUID_BUF])
{
    char lower[UDC_UUID_BUF];
    if (text == NULL || len != UDC_UUID_LEN)
        return -1;
    for (size_t i = 0; i < UDC_UUID_LEN; i++) {
        if (is_hyphen_position(i)) {
            if (text[i] != '-')
                return -1;
            lower[i] = '-';
            continue;
        }
        int v = hex_value(text[i]);
        if (v < 0)
            return -1;
        lower[i] = hex_digits[v];
    }
    lower[UDC_UUID_LEN] = '\0';
    memcpy(out, lower, sizeof lower);
    return 0;
}

int udc_uuid_is_canonical(const char *s)
{
    char canon[UDC_UUID_BUF];
    if (s == NULL || udc_uuid_canonical(s, strnlen(s, UDC_UUID_BUF), canon) < 0)
        return 0;
    return strcmp(s, canon) == 0;
}

int udc_uuid_is_nil(const char *s)
{
    char canon[UDC_UUID_BUF];
    if (s == NULL || udc_uuid_canonical(s, strnlen(s, UDC_UUID_BUF), canon) < 0)
        return 0;
    return strcmp(canon, "00000000-0000-0000-0000-000000000000") == 0;
}
