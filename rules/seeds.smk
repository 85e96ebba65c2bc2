# The seed axis: where a model is trained with several seeds, the activation table summarised
# across its runs (mean, spread, t interval) and each run's emergence step.


rule seed_tables:
    input:
        table_file("activation"),
    output:
        summary=report(
            table_file("seeds"),
            caption="../report/table_seeds.rst",
            category="Tables",
        ),
        emergence=table_file("emergence"),
    log:
        "results/logs/tables/seeds.log",
    conda:
        "../envs/analysis.yaml"
    params:
        runs=seed_runs(SCALES),
        level=config["analysis"]["emergence_level"],
        ci=config["analysis"]["ci"],
    script:
        "../workflow/scripts/seed_tables.py"


rule seed_figure:
    input:
        table_file("seeds"),
    output:
        png=report(
            FIGURE.format(figure="seeds", ext="png"),
            caption="../report/table_seeds.rst",
            category="Figures",
        ),
        pdf=FIGURE.format(figure="seeds", ext="pdf"),
    log:
        "results/logs/figures/seeds.log",
    conda:
        "../envs/analysis.yaml"
    params:
        measure=config["analysis"]["measure"],
    script:
        "../workflow/scripts/seed_figure.py"
