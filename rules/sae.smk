# Top-k sparse autoencoders: one job per (scale, ckpt) trains the SAE of every layer, in one
# process (torch, the device and the activation file are opened once, not once per layer: on a
# GPU node the start-up costs more than training one small SAE). The outputs stay per layer
# (results/sae/{scale}/{ckpt}/layer{layer}.*). Output lists must be fixed when the rule is
# defined and scales differ in their layers, hence one rule per scale (`per_scale_rule`), with
# the scale's name written into its paths (see `layer_files`).


for _scale in SCALES.values():

    rule:
        name:
            per_scale_rule("train_sae", _scale.name)
        input:
            activations=job_points(_scale, ACTIVATIONS),
            samples=SAMPLES,
        output:
            sae=job_layers(_scale, SAE),
            metrics=job_layers(_scale, SAE_METRICS),
        log:
            job_log(_scale, "results/logs/sae/{scale}/{ckpt}.log"),
        benchmark:
            job_log(_scale, "results/benchmarks/sae/{scale}/{ckpt}.tsv")
        group:
            "point"
        conda:
            "../envs/torch.yaml"
        # Small SAEs train faster on one thread than on two that contend.
        threads: 1
        resources:
            gpu=sae_gpu(_scale),
            mem_mb=lambda wc, attempt: 4000 * attempt,
            runtime=sae_runtime(_scale),
        params:
            scale=_scale.name,
            ckpts=get_job_ckpts(_scale),
            layers=list(_scale.layers),
            sae=config["sae"],
            seed=config["seed"],
        script:
            "../workflow/scripts/train_sae.py"
