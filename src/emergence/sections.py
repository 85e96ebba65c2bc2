"""The workflow's configuration as dataclasses: every key, its type, range, default and meaning.

`WorkflowConfig` is the whole file; its fields are the top-level keys and the sections. Sections
that configure a library stage are that stage's own dataclass (`SaeConfig`, `AutoInterpConfig`,
the teacher backends' configs, `MatchConfig`, `AnalysisConfig`, `MicroConfig`); the ones the
workflow alone reads are declared here. `emergence.config` validates a config against these
declarations and fills in their defaults; docs/config.md is generated from them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar, Literal

from emergence.analysis.config import AnalysisConfig
from emergence.autointerp.config import AutoInterpConfig
from emergence.autointerp.factory import TEACHER
from emergence.matching import MatchConfig
from emergence.micro.config import MicroConfig
from emergence.ranges import (
    Ge,
    MinLen,
    NonNegativeInt,
    OpenFraction,
    Pattern,
    PositiveFloat,
    PositiveInt,
)
from emergence.sae.config import SaeConfig

Steps = Annotated[list[NonNegativeInt], MinLen(1)]
Layers = Annotated[list[NonNegativeInt], MinLen(1)]
ScaleName = Annotated[str, Pattern(r"[A-Za-z0-9][A-Za-z0-9._-]*")]
# A section whose ``seed`` is the top-level seed, not a key of its own.
SEEDED = {"inherit": ("seed",)}


@dataclass(frozen=True)
class HfDatasetConfig:
    """One Hugging Face dataset of ``samples.hf`` and how its labels map to domains."""

    # Dataset id (or a local dataset directory), e.g. TIGER-Lab/MMLU-Pro.
    dataset: str
    # Split to read, e.g. test.
    split: str
    # Column with the subject / category.
    label_column: str
    # Column with the question text.
    text_column: str
    # domain -> the label values that belong to it.
    domains: dict[str, Annotated[list[str], MinLen(1)]]
    # Dataset config name (cais/mmlu: all).
    config: str | None = None
    # Dataset revision (None: the default branch).
    revision: str | None = None


@dataclass(frozen=True)
class SamplesConfig:
    """The domain-labelled probe texts."""

    # bundled: the corpus shipped with the package; hf: Hugging Face datasets (MMLU /
    # MMLU-Pro, see hf); file: a local file (see path).
    source: Literal["bundled", "hf", "file"]
    # Domains to keep (None: every domain the source provides).
    domains: list[str] | None = None
    # Share of each domain's texts in the eval split (the rest is the fit split).
    eval_fraction: OpenFraction = 0.5
    # Seeded subsample of at most this many texts per domain (None: all).
    max_per_domain: Annotated[int, Ge(2)] | None = None
    # For source file: a CSV, JSONL or parquet file with domain and text columns.
    path: str | None = None
    # For source hf: the datasets to read and how their labels map to domains.
    hf: list[HfDatasetConfig] = field(default_factory=list)


@dataclass(frozen=True)
class ModelConfig:
    """One model scale, keyed in ``models`` by the name used in paths ({scale}).

    A key left out (or null) stays absent: checkpoints and layers then come from the top level,
    params is counted from the weights.
    """

    fill_defaults: ClassVar[bool] = False

    # micro: trained by this workflow; hf: a Hugging Face repo at revision step{N}; local: a
    # Hugging Face-format directory on disk.
    source: Literal["micro", "hf", "local"]
    # For hf: the repo id, e.g. EleutherAI/pythia-410m.
    repo: str | None = None
    # For local: the model directory; may contain {step} (the integer step) when each checkpoint
    # lives in its own directory.
    path: str | None = None
    # Number of transformer blocks (required for hf and micro; local reads its config.json).
    num_layers: PositiveInt | None = None
    # Parameter count on the scale axis (None: counted from the weights).
    params: PositiveFloat | None = None
    # For micro: d_model.
    hidden_size: Annotated[int, Ge(8)] | None = None
    # For micro: attention heads (hidden_size must be divisible by it).
    num_heads: PositiveInt | None = None
    # Overrides the top-level checkpoints for this model.
    checkpoints: Steps | None = None
    # Overrides extraction.layers for this model.
    layers: Layers | None = None
    # For hf: the branch of a step, a template of {step} (default step{step}; e.g. step-{step},
    # ckpt_{step:03d}); a * matches anything and is resolved against the repository's branches
    # at pre-fetch (OLMo-2: *step{step}-tokens*B).
    revision: str | None = None
    # For hf: explicit step -> branch entries; they win over the template.
    revisions: dict[NonNegativeInt, str] | None = None
    # The same model trained with these seeds, analysed as scales {name}-seed{N} of one family:
    # micro trains each; hf and local put the seed in {seed} of repo or path (PolyPythias:
    # EleutherAI/pythia-160m-seed{seed}).
    seeds: Annotated[list[NonNegativeInt], MinLen(1)] | None = None


@dataclass(frozen=True)
class ExtractionConfig:
    """Residual-stream activations at the final non-pad token."""

    # all: the embedding output (0) through the last block (num_layers); or a list of layers.
    layers: Literal["all"] | Layers = "all"
    # Texts per forward pass.
    batch_size: PositiveInt = 32
    # Longer texts keep their last this-many tokens (the final token is the point of the method).
    max_length: Annotated[int, Ge(2)] = 512
    # Storage dtype of the activation tensors.
    dtype: Literal["float32", "float16", "bfloat16"] = "float32"
    # Compute dtype (auto: float32 on CPU, bfloat16 on GPU).
    model_dtype: Literal["auto", "float32", "float16", "bfloat16"] = "auto"
    # auto (cuda when present), cpu, cuda or cuda:N.
    device: str = "auto"


@dataclass(frozen=True)
class SaeSection(SaeConfig):
    """The ``sae`` section: every field of `SaeConfig`, plus which texts the SAE is trained on."""

    # fit: the fit split only (the eval texts stay unseen by the SAE); all: every probe text.
    train_split: Literal["fit", "all"] = "fit"


@dataclass(frozen=True)
class WorkflowConfig:
    """A config file: the top-level keys and one section per stage."""

    # The domain-labelled probe texts.
    samples: SamplesConfig
    # Training steps to analyse (step0 ... final); a model may override them.
    checkpoints: Steps
    # The model scales, keyed by the name used in paths ({scale}).
    models: Annotated[dict[ScaleName, ModelConfig], MinLen(1)]
    # Seed of every random choice (splits, corpus, initialisation, SAE training, verification
    # sample, bootstrap); sections take it from here.
    seed: NonNegativeInt = 0
    # Hugging Face cache that `snakemake prefetch` fills and jobs read offline (None: HF_HOME).
    cache_dir: str | None = None
    # Training of the micro model suite (models with source micro).
    micro: MicroConfig = field(default_factory=MicroConfig, metadata=SEEDED)
    # Final-token activations of every layer.
    extraction: ExtractionConfig = field(default_factory=ExtractionConfig)
    # The top-k SAE trained at every (scale, ckpt, layer).
    sae: SaeSection = field(default_factory=SaeSection, metadata=SEEDED)
    # The teacher that labels and verifies latents: backend embedding (offline, CPU, weaker),
    # openai (any OpenAI-compatible server, e.g. vllm serve) or vllm (in-process); the other
    # keys are that backend's settings.
    teacher: Annotated[dict[str, Any], TEACHER] = field(
        default_factory=lambda: {"backend": "embedding"}
    )
    # Example selection, verification and the interpretability verdict.
    autointerp: AutoInterpConfig = field(default_factory=AutoInterpConfig, metadata=SEEDED)
    # Concept matching of interpretable labels to domain names.
    matching: MatchConfig = field(default_factory=MatchConfig)
    # Concept activation %, alignment and granularity.
    analysis: AnalysisConfig = field(default_factory=AnalysisConfig, metadata=SEEDED)
