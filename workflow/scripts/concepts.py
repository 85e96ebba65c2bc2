"""Adaptor: concept activation %, alignment, granularity and ceilings of one (scale, ckpt), or of
every checkpoint of a micro model."""

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
grid = scales(sm.config)
for i, ckpt in enumerate(sm.params.ckpts):
    inputs = checkpoint_inputs(grid, cfg, sm.params.scale, ckpt, paths)
    tables = analyse_checkpoint(inputs, cfg, tau=sm.params.tau, rule=sm.params.rule)
    for name in tables._fields:
        with atomic_path(sm.output[name][i]) as tmp:
            getattr(tables, name).write_csv(tmp)
    per_point = tables.activation.filter(protocol="per_point")
    log.info("%s: per-point concept activation %% by layer and domain:\n%s", ckpt, per_point)
    log.info("%s: ceilings and stages by layer:\n%s", ckpt, tables.ceilings)
