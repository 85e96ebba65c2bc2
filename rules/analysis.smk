# Concept activation % under every protocol, alignment to the reference scale, granularity and
# the ceilings (linear probe, SAE purity, the instrument's stages): one job per (scale, ckpt),
# since the activation file holds every layer; then the run's tables.


rule concepts:
    input:
        get_concepts_input,
    output:
        activation=concept_file("activation"),
        alignment=concept_file("alignment"),
        granularity=concept_file("granularity"),
        ceilings=concept_file("ceilings"),
    log:
        "results/logs/concepts/{scale}/{ckpt}.log",
    benchmark:
        "results/benchmarks/concepts/{scale}/{ckpt}.tsv"
    conda:
        "../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=get_concepts_mem_mb,
    params:
        # The figures' measure only chooses what they draw: changing it re-runs no analysis.
        analysis={k: v for k, v in config["analysis"].items() if k != "measure"},
        seed=config["seed"],
        tau=config["matching"]["tau"],
        rule=config["matching"]["rule"],
        paths=vars(ANALYSIS_PATHS),
    script:
        "../workflow/scripts/concepts.py"


rule tables:
    input:
        activation=checkpoint_files(concept_file("activation")),
        alignment=checkpoint_files(concept_file("alignment")),
        granularity=checkpoint_files(concept_file("granularity")),
        ceilings=checkpoint_files(concept_file("ceilings")),
        verify=grid_files(VERIFY),
        models=get_model_dir_inputs(),
    output:
        activation=report(
            table_file("activation"),
            caption="../report/table_activation.rst",
            category="Tables",
        ),
        alignment=report(
            table_file("alignment"),
            caption="../report/table_alignment.rst",
            category="Tables",
        ),
        granularity=report(
            table_file("granularity"),
            caption="../report/table_granularity.rst",
            category="Tables",
        ),
        verification=table_file("verification"),
        ceilings=report(
            table_file("ceilings"),
            caption="../report/table_ceilings.rst",
            category="Tables",
        ),
    log:
        "results/logs/tables.log",
    conda:
        "../envs/analysis.yaml"
    params:
        model_dirs=get_model_dirs(),
        # The (scale, ckpt, layer) of each input.verify file, in its order.
        points=grid_keys(),
    script:
        "../workflow/scripts/tables.py"
