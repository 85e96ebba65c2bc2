# Activation extraction: one process writes every layer of a checkpoint, because loading the
# weights dominates at large scales and must happen once per checkpoint, not once per layer.
# Hugging Face and local models: one job per (scale, ckpt). A micro model: one job for all its
# checkpoints, since its weights load in milliseconds and the job's imports (transformers, ~5 s)
# would otherwise cost more than its forward passes; losing one of its activation files redoes
# that scale's extraction and everything downstream of it.


rule extract_activations:
    input:
        samples=SAMPLES,
        model=get_model_input,
    output:
        ACTIVATIONS,
    log:
        "results/logs/activations/{scale}/{ckpt}.log",
    benchmark:
        "results/benchmarks/activations/{scale}/{ckpt}.tsv"
    wildcard_constraints:
        scale=scales_regex(s.name for s in SCALES.values() if s.source != "micro"),
    conda:
        "../envs/torch.yaml"
    # Real models gain from intra-op threads (a GPU job uses them for tokenizing and copies).
    threads: 4
    resources:
        gpu=get_extract_gpu,
        mem_mb=get_extract_mem_mb,
        runtime=get_extract_runtime,
    params:
        scale=lambda wc: SCALES[wc.scale],
        ckpts=lambda wc: [wc.ckpt],
        extraction=config["extraction"],
        cache_dir=config["cache_dir"],
        seed=config["seed"],
    script:
        "../workflow/scripts/extract_activations.py"


for _scale in scales_with("micro"):

    rule:
        name:
            per_scale_rule("extract_activations", _scale.name)
        input:
            samples=SAMPLES,
            model=MICRO_SUITE.format(scale=_scale.name),
        output:
            [ACTIVATIONS.format(scale=_scale.name, ckpt=c) for c in _scale.ckpts],
        log:
            f"results/logs/activations/{_scale.name}.log",
        benchmark:
            f"results/benchmarks/activations/{_scale.name}.tsv"
        # On a cluster it runs in the micro suite's SLURM job, right after the training.
        group:
            "micro"
        conda:
            "../envs/torch.yaml"
        # Micro models are too small to gain from intra-op threads.
        threads: 1
        resources:
            mem_mb=lambda wc, attempt: 4000 * attempt,
            runtime=lambda wc, attempt: 15 * attempt,
        params:
            scale=_scale,
            ckpts=list(_scale.ckpts),
            extraction=config["extraction"],
            cache_dir=config["cache_dir"],
            seed=config["seed"],
        script:
            "../workflow/scripts/extract_activations.py"
