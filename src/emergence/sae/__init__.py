"""Top-k sparse autoencoders (Gao et al. 2024) trained on LM activations, one per grid point.

Names are imported on first use: the workflow validates its config with `SaeConfig` when the
Snakefile is parsed, which must not pull in torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from emergence.sae.config import SaeConfig
    from emergence.sae.encoder import SaeEncoder, read_encoder
    from emergence.sae.io import LoadedSae, load_sae, metrics_path, read_metrics, save_sae
    from emergence.sae.metrics import SaeMetrics, evaluate_sae
    from emergence.sae.model import Encoded, SparseAutoencoder
    from emergence.sae.train import TrainResult, train_sae

_HOME = {
    "SaeConfig": "config",
    "SaeEncoder": "encoder",
    "read_encoder": "encoder",
    "LoadedSae": "io",
    "load_sae": "io",
    "metrics_path": "io",
    "read_metrics": "io",
    "save_sae": "io",
    "SaeMetrics": "metrics",
    "evaluate_sae": "metrics",
    "Encoded": "model",
    "SparseAutoencoder": "model",
    "TrainResult": "train",
    "train_sae": "train",
}

__all__ = [
    "Encoded",
    "LoadedSae",
    "SaeConfig",
    "SaeEncoder",
    "SaeMetrics",
    "SparseAutoencoder",
    "TrainResult",
    "evaluate_sae",
    "load_sae",
    "metrics_path",
    "read_encoder",
    "read_metrics",
    "save_sae",
    "train_sae",
]


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module 'emergence.sae' has no attribute {name!r}")
    return getattr(importlib.import_module(f"emergence.sae.{_HOME[name]}"), name)
