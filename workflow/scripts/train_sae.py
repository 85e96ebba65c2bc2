"""Adaptor: train the SAE of one (scale, ckpt, layer) on its activations."""

import polars as pl
import torch

from emergence.activations import read_layer
from emergence.extract import resolve_device
from emergence.logs import setup_logging
from emergence.provenance import provenance
from emergence.sae import SaeConfig, save_sae, train_sae

sm = snakemake  # type: ignore[name-defined]  # noqa: F821
log = setup_logging(sm.log[0])
torch.set_num_threads(sm.threads)
settings = dict(sm.params.sae)
train_split = settings.pop("train_split")
settings["device"] = str(resolve_device(settings["device"]))
cfg = SaeConfig.from_dict({"seed": sm.params.seed, **settings}, section="sae")
layer = read_layer(sm.input.activations, int(sm.wildcards.layer))
samples = pl.read_parquet(sm.input.samples, columns=["sample_id", "split"])
keep = samples["sample_id"] if train_split == "all" else samples.filter(split="fit")["sample_id"]
rows = torch.isin(layer.sample_id_N, torch.tensor(keep.to_list()))
result = train_sae(layer.x_ND[rows], cfg, log=log.info)
record = provenance(
    stage="sae",
    config_subset=sm.params.sae,
    seed=cfg.seed,
    scale=sm.wildcards.scale,
    ckpt=sm.wildcards.ckpt,
    layer=int(sm.wildcards.layer),
    train_split=train_split,
    activations=str(sm.input.activations),
)
save_sae(sm.output.sae, result.sae, result.metrics, record)
log.info("metrics: %s", result.metrics.to_dict())
