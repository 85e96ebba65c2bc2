# The paper's figures, each as PNG (for the report and the README) and PDF (for the paper).


rule figure:
    input:
        activation=table_file("activation"),
        alignment=table_file("alignment"),
        granularity=table_file("granularity"),
        verification=table_file("verification"),
        # Domains the teacher cannot see are marked as such, not read as absent concepts.
        calibration=TEACHER_CALIBRATION,
        ceilings=table_file("ceilings"),
    output:
        png=report(
            figure_file("png"),
            caption="../report/figure.rst",
            category="Figures",
            labels={"figure": "{figure}"},
        ),
        pdf=figure_file("pdf"),
    log:
        "results/logs/figures/{figure}.log",
    wildcard_constraints:
        figure="|".join(FIGURE_NAMES),
    conda:
        "../envs/analysis.yaml"
    params:
        f1_threshold=config["autointerp"]["f1_threshold"],
        measure=config["analysis"]["measure"],
        # A seeded family is drawn by its lowest seed here; seeds.png draws its spread.
        scales=first_runs(SCALES),
    script:
        "../workflow/scripts/figure.py"
