"""Concept hits and activation % with bootstrap CIs, on hand-made tables and against scipy."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
from scipy.stats import bootstrap

from emergence.analysis.activation import ActivationRow, activation_pct, latent_claims


def table(counts: dict[str, tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    """hit_N, domain_N with, per domain, (n texts, n hits); hits interleaved with misses."""
    hits, domains = [], []
    for domain, (n, n_hit) in counts.items():
        hits += [True] * n_hit + [False] * (n - n_hit)
        domains += [domain] * n
    order_N = np.random.default_rng(0).permutation(len(hits))
    return np.array(hits)[order_N], np.array(domains)[order_N]


def test_claims_by_latent_and_domain() -> None:
    top_N = np.array([3, 3, 5, -1, 7, 5, 9, 3])
    domain_N = np.array(["law", "math", "math", "law", "law", "bio", "law", "bio"])
    domains = ["bio", "law", "math"]
    # Latent 3 matched to two domains hits texts of each; 7 is matched to nothing; 9 is absent
    # (not interpretable); -1 (no active latent) never hits, even if keyed by mistake.
    matched = {3: ("law", "bio"), 5: {"math"}, 7: [], -1: ["law"]}
    claims_NM = latent_claims(top_N, matched, domains)
    assert claims_NM.dtype == bool
    hit_N = claims_NM[np.arange(top_N.size), [domains.index(d) for d in domain_N]]
    assert hit_N.tolist() == [True, False, True, False, False, False, False, True]


def test_claims_reject_bad_inputs() -> None:
    with pytest.raises(ValueError, match="1-D"):
        latent_claims(np.array([[1, 2]]), {}, ["a"])
    with pytest.raises(ValueError, match="integers"):
        latent_claims(np.array([1.0, 2.0]), {}, ["a", "b"])
    assert latent_claims(np.array([], dtype=int), {1: ["a"]}, ["a"]).shape == (0, 1)


def test_exact_pct_sorted_domains_and_empty_domain() -> None:
    hit_N, domain_N = table({"math": (40, 10), "bio": (25, 0), "law": (20, 20)})
    rows = activation_pct(hit_N, domain_N, n_boot=200)
    assert all(isinstance(row, ActivationRow) for row in rows)
    assert [row.domain for row in rows] == ["bio", "law", "math"]
    assert [(row.n, row.n_hit) for row in rows] == [(25, 0), (20, 20), (40, 10)]
    bio, law, math_row = rows
    assert math_row.pct == 25.0
    assert (bio.pct, bio.ci_low, bio.ci_high) == (0.0, 0.0, 0.0)
    assert (law.pct, law.ci_low, law.ci_high) == (100.0, 100.0, 100.0)
    assert math_row.ci_low < 25.0 < math_row.ci_high

    rows = activation_pct(hit_N, domain_N, n_boot=200, domains=["math", "physics", "bio"])
    assert [row.domain for row in rows] == ["math", "physics", "bio"]
    physics = rows[1]
    assert (physics.n, physics.n_hit) == (0, 0)
    assert all(math.isnan(v) for v in (physics.pct, physics.ci_low, physics.ci_high))


def test_ci_contains_pct_and_narrows_as_n_grows() -> None:
    widths = []
    for n in (50, 500, 5000):
        hit_N, domain_N = table({"math": (n, 3 * n // 10)})
        (row,) = activation_pct(hit_N, domain_N, seed=3)
        assert row.pct == pytest.approx(30.0)
        assert row.ci_low < row.pct < row.ci_high
        widths.append(row.ci_high - row.ci_low)
    assert widths[0] > widths[1] > widths[2]
    # Close to the normal approximation, 2 * 1.96 * sqrt(p (1 - p) / n), in percent.
    assert widths[1] == pytest.approx(2 * 1.96 * 100 * math.sqrt(0.21 / 500), rel=0.15)


@pytest.mark.parametrize(("n", "n_hit", "ci"), [(200, 60, 0.95), (80, 7, 0.9)])
def test_ci_agrees_with_scipy_percentile_bootstrap(n: int, n_hit: int, ci: float) -> None:
    hit_N, domain_N = table({"chem": (n, n_hit)})
    (row,) = activation_pct(hit_N, domain_N, n_boot=20_000, ci=ci, seed=1)
    ref = bootstrap(
        (100.0 * hit_N,),
        np.mean,
        n_resamples=20_000,
        confidence_level=ci,
        method="percentile",
        rng=np.random.default_rng(123),
    ).confidence_interval
    # Two independent Monte Carlo estimates of the same quantiles; the hit % moves in steps of
    # 100 / n, and the quantiles of 20 000 resamples are within about one step of each other.
    step = 100.0 / n
    assert row.ci_low == pytest.approx(ref.low, abs=1.5 * step)
    assert row.ci_high == pytest.approx(ref.high, abs=1.5 * step)


def test_same_seed_same_output_and_independent_of_other_domains() -> None:
    hit_N, domain_N = table({"math": (300, 90), "bio": (200, 150), "law": (100, 1)})
    first = activation_pct(hit_N, domain_N, seed=11)
    assert activation_pct(hit_N, domain_N, seed=11) == first
    assert activation_pct(hit_N, domain_N, seed=12) != first
    # Without the other domains, or in another order, a domain's CI is unchanged.
    only_math = domain_N == "math"
    (alone,) = activation_pct(hit_N[only_math], domain_N[only_math], seed=11)
    assert alone == next(row for row in first if row.domain == "math")
    reordered = activation_pct(hit_N, domain_N, seed=11, domains=["math", "law", "bio"])
    assert sorted(reordered) == sorted(first)


def test_bootstrap_is_fast() -> None:
    rng = np.random.default_rng(0)
    domain_N = np.repeat([f"domain{i}" for i in range(9)], 1000)
    hit_N = rng.random(9000) < 0.4
    start = time.perf_counter()
    rows = activation_pct(hit_N, domain_N, n_boot=1000)
    # Measured ~0.03 s; the bound leaves room for a busy shared machine.
    assert time.perf_counter() - start < 1.0
    assert len(rows) == 9


def test_bad_arguments_raise() -> None:
    hit_N, domain_N = table({"math": (10, 3)})
    with pytest.raises(ValueError, match="same length"):
        activation_pct(hit_N[:5], domain_N)
    with pytest.raises(ValueError, match="ci"):
        activation_pct(hit_N, domain_N, ci=95)
    with pytest.raises(ValueError, match="n_boot"):
        activation_pct(hit_N, domain_N, n_boot=0)
