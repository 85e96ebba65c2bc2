"""Adaptor: train the SAE of every layer of one (scale, ckpt), or of every checkpoint of a micro
model, on its activations, in one process (torch, the device and the samples table are set up
once for all of them)."""

import numpy as np
import polars as pl
import torch

from emergence.activations import read_layer
from emergence.extract import resolve_device
from emergence.grid import checkpoint_layers
from emergence.logs import setup_logging
from emergence.provenance import provenance
from emergence.sae import SaeConfig, save_sae, train_sae
from emergence.samples import training_ids

sm = snakemake  # type: ignore[name-defined]  # noqa: F821
log = setup_logging(sm.log[0])
torch.set_num_threads(sm.threads)
settings = dict(sm.params.sae)
train_split = settings.pop("train_split")
settings["device"] = str(resolve_device(settings["device"]))
cfg = SaeConfig.from_dict({"seed": sm.params.seed, **settings}, section="sae")
samples = pl.read_parquet(sm.input.samples, columns=["sample_id", "split"])
keep_ids = training_ids(samples, train_split)
# Checkpoint-major, as the rule lists its outputs; save_sae writes each sm.output.metrics file
# beside its SAE (the .json sidecar).
points = checkpoint_layers(sm.params.ckpts, sm.input.activations, sm.params.layers)
for (ckpt, activations, layer_index), sae_path in zip(points, sm.output.sae, strict=True):
    # Every layer from the same seed: each SAE is exactly what a job of its own would train.
    layer = read_layer(activations, layer_index)
    rows = np.isin(layer.sample_id_N, keep_ids)
    log.info("%s layer %d", ckpt, layer_index)
    result = train_sae(torch.from_numpy(layer.x_ND[rows]), cfg, log=log.info)
    record = provenance(
        stage="sae",
        config_subset=sm.params.sae,
        seed=cfg.seed,
        scale=sm.params.scale,
        ckpt=ckpt,
        layer=layer_index,
        train_split=train_split,
        activations=str(activations),
    )
    save_sae(sae_path, result.sae, result.metrics, record)
    log.info("%s layer %d metrics: %s", ckpt, layer_index, result.metrics.to_dict())
