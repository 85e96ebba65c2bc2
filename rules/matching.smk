# Concept matching: labels and domain names are embedded ahead of matching; each grid point then
# compares its interpretable latents' labels with the domains (cosine >= tau), so changing tau
# re-runs only the cheap per-point step and what depends on it.
# With the embedding teacher every label is a phrase of its vocabulary: one job embeds the
# vocabulary for the whole run, and no checkpoint loads the encoder (seconds of imports each).
# Other teachers write free-form labels, embedded per (scale, ckpt). Per checkpoint rather than
# once per run: a run-wide job would depend on every label of the grid, and every matching job on
# it, which makes Snakemake's DAG (and its SLURM groups: a checkpoint's embedding, matching and
# concepts jobs are one SLURM job) slow to build.


rule embed_vocabulary:
    input:
        samples=SAMPLES,
        # A user's vocabulary file (teacher.vocabulary): editing it re-embeds the phrases.
        vocabulary=config["teacher"].get("vocabulary") or [],
        encoder=get_matching_encoder_input(),
    output:
        VOCABULARY_EMBEDDINGS,
    log:
        "results/logs/matching/embeddings/vocabulary.log",
    conda:
        "../envs/analysis.yaml"
    threads: 2
    params:
        matching={
            k: v for k, v in config["matching"].items() if k not in ("tau", "rule")
        },
        teacher=answer_settings(config["teacher"]),
        cache_dir=config["cache_dir"],
    script:
        "../workflow/scripts/embed_vocabulary.py"


rule embed_labels:
    input:
        samples=SAMPLES,
        labels=get_checkpoint_labels,
        encoder=get_matching_encoder_input(),
    output:
        LABEL_EMBEDDINGS,
    log:
        "results/logs/matching/embeddings/{scale}/{ckpt}.log",
    conda:
        "../envs/analysis.yaml"
    threads: 2
    params:
        matching={
            k: v for k, v in config["matching"].items() if k not in ("tau", "rule")
        },
        cache_dir=config["cache_dir"],
    script:
        "../workflow/scripts/embed_labels.py"


# One job per (scale, ckpt), or per micro model (`job_ckpts`), matches every layer (one process
# reads the embeddings once): on a cluster it runs inside its checkpoint's analysis group; the
# outputs stay per layer. One rule per scale, since scales differ in their layers
# (`per_scale_rule`).
for _scale in SCALES.values():

    rule:
        name:
            per_scale_rule("match", _scale.name)
        input:
            samples=SAMPLES,
            labels=job_layers(_scale, LABELS),
            verify=job_layers(_scale, VERIFY),
            embeddings=get_label_embeddings(_scale),
        output:
            job_layers(_scale, MATCHES),
        log:
            job_log(_scale, "results/logs/matching/{scale}/{ckpt}.log"),
        group:
            job_group(_scale, "analysis")
        conda:
            "../envs/analysis.yaml"
        threads: 1
        resources:
            mem_mb=lambda wc, attempt: 1000 * attempt,
            runtime=lambda wc, attempt, n=len(job_layers(_scale, MATCHES)): (5 + n)
            * attempt,
        params:
            tau=config["matching"]["tau"],
            rule=config["matching"]["rule"],
        script:
            "../workflow/scripts/match.py"
