"""Adaptor: final-token activations of every layer for one (scale, ckpt)."""

import json
from pathlib import Path

import polars as pl
import torch
from tqdm import tqdm

from emergence.activations import write_activations
from emergence.extract import (
    DTYPES,
    extract_final_token,
    load_model,
    resolve_device,
    resolve_model_dtype,
)
from emergence.grid import parse_step
from emergence.logs import setup_logging
from emergence.provenance import provenance

sm = snakemake  # type: ignore[name-defined]  # noqa: F821
log = setup_logging(sm.log[0])
torch.set_num_threads(sm.threads)
scale, cfg = sm.params.scale, sm.params.extraction
ckpt = sm.wildcards.ckpt
step = parse_step(ckpt)
micro_suite = sm.input.model if scale.source == "micro" else None
revision = scale.revision(ckpt)
if scale.source == "hf":
    # The branch pre-fetch resolved: a template may hold a "*" (OLMo-2's tokens count).
    revision = json.loads(Path(sm.input.model).read_text())["revision"]
path = scale.model_location(ckpt, micro_suite, sm.params.cache_dir, revision)
device = resolve_device(cfg["device"])
model, tokenizer = load_model(path, device, resolve_model_dtype(cfg["model_dtype"], device))
samples = pl.read_parquet(sm.input.samples)
log.info(
    "%s %s: %d texts, layers %s, on %s",
    scale.name,
    ckpt,
    len(samples),
    list(scale.layers),
    device,
)
with tqdm(total=len(samples), desc=f"extract {scale.name}/{ckpt}") as bar:
    acts = extract_final_token(
        model,
        tokenizer,
        samples["text"].to_list(),
        scale.layers,
        batch_size=cfg["batch_size"],
        max_length=cfg["max_length"],
        out_dtype=DTYPES[cfg["dtype"]],
        progress=bar.update,
    )
sample_ids = samples["sample_id"].to_list()
if acts.truncated:
    log.warning(
        "%d of %d texts are longer than extraction.max_length=%d tokens: kept their last %d "
        "tokens (sample_id %s%s)",
        len(acts.truncated),
        len(samples),
        cfg["max_length"],
        cfg["max_length"],
        [sample_ids[i] for i in acts.truncated[:20]],
        " ..." if len(acts.truncated) > 20 else "",
    )
record = provenance(
    stage="activations",
    config_subset={"extraction": cfg, "model": scale.spec},
    seed=sm.params.seed,
    scale=scale.name,
    model=scale.spec.get("repo") or str(path),
    revision=revision,
    step=step,
    samples_file=str(sm.input.samples),
    n_truncated=len(acts.truncated),
)
write_activations(sm.output[0], acts.layers, torch.tensor(sample_ids), acts.n_tokens, record)
log.info("wrote %s", sm.output[0])
