# Pre-fetching: the only rules that touch the network. They run on the submitting host (the
# login node of a cluster), so compute nodes without internet read everything from the cache.


localrules:
    prefetch,
    prefetch_model,
    prefetch_hub_model,
    prefetch_datasets,


rule prefetch:
    input:
        get_prefetch_targets(),


rule prefetch_model:
    output:
        PREFETCH_MODEL,
    log:
        "results/logs/prefetch/models/{scale}/{ckpt}.log",
    retries: 2
    conda:
        "../envs/torch.yaml"
    params:
        repo=lambda wc: SCALES[wc.scale].spec["repo"],
        revision=lambda wc: SCALES[wc.scale].revision(wc.ckpt),
        cache_dir=config["cache_dir"],
    script:
        "../workflow/scripts/prefetch_model.py"


rule prefetch_hub_model:
    output:
        PREFETCH_HUB,
    log:
        "results/logs/prefetch/{aux}.log",
    wildcard_constraints:
        aux="teacher|matcher",
    retries: 2
    conda:
        "../envs/torch.yaml"
    params:
        repo=lambda wc: get_hub_models()[wc.aux],
        revision="main",
        cache_dir=config["cache_dir"],
    script:
        "../workflow/scripts/prefetch_model.py"


rule prefetch_datasets:
    output:
        PREFETCH_DATASETS,
    log:
        "results/logs/prefetch/datasets.log",
    retries: 2
    conda:
        "../envs/analysis.yaml"
    params:
        specs=config["samples"]["hf"],
        cache_dir=config["cache_dir"],
    script:
        "../workflow/scripts/prefetch_datasets.py"
