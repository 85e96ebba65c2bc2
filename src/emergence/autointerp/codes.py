"""An SAE's codes of one activation layer, split into the fit and eval texts of the samples."""

from __future__ import annotations

import numpy as np
import polars as pl

from emergence.autointerp.examples import Activity, activity
from emergence.sae.encoder import SaeEncoder


def codes_by_split(
    encoder: SaeEncoder, x_ND: np.ndarray, sample_id_N: np.ndarray, samples: pl.DataFrame
) -> tuple[Activity, Activity]:
    """Encode one activation layer and split its rows into (fit, eval) by the samples table."""
    values_NK, indices_NK = encoder.encode(x_ND)
    split_of = dict(zip(samples["sample_id"].to_list(), samples["split"].to_list(), strict=True))
    sample_id_N = np.asarray(sample_id_N, dtype=np.int64)
    ids = sample_id_N.tolist()
    missing = [i for i in ids if i not in split_of]
    if missing:
        raise ValueError(f"activation sample ids {missing[:10]} are not in the samples table")
    out = []
    for split in ("fit", "eval"):
        rows = np.array([r for r, i in enumerate(ids) if split_of[i] == split], dtype=np.int64)
        out.append(activity(sample_id_N[rows], values_NK[rows], indices_NK[rows]))
    return out[0], out[1]
