"""Settings of the analysis stage (the config's ``analysis`` section)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from emergence.ranges import Ge, Gt, Le, NonNegativeInt, OpenFraction, PositiveInt
from emergence.settings import check_fields

MEASURES = ("adjusted", "pct")
"""Concept-activation measures a figure can draw: selectivity-adjusted % or the hit % alone."""


@dataclass(frozen=True)
class AnalysisConfig:
    """How concept activation %, alignment and granularity are computed."""

    # Bootstrap resamples of the texts behind every activation % confidence interval.
    n_boot: PositiveInt = 1000
    # Coverage of the percentile bootstrap interval.
    ci: OpenFraction = 0.95
    # The space axis' reference layer (the paper's re-emergence probe uses layer 0); a scale
    # without it uses its nearest extracted layer.
    reference_layer: NonNegativeInt = 0
    # The scale axis' reference model (a key of ``models``); None = the last model listed,
    # which the bundled configs order from small to large.
    reference_scale: str | None = None
    # A latent is token-level when at least this share of its activating texts end in the same
    # word (Inaba et al.'s granularity), otherwise concept-level.
    token_share: Annotated[float, Gt(0), Le(1)] = 0.5
    # A domain has emerged in a training run at the first checkpoint where its concept
    # activation reaches this percentage (the emergence step, reported per seed).
    emergence_level: Annotated[float, Ge(0), Le(100)] = 50.0
    # Seed of the bootstrap and of the linear probe behind the ceilings.
    seed: NonNegativeInt = 0
    # What the time, space, scale and decomposition figures draw as concept activation:
    # "adjusted" (hit % minus false-alarm %, about 0 for a model whose texts all land on one
    # latent) or "pct" (the hit % alone, the paper's measure). Both are in the tables.
    measure: Literal["adjusted", "pct"] = "adjusted"

    def __post_init__(self) -> None:
        check_fields(self)
