"""The seed axis: mean, spread and interval across seeds, and each run's emergence step."""

from __future__ import annotations

import math

import polars as pl
import pytest
from scipy import stats

from emergence.analysis.seeds import emergence_spread, emergence_steps, seed_summary, t_interval

RUNS = {"m-seed0": ("m", 0), "m-seed1": ("m", 1), "m-seed2": ("m", 2), "solo": ("solo", None)}
# pct of one domain at one layer: three seeds of "m" and a single run that must be left out.
PCT = {
    "m-seed0": {0: 2.0, 100: 40.0, 1000: 90.0},
    "m-seed1": {0: 4.0, 100: 10.0, 1000: 60.0},
    "m-seed2": {0: 0.0, 100: 70.0, 1000: 75.0},
    "solo": {0: 99.0, 100: 99.0, 1000: 99.0},
}


def activation() -> pl.DataFrame:
    rows = [
        {"scale": s, "ckpt": f"step{t}", "step": t, "layer": 2, "domain": "law"}
        | {"protocol": "per_point", "pct": v}
        for s, by_step in PCT.items()
        for t, v in by_step.items()
    ]
    return pl.DataFrame(rows)


def test_summary_matches_a_hand_computation_and_scipy() -> None:
    table = seed_summary(activation(), RUNS, ci=0.9)
    assert table["family"].unique().to_list() == ["m"]
    row = table.filter(step=100).row(0, named=True)
    assert row["n_seeds"] == 3 and row["mean"] == pytest.approx(40.0)
    assert row["sd"] == pytest.approx(30.0)  # deviations -30, 0, 30 over n - 1 = 2
    assert (row["min"], row["max"]) == (10.0, 70.0)
    low, high = stats.t.interval(0.9, df=2, loc=40.0, scale=30.0 / math.sqrt(3))
    assert (row["ci_low"], row["ci_high"]) == (pytest.approx(low), pytest.approx(high))


def test_interval_degenerates_honestly() -> None:
    assert all(math.isnan(v) for v in t_interval([5.0], 0.95))
    assert all(math.isnan(v) for v in t_interval([5.0, float("nan")], 0.95))
    assert t_interval([3.0, 3.0, 3.0], 0.95) == (3.0, 3.0)


def test_emergence_step_is_the_first_checkpoint_at_the_level() -> None:
    steps = emergence_steps(activation(), RUNS, level=50.0)
    by_seed = dict(zip(steps["seed"].to_list(), steps["emergence_step"].to_list(), strict=True))
    assert by_seed == {0: 1000, 1: 1000, 2: 100}
    never = emergence_steps(activation(), RUNS, level=95.0)
    assert never["emergence_step"].null_count() == 3
    spread = emergence_spread(steps).row(0, named=True)
    assert (spread["n_seeds"], spread["n_reached"]) == (3, 3)
    assert (spread["first"], spread["median"], spread["last"]) == (100, 1000.0, 1000)
    assert emergence_spread(never).row(0, named=True)["n_reached"] == 0
