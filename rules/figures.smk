# The paper's figures, each as PNG (for the report and the README) and PDF (for the paper).


rule figure:
    input:
        activation="results/tables/activation.csv",
        alignment="results/tables/alignment.csv",
        granularity="results/tables/granularity.csv",
        verification="results/tables/verification.csv",
        # Domains the teacher cannot see are marked as such, not read as absent concepts.
        calibration=TEACHER_CALIBRATION,
        ceilings="results/tables/ceilings.csv",
    output:
        png=report(
            "results/figures/{figure}.png",
            caption="../report/figure.rst",
            category="Figures",
            labels={"figure": "{figure}"},
        ),
        pdf="results/figures/{figure}.pdf",
    log:
        "results/logs/figures/{figure}.log",
    wildcard_constraints:
        figure="|".join(FIGURES),
    conda:
        "../envs/analysis.yaml"
    params:
        f1_threshold=config["autointerp"]["f1_threshold"],
        measure=config["analysis"]["measure"],
    script:
        "../workflow/scripts/figure.py"
