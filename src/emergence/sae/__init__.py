"""Top-k sparse autoencoders (Gao et al. 2024) trained on LM activations, one per grid point."""

from emergence.sae.config import SaeConfig
from emergence.sae.io import LoadedSae, load_sae, metrics_path, read_metrics, save_sae
from emergence.sae.metrics import SaeMetrics, evaluate_sae
from emergence.sae.model import Encoded, SparseAutoencoder
from emergence.sae.train import TrainResult, train_sae

__all__ = [
    "Encoded",
    "LoadedSae",
    "SaeConfig",
    "SaeMetrics",
    "SparseAutoencoder",
    "TrainResult",
    "evaluate_sae",
    "load_sae",
    "metrics_path",
    "read_metrics",
    "save_sae",
    "train_sae",
]
