# Concept activation % under every protocol, alignment to the reference scale, granularity and
# the ceilings (linear probe, SAE purity, the instrument's stages): one job per (scale, ckpt),
# since the activation file holds every layer; then the run's tables.


rule concepts:
    input:
        get_concepts_input,
    output:
        activation="results/concepts/{scale}/{ckpt}/activation.csv",
        alignment="results/concepts/{scale}/{ckpt}/alignment.csv",
        granularity="results/concepts/{scale}/{ckpt}/granularity.csv",
        ceilings="results/concepts/{scale}/{ckpt}/ceilings.csv",
    log:
        "results/logs/concepts/{scale}/{ckpt}.log",
    benchmark:
        "results/benchmarks/concepts/{scale}/{ckpt}.tsv"
    conda:
        "../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=get_concepts_mem_mb,
    params:
        # The figures' measure only chooses what they draw: changing it re-runs no analysis.
        analysis={k: v for k, v in config["analysis"].items() if k != "measure"},
        seed=config["seed"],
        tau=config["matching"]["tau"],
        rule=config["matching"]["rule"],
    script:
        "../workflow/scripts/concepts.py"


rule tables:
    input:
        activation=checkpoint_files("results/concepts/{scale}/{ckpt}/activation.csv"),
        alignment=checkpoint_files("results/concepts/{scale}/{ckpt}/alignment.csv"),
        granularity=checkpoint_files("results/concepts/{scale}/{ckpt}/granularity.csv"),
        ceilings=checkpoint_files("results/concepts/{scale}/{ckpt}/ceilings.csv"),
        verify=grid_files("results/verify/{scale}/{ckpt}/layer{layer}.csv"),
        models=get_model_dir_inputs(),
    output:
        activation=report(
            "results/tables/activation.csv",
            caption="../report/table_activation.rst",
            category="Tables",
        ),
        alignment=report(
            "results/tables/alignment.csv",
            caption="../report/table_alignment.rst",
            category="Tables",
        ),
        granularity=report(
            "results/tables/granularity.csv",
            caption="../report/table_granularity.rst",
            category="Tables",
        ),
        verification="results/tables/verification.csv",
        ceilings=report(
            "results/tables/ceilings.csv",
            caption="../report/table_ceilings.rst",
            category="Tables",
        ),
    log:
        "results/logs/tables.log",
    conda:
        "../envs/analysis.yaml"
    params:
        model_dirs=get_model_dirs(),
    script:
        "../workflow/scripts/tables.py"
