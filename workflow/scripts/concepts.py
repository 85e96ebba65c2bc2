"""Adaptor: concept activation %, alignment, granularity and ceilings of one (scale, ckpt)."""

from emergence.analysis.concepts import analyse_checkpoint
from emergence.analysis.config import AnalysisConfig
from emergence.analysis.plan import ArtifactPaths, checkpoint_inputs
from emergence.atomic import atomic_path
from emergence.grid import scales
from emergence.logs import setup_logging

sm = snakemake  # type: ignore[name-defined]  # noqa: F821
log = setup_logging(sm.log[0])
cfg = AnalysisConfig(seed=sm.params.seed, **sm.params.analysis)
paths = ArtifactPaths(**sm.params.paths)
inputs = checkpoint_inputs(scales(sm.config), cfg, sm.wildcards.scale, sm.wildcards.ckpt, paths)
tables = analyse_checkpoint(inputs, cfg, tau=sm.params.tau, rule=sm.params.rule)
for name in tables._fields:
    with atomic_path(sm.output[name]) as tmp:
        getattr(tables, name).write_csv(tmp)
per_point = tables.activation.filter(protocol="per_point")
log.info("per-point concept activation %% by layer and domain:\n%s", per_point)
log.info("ceilings and stages by layer:\n%s", tables.ceilings)
