"""Adaptor: train one micro model and save its Pythia-style checkpoints."""

import shutil
from pathlib import Path

import polars as pl
import torch
from tqdm import tqdm
from transformers import PreTrainedTokenizerFast

from emergence.atomic import write_json
from emergence.logs import setup_logging
from emergence.micro.config import MicroConfig
from emergence.micro.text import read_corpus
from emergence.micro.train import MicroModelSpec, train_micro_model
from emergence.provenance import provenance

sm = snakemake  # type: ignore[name-defined]  # noqa: F821
log = setup_logging(sm.log[0])
torch.set_num_threads(sm.threads)
model_cfg, micro = sm.params.model, sm.params.micro
spec = MicroModelSpec(model_cfg["hidden_size"], model_cfg["num_layers"], model_cfg["num_heads"])
settings = MicroConfig(**micro, seed=sm.params.seed)
train, held = read_corpus(sm.input.corpus)
tokenizer = PreTrainedTokenizerFast.from_pretrained(sm.input.tokenizer)
out = Path(sm.output[0])
tmp = out.with_name(out.name + ".tmp")
shutil.rmtree(tmp, ignore_errors=True)
steps = list(sm.params.steps)
with tqdm(total=max(steps), desc=f"train {sm.wildcards.scale}", mininterval=2) as bar:

    def progress(step: int, loss: float) -> None:
        bar.update(1)
        bar.set_postfix(loss=f"{loss:.3f}", refresh=False)

    result = train_micro_model(
        spec,
        settings,
        tokenizer,
        [p.text for p in train],
        [p.text for p in held],
        steps,
        tmp,
        progress,
    )
pl.DataFrame([r._asdict() for r in result.losses]).write_csv(tmp / "losses.csv")
write_json(
    tmp / "provenance.json",
    provenance(
        stage="micro_train",
        config_subset={"model": model_cfg, "micro": micro},
        seed=sm.params.seed,
        scale=sm.wildcards.scale,
        n_params=result.n_params,
        n_train_tokens=result.n_train_tokens,
        steps=steps,
    ),
)
tmp.rename(out)
for row in result.losses:
    log.info("step %6d  train loss %.3f  held-out loss %.3f", *row)
log.info("%s: %d parameters, %d training tokens", out, result.n_params, result.n_train_tokens)
