# Concept matching: labels and domain names are embedded once per run; each grid point then
# compares its interpretable latents' labels with the domains (cosine >= tau), so changing tau
# re-runs only the cheap per-point step and what depends on it.


rule embed_labels:
    input:
        samples="results/data/samples.parquet",
        labels=grid_files("results/labels/{scale}/{ckpt}/layer{layer}.json"),
        encoder=get_matching_encoder_input(),
    output:
        "results/matches/embeddings.safetensors",
    log:
        "results/logs/matching/embeddings.log",
    conda:
        "../envs/analysis.yaml"
    threads: 2
    params:
        matching={k: v for k, v in config["matching"].items() if k != "tau"},
        cache_dir=config["cache_dir"],
    script:
        "../workflow/scripts/embed_labels.py"


rule match:
    input:
        samples="results/data/samples.parquet",
        labels="results/labels/{scale}/{ckpt}/layer{layer}.json",
        verify="results/verify/{scale}/{ckpt}/layer{layer}.csv",
        embeddings="results/matches/embeddings.safetensors",
    output:
        "results/matches/{scale}/{ckpt}/layer{layer}.csv",
    log:
        "results/logs/matching/{scale}/{ckpt}/layer{layer}.log",
    conda:
        "../envs/analysis.yaml"
    threads: 1
    # Seconds of work: on a cluster it runs inside its checkpoint's analysis group (see
    # profiles/slurm), whose request is the sum of the matching jobs that run side by side.
    resources:
        mem_mb=lambda wc, attempt: 1000 * attempt,
        runtime=lambda wc, attempt: 5 * attempt,
    params:
        tau=config["matching"]["tau"],
    script:
        "../workflow/scripts/match.py"
