"""Shared test fakes: a labelled samples table and SAE codes that follow its domains."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl
import torch

from emergence.autointerp import activity
from emergence.autointerp.examples import Activity


def make_samples(
    domains: Sequence[str], per_domain: int = 12, *, fit_parity: int = 0
) -> pl.DataFrame:
    """``per_domain`` texts "{domain} question number {i}?" per domain; text i is in the fit
    split when i % 2 == fit_parity, else in eval. Columns: sample_id, domain, text, split."""
    rows = [
        (d, f"{d} question number {i}?", "fit" if i % 2 == fit_parity else "eval")
        for d in domains
        for i in range(per_domain)
    ]
    frame = pl.DataFrame(rows, schema=["domain", "text", "split"], orient="row")
    return frame.with_row_index("sample_id").with_columns(pl.col("sample_id").cast(pl.Int64))


def domain_codes(samples: pl.DataFrame, split: str, latent_of: dict[str, int]) -> Activity:
    """Top-1 codes of ``split`` in which each text's latent is its domain's, ``latent_of``."""
    part = samples.filter(pl.col("split") == split)
    ids = torch.tensor(part["sample_id"].to_list())
    idx = torch.tensor([[latent_of[d]] for d in part["domain"]])
    vals = torch.tensor([[1.0 + 0.01 * i] for i in range(len(part))])
    return activity(ids, vals, idx)
