"""Settings of the AutoInterp loop (example selection, verification, verdict)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Annotated, Any

from emergence.ranges import Fraction, Gt, Le, NonNegativeInt, PositiveInt
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
    # Latents active on fewer eval texts than this are labelled but not verified.
    min_eval_positives: NonNegativeInt = 1
    # Eval texts per class (active / inactive) in the balanced verification set, at most.
    max_verify_per_class: PositiveInt = 20
    # Texts per verification prompt (small: long lists make LLM answers drift out of position).
    texts_per_prompt: PositiveInt = 5
    # Texts are cut to this many characters before they reach the teacher (bounds prompt size).
    max_text_chars: PositiveInt = 1000
    # Interpretable <=> F1 >= this (the paper's 0.9; 0 would call every verified latent
    # interpretable) ...
    f1_threshold: Annotated[float, Gt(0), Le(1)] = 0.9
    # ... and at most this share of the latent's verification texts had no usable answer.
    max_failed_fraction: Fraction = 0.1
    # Seed of the contrast choice, the verification sample and its shuffle.
    seed: NonNegativeInt = 0

    def __post_init__(self) -> None:
        check_fields(self)

    @classmethod
    def from_dict(cls, record: dict[str, Any], section: str = "") -> AutoInterpConfig:
        """From a config section; a bad key is an error naming it (prefixed by ``section``)."""
        return build(cls, record, [section] if section else [])

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)
