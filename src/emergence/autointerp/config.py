"""Settings of the AutoInterp loop (example selection, verification, verdict)."""

from __future__ import annotations

import dataclasses
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
    # Latents active on fewer eval texts than this are labelled but not verified.
    min_eval_positives: int = 1
    # Eval texts per class (active / inactive) in the balanced verification set, at most.
    max_verify_per_class: int = 20
    # Texts per verification prompt (small: long lists make LLM answers drift out of position).
    texts_per_prompt: int = 5
    # Texts are cut to this many characters before they reach the teacher (bounds prompt size).
    max_text_chars: int = 1000
    # Interpretable <=> F1 >= this (the paper's 0.9) ...
    f1_threshold: float = 0.9
    # ... and at most this share of the latent's verification texts had no usable answer.
    max_failed_fraction: float = 0.1
    # Seed of the contrast choice, the verification sample and its shuffle.
    seed: int = 0

    def __post_init__(self) -> None:
        positive = ("n_examples", "min_fit_positives", "max_verify_per_class", "texts_per_prompt")
        for name in positive:
            if getattr(self, name) < 1:
                raise ValueError(f"autointerp.{name} must be >= 1, got {getattr(self, name)}")
        if self.n_contrast < 0 or self.min_eval_positives < 0 or self.max_text_chars < 1:
            raise ValueError("autointerp: n_contrast, min_eval_positives >= 0, max_text_chars >= 1")
        if not 0 <= self.max_failed_fraction <= 1:
            raise ValueError("autointerp.max_failed_fraction must be in [0, 1]")

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
