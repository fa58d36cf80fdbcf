"""The seed of the statistical tests.

A statistical test takes the ``global_seed`` fixture and seeds its draws with
it (``np.random.default_rng((global_seed, key))``), so that it is checked
under many seeds, not one lucky one. Every such test must pass for every seed
in 0..99:

* ``RANDLA_ALL_SEEDS=1 python -m pytest`` runs each statistical test under
  all hundred seeds;
* ``RANDLA_SEED=37 python -m pytest`` runs them under seed 37;
* by default each run picks one seed at random and prints it in the header
  (``randla statistical seed: 37``), so that any failure can be rerun.

The tests reject at ``ALPHA`` per test and seed: with about sixty
statistical test cases under a hundred seeds, a correct sampler fails the
full sweep with probability about ``6000 * ALPHA``.
"""

import os
import random

ALPHA = 1e-6


def _seeds():
    if os.environ.get("RANDLA_ALL_SEEDS"):
        return list(range(100))
    if os.environ.get("RANDLA_SEED"):
        return [int(os.environ["RANDLA_SEED"])]
    return [random.SystemRandom().randrange(100)]


SEEDS = _seeds()


def pytest_report_header(config):
    shown = "0..99 (RANDLA_ALL_SEEDS)" if len(SEEDS) > 1 else str(SEEDS[0])
    return f"randla statistical seed: {shown}"


def pytest_generate_tests(metafunc):
    if "global_seed" in metafunc.fixturenames:
        metafunc.parametrize("global_seed", SEEDS, ids=[f"seed{s}" for s in SEEDS])


def z_bound(m=1):
    """The two-sided normal quantile for m z-scores at ALPHA together (Bonferroni)."""
    from scipy.stats import norm

    return float(norm.isf(ALPHA / (2 * m)))
