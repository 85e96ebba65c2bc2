# The micro model suite of the demo: a corpus, a tokenizer and GPT-NeoX models trained here.


# The micro chain goes first (priority): every later job waits on a trained model, while the
# run-wide embedding jobs can run beside the trainings.
rule micro_corpus:
    output:
        MICRO_CORPUS,
    log:
        "results/logs/micro/corpus.log",
    priority: 10
    conda:
        "../envs/torch.yaml"
    params:
        micro=config["micro"],
        seed=config["seed"],
    script:
        "../workflow/scripts/micro_corpus.py"


rule micro_tokenizer:
    input:
        MICRO_CORPUS,
    output:
        directory(MICRO_TOKENIZER),
    log:
        "results/logs/micro/tokenizer.log",
    priority: 10
    conda:
        "../envs/torch.yaml"
    params:
        vocab_size=config["micro"]["vocab_size"],
    script:
        "../workflow/scripts/micro_tokenizer.py"


rule micro_train:
    input:
        corpus=MICRO_CORPUS,
        tokenizer=MICRO_TOKENIZER,
    output:
        directory(MICRO_SUITE),
    log:
        "results/logs/micro/{scale}.log",
    benchmark:
        "results/benchmarks/micro/{scale}.tsv"
    priority: 10
    conda:
        "../envs/torch.yaml"
    # Tiny models train faster on one thread than on two that contend.
    threads: 1
    resources:
        runtime=lambda wc, attempt: 30 * attempt,
        mem_mb=lambda wc, attempt: 4000 * attempt,
    params:
        model=lambda wc: SCALES[wc.scale].spec,
        steps=lambda wc: SCALES[wc.scale].steps,
        micro=config["micro"],
        seed=lambda wc: get_training_seed(wc.scale),
    script:
        "../workflow/scripts/micro_train.py"


rule micro_training_table:
    input:
        expand(MICRO_SUITE, scale=[s.name for s in scales_with("micro")]),
    output:
        MICRO_TRAINING,
    log:
        "results/logs/tables/micro_training.log",
    conda:
        "../envs/analysis.yaml"
    script:
        "../workflow/scripts/micro_training_table.py"
