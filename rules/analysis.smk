# Concept activation % under every protocol, alignment to the reference scale and granularity:
# one job per (scale, ckpt), since the activation file holds every layer; then the run's tables.


rule concepts:
    input:
        get_concepts_input,
    output:
        activation="results/concepts/{scale}/{ckpt}/activation.csv",
        alignment="results/concepts/{scale}/{ckpt}/alignment.csv",
        granularity="results/concepts/{scale}/{ckpt}/granularity.csv",
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
        analysis=config["analysis"],
        seed=config["seed"],
    script:
        "../workflow/scripts/concepts.py"


rule tables:
    input:
        activation=checkpoint_files("results/concepts/{scale}/{ckpt}/activation.csv"),
        alignment=checkpoint_files("results/concepts/{scale}/{ckpt}/alignment.csv"),
        granularity=checkpoint_files("results/concepts/{scale}/{ckpt}/granularity.csv"),
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
    log:
        "results/logs/tables.log",
    conda:
        "../envs/analysis.yaml"
    params:
        model_dirs=get_model_dirs(),
    script:
        "../workflow/scripts/tables.py"
