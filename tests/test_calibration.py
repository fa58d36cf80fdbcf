"""Self-calibration (Ling & Strohmer): exact recovery, thresholds, noise, ambiguity."""

import numpy as np
import pytest
import scipy.sparse as sp

import randla
from randla import _calibration as calibration
from randla._calibration import _reduce_blocks, _reduce_repeated

MODELS = ["repeated", "snapshots", "diverse-inputs"]


def _gaussian(rng, shape, complex_):
    G = rng.standard_normal(shape)
    return (G + 1j * rng.standard_normal(shape)) / np.sqrt(2) if complex_ else G


def _instance(model, p, m, n, complex_, seed=0, noise=0.0):
    """(y, A, d, x) with y_l = diag(d) A_l x_l + noise * ||clean|| / sqrt(pm) * N(0, 1)."""
    rng = np.random.default_rng(seed)
    d = 1 + 0.5 * rng.random(m)
    if complex_:
        d = d * np.exp(1j * rng.uniform(-1, 1, m))
    if model == "repeated":
        A, x = _gaussian(rng, (p, m, n), complex_), _gaussian(rng, n, complex_)
        clean = d * np.einsum("lmn,n->lm", A, x)
    elif model == "snapshots":
        A, x = _gaussian(rng, (m, n), complex_), _gaussian(rng, (p, n), complex_)
        clean = d * (x @ A.T)
    else:
        A, x = _gaussian(rng, (p, m, n), complex_), _gaussian(rng, (p, n), complex_)
        clean = d * np.einsum("lmn,ln->lm", A, x)
    scale = noise * np.linalg.norm(clean) / np.sqrt(clean.size)
    return clean + scale * _gaussian(rng, clean.shape, complex_), A, d, x


def _error_up_to_scale(estimate, truth):
    """min over alpha of ||alpha * estimate - truth|| / ||truth|| (spec section 0)."""
    estimate, truth = np.ravel(estimate), np.ravel(truth)
    alpha = np.vdot(estimate, truth) / np.vdot(estimate, estimate)
    return float(np.linalg.norm(alpha * estimate - truth) / np.linalg.norm(truth))


def _sizes(model):
    # Above the count threshold: mp = 60 >= m + n - 1 = 29 (repeated); p(m - n) = 60 >= 19.
    return (3, 20, 10) if model == "repeated" else (6, 20, 10)


@pytest.mark.parametrize("complex_", [False, True], ids=["real", "complex"])
@pytest.mark.parametrize("method", ["lstsq", "spectral"])
@pytest.mark.parametrize("model", MODELS)
def test_exact_recovery_up_to_scale(model, method, complex_):
    y, A, d, x = _instance(model, *_sizes(model), complex_)
    res = randla.self_calibrate(y, A, model=model, method=method)
    # Errors of the calibration and the signal, and of the pair with one common scale.
    assert _error_up_to_scale(res.d, d) < 1e-10
    assert _error_up_to_scale(res.x, x) < 1e-10
    assert (
        _error_up_to_scale(
            np.concatenate([res.s, np.ravel(res.x)]), np.concatenate([1 / d, np.ravel(x)])
        )
        < 1e-10
    )
    assert res.residual_norm < 1e-10 * np.linalg.norm(y)
    assert res.null_space_dim == 1
    # The "mean" constraint holds: the mean of s is 1.
    assert np.mean(res.s) == pytest.approx(1, rel=1e-10)
    assert res.method == method and res.model == model
    assert np.isnan(res.singular_gap) == (method == "lstsq")


@pytest.mark.parametrize("model", MODELS)
def test_lstsq_and_spectral_agree_and_scale_ambiguity(model):
    y, A, d, x = _instance(model, *_sizes(model), False, seed=1)
    ls = randla.self_calibrate(y, A, model=model, constraint="reference")
    spectral = randla.self_calibrate(y, A, model=model, method="spectral", constraint="reference")
    np.testing.assert_allclose(spectral.d, ls.d, rtol=1e-9)
    np.testing.assert_allclose(spectral.x, ls.x, rtol=1e-8, atol=1e-10)
    # (alpha d, x / alpha) produces the very same y, hence the same normalised output.
    assert ls.s[0] == pytest.approx(1)
    np.testing.assert_allclose(ls.d, d / d[0], rtol=1e-9)
    np.testing.assert_allclose(ls.x, x * d[0], rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("model", MODELS)
def test_constraints_give_the_same_direction(model):
    y, A, d, x = _instance(model, *_sizes(model), True, seed=2)
    results = [
        randla.self_calibrate(y, A, model=model, constraint=c, rng=0)
        for c in ("mean", "reference", "random")
    ]
    K = len(d)
    w = np.zeros(K + np.size(x), dtype=complex)
    w[3] = 2.0
    results.append(randla.self_calibrate(y, A, model=model, constraint=(w, 1.0)))
    assert results[-1].s[3] == pytest.approx(0.5)  # w^* z = 2 s_3 = 1
    for res in results:
        assert _error_up_to_scale(res.d, d) < 1e-10
        assert 0 < res.constraint_cosine <= 1


@pytest.mark.parametrize("model", MODELS)
def test_below_the_count_threshold_is_refused(model):
    # repeated: mp = 2 * 20 = 40 < m + n - 1 = 44; others: p(m - n) = 2 * 5 = 10 < m - 1 = 19.
    p, m, n = (2, 20, 25) if model == "repeated" else (2, 20, 15)
    y, A, _, _ = _instance(model, p, m, n, False)
    need = "p >= 3" if model == "repeated" else "p >= 4"
    with pytest.raises(ValueError, match=f"too few measurements .* \\({need}\\)"):
        randla.self_calibrate(y, A, model=model)


def test_unidentifiable_instance_reports_its_null_space():
    # Enough equations, but all p measurements are the same: the system only
    # has m independent rows for m + n unknowns.
    rng = np.random.default_rng(3)
    A1, x, d = rng.standard_normal((20, 5)), rng.standard_normal(5), 1 + rng.random(20)
    A = np.stack([A1] * 4)
    y = d * np.einsum("lmn,n->lm", A, x)
    for method in ("lstsq", "spectral"):
        with pytest.warns(
            randla.RandlaWarning, match="do not identify .* null space has dimension"
        ):
            res = randla.self_calibrate(y, A, method=method)
        assert res.null_space_dim >= 2


@pytest.mark.parametrize("method", ["lstsq", "spectral"])
@pytest.mark.parametrize("model", ["repeated", "snapshots"])
def test_error_is_linear_in_the_noise(model, method):
    levels = np.array([1e-7, 1e-6, 1e-5, 1e-4])
    errors = []
    for level in levels:
        trials = [
            _error_up_to_scale(
                randla.self_calibrate(
                    *_instance(model, *_sizes(model), False, seed=s, noise=level)[:2],
                    model=model,
                    method=method,
                ).d,
                _instance(model, *_sizes(model), False, seed=s)[2],
            )
            for s in range(10)
        ]
        errors.append(np.median(trials))
    slope = np.polyfit(np.log10(levels), np.log10(errors), 1)[0]
    assert abs(slope - 1) < 0.1, (slope, errors)


def _dense_system(y, A, model):
    """A_w built entry by entry: rows (l, i), columns (s, x or x_1..x_p)."""
    p, m = y.shape
    n = A.shape[-1]
    blocks = 1 if model == "repeated" else p
    M = np.zeros((p * m, m + n * blocks), dtype=np.result_type(y, A))
    for j in range(p):
        A_j = A if model == "snapshots" else A[j]
        col = m + (0 if model == "repeated" else j * n)
        M[j * m : (j + 1) * m, :m] = np.diag(y[j])
        M[j * m : (j + 1) * m, col : col + n] = -A_j
    return M


def _sparse_system(y, A, model):
    """The same A_w assembled from scipy.sparse blocks."""
    p, m = y.shape
    diag = sp.vstack([sp.diags_array(row) for row in y])
    if model == "repeated":
        signal = sp.csr_array(-A.reshape(p * m, -1))
    else:
        signal = sp.block_diag(
            [sp.csr_array(-(A if model == "snapshots" else A[j])) for j in range(p)]
        )
    return sp.hstack([diag, signal]).tocsr()


@pytest.mark.parametrize("model", MODELS)
def test_sparse_and_dense_systems_agree_and_have_the_solution_as_null_vector(model):
    y, A, d, x = _instance(model, *_sizes(model), True, seed=4)
    dense, sparse = _dense_system(y, A, model), _sparse_system(y, A, model)
    np.testing.assert_array_equal(sparse.toarray(), dense)
    z = np.concatenate([1 / d, np.ravel(x)])
    assert np.linalg.norm(dense @ z) < 1e-12 * np.linalg.norm(dense) * np.linalg.norm(z)
    sv = np.linalg.svd(dense, compute_uv=False)
    assert sv[-1] < 1e-12 * sv[0] < sv[-2]  # null space of dimension exactly 1
    # The solver's residual is ||A_w z|| of its own (s, x).
    res = randla.self_calibrate(y, A, model=model, constraint="random", rng=1)
    mine = np.linalg.norm(dense @ np.concatenate([res.s, np.ravel(res.x)]))
    assert res.residual_norm == pytest.approx(mine, abs=1e-12 * np.linalg.norm(y))


def test_reductions_preserve_the_objective():
    # ||A_w z||^2 + |w^* z - c|^2 = ||reduced k||^2 + |t|^2 + |v^* t + q^* k - c|^2
    # for every z, in both eliminations.
    rng = np.random.default_rng(5)
    p, m, n = 3, 8, 4
    y = _gaussian(rng, (p, m), True)
    A = _gaussian(rng, (p, m, n), True)
    w, c = _gaussian(rng, m + n, True), 1.5
    s, x = _gaussian(rng, m, True), _gaussian(rng, n, True)
    z = np.concatenate([s, x])
    full = np.linalg.norm(_dense_system(y, A, "repeated") @ z) ** 2 + abs(np.vdot(w, z) - c) ** 2
    reduced, q, v, eliminated = _reduce_repeated(y, A, w[:m], w[m:])
    t = (
        np.linalg.norm(y, axis=0) * s
        - np.einsum("li,lin->in", (y / np.linalg.norm(y, axis=0)).conj(), A) @ x
    )
    np.testing.assert_allclose(eliminated(x, t), s)
    dense = reduced.dense()
    # The implicit reduced matrix: products and Gram matrix as the dense one's.
    r = _gaussian(rng, p * m, True)
    np.testing.assert_allclose(reduced.matvec(x), dense @ x, rtol=1e-12)
    np.testing.assert_allclose(reduced.rmatvec(r), dense.conj().T @ r, rtol=1e-12)
    real = _reduce_repeated(y.real, A.real, w[:m].real, w[m:].real)[0]
    gram = np.triu(real.gram())
    np.testing.assert_allclose(gram, np.triu(real.dense().T @ real.dense()), rtol=1e-10, atol=1e-12)
    mine = (
        np.linalg.norm(dense @ x) ** 2
        + np.linalg.norm(t) ** 2
        + abs(np.vdot(v, t) + np.vdot(q, x) - c) ** 2
    )
    assert mine == pytest.approx(full, rel=1e-10)
    # Block elimination of x (the snapshot model's route), on the same kind of z.
    Ys = [np.diag(row) for row in y]
    reduced, q, v, eliminated = _reduce_blocks(
        Ys, list(A), w[:m], np.split(_gaussian(rng, p * n, True), p)
    )
    assert reduced.shape == (p * m, m) and len(v) == p * n


def test_subspace_variant():
    rng = np.random.default_rng(6)
    p, m, n, k = 2, 30, 8, 4
    B = np.linalg.qr(rng.standard_normal((m, k)))[0]
    h = rng.standard_normal(k) + np.array([3.0, 0, 0, 0])
    s0 = B @ h
    A, x = rng.standard_normal((p, m, n)), rng.standard_normal(n)
    y = np.einsum("lmn,n->lm", A, x) / s0
    # 60 equations for k + n = 12 unknowns; without the subspace m + n = 38 would also do,
    # so take p = 1 too: 30 equations, 38 unknowns without it, 12 with it.
    for p_used in (2, 1):
        res = randla.self_calibrate(y[:p_used], A[:p_used], subspace=B, method="lstsq")
        assert _error_up_to_scale(res.h, h) < 1e-10
        assert _error_up_to_scale(res.x, x) < 1e-10
        np.testing.assert_allclose(res.s, B @ res.h)
    with pytest.raises(ValueError, match="too few measurements"):
        randla.self_calibrate(y[:1], A[:1])


def test_blind_deconvolution():
    rng = np.random.default_rng(7)
    p, m, n = 4, 64, 8
    h = np.exp(-np.arange(m) / 4.0) * (1 + 0.1 * rng.standard_normal(m))
    C, x = rng.standard_normal((p, m, n)), rng.standard_normal((p, n))
    y = np.real(
        np.fft.ifft(np.fft.fft(h) * np.fft.fft(np.einsum("lmn,ln->lm", C, x), axis=1), axis=1)
    )
    for method in ("lstsq", "spectral"):
        res = randla.blind_deconvolve(y, C, method=method)
        assert np.isrealobj(res.h) and np.isrealobj(res.x)
        assert _error_up_to_scale(res.h, h) < 1e-9
        assert _error_up_to_scale(res.x, x) < 1e-9


def test_bad_inputs():
    y, A, _, _ = _instance("repeated", 3, 20, 10, False)
    with pytest.raises(ValueError, match=r"A must have shape \(3, 20, n\)"):
        randla.self_calibrate(y, A[:2])
    with pytest.raises(ValueError, match="A must have m = 20 rows"):
        randla.self_calibrate(y, A[0, :10], model="snapshots")
    with pytest.raises(ValueError, match="y must be a non-empty 2-D array"):
        randla.self_calibrate(y[0], A)
    bad = y.copy()
    bad[:, 4] = 0
    with pytest.raises(ValueError, match=r"y is zero at entry 4 in every measurement"):
        randla.self_calibrate(bad, A)
    bad[0, 4] = np.nan
    with pytest.raises(ValueError, match="y contains NaN"):
        randla.self_calibrate(bad, A)
    with pytest.raises(ValueError, match="model must be one of"):
        randla.self_calibrate(y, A, model="blind")
    with pytest.raises(ValueError, match="constraint w must have shape \\(30,\\)"):
        randla.self_calibrate(y, A, constraint=(np.ones(3), 1.0))
    with pytest.raises(ValueError, match="c != 0"):
        randla.self_calibrate(y, A, constraint=(np.ones(30), 0.0))
    with pytest.raises(ValueError, match="snapshots needs|m > n"):
        randla.self_calibrate(y[:, :8], np.ones((8, 10)), model="snapshots")


@pytest.mark.parametrize("complex_", [False, True], ids=["real", "complex"])
@pytest.mark.parametrize("model", MODELS)
def test_iterative_spectral_solver_for_large_systems(model, complex_, monkeypatch):
    # Large reduced systems take shift-invert subspace iteration on the Gram
    # matrix; forced here on small instances, it must agree with the dense path.
    y, A, d, x = _instance(model, *_sizes(model), complex_, seed=9)
    dense = randla.self_calibrate(y, A, model=model, method="spectral")
    monkeypatch.setattr(calibration, "_DENSE_SPECTRAL_COLUMNS", 0)
    iterative = randla.self_calibrate(y, A, model=model, method="spectral")
    assert _error_up_to_scale(iterative.d, d) < 1e-8
    np.testing.assert_allclose(iterative.d, dense.d, rtol=1e-7)
    assert iterative.null_space_dim == 1
    assert iterative.singular_gap == pytest.approx(dense.singular_gap, rel=1e-4)
    rng = np.random.default_rng(10)
    A1, x1, d1 = rng.standard_normal((20, 5)), rng.standard_normal(5), 1 + rng.random(20)
    same = np.stack([A1] * 4)
    with pytest.warns(randla.RandlaWarning, match="null space has dimension"):
        randla.self_calibrate(d1 * np.einsum("lmn,n->lm", same, x1), same, method="spectral")


def _identical_measurements():
    """(y, C): p = 4 equal blurred inputs, whose system has a null space of dimension n = 2."""
    rng = np.random.default_rng(11)
    p, m, n = 4, 16, 2
    C = np.stack([rng.standard_normal((m, n))] * p)
    x = np.stack([rng.standard_normal(n)] * p)
    h = np.exp(-np.arange(m) / 3.0)
    blurred = np.fft.ifft(np.fft.fft(h) * np.fft.fft(np.einsum("lmn,ln->lm", C, x), axis=1))
    return np.real(blurred), C


@pytest.mark.parametrize("method", ["lstsq", "spectral"])
def test_warnings_point_at_the_callers_line(method):
    # Before: a fixed stacklevel=2, which pointed inside randla when
    # blind_deconvolve called self_calibrate.
    y, C = _identical_measurements()
    A = np.fft.fft(C, axis=1)
    calls = [
        lambda: randla.self_calibrate(
            np.fft.fft(y, axis=1), A, model="diverse-inputs", method=method
        ),
        lambda: randla.blind_deconvolve(y, C, method=method),
    ]
    for call in calls:
        with pytest.warns(randla.RandlaWarning, match="null space has dimension 2") as caught:
            call()
        assert [w.filename for w in caught] == [__file__]


def test_results_compare_by_identity():
    # Fields of arrays: == by value would raise on them, so results are
    # equal only to themselves and hash by identity.
    y, A, _, _ = _instance("repeated", *_sizes("repeated"), False)
    res, again = randla.self_calibrate(y, A), randla.self_calibrate(y, A)
    np.testing.assert_array_equal(res.d, again.d)
    assert res == res and not (res != res)
    assert res != again and not (res == again)
    assert hash(res) == object.__hash__(res) and len({res, again, res}) == 2
    y, C = _identical_measurements()
    C = C + np.random.default_rng(13).standard_normal(C.shape)  # diverse again
    blind, other = randla.blind_deconvolve(y, C), randla.blind_deconvolve(y, C)
    assert blind == blind and not (blind != blind)
    assert blind != other and blind.calibration != other.calibration
    assert hash(blind) == object.__hash__(blind) and len({blind, other, blind}) == 2


@pytest.mark.parametrize("model", ["snapshots", "diverse-inputs"])
def test_one_measurement_still_gives_x_of_shape_p_by_n(model):
    # With a subspace one measurement can suffice (m >= k + n - 1); x kept
    # its (p, n) shape only for p >= 2 before (it came out (n,) for p = 1).
    rng = np.random.default_rng(12)
    m, n, k = 20, 5, 4
    B = np.column_stack([np.ones(m), 0.2 * rng.standard_normal((m, k - 1))])
    s = B @ np.concatenate([[1.0], rng.standard_normal(k - 1)])
    x = rng.standard_normal((1, n))
    A = rng.standard_normal((m, n)) if model == "snapshots" else rng.standard_normal((1, m, n))
    y = (x @ A.T if model == "snapshots" else np.einsum("lmn,ln->lm", A, x)) / s
    res = randla.self_calibrate(y, A, model=model, subspace=B)
    assert res.x.shape == (1, n)
    assert _error_up_to_scale(res.x, x) < 1e-10 and _error_up_to_scale(res.s, s) < 1e-10
    # blind_deconvolve with p = 1 (then n = 1): x is (1, 1).
    h, C = np.exp(-np.arange(16) / 3.0), rng.standard_normal((1, 16, 1))
    blurred = np.real(np.fft.ifft(np.fft.fft(h) * np.fft.fft(C[:, :, 0], axis=1), axis=1))
    assert randla.blind_deconvolve(blurred, C).x.shape == (1, 1)


def test_options_are_checked_before_the_data_are_used():
    # blind_deconvolve checked method, constraint and rng only after the FFTs,
    # inside self_calibrate: a bad y was reported first.
    y, C = _identical_measurements()
    y[0, 0] = np.nan
    with pytest.raises(ValueError, match="method must be one of"):
        randla.blind_deconvolve(y, C, method="svd")
    with pytest.raises(ValueError, match="constraint must be one of"):
        randla.blind_deconvolve(y, C, constraint="median")
    with pytest.raises(TypeError, match="rng must be None"):
        randla.blind_deconvolve(y, C, rng="0")
    with pytest.raises(ValueError, match="constraint must be one of"):
        randla.self_calibrate(y, C, constraint="median")
