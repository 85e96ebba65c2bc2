# AutoInterp: the teacher labels every live latent from fit texts and verifies the label on
# held-out eval texts. Answers are cached in results/cache/teacher (shared by all jobs, written
# atomically), so a re-run with unchanged prompts makes no teacher call.


rule embed_texts:
    input:
        SAMPLES,
        # A user's vocabulary file (teacher.vocabulary): editing it re-embeds the phrases.
        config["teacher"].get("vocabulary") or [],
    output:
        TEXT_EMBEDDINGS,
    log:
        "results/logs/autointerp/text_embeddings.log",
    conda:
        "../envs/analysis.yaml"
    threads: 2
    params:
        teacher=answer_settings(config["teacher"]),
        # Only the cut changes what is embedded: other AutoInterp settings never re-embed.
        max_text_chars=config["autointerp"]["max_text_chars"],
    script:
        "../workflow/scripts/embed_texts.py"


# One job per (scale, ckpt) labels every layer's SAE with one teacher: an in-process vLLM teacher
# (a 7B model: a minute or more of loading and CUDA-graph capture) is loaded once per
# checkpoint, not once per layer. Outputs stay per layer; one rule per scale, as for the SAEs.
# With the shared server (teacher.backend: openai, docs/cluster.md) nothing is loaded here.
for _scale in SCALES.values():

    rule:
        name:
            per_scale_rule("autointerp", _scale.name)
        input:
            **autointerp_inputs(_scale),
        output:
            labels=job_layers(_scale, LABELS),
            verify=job_layers(_scale, VERIFY),
        log:
            job_log(_scale, "results/logs/autointerp/{scale}/{ckpt}.log"),
        benchmark:
            job_log(_scale, "results/benchmarks/autointerp/{scale}/{ckpt}.tsv")
        group:
            "point"
        conda:
            "../envs/vllm.yaml"
            if config["teacher"]["backend"] == "vllm"
            else "../envs/analysis.yaml"
        threads: 1
        resources:
            gpu=lambda wc: int(config["teacher"]["backend"] == "vllm"),
            mem_mb=lambda wc, attempt: 8000 * attempt,
            runtime=autointerp_runtime(_scale),
        params:
            scale=_scale.name,
            ckpts=get_job_ckpts(_scale),
            layers=list(_scale.layers),
            teacher=answer_settings(config["teacher"]),
            autointerp=config["autointerp"],
            seed=config["seed"],
            cache_dir=TEACHER_CACHE,
        script:
            "../workflow/scripts/autointerp.py"


# Teacher calibration: one oracle latent per domain (fires on exactly that domain's texts) goes
# through labelling, verification and matching like a real latent; a domain whose oracle fails
# is one the instrument cannot see, and the run's summary says so.
rule teacher_calibration:
    input:
        unpack(get_calibration_input),
    output:
        table=TEACHER_CALIBRATION,
        labels=CALIBRATION_LABELS,
    log:
        "results/logs/autointerp/teacher_calibration.log",
    benchmark:
        "results/benchmarks/autointerp/teacher_calibration.tsv"
    conda:
        "../envs/vllm.yaml"
        if config["teacher"]["backend"] == "vllm"
        else "../envs/analysis.yaml"
    threads: 1
    resources:
        gpu=lambda wc: int(config["teacher"]["backend"] == "vllm"),
        mem_mb=lambda wc, attempt: 8000 * attempt,
        runtime=lambda wc, attempt: 60 * attempt,
    params:
        teacher=answer_settings(config["teacher"]),
        autointerp=config["autointerp"],
        seed=config["seed"],
        cache_dir=TEACHER_CACHE,
        matching=config["matching"],
        matcher_cache_dir=config["cache_dir"],
    script:
        "../workflow/scripts/teacher_calibration.py"
