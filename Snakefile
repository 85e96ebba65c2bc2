# emergence: when and where interpretable concepts are born inside language models.
# The library (src/emergence) owns the science; these rules own the wiring.
import os
import sys

from snakemake.utils import min_version

min_version("9.20")

SRC = os.path.join(workflow.basedir, "src")
# Jobs import the library even where it is not pip-installed (e.g. --use-conda environments):
# they inherit this process' environment, locally and through sbatch alike.
os.environ.update(
    PYTHONPATH=os.pathsep.join(filter(None, [SRC, os.getenv("PYTHONPATH")]))
)
sys.path.insert(0, SRC)

from emergence.analysis.config import AnalysisConfig  # noqa: E402
from emergence.analysis.plan import checkpoint_inputs, input_files  # noqa: E402
from emergence.autointerp.factory import answer_settings  # noqa: E402
from emergence.config import validate_config  # noqa: E402
from emergence.grid import scales as resolve_scales  # noqa: E402

# A --configfile replaces the demo config instead of being merged into it.
if not workflow.overwrite_configfiles:

    configfile: "config/config.yaml"


# In place: jobs' scripts read this same dict (snakemake.config), defaults included.
config.update(
    validate_config(
        config, source=", ".join(map(str, workflow.configfiles)) or "--config"
    )
)
SCALES = resolve_scales(config)
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
include: "rules/bill.smk"


# On a cluster these run on the login node, never as SLURM jobs of their own: each costs less
# than a job's scheduling and start-up (probe texts, embeddings, tables, figures).
localrules:
    all,
    samples,
    embed_texts,
    tables,
    figure,
    micro_training_table,


rule all:
    default_target: True
    input:
        get_all_targets(),


onsuccess:
    print(summary_message())
