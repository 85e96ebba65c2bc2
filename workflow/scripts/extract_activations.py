"""Adaptor: final-token activations of every layer, for each checkpoint of one scale that the
job covers (one for Hugging Face and local models, all of them for a micro model)."""

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
micro_suite = sm.input.model if scale.source == "micro" else None
device = resolve_device(cfg["device"])
samples = pl.read_parquet(sm.input.samples)
texts = samples["text"].to_list()
sample_ids = samples["sample_id"].to_list()
for ckpt, output in zip(sm.params.ckpts, sm.output, strict=True):
    revision = scale.revision(ckpt)
    if scale.source == "hf":
        # The branch pre-fetch resolved: a template may hold a "*" (OLMo-2's tokens count).
        revision = json.loads(Path(sm.input.model).read_text())["revision"]
    path = scale.model_location(ckpt, micro_suite, sm.params.cache_dir, revision)
    model, tokenizer = load_model(path, device, resolve_model_dtype(cfg["model_dtype"], device))
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
            texts,
            scale.layers,
            batch_size=cfg["batch_size"],
            max_length=cfg["max_length"],
            out_dtype=DTYPES[cfg["dtype"]],
            progress=bar.update,
        )
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
        step=parse_step(ckpt),
        samples_file=str(sm.input.samples),
        n_truncated=len(acts.truncated),
    )
    write_activations(output, acts.layers, torch.tensor(sample_ids), acts.n_tokens, record)
    log.info("wrote %s", output)
    del model
