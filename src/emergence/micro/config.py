"""Settings of the micro model suite (the config's ``micro`` section)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from emergence.ranges import (
    Ge,
    Gt,
    Le,
    Lt,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
)
from emergence.settings import check_fields


@dataclass(frozen=True)
class MicroConfig:
    """The training corpus, tokenizer and optimisation shared by every model of the suite."""

    paragraphs: Annotated[int, Ge(10)] = 12000
    """Topic-coherent training paragraphs generated from the bundled corpus."""
    heldout_fraction: Annotated[float, Gt(0), Lt(0.5)] = 0.1
    """Share of each domain's sentences kept out of training for the held-out loss."""
    vocab_size: Annotated[int, Ge(300)] = 2048
    """BPE vocabulary size."""
    seq_len: Annotated[int, Ge(8)] = 64
    """Tokens per training sequence (random windows of the token stream)."""
    batch_size: PositiveInt = 16
    """Sequences per step."""
    lr: PositiveFloat = 3e-3
    """Peak AdamW learning rate (cosine decay to ``lr_floor`` of it after warmup)."""
    warmup_steps: NonNegativeInt = 30
    """Linear warmup steps."""
    lr_floor: Annotated[float, Ge(0), Le(1)] = 0.1
    """Learning rate at the last step, as a share of the peak ``lr``: the cosine after warmup
    ends there (1: constant after warmup)."""
    weight_decay: NonNegativeFloat = 0.01
    """AdamW weight decay."""
    tie_embeddings: bool = True
    """Share the input embedding with the output layer (Pythia does not). A rare domain word
    then learns its embedding each time it is predicted, not only when it is read."""
    seed: NonNegativeInt = 0
    """Seeds the corpus, initialisation and batch sampling."""

    def __post_init__(self) -> None:
        check_fields(self)
