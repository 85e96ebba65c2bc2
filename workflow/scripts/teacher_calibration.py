"""Adaptor: label, verify and match one oracle latent per domain with the configured teacher."""

from functools import partial

import polars as pl
import torch

from emergence.atomic import atomic_path
from emergence.autointerp import AutoInterpConfig
from emergence.autointerp.calibration import blind_domains, calibrate
from emergence.autointerp.embedding_store import read_store
from emergence.autointerp.factory import make_teacher
from emergence.autointerp.io import write_labels
from emergence.logs import setup_logging
from emergence.matching import MatchConfig, embed_phrases, encoder_path, lookup
from emergence.provenance import provenance

sm = snakemake  # type: ignore[name-defined]  # noqa: F821
log = setup_logging(sm.log[0])
torch.set_num_threads(sm.threads)
samples = pl.read_parquet(sm.input.samples)
domains = sorted(samples["domain"].unique().to_list())
store = read_store(sm.input.store) if hasattr(sm.input, "store") else None
# The full section: params leave out how to reach the server (see factory.CONNECTION_KEYS).
teacher = make_teacher(sm.config["teacher"], sm.params.cache_dir, store=store, domains=domains)
cfg = AutoInterpConfig.from_dict({"seed": sm.params.seed, **sm.params.autointerp})
match_cfg = MatchConfig(**sm.params.matching)
if hasattr(sm.input, "phrases"):  # the embedding teacher: its labels are stored vocabulary
    embed = partial(lookup, read_store(sm.input.phrases))
else:
    path = encoder_path(match_cfg.model, sm.params.matcher_cache_dir)
    embed = partial(embed_phrases, path=path, batch_size=match_cfg.batch_size)
calibration = calibrate(samples, teacher, cfg, embed, match_cfg.tau, match_cfg.rule)
record = provenance(
    stage="teacher_calibration",
    config_subset={
        "teacher": sm.params.teacher,
        "autointerp": sm.params.autointerp,
        "matching": sm.params.matching,
    },
    seed=cfg.seed,
    teacher=teacher.name,
    prompt_version=teacher.prompt_version,
    domains=domains,
)
write_labels(sm.output.labels, calibration.result, record)
with atomic_path(sm.output.table) as tmp:
    calibration.table.write_csv(tmp)
for row in calibration.table.iter_rows(named=True):
    log.info(
        "%-20s %-30s F1 %s matched %s passed %s",
        *(row[k] for k in ("domain", "label", "f1", "matched", "passed")),
    )
blind = blind_domains(calibration.table)
log.info("teacher %s; blind to: %s", teacher.name, ", ".join(blind) or "none")
