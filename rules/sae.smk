# A top-k sparse autoencoder per (scale, ckpt, layer), read lazily from the activation file.


rule train_sae:
    input:
        activations="results/activations/{scale}/{ckpt}.safetensors",
        samples="results/data/samples.parquet",
    output:
        sae="results/sae/{scale}/{ckpt}/layer{layer}.safetensors",
        metrics="results/sae/{scale}/{ckpt}/layer{layer}.json",
    log:
        "results/logs/sae/{scale}/{ckpt}/layer{layer}.log",
    benchmark:
        "results/benchmarks/sae/{scale}/{ckpt}/layer{layer}.tsv"
    conda:
        "../envs/torch.yaml"
    # Small SAEs train faster on one thread than on two that contend.
    threads: 1
    resources:
        gpu=get_sae_gpu,
        mem_mb=lambda wc, attempt: 4000 * attempt,
        runtime=lambda wc, attempt: 30 * attempt,
    params:
        sae=config["sae"],
        seed=config["seed"],
    script:
        "../workflow/scripts/train_sae.py"
