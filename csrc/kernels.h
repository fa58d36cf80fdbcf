/*
 * randla C kernels: plain C, no Python. The glue in _csketch.c checks types,
 * shapes and bounds before calling these, so the kernels trust their inputs.
 *
 * Strides and leading dimensions are counted in elements, not bytes.
 */
#ifndef RANDLA_KERNELS_H
#define RANDLA_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/* A kernel marked RANDLA_CLONES is compiled twice, for baseline x86-64 and
 * for x86-64-v3 (AVX2, FMA), and the loader runs the one the processor
 * supports (GCC function multiversioning). The dense scatter-add gains about
 * 10% from it; both versions give the same results, since its only products
 * are by +-1, which FMA does not round. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) &&       \
    defined(__linux__)
#define RANDLA_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define RANDLA_CLONES
#endif

/* In-place unnormalised Walsh-Hadamard transform of the n rows of a
 * contiguous block: row i is x[i*w .. i*w + w - 1], n is a power of two.
 * Every one of the w columns is transformed independently. */
void randla_fwht_f64(double *x, size_t n, size_t w);
void randla_fwht_f32(float *x, size_t n, size_t w);

/*
 * Sparse sign sketches (CountSketch when s = 1). Column j of the k x n
 * sketch S has s nonzeros +-1, one in each of s blocks of rows, placed by
 * the hash of hash.h for the key `seed`: a degree-3 Carter-Wegman
 * polynomial over the prime 2^61 - 1, so that the (row, sign) pairs of any
 * 4 nonzeros of S are independent, each row uniform on its block and each
 * sign fair to within a relative 2k / 2^61. The
 * second-moment proof of the subspace embedding needs rows pairwise
 * independent and signs 4-wise independent (Clarkson & Woodruff, 2013;
 * Nelson & Nguyen, 2013; Meng & Mahoney, 2013): see hash.h and
 * SketchDistribution's Notes in randla/_sketch.py. The kernels add S @ A
 * into out (unscaled). They need n s <= 2^61 - 1 (the keys j s + t of the
 * hash stay below the prime) and return 0, -1 when they cannot allocate
 * their work space.
 */

/* The hash of columns r0 .. r1 - 1: rows and signs, (r1 - r0) x s. */
int randla_sparse_sign_hash(uint64_t seed, int64_t r0, int64_t r1, int64_t k,
                            int64_t s, int64_t *rows, int8_t *signs);

/* Dense rows r0 .. r0 + m - 1 of A, given as the m x d block a with element
 * (j, c) at a[j*rs + c*cs]; out is k x d with element (r, c) at
 * out[r*ors + c*ocs]. Fastest when rs or cs is 1, with out in the same
 * order. */
#define RANDLA_DECLARE_DENSE(T, SUF)                                          \
    int randla_sparse_sign_dense_##SUF(                                       \
        const T *restrict a, ptrdiff_t m, ptrdiff_t d, ptrdiff_t rs,          \
        ptrdiff_t cs, int64_t r0, uint64_t seed, int64_t s, T *restrict out,  \
        int64_t k, ptrdiff_t ors, ptrdiff_t ocs);

/* Compressed sparse A, index arrays int32 or int64 (suffix i32/i64), rows
 * r0 .. r1 - 1 of A; out is k x d.
 * CSR: out C-contiguous.
 * CSC: out Fortran-contiguous; row indices sorted within each column (each
 * column's first entry in a row >= r0 is found by bisection); rows of A
 * hashed where their entries are, or by blocks when they have several.
 * Returns -2 when it meets an unsorted column. */
#define RANDLA_DECLARE_SPARSE(T, SUF, I, ISUF)                                \
    int randla_sparse_sign_csr_##SUF##_##ISUF(                                \
        const I *indptr, const I *indices, const T *data, int64_t r0,         \
        int64_t r1, uint64_t seed, int64_t s, T *out, int64_t k,              \
        ptrdiff_t d);                                                         \
    int randla_sparse_sign_csc_##SUF##_##ISUF(                                \
        const I *indptr, const I *indices, const T *data, ptrdiff_t d,        \
        int64_t r0, int64_t r1, uint64_t seed, int64_t s, T *out, int64_t k);

RANDLA_DECLARE_DENSE(double, f64)
RANDLA_DECLARE_DENSE(float, f32)
RANDLA_DECLARE_SPARSE(double, f64, int32_t, i32)
RANDLA_DECLARE_SPARSE(double, f64, int64_t, i64)
RANDLA_DECLARE_SPARSE(float, f32, int32_t, i32)
RANDLA_DECLARE_SPARSE(float, f32, int64_t, i64)

#endif
