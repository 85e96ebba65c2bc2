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


def test_the_seed_figure_draws_a_band_per_domain_and_family() -> None:
    from matplotlib.collections import PolyCollection

    from emergence.figures.seeds import seeds_figure

    summary = pl.concat([seed_summary(activation(), RUNS, m) for m in ("pct",)])
    fig = seeds_figure(summary, measure="pct")
    (ax,) = [a for a in fig.axes if a.get_title()]
    assert ax.get_title().startswith("m: 3 seeds")
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(bands) == 1  # one domain, one band from the lowest to the highest seed
    assert seeds_figure(summary.clear(), measure="pct").axes[0].texts  # "no data", not a crash


@pytest.mark.slow
def test_a_seeded_micro_model_gets_seed_tables_and_figure(tmp_path) -> None:
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    text = (root / "tests/data/tiny.yaml").read_text()
    text = text.replace("checkpoints: [0, 4, 16]", "checkpoints: [0, 16]")
    text = text.replace(
        "  tiny-a: {source: micro, hidden_size: 16, num_layers: 1, num_heads: 2}\n"
        "  tiny-b: {source: micro, hidden_size: 32, num_layers: 2, num_heads: 4}\n",
        "  tiny: {source: micro, hidden_size: 16, num_layers: 1, num_heads: 2, seeds: [0, 1]}\n",
    )
    config = tmp_path / "seeds.yaml"
    config.write_text(text)
    command = [sys.executable, "-m", "snakemake", "-s", str(root / "Snakefile"), "--cores", "2"]
    command += ["-d", str(tmp_path / "work"), "--configfile", str(config)]
    result = subprocess.run(command, capture_output=True, text=True, cwd=root)
    assert result.returncode == 0, result.stderr[-3000:]
    tables = tmp_path / "work/results/tables"
    summary = pl.read_csv(tables / "seeds.csv")
    assert set(summary["family"]) == {"tiny"} and set(summary["n_seeds"]) == {2}
    # The summary's mean is the mean of the two runs' rows in the activation table.
    act = pl.read_csv(tables / "activation.csv").filter(protocol="per_point", step=16, layer=1)
    mean = act.group_by("domain").agg(pl.col("pct").mean()).sort("domain")
    ours = summary.filter(measure="pct", protocol="per_point", step=16, layer=1).sort("domain")
    assert ours["mean"].to_list() == pytest.approx(mean["pct"].to_list())
    emergence = pl.read_csv(tables / "emergence.csv")
    assert set(emergence["scale"]) == {"tiny-seed0", "tiny-seed1"}
    assert (tmp_path / "work/results/figures/seeds.png").stat().st_size > 0
