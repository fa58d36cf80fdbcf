/*
 * Fast Walsh-Hadamard transform, in place, down the rows of a contiguous
 * block (see kernels.h).
 *
 * Every butterfly stage pairs rows i and i + h, and the rows between them are
 * contiguous, so each stage is a loop over long contiguous runs that the
 * compiler vectorises, for one column (w = 1) as for many (w > 1).
 *
 * Memory traffic, not arithmetic, limits the transform of a tall block, so:
 *  - two stages are fused into one radix-4 pass over the data;
 *  - the recursion is depth-first: a block is split into quarters that are
 *    transformed one after the other, and a quarter small enough for the
 *    cache is transformed there completely before the next is touched.
 * The block then crosses main memory about log4(size / LEAF_BYTES) times
 * instead of log2(n) times.
 */
#include "kernels.h"

/* A block this small is transformed in the (per-core) L2 cache. */
#define LEAF_BYTES ((size_t)256 * 1024)

#define DEFINE_FWHT(T, SUF)                                                   \
    /* Stages h and 2h at once on four consecutive runs of len elements. */  \
    static void radix4_##SUF(T *restrict x0, size_t len)                      \
    {                                                                         \
        T *restrict x1 = x0 + len;                                            \
        T *restrict x2 = x1 + len;                                            \
        T *restrict x3 = x2 + len;                                            \
        for (size_t t = 0; t < len; t++) {                                    \
            T a = x0[t], b = x1[t], c = x2[t], e = x3[t];                     \
            T s01 = a + b, d01 = a - b, s23 = c + e, d23 = c - e;             \
            x0[t] = s01 + s23;                                                \
            x1[t] = d01 + d23;                                                \
            x2[t] = s01 - s23;                                                \
            x3[t] = d01 - d23;                                                \
        }                                                                     \
    }                                                                         \
                                                                              \
    static void radix2_##SUF(T *restrict x0, size_t len)                      \
    {                                                                         \
        T *restrict x1 = x0 + len;                                            \
        for (size_t t = 0; t < len; t++) {                                    \
            T a = x0[t], b = x1[t];                                           \
            x0[t] = a + b;                                                    \
            x1[t] = a - b;                                                    \
        }                                                                     \
    }                                                                         \
                                                                              \
    /* The first two stages of a single column: 4-point transforms. */       \
    static void first4_##SUF(T *restrict x, size_t n)                         \
    {                                                                         \
        for (size_t i = 0; i + 4 <= n; i += 4) {                              \
            T a = x[i], b = x[i + 1], c = x[i + 2], e = x[i + 3];             \
            T s01 = a + b, d01 = a - b, s23 = c + e, d23 = c - e;             \
            x[i] = s01 + s23;                                                 \
            x[i + 1] = d01 + d23;                                             \
            x[i + 2] = s01 - s23;                                             \
            x[i + 3] = d01 - d23;                                             \
        }                                                                     \
    }                                                                         \
                                                                              \
    /* Stage by stage, for a block that fits in cache. */                     \
    static void iterative_##SUF(T *x, size_t n, size_t w)                     \
    {                                                                         \
        size_t h = 1;                                                         \
        if (w == 1 && n >= 4) {                                               \
            first4_##SUF(x, n);                                               \
            h = 4;                                                            \
        }                                                                     \
        for (; 4 * h <= n; h *= 4)                                            \
            for (size_t base = 0; base < n; base += 4 * h)                    \
                radix4_##SUF(x + base * w, h * w);                            \
        if (h < n) /* one stage left: n / h == 2 */                           \
            radix2_##SUF(x, h * w);                                           \
    }                                                                         \
                                                                              \
    static void recursive_##SUF(T *x, size_t n, size_t w)                     \
    {                                                                         \
        if (n < 4 || n * w * sizeof(T) <= LEAF_BYTES) {                       \
            iterative_##SUF(x, n, w);                                         \
            return;                                                           \
        }                                                                     \
        /* The stages commute, so the quarters' own stages go first. */      \
        size_t q = n / 4;                                                     \
        for (size_t i = 0; i < 4; i++)                                        \
            recursive_##SUF(x + i * q * w, q, w);                             \
        radix4_##SUF(x, q * w);                                               \
    }                                                                         \
                                                                              \
    void randla_fwht_##SUF(T *x, size_t n, size_t w)                          \
    {                                                                         \
        if (n > 1 && w > 0)                                                   \
            recursive_##SUF(x, n, w);                                         \
    }

DEFINE_FWHT(double, f64)
DEFINE_FWHT(float, f32)
