"""Figures render from synthetic tables, degenerate ones included, and are saved atomically."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from matplotlib.colors import to_hex
from matplotlib.figure import Figure

from emergence.analysis.tables import RESULT_SCHEMAS
from emergence.figures import (
    FIGURES,
    NO_DATA,
    PER_POINT,
    Tables,
    domain_colors,
    f1_figure,
    read_tables,
    save_figure,
    scale_colors,
    scale_figure,
    time_figure,
)

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
    activation, alignment, granularity, verification = [], [], [], []
    for key in keys:
        progress = math.log1p(key["step"]) / math.log1p(steps[-1])
        size = math.log10(key["params"]) / 9
        # the paper's dip-and-return: concepts fade mid-stack and come back late
        depth = 1 - 0.5 * math.sin(math.pi * key["layer"] / key["n_layers"])
        for d, domain in enumerate(domains):
            for protocol in (PER_POINT, *REFERENCES):
                pct = 100 * progress * size * depth * (0.6 + 0.15 * d)
                pct = min(pct * (0.9 if protocol != PER_POINT else 1), 100.0)
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
                    }
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
        *(pl.DataFrame(rows) for rows in (activation, alignment, granularity, verification))
    )


@pytest.fixture(scope="module")
def tables() -> Tables:
    return make_tables()


def _texts(fig: Figure) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def _solid_lines(ax) -> list:
    return [line for line in ax.get_lines() if line.get_linestyle() == "-"]


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_every_figure_renders_and_saves(tables: Tables, tmp_path: Path, name: str) -> None:
    fig = FIGURES[name](tables)
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
    )


@pytest.mark.parametrize(
    "degenerate",
    [
        _nan_tables,
        lambda t: Tables(*(df.clear() for df in t)),
        lambda t: Tables(*(pl.DataFrame() for _ in t)),
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
        make(broken).canvas.draw()  # layout and rendering errors surface only when drawn
    if broken.activation.height == 0:
        assert NO_DATA in _texts(time_figure(broken.activation))


def test_partial_nan_scale_gets_a_no_data_panel(tables: Tables) -> None:
    activation = tables.activation.with_columns(
        pct=pl.when(pl.col("scale") == "tiny").then(float("nan")).otherwise("pct")
    )
    texts = _texts(time_figure(activation))
    assert texts.count(NO_DATA) == 1


def test_read_tables_types_header_only_csv(tables: Tables, tmp_path: Path) -> None:
    paths = []
    for name, df in zip(Tables._fields, tables, strict=True):
        path = tmp_path / f"{name}.csv"
        df.clear().write_csv(path)
        paths.append(path)
    read = read_tables(*paths)
    assert read.activation.schema["step"] == pl.Int64
    assert read.activation.schema["pct"] == pl.Float64
    for fig in (make(read) for make in FIGURES.values()):
        assert NO_DATA in _texts(fig)
    assert set(RESULT_SCHEMAS) == set(Tables._fields)


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
