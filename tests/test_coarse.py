"""Coarse scores (issue 16): the guarantee of randla/_coarse.py, checked.

The claims of the module docstring, on Gaussian, coherent, heavy-tailed and
real (scikit-learn's digits: integer pixels, ties, rank 61 of 64) inputs:

* the preconditioned Gram matrix has mean/smallest eigenvalue at most 2.6,
  so OVERSAMPLING = 3.5 >= (4/3) x that ratio;
* each row is under-estimated by more than a factor beta with probability
  at most F_chi2_m(m kappa / beta), kappa that ratio, and none by more
  than 16 kappa;
* a Bernoulli sample on coarse scores of size 3.5 k has a second moment
  E||Q^T S^T S Q - I||_F^2 = sum_i (1/q_i - 1) tau_i^2 (exact, given the
  probabilities) no larger than exact-score sampling of size k, and its
  exact l_2 distortion is no worse; for l_p the distortion estimate of a
  coarse Lewis sample is no worse than an exact one's.
"""

import warnings

import dask.array as da
import numpy as np
import pytest
import scipy.sparse as sp
from scipy.stats import chi2
from sklearn.datasets import load_digits

import randla
from randla import _coarse
from randla._linalg import preconditioner, rank_tolerance


def _coherent(n=20_000, d=12, seed=0):
    A = np.random.default_rng(seed).standard_normal((n, d))
    A[:d] = 1e6 * np.eye(d)  # d rows of leverage 1
    return A


def _heavy(n=20_000, d=12, seed=1):
    return np.random.default_rng(seed).standard_t(1, size=(n, d))


def _gaussian(n=20_000, d=12, seed=2):
    return np.random.default_rng(seed).standard_normal((n, d))


INPUTS = {
    "gaussian": _gaussian,
    "coherent": _coherent,
    "student-t(1)": _heavy,
    "digits": lambda: load_digits().data,
}


def _exact(A):
    """Exact scores and rank from an SVD (a reference independent of randla)."""
    U, s, _ = np.linalg.svd(A, full_matrices=False)
    r = int(np.sum(s > s[0] * 1e-12))
    return np.einsum("ij,ij->i", U[:, :r], U[:, :r]), r


def _kappa(A, seed):
    """Mean over smallest eigenvalue of (A R0^-1)^T (A R0^-1), R0 as coarse_leverage draws it."""
    d = A.shape[1]
    R0, cols, _ = preconditioner(
        A,
        rank_tolerance(None, d, A.dtype),
        np.random.default_rng(seed),
        rows=_coarse._sketch_rows(d),
        nnz=_coarse.SKETCH_NNZ,
    )
    Y = (A if cols is None else A[:, cols]) @ np.linalg.inv(R0)
    eigenvalues = np.linalg.eigvalsh(Y.T @ Y)
    return eigenvalues.mean() / eigenvalues.min()


@pytest.fixture(scope="module", params=list(INPUTS))
def problem(request):
    A = INPUTS[request.param]()
    assert _coarse.applies(A.shape)  # the coarse path runs, not the exact fallback
    return A, *_exact(A)


def _coarse_scores(A, seed):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", randla.RankWarning)  # digits has rank 61
        return randla.leverage_scores(A, method="coarse", rng=seed)


def test_the_spectrum_ratio_is_within_what_oversampling_allows(problem):
    A = problem[0]
    worst = max(_kappa(A, seed) for seed in range(10))
    # kappa = 1 only for a sketch that preconditions exactly (it cannot with
    # 8d + 16 rows); 2.6 is the measured bound the docstring and OVERSAMPLING
    # rest on: a sketch that embeds worse (fewer nonzeros, a weaker hash) fails.
    assert 1 < worst <= 2.6
    assert 4 / 3 * worst <= randla.OVERSAMPLING


@pytest.mark.parametrize("beta", [2.0, 3.5, 8.0])
def test_rows_fall_below_tau_over_beta_at_most_at_the_stated_rate(problem, beta):
    A, tau, _ = problem
    m = _coarse.width(A.shape[0])
    below = np.mean([np.mean(_coarse_scores(A, seed) < tau / beta) for seed in range(10)])
    bound = np.mean([chi2.cdf(m * _kappa(A, seed) / beta, m) for seed in range(10)])
    assert below <= bound
    # Not vacuous: a factor 2 leaves some rows below (the chi2_m lower tail).
    assert beta > 2 or below > 0.005


def test_no_row_falls_below_tau_over_16_kappa(problem):
    # The width makes every chi2_m / m factor >= 1/16 with probability 0.99:
    # with width 8, one row of digits came out 33 times below its score.
    A, tau, _ = problem
    for seed in range(10):
        lowest = np.min(_coarse_scores(A, seed)[tau > 0] / tau[tau > 0])
        assert lowest >= 1 / (16 * _kappa(A, seed))


def test_estimates_sum_to_the_rank(problem):
    A, _, r = problem
    assert _coarse_scores(A, 0).sum() == pytest.approx(r, rel=1e-12)


def _second_moment(tau, q):
    """E||Q^T S^T S Q - I||_F^2 = sum_i (1/q_i - 1) tau_i^2 for Bernoulli probabilities q."""
    kept = q > 0
    if np.any(tau[~kept] > 0):  # a row that carries leverage but is never drawn
        return np.inf
    return float(np.sum((1 / q[kept] - 1) * tau[kept] ** 2))


def test_a_coarse_sample_has_the_second_moment_of_an_exact_one(problem):
    A, tau, r = problem
    k = min(20 * r, A.shape[0] // 5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", randla.RankWarning)
        exact = randla.leverage_sample(A, k, accuracy="exact", rng=0)
        coarse = [randla.leverage_sample(A, k, rng=seed) for seed in range(20)]
    assert exact.scores == "exact leverage" and exact.k == k
    assert all(s.scores == "coarse leverage" and s.k == int(np.ceil(3.5 * k)) for s in coarse)
    reference = _second_moment(tau, exact.probabilities)
    moments = [_second_moment(tau, s.probabilities) for s in coarse]
    assert np.mean(moments) <= reference
    # Exact scores at 3.5 k do better still: the factor is a price, not free.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", randla.RankWarning)
        grown = randla.leverage_sample(A, int(np.ceil(3.5 * k)), accuracy="exact", rng=0)
    assert _second_moment(tau, grown.probabilities) < np.mean(moments)


def test_a_coarse_sample_is_an_embedding_at_the_documented_size(problem):
    # The exact distortion max |sigma(SQ)^2 - 1| of the sampled rows.
    A, _, r = problem
    k = min(20 * r, A.shape[0] // 5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", randla.RankWarning)
        exact = [
            randla.subspace_distortion(A, randla.leverage_sample(A, k, accuracy="exact", rng=s))
            for s in range(10)
        ]
        coarse = [
            randla.subspace_distortion(A, randla.leverage_sample(A, k, rng=s)) for s in range(10)
        ]
    assert np.median(coarse) <= np.median(exact)
    assert np.max(coarse) < 1


@pytest.mark.parametrize("p", [1.0, 1.5, 3.0])
def test_coarse_lewis_weights_are_within_a_factor(p):
    A = _heavy(d=8)
    w = randla.lewis_weights(A, p)
    ratios = np.concatenate(
        [randla.lewis_weights(A, p, method="coarse", rng=seed) / w for seed in range(5)]
    )
    assert np.sum(randla.lewis_weights(A, p, method="coarse", rng=0)) == pytest.approx(8)
    # The chi2_8 spread to the power p/2 (wider projection for p > 2) and the
    # rest of the contraction: 98% of the rows within a factor 4 (p <= 2) or 8.
    low, high = np.quantile(ratios, [0.01, 0.99])
    factor = 4 if p <= 2 else 8
    assert 1 / factor < low and high < factor
    assert np.median(ratios) == pytest.approx(1, abs=0.25)


@pytest.mark.slow
def test_a_coarse_lewis_sample_is_an_lp_embedding_like_an_exact_one():
    A = _heavy(d=6)
    k = 400
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", randla.ConvergenceWarning)
        w = randla.lewis_weights(A, 1.5)
        exact = [
            randla.lp_distortion(
                A, randla.lewis_sample(A, k, p=1.5, accuracy="exact", rng=s), lewis_weights=w
            )
            for s in range(8)
        ]
        coarse = [
            randla.lp_distortion(A, randla.lewis_sample(A, k, p=1.5, rng=s), lewis_weights=w)
            for s in range(8)
        ]
    assert np.median(coarse) <= np.median(exact)


def test_the_lewis_iterations_and_their_ceiling():
    assert _coarse.lewis_iterations(10**6, 2.0) == 1
    assert _coarse.lewis_iterations(10**6, 1.5) == 3
    assert _coarse.lewis_iterations(10**6, 1.0) == 5
    assert _coarse.lewis_iterations(10**6, 3.0) == 5
    assert _coarse.lewis_iterations(10**6, 3.9) == 5


def test_small_input_gets_exact_scores_and_size_k():
    A = np.random.default_rng(0).standard_normal((300, 4))  # n d < 50000
    s = randla.leverage_sample(A, 50, rng=0)
    assert s.scores == "exact leverage" and s.k == 50
    np.testing.assert_allclose(
        randla.leverage_scores(A, method="coarse", rng=0), randla.leverage_scores(A), rtol=1e-12
    )
    assert randla.lewis_sample(A, 50, p=1.5, rng=0).scores == "exact lewis"


def test_p_of_4_and_more_get_exact_lewis_weights_in_samplers():
    A = _gaussian(d=4)
    s = randla.lewis_sample(A, 100, p=5, rng=0)
    assert s.scores == "exact lewis" and s.k == 100
    h = randla.hybrid_sample(A, 100, p=5, rng=0)
    assert h.scores == "coarse hybrid" and h.k == 350  # its leverage half is coarse


def test_labels_of_every_sampler():
    A = _heavy(d=5)
    assert randla.sensitivity_sample(A, 100, p=1.5, rng=0).scores == "coarse lewis"
    assert randla.sensitivity_sample(A, 100, p=1.5, method="root-leverage", rng=0).scores == (
        "coarse root-leverage"
    )
    assert randla.root_leverage_sample(A, 100, p=1, rng=0).scores == "coarse root-leverage"
    assert randla.augmented_sample(A, 100, p=1, rng=0).scores == "coarse augmented"
    assert randla.uniform_sample(A, 100, rng=0).scores == "uniform"
    assert randla.sample_rows(np.ones(10), 3, rng=0).scores == "given"
    iid = randla.leverage_sample(A, 100, scheme="iid", rng=0)
    assert iid.k == 350 and len(iid) == 350


def test_the_grown_size_stops_at_n_for_bernoulli():
    A = _gaussian(n=20_000, d=4)
    s = randla.leverage_sample(A, 10_000, rng=0)
    assert s.k == 20_000 and len(s) == 20_000


def test_every_container_gives_the_same_coarse_scores(tmp_path):
    A = _heavy(d=6)
    reference = randla.leverage_scores(A, method="coarse", rng=3)
    path = tmp_path / "A.npy"
    np.save(path, A)
    containers = {
        "fortran": np.asfortranarray(A),
        "csr": sp.csr_array(A),
        "csc": sp.csc_array(A),
        "memmap": np.load(path, mmap_mode="r"),
        "dask": da.from_array(A, chunks=(3000, 6)),
        "read-only": np.frombuffer(A.tobytes()).reshape(A.shape),
    }
    for name, B in containers.items():
        np.testing.assert_allclose(
            randla.leverage_scores(B, method="coarse", rng=3), reference, rtol=1e-9, err_msg=name
        )
    w = randla.lewis_weights(A, 1.5, method="coarse", rng=3)
    for name in ("csr", "memmap", "dask"):
        np.testing.assert_allclose(
            randla.lewis_weights(containers[name], 1.5, method="coarse", rng=3),
            w,
            rtol=1e-9,
            err_msg=name,
        )
    s32 = randla.leverage_scores(A.astype(np.float32), method="coarse", rng=3)
    assert s32.dtype == np.float32


def test_zero_rows_and_a_column_in_other_units():
    A = _heavy(d=6)
    A[::7] = 0
    B = np.hstack([A, 1e-9 * A[:, :1]])  # the same direction in other units
    with pytest.warns(randla.RankWarning, match="rank 6 < 7"):
        u = randla.leverage_scores(B, method="coarse", rng=0)
    assert np.all(u[::7] == 0) and u.sum() == pytest.approx(6)
    with pytest.warns(randla.RankWarning, match="rank 6 < 7"):
        w = randla.lewis_weights(B, 1.5, method="coarse", rng=0)
    assert np.all(w[::7] == 0) and np.all(w[1::7] > 0)
    # Rescaling a column changes neither the rank nor the estimates' law.
    C = A.copy()
    C[:, 0] *= 1e12
    u0 = randla.leverage_scores(A, method="coarse", rng=0)
    np.testing.assert_allclose(randla.leverage_scores(C, method="coarse", rng=0), u0, rtol=1e-6)


def test_coarse_ridge_scores_are_estimates_of_the_ridge_scores():
    A = _coherent(d=6)
    exact = randla.ridge_leverage_scores(A, 10.0)
    ratios = np.concatenate(
        [randla.ridge_leverage_scores(A, 10.0, method="coarse", rng=s) / exact for s in range(5)]
    )
    assert np.quantile(ratios, 0.01) > 0.1 and np.quantile(ratios, 0.99) < 3
    assert np.median(ratios) == pytest.approx(1, abs=0.2)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda A: randla.leverage_sample(A, 10, accuracy="fast"), "^accuracy must be one of"),
        (lambda A: randla.lewis_sample(A, 10, p=1.5, accuracy=None), "^accuracy must be one of"),
        (
            lambda A: randla.lewis_weights(A, 4, method="coarse"),
            r"^method='coarse' needs p < 4 .*, got p=4.0",
        ),
        (
            lambda A: randla.lewis_weights(A, 1.5, method="coarse", max_iter=3),
            "^max_iter belongs to method='exact'",
        ),
        (
            lambda A: randla.lp_regression(A, A[:, 0], 1.5, accuracy="exact"),
            "^accuracy='exact' chooses the scores of a sample: it needs k",
        ),
        (lambda A: randla.ridge_leverage_scores(A, 1.0, method="qr"), "^method must be one of"),
    ],
)
def test_bad_accuracy_and_methods_are_named(call, message):
    with pytest.raises(ValueError, match=message):
        call(_gaussian(n=2000, d=3))


def test_the_old_method_keyword_of_leverage_sample_points_at_accuracy():
    with pytest.raises(TypeError, match=r"takes accuracy=, not method= \(renamed\)"):
        randla.leverage_sample(_gaussian(n=2000, d=3), 10, method="qr")
