# The bill before the run: `snakemake bill --configfile config/paper.yaml` prints, per stage, the
# jobs, SLURM submissions, GPU-hours, teacher prompts and tokens and disk of exactly the config
# this run sees (command-line --config overrides included), and keeps a copy in its log. It runs
# on the login node and builds no DAG beyond itself.
# Outside Snakemake: python -m emergence.bill config/paper.yaml [--set assumption=value].


localrules:
    bill,


rule bill:
    log:
        "results/logs/bill.log",
    conda:
        "../envs/analysis.yaml"
    script:
        "../workflow/scripts/bill.py"
