"""Settings of the AutoInterp loop (example selection, verification, verdict)."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Annotated, Any

from emergence.ranges import Fraction, Gt, Le, NonNegativeInt, OpenFraction, PositiveInt
from emergence.settings import build, check_fields


@dataclass(frozen=True)
class AutoInterpConfig:
    """How latents are shown to the teacher and judged."""

    # Top activating fit texts shown to the teacher per latent (fewer when fewer exist).
    n_examples: PositiveInt = 20
    # Non-activating fit texts shown as contrast per latent (seeded random choice).
    n_contrast: NonNegativeInt = 10
    # Latents active on fewer fit texts than this get no label (reason recorded).
    min_fit_positives: PositiveInt = 2
    # Latents active on fewer eval texts than this are labelled but not judged (status
    # "unverifiable"). None = the fewest at which one missed text cannot fail an otherwise perfect
    # latent: the smallest n with 2 (n - 1) / (2 n - 1) >= f1_threshold (3 at 0.8, 6 at 0.9).
    min_eval_positives: PositiveInt | None = None
    # Eval texts per class (active / inactive) a latent is verified on, at most; None = every
    # eval text (metrics are class-balanced, see metrics.py). An LLM teacher pays a prompt per
    # texts_per_prompt texts: set a cap there (e.g. 50) to bound the cost.
    max_verify_per_class: PositiveInt | None = None
    # Texts per verification prompt (small: long lists make LLM answers drift out of position).
    texts_per_prompt: PositiveInt = 5
    # Texts are cut to this many characters before they reach the teacher (bounds prompt size).
    max_text_chars: PositiveInt = 1000
    # Verify a latent without the eval texts its siblings (latents given the very same label)
    # are active on: its label cannot tell them apart, so as negatives they would fail the label
    # for the SAE's split of a concept. False = every inactive text (the paper's design).
    exclude_sibling_negatives: bool = True
    # Interpretable <=> F1 >= this (the paper's 0.9; 0 would call every verified latent
    # interpretable) ...
    f1_threshold: Annotated[float, Gt(0), Le(1)] = 0.9
    # ... and at most this share of the latent's verification texts had no usable answer.
    max_failed_fraction: Fraction = 0.1
    # Bootstrap resamples of the F1 interval (f1_lo, f1_hi in the verification table).
    f1_ci_resamples: PositiveInt = 1000
    # Coverage of the F1 interval.
    f1_ci_level: OpenFraction = 0.95
    # Seed of the contrast choice, the verification sample and its shuffle, and the bootstrap.
    seed: NonNegativeInt = 0

    def __post_init__(self) -> None:
        check_fields(self)

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
    def from_dict(cls, record: dict[str, Any], section: str = "") -> AutoInterpConfig:
        """From a config section; a bad key is an error naming it (prefixed by ``section``)."""
        return build(cls, record, [section] if section else [])

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)
