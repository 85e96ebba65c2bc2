"""Adaptor: download one Hugging Face model revision (a scale's or the teacher's) into the cache."""

from emergence.atomic import write_json
from emergence.hub import prefetch_model
from emergence.logs import setup_logging

sm = snakemake  # type: ignore[name-defined]  # noqa: F821
log = setup_logging(sm.log[0])
record = prefetch_model(sm.params.repo, sm.params.revision, sm.params.cache_dir)
write_json(sm.output[0], record)
log.info("%s@%s -> %s", record["repo"], record["revision"], record["path"])
