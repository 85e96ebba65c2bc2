"""Which texts the teacher sees: labelling examples (fit split) and verification sets (eval split).

Labelling and verification texts come from different splits of the samples table, so they are
disjoint by construction; `select` asserts it anyway. A latent is *active* on a text when it is
among the text's top-k latents with a value > 0 (with k = 1 each text has at most one).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np

if TYPE_CHECKING:
    from torch import Tensor

from emergence.autointerp.config import AutoInterpConfig


class Activity(NamedTuple):
    """An SAE's top-k codes of one split, as numpy arrays."""

    sample_id_N: np.ndarray  # int64 sample ids, aligned with the rows
    values_NK: np.ndarray  # float activation values (>= 0), largest first
    indices_NK: np.ndarray  # int64 latent ids


def activity(
    sample_id_N: Tensor | np.ndarray,
    values_NK: Tensor | np.ndarray,
    indices_NK: Tensor | np.ndarray,
) -> Activity:
    """An `Activity` from encoder outputs (`SaeEncoder.encode`, or `SparseAutoencoder.encode`'s
    ``Encoded``) and the sample ids."""

    def arr(x: Tensor | np.ndarray) -> np.ndarray:
        # Duck-typed so that importing this module (config validation does, at workflow parse
        # time) does not import torch.
        return x.detach().cpu().numpy() if hasattr(x, "detach") else np.asarray(x)

    act = Activity(
        arr(sample_id_N).astype(np.int64),
        arr(values_NK).astype(np.float64),
        arr(indices_NK).astype(np.int64),
    )
    n = act.sample_id_N.shape[0]
    if act.values_NK.shape != act.indices_NK.shape or act.values_NK.shape[:1] != (n,):
        raise ValueError(
            f"activity: sample ids {act.sample_id_N.shape}, values {act.values_NK.shape} and "
            f"indices {act.indices_NK.shape} do not align"
        )
    return act


def latent_strengths(act: Activity) -> dict[int, dict[int, float]]:
    """latent -> {sample_id: activation} over the texts where the latent is active."""
    out: dict[int, dict[int, float]] = {}
    rows, slots = np.nonzero(act.values_NK > 0)
    for r, s in zip(rows.tolist(), slots.tolist(), strict=True):
        latent = int(act.indices_NK[r, s])
        sid = int(act.sample_id_N[r])
        strengths = out.setdefault(latent, {})
        strengths[sid] = max(strengths.get(sid, 0.0), float(act.values_NK[r, s]))
    return out


class Selection(NamedTuple):
    """The texts (as sample ids) used for one latent."""

    latent: int  # latent id
    n_fit_active: int  # fit texts the latent is active on
    n_eval_active: int  # eval texts the latent is active on
    examples: list[int]  # top activating fit texts, strongest first
    contrast: list[int]  # non-activating fit texts
    verify_batches: list[list[tuple[int, bool]]]  # prompts of (eval sample id, latent active?)
    label_error: str | None  # why the latent gets no label
    verify_error: str | None  # why a label would not be verified (too few eval texts)


def select(
    latent: int,
    fit_active: dict[int, float],
    eval_active: dict[int, float],
    fit_ids: np.ndarray,
    eval_ids: np.ndarray,
    cfg: AutoInterpConfig,
) -> Selection:
    """Labelling examples and verification batches of one latent, seeded by (seed, latent)."""
    # Strongest first; ties by sample id so the order never depends on row order.
    ranked = sorted(fit_active, key=lambda sid: (-fit_active[sid], sid))
    examples = ranked[: cfg.n_examples]
    rng_contrast = np.random.default_rng([cfg.seed, latent, 0])
    inactive_fit = np.array([s for s in fit_ids.tolist() if s not in fit_active], dtype=np.int64)
    n_contrast = min(cfg.n_contrast, inactive_fit.size)
    contrast = rng_contrast.choice(inactive_fit, n_contrast, replace=False).tolist()

    rng_verify = np.random.default_rng([cfg.seed, latent, 1])
    pos = np.array(sorted(eval_active), dtype=np.int64)
    neg = np.array([s for s in eval_ids.tolist() if s not in eval_active], dtype=np.int64)
    cap = cfg.max_verify_per_class
    n_pos, n_neg = (x.size if cap is None else min(x.size, cap) for x in (pos, neg))
    items = [(int(s), True) for s in rng_verify.choice(pos, n_pos, replace=False)]
    items += [(int(s), False) for s in rng_verify.choice(neg, n_neg, replace=False)]
    order = rng_verify.permutation(len(items))
    items = [items[i] for i in order]
    batches = _prompts(items, cfg)

    label_error = None
    if len(fit_active) < cfg.min_fit_positives:
        label_error = f"too few activating fit texts ({len(fit_active)} < {cfg.min_fit_positives})"
    verify_error = _too_few(pos.size, neg.size, cfg)
    if verify_error:
        batches = []
    used_fit = set(examples) | set(contrast)
    used_eval = {s for batch in batches for s, _ in batch}
    assert not used_fit & used_eval, "labelling and verification texts overlap"
    return Selection(
        latent,
        len(fit_active),
        len(eval_active),
        examples,
        contrast,
        batches,
        label_error,
        verify_error,
    )


def _prompts(items: list[tuple[int, bool]], cfg: AutoInterpConfig) -> list[list[tuple[int, bool]]]:
    """Verification items cut into prompts of `AutoInterpConfig.texts_per_prompt`."""
    step = cfg.texts_per_prompt
    return [items[i : i + step] for i in range(0, len(items), step)]


def _too_few(n_pos: int, n_neg: int, cfg: AutoInterpConfig) -> str | None:
    """Why a latent with these verification class sizes cannot be judged, or None."""
    need = cfg.min_verify_positives
    if n_pos < need or n_neg < need:
        return (
            f"unverifiable: {n_pos} active and {n_neg} inactive eval texts (need >= {need} of each)"
        )
    return None


def without_negatives(selection: Selection, excluded: set[int], cfg: AutoInterpConfig) -> Selection:
    """``selection`` verified without the inactive eval texts in ``excluded`` (the order of the
    rest kept, re-batched); unverifiable when too few inactive texts remain."""
    items = [
        (sid, active)
        for batch in selection.verify_batches
        for sid, active in batch
        if active or sid not in excluded
    ]
    n_pos = sum(active for _, active in items)
    verify_error = selection.verify_error or _too_few(n_pos, len(items) - n_pos, cfg)
    batches = [] if verify_error else _prompts(items, cfg)
    return selection._replace(verify_batches=batches, verify_error=verify_error)
