"""Settings of the AutoInterp loop (example selection, verification, verdict)."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class AutoInterpConfig:
    """How latents are shown to the teacher and judged."""

    # Top activating fit texts shown to the teacher per latent (fewer when fewer exist).
    n_examples: int = 20
    # Non-activating fit texts shown as contrast per latent (seeded random choice).
    n_contrast: int = 10
    # Latents active on fewer fit texts than this get no label (reason recorded).
    min_fit_positives: int = 2
    # Latents active on fewer eval texts than this are labelled but not judged (status
    # "unverifiable"). None = the fewest at which one missed text cannot fail an otherwise perfect
    # latent: the smallest n with 2 (n - 1) / (2 n - 1) >= f1_threshold (3 at 0.8, 6 at 0.9).
    min_eval_positives: int | None = None
    # Eval texts per class (active / inactive) a latent is verified on, at most; None = every
    # eval text (metrics are class-balanced, see metrics.py). An LLM teacher pays a prompt per
    # texts_per_prompt texts: set a cap there (e.g. 50) to bound the cost.
    max_verify_per_class: int | None = None
    # Texts per verification prompt (small: long lists make LLM answers drift out of position).
    texts_per_prompt: int = 5
    # Texts are cut to this many characters before they reach the teacher (bounds prompt size).
    max_text_chars: int = 1000
    # Interpretable <=> F1 >= this (the paper's 0.9) ...
    f1_threshold: float = 0.9
    # ... and at most this share of the latent's verification texts had no usable answer.
    max_failed_fraction: float = 0.1
    # Bootstrap resamples and level of the F1 interval (f1_lo, f1_hi in the verification table).
    f1_ci_resamples: int = 1000
    f1_ci_level: float = 0.95
    # Seed of the contrast choice, the verification sample and its shuffle, and the bootstrap.
    seed: int = 0

    def __post_init__(self) -> None:
        positive = (
            "n_examples",
            "min_fit_positives",
            "max_verify_per_class",
            "texts_per_prompt",
            "min_eval_positives",
            "f1_ci_resamples",
        )
        for name in positive:
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"autointerp.{name} must be >= 1, got {value}")
        if self.n_contrast < 0 or self.max_text_chars < 1:
            raise ValueError("autointerp: n_contrast >= 0, max_text_chars >= 1")
        if not 0 < self.f1_ci_level < 1:
            raise ValueError(f"autointerp.f1_ci_level must be in (0, 1), got {self.f1_ci_level}")
        if not 0 < self.f1_threshold <= 1:
            raise ValueError(f"autointerp.f1_threshold must be in (0, 1], got {self.f1_threshold}")
        if not 0 <= self.max_failed_fraction <= 1:
            raise ValueError("autointerp.max_failed_fraction must be in [0, 1]")

    @property
    def min_verify_positives(self) -> int:
        """Activating eval texts a latent needs to be judged (`min_eval_positives` resolved)."""
        if self.min_eval_positives is not None:
            return self.min_eval_positives
        # 2 (n - 1) / (2 n - 1) >= t  <=>  n >= (2 - t) / (2 - 2 t).
        if self.f1_threshold >= 1:
            raise ValueError("autointerp.min_eval_positives must be set when f1_threshold is 1")
        return max(1, math.ceil((2 - self.f1_threshold) / (2 - 2 * self.f1_threshold) - 1e-9))

    @classmethod
    def from_dict(cls, record: dict[str, Any]) -> AutoInterpConfig:
        """From a config section; unknown keys are an error naming them."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(record) - known)
        if unknown:
            raise ValueError(f"unknown autointerp key(s) {unknown} (allowed: {sorted(known)})")
        return cls(**record)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)
