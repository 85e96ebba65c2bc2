"""The AutoInterp loop for one SAE: select texts, label every live latent, verify, score."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import polars as pl

from emergence.autointerp.config import AutoInterpConfig
from emergence.autointerp.examples import (
    Activity,
    Selection,
    latent_strengths,
    select,
    without_negatives,
)
from emergence.autointerp.metrics import (
    FAILED,
    METRIC_COLUMNS,
    UNVERIFIABLE,
    empty_metrics,
    latent_metrics,
)
from emergence.autointerp.teacher import LabelAnswer, LabelRequest, Teacher, VerifyRequest
from emergence.autointerp.usage import Usage

# The verification table: latent, the metrics, then what verification cost.
VERIFY_SCHEMA: dict[str, Any] = {
    "latent": pl.Int64,
    "status": pl.String,
    "tp": pl.Int64,
    "fp": pl.Int64,
    "tn": pl.Int64,
    "fn": pl.Int64,
    "n_failed": pl.Int64,
    "precision": pl.Float64,
    "recall": pl.Float64,
    "f1": pl.Float64,
    "f1_lo": pl.Float64,
    "f1_hi": pl.Float64,
    "balanced_acc": pl.Float64,
    "interpretable": pl.Boolean,
    **{f"verify_{name}": pl.Int64 for name in Usage._fields},
}


class AutoInterpResult(NamedTuple):
    """Labels and verification of one SAE."""

    labels: list[dict[str, Any]]  # one record per live latent, by latent id (see `autointerp`)
    verification: pl.DataFrame  # one row per live latent, columns VERIFY_SCHEMA
    usage: Usage  # total teacher cost (labelling + verification)


def _texts(samples: pl.DataFrame, act: Activity, split: str, max_chars: int) -> dict[int, str]:
    ids = set(act.sample_id_N.tolist())
    rows = samples.filter(pl.col("sample_id").is_in(list(ids)))
    found = dict(zip(rows["sample_id"].to_list(), rows["split"].to_list(), strict=True))
    missing = sorted(ids - set(found))
    if missing:
        raise ValueError(f"sample ids {missing[:10]} are not in the samples table")
    wrong = sorted(s for s, sp in found.items() if sp != split)
    if wrong:
        raise ValueError(f"{split} activations contain sample ids of another split: {wrong[:10]}")
    texts = zip(rows["sample_id"].to_list(), rows["text"].to_list(), strict=True)
    return {int(s): t[:max_chars] for s, t in texts}


def _siblings(answer_of: dict[int, LabelAnswer]) -> dict[int, list[int]]:
    """latent -> the other latents whose label is the same (case and spacing aside), for the
    latents that have any."""
    by_label: dict[str, list[int]] = {}
    for latent, answer in sorted(answer_of.items()):
        if answer.label:
            by_label.setdefault(" ".join(answer.label.casefold().split()), []).append(latent)
    return {
        j: [i for i in group if i != j]
        for group in by_label.values()
        if len(group) > 1
        for j in group
    }


def _texts_of(latents: list[int], strength: dict[int, dict[int, float]]) -> set[int]:
    """The texts any of ``latents`` is active on."""
    return {sid for latent in latents for sid in strength.get(latent, {})}


def autointerp(
    fit: Activity,
    eval_: Activity,
    samples: pl.DataFrame,
    teacher: Teacher,
    cfg: AutoInterpConfig | None = None,
) -> AutoInterpResult:
    """Label and verify every live latent of an SAE.

    ``fit`` / ``eval_`` are the SAE's codes of the fit / eval texts (`examples.activity`);
    ``samples`` is the samples table. A latent is *live* when it is active on at least one fit
    text; dead latents get neither a label record nor a row (an SAE with no live latent, e.g.
    at a layer without variance, gives empty results). Every live latent's row has a
    ``status`` (verified / failed / unverifiable, see `metrics`) and its F1 with a bootstrap
    interval. A label record holds: latent, label (or None) and error, n_fit_active /
    n_eval_active, the sample ids shown (examples, contrast) and verified (verify_positive,
    verify_negative), teacher, prompt_version, calibration (backend data, e.g. the embedding
    threshold), verify_error, siblings, label_usage and cached.

    *Siblings* are latents that got the same label. With ``cfg.exclude_sibling_negatives`` a
    latent is verified without the texts its siblings are active on: the label cannot tell them
    apart, so those texts would test how the SAE split a concept, not whether the label describes
    the latent. Its own activating texts are all kept, so an impure latent still fails.
    """
    cfg = cfg or AutoInterpConfig()
    fit_text = _texts(samples, fit, "fit", cfg.max_text_chars)
    eval_text = _texts(samples, eval_, "eval", cfg.max_text_chars)
    if set(fit_text) & set(eval_text):
        raise ValueError("fit and eval activations share sample ids")
    fit_strength, eval_strength = latent_strengths(fit), latent_strengths(eval_)
    selections = [
        select(
            j, fit_strength[j], eval_strength.get(j, {}), fit.sample_id_N, eval_.sample_id_N, cfg
        )
        for j in sorted(fit_strength)
    ]
    to_label = [s for s in selections if s.label_error is None]
    label_answers = teacher.label(
        [
            LabelRequest([fit_text[i] for i in s.examples], [fit_text[i] for i in s.contrast])
            for s in to_label
        ]
    )
    answer_of = {s.latent: a for s, a in zip(to_label, label_answers, strict=True)}
    siblings = _siblings(answer_of)
    if cfg.exclude_sibling_negatives and siblings:
        selections = [
            without_negatives(s, _texts_of(siblings[s.latent], eval_strength), cfg)
            if s.latent in siblings
            else s
            for s in selections
        ]
        to_label = [s for s in selections if s.label_error is None]

    # One verification request per prompt of every labelled latent, all sent in one batch.
    owners: list[tuple[Selection, int]] = []  # (latent's selection, index of its batch)
    requests: list[VerifyRequest] = []
    for s in to_label:
        answer = answer_of[s.latent]
        if answer.label is None:
            continue
        for k, batch in enumerate(s.verify_batches):
            owners.append((s, k))
            texts = [eval_text[i] for i, _ in batch]
            requests.append(VerifyRequest(answer.label, texts, answer.calibration))
    verify_answers = teacher.verify(requests) if requests else []
    verdicts: dict[int, list[tuple[bool, bool | None]]] = {}
    verify_usage: dict[int, Usage] = {}
    for (s, k), v in zip(owners, verify_answers, strict=True):
        truth = [active for _, active in s.verify_batches[k]]
        verdicts.setdefault(s.latent, []).extend(zip(truth, v.answers, strict=True))
        verify_usage[s.latent] = verify_usage.get(s.latent, Usage()).plus(v.usage)

    labels: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    total = Usage()
    for s in selections:
        answer = answer_of.get(s.latent)
        pairs = verdicts.get(s.latent)
        if pairs:
            metrics = latent_metrics(
                [t for t, _ in pairs],
                [a for _, a in pairs],
                f1_threshold=cfg.f1_threshold,
                max_failed_fraction=cfg.max_failed_fraction,
                n_resamples=cfg.f1_ci_resamples,
                level=cfg.f1_ci_level,
                rng=np.random.default_rng([cfg.seed, s.latent, 2]),
            )
        elif s.label_error is not None or (answer is not None and answer.label and s.verify_error):
            # Too few activating texts to label (fit) or to judge (eval).
            metrics = empty_metrics(UNVERIFIABLE)
        else:
            metrics = empty_metrics(FAILED)  # the teacher gave no label
        v_usage = verify_usage.get(s.latent, Usage())
        l_usage = answer.usage if answer is not None else Usage()
        total = total.plus(l_usage).plus(v_usage)
        verified = [item for batch in s.verify_batches for item in batch] if pairs else []
        labels.append(
            {
                "latent": s.latent,
                "label": answer.label if answer else None,
                "error": answer.error if answer else s.label_error,
                "n_fit_active": s.n_fit_active,
                "n_eval_active": s.n_eval_active,
                # Only texts a teacher actually saw: none for a latent too rare to label.
                "examples": s.examples if answer else [],
                "contrast": s.contrast if answer else [],
                "verify_positive": sorted(i for i, active in verified if active),
                "verify_negative": sorted(i for i, active in verified if not active),
                "verify_error": s.verify_error if answer and answer.label else None,
                "siblings": siblings.get(s.latent, []),
                "teacher": teacher.name,
                "prompt_version": teacher.prompt_version,
                "calibration": answer.calibration if answer else None,
                "label_usage": l_usage.to_dict(),
                "cached": bool(answer.cached) if answer else False,
            }
        )
        row = {"latent": s.latent, **dict(zip(METRIC_COLUMNS, metrics, strict=True))}
        row.update({f"verify_{k}": v for k, v in v_usage.to_dict().items()})
        rows.append(row)
    table = pl.DataFrame(rows, schema=VERIFY_SCHEMA)
    return AutoInterpResult(labels, table, total)


def interpretable_latents(table: pl.DataFrame) -> list[int]:
    """Latent ids marked interpretable in a verification table."""
    return table.filter(pl.col("interpretable"))["latent"].to_list()
