"""Adaptor: combine the per-checkpoint analysis tables and the verification tables."""

from emergence.analysis.tables import POINT_SCHEMAS, combine, scale_params, verification_table
from emergence.atomic import atomic_path
from emergence.grid import scales
from emergence.logs import setup_logging

sm = snakemake  # type: ignore[name-defined]  # noqa: F821
log = setup_logging(sm.log[0])
grid = scales(sm.config)
model_dirs = sm.params.model_dirs
meta = {name: (scale_params(s, model_dirs.get(name)), s.num_layers) for name, s in grid.items()}
tables = {name: combine(sm.input[name], schema, meta) for name, schema in POINT_SCHEMAS.items()}
points = [(*key, path) for key, path in zip(sm.params.points, sm.input.verify, strict=True)]
tables["verification"] = verification_table(points, meta)
for name, table in tables.items():
    with atomic_path(sm.output[name]) as tmp:
        table.write_csv(tmp)
    log.info("%s: %d rows -> %s", name, table.height, sm.output[name])
