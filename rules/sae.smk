# Top-k sparse autoencoders: one job per (scale, ckpt) trains the SAE of every layer, in one
# process (torch, the device and the activation file are opened once, not once per layer: on a
# GPU node the start-up costs more than training one small SAE). The outputs stay per layer
# (results/sae/{scale}/{ckpt}/layer{layer}.*). Output lists must be fixed when the rule is
# defined and scales differ in their layers, hence one rule per scale (`per_scale_rule`).


for _scale in SCALES.values():

    rule:
        name:
            per_scale_rule("train_sae", _scale.name)
        input:
            activations="results/activations/{scale}/{ckpt}.safetensors",
            samples="results/data/samples.parquet",
        output:
            sae=layer_files(_scale, "results/sae/{scale}/{ckpt}/layer{layer}.safetensors"),
            metrics=layer_files(_scale, "results/sae/{scale}/{ckpt}/layer{layer}.json"),
        log:
            "results/logs/sae/{scale}/{ckpt}.log",
        benchmark:
            "results/benchmarks/sae/{scale}/{ckpt}.tsv"
        wildcard_constraints:
            scale=re.escape(_scale.name),
        group:
            "point"
        conda:
            "../envs/torch.yaml"
        # Small SAEs train faster on one thread than on two that contend.
        threads: 1
        resources:
            gpu=get_sae_gpu,
            mem_mb=lambda wc, attempt: 4000 * attempt,
            runtime=get_sae_runtime,
        params:
            layers=list(_scale.layers),
            sae=config["sae"],
            seed=config["seed"],
        script:
            "../workflow/scripts/train_sae.py"
