"""Settings of the analysis stage (the config's ``analysis`` section)."""

from __future__ import annotations

from dataclasses import dataclass


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
    # A domain has emerged in a training run at the first checkpoint where its concept
    # activation reaches this percentage (the emergence step, reported per seed).
    emergence_level: float = 50.0
    # Seed of the bootstrap.
    seed: int = 0

    def __post_init__(self) -> None:
        if self.n_boot < 1:
            raise ValueError(f"analysis.n_boot must be >= 1, got {self.n_boot}")
        if not 0 < self.ci < 1:
            raise ValueError(f"analysis.ci must be in (0, 1), got {self.ci}")
        if not 0 <= self.emergence_level <= 100:
            raise ValueError(
                f"analysis.emergence_level must be in [0, 100], got {self.emergence_level}"
            )
        if not 0 < self.token_share <= 1:
            raise ValueError(f"analysis.token_share must be in (0, 1], got {self.token_share}")
