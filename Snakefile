# emergence: when and where interpretable concepts are born inside language models.
# The library (src/emergence) owns the science; these rules own the wiring.
import importlib.util
import os
import sys

from snakemake.exceptions import WorkflowError
from snakemake.utils import min_version, update_config

min_version("9.20")

SRC = os.path.join(workflow.basedir, "src")
# Jobs import the library even where it is not pip-installed (e.g. --use-conda environments):
# they inherit this process' environment, locally and through sbatch alike.
os.environ.update(
    PYTHONPATH=os.pathsep.join(filter(None, [SRC, os.getenv("PYTHONPATH")]))
)
sys.path.insert(0, SRC)

from emergence.analysis.config import AnalysisConfig  # noqa: E402
from emergence.analysis.plan import (  # noqa: E402
    ArtifactPaths,
    checkpoint_inputs,
    input_files,
)
from emergence.autointerp.factory import answer_settings  # noqa: E402
from emergence.config import read_config_file, validate_config  # noqa: E402
from emergence.grid import scales as resolve_scales  # noqa: E402
from emergence.grid import first_runs, seed_runs  # noqa: E402
from emergence.outputs import (
    CHECKPOINT_TABLE_NAMES,
    FIGURE_NAMES,
    TABLE_NAMES,
)  # noqa: E402

# A --configfile replaces the demo config instead of being merged into it. The demo config is
# read here, not by `configfile:`, whose YAML errors name neither the file nor the line.
if not workflow.overwrite_configfiles:
    DEMO_CONFIG = "config/config.yaml"
    given = dict(config)  # --config key=value, which overrides the file
    config.clear()
    config.update(read_config_file(DEMO_CONFIG))
    update_config(config, given)
    workflow.configfiles.append(DEMO_CONFIG)

# In place: jobs' scripts read this same dict (snakemake.config), defaults included.
config.update(
    validate_config(
        config, source=", ".join(map(str, workflow.configfiles)) or "--config"
    )
)
SCALES = resolve_scales(config)

# The probe file is the samples job's input. Snakemake would skip, not fail, a finished job whose
# input is missing: results from the previous source would silently stay.
if config["samples"]["source"] == "file" and not os.path.isfile(
    config["samples"]["path"]
):
    raise WorkflowError(
        f"samples.path: {config['samples']['path']!r} does not exist (relative to "
        f"{os.getcwd()}); it is the probe-text file of samples.source 'file'"
    )

# Without --use-conda (or a container) local jobs run in this very environment: a run without
# vLLM stops before its first job (onstart, below), not in the first labelling job after the
# teacher's weights were downloaded; a dry run says so.
VLLM_MISSING = (
    f"teacher.backend is 'vllm' but vllm is not installed in {sys.prefix}: pip install vllm, "
    "run with --use-conda (envs/vllm.yaml), or use teacher.backend 'openai' with a server"
    if config["teacher"]["backend"] == "vllm"
    and not workflow.deployment_settings.deployment_method
    and importlib.util.find_spec("vllm") is None
    else None
)
if VLLM_MISSING:
    print(
        f"WARNING: {VLLM_MISSING}; a local run that labels latents stops before its first job",
        file=sys.stderr,
    )
ANALYSIS = AnalysisConfig(seed=config["seed"], **config["analysis"])


report: "report/workflow.rst"


include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/micro.smk"
include: "rules/prefetch.smk"
include: "rules/activations.smk"
include: "rules/sae.smk"
include: "rules/autointerp.smk"
include: "rules/matching.smk"
include: "rules/analysis.smk"
include: "rules/figures.smk"
include: "rules/seeds.smk"
include: "rules/bill.smk"


# On a cluster these run on the login node, never as SLURM jobs of their own: each costs less
# than a job's scheduling and start-up (probe texts, embeddings, tables, figures).
localrules:
    all,
    samples,
    embed_texts,
    embed_vocabulary,
    tables,
    figure,
    micro_training_table,
    seed_tables,
    seed_figure,


# Teacher calibration takes seconds with the offline or a served teacher; an in-process vLLM
# teacher needs a GPU node, so there it is a SLURM job of its own (one per run).
if config["teacher"]["backend"] != "vllm":

    localrules:
        teacher_calibration,


rule all:
    default_target: True
    input:
        get_all_targets(),


onstart:
    # Only where jobs run in this environment and labelling is due: `snakemake prefetch` on a
    # login node without vLLM, or a SLURM run whose GPU nodes have it, go ahead.
    if (
        VLLM_MISSING
        and workflow.local_exec
        and any(
            job.rule.name in teacher_rules() for job in workflow.dag.needrun_jobs()
        )
    ):
        raise WorkflowError(VLLM_MISSING)


onsuccess:
    print(summary_message())
