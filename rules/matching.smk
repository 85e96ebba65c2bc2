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
        matching={
            k: v for k, v in config["matching"].items() if k not in ("tau", "rule")
        },
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
    params:
        tau=config["matching"]["tau"],
        rule=config["matching"]["rule"],
    script:
        "../workflow/scripts/match.py"
