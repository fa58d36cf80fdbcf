import importlib
import math
import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.stats import chi2

import randla
from randla import SketchDistribution, SketchOperator, sketch_size

from ._problems import orthonormal, sparse_random
from .conftest import ALPHA, z_bound

# The module, not the function randla.sketch that shadows it on the package.
sketch_module = importlib.import_module("randla._sketch")

KINDS = ["countsketch", "sparse_sign", "srht", "gaussian"]


# --- S @ A is the product with S.toarray(), for every input kind -----------


@pytest.mark.parametrize("kind", KINDS)
def test_apply_equals_dense_product_on_every_input_kind(kind):
    # 70000 rows: more than one random-stream block and the threaded parts.
    n, d, k = 70_000, 4, 64
    rng = np.random.default_rng(0)
    A = rng.standard_normal((n, d))
    S = SketchDistribution(kind, k).draw(n, rng=1)
    ref = S.toarray() @ A
    np.testing.assert_allclose(S @ A, ref, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(S @ np.asfortranarray(A), ref, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(S @ A[:, 0], ref[:, 0], rtol=1e-10, atol=1e-10)
    Asp = sparse_random(n, d, 0.05, rng)
    ref_sp = S.toarray() @ Asp.toarray()
    for fmt in ("csr", "csc", "coo"):
        np.testing.assert_allclose(S @ Asp.asformat(fmt), ref_sp, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("kind", KINDS)
def test_float32_in_float32_out(kind):
    n, d, k = 5000, 3, 40
    A = np.random.default_rng(0).standard_normal((n, d))
    S = SketchDistribution(kind, k).draw(n, rng=2)
    SA32 = S @ A.astype(np.float32)
    assert SA32.dtype == np.float32
    SA = S @ A
    # Each entry sums about n s terms of size |A|: scale the tolerance by it.
    tol = 10 * np.finfo(np.float32).eps * np.sqrt(n) * np.abs(A).max()
    np.testing.assert_allclose(SA32, SA, atol=tol)
    assert (S @ sp.csr_array(A.astype(np.float32))).dtype == np.float32


@pytest.mark.parametrize("kind", KINDS)
def test_strided_views_and_integer_input(kind):
    n = 3000
    A = np.random.default_rng(0).integers(-5, 5, size=(n, 6))
    S = SketchDistribution(kind, 30).draw(n, rng=0)
    ref = S.toarray() @ A
    np.testing.assert_allclose(S @ A, ref, atol=1e-10)
    np.testing.assert_allclose(S @ A[:, ::2], ref[:, ::2], atol=1e-10)
    np.testing.assert_allclose(S @ np.asfortranarray(A)[:, 1:4], ref[:, 1:4], atol=1e-10)


@pytest.mark.parametrize("kind", KINDS)
def test_input_is_not_modified(kind):
    A = np.random.default_rng(0).standard_normal((1000, 3))
    A0 = A.copy()
    Asp = sp.csr_array(A)
    randla.sketch(A, 20, kind=kind, rng=0)
    randla.sketch(Asp, 20, kind=kind, rng=0)
    np.testing.assert_array_equal(A, A0)
    np.testing.assert_array_equal(Asp.toarray(), A0)


# --- seeds ------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_same_seed_same_operator(kind):
    A = np.random.default_rng(0).standard_normal((2000, 3))
    dist = SketchDistribution(kind, 50)
    S1, S2 = dist.draw(2000, rng=7), dist.draw(2000, rng=7)
    assert S1 == S2
    np.testing.assert_array_equal(S1 @ A, S2 @ A)
    np.testing.assert_array_equal(S1 @ A, S1 @ A)  # re-applied identically
    np.testing.assert_array_equal(randla.sketch(A, 50, kind=kind, rng=7), S1 @ A)
    assert not np.array_equal(dist.draw(2000, rng=8) @ A, S1 @ A)
    g = np.random.default_rng(7)
    assert dist.draw(2000, rng=g) != dist.draw(2000, rng=g)  # a Generator advances


@pytest.mark.parametrize("kind", ["countsketch", "sparse_sign"])
def test_result_does_not_depend_on_the_number_of_threads(kind, monkeypatch):
    A = np.random.default_rng(0).standard_normal((200_000, 8))
    S = SketchDistribution(kind, 100).draw(A.shape[0], rng=0)
    threaded = S @ A
    monkeypatch.setattr(sketch_module, "_available_cores", lambda: 1)
    np.testing.assert_array_equal(S @ A, threaded)


# --- CSC input: block by block of rows, as the CSR path --------------------


def _hypersparse_csc(n, d, nnz, rng):
    """An n x d CSC matrix with nnz Gaussian nonzeros in distinct rows."""
    rows, cols = rng.choice(n, nnz, replace=False), rng.integers(0, d, nnz)
    return sp.csc_array((rng.standard_normal(nnz), (rows, cols)), shape=(n, d))


@pytest.mark.parametrize("kind", ["countsketch", "sparse_sign"])
def test_tall_csc_input_costs_the_memory_of_its_nonzeros(kind):
    # 2e6 x 5 with 50 000 nonzeros. Hashing all n rows at once took 9 s n
    # bytes whatever nnz: 18 MB for CountSketch, 144 MB for sparse sign (s =
    # 8), measured before issue 15. The CSC kernel hashes each row where its
    # nonzeros are: beside the k x d outputs, no work space that grows with n.
    # Blocks of rows, hashed in turn, took 2.4 MB (measured before issue 16).
    A = _hypersparse_csc(2_000_000, 5, 50_000, np.random.default_rng(0))
    # The CSR path (four threaded parts here) first: it also loads what a
    # first call loads, which is not the CSC path's work space.
    ref = randla.sketch(A.tocsr(), 100, kind=kind, rng=0)
    tracemalloc.start()
    try:
        SA = randla.sketch(A, 100, kind=kind, rng=0)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 0.5e6, peak
    np.testing.assert_array_equal(SA, ref)


@pytest.mark.parametrize("density", [0.05, 0.9])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kind", ["countsketch", "sparse_sign"])
def test_csc_gives_the_csr_result_bit_for_bit(kind, dtype, density):
    # Four threaded row parts (each column's part found by bisection), empty
    # rows and columns, unsorted indices; rows hashed where their nonzeros
    # are (density 0.05) or by blocks (0.9: over 4 nonzeros a row): always
    # the CSR path's bits.
    rng = np.random.default_rng(1)
    A = sparse_random(70_000, 7, density, rng, fmt="csc").astype(dtype)
    A = A @ sp.diags_array(np.array([1.0, 0, 1, 1, 0, 1, 1], dtype=dtype))  # two empty columns
    A.eliminate_zeros()
    S = SketchDistribution(kind, 64).draw(A.shape[0], rng=2)
    ref = S @ A.tocsr()
    np.testing.assert_array_equal(S @ A, ref)
    shuffled = A.copy()
    for c in range(A.shape[1]):  # the same matrix with each column's entries reversed
        lo, hi = shuffled.indptr[c], shuffled.indptr[c + 1]
        shuffled.indices[lo:hi] = shuffled.indices[lo:hi][::-1].copy()
        shuffled.data[lo:hi] = shuffled.data[lo:hi][::-1].copy()
    shuffled.has_sorted_indices = False
    np.testing.assert_array_equal(S @ shuffled, ref)
    np.testing.assert_array_equal(S @ sp.csc_array(A.shape, dtype=dtype), np.zeros((64, 7)))


# --- the distributions: structure, E[S^T S] = I, embeddings -------------------


def test_sparse_structure_and_scaling():
    n, k = 500, 37
    C = SketchDistribution("countsketch", k).draw(n, rng=0).toarray()
    assert np.all((C != 0).sum(axis=0) == 1)
    assert set(np.unique(C)) == {-1.0, 0.0, 1.0}
    s = 5
    S = SketchDistribution("sparse_sign", k, nnz=s).draw(n, rng=0).toarray()
    assert np.all((S != 0).sum(axis=0) == s)
    np.testing.assert_allclose(np.abs(S[S != 0]), 1 / math.sqrt(s))
    # Nonzero t of each column lies in row block t.
    starts = (np.arange(s + 1) * k) // s
    for t in range(s):
        assert np.all((S[starts[t] : starts[t + 1]] != 0).sum(axis=0) == 1)


def test_srht_rows_are_orthogonal_when_n_is_a_power_of_two():
    n, k = 64, 10
    S = SketchDistribution("srht", k).draw(n, rng=0).toarray()
    np.testing.assert_allclose(np.abs(S), 1 / math.sqrt(k))
    np.testing.assert_allclose(S @ S.T, (n / k) * np.eye(k), atol=1e-12)


def _gram_is_identity_on_average(draws, z):
    """Whether mean(S^T S) over the draws is within z standard errors of I.

    Entries with no spread (the diagonal of the sparse kinds and of SRHT is
    1 in every draw) must match to rounding instead.
    """
    G = np.stack([S.T @ S for S in draws])
    dev = np.abs(G.mean(axis=0) - np.eye(G.shape[1]))
    se = G.std(axis=0, ddof=1) / math.sqrt(len(draws))
    exact = se < 1e-12
    return bool(np.all(dev[exact] < 1e-12) and np.all(dev[~exact] < z * se[~exact]))


@pytest.mark.parametrize("kind", KINDS)
def test_expected_gram_is_identity(kind, global_seed):
    # Every entry of mean(S^T S) over R draws within z standard errors of I;
    # z is Bonferroni over the n^2 entries at a false-alarm rate of ALPHA.
    R, n, k = 3000, 6, 4
    dist = SketchDistribution(kind, k, nnz=2 if kind == "sparse_sign" else None)
    g = np.random.default_rng((global_seed, 2024))
    draws = [dist.draw(n, rng=g).toarray() for _ in range(R)]
    z = z_bound(n * n)
    assert _gram_is_identity_on_average(draws, z)
    # The same check rejects a sketch scaled 5% too large.
    assert not _gram_is_identity_on_average([1.05 * S for S in draws], z)


# --- the hash of the sparse kinds: the independence the proof needs -----------
#
# SketchDistribution's Notes: the second-moment proof of the embedding needs
# the rows of S's nonzeros pairwise independent and uniform on their block,
# and their signs 4-wise independent and independent of the rows. The hash
# (csrc/hash.h) gives independent (row, sign) pairs for any 4 nonzeros. The
# tests below draw R operators (seeds) and check, on the keys of 24
# nonzeros, the joint law of every pair of (row, sign), and every product
# of 1 to 4 distinct signs; a deliberately weaker hash fails each.


def _hash_draws(kind, k, ranges, seeds):
    """Row offsets within the block, block sizes and signs of the nonzeros of columns `ranges`.

    `ranges` lists (r0, r1) column ranges. Returns (offsets, sizes, signs):
    offsets and signs of shape (R, m), one row per seed, one column per
    nonzero (column j, block t); sizes (m,).
    """
    dist = SketchDistribution(kind, k, nnz=2 if kind == "sparse_sign" else None)
    s = dist.nnz
    n = max(r1 for _, r1 in ranges)
    offsets, signs = [], []
    for seed in seeds:
        op = SketchOperator(dist, n, int(seed))
        rows, sg = zip(*(sketch_module._hash(op, r0, r1) for r0, r1 in ranges), strict=True)
        offsets.append(np.concatenate(rows).ravel())
        signs.append(np.concatenate(sg).ravel())
    starts = (np.arange(s + 1) * k) // s
    block = np.tile(np.arange(s), len(offsets[0]) // s)
    return np.array(offsets) - starts[block], np.diff(starts)[block], np.array(signs)


def _pair_law_pvalue(offsets, sizes, signs):
    """Smallest chi-square p-value, over pairs of nonzeros, of their joint (row, sign) law.

    Each nonzero's (offset, sign) is one of 2 b cells; a pair's R joint
    draws fall in (2 b_x)(2 b_y) cells, equally likely if the pair is
    independent and uniform.
    """
    cell = 2 * offsets + (signs > 0)
    m, R = cell.shape[1], cell.shape[0]
    pvalues = []
    for x in range(m):
        for y in range(x + 1, m):
            cells = 4 * sizes[x] * sizes[y]
            counts = np.bincount(cell[:, x] * 2 * sizes[y] + cell[:, y], minlength=cells)
            pvalues.append(chi2.sf(np.sum((counts - R / cells) ** 2) / (R / cells), cells - 1))
    return min(pvalues), len(pvalues)


def _sign_moments_z(signs):
    """Largest |z| of the products of 1 to 4 distinct signs, and how many products.

    With a column of ones beside the signs, the products of two pairs of
    columns are the products of 1 to 4 distinct signs; each sums R fair,
    independent +-1 when the signs are 4-wise independent (z = sum / sqrt R).
    """
    R, m = signs.shape
    Y = np.hstack([signs, np.ones((R, 1))]).astype(np.float32)  # sums < 2**24: exact
    a, b = np.triu_indices(m + 1, 1)
    P = Y[:, a] * Y[:, b]
    M = P.T @ P
    upper = np.triu_indices(len(a), 1)
    return np.abs(M[upper]).max() / math.sqrt(R), len(upper[0])


@pytest.mark.parametrize("kind, k", [("countsketch", 5), ("sparse_sign", 11)])
def test_hash_gives_pairwise_rows_and_four_wise_signs(kind, k, global_seed):
    # 24 nonzeros: columns 0.. and 2**40.. (keys past 2**40 s wrap the cubic
    # modulo p many times); sparse sign with 2 nonzeros per column, in
    # blocks of 5 and 6 rows. R draws: 70 to 100 per cell of a pair's law.
    R = 10_000
    s = 1 if kind == "countsketch" else 2
    half = 12 // s
    ranges = [(0, half), (2**40, 2**40 + half)]
    seeds = np.random.default_rng((global_seed, 16)).integers(0, 2**63, R)
    offsets, sizes, signs = _hash_draws(kind, k, ranges, seeds)
    # Each statistic at ALPHA / (its number of tests): ALPHA for the family.
    p, pair_tests = _pair_law_pvalue(offsets, sizes, signs)
    assert p > ALPHA / pair_tests, p
    z, moment_tests = _sign_moments_z(signs)
    assert z < z_bound(moment_tests), z

    # Deliberately weaker hashes fail. One row, or one sign, for all the
    # nonzeros of an operator: each uniform alone (1-wise independent).
    g = np.random.default_rng((global_seed, 17))
    one_row = np.minimum((g.random((R, 1)) * sizes).astype(int), sizes - 1)
    assert _pair_law_pvalue(one_row, sizes, signs)[0] < ALPHA / pair_tests
    one_sign = np.broadcast_to(g.choice(np.int8([-1, 1]), size=(R, 1)), signs.shape)
    assert _pair_law_pvalue(offsets, sizes, one_sign)[0] < ALPHA / pair_tests
    assert _sign_moments_z(one_sign)[0] > z_bound(moment_tests)
    # Signs 3-wise but not 4-wise independent, (-1)^(popcount(u & key) + v)
    # with u, v uniform: over keys 0, 1, 2, 3 (XOR 0) the product is +1.
    keys = np.concatenate([np.arange(r0 * s, r1 * s) for r0, r1 in ranges])
    u = g.integers(0, 2**63, (R, 1), dtype=np.uint64)
    parity = (np.bitwise_count(u & keys.astype(np.uint64)) + g.integers(0, 2, (R, 1))) & 1
    assert _sign_moments_z((1 - 2 * parity).astype(np.int8))[0] > z_bound(moment_tests)
    # Signs from a degree-1 polynomial modulo p (pairwise independent, as
    # the rows need; not 4-wise, as the signs need).
    P61 = 2**61 - 1
    c0, c1 = (g.integers(0, P61, (R, 1)).astype(object) for _ in range(2))
    linear = (1 - 2 * ((c0 + c1 * keys.astype(object)) % P61 & 1)).astype(np.int8)
    assert _sign_moments_z(linear)[0] > z_bound(moment_tests)


@pytest.mark.parametrize(
    "kind, nnz", [("countsketch", None), ("sparse_sign", 8), ("sparse_sign", 3)]
)
def test_second_moment_identity_of_sparse_sketches(kind, nnz, global_seed):
    # E||Q^T S^T S Q - I||_F^2 = c (d^2 + d - 2 sum_i ||q_i||^4), with
    # c = s^-2 sum_t 1/b_t (SketchDistribution Notes); the sample mean over R
    # draws within z_bound() standard errors (two-sided false-alarm rate ALPHA).
    n, d, k, R = 300, 3, 50, 4000
    rng = np.random.default_rng((global_seed, 5))
    Q = orthonormal(n, d, rng)
    dist = SketchDistribution(kind, k, nnz)
    s = dist.nnz
    b = np.diff((np.arange(s + 1) * k) // s)
    c = np.sum(1 / b) / s**2
    expected = c * (d * d + d - 2 * np.sum(np.sum(Q**2, axis=1) ** 2))
    x = np.empty(R)
    for r in range(R):
        SQ = dist.draw(n, rng=rng) @ Q
        x[r] = np.sum((SQ.T @ SQ - np.eye(d)) ** 2)
    se = x.std(ddof=1) / math.sqrt(R)
    assert abs(x.mean() - expected) < z_bound() * se


@pytest.mark.parametrize(
    "kind, n, d, delta, draws",
    [
        ("gaussian", 2000, 5, 1e-3, 5),
        ("countsketch", 60_000, 3, 2e-3, 2),
        ("sparse_sign", 60_000, 3, 2e-3, 2),
        ("srht", 1 << 17, 3, 2e-3, 2),
    ],
)
def test_subspace_embedding_at_the_documented_size(kind, n, d, delta, draws):
    # sketch_size gives the k at which every singular value of SQ lies in
    # [1 - eps, 1 + eps] with probability >= 1 - delta; over `draws` draws the
    # false-alarm rate is at most draws * delta (<= 0.5%).
    eps = 0.5
    k = sketch_size(kind, d, eps=eps, delta=delta, n=n)
    rng = np.random.default_rng(11)
    Q = orthonormal(n, d, rng)
    for _ in range(draws):
        sv = np.linalg.svd(randla.sketch(Q, k, kind=kind, rng=rng), compute_uv=False)
        assert np.all((1 - eps <= sv) & (sv <= 1 + eps)), sv


def test_sketch_size_values():
    # Gaussian: ((sqrt(d) + sqrt(2 ln(2/delta))) / eps)^2, rounded up.
    assert sketch_size("gaussian", 10, eps=0.5, delta=0.01) == math.ceil(
        ((math.sqrt(10) + math.sqrt(2 * math.log(200))) / 0.5) ** 2
    )
    assert sketch_size("countsketch", 10, eps=0.5, delta=0.01) == 44_000
    assert sketch_size("sparse_sign", 10, eps=0.5, delta=0.01, nnz=3) % 3 == 0
    L = (math.sqrt(4) + math.sqrt(8 * math.log(2 * 1024 / 0.1))) ** 2
    assert sketch_size("srht", 4, eps=0.5, delta=0.1, n=1000) == math.ceil(
        3 * L * math.log(80) / 0.25
    )
    with pytest.raises(ValueError, match="n is required for kind='srht'"):
        sketch_size("srht", 4)
    with pytest.raises(ValueError, match="eps must be in \\(0, 1\\), got 1.5"):
        sketch_size("gaussian", 4, eps=1.5)


# --- errors and repr -------------------------------------------------------------


def test_bad_arguments_give_clear_errors():
    with pytest.raises(
        ValueError,
        match="kind must be one of 'countsketch', 'sparse_sign', 'srht', 'gaussian'; "
        "got 'countsketh'",
    ):
        SketchDistribution("countsketh", 10)
    with pytest.raises(ValueError, match="k must be >= 1, got 0"):
        SketchDistribution("gaussian", 0)
    with pytest.raises(TypeError, match="k must be an integer"):
        randla.sketch(np.ones((5, 2)), 2.5)
    with pytest.raises(ValueError, match="nnz must be <= k = 4, got 5"):
        SketchDistribution("sparse_sign", 4, nnz=5)
    with pytest.raises(ValueError, match="nnz applies to sparse kinds only"):
        SketchDistribution("gaussian", 4, nnz=2)
    with pytest.raises(ValueError, match="nnz is 1 for kind='countsketch'"):
        SketchDistribution("countsketch", 4, nnz=2)
    with pytest.raises(ValueError, match="k must be <= 8 \\(n = 5 padded"):
        SketchDistribution("srht", 9).draw(5)
    with pytest.raises(ValueError, match=f"n must be <= {(2**61 - 1) // 4} for kind='sparse_sign'"):
        SketchDistribution("sparse_sign", 9, nnz=4).draw(2**60)
    assert SketchDistribution("countsketch", 9).draw(2**61 - 1).shape == (9, 2**61 - 1)
    S = SketchDistribution("gaussian", 3).draw(10, rng=0)
    with pytest.raises(
        ValueError, match="A must have 10 rows to match the operator's shape \\(3, 10\\), got 9"
    ):
        S @ np.ones((9, 2))
    A = np.ones((10, 2))
    A[4, 1] = np.nan
    for kind in KINDS:
        with pytest.raises(ValueError, match="A contains NaN \\(first at row 4, column 1\\)"):
            randla.sketch(A, 3, kind=kind, rng=0)
        with pytest.raises(ValueError, match="A contains NaN \\(first at row 4, column 1\\)"):
            randla.sketch(sp.csr_array(A), 3, kind=kind, rng=0)
    with pytest.raises(TypeError, match="rng must be None, an int seed"):
        randla.sketch(np.ones((5, 2)), 2, rng=np.random.RandomState(0))


def test_overflow_is_reported_not_returned():
    A = np.full((100, 1), 1e308)
    with pytest.raises(ValueError, match="S @ A overflowed although A is finite"):
        randla.sketch(A, 1, kind="gaussian", rng=0)


def test_small_default_nnz_and_repr():
    assert SketchDistribution("sparse_sign", 3).nnz == 3
    assert SketchDistribution("sparse_sign", 100).nnz == 8
    S = SketchDistribution("sparse_sign", 20).draw(100, rng=0)
    assert repr(S).startswith("SketchOperator(kind='sparse_sign', shape=(20, 100), nnz=8, seed=")
    assert isinstance(S, SketchOperator) and S.kind == "sparse_sign"


def test_sketch_options_are_keyword_only():
    A = np.ones((10, 2))
    with pytest.raises(TypeError, match="positional argument"):
        randla.sketch(A, 3, "gaussian")
    assert randla.sketch(A, 3, kind="gaussian", rng=0).shape == (3, 2)


def test_declared_parameters_are_checked_at_the_door():
    A = np.ones((10, 2))
    with pytest.raises(ValueError, match="nnz must be >= 1, got 0"):
        randla.sketch(A, 3, kind="sparse_sign", nnz=0)
    with pytest.raises(ValueError, match="kind must be one of"):
        randla.sketch("not a matrix", 3, kind="gausian")  # the options before the data
    with pytest.raises(TypeError, match="rng must be None"):
        randla.sketch("not a matrix", 3, rng="0")
    with pytest.raises(ValueError, match="n must be >= 1, got 0"):
        SketchDistribution("gaussian", 3).draw(0)
    with pytest.raises(TypeError, match="eps must be a real number"):
        sketch_size("gaussian", 4, eps="0.5")
    with pytest.raises(ValueError, match="delta must be in \\(0, 1\\), got 0.0"):
        sketch_size("gaussian", 4, delta=0)
    with pytest.raises(ValueError, match="n must be >= 1, got -5"):
        sketch_size("gaussian", 4, n=-5)
    with pytest.raises(ValueError, match="nnz must be >= 1, got 0"):
        sketch_size("sparse_sign", 4, nnz=0)
    assert sketch_size("sparse_sign", 4, nnz=np.int64(3)) % 3 == 0


def test_distributions_and_operators_are_values():
    # Equal fields, equal objects and hashes; no field can hold an array
    # (== on one would raise), so an operator built by hand is checked too.
    dist = SketchDistribution("sparse_sign", np.int64(20), nnz=4)
    assert dist == SketchDistribution("sparse_sign", 20, 4)
    assert hash(dist) == hash(SketchDistribution("sparse_sign", 20, 4))
    assert dist != SketchDistribution("sparse_sign", 20, 5)
    S = dist.draw(100, rng=0)
    assert S == SketchOperator(dist, 100, S.seed) and not (S != dist.draw(100, rng=0))
    assert hash(S) == hash(SketchOperator(dist, np.int64(100), S.seed))
    assert S != dist.draw(100, rng=1) and len({S, dist.draw(100, rng=0)}) == 1
    with pytest.raises(TypeError, match="n must be an integer, got numpy.ndarray"):
        SketchOperator(dist, np.array([100, 100]), 0)
    with pytest.raises(TypeError, match="seed must be an integer"):
        SketchOperator(dist, 100, np.array([1, 2]))
    with pytest.raises(ValueError, match="seed must be >= 0, got -1"):
        SketchOperator(dist, 100, -1)
    with pytest.raises(TypeError, match="distribution must be a SketchDistribution, got tuple"):
        SketchOperator(("sparse_sign", 20, 4), 100, 0)
    with pytest.raises(ValueError, match="k must be <= 8 \\(n = 5 padded"):
        SketchOperator(SketchDistribution("srht", 9), 5, 0)
