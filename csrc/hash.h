/*
 * The hash of a sparse sign sketch: a Carter-Wegman polynomial over the
 * Mersenne prime p = 2^61 - 1.
 *
 * Nonzero t (0 <= t < s) of column j of S (S of k rows) has the key
 * x = j s + t (keys must be < p, so n s <= p) and the value
 *
 *     h(x) = (c0 + c1 x + c2 x^2 + c3 x^3) mod p,
 *
 * with c0 .. c3 drawn once per operator: outputs 1, 2, ... of SplitMix64
 * (Steele, Lea & Flood, OOPSLA 2014) started at the operator's seed, each
 * shifted right by 3 bits (a value in [0, 2^61)), the rare value p itself
 * skipped. The nonzero lies in row block t, [floor(t k / s),
 * floor((t+1) k / s)) of size b, at offset floor(h b / 2^61); its sign is
 * -1 when h is odd.
 *
 * Independence. For coefficients uniform on [0, p)^4, the values h(x) at
 * any 4 distinct keys are independent and uniform on [0, p) (a polynomial
 * of degree 3 through 4 given points is unique: Carter & Wegman, JCSS
 * 1979; Wegman & Carter, JCSS 1981). So the (row, sign) pairs of any 4
 * nonzeros are independent, each with the law of a uniform value of
 * [0, p): a row offset has probability 1/b within a relative 2 b / p
 * (< 2^-28 for b < 2^32), a sign is +1 with probability 1/2 + 1/(2p), and
 * given its row offset within 1 / (2 (p / b - 2)) of 1/2. That is more than
 * the second-moment proof of the subspace embedding needs (rows pairwise
 * independent and uniform, signs 4-wise independent, signs independent of
 * rows); see SketchDistribution's Notes in randla/_sketch.py.
 *
 * Cost: for a single column, three 64 x 64 -> 128-bit products and their
 * folding modulo p per nonzero; for a run of consecutive columns (rows of
 * A), three additions modulo p per nonzero by forward differences, giving
 * the same values; one more product for the row. Being counter-based, the
 * hash of any column of S is computed on its own, without a stored table
 * and without running through the columns before it: the kernels hash each
 * row of A, or each run of rows, as they reach it.
 */
#ifndef RANDLA_HASH_H
#define RANDLA_HASH_H

#include <stdint.h>

#define RANDLA_P61 ((UINT64_C(1) << 61) - 1)

typedef struct {
    uint64_t c[4];  /* c0 .. c3, each in [0, p) */
    int64_t s;      /* nonzeros per column */
    int64_t kq, kr; /* k = kq s + kr: the block bounds without a division */
} randla_hasher;

static inline uint64_t
randla_splitmix64(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static inline randla_hasher
randla_hasher_new(uint64_t seed, int64_t k, int64_t s)
{
    randla_hasher h = {{0, 0, 0, 0}, s, k / s, k % s};
    uint64_t state = seed;
    for (int i = 0; i < 4; i++) {
        uint64_t w;
        do
            w = randla_splitmix64(&state) >> 3;
        while (w == RANDLA_P61);
        h.c[i] = w;
    }
    return h;
}

/* a x + c, folded modulo p but not reduced: since 2^61 = 1 (mod p), a x is
 * congruent to its low 61 bits plus the rest. For x, c < p < 2^61 and
 * a < 5 2^61, a x < 5 2^122 and the result is below 7 2^61 < 2^64. */
static inline uint64_t
randla_fold_mul_add(uint64_t a, uint64_t x, uint64_t c)
{
    __uint128_t z = (__uint128_t)a * x;
    return ((uint64_t)z & RANDLA_P61) + (uint64_t)(z >> 61) + c;
}

/* h(x) in [0, p), by Horner's rule on folded values: below 3 2^61 after the
 * first step, 5 2^61 after the second, 7 2^61 after the third; the last fold
 * leaves at most p + 6, and one subtraction of p reduces it. */
static inline uint64_t
randla_hash_value(const randla_hasher *h, uint64_t x)
{
    uint64_t v = randla_fold_mul_add(h->c[3], x, h->c[2]);
    v = randla_fold_mul_add(v, x, h->c[1]);
    v = randla_fold_mul_add(v, x, h->c[0]);
    v = (v & RANDLA_P61) + (v >> 61);
    return v >= RANDLA_P61 ? v - RANDLA_P61 : v;
}

/* The row and sign of nonzero t of a column, from its value v: row offset
 * floor(v b / 2^61) in block t, [start, stop); sign -1 when v is odd. */
static inline void
randla_hash_place(uint64_t v, int64_t start, int64_t stop, int64_t *row,
                  int8_t *sign)
{
    __uint128_t scaled = (__uint128_t)v * (uint64_t)(stop - start);
    *row = start + (int64_t)(scaled >> 61);
    *sign = (int8_t)(1 - 2 * (int)(v & 1));
}

/* The end of block t, floor((t+1) k / s) = (t+1) kq + floor((t+1) kr / s),
 * stepped from the end of block t - 1 (stop, with remainder rem). */
static inline void
randla_block_step(const randla_hasher *h, int64_t *stop, int64_t *rem)
{
    *stop += h->kq;
    *rem += h->kr;
    if (*rem >= h->s) {
        (*stop)++;
        *rem -= h->s;
    }
}

/* The s nonzeros of column j: rows[t] and signs[t]. */
static inline void
randla_hash_column(const randla_hasher *h, uint64_t j, int64_t *restrict rows,
                   int8_t *restrict signs)
{
    uint64_t x = j * (uint64_t)h->s;
    int64_t start = 0, stop = 0, rem = 0;
    for (int64_t t = 0; t < h->s; t++) {
        randla_block_step(h, &stop, &rem);
        randla_hash_place(randla_hash_value(h, x + (uint64_t)t), start, stop,
                          &rows[t], &signs[t]);
        start = stop;
    }
}

static inline uint64_t
randla_add_p61(uint64_t a, uint64_t b)
{
    uint64_t r = a + b;
    return r >= RANDLA_P61 ? r - RANDLA_P61 : r;
}

static inline uint64_t
randla_sub_p61(uint64_t a, uint64_t b)
{
    return a >= b ? a - b : a + (RANDLA_P61 - b);
}

/* The s nonzeros of the m columns first .. first + m - 1, (m x s): the same
 * values as randla_hash_column, by forward differences over the consecutive
 * keys x = first s, first s + 1, ...: h(x+1) = h(x) + D1(x),
 * D1(x+1) = D1(x) + D2(x), D2(x+1) = D2(x) + D3, with D3 constant for a
 * cubic. Three additions modulo p per key instead of three products. */
static inline void
randla_hash_columns(const randla_hasher *h, uint64_t first, int64_t m,
                    int64_t *restrict rows, int8_t *restrict signs)
{
    if (m <= 0)
        return;
    uint64_t x = first * (uint64_t)h->s, y[4];
    for (int i = 0; i < 4; i++) {
        uint64_t xi = x + (uint64_t)i; /* x < p: xi < p + 3 */
        y[i] = randla_hash_value(h, xi >= RANDLA_P61 ? xi - RANDLA_P61 : xi);
    }
    uint64_t v = y[0], d1 = randla_sub_p61(y[1], y[0]);
    uint64_t d2 = randla_sub_p61(randla_sub_p61(y[2], y[1]), d1);
    uint64_t d3 = randla_sub_p61(
        randla_sub_p61(randla_sub_p61(y[3], y[2]), randla_sub_p61(y[2], y[1])),
        d2);
    for (int64_t j = 0; j < m; j++) {
        int64_t start = 0, stop = 0, rem = 0;
        for (int64_t t = 0; t < h->s; t++) {
            randla_block_step(h, &stop, &rem);
            randla_hash_place(v, start, stop, &rows[j * h->s + t],
                              &signs[j * h->s + t]);
            start = stop;
            v = randla_add_p61(v, d1);
            d1 = randla_add_p61(d1, d2);
            d2 = randla_add_p61(d2, d3);
        }
    }
}

#endif
