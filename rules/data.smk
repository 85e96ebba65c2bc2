# Probe texts: samples.parquet with sample_id, domain, text and a seeded, stratified split.
# A checkpoint, so that Snakemake re-evaluates the jobs below it once the table is rebuilt:
# a table rebuilt with identical bytes (the input checksum Snakemake records, see
# profiles/default) then re-runs no extraction, SAE or labelling job.


checkpoint samples:
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
