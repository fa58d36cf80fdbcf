/*
 * Application of a sparse sign sketch (CountSketch when s = 1): column j of
 * S has s nonzeros +-1, placed by the hash of hash.h. S @ A is a
 * scatter-add of the rows of A, O(s nnz(A)) work, and S is never formed.
 * Scaling by 1/sqrt(s) is left to the caller.
 *
 * Dense and CSR A: rows are taken in chunks; the chunk's hash is computed
 * first, then the chunk is scattered (row by row for row-major A, column by
 * column for column-major A, so the column of out that receives the scatter
 * stays in the L1 cache). CSC A: column by column, each nonzero's row of A
 * hashed as it is reached, or, for rows with several nonzeros, by blocks
 * of rows hashed together (csc_buffered).
 */
#include <stdlib.h>

#include "kernels.h"
#include "hash.h"

#define CHUNK 1024

/* The rows of out receive the scatter in random order; fetching the one
 * needed a few rows ahead hides the cache misses behind the current work. */
#define PREFETCH_AHEAD 8

static inline void
prefetch_row(const void *p, size_t bytes)
{
#if defined(__GNUC__)
    for (size_t off = 0; off < bytes; off += 64)
        __builtin_prefetch((const char *)p + off, 1, 3);
#endif
}

/* Work space for the hash of one chunk: CHUNK x s rows and signs. */
static int
alloc_chunk_hash(int64_t s, int64_t **rows, int8_t **signs)
{
    *rows = malloc(sizeof(int64_t) * CHUNK * s);
    *signs = malloc(CHUNK * s);
    if (*rows && *signs)
        return 0;
    free(*rows);
    free(*signs);
    return -1;
}

int
randla_sparse_sign_hash(uint64_t seed, int64_t r0, int64_t r1, int64_t k,
                        int64_t s, int64_t *rows, int8_t *signs)
{
    randla_hasher h = randla_hasher_new(seed, k, s);
    randla_hash_columns(&h, (uint64_t)r0, r1 - r0, rows, signs);
    return 0;
}

#define DEFINE_DENSE(T, SUF)                                                  \
    RANDLA_CLONES int randla_sparse_sign_dense_##SUF(                         \
        const T *restrict a, ptrdiff_t m, ptrdiff_t d, ptrdiff_t rs,          \
        ptrdiff_t cs, int64_t r0, uint64_t seed, int64_t s, T *restrict out,  \
        int64_t k, ptrdiff_t ors, ptrdiff_t ocs)                              \
    {                                                                         \
        int64_t *rows;                                                        \
        int8_t *signs;                                                        \
        if (alloc_chunk_hash(s, &rows, &signs) < 0)                           \
            return -1;                                                        \
        randla_hasher h = randla_hasher_new(seed, k, s);                      \
        int row_major = cs == 1 && ocs == 1;                                  \
        for (ptrdiff_t j0 = 0; j0 < m; j0 += CHUNK) {                         \
            ptrdiff_t mc = m - j0 < CHUNK ? m - j0 : CHUNK;                   \
            randla_hash_columns(&h, (uint64_t)(r0 + j0), mc, rows, signs);    \
            const T *ac = a + j0 * rs;                                        \
            if (row_major) {                                                  \
                for (ptrdiff_t j = 0; j < mc; j++) {                          \
                    const T *restrict arow = ac + j * rs;                     \
                    if (j + PREFETCH_AHEAD < mc)                              \
                        prefetch_row(out + rows[(j + PREFETCH_AHEAD) * s] *   \
                                               ors,                           \
                                     d * sizeof(T));                          \
                    for (int64_t t = 0; t < s; t++) {                         \
                        T *restrict orow = out + rows[j * s + t] * ors;       \
                        /* A multiply, not a branch: the signs are random,   \
                         * so a branch would be mispredicted half the time. */\
                        T g = (T)signs[j * s + t];                            \
                        for (ptrdiff_t c = 0; c < d; c++)                     \
                            orow[c] += g * arow[c];                           \
                    }                                                         \
                }                                                             \
            }                                                                 \
            else {                                                            \
                for (ptrdiff_t c = 0; c < d; c++) {                           \
                    const T *acol = ac + c * cs;                              \
                    T *ocol = out + c * ocs;                                  \
                    for (ptrdiff_t j = 0; j < mc; j++) {                      \
                        T v = acol[j * rs];                                   \
                        for (int64_t t = 0; t < s; t++)                       \
                            ocol[rows[j * s + t] * ors] +=                    \
                                (T)signs[j * s + t] * v;                      \
                    }                                                         \
                }                                                             \
            }                                                                 \
        }                                                                     \
        free(rows);                                                           \
        free(signs);                                                          \
        return 0;                                                             \
    }

DEFINE_DENSE(double, f64)
DEFINE_DENSE(float, f32)

/* CSC: each row of A is hashed where its nonzeros are (three products per
 * nonzero and key), or, when the rows have 4 nonzeros or more on average
 * and out is at most 4 MB, each block of CHUNK rows at once by differences
 * (three additions per key). A block visits every column of out, which
 * must stay cached from block to block; hashing in place scatters into one
 * column of out at a time. On the benchmark machine (1 MB of L2 per core,
 * 32 MB of L3), blocks cost 4 to 6 times less than hashing in place for
 * 20 nonzeros a row and out of 1.6 MB, and 3 times more for 10 a row and
 * out of 16 MB. */
static int
csc_buffered(int64_t nnz, int64_t rows, size_t out_bytes)
{
    return nnz >= 4 * rows && out_bytes <= ((size_t)1 << 22);
}

/* The first position in lo .. hi - 1 (row indices sorted) whose row is
 * >= r, or hi. */
#define DEFINE_FIRST_ROW(I, ISUF)                                             \
    static I first_row_at_least_##ISUF(const I *indices, I lo, I hi,          \
                                       int64_t r)                             \
    {                                                                         \
        while (lo < hi) {                                                     \
            I mid = lo + (hi - lo) / 2;                                       \
            if ((int64_t)indices[mid] < r)                                    \
                lo = mid + 1;                                                 \
            else                                                              \
                hi = mid;                                                     \
        }                                                                     \
        return lo;                                                            \
    }

DEFINE_FIRST_ROW(int32_t, i32)
DEFINE_FIRST_ROW(int64_t, i64)

#define DEFINE_SPARSE(T, SUF, I, ISUF)                                        \
    int randla_sparse_sign_csr_##SUF##_##ISUF(                                \
        const I *indptr, const I *indices, const T *data, int64_t r0,         \
        int64_t r1, uint64_t seed, int64_t s, T *out, int64_t k, ptrdiff_t d) \
    {                                                                         \
        int64_t *rows;                                                        \
        int8_t *signs;                                                        \
        if (alloc_chunk_hash(s, &rows, &signs) < 0)                           \
            return -1;                                                        \
        randla_hasher h = randla_hasher_new(seed, k, s);                      \
        for (int64_t j0 = r0; j0 < r1; j0 += CHUNK) {                         \
            int64_t mc = r1 - j0 < CHUNK ? r1 - j0 : CHUNK;                   \
            randla_hash_columns(&h, (uint64_t)j0, mc, rows, signs);           \
            for (int64_t j = 0; j < mc; j++) {                                \
                for (int64_t t = 0; t < s; t++) {                             \
                    T *orow = out + rows[j * s + t] * d;                      \
                    T g = (T)signs[j * s + t];                                \
                    for (I idx = indptr[j0 + j]; idx < indptr[j0 + j + 1];    \
                         idx++)                                               \
                        orow[indices[idx]] += g * data[idx];                  \
                }                                                             \
            }                                                                 \
        }                                                                     \
        free(rows);                                                           \
        free(signs);                                                          \
        return 0;                                                             \
    }                                                                         \
                                                                              \
    int randla_sparse_sign_csc_##SUF##_##ISUF(                                \
        const I *indptr, const I *indices, const T *data, ptrdiff_t d,        \
        int64_t r0, int64_t r1, uint64_t seed, int64_t s, T *out, int64_t k)  \
    {                                                                         \
        randla_hasher h = randla_hasher_new(seed, k, s);                      \
        /* next[c]: column c's first entry not yet scattered, from the      \
         * first in a row >= r0 (bisection); nnz: the entries in r0..r1. */  \
        I *next = malloc(sizeof(I) * (d > 0 ? d : 1));                        \
        if (!next)                                                            \
            return -1;                                                        \
        int64_t nnz = 0;                                                      \
        for (ptrdiff_t c = 0; c < d; c++) {                                   \
            next[c] = first_row_at_least_##ISUF(indices, indptr[c],           \
                                                indptr[c + 1], r0);           \
            nnz += (int64_t)(first_row_at_least_##ISUF(indices, next[c],      \
                                                       indptr[c + 1], r1) -   \
                             next[c]);                                        \
        }                                                                     \
        int buffered = csc_buffered(nnz, r1 - r0, sizeof(T) * k * d);         \
        int64_t width = buffered ? CHUNK : r1 - r0;                           \
        int64_t *rows;                                                        \
        int8_t *signs;                                                        \
        if (alloc_chunk_hash(s, &rows, &signs) < 0) {                         \
            free(next);                                                       \
            return -1;                                                        \
        }                                                                     \
        int status = 0;                                                       \
        for (int64_t b0 = r0; b0 < r1 && status == 0; b0 += width) {         \
            int64_t b1 = r1 - b0 < width ? r1 : b0 + width;                   \
            if (buffered)                                                     \
                randla_hash_columns(&h, (uint64_t)b0, b1 - b0, rows, signs);  \
            for (ptrdiff_t c = 0; c < d && status == 0; c++) {                \
                T *ocol = out + c * k;                                        \
                int64_t prev = b0;                                            \
                I idx = next[c];                                              \
                for (; idx < indptr[c + 1]; idx++) {                          \
                    int64_t j = (int64_t)indices[idx];                        \
                    if (j >= b1)                                              \
                        break;                                                \
                    if (j < prev) { /* unsorted: the bisection was wrong */   \
                        status = -2;                                          \
                        break;                                                \
                    }                                                         \
                    prev = j;                                                 \
                    const int64_t *rj = rows;                                 \
                    const int8_t *gj = signs;                                 \
                    if (buffered) {                                           \
                        rj += (j - b0) * s;                                   \
                        gj += (j - b0) * s;                                   \
                    }                                                         \
                    else                                                      \
                        randla_hash_column(&h, (uint64_t)j, rows, signs);     \
                    T v = data[idx];                                          \
                    for (int64_t t = 0; t < s; t++)                           \
                        ocol[rj[t]] += (T)gj[t] * v;                          \
                }                                                             \
                next[c] = idx;                                                \
            }                                                                 \
        }                                                                     \
        free(next);                                                           \
        free(rows);                                                           \
        free(signs);                                                          \
        return status;                                                        \
    }

DEFINE_SPARSE(double, f64, int32_t, i32)
DEFINE_SPARSE(double, f64, int64_t, i64)
DEFINE_SPARSE(float, f32, int32_t, i32)
DEFINE_SPARSE(float, f32, int64_t, i64)
