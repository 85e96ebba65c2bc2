"""Settings of the analysis stage (the config's ``analysis`` section)."""

from __future__ import annotations

from dataclasses import dataclass

MEASURES = ("adjusted", "pct")
"""Concept-activation measures a figure can draw: selectivity-adjusted % or the hit % alone."""


@dataclass(frozen=True)
class AnalysisConfig:
    """How concept activation %, alignment and granularity are computed."""

    # Bootstrap resamples of the texts behind every activation % confidence interval.
    n_boot: int = 1000
    # Coverage of the percentile bootstrap interval.
    ci: float = 0.95
    # The space axis' reference layer (the paper's re-emergence probe uses layer 0); a scale
    # without it uses its nearest extracted layer.
    reference_layer: int = 0
    # The scale axis' reference model (a key of ``models``); None = the last model listed,
    # which the bundled configs order from small to large.
    reference_scale: str | None = None
    # A latent is token-level when at least this share of its activating texts end in the same
    # word (Inaba et al.'s granularity), otherwise concept-level.
    token_share: float = 0.5
    # Seed of the bootstrap and of the linear probe behind the ceilings.
    seed: int = 0
    # What the time, space, scale and decomposition figures draw as concept activation:
    # "adjusted" (hit % minus false-alarm %, about 0 for a model whose texts all land on one
    # latent) or "pct" (the hit % alone, the paper's measure). Both are in the tables.
    measure: str = "adjusted"

    def __post_init__(self) -> None:
        if self.n_boot < 1:
            raise ValueError(f"analysis.n_boot must be >= 1, got {self.n_boot}")
        if not 0 < self.ci < 1:
            raise ValueError(f"analysis.ci must be in (0, 1), got {self.ci}")
        if not 0 < self.token_share <= 1:
            raise ValueError(f"analysis.token_share must be in (0, 1], got {self.token_share}")
        if self.measure not in MEASURES:
            raise ValueError(
                f"analysis.measure must be one of {', '.join(MEASURES)}, got {self.measure!r}"
            )
