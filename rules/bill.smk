# The bill before the run: `snakemake bill --configfile config/paper.yaml` prints, per stage, the
# jobs, SLURM submissions, GPU-hours, teacher prompts and tokens and disk of exactly the config
# this run sees (command-line --config overrides included). No job runs, no file is written.
# Outside Snakemake: python -m emergence.bill config/paper.yaml [--set assumption=value].


localrules:
    bill,


rule bill:
    run:
        from emergence.bill import Assumptions, bill, render

        print(render(bill(config), Assumptions()))
