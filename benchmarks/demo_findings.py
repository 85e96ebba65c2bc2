"""Print the numbers README's "What the demo finds" quotes, from a finished run's tables.

    .venv/bin/python benchmarks/demo_findings.py [results/tables]

Every value comes from results/tables/{activation,ceilings,teacher_calibration}.csv (and, in a
run with seeds, seeds.csv and emergence.csv); a seeded family's other sections show its lowest
seed, as the figures do. Nothing is computed that the tables do not hold, so the README can be
checked against any run.
"""

from __future__ import annotations

import sys
from pathlib import Path

import polars as pl


def first_runs(scales: list[str], tables: Path) -> list[str]:
    """Every model once, as the figures draw it: a seeded family (rows of emergence.csv) by its
    lowest seed."""
    emergence = tables / "emergence.csv"
    if not emergence.exists():
        return scales
    runs = pl.read_csv(emergence).select("family", "scale", "seed").unique()
    others = set(runs.filter(pl.col("seed") != pl.col("seed").min().over("family"))["scale"])
    return [s for s in scales if s not in others]


def main(tables: Path) -> None:
    act = pl.read_csv(tables / "activation.csv")
    ceil = pl.read_csv(tables / "ceilings.csv")
    last = act.group_by("scale").agg(pl.col("layer").max().alias("last"), pl.col("step").max())
    scales = act.select("scale", "params").unique().sort("params")["scale"].to_list()
    scales = first_runs(scales, tables)

    print("## Per-point, last layer: max / mean adjusted over domains (hit % in brackets)")
    for scale in scales:
        lay, final = last.filter(scale=scale).select("last", "step").row(0)
        cells = []
        for step in sorted(act.filter(scale=scale)["step"].unique()):
            rows = act.filter(scale=scale, layer=lay, step=step, protocol="per_point")
            cells.append(
                f"step{step} {rows['adjusted_pct'].max():.1f} / {rows['adjusted_pct'].mean():.1f}"
                f" ({rows['pct'].max():.1f} / {rows['pct'].mean():.1f})"
            )
        print(f"{scale} (layer {lay}): " + "; ".join(cells))

    print("\n## Step0: max adjusted % over scales, layers and domains, per protocol")
    step0 = act.filter(pl.col("step") == 0, pl.col("scale").is_in(scales))
    for protocol, rows in sorted(step0.group_by("protocol"), key=lambda g: str(g[0])):
        worst = rows.sort("adjusted_pct", descending=True, nulls_last=True).row(0, named=True)
        print(
            f"{protocol[0]}: max adjusted {rows['adjusted_pct'].max():.1f} "
            f"({worst['scale']} layer {worst['layer']} {worst['domain']}), max hit "
            f"{rows['pct'].max():.1f}, max false alarm {rows['false_alarm_pct'].max():.1f}"
        )

    print("\n## Decomposition at the final checkpoint: accuracy % (adjusted %), mean over domains")
    stages = ["probe", "sae_purity", "labelled", "verified", "per_point"]
    print("| model, layer | " + " | ".join(stages) + " | reported / purity |")
    for scale in scales:
        final = last.filter(scale=scale)["step"][0]
        rows = ceil.filter(scale=scale, step=final)
        for layer in sorted(rows["layer"].unique()):
            by = {r["stage"]: r for r in rows.filter(layer=layer).iter_rows(named=True)}
            cells = [f"{by[s]['accuracy']:.1f} ({by[s]['adjusted_pct']:.1f})" for s in stages]
            ratio = by["per_point"]["accuracy"] / by["sae_purity"]["accuracy"]
            print(f"| {scale}, {layer} | " + " | ".join(cells) + f" | {ratio:.2f} |")

    print("\n## Per-point at the final checkpoint, last layer, per domain: adjusted (hit, FA)")
    for scale in scales:
        lay, final = last.filter(scale=scale).select("last", "step").row(0)
        rows = act.filter(scale=scale, layer=lay, step=final, protocol="per_point").sort(
            "adjusted_pct", descending=True
        )
        cells = [
            f"{r['domain']} {r['adjusted_pct']:.1f} ({r['pct']:.1f}, {r['false_alarm_pct']:.1f})"
            for r in rows.iter_rows(named=True)
        ]
        print(f"{scale}: " + ", ".join(cells))

    seeds, emergence = tables / "seeds.csv", tables / "emergence.csv"
    if seeds.exists():
        summary = pl.read_csv(seeds).filter(protocol="per_point", measure="adjusted_pct")
        print("\n## Seeds, last layer, per-point adjusted: mean ± sd [min, max] over seeds")
        for (family,), rows in sorted(summary.group_by("family"), key=lambda g: str(g[0])):
            rows = rows.filter(pl.col("layer") == rows["layer"].max())
            for step in sorted(rows["step"].unique()):
                at = rows.filter(step=step)
                print(
                    f"{family} step{step} (n={at['n_seeds'][0]}): mean over domains "
                    f"{at['mean'].mean():.1f}, mean sd {at['sd'].mean():.1f}, widest "
                    f"{(at['max'] - at['min']).max():.1f} points"
                )
            final = rows.filter(pl.col("step") == rows["step"].max()).sort("mean")
            print(
                "  final, per domain: "
                + ", ".join(
                    f"{r['domain']} {r['mean']:.1f} ± {r['sd']:.1f} "
                    f"[{r['min']:.1f}, {r['max']:.1f}]"
                    for r in final.iter_rows(named=True)
                )
            )
        steps = pl.read_csv(emergence).filter(protocol="per_point", measure="adjusted_pct")
        steps = steps.filter(pl.col("layer") == pl.col("layer").max().over("family"))
        print(f"\n## Emergence step per seed (level {steps['level'][0]} %), last layer, per-point")
        for (domain,), rows in sorted(steps.group_by("domain"), key=lambda g: str(g[0])):
            cells = [
                f"{r['scale']} {r['emergence_step']}"
                for r in rows.sort("seed").iter_rows(named=True)
            ]
            print(f"{domain}: " + ", ".join(cells))

    calibration = tables / "teacher_calibration.csv"
    if calibration.exists():
        cal = pl.read_csv(calibration)
        print(f"\n## Teacher calibration: mean F1 {cal['f1'].mean():.3f}")
        for r in cal.iter_rows(named=True):
            print(f"{r['domain']}: label {r['label']!r}, F1 {r['f1']:.3f}, passed {r['passed']}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "results/tables"))
