# Paths, grid helpers and wildcard constraints shared by every stage.
import re

# Every results path, declared once: rules use these names (never the strings), scripts reach
# the files through snakemake.input/output, and the library takes paths as arguments. Logs
# and benchmarks mirror them under results/logs and results/benchmarks.
SAMPLES = "results/data/samples.parquet"
ACTIVATIONS = "results/activations/{scale}/{ckpt}.safetensors"
SAE = "results/sae/{scale}/{ckpt}/layer{layer}.safetensors"
SAE_METRICS = "results/sae/{scale}/{ckpt}/layer{layer}.json"
LABELS = "results/labels/{scale}/{ckpt}/layer{layer}.json"
VERIFY = "results/verify/{scale}/{ckpt}/layer{layer}.csv"
LABEL_EMBEDDINGS = "results/matches/embeddings/{scale}/{ckpt}.safetensors"
VOCABULARY_EMBEDDINGS = "results/matches/embeddings/vocabulary.safetensors"
MATCHES = "results/matches/{scale}/{ckpt}/layer{layer}.csv"
TEXT_EMBEDDINGS = "results/autointerp/text_embeddings.safetensors"
TEACHER_CACHE = "results/cache/teacher"
TEACHER_CALIBRATION = "results/tables/teacher_calibration.csv"
CALIBRATION_LABELS = "results/autointerp/teacher_calibration.json"
MICRO_CORPUS = "results/micro/corpus.jsonl"
MICRO_TOKENIZER = "results/micro/tokenizer"
MICRO_SUITE = "results/micro/{scale}"
MICRO_TRAINING = "results/tables/micro_training.csv"
PREFETCH_MODEL = "results/prefetch/models/{scale}/{ckpt}.json"
PREFETCH_HUB = "results/prefetch/{aux}.json"
PREFETCH_DATASETS = "results/prefetch/datasets.parquet"
CONCEPTS = "results/concepts/{scale}/{ckpt}/{table}.csv"
TABLE = "results/tables/{table}.csv"
FIGURE = "results/figures/{figure}.{ext}"


# What the analysis of a checkpoint reads (emergence.analysis.plan), at these paths.
ANALYSIS_PATHS = ArtifactPaths(SAMPLES, ACTIVATIONS, SAE, MATCHES, LABELS)


def table_file(name):
    """``results/tables/{name}.csv``."""
    return TABLE.replace("{table}", name)


def concept_file(name):
    """A per-checkpoint analysis table, {scale} and {ckpt} left as wildcards."""
    return CONCEPTS.replace("{table}", name)


def figure_file(ext):
    """A figure in one format, {figure} left as a wildcard."""
    return FIGURE.replace("{ext}", ext)


def scales_regex(names):
    """A regular expression matching exactly these scale names (none: a pattern that matches
    nothing, so a rule restricted to no scale never claims a file)."""
    names = [re.escape(name) for name in names]
    return "|".join(names) if names else "(?!)"


wildcard_constraints:
    scale=scales_regex(SCALES),
    ckpt=r"step\d+",
    layer=r"\d+",


def scales_with(source):
    """Scales whose models come from ``source`` (micro, hf or local)."""
    return [s for s in SCALES.values() if s.source == source]


def grid_points():
    """Every (scale, ckpt) pair of the config."""
    return [(s.name, c) for s in SCALES.values() for c in s.ckpts]


def grid_keys():
    """Every (scale, ckpt, layer) point of the grid, in the order of `grid_files`."""
    return [
        (s.name, c, layer)
        for s in SCALES.values()
        for c in s.ckpts
        for layer in s.layers
    ]


def grid_files(pattern):
    """``pattern`` formatted at every (scale, ckpt, layer) point of the grid."""
    return [pattern.format(scale=s, ckpt=c, layer=layer) for s, c, layer in grid_keys()]


def per_scale_rule(stage, scale):
    """The name of ``stage``'s rule for one scale (rules whose outputs are every layer of a
    checkpoint: one per scale, since scales differ in their layers)."""
    slug = re.sub(r"\W", "_", scale)
    return f"{stage}_{slug}"


def layer_files(scale, pattern):
    """``pattern`` at every layer of ``scale``, with the scale's name in place of {scale} and
    {ckpt} left a wildcard. The literal name matters: Snakemake finds a file's producer by the
    constant prefix of the rules' outputs, so "results/sae/pythia-12b/" narrows it to one rule
    where "results/sae/{scale}/" would try every layer output of every scale's rule."""
    return [
        pattern.replace("{layer}", str(layer)).replace("{scale}", scale.name)
        for layer in scale.layers
    ]


def point_file(scale, pattern):
    """``pattern`` with the scale's name in place of {scale}, {ckpt} left a wildcard."""
    return pattern.replace("{scale}", scale.name)


def job_ckpts(scale):
    """The checkpoints that one job of a per-scale stage covers: all of them where the scale runs
    one job per model (`Scale.one_job_per_model`: micro models), else the {ckpt} wildcard's.
    """
    return list(scale.ckpts) if scale.one_job_per_model else ["{ckpt}"]


def job_points(scale, pattern):
    """``pattern`` at every checkpoint one job of ``scale`` covers (`job_ckpts`)."""
    return [point_file(scale, pattern).replace("{ckpt}", c) for c in job_ckpts(scale)]


def job_layers(scale, pattern):
    """``pattern`` at every checkpoint and layer one job of ``scale`` covers, checkpoint-major
    (the order the adaptors walk them in)."""
    return [
        f for point in job_points(scale, pattern) for f in layer_files(scale, point)
    ]


def job_log(scale, pattern):
    """A per-job log or benchmark path: per (scale, ckpt), or per scale for a micro model."""
    if scale.one_job_per_model:
        pattern = pattern.replace("{scale}/{ckpt}", "{scale}")
    return point_file(scale, pattern)


def job_group(scale, name):
    """The SLURM group of a per-scale stage's job: one per (scale, ckpt), or per micro model."""
    if scale.one_job_per_model:
        return f"{name}_{scale.name}"
    return f"{name}_{scale.name}_{{ckpt}}"


def get_job_ckpts(scale):
    """The `params` value naming the checkpoints a job of ``scale`` covers (`job_ckpts`)."""
    if scale.one_job_per_model:
        return lambda wildcards: list(scale.ckpts)
    return lambda wildcards: [wildcards.ckpt]


def get_model_input(wildcards):
    """What extraction of one (scale, ckpt) of a Hugging Face or local model needs: the
    pre-fetched revision, or nothing beyond the local directory (micro models have rules of
    their own, rules/activations.smk)."""
    if SCALES[wildcards.scale].source == "hf":
        return PREFETCH_MODEL.format(scale=wildcards.scale, ckpt=wildcards.ckpt)
    return []


def get_training_seed(scale):
    """A micro model's training seed: its own in a seeded family, else the run's."""
    seed = SCALES[scale].seed
    return config["seed"] if seed is None else seed


def model_params(scale):
    """Parameters of a scale, for sizing its jobs (micro models are tiny: 1M stands in)."""
    return float(SCALES[scale].spec.get("params", 1e6))


def uses_gpu(scale, device="auto"):
    """Whether a job on ``scale`` asks the scheduler for a GPU: never for the CPU-sized micro
    suite, otherwise unless the stage is configured for the CPU."""
    return SCALES[scale].source != "micro" and device != "cpu"


def get_extract_gpu(wildcards):
    return int(uses_gpu(wildcards.scale, config["extraction"]["device"]))


def get_extract_mem_mb(wildcards, attempt):
    # Weights pass through host memory once (up to 4 bytes a parameter), plus the activations.
    return int((4000 + 5e-6 * model_params(wildcards.scale)) * attempt)


def get_extract_runtime(wildcards, attempt):
    # Minutes: loading dominates (24 GB at 12B), then one pass over the probe texts.
    return int((15 + model_params(wildcards.scale) / 2e8) * attempt)


def sae_gpu(scale):
    return int(uses_gpu(scale.name, config["sae"]["device"]))


def sae_runtime(scale):
    # Minutes for every layer a job trains: a few minutes each at most (500 steps).
    n = len(job_layers(scale, SAE))
    return lambda wildcards, attempt: (10 + 3 * n) * attempt


def teacher_rules():
    """The rules that load the teacher: labelling every checkpoint, and its calibration."""
    return {per_scale_rule("autointerp", s) for s in SCALES} | {"teacher_calibration"}


def teacher_inputs():
    """What building the configured teacher reads: the probe texts, and the embedding teacher's
    text embeddings or the vLLM teacher's pre-fetched weights (compute nodes read the cache).
    """
    inputs = {"samples": SAMPLES}
    if config["teacher"]["backend"] == "embedding":
        inputs["store"] = TEXT_EMBEDDINGS
    if config["teacher"]["backend"] == "vllm":
        inputs["teacher"] = PREFETCH_HUB.format(aux="teacher")
    return inputs


def autointerp_inputs(scale):
    """What labelling every layer a job of ``scale`` covers reads (`job_ckpts`)."""
    return {
        "sae": job_layers(scale, SAE),
        "activations": job_points(scale, ACTIVATIONS),
        **teacher_inputs(),
    }


def autointerp_runtime(scale):
    # Minutes: loading the teacher once, then every layer's prompts (a 7B teacher answers the
    # ~7k prompts of a 512-latent layer in a few minutes; see `emergence-bill`).
    n = len(job_layers(scale, LABELS))
    return lambda wildcards, attempt: (20 + 10 * n) * attempt


def get_hub_models():
    """Models other than the analysed ones that come from the Hugging Face Hub, by role: the
    vLLM teacher and the sentence encoder of concept matching (unless a local folder).
    """
    models = {}
    if config["teacher"]["backend"] == "vllm":
        models["teacher"] = config["teacher"]["model"]
    encoder = config["matching"]["model"]
    if encoder is not None and not os.path.isdir(encoder):
        models["matcher"] = encoder
    return models


def get_checkpoint_labels(wildcards):
    """The label files of every layer of one (scale, ckpt)."""
    return [
        LABELS.format(scale=wildcards.scale, ckpt=wildcards.ckpt, layer=layer)
        for layer in SCALES[wildcards.scale].layers
    ]


def labels_from_vocabulary():
    """Whether every label is a phrase of the teacher's vocabulary (the embedding teacher): then
    one run-wide job embeds the phrases for matching, not one job per checkpoint."""
    return config["teacher"]["backend"] == "embedding"


def get_label_embeddings(scale):
    """The embeddings that matching the checkpoints a job of ``scale`` covers reads (see
    rules/matching.smk)."""
    if labels_from_vocabulary():
        return [VOCABULARY_EMBEDDINGS]
    return job_points(scale, LABEL_EMBEDDINGS)


def get_matching_encoder_input():
    matcher = PREFETCH_HUB.format(aux="matcher")
    return [matcher] if "matcher" in get_hub_models() else []


def get_prefetch_targets():
    targets = [
        PREFETCH_MODEL.format(scale=s.name, ckpt=c)
        for s in scales_with("hf")
        for c in s.ckpts
    ]
    if config["samples"]["source"] == "hf":
        targets.append(PREFETCH_DATASETS)
    targets += [PREFETCH_HUB.format(aux=role) for role in get_hub_models()]
    return targets


def get_samples_input(wildcards):
    source = config["samples"]["source"]
    if source == "hf":
        return PREFETCH_DATASETS
    if source == "file":
        return config["samples"]["path"]
    return []


def checkpoint_files(pattern):
    """``pattern`` formatted at every (scale, ckpt) of the grid."""
    return [pattern.format(scale=s, ckpt=c) for s, c in grid_points()]


def get_concepts_input(scale):
    """Every file the analysis of the checkpoints a job of ``scale`` covers reads."""

    def inputs(wildcards):
        files = [
            path
            for ckpt in get_job_ckpts(scale)(wildcards)
            for path in input_files(
                checkpoint_inputs(SCALES, ANALYSIS, scale.name, ckpt, ANALYSIS_PATHS)
            )
        ]
        return list(dict.fromkeys(files))

    return inputs


def get_concepts_mem_mb(scale):
    # One layer of two activation files at a time (read lazily), in float64: 9000 texts x 5120
    # x 8 bytes is 0.4 GB at 12B; the reference's SAEs are small.
    return lambda wildcards, attempt: int(
        (4000 + 1e-6 * model_params(scale.name)) * attempt
    )


def get_model_dirs():
    """Model folders to count parameters in, for scales whose config gives no ``params``."""
    dirs = {}
    for s in SCALES.values():
        if "params" in s.spec:
            continue
        if s.source != "hf":
            dirs[s.name] = str(
                s.model_location(s.ckpts[-1], MICRO_SUITE.format(scale=s.name))
            )
    return dirs


def get_model_dir_inputs():
    # Micro folders are one directory output per scale; local folders exist beforehand.
    return [
        MICRO_SUITE.format(scale=s.name)
        for s in scales_with("micro")
        if "params" not in s.spec
    ]


def get_all_targets():
    # Every file a user or the report reads, not only the last ones: Snakemake rebuilds a
    # missing file only when a target needs it, and a present figure does not need its table.
    targets = [
        SAMPLES,
        *checkpoint_files(ACTIVATIONS),
        *grid_files(SAE),
        *grid_files(SAE_METRICS),
        *grid_files(LABELS),
        *grid_files(VERIFY),
        *grid_files(MATCHES),
        *[table_file(t) for t in TABLE_NAMES],
        *[
            FIGURE.format(figure=f, ext=ext)
            for f in FIGURE_NAMES
            for ext in ("png", "pdf")
        ],
    ]
    if scales_with("micro"):
        targets.append(MICRO_TRAINING)
    if any(s.seed is not None for s in SCALES.values()):
        targets += [table_file("seeds"), table_file("emergence")]
        targets += [FIGURE.format(figure="seeds", ext=ext) for ext in ("png", "pdf")]
    # Teacher calibration (rules/autointerp.smk): can the teacher see each domain at all?
    targets.append(TEACHER_CALIBRATION)
    return targets


def summary_message():
    """What a finished run produced and where, for the last lines of the terminal."""
    lines = [
        "emergence: done.",
        f"  probe texts   {SAMPLES}",
        f"  activations   {ACTIVATIONS}",
        f"  SAEs          {SAE} (+ .json metrics)",
        f"  labels        {LABELS}",
        f"  verification  {VERIFY}",
        f"  matches       {MATCHES}",
        f"  tables        {', '.join(table_file(t) for t in TABLE_NAMES)}",
        f"  figures       {FIGURE.format(figure='*', ext='png')} (and .pdf)",
        "  report        snakemake --report results/report.html (make demo writes it)",
        "  logs          results/logs/",
    ]
    if scales_with("micro"):
        lines.insert(2, f"  micro losses  {MICRO_TRAINING}")
    lines += teacher_calibration_lines()
    return "\n".join(lines)


def teacher_calibration_lines():
    """Summary lines naming the domains whose oracle latent the teacher failed (blind spots)."""
    from emergence.autointerp.calibration import read_calibration

    if not os.path.exists(TEACHER_CALIBRATION):
        return []
    table = read_calibration(TEACHER_CALIBRATION)
    lines = [f"  calibration   {TEACHER_CALIBRATION}"]
    for row in table.filter(~table["passed"]).iter_rows(named=True):
        f1 = "n/a" if row["f1"] is None else f"{row['f1']:.2f}"
        why = (
            "its label does not match"
            if not row["matched"]
            else "it fails verification"
        )
        lines.append(
            f"  WARNING: the teacher cannot see {row['domain']} (oracle latent "
            f"'{row['label']}', F1 {f1}: {why}); activation of {row['domain']} is not measurable"
        )
    return lines


def get_calibration_input(wildcards):
    """The teacher's inputs, plus what matching the oracle labels reads: the stored vocabulary
    embeddings, or the matching encoder itself."""
    if labels_from_vocabulary():
        return {**teacher_inputs(), "phrases": VOCABULARY_EMBEDDINGS}
    return {**teacher_inputs(), "encoder": get_matching_encoder_input()}
