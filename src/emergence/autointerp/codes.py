"""An SAE's codes of one activation layer, split into the fit and eval texts of the samples."""

from __future__ import annotations

import polars as pl
import torch

from emergence.autointerp.examples import Activity, activity
from emergence.sae import SparseAutoencoder


def codes_by_split(
    sae: SparseAutoencoder, x_ND: torch.Tensor, sample_id_N: torch.Tensor, samples: pl.DataFrame
) -> tuple[Activity, Activity]:
    """Encode one activation layer and split its rows into (fit, eval) by the samples table."""
    enc = sae.encode(x_ND)
    split_of = dict(zip(samples["sample_id"].to_list(), samples["split"].to_list(), strict=True))
    ids = sample_id_N.tolist()
    missing = [i for i in ids if i not in split_of]
    if missing:
        raise ValueError(f"activation sample ids {missing[:10]} are not in the samples table")
    out = []
    for split in ("fit", "eval"):
        rows = torch.tensor(
            [r for r, i in enumerate(ids) if split_of[i] == split], dtype=torch.long
        )
        out.append(
            activity(sample_id_N[rows], enc.values_NK[rows].cpu(), enc.indices_NK[rows].cpu())
        )
    return out[0], out[1]
