/*
 * Helpers shared by the libFuzzer targets in tests/fuzz/
 *
 * FuzzIn hands out the fuzzer's input a few bytes at a time; once it is
 * used up every read returns zeros, so a target never has to check
 * lengths and a short input simply ends its op sequence (fin_done()).
 *
 * FUZZ_CHECK() is an invariant: when it fails it prints what was expected
 * and aborts, which libFuzzer reports as a crash and saves the input.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef FUZZ_UTIL_H
#define FUZZ_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct FuzzIn {
    const uint8_t *p;
    size_t left;
} FuzzIn;

static inline void fin_init(FuzzIn *in, const uint8_t *data, size_t size)
{
    in->p = data;
    in->left = size;
}

static inline bool fin_done(const FuzzIn *in)
{
    return in->left == 0;
}

/* Copies up to @n bytes into @dst, zero-filling what the input lacks. */
static inline size_t fin_bytes(FuzzIn *in, void *dst, size_t n)
{
    size_t got = n < in->left ? n : in->left;

    memcpy(dst, in->p, got);
    memset((uint8_t *)dst + got, 0, n - got);
    in->p += got;
    in->left -= got;
    return got;
}

static inline uint8_t fin_u8(FuzzIn *in)
{
    uint8_t v;

    fin_bytes(in, &v, 1);
    return v;
}

/* Little-endian, as the shared structures are. */
static inline uint16_t fin_u16(FuzzIn *in)
{
    uint8_t b[2];

    fin_bytes(in, b, 2);
    return (uint16_t)(b[0] | b[1] << 8);
}

static inline uint32_t fin_u32(FuzzIn *in)
{
    uint8_t b[4];

    fin_bytes(in, b, 4);
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
           (uint32_t)b[3] << 24;
}

#define FUZZ_CHECK(cond, fmt, ...)                                        \
    do {                                                                  \
        if (!(cond)) {                                                    \
            fprintf(stderr, "%s:%d: invariant failed: %s: " fmt "\n",     \
                    __FILE__, __LINE__, #cond, ##__VA_ARGS__);            \
            abort();                                                      \
        }                                                                 \
    } while (0)

#endif /* FUZZ_UTIL_H */
