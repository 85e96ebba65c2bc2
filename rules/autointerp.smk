# AutoInterp: the teacher labels every live latent from fit texts and verifies the label on
# held-out eval texts. Answers are cached in results/cache/teacher (shared by all jobs, written
# atomically), so a re-run with unchanged prompts makes no teacher call.


rule embed_texts:
    input:
        "results/data/samples.parquet",
        # A user's vocabulary file (teacher.vocabulary): editing it re-embeds the phrases.
        config["teacher"].get("vocabulary") or [],
    output:
        "results/autointerp/text_embeddings.safetensors",
    log:
        "results/logs/autointerp/text_embeddings.log",
    conda:
        "../envs/analysis.yaml"
    threads: 2
    params:
        teacher=answer_settings(config["teacher"]),
        autointerp=config["autointerp"],
    script:
        "../workflow/scripts/embed_texts.py"


rule autointerp:
    input:
        unpack(get_autointerp_input),
    output:
        labels="results/labels/{scale}/{ckpt}/layer{layer}.json",
        verify="results/verify/{scale}/{ckpt}/layer{layer}.csv",
    log:
        "results/logs/autointerp/{scale}/{ckpt}/layer{layer}.log",
    benchmark:
        "results/benchmarks/autointerp/{scale}/{ckpt}/layer{layer}.tsv"
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
        cache_dir="results/cache/teacher",
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
        labels="results/autointerp/teacher_calibration.json",
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
        cache_dir="results/cache/teacher",
        matching=config["matching"],
        matcher_cache_dir=config["cache_dir"],
    script:
        "../workflow/scripts/teacher_calibration.py"
