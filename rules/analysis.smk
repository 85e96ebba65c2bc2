# Concept activation % under every protocol, alignment to the reference scale, granularity and
# the ceilings (linear probe, SAE purity, the instrument's stages): one job per (scale, ckpt), or
# per micro model (`job_ckpts`), since the activation file holds every layer; then the run's
# tables. One rule per scale, as for the SAEs.


for _scale in SCALES.values():

    rule:
        name:
            per_scale_rule("concepts", _scale.name)
        input:
            get_concepts_input(_scale),
        output:
            **{t: job_points(_scale, concept_file(t)) for t in CHECKPOINT_TABLE_NAMES},
        log:
            job_log(_scale, "results/logs/concepts/{scale}/{ckpt}.log"),
        benchmark:
            job_log(_scale, "results/benchmarks/concepts/{scale}/{ckpt}.tsv")
        group:
            job_group(_scale, "analysis")
        conda:
            "../envs/analysis.yaml"
        threads: 1
        resources:
            mem_mb=get_concepts_mem_mb(_scale),
        params:
            scale=_scale.name,
            ckpts=get_job_ckpts(_scale),
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
        **{t: checkpoint_files(concept_file(t)) for t in CHECKPOINT_TABLE_NAMES},
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
