# Activation extraction: one job per (scale, ckpt) writes every layer, because loading the
# weights dominates at large scales and must happen once per checkpoint, not once per layer.


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
    conda:
        "../envs/torch.yaml"
    threads: get_extract_threads
    resources:
        gpu=get_extract_gpu,
        mem_mb=get_extract_mem_mb,
        runtime=get_extract_runtime,
    params:
        scale=lambda wc: SCALES[wc.scale],
        extraction=config["extraction"],
        cache_dir=config["cache_dir"],
        seed=config["seed"],
    script:
        "../workflow/scripts/extract_activations.py"
