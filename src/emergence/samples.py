"""Probe texts: read from a source, label with domains, split into fit / eval.

The result is one table (``results/data/samples.parquet``) with columns sample_id, domain, text,
split. The split is stratified by domain and seeded, so the same config always gives the same
texts in the same split.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from emergence.corpus import bundled_domains

log = logging.getLogger(__name__)


class SamplesError(ValueError):
    """The probe texts cannot be built; the message names the file or dataset."""


def bundled_texts() -> pl.DataFrame:
    """The bundled corpus' probe questions as (domain, text)."""
    rows = [(d.key, q) for d in bundled_domains().values() for q in d.questions]
    return pl.DataFrame(rows, schema={"domain": pl.String, "text": pl.String}, orient="row")


def read_text_file(path: str | Path) -> pl.DataFrame:
    """A user's CSV, JSONL or parquet file with ``domain`` and ``text`` columns."""
    path = Path(path)
    readers = {".csv": pl.read_csv, ".jsonl": pl.read_ndjson, ".parquet": pl.read_parquet}
    reader = readers.get(path.suffix.lower())
    if reader is None:
        raise SamplesError(f"{path}: unsupported extension (use .csv, .jsonl or .parquet)")
    if not path.exists():
        raise SamplesError(f"{path}: file does not exist (samples.path)")
    try:
        frame = reader(path)
    except Exception as exc:  # polars raises several error types for malformed files
        where = _bad_json_line(path) if path.suffix.lower() == ".jsonl" else None
        raise SamplesError(f"{path}: cannot be read as {path.suffix[1:]}: {where or exc}") from exc
    missing = [c for c in ("domain", "text") if c not in frame.columns]
    if missing:
        raise SamplesError(f"{path}: missing column(s) {missing}; found {frame.columns}")
    return frame.select(pl.col("domain").cast(pl.String), pl.col("text").cast(pl.String))


def _bad_json_line(path: Path) -> str | None:
    """The first line of a JSONL file that is not a JSON object, as "line N: why" (polars'
    own message gives a character offset within an internal buffer, not the line)."""
    with path.open(encoding="utf-8", errors="replace") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except ValueError as exc:
                return f"line {number}: {exc}"
            if not isinstance(value, dict):
                return f"line {number}: a JSON {type(value).__name__}, not an object"
    return None


def ambiguous_texts(frame: pl.DataFrame) -> pl.DataFrame:
    """Texts listed under more than one domain, with their sorted domains (text, domains)."""
    return (
        frame.group_by("text", maintain_order=True)
        .agg(pl.col("domain").unique().sort())
        .filter(pl.col("domain").list.len() > 1)
        .rename({"domain": "domains"})
    )


def map_labels(
    frame: pl.DataFrame,
    label_column: str,
    text_column: str,
    domains: dict[str, list[str]],
    name: str,
) -> pl.DataFrame:
    """Turn a dataset with a subject/category column into (domain, text) via ``domains``."""
    missing = [c for c in (label_column, text_column) if c not in frame.columns]
    if missing:
        raise SamplesError(f"{name}: missing column(s) {missing}; found {frame.columns}")
    lookup = {label: domain for domain, labels in domains.items() for label in labels}
    present = set(frame[label_column].cast(pl.String).unique().to_list())
    unknown = sorted(set(lookup) - present)
    if unknown:
        raise SamplesError(
            f"{name}: label(s) {unknown} of the domain mapping do not occur in column "
            f"'{label_column}' (it has: {sorted(present)[:40]})"
        )
    return frame.select(
        pl.col(label_column).cast(pl.String).replace_strict(lookup, default=None).alias("domain"),
        pl.col(text_column).cast(pl.String).alias("text"),
    ).drop_nulls("domain")


def split_samples(
    frame: pl.DataFrame,
    *,
    seed: int,
    eval_fraction: float,
    domains: list[str] | None = None,
    max_per_domain: int | None = None,
) -> pl.DataFrame:
    """Clean, subsample and split (domain, text) rows into the samples table.

    Texts are stripped, empty ones dropped and duplicates (same text) kept once. A text listed
    under two domains has no single ground-truth domain: it is dropped from both and each such
    text is logged by name. Every domain is shuffled with its own seeded generator, so adding a
    domain does not change another's split.
    """
    frame = frame.with_columns(pl.col("text").str.strip_chars()).filter(
        pl.col("text").is_not_null() & (pl.col("text") != "")
    )
    ambiguous = ambiguous_texts(frame)
    if ambiguous.height:
        log.warning(
            "%d text(s) are listed under more than one domain (ambiguous ground truth); "
            "each is dropped from every domain:\n%s",
            ambiguous.height,
            "\n".join(f"  {d}: {t[:200]!r}" for t, d in ambiguous.iter_rows()),
        )
        frame = frame.filter(~pl.col("text").is_in(ambiguous["text"].implode()))
    frame = frame.unique(subset="text", keep="first", maintain_order=True)
    available = sorted(frame["domain"].unique().to_list())
    if domains is not None:
        absent = sorted(set(domains) - set(available))
        if absent:
            raise SamplesError(f"samples.domains: {absent} not in the source (it has {available})")
        available = sorted(domains)
    parts = []
    for index, domain in enumerate(available):
        texts = frame.filter(pl.col("domain") == domain)["text"].to_list()
        rng = np.random.default_rng([seed, index])
        order = rng.permutation(len(texts))
        if max_per_domain is not None:
            order = order[:max_per_domain]
        if len(order) < 2:
            raise SamplesError(f"domain {domain!r} has {len(order)} text(s); need at least 2")
        n_eval = min(max(1, round(len(order) * eval_fraction)), len(order) - 1)
        split = ["eval"] * n_eval + ["fit"] * (len(order) - n_eval)
        parts.append(
            pl.DataFrame(
                {"domain": [domain] * len(order), "text": [texts[i] for i in order], "split": split}
            )
        )
    table = pl.concat(parts).sort("domain", "split", "text")
    return table.with_row_index("sample_id").select(
        pl.col("sample_id").cast(pl.Int64), "domain", "text", "split"
    )


def build_samples(samples_cfg: dict[str, Any], seed: int, raw: pl.DataFrame | None) -> pl.DataFrame:
    """The samples table for the ``samples`` config section.

    ``raw`` is the (domain, text) table of an ``hf`` source as prefetched; other sources read
    their own texts.
    """
    source = samples_cfg["source"]
    if source == "bundled":
        frame = bundled_texts()
    elif source == "file":
        frame = read_text_file(samples_cfg["path"])
    else:
        if raw is None:
            raise SamplesError("samples.source is 'hf' but no prefetched dataset table was given")
        frame = raw
    return split_samples(
        frame,
        seed=seed,
        eval_fraction=samples_cfg["eval_fraction"],
        domains=samples_cfg["domains"],
        max_per_domain=samples_cfg["max_per_domain"],
    )


def training_ids(samples: pl.DataFrame, train_split: str) -> np.ndarray:
    """The sample ids an SAE trains on: the fit split (eval texts stay unseen, so that
    verification and the ceilings are scored on texts the SAE never saw), or ``all``."""
    if train_split not in ("fit", "all"):
        raise ValueError(f"sae.train_split must be 'fit' or 'all', got {train_split!r}")
    rows = samples if train_split == "all" else samples.filter(pl.col("split") == "fit")
    return rows["sample_id"].to_numpy().astype(np.int64)
