"""Concept activation %, alignment and granularity of one (scale, checkpoint): method §7-8.

One call covers every layer of the checkpoint, because the activation file holds them all and
the scale axis needs the reference model's activations of the same checkpoint: reading each
file once per checkpoint keeps the stage I/O-bound at Pythia-12B sizes, not read-bound per layer.

Protocols (all on the eval split; SAEs, labels and Procrustes maps come from the fit split):
- ``per_point``: each layer's own SAE and matches;
- ``ref_time``: the SAE and matches of the same layer at the scale's final checkpoint;
- ``ref_space``: the SAE and matches of the reference layer of the same checkpoint;
- ``ref_scale``: activations mapped by orthogonal Procrustes into the reference scale's space at
  the layer of the same relative depth, then its SAE and matches.

Beside them, the ceilings of every layer (``emergence.analysis.ceilings``): what a linear probe
and the per-point SAE's latents hold of the domains, and what labelling and verification keep.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np
import polars as pl

from emergence.activations import read_layer
from emergence.analysis.activation import ACTIVATION_SCHEMA, latent_claims, selectivity
from emergence.analysis.alignment import (
    ALIGNMENT_SCHEMA,
    alignment_scores,
    apply_procrustes,
    fit_procrustes,
    linear_cka,
)
from emergence.analysis.ceilings import (
    CEILINGS_SCHEMA,
    label_domains,
    majority_domains,
    one_hot,
    probe_predictions,
    summarise,
)
from emergence.analysis.config import AnalysisConfig
from emergence.analysis.granularity import GRANULARITY_SCHEMA, classify_latent
from emergence.analysis.plan import CheckpointInputs
from emergence.autointerp.io import read_labels
from emergence.matching import matched_domains, read_matches
from emergence.sae.encoder import read_encoder


class CheckpointTables(NamedTuple):
    """The per-checkpoint tables (columns: the *_SCHEMA dicts)."""

    activation: pl.DataFrame
    alignment: pl.DataFrame
    granularity: pl.DataFrame
    ceilings: pl.DataFrame


class _Reader:
    """Loads each SAE / matches table once, however many protocols use it."""

    def __init__(self) -> None:
        self._sae: dict[str, Any] = {}
        self._matches: dict[str, pl.DataFrame] = {}

    def top_latent(self, path: str, x_ND: np.ndarray) -> np.ndarray:
        """Each row's top-1 latent, -1 where no latent fires."""
        if path not in self._sae:
            self._sae[path] = read_encoder(path)
        values_NK, indices_NK = self._sae[path].encode(x_ND)
        top_N = indices_NK[:, 0].copy()
        top_N[values_NK[:, 0] <= 0] = -1
        return top_N

    def matches(self, path: str) -> pl.DataFrame:
        if path not in self._matches:
            self._matches[path] = read_matches(path)
        return self._matches[path]

    def matched(self, path: str) -> dict[int, set[str]]:
        return matched_domains(self.matches(path))


def _split_rows(
    path: str, layer: int, fit_ids: np.ndarray, eval_ids: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Activations of ``layer`` for the fit and the eval ids, in their order (float64), from
    one read of the layer."""
    data = read_layer(path, layer)
    row_of = {int(s): r for r, s in enumerate(data.sample_id_N.tolist())}
    missing = [int(s) for s in (*fit_ids, *eval_ids) if int(s) not in row_of]
    if missing:
        raise ValueError(f"{path}: sample ids {missing[:10]} missing from layer {layer}")
    x_ND = data.x_ND.astype(np.float64)
    return tuple(x_ND[[row_of[int(s)] for s in ids]] for ids in (fit_ids, eval_ids))


def analyse_checkpoint(
    inputs: CheckpointInputs, cfg: AnalysisConfig, *, tau: float, rule: str
) -> CheckpointTables:
    """Activation % (four protocols), alignment to the reference scale, granularity and the
    ceilings; ``tau`` and ``rule`` are the matching settings that made the matches (for the
    ``labelled`` stage, which ignores verification)."""
    samples = pl.read_parquet(inputs.samples, columns=["sample_id", "domain", "split", "text"])
    domains = sorted(set(samples["domain"].to_list()))
    fit_ids = samples.filter(split="fit")["sample_id"].to_numpy()
    eval_ids = samples.filter(split="eval")["sample_id"].to_numpy()
    fit_domain = samples.filter(split="fit")["domain"].to_numpy()
    eval_domain = samples.filter(split="eval")["domain"].to_numpy()
    text_of = dict(zip(samples["sample_id"].to_list(), samples["text"].to_list(), strict=True))
    reader = _Reader()
    activation: list[dict[str, Any]] = []
    alignment: list[dict[str, Any]] = []
    granularity: list[dict[str, Any]] = []
    ceilings: list[dict[str, Any]] = []
    key = {"scale": inputs.scale, "ckpt": inputs.ckpt}

    def stage(layer: int, name: str, claims_NM: np.ndarray) -> None:
        ceilings.append(
            {**key, "layer": layer, "stage": name, **summarise(claims_NM, eval_domain, domains)}
        )

    def add(layer: int, protocol: str, top_N: np.ndarray, matched: Mapping[int, set[str]]) -> None:
        claims_NM = latent_claims(top_N, matched, domains)
        rows = selectivity(
            claims_NM, eval_domain, domains, n_boot=cfg.n_boot, ci=cfg.ci, seed=cfg.seed
        )
        for row in rows:
            activation.append({**key, "layer": layer, "protocol": protocol, **row._asdict()})
        stage(layer, protocol, claims_NM)

    for layer, files in sorted(inputs.points.items()):
        x_fit, x_eval = _split_rows(inputs.activations, layer, fit_ids, eval_ids)
        probe_N = probe_predictions(x_fit, fit_domain, x_eval, seed=cfg.seed)
        stage(layer, "probe", one_hot(probe_N, domains))
        top_N = reader.top_latent(files.sae, x_eval)
        majority = majority_domains(reader.top_latent(files.sae, x_fit), fit_domain)
        stage(
            layer,
            "sae_purity",
            latent_claims(top_N, {k: {v} for k, v in majority.items()}, domains),
        )
        matches = reader.matches(files.matches)
        stage(layer, "labelled", latent_claims(top_N, label_domains(matches, tau, rule), domains))
        verified = label_domains(matches.filter(pl.col("interpretable")), tau, rule)
        stage(layer, "verified", latent_claims(top_N, verified, domains))
        add(layer, "per_point", top_N, reader.matched(files.matches))
        if layer in inputs.time_ref:
            ref = inputs.time_ref[layer]
            add(layer, "ref_time", reader.top_latent(ref.sae, x_eval), reader.matched(ref.matches))
        space = inputs.points[inputs.space_layer]
        add(layer, "ref_space", reader.top_latent(space.sae, x_eval), reader.matched(space.matches))
        if layer in inputs.scale_ref:
            ref_layer, ref = inputs.scale_ref[layer]
            y_fit, y_eval = _split_rows(inputs.ref_activations, ref_layer, fit_ids, eval_ids)
            fit = fit_procrustes(x_fit, y_fit)
            mapped = apply_procrustes(fit, x_eval)
            add(layer, "ref_scale", reader.top_latent(ref.sae, mapped), reader.matched(ref.matches))
            scores = alignment_scores(mapped, y_eval, fit.mean_ref_D)
            alignment.append(
                {
                    **key,
                    "layer": layer,
                    "ref_scale": inputs.ref_scale,
                    "ref_layer": ref_layer,
                    "cka": linear_cka(x_eval, y_eval),
                    "residual": scores.residual,
                    "cosine": scores.cosine,
                }
            )
        interpretable = reader.matches(files.matches).filter(pl.col("interpretable"))
        granularity.append(
            {
                **key,
                "layer": layer,
                **_granularity(files.labels, set(interpretable["latent"]), text_of, cfg),
            }
        )
    return CheckpointTables(
        pl.DataFrame(activation, schema=ACTIVATION_SCHEMA),
        pl.DataFrame(alignment, schema=ALIGNMENT_SCHEMA),
        pl.DataFrame(granularity, schema=GRANULARITY_SCHEMA),
        pl.DataFrame(ceilings, schema=CEILINGS_SCHEMA),
    )


def _granularity(
    labels_path: str, interpretable: set[int], text_of: Mapping[int, str], cfg: AnalysisConfig
) -> dict[str, Any]:
    """Token- vs concept-level counts over the point's interpretable latents, judged on the
    activating fit texts the teacher was shown."""
    kinds = [
        classify_latent([text_of[i] for i in rec["examples"]], cfg.token_share).kind
        for rec in read_labels(labels_path)["latents"]
        if rec["latent"] in interpretable and len(rec["examples"]) >= 2
    ]
    n_token, n_concept = kinds.count("token"), kinds.count("concept")
    n = n_token + n_concept
    return {
        "n_interpretable": n,
        "n_token": n_token,
        "n_concept": n_concept,
        "token_share": n_token / n if n else float("nan"),
    }
