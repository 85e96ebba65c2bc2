# Probe texts: samples.parquet with sample_id, domain, text and a seeded, stratified split.
# A plain rule, not a checkpoint. As a checkpoint it let a table rebuilt with identical bytes
# re-run nothing below it in the same run, but Snakemake 9 (to 9.27.1 at least) rebuilds the
# jobs that read a checkpoint's output when it finishes, and when one of them also reads
# another's output (train_sae reads the probe table and the activations), a grouped job could
# sit in its group twice, once stale: under --profile profiles/slurm the scheduler then stopped
# with a KeyError in dag.update_ready in about one run in three. README ("A changed input") says
# how to rebuild the table alone first, after which an identical table re-runs nothing.


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
