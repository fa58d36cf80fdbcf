"""Benchmark plumbing: record the machine, print randla-vs-reference ratios.

Each benchmark belongs to a group (one task on one input) and has a `tool`
in its extra_info: "randla" for ours, anything else for the reference a user
would otherwise use. At the end of a timed run, the ratio of every
reference's median to randla's median is printed per group (> 1: randla is
faster).
"""

import os
import platform

import numpy as np
import pytest


def pytest_benchmark_update_machine_info(config, machine_info):
    machine_info["cores"] = os.cpu_count()
    machine_info["numpy"] = np.__version__
    machine_info["openblas_coretype"] = os.environ.get("OPENBLAS_CORETYPE", "")
    machine_info["processor"] = platform.processor() or platform.machine()


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    session = getattr(config, "_benchmarksession", None)
    if session is None or session.disabled or not session.benchmarks:
        return
    groups = {}
    for bench in session.benchmarks:
        if bench.has_error:
            continue
        tool = bench.extra_info.get("tool", "?")
        groups.setdefault(bench.group, {})[tool] = bench.stats.median
    write = terminalreporter.write_line
    write("")
    write("median time ratios, reference / randla (> 1: randla is faster)")
    for group, tools in sorted(groups.items(), key=lambda item: str(item[0])):
        ours = tools.get("randla")
        if ours is None:
            continue
        for tool, median in sorted(tools.items()):
            if tool != "randla":
                times = f"{tool} {median * 1e3:.1f} ms / randla {ours * 1e3:.1f} ms"
                write(f"  {group}: {times} = {median / ours:.2f}")


@pytest.fixture
def bench(benchmark):
    """benchmark, with the tool recorded: bench("randla", group, f, *args, **extra_info).

    Rounds: RANDLA_BENCH_ROUNDS (default 7), or 3 for a case marked
    ``heavy=True`` (one that takes seconds), after one warm-up round;
    ``heavy="once"`` runs a single round (a reference that takes minutes,
    where one run already shows the ratio).
    """

    def run(tool, group, f, *args, heavy=False, **extra_info):
        benchmark.group = group
        benchmark.extra_info["tool"] = tool
        benchmark.extra_info.update(extra_info)
        rounds = {True: 3, "once": 1}.get(heavy) or int(os.environ.get("RANDLA_BENCH_ROUNDS", "7"))
        return benchmark.pedantic(f, args=args, rounds=rounds, warmup_rounds=0 if heavy else 1)

    run.extra = benchmark.extra_info.update  # record more after the run
    return run


@pytest.fixture(scope="module")
def tall():
    """(A, b): Student-t(1.5) rows and noise, 10^6 x 20 (10 times fewer rows under CI=true).

    The l_p regression problem of test_bench_lp.py and test_bench_coarse.py.
    """
    rng = np.random.default_rng(1)
    n = 1_000_000 // (10 if os.environ.get("CI") == "true" else 1)
    A = rng.standard_t(1.5, size=(n, 20))
    return A, A @ rng.standard_normal(20) + rng.standard_t(1.5, size=n)
