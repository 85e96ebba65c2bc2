"""Hyperparameters of one top-k SAE training run, and their data-dependent defaults."""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from dataclasses import dataclass
from typing import Any, Literal

# Gao et al. (2024) count a latent dead after 10M tokens without firing; our data sets are a few
# thousand probe texts seen for many epochs, so the default also scales with the data set size.
DEAD_AFTER_SAMPLES_CAP = 10_000_000
DEAD_AFTER_EPOCHS = 2.0


@dataclass(frozen=True)
class SaeConfig:
    """Hyperparameters of a top-k SAE. ``None`` fields are resolved from the data by `resolve`."""

    # Latents kept per sample by the top-k activation.
    k: int = 1
    # Number of latents (dictionary size) h.
    n_latents: int = 512
    # k of the multi-k loss term (Gao et al. 2024, sec. 5.3); None -> 4 * k, capped at n_latents.
    multi_k: int | None = None
    # Weight of the multi-k term (Gao et al. use 1/8); 0 disables it. Off by default: at k = 1 the
    # extra latents are the winner's near neighbours, the term pushes their biases down and,
    # Adam being scale-free, even a 1/128 weight collapsed the dictionary (FVU 0.035 -> 0.10,
    # 3 % -> 90 % dead on synthetic data; +0.01..0.07 FVU on micro-model activations).
    multi_k_coef: float = 0.0
    # Weight of the AuxK loss on dead latents; 0 disables it.
    auxk_alpha: float = 1 / 32
    # Dead latents used by AuxK per sample (top by pre-activation); None -> n_latents, i.e. every
    # dead latent: with h = 512 a selection saves no work and a CPU top-k costs more than it.
    k_aux: int | None = None
    # A latent is dead once it has not fired (value > 0) for this many training samples;
    # None -> min(10_000_000, 2 epochs of the data set).
    dead_after_samples: int | None = None
    # Number of optimiser steps (the one knob for training length; epochs = steps * batch / N).
    n_steps: int = 500
    # Samples per step; batches are drawn from a stream of seeded per-epoch permutations.
    batch_size: int = 256
    # Adam learning rate; None -> lr_base / sqrt(n_latents / 2**14) (Gao et al. 2024 scaling).
    lr: float | None = None
    # Base of the automatic learning rate, for inputs scaled to unit deviation norm and data
    # init (lower than Gao et al.'s 2e-4: the dictionary starts near a solution and larger
    # steps let a few latents take over; 1e-4 gave the best FVU with no dead latents on the
    # micro-model activations, plateauing by ~500 steps).
    lr_base: float = 1e-4
    # Steps of linear learning-rate warmup from 0.
    warmup_steps: int = 50
    # Final fraction of the steps over which the learning rate decays linearly to 0.
    decay_frac: float = 0.2
    # Adam beta1.
    adam_beta1: float = 0.9
    # Adam beta2.
    adam_beta2: float = 0.999
    # Adam epsilon (Gao et al. 2024 use 6.25e-10).
    adam_eps: float = 6.25e-10
    # Decoder rows at init: directions of random samples ("data", Forgy-style) or random
    # Gaussian directions ("random"). With k = 1 the SAE is a gain-shape vector quantiser and,
    # as in k-means, random codes mostly never win: measured 93 % dead latents vs 3 % from data.
    init: Literal["data", "random"] = "data"
    # How b_dec is initialised from the data: the mean or the geometric median.
    b_dec_init: Literal["mean", "geometric_median"] = "mean"
    # Seed of the local generator used for the initialisation and the batch order.
    seed: int = 0
    # Torch device to train on ("cpu", "cuda", "cuda:1", ...).
    device: str = "cpu"
    # Log a progress line every this many steps (0: only the first and last step).
    log_every: int = 500
    # Rows per chunk when encoding or evaluating the full data set.
    eval_batch_size: int = 8192

    def __post_init__(self) -> None:
        checks: list[tuple[bool, str]] = [
            (self.k >= 1, f"k must be >= 1, got {self.k}"),
            (self.n_latents >= self.k, f"n_latents ({self.n_latents}) must be >= k ({self.k})"),
            (
                self.multi_k is None or self.k <= self.multi_k <= self.n_latents,
                "multi_k must be between k and n_latents",
            ),
            (self.multi_k_coef >= 0, "multi_k_coef must be >= 0"),
            (self.auxk_alpha >= 0, "auxk_alpha must be >= 0"),
            (self.k_aux is None or self.k_aux >= 1, "k_aux must be >= 1"),
            (
                self.dead_after_samples is None or self.dead_after_samples >= 1,
                "dead_after_samples must be >= 1",
            ),
            (self.n_steps >= 1, f"n_steps must be >= 1, got {self.n_steps}"),
            (self.batch_size >= 1, f"batch_size must be >= 1, got {self.batch_size}"),
            (self.lr is None or self.lr > 0, "lr must be > 0"),
            (self.lr_base > 0, "lr_base must be > 0"),
            (self.warmup_steps >= 0, "warmup_steps must be >= 0"),
            (0 <= self.decay_frac <= 1, "decay_frac must be in [0, 1]"),
            (0 <= self.adam_beta1 < 1 and 0 <= self.adam_beta2 < 1, "adam betas must be in [0,1)"),
            (self.adam_eps > 0, "adam_eps must be > 0"),
            (
                self.init in ("data", "random"),
                f"init must be 'data' or 'random', got {self.init!r}",
            ),
            (
                self.b_dec_init in ("mean", "geometric_median"),
                f"b_dec_init must be 'mean' or 'geometric_median', got {self.b_dec_init!r}",
            ),
            (self.log_every >= 0, "log_every must be >= 0"),
            (self.eval_batch_size >= 1, "eval_batch_size must be >= 1"),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(f"SaeConfig: {message}")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SaeConfig:
        """Build a config from a (YAML/JSON) mapping; unknown keys and wrong types are errors."""
        hints = typing.get_type_hints(cls)
        unknown = sorted(set(data) - set(hints))
        if unknown:
            raise ValueError(
                f"SaeConfig: unknown key(s) {', '.join(map(repr, unknown))}; "
                f"known keys: {', '.join(sorted(hints))}"
            )
        return cls(**{key: _checked(key, value, hints[key]) for key, value in data.items()})

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


def _checked(key: str, value: Any, hint: Any) -> Any:
    """``value`` if it fits the field's type; a float written as YAML "1e-4" (a string to
    PyYAML) is converted. Literal fields are checked by ``__post_init__``."""
    allowed = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
    if value is None and type(None) in allowed:
        return value
    if float in allowed:
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                pass
        elif isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    if int in allowed and isinstance(value, int) and not isinstance(value, bool):
        return value
    if str in allowed and isinstance(value, str):
        return value
    if any(typing.get_origin(a) is Literal for a in allowed):
        return value
    raise ValueError(f"SaeConfig: {key}={value!r} is not a valid {getattr(hint, '__name__', hint)}")
