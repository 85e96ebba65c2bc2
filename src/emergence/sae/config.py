"""Hyperparameters of one top-k SAE training run, and their data-dependent defaults."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from emergence.ranges import (
    Fraction,
    Ge,
    Lt,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
)
from emergence.settings import ConfigError, build, check_fields

# Gao et al. (2024) count a latent dead after 10M tokens without firing; our data sets are a few
# thousand probe texts seen for many epochs, so the default also scales with the data set size.
DEAD_AFTER_SAMPLES_CAP = 10_000_000
DEAD_AFTER_EPOCHS = 2.0


@dataclass(frozen=True)
class SaeConfig:
    """Hyperparameters of a top-k SAE. ``None`` fields are resolved from the data by `resolve`."""

    # Latents kept per sample by the top-k activation.
    k: PositiveInt = 1
    # Number of latents (dictionary size) h.
    n_latents: PositiveInt = 512
    # k of the multi-k loss term (Gao et al. 2024, sec. 5.3); None -> 4 * k, capped at n_latents.
    multi_k: PositiveInt | None = None
    # Weight of the multi-k term (Gao et al. use 1/8); 0 disables it. Off by default: at k = 1 the
    # extra latents are the winner's near neighbours, the term pushes their biases down and,
    # Adam being scale-free, even a 1/128 weight collapsed the dictionary (FVU 0.035 -> 0.10,
    # 3 % -> 90 % dead on synthetic data; +0.01..0.07 FVU on micro-model activations).
    multi_k_coef: NonNegativeFloat = 0.0
    # Weight of the AuxK loss on dead latents; 0 disables it.
    auxk_alpha: NonNegativeFloat = 1 / 32
    # Dead latents used by AuxK per sample (top by pre-activation); None -> n_latents, i.e. every
    # dead latent: with h = 512 a selection saves no work and a CPU top-k costs more than it.
    k_aux: PositiveInt | None = None
    # A latent is dead once it has not fired (value > 0) for this many training samples;
    # None -> min(10_000_000, 2 epochs of the data set).
    dead_after_samples: PositiveInt | None = None
    # Number of optimiser steps (the one knob for training length; epochs = steps * batch / N).
    n_steps: PositiveInt = 500
    # Samples per step; batches are drawn from a stream of seeded per-epoch permutations.
    batch_size: PositiveInt = 256
    # Adam learning rate; None -> lr_base / sqrt(n_latents / 2**14) (Gao et al. 2024 scaling).
    lr: PositiveFloat | None = None
    # Base of the automatic learning rate, for inputs scaled to unit deviation norm and data
    # init (lower than Gao et al.'s 2e-4: the dictionary starts near a solution and larger
    # steps let a few latents take over; 1e-4 gave the best FVU with no dead latents on the
    # micro-model activations, plateauing by ~500 steps).
    lr_base: PositiveFloat = 1e-4
    # Steps of linear learning-rate warmup from 0.
    warmup_steps: NonNegativeInt = 50
    # Final fraction of the steps over which the learning rate decays linearly to 0.
    decay_frac: Fraction = 0.2
    # Adam beta1.
    adam_beta1: Annotated[float, Ge(0), Lt(1)] = 0.9
    # Adam beta2.
    adam_beta2: Annotated[float, Ge(0), Lt(1)] = 0.999
    # Adam epsilon (Gao et al. 2024 use 6.25e-10).
    adam_eps: PositiveFloat = 6.25e-10
    # Decoder rows at init: directions of random samples ("data", Forgy-style) or random
    # Gaussian directions ("random"). With k = 1 the SAE is a gain-shape vector quantiser and,
    # as in k-means, random codes mostly never win: measured 93 % dead latents vs 3 % from data.
    init: Literal["data", "random"] = "data"
    # How b_dec is initialised from the data: the mean or the geometric median.
    b_dec_init: Literal["mean", "geometric_median"] = "mean"
    # Seed of the local generator used for the initialisation and the batch order.
    seed: NonNegativeInt = 0
    # Torch device to train on ("cpu", "cuda", "cuda:1", ...).
    device: str = "cpu"
    # Log a progress line every this many steps (0: only the first and last step).
    log_every: NonNegativeInt = 500
    # Rows per chunk when encoding or evaluating the full data set.
    eval_batch_size: PositiveInt = 8192

    def __post_init__(self) -> None:
        check_fields(self)
        if self.n_latents < self.k:
            raise ConfigError(f"SaeConfig: n_latents ({self.n_latents}) must be >= k ({self.k})")
        if self.multi_k is not None and not self.k <= self.multi_k <= self.n_latents:
            raise ConfigError(
                f"SaeConfig: multi_k ({self.multi_k}) must be between k ({self.k}) and "
                f"n_latents ({self.n_latents})"
            )

    @classmethod
    def from_dict(cls, data: dict[str, Any], section: str = "") -> SaeConfig:
        """Build a config from a (YAML/JSON) mapping; unknown keys and wrong types are errors
        naming the key (prefixed by ``section``)."""
        return build(cls, data, [section] if section else [])

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict that `from_dict` turns back into an equal config."""
        return dataclasses.asdict(self)

    def resolve(self, n_samples: int) -> SaeConfig:
        """This config with every data-dependent ``None`` replaced by the value actually used."""
        dead_after = self.dead_after_samples
        if dead_after is None:
            dead_after = max(1, min(DEAD_AFTER_SAMPLES_CAP, round(DEAD_AFTER_EPOCHS * n_samples)))
        return dataclasses.replace(
            self,
            multi_k=self.multi_k if self.multi_k is not None else min(4 * self.k, self.n_latents),
            k_aux=self.k_aux if self.k_aux is not None else self.n_latents,
            dead_after_samples=dead_after,
            lr=self.lr if self.lr is not None else auto_lr(self.lr_base, self.n_latents),
        )


def auto_lr(lr_base: float, n_latents: int) -> float:
    """Learning rate scaled with the dictionary size (Gao et al. 2024): base / sqrt(h / 2^14)."""
    return lr_base / math.sqrt(n_latents / 2**14)
