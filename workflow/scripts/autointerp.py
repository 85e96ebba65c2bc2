"""Adaptor: label and verify every live latent of the SAE of every layer of one (scale, ckpt),
or of every checkpoint of a micro model, with one teacher (an in-process vLLM model is loaded
once for all of them)."""

import polars as pl

from emergence.activations import read_layer
from emergence.autointerp import AutoInterpConfig, autointerp
from emergence.autointerp.codes import codes_by_split
from emergence.autointerp.embedding_store import read_store
from emergence.autointerp.factory import make_teacher
from emergence.autointerp.io import write_labels, write_verification
from emergence.grid import checkpoint_layers
from emergence.logs import setup_logging
from emergence.provenance import provenance
from emergence.sae.encoder import read_encoder

sm = snakemake  # type: ignore[name-defined]  # noqa: F821
log = setup_logging(sm.log[0])
samples = pl.read_parquet(sm.input.samples)
store = read_store(sm.input.store) if hasattr(sm.input, "store") else None
# The full section: params leave out how to reach the server (see factory.CONNECTION_KEYS).
domains = sorted(samples["domain"].unique().to_list())
teacher = make_teacher(sm.config["teacher"], sm.params.cache_dir, store=store, domains=domains)
cfg = AutoInterpConfig.from_dict({"seed": sm.params.seed, **sm.params.autointerp})
# Checkpoint-major, as the rule lists its inputs and outputs.
points = checkpoint_layers(sm.params.ckpts, sm.input.activations, sm.params.layers)
outputs = zip(points, sm.input.sae, sm.output.labels, sm.output.verify, strict=True)
for (ckpt, activations, layer_index), sae_path, labels_path, verify_path in outputs:
    layer = read_layer(activations, layer_index)
    fit, eval_ = codes_by_split(read_encoder(sae_path), layer.x_ND, layer.sample_id_N, samples)
    result = autointerp(fit, eval_, samples, teacher, cfg)
    record = provenance(
        stage="autointerp",
        config_subset={"teacher": sm.params.teacher, "autointerp": sm.params.autointerp},
        seed=cfg.seed,
        scale=sm.params.scale,
        ckpt=ckpt,
        layer=layer_index,
        teacher=teacher.name,
        prompt_version=teacher.prompt_version,
    )
    write_labels(labels_path, result, record)
    write_verification(verify_path, result.verification)
    labelled = [r for r in result.labels if r["label"] is not None]
    log.info(
        "%s layer %d: %d live latents, %d labelled, %d interpretable; teacher usage %s",
        ckpt,
        layer_index,
        len(result.labels),
        len(labelled),
        int(result.verification["interpretable"].sum()),
        result.usage.to_dict(),
    )
    for row in result.labels:
        log.info("latent %4d  %-36s %s", row["latent"], row["label"], row["error"] or "")
