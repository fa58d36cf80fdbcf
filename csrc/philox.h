/*
 * The hash of a sparse sign sketch, from a counter-based generator.
 *
 * Philox4x64-10 (Salmon, Moraes, Dror & Shaw, "Parallel random numbers: as
 * easy as 1, 2, 3", SC 2011) maps a 256-bit counter and a 128-bit key to
 * four 64-bit words. It is the generator behind numpy.random.Philox: the
 * block for counter c equals the first four raw outputs of
 * Philox(key=key, counter=c - 1), which is how the tests check it.
 *
 * Being counter-based, the hash of any column of S is computed on its own,
 * without a stored table and without running through the columns before it:
 * the kernels hash each row of A as they reach it.
 */
#ifndef RANDLA_PHILOX_H
#define RANDLA_PHILOX_H

#include <stdint.h>

static inline void
randla_philox4x64(const uint64_t ctr[4], uint64_t key0, uint64_t key1,
                  uint64_t out[4])
{
    uint64_t c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3];
    for (int round = 0; round < 10; round++) {
        if (round > 0) {
            key0 += 0x9E3779B97F4A7C15ULL;
            key1 += 0xBB67AE8584CAA73BULL;
        }
        __uint128_t p0 = (__uint128_t)0xD2E7470EE14C6C93ULL * c0;
        __uint128_t p1 = (__uint128_t)0xCA5A826395121157ULL * c2;
        uint64_t hi0 = (uint64_t)(p0 >> 64), lo0 = (uint64_t)p0;
        uint64_t hi1 = (uint64_t)(p1 >> 64), lo1 = (uint64_t)p1;
        c0 = hi1 ^ c1 ^ key0;
        c1 = lo1;
        c2 = hi0 ^ c3 ^ key1;
        c3 = lo0;
    }
    out[0] = c0;
    out[1] = c1;
    out[2] = c2;
    out[3] = c3;
}

/*
 * Nonzero t of column j of S (t < s, S of k rows), for the key `seed`:
 *  - nonzero t lies in row block [floor(t k / s), floor((t+1) k / s));
 *  - word i = j s + t of the stream is block i / 4, position i % 4, of
 *    Philox at counter (i / 4, 0, 0, 0);
 *  - its top bit is the sign (set: -1), and its low 32 bits x give the row
 *    offset floor(x b / 2^32) in the block of size b, by Lemire's method;
 *    the rare x that would bias the offset (probability < b / 2^32) is
 *    replaced by word 0 of Philox at counter (i, attempt, 1, 0), attempt =
 *    1, 2, ... until one is accepted, so every offset is exactly uniform.
 *
 * `word` is word i, already drawn by the caller (a row's s words come from
 * s / 4 + 1 blocks at most, drawn once).
 */
static inline int64_t
randla_hash_row(uint64_t word, uint64_t i, int64_t t, int64_t k, int64_t s,
                uint64_t seed, int8_t *sign)
{
    int64_t start = (t * k) / s;
    uint64_t b = (uint64_t)((t + 1) * k / s - start);
    *sign = (int8_t)((word >> 63) ? -1 : 1);
    uint32_t threshold = (uint32_t)(-(uint32_t)b) % (uint32_t)b;
    uint64_t m = (uint64_t)(uint32_t)word * b;
    for (uint64_t attempt = 1; (uint32_t)m < threshold; attempt++) {
        uint64_t ctr[4] = {i, attempt, 1, 0}, out[4];
        randla_philox4x64(ctr, seed, 0, out);
        m = (uint64_t)(uint32_t)out[0] * b;
    }
    return start + (int64_t)(m >> 32);
}

/* Hashes columns in increasing order, drawing each Philox block once. */
typedef struct {
    uint64_t seed;
    int64_t k, s;
    uint64_t have; /* index of the block held, UINT64_MAX for none */
    uint64_t block[4];
} randla_hasher;

static inline randla_hasher
randla_hasher_new(uint64_t seed, int64_t k, int64_t s)
{
    randla_hasher h = {seed, k, s, UINT64_MAX, {0, 0, 0, 0}};
    return h;
}

/* The s nonzeros of column j: rows[t] and signs[t]. */
static inline void
randla_hash_column(randla_hasher *h, uint64_t j, int64_t *rows, int8_t *signs)
{
    uint64_t first = j * (uint64_t)h->s;
    for (int64_t t = 0; t < h->s; t++) {
        uint64_t i = first + (uint64_t)t;
        if (i / 4 != h->have) {
            uint64_t ctr[4] = {i / 4, 0, 0, 0};
            randla_philox4x64(ctr, h->seed, 0, h->block);
            h->have = i / 4;
        }
        rows[t] = randla_hash_row(h->block[i % 4], i, t, h->k, h->s, h->seed,
                                  &signs[t]);
    }
}

#endif
