"""The file-based jobs of the `randla` command: leverage, sample, lstsq, lp-regress.

Each job and each refused input of the brief runs the real command in a
subprocess (about 1.4 s of imports each); variants of an already tested path
call `randla.cli.main` in this process.
"""

import io
import json
import subprocess
import sys
import warnings

import numpy as np
import pytest
import scipy.io

import randla
from randla import cli

from ._problems import coherent, heavy_tailed, sparse_random


def _run(cwd, command):
    """Run `randla command` (split on spaces) in a subprocess in directory cwd."""
    return subprocess.run(
        [sys.executable, "-m", "randla", *command.split()],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )


def _succeeds(result):
    """The JSON summary of a successful run with nothing on stderr."""
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return json.loads(result.stdout)


def _main(tmp_path, monkeypatch, capsys, command):
    """Run `randla command` in this process: (exit status, stdout, stderr)."""
    monkeypatch.chdir(tmp_path)
    status = cli.main(command.split())
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture
def problem(tmp_path):
    """A 300 x 5 coherent A and b = A 1 + heavy-tailed noise, saved as .npy files."""
    rng = np.random.default_rng(0)
    A = coherent(300, 5, rng, scale=0.1)
    b = A @ np.ones(5) + rng.standard_t(1.5, size=300)
    np.save(tmp_path / "A.npy", A)
    np.save(tmp_path / "b.npy", b)
    return A, b


def test_leverage_of_a_memory_mapped_npy(tmp_path, problem):
    A, _ = problem
    summary = _succeeds(_run(tmp_path, "leverage A.npy --rng 0 -o s.npz --json"))
    scores = np.load(tmp_path / "s.npz")["scores"]
    np.testing.assert_allclose(scores, randla.leverage_scores(A, rng=0), rtol=0, atol=1e-12)
    assert summary["command"] == "leverage"
    assert summary["shape"] == [300, 5] and summary["sparse"] is False
    assert summary["output"] == "s.npz"
    assert summary["sum"] == pytest.approx(5)
    assert summary["argmax"] == int(np.argmax(scores))
    assert set(summary["seconds"]) == {"loading", "scores", "writing", "total"}


def test_leverage_of_a_sparse_mtx_file(tmp_path, monkeypatch, capsys):
    A = sparse_random(400, 6, 0.3, np.random.default_rng(1))
    scipy.io.mmwrite(tmp_path / "A.mtx", A)
    command = "leverage A.mtx --method sketch --rng 3"
    status, out, err = _main(tmp_path, monkeypatch, capsys, command)
    assert status == 0 and err == ""
    assert out.startswith("leverage scores of A.mtx (400 x 6, sketch): sum ")
    assert "nothing written" in out
    status, out, err = _main(tmp_path, monkeypatch, capsys, command + " -o s.npz --json")
    summary = json.loads(out)
    assert summary["sparse"] is True and summary["nnz"] == A.nnz
    expected = randla.leverage_scores(A, method="sketch", rng=3)
    np.testing.assert_allclose(np.load(tmp_path / "s.npz")["scores"], expected, rtol=1e-12)


def test_sample_by_sensitivities_for_p_not_2(tmp_path):
    A = heavy_tailed(400, 4, np.random.default_rng(2))
    np.save(tmp_path / "A.npy", A)
    summary = _succeeds(_run(tmp_path, "sample A.npy -k 40 --p 1.5 --rng 0 -o s.npz --json"))
    expected = randla.sensitivity_sample(A, 40, p=1.5, rng=0)
    saved = np.load(tmp_path / "s.npz")
    np.testing.assert_array_equal(saved["indices"], expected.indices)
    np.testing.assert_allclose(saved["scales"], expected.scales, rtol=1e-12)
    np.testing.assert_allclose(saved["probabilities"], expected.probabilities, rtol=1e-12)
    np.testing.assert_allclose(saved["rows"], expected.apply(A), rtol=1e-12)
    assert summary["method"] == "sensitivity"  # the default for p != 2
    assert (summary["p"], summary["scheme"], summary["k"]) == (1.5, "bernoulli", 40)
    assert summary["rows"] == len(expected.indices)


def test_sample_by_leverage_from_an_npz_by_default(tmp_path):
    A = coherent(300, 5, np.random.default_rng(3))
    np.savez(tmp_path / "A.npz", A=A, unused=np.zeros(3))  # the array named A is used
    command = "sample A.npz -k 30 --scheme iid --rng 2 -o s.npz --json"
    summary = _succeeds(_run(tmp_path, command))
    expected = randla.leverage_sample(A, 30, scheme="iid", rng=2)
    saved = np.load(tmp_path / "s.npz")
    np.testing.assert_array_equal(saved["indices"], expected.indices)
    np.testing.assert_allclose(saved["rows"], expected.apply(A), rtol=1e-12)
    assert summary["method"] == "leverage" and summary["rows"] == 30


@pytest.mark.parametrize(
    "method, sampler",
    [
        ("root-leverage", lambda A, rng: randla.root_leverage_sample(A, 50, p=1.5, rng=rng)),
        ("lewis", lambda A, rng: randla.lewis_sample(A, 50, p=1.5, rng=rng)),
        ("uniform", lambda A, rng: randla.uniform_sample(A, 50, p=1.5, rng=rng)),
    ],
)
def test_sample_methods_on_sparse_input(tmp_path, monkeypatch, capsys, method, sampler):
    A = sparse_random(500, 5, 0.4, np.random.default_rng(4))
    scipy.io.mmwrite(tmp_path / "A.mtx", A)
    command = f"sample A.mtx -k 50 --p 1.5 --method {method} --rng 5 -o s.npz --json"
    status, out, err = _main(tmp_path, monkeypatch, capsys, command)
    assert status == 0, err
    expected = sampler(A, 5)
    saved = np.load(tmp_path / "s.npz")
    np.testing.assert_array_equal(saved["indices"], expected.indices)
    # Sparse input, dense rows in the file.
    np.testing.assert_allclose(saved["rows"], expected.apply(A).toarray(), rtol=1e-12)
    assert json.loads(out)["method"] == method


def test_lstsq_matches_numpy(tmp_path, problem):
    A, b = problem
    summary = _succeeds(_run(tmp_path, "lstsq A.npy b.npy -o x.npz --json"))
    x_ref, residual, rank, _ = np.linalg.lstsq(A, b, rcond=None)
    np.testing.assert_allclose(np.load(tmp_path / "x.npz")["x"], x_ref, rtol=1e-10)
    assert summary["residual_norm"] == pytest.approx(np.sqrt(residual[0]), rel=1e-10)
    assert (summary["n"], summary["d"], summary["rank"]) == (300, 5, rank)
    assert summary["cond"] == randla.lstsq(A, b).condition_estimate
    assert summary["method"] == "direct"  # "auto" for a small problem
    assert summary["iterations"] == 0 and summary["converged"] is True


def test_lstsq_from_csv_with_a_column_b_prints_one_line(tmp_path, problem):
    A, b = problem
    np.savetxt(tmp_path / "A.csv", A, delimiter=",")
    np.savetxt(tmp_path / "b.csv", b[:, None], delimiter=",")  # shape (n, 1)
    result = _run(tmp_path, "lstsq A.csv b.csv --method precondition -o x.npz")
    assert result.returncode == 0 and result.stderr == ""
    lines = result.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith("least squares 300 x 5 (precondition)")
    assert "wrote x.npz" in lines[0]
    x_ref = np.linalg.lstsq(A, b, rcond=None)[0]
    np.testing.assert_allclose(np.load(tmp_path / "x.npz")["x"], x_ref, rtol=1e-8)


def test_lp_regress_on_a_sample(tmp_path, problem):
    A, b = problem
    command = "lp-regress A.npy b.npy --p 1.5 -k 100 --rng 0 -o x.npz --json"
    summary = _succeeds(_run(tmp_path, command))
    expected = randla.lp_regression(A, b, 1.5, k=100, rng=0)
    np.testing.assert_allclose(np.load(tmp_path / "x.npz")["x"], expected.x, rtol=1e-10)
    assert summary["objective"] == pytest.approx(expected.objective, rel=1e-12)
    assert summary["gap"] == pytest.approx(expected.gap, rel=1e-6, abs=1e-15)
    assert summary["method"] == expected.method == "sample+newton"
    assert summary["rows"] == expected.rows_used and summary["converged"] is True


def test_the_old_sample_size_option_is_refused_naming_k(tmp_path, problem):
    result = _run(tmp_path, "lp-regress A.npy b.npy --p 1.5 --sample-size 100 -o x.npz")
    assert result.returncode == 2 and "--sample-size is now -k" in result.stderr
    assert not (tmp_path / "x.npz").exists()


def test_lp_regress_quiet_prints_nothing(tmp_path, problem):
    A, b = problem
    np.savez(tmp_path / "problem.npz", A=A, b=b)  # one file, the arrays found by name
    result = _run(tmp_path, "lp-regress problem.npz problem.npz --p 1 --quiet -o x.npz")
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    expected = randla.lp_regression(A, b, 1)
    np.testing.assert_allclose(np.load(tmp_path / "x.npz")["x"], expected.x, rtol=1e-9)


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_line_on_a_terminal_unless_quiet(tmp_path, problem, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert cli.main("leverage A.npy -o s.npz".split()) == 0
    shown = terminal.getvalue()
    for stage in ("loading", "scores", "writing"):
        assert f"randla leverage: {stage}" in shown
    terminal.seek(0)
    terminal.truncate()
    assert cli.main("leverage A.npy -o s.npz --quiet".split()) == 0
    assert terminal.getvalue() == ""
    assert capsys.readouterr().out.count("\n") == 1  # the summary of the first run


def _write_bad_inputs(path):
    """Files each refused for one reason."""
    rng = np.random.default_rng(5)
    A = rng.standard_normal((50, 3))
    np.save(path / "A.npy", A)
    A[17, 2] = np.nan
    np.save(path / "nan.npy", A)
    np.save(path / "objects.npy", np.array([[1.0, "x"]], dtype=object), allow_pickle=True)
    np.save(path / "vector.npy", np.ones(50))
    np.save(path / "short.npy", np.ones(40))


def _one_error_line(status, out, err, message):
    assert status == 1, err
    assert out == ""
    assert "Traceback" not in err, err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("randla: error: "), err
    assert message in lines[0], err


@pytest.mark.parametrize(
    "command, message",
    [
        ("leverage missing.npy", "cannot read A from missing.npy: No such file or directory"),
        ("leverage nan.npy", "A contains NaN (first at row 17, column 2)"),
        ("leverage objects.npy", "holds pickled Python objects (dtype object), which are refused"),
        ("sample A.npy -k 60 -o s.npz", "k must be <= 50, got 60"),
    ],
)
def test_bad_input_is_one_line_on_stderr(tmp_path, command, message):
    _write_bad_inputs(tmp_path)
    result = _run(tmp_path, command)
    _one_error_line(result.returncode, result.stdout, result.stderr, message)
    assert not (tmp_path / "s.npz").exists()


@pytest.mark.parametrize(
    "command, message",
    [
        ("leverage vector.npy", "A must be a 2-D matrix, got an array of shape (50,)"),
        ("lstsq A.npy short.npy", "b must have 50 rows to match A, got 40"),
        ("lstsq A.npy A.npy", "b must be a vector of shape (n,) or (n, 1), got shape (50, 3)"),
        ("leverage A.txt", "A file A.txt has an unknown extension '.txt'"),
    ],
)
def test_bad_shapes_and_names(tmp_path, monkeypatch, capsys, command, message):
    _write_bad_inputs(tmp_path)
    _one_error_line(*_main(tmp_path, monkeypatch, capsys, command), message)


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("bad.npy", b"not numpy", "cannot read A from bad.npy: the file is not a .npy array"),
        ("empty.npy", b"", "cannot read A from empty.npy: the file is not a .npy array"),
        ("bad.npz", b"not a zip", "cannot read A from bad.npz: the file is not an .npz archive"),
        ("header.csv", b"x,y\n1,2\n", "cannot read A from header.csv: not a numeric CSV file"),
        ("bad.mtx", b"1 2\n", "cannot read A from bad.mtx: "),
    ],
)
def test_unreadable_files(tmp_path, monkeypatch, capsys, name, content, message):
    (tmp_path / name).write_bytes(content)
    _one_error_line(*_main(tmp_path, monkeypatch, capsys, f"leverage {name}"), message)


def test_npz_refusals(tmp_path, monkeypatch, capsys):
    np.savez(tmp_path / "two.npz", X=np.ones((3, 2)), Y=np.ones((3, 2)))
    np.savez(tmp_path / "objects.npz", A=np.array([[None]]))
    _, _, err = _main(tmp_path, monkeypatch, capsys, "leverage two.npz")
    assert "the archive holds 2 arrays (X, Y); it must hold exactly one, or one named 'A'" in err
    _, _, err = _main(tmp_path, monkeypatch, capsys, "leverage objects.npz")
    assert "array 'A' holds pickled Python objects" in err


def test_leverage_sampling_is_for_p_2(tmp_path, problem, monkeypatch, capsys):
    command = "sample A.npy -k 5 --p 1.5 --method leverage -o s.npz"
    status, _, err = _main(tmp_path, monkeypatch, capsys, command)
    assert status == 1
    assert err == (
        "randla: error: method 'leverage' samples for p = 2, got --p 1.5; use sensitivity, "
        "root-leverage or lewis\n"
    )


def test_an_unwritable_output_is_one_line(tmp_path, problem, monkeypatch, capsys):
    status, _, err = _main(tmp_path, monkeypatch, capsys, "leverage A.npy -o no/s.npz")
    assert status == 1
    assert err == "randla: error: no/s.npz: No such file or directory\n"


def test_warnings_are_one_line_each_and_in_the_json(tmp_path, problem, monkeypatch, capsys):
    def scores_with_a_warning(A, **kwargs):
        warnings.warn("stopped at max_iter\nbefore tol", randla.ConvergenceWarning, stacklevel=2)
        return np.ones(A.shape[0])

    # The job imports its function when it runs: replace it where it is defined.
    monkeypatch.setattr("randla._leverage.leverage_scores", scores_with_a_warning)
    status, out, err = _main(tmp_path, monkeypatch, capsys, "leverage A.npy --json")
    assert status == 0
    assert err == "randla: warning: stopped at max_iter before tol\n"
    assert json.loads(out)["warnings"] == ["stopped at max_iter before tol"]


def test_sample_accuracy_coarse_by_default_and_exact_on_request(tmp_path):
    A = heavy_tailed(20_000, 4, np.random.default_rng(5))  # tall enough for coarse scores
    np.save(tmp_path / "A.npy", A)
    coarse = _succeeds(_run(tmp_path, "sample A.npy -k 100 --p 1.5 --rng 0 -o c.npz --json"))
    expected = randla.sensitivity_sample(A, 100, p=1.5, rng=0)
    np.testing.assert_array_equal(np.load(tmp_path / "c.npz")["indices"], expected.indices)
    assert coarse["scores"] == "coarse lewis" and coarse["k"] == 350
    command = "sample A.npy -k 100 --p 1.5 --accuracy exact --rng 0 -o e.npz --json"
    exact = _succeeds(_run(tmp_path, command))
    expected = randla.sensitivity_sample(A, 100, p=1.5, accuracy="exact", rng=0)
    np.testing.assert_array_equal(np.load(tmp_path / "e.npz")["indices"], expected.indices)
    assert exact["scores"] == "exact lewis" and exact["k"] == 100
    bad = _run(tmp_path, "sample A.npy -k 100 --accuracy rough -o b.npz")
    assert bad.returncode == 2 and "--accuracy" in bad.stderr


def test_lp_regress_accuracy(tmp_path):
    rng = np.random.default_rng(6)
    A = heavy_tailed(20_000, 4, rng)
    b = A @ np.ones(4) + rng.standard_t(1.5, size=20_000)
    np.save(tmp_path / "A.npy", A)
    np.save(tmp_path / "b.npy", b)
    for accuracy in ("coarse", "exact"):
        command = f"lp-regress A.npy b.npy --p 1.5 -k 200 --accuracy {accuracy} --rng 0 --json"
        summary = _succeeds(_run(tmp_path, command))
        expected = randla.lp_regression(A, b, 1.5, k=200, accuracy=accuracy, rng=0)
        assert summary["rows"] == expected.rows_used
        assert summary["objective"] == pytest.approx(expected.objective, rel=1e-12)
    # Without -k there is no sample for the accuracy to choose.
    result = _run(tmp_path, "lp-regress A.npy b.npy --p 1.5 --accuracy exact")
    assert result.returncode != 0 and "accuracy='exact' chooses the scores of a sample" in (
        result.stderr
    )
