"""Training loop of the top-k SAE: data scaling, initialisation, batches, dead latents, logging."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import numpy as np
import torch
from torch import Tensor

from emergence.sae.config import SaeConfig
from emergence.sae.loss import SaeParams, loss_and_grads
from emergence.sae.metrics import SaeMetrics, evaluate_sae
from emergence.sae.model import SparseAutoencoder, geometric_median, init_sae
from emergence.sae.optim import ConstrainedAdam, lr_at

Log = Callable[[str], None]


class TrainResult(NamedTuple):
    """A trained SAE (in eval mode, in the units of the input) and how it was obtained."""

    sae: SparseAutoencoder  # sae.cfg is the resolved config (no data-dependent None left)
    metrics: SaeMetrics  # on the full training data, after training
    input_scale: float  # the data were divided by this during training (folded back in)
    history: list[dict[str, Any]]  # the logged progress records (losses in units of the data's
    # variance: "mse" is about the batch's FVU)


class _Scaling(NamedTuple):
    mean_D: Tensor  # per-dimension mean of the data (float64)
    scale: float  # sqrt(mean_n ||x_n - mean||^2), or 1 for zero-variance data
    zero_variance: bool  # every sample is identical (in float32)


def train_sae(
    x_ND: Tensor | np.ndarray,
    cfg: SaeConfig,
    log: Log | None = None,
    *,
    init: SparseAutoencoder | None = None,
) -> TrainResult:
    """Train a top-k SAE on the rows of x_ND (N samples x D dims) and evaluate it on all of them.

    Training runs on (x - mean) / scale, which makes the learning rate independent of the
    activations' magnitude (residual streams range from ~1 to ~1000s); the scaling is folded into
    b_enc and b_dec afterwards, so the returned SAE takes raw activations and its latent values
    are in raw units. Everything random comes from one local generator seeded by ``cfg.seed``:
    the same inputs and config give bit-identical weights on CPU.

    ``init`` continues from an existing SAE (same D and n_latents) instead of a fresh one.
    Data with zero variance (every row identical) have nothing to learn: the optimisation is
    skipped (``metrics.n_steps == 0``), b_dec is their common value, and FVU is None.
    """
    t0 = time.perf_counter()
    emit = log or (lambda _msg: None)
    x_ND = _check_input(x_ND).to(device=cfg.device, dtype=torch.float32)
    n, d = x_ND.shape
    cfg = cfg.resolve(n)
    scaling = _scaling(x_ND)
    xs_ND = (x_ND - scaling.mean_D.float()) / scaling.scale
    generator = torch.Generator().manual_seed(cfg.seed)
    if init is None:
        b_dec_D = torch.zeros(d) if cfg.b_dec_init == "mean" else geometric_median(xs_ND.cpu())
        sae = init_sae(d, cfg, b_dec_D, generator, xs_ND)
    else:
        sae = _to_training_units(init, cfg, scaling)

    emit(
        f"SAE: N={n} D={d} h={cfg.n_latents} k={cfg.k} multi_k={cfg.multi_k} "
        f"(coef {cfg.multi_k_coef:g}) k_aux={cfg.k_aux} (alpha {cfg.auxk_alpha:g}) "
        f"lr={cfg.lr:.3g} steps={cfg.n_steps} batch={cfg.batch_size} "
        f"dead_after={cfg.dead_after_samples} samples, input scale={scaling.scale:.4g}"
    )
    if scaling.zero_variance:
        emit("zero variance: every sample is identical, nothing to learn; optimisation skipped")
        history: list[dict[str, Any]] = []
    else:
        params = SaeParams.from_sae(sae, cfg.device)
        history = _optimise(params, xs_ND, cfg, generator, emit)
        params.copy_into(sae)

    _fold_scaling(sae, scaling)
    sae.to(cfg.device).eval()
    n_steps = 0 if scaling.zero_variance else cfg.n_steps
    metrics = evaluate_sae(sae, x_ND, n_steps=n_steps)
    metrics = metrics._replace(wall_time_s=time.perf_counter() - t0)
    fvu = "undefined (zero variance)" if metrics.fvu is None else f"{metrics.fvu:.4f}"
    emit(
        f"done in {metrics.wall_time_s:.2f}s: fvu {fvu} dead {metrics.dead_fraction:.3f} "
        f"l0 {metrics.l0:.3f} no-active {metrics.frac_no_active:.3f}"
    )
    return TrainResult(sae, metrics, scaling.scale, history)


def _optimise(
    params: SaeParams, xs_ND: Tensor, cfg: SaeConfig, generator: torch.Generator, emit: Log
) -> list[dict[str, Any]]:
    """The Adam loop on the scaled data; returns the logged progress records."""
    assert cfg.multi_k is not None and cfg.k_aux is not None and cfg.lr is not None
    assert cfg.dead_after_samples is not None
    grads = params.zeros_like()
    adam = ConstrainedAdam(params, grads, cfg.adam_beta1, cfg.adam_beta2, cfg.adam_eps)
    since_fired_H = torch.zeros(cfg.n_latents, dtype=torch.long, device=cfg.device)
    history: list[dict[str, Any]] = []
    batches = _batches(xs_ND, cfg.batch_size, generator)
    for step in range(cfg.n_steps):
        lr = lr_at(step, cfg.n_steps, cfg.lr, cfg.warmup_steps, cfg.decay_frac)
        dead_idx = None
        if cfg.auxk_alpha > 0:
            dead_idx = (since_fired_H >= cfg.dead_after_samples).nonzero().squeeze(1)
        terms = loss_and_grads(
            params,
            grads,
            next(batches),
            k=cfg.k,
            multi_k=cfg.multi_k,
            multi_k_coef=cfg.multi_k_coef,
            dead_idx=dead_idx,
            k_aux=cfg.k_aux,
            auxk_alpha=cfg.auxk_alpha,
        )
        adam.step(lr)
        since_fired_H += cfg.batch_size
        since_fired_H[terms.fired_idx] = 0

        if (
            step == 0
            or step == cfg.n_steps - 1
            or (cfg.log_every and (step + 1) % cfg.log_every == 0)
        ):
            record = {
                "step": step + 1,
                "lr": lr,
                "mse": float(terms.mse),
                "multi": float(terms.multi),
                "auxk": float(terms.auxk),
                "n_dead": int((since_fired_H >= cfg.dead_after_samples).sum()),
            }
            history.append(record)
            emit(
                f"step {step + 1}/{cfg.n_steps} lr {lr:.2e} mse {record['mse']:.4f} "
                f"multi {record['multi']:.4f} auxk {record['auxk']:.4f} "
                f"dead {record['n_dead']}/{cfg.n_latents}"
            )
    return history


def _check_input(x_ND: Tensor | np.ndarray) -> Tensor:
    x_ND = torch.as_tensor(x_ND)
    if x_ND.ndim != 2 or x_ND.shape[0] < 1 or x_ND.shape[1] < 1:
        raise ValueError(f"train_sae: expected a non-empty [N, D] matrix, got {tuple(x_ND.shape)}")
    if not x_ND.is_floating_point():
        raise ValueError(f"train_sae: expected floating-point activations, got {x_ND.dtype}")
    if not bool(torch.isfinite(x_ND).all()):
        raise ValueError("train_sae: activations contain NaN or infinite values")
    return x_ND


def _scaling(x_ND: Tensor) -> _Scaling:
    n = x_ND.shape[0]
    mean_D = x_ND.sum(0, dtype=torch.float64) / n
    # Chunked float64 sum: a float64 copy of a 20k x 5120 matrix would be 800 MB.
    sq = sum(float((x_ND[i : i + 4096].double() - mean_D).pow(2).sum()) for i in range(0, n, 4096))
    scale = math.sqrt(sq / n)
    # Zero variance (e.g. every probe ends in the same token at layer 0): nothing to scale.
    zero_variance = not (math.isfinite(scale) and scale > 0)
    return _Scaling(mean_D, 1.0 if zero_variance else scale, zero_variance)


@torch.no_grad()
def _to_training_units(
    sae: SparseAutoencoder, cfg: SaeConfig, scaling: _Scaling
) -> SparseAutoencoder:
    """A copy of ``sae`` acting on (x - mean) / scale: the inverse of `_fold_scaling`."""
    d = scaling.mean_D.shape[0]
    if sae.d_model != d or sae.n_latents != cfg.n_latents:
        raise ValueError(
            f"train_sae: init SAE has D={sae.d_model}, h={sae.n_latents}; "
            f"the data and config need D={d}, h={cfg.n_latents}"
        )
    out = SparseAutoencoder(d, cfg)
    out.load_state_dict({name: t.detach().cpu().float() for name, t in sae.state_dict().items()})
    out.b_enc.div_(scaling.scale)
    out.b_dec.copy_(((out.b_dec.double() - scaling.mean_D.cpu()) / scaling.scale).float())
    return out


@torch.no_grad()
def _fold_scaling(sae: SparseAutoencoder, scaling: _Scaling) -> None:
    # z_raw = s * ReLU(W_enc((x - mu)/s - b_dec') + b_enc') = ReLU(W_enc(x - b_dec) + s b_enc')
    # with b_dec = mu + s b_dec'; top-k is invariant to the positive factor s.
    s = scaling.scale
    sae.b_enc.mul_(s)
    sae.b_dec.copy_((scaling.mean_D.to(sae.b_dec.device) + s * sae.b_dec.double()).float())


def _batches(xs_ND: Tensor, batch_size: int, generator: torch.Generator) -> Iterator[Tensor]:
    """Endless batches from a stream of per-epoch permutations (a batch may straddle epochs).

    Rows are gathered a block of batches at a time so that a step takes a view, not a gather;
    blocks are capped at ~64 MB.
    """
    n, d = xs_ND.shape
    block_batches = max(1, min(64, (16 << 20) // (batch_size * d)))
    order = torch.empty(0, dtype=torch.long)
    while True:
        need = block_batches * batch_size
        while order.numel() < need:
            order = torch.cat([order, torch.randperm(n, generator=generator)])
        block_BD = xs_ND[order[:need].to(xs_ND.device)]
        order = order[need:]
        for start in range(0, need, batch_size):
            yield block_BD[start : start + batch_size]
