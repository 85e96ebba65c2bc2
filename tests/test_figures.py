"""Figures render from synthetic tables, degenerate ones included, and are saved atomically."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from matplotlib.colors import to_hex
from matplotlib.figure import Figure

from emergence.analysis.ceilings import STAGES
from emergence.analysis.tables import RESULT_SCHEMAS
from emergence.figures import (
    FIGURES,
    NO_DATA,
    PER_POINT,
    Settings,
    Tables,
    decomposition_figure,
    domain_colors,
    f1_figure,
    read_tables,
    save_figure,
    scale_colors,
    scale_figure,
    space_figure,
    time_figure,
)
from emergence.figures.decomposition import STAGE_LABELS
from emergence.figures.style import MEASURE_NOTES

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
DOMAINS = ("biology", "computer_science", "law")
SCALES = {"tiny": (1e6, 2), "small": (1e7, 2), "base": (1e8, 2)}
STEPS = (0, 10, 100)
REFERENCES = ("ref_time", "ref_space", "ref_scale")


def make_tables(
    scales: dict[str, tuple[float, int]] = SCALES,
    steps: tuple[int, ...] = STEPS,
    domains: tuple[str, ...] = DOMAINS,
    n_latents: int = 16,
    seed: int = 0,
) -> Tables:
    """Tables shaped like the pipeline's: activation grows with step, size and depth."""
    rng = np.random.default_rng(seed)
    keys = [
        {"scale": s, "params": p, "ckpt": f"step{t}", "step": t, "layer": ell, "n_layers": n}
        for s, (p, n) in scales.items()
        for t in steps
        for ell in range(n + 1)
    ]
    activation, alignment, granularity, verification, ceilings = [], [], [], [], []
    for key in keys:
        progress = math.log1p(key["step"]) / math.log1p(steps[-1])
        size = math.log10(key["params"]) / 9
        # the paper's dip-and-return: concepts fade mid-stack and come back late
        depth = 1 - 0.5 * math.sin(math.pi * key["layer"] / key["n_layers"])
        for d, domain in enumerate(domains):
            for protocol in (PER_POINT, *REFERENCES):
                pct = 100 * progress * size * depth * (0.6 + 0.15 * d)
                pct = min(pct * (0.9 if protocol != PER_POINT else 1), 100.0)
                false_alarm = 5.0 * (1 - progress)
                activation.append(
                    {
                        **key,
                        "domain": domain,
                        "protocol": protocol,
                        "n": 40,
                        "n_hit": round(0.4 * pct),
                        "pct": pct,
                        "ci_low": max(pct - 8, 0.0),
                        "ci_high": min(pct + 8, 100.0),
                        "false_alarm_pct": false_alarm,
                        "adjusted_pct": pct - false_alarm,
                        "adjusted_ci_low": pct - false_alarm - 9,
                        "adjusted_ci_high": pct - false_alarm + 9,
                    }
                )
        # Each stage keeps a share of what the probe finds.
        for i, stage in enumerate(STAGES):
            held = 100 * (0.3 + 0.6 * progress * size) * (1 - 0.15 * i)
            ceilings.append(
                {**key, "stage": stage, "pct": held, "adjusted_pct": held - 5, "accuracy": held}
            )
        ref = max(scales, key=lambda s: scales[s][0])
        alignment.append(
            {
                **key,
                "ref_scale": ref,
                "ref_layer": scales[ref][1],
                "cka": min(0.3 + 0.6 * size**2, 1.0),
                "residual": max(1 - size**2, 0.0),
                "cosine": min(0.2 + 0.6 * size**2, 1.0),
            }
        )
        n_int = int(10 * progress * size)
        n_token = round(n_int * (1 - size) * 2)
        granularity.append(
            {
                **key,
                "n_interpretable": n_int,
                "n_token": n_token,
                "n_concept": n_int - n_token,
                "token_share": n_token / n_int if n_int else math.nan,
            }
        )
        for latent in range(n_latents):
            f1 = float(np.clip(rng.normal(0.2 + 0.7 * progress, 0.15), 0, 1))
            verification.append(
                {**key, "latent": latent, "f1": f1 if latent else None, "interpretable": f1 >= 0.9}
            )
    return Tables(
        *(
            pl.DataFrame(rows)
            for rows in (activation, alignment, granularity, verification, ceilings)
        )
    )


@pytest.fixture(scope="module")
def tables() -> Tables:
    return make_tables()


def _texts(fig: Figure) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def _solid_lines(ax) -> list:
    """Labelled solid lines: the per-point curves (the line at 0 has no label)."""
    return [
        line
        for line in ax.get_lines()
        if line.get_linestyle() == "-" and not line.get_label().startswith("_")
    ]


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_every_figure_renders_and_saves(tables: Tables, tmp_path: Path, name: str) -> None:
    fig = FIGURES[name](tables, Settings())
    assert isinstance(fig, Figure)
    assert NO_DATA not in _texts(fig)
    png, pdf = tmp_path / "out" / f"{name}.png", tmp_path / "out" / f"{name}.pdf"
    save_figure(fig, png, pdf)
    assert png.read_bytes().startswith(PNG_MAGIC)
    assert pdf.read_bytes().startswith(b"%PDF")
    assert sorted(p.name for p in png.parent.iterdir()) == [f"{name}.pdf", f"{name}.png"]


def test_time_figure_panels(tables: Tables) -> None:
    fig = time_figure(tables.activation)
    panels = [ax for ax in fig.axes if ax.get_title()]
    assert len(panels) == len(SCALES)
    colors = domain_colors(DOMAINS)
    for ax in panels:
        assert ax.get_xscale() in ("log", "symlog")
        # step0 must lie inside the axis, not at -inf of a plain log axis.
        assert ax.get_xlim()[0] < 0 < ax.get_xlim()[1]
        solid = _solid_lines(ax)
        assert sorted(line.get_label() for line in solid) == sorted(DOMAINS)
        assert all(to_hex(line.get_color()) == colors[line.get_label()] for line in solid)
        # the ref_time protocol: dashed, one per domain
        assert sum(line.get_linestyle() == "--" for line in ax.get_lines()) == len(DOMAINS)
    assert all(
        f"layer {n}" in ax.get_title() for ax, (_, n) in zip(panels, SCALES.values(), strict=True)
    )


def test_domain_colours_agree_between_time_and_scale(tables: Tables) -> None:
    def colours(fig: Figure) -> dict[str, str]:
        return {
            line.get_label(): to_hex(line.get_color())
            for ax in fig.axes
            for line in _solid_lines(ax)
        }

    assert colours(time_figure(tables.activation)) == colours(scale_figure(tables.activation))


def test_domain_colors_are_order_independent() -> None:
    assert domain_colors(["b", "a", "c", "a"]) == domain_colors(["c", "a", "b"])
    assert list(domain_colors(["b", "a"])) == ["a", "b"]
    many = domain_colors([f"d{i:02d}" for i in range(12)])
    assert len(set(many.values())) == 12


def test_scale_colors_follow_params() -> None:
    colors = scale_colors({"big": 1e9, "small": 1e6, "mid": 1e7})
    assert list(colors) == ["small", "mid", "big"]
    assert len(set(colors.values())) == 3
    assert len(scale_colors({"only": 1.0})) == 1


def test_f1_threshold_is_drawn(tables: Tables) -> None:
    fig = f1_figure(tables.verification, threshold=0.75)
    assert "F1 ≥ 0.75" in fig.legends[0].get_texts()[-1].get_text()
    # the title counts latents at or above the threshold, first -> final checkpoint
    final = tables.verification.filter(pl.col("scale") == "base", pl.col("step") == STEPS[-1])
    n_final = final["f1"].drop_nulls()
    assert fig.axes[-1].get_title().endswith(f"{(n_final >= 0.75).sum()}/{n_final.len()}")
    for ax in fig.axes:
        vertical = [line.get_xdata()[0] for line in ax.get_lines()]
        assert vertical == [0.75]


def _nan_tables(tables: Tables) -> Tables:
    nan = pl.lit(float("nan"))
    return Tables(
        tables.activation.with_columns(pct=nan, ci_low=nan, ci_high=nan),
        tables.alignment.with_columns(cka=nan, residual=nan, cosine=nan),
        tables.granularity.with_columns(n_interpretable=0, n_token=0, n_concept=0, token_share=nan),
        tables.verification.with_columns(f1=pl.lit(None, pl.Float64)),
        tables.ceilings.with_columns(pct=nan, adjusted_pct=nan, accuracy=nan),
    )


@pytest.mark.parametrize(
    "degenerate",
    [
        _nan_tables,
        lambda t: Tables(*(df.clear() for df in t[:5])),
        lambda t: Tables(*(pl.DataFrame() for _ in t[:5])),
        # a protocol with no rows at all and a scale that is NaN everywhere
        lambda t: t._replace(
            activation=t.activation.filter(pl.col("protocol") == PER_POINT).with_columns(
                pct=pl.when(pl.col("scale") == "tiny").then(float("nan")).otherwise("pct")
            )
        ),
    ],
    ids=["nan", "no-rows", "no-columns", "partial"],
)
def test_degenerate_tables_give_a_figure(tables: Tables, degenerate) -> None:
    broken = degenerate(tables)
    for make in FIGURES.values():
        make(
            broken, Settings()
        ).canvas.draw()  # layout and rendering errors surface only when drawn
    if broken.activation.height == 0:
        assert NO_DATA in _texts(time_figure(broken.activation))


@pytest.mark.parametrize(("measure", "value"), [("pct", "pct"), ("adjusted", "adjusted_pct")])
def test_partial_nan_scale_gets_a_no_data_panel(tables: Tables, measure: str, value: str) -> None:
    activation = tables.activation.with_columns(
        pl.when(pl.col("scale") == "tiny").then(float("nan")).otherwise(value).alias(value)
    )
    texts = _texts(time_figure(activation, measure=measure))
    assert texts.count(NO_DATA) == 1


def test_read_tables_types_header_only_csv(tables: Tables, tmp_path: Path) -> None:
    paths = []
    for name, df in zip(Tables._fields[:5], tables[:5], strict=True):
        path = tmp_path / f"{name}.csv"
        df.clear().write_csv(path)
        paths.append(path)
    read = read_tables(*paths)
    assert read.activation.schema["step"] == pl.Int64
    assert read.activation.schema["pct"] == pl.Float64
    for fig in (make(read, Settings()) for make in FIGURES.values()):
        assert NO_DATA in _texts(fig)
    assert set(RESULT_SCHEMAS) == set(Tables._fields[:5])


def test_read_tables_keeps_only_the_runs_asked_for(tables: Tables, tmp_path: Path) -> None:
    paths = []
    for name, df in zip(Tables._fields[:5], tables[:5], strict=True):
        path = tmp_path / f"{name}.csv"
        df.write_csv(path)
        paths.append(path)
    read = read_tables(*paths, scales=["tiny", "base"])
    for name, df in zip(Tables._fields[:5], read[:5], strict=True):
        full = getattr(tables, name)
        assert set(df["scale"]) == {"tiny", "base"}, name
        assert len(df) == len(full.filter(pl.col("scale") != "small")), name


def test_save_figure_leaves_no_temporary_file_on_failure(
    tables: Tables, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fig = time_figure(tables.activation)
    real = fig.savefig

    def fail_on_pdf(path, *, format: str, **kwargs) -> None:
        if format == "pdf":
            raise OSError("disk full")
        real(path, format=format, **kwargs)

    monkeypatch.setattr(fig, "savefig", fail_on_pdf)
    with pytest.raises(OSError, match="disk full"):
        save_figure(fig, tmp_path / "time.png", tmp_path / "time.pdf")
    assert [p.name for p in tmp_path.iterdir()] == ["time.png"]


def _labels(fig: Figure) -> list[str]:
    return [t.get_text() for legend in fig.legends for t in legend.get_texts()]


@pytest.mark.parametrize("make", [time_figure, space_figure, scale_figure])
def test_activation_figures_draw_the_ceilings_and_name_the_measure(tables: Tables, make) -> None:
    fig = make(tables.activation, tables.ceilings)
    labels = _labels(fig)
    assert "linear probe (ceiling), mean over domains" in labels
    assert "SAE purity (ceiling), mean over domains" in labels
    assert MEASURE_NOTES["adjusted"] in labels
    drawn = {line.get_label() for ax in fig.axes for line in ax.get_lines()}
    assert {"linear probe (ceiling)", "SAE purity (ceiling)"} <= drawn
    # Without the ceilings table the figure still draws, without those lines.
    assert "linear probe (ceiling), mean over domains" not in _labels(make(tables.activation))


def test_the_measure_chooses_the_column_drawn(tables: Tables) -> None:
    def per_point_ys(measure: str) -> np.ndarray:
        fig = scale_figure(tables.activation, measure=measure)
        ax = next(ax for ax in fig.axes if ax.get_lines())
        line = next(line for line in _solid_lines(ax) if line.get_label() == "law")
        return np.asarray(line.get_ydata(), dtype=float)

    final = tables.activation.filter(
        pl.col("protocol") == PER_POINT,
        pl.col("domain") == "law",
        pl.col("step") == STEPS[-1],
        pl.col("layer") == 2,
    ).sort("params")
    assert per_point_ys("pct") == pytest.approx(final["pct"].to_numpy())
    assert per_point_ys("adjusted") == pytest.approx(final["adjusted_pct"].to_numpy())
    with pytest.raises(ValueError, match="unknown activation measure"):
        scale_figure(tables.activation, measure="f1")


def test_domains_the_teacher_cannot_see_are_faded_and_named(tables: Tables) -> None:
    calibration = pl.DataFrame(
        {"domain": ["biology", "computer_science", "law"], "passed": [True, True, False]}
    )
    fig = time_figure(tables.activation, tables.ceilings, calibration=calibration)
    assert "law (teacher cannot see it)" in _labels(fig)
    assert "biology" in _labels(fig)
    ax = next(ax for ax in fig.axes if ax.get_lines())
    alphas = {line.get_label(): line.get_alpha() for line in _solid_lines(ax)}
    assert alphas["law"] < 1 and alphas["biology"] in (None, 1.0)
    space = space_figure(tables.activation, calibration=calibration)
    ticks = [t.get_text() for ax in space.axes for t in ax.get_yticklabels()]
    assert "law ✗" in ticks and "biology" in ticks


def test_read_tables_reads_an_optional_calibration(tables: Tables, tmp_path: Path) -> None:
    paths = []
    for name, df in zip(Tables._fields[:5], tables[:5], strict=True):
        paths.append(tmp_path / f"{name}.csv")
        df.write_csv(paths[-1])
    assert read_tables(*paths).calibration is None
    calibration = tmp_path / "teacher_calibration.csv"
    calibration.write_text(
        "domain,label,f1,precision,recall,n_verify,matched,passed\n"
        "law,law,0.9,0.9,0.9,40,true,true\nmathematics,algebra,0.5,0.5,0.5,40,false,false\n"
    )
    read = read_tables(*paths, calibration=calibration)
    assert read.calibration.to_dicts() == [
        {"domain": "law", "passed": True},
        {"domain": "mathematics", "passed": False},
    ]
    broken = tmp_path / "broken.csv"
    broken.write_text("domain,f1\nlaw,0.9\n")
    with pytest.raises(ValueError, match=r"broken\.csv"):
        read_tables(*paths, calibration=broken)


def test_decomposition_draws_every_stage_per_layer_at_the_final_step(tables: Tables) -> None:
    fig = decomposition_figure(tables.ceilings, measure="pct")
    panels = [
        ax for ax in fig.axes if ax.get_title() in ("tiny (1M)", "small (10M)", "base (100M)")
    ]
    assert len(panels) == len(SCALES)
    final = tables.ceilings.filter(pl.col("step") == STEPS[-1], pl.col("scale") == "base")
    for ax in panels[-1:]:
        lines = ax.get_lines()
        assert len(lines) == 3  # layers 0, 1 and 2
        ticks = [t.get_text() for t in ax.get_xticklabels()]
        assert ticks == [STAGE_LABELS[stage] for stage in STAGES]
        assert ticks[0] == "linear probe" and ticks[-1] == "reported"
        for layer, line in enumerate(lines):
            expected = final.filter(pl.col("layer") == layer).sort(
                pl.col("stage").replace_strict({s: i for i, s in enumerate(STAGES)})
            )
            assert np.asarray(line.get_ydata()) == pytest.approx(expected["pct"].to_numpy())
