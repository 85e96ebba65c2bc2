# Probe texts: samples.parquet with sample_id, domain, text and a seeded, stratified split.
# A plain rule, not a checkpoint: when a checkpoint finishes, Snakemake 9 (at least to 9.27.1)
# rebuilds the jobs that read its output, and a grouped job among them can then sit in its group
# twice, once stale, whenever another job reads both the checkpoint's output and that job's
# (train_sae and autointerp read samples.parquet and the activations). Under
# --profile profiles/slurm the scheduler then stops with a KeyError when the group finishes
# (about one run in three of tests/test_slurm.py; snakemake/snakemake#2151 is of the same kind).


rule samples:
    input:
        get_samples_input,
    output:
        SAMPLES,
    log:
        "results/logs/data/samples.log",
    conda:
        "../envs/analysis.yaml"
    params:
        samples=config["samples"],
        seed=config["seed"],
    script:
        "../workflow/scripts/build_samples.py"
