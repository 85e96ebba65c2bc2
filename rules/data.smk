# Probe texts: samples.parquet with sample_id, domain, text and a seeded, stratified split.


rule samples:
    input:
        get_samples_input,
    output:
        "results/data/samples.parquet",
    log:
        "results/logs/data/samples.log",
    conda:
        "../envs/analysis.yaml"
    params:
        samples=config["samples"],
        seed=config["seed"],
    script:
        "../workflow/scripts/build_samples.py"
