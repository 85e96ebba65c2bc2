"""The bill before the run: jobs, SLURM submissions, GPU-hours, teacher prompts and tokens, and
disk of a configuration, per stage, without building the workflow or touching a GPU.

Jobs are counted the way the workflow defines them (rules/*.smk): per (scale, checkpoint) one
extraction, one SAE job (every layer), one AutoInterp job (every layer), one label-embedding job
(an LLM teacher's free-form labels; the embedding teacher's vocabulary is embedded once per
run), one matching job (every layer) and one concepts job, and a few jobs for the whole run. A
micro model has one job of each kind but label embedding for all its checkpoints. SLURM
submissions follow profiles/slurm: a checkpoint's extraction, SAE and AutoInterp jobs are one
group job (`point`), its embedding, matching and concepts jobs another
(`analysis_<scale>_<ckpt>`; a micro model's matching and concepts: `analysis_<scale>`), the
micro suite with its extractions one more, and the cheap steps are local rules (no submission).
``tests/test_bill.py`` checks the job counts against Snakemake's own dry run and
``tests/test_slurm.py`` the submissions against a real SLURM.

Time, tokens and bytes rest on `Assumptions`, each a named field with its source; the measured
ones come from benchmarks/RESULTS.md. Usage:

    emergence-bill config/paper.yaml            # or: python -m emergence.bill config/paper.yaml
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emergence.config import load_config
from emergence.grid import Scale, scales
from emergence.outputs import FIGURE_NAMES

DTYPE_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2, "auto": 2}


@dataclass(frozen=True)
class Assumptions:
    """What the bill assumes where the config does not say. Change any with ``--set key=value``."""

    # Mean probe text length in subject-model tokens. MMLU(-Pro) questions: ~100 tokens on
    # average, law and history passages longer (capped at extraction.max_length).
    tokens_per_text: float = 128.0
    # Effective forward-pass throughput of one GPU (bf16) on batches of short texts: ~15% of
    # an A100's or ~7% of an H100's dense peak.
    gpu_tflops: float = 50.0
    # Reading a checkpoint's weights from a shared filesystem into the GPU (GB/s).
    load_gb_per_s: float = 1.0
    # A GPU job's start before any work: Python, torch, CUDA context (seconds).
    job_start_s: float = 60.0
    # One SAE on a GPU: 500 steps of a 512-latent top-k SAE plus its evaluation (seconds).
    sae_s_per_layer: float = 15.0
    # Loading an in-process vLLM teacher (7B, bf16) and capturing its CUDA graphs (seconds).
    teacher_load_s: float = 120.0
    # vLLM throughput of the teacher on one GPU with many prompts in flight (tokens/s): new
    # prompt tokens (prefill; the shared instructions are prefix-cached) and generated tokens.
    teacher_prefill_tok_s: float = 20000.0
    teacher_decode_tok_s: float = 2500.0
    # Share of latents that fire on some fit text (labelled). 1.0 bills every latent.
    live_fraction: float = 1.0
    # Teacher cost per labelled latent, measured (benchmarks/RESULTS.md, "LLM teacher cost",
    # Qwen2.5 tokenizer, demo latents): prompts, input tokens, input tokens beyond the shared
    # prefix, output tokens. Long texts cost more: up to 9 prompts and 14.5k input tokens.
    prompts_per_latent: float = 5.7
    input_tokens_per_latent: float = 1394.0
    new_input_tokens_per_latent: float = 1211.0
    output_tokens_per_latent: float = 77.0
    # Pythia's vocabulary (untied input and output embeddings), to infer a hidden size from
    # params and num_layers where the config gives neither hidden_size nor a local config.json.
    vocab_size: int = 50304
    # Bytes per parameter of a checkpoint in the Hugging Face cache (Pythia ships float16).
    weight_bytes: float = 2.0


@dataclass(frozen=True)
class Stage:
    """One line of the bill."""

    stage: str
    where: str  # the SLURM group, "login node" (local rules) or "-"
    jobs: int
    submissions: int
    gpu_hours: float
    prompts: float = 0.0
    input_tokens: float = 0.0
    output_tokens: float = 0.0
    disk_bytes: float = 0.0


def hidden_size(scale: Scale, vocab_size: int) -> int:
    """d_model: from the config, a local checkpoint's config.json, or solved from the parameter
    count of a GPT-NeoX model: per block 12 d^2 + 13 d (attention, MLP, two layer norms), a
    final layer norm and untied embeddings, 12 L d^2 + (13 L + 2 + 2 V) d = params."""
    if "hidden_size" in scale.spec:
        return int(scale.spec["hidden_size"])
    if scale.source == "local":
        config = scale.local_path(scale.steps[-1]) / "config.json"
        return int(json.loads(config.read_text())["hidden_size"])
    params = float(scale.spec["params"])
    a, b = 12.0 * scale.num_layers, 13.0 * scale.num_layers + 2 + 2.0 * vocab_size
    d = (-b + math.sqrt(b * b + 4 * a * params)) / (2 * a)
    # A multiple of 64, as every Pythia's is (pythia-12b's vocabulary is padded beyond V).
    return max(64, 64 * round(d / 64))


def n_params(scale: Scale, vocab_size: int) -> float:
    if "params" in scale.spec:
        return float(scale.spec["params"])
    d = hidden_size(scale, vocab_size)
    return 12.0 * scale.num_layers * d * d + (13.0 * scale.num_layers + 2 + 2.0 * vocab_size) * d


def n_texts(config: dict[str, Any]) -> int:
    """Probe texts (rows of samples.parquet); for Hub datasets the max_per_domain cap."""
    section = config["samples"]
    cap = section.get("max_per_domain")
    if section["source"] == "hf":
        domains = {d for spec in section["hf"] for d in spec["domains"]}
        if cap is None:
            raise ValueError("samples.max_per_domain is needed to bill Hub datasets")
        return cap * len(domains)
    from emergence.samples import bundled_texts, read_text_file

    frame = bundled_texts() if section["source"] == "bundled" else read_text_file(section["path"])
    counts = frame["domain"].value_counts()["count"].to_list()
    return sum(min(c, cap) if cap else c for c in counts)


def n_domains(config: dict[str, Any]) -> int:
    """Domains of the probe texts (the calibration has one oracle latent per domain)."""
    section = config["samples"]
    if section["source"] == "hf":
        return len({d for spec in section["hf"] for d in spec["domains"]})
    from emergence.samples import bundled_texts, read_text_file

    frame = bundled_texts() if section["source"] == "bundled" else read_text_file(section["path"])
    return frame["domain"].n_unique()


def calibration_prompts(config: dict[str, Any], texts: int) -> float:
    """Teacher prompts of the calibration stage: per domain one label and the verification of
    its oracle latent on the eval texts (each class capped by max_verify_per_class)."""
    auto, domains = config["autointerp"], n_domains(config)
    eval_texts = texts * config["samples"]["eval_fraction"]
    cap = auto["max_verify_per_class"] or math.inf
    pos, neg = eval_texts / domains, eval_texts * (domains - 1) / domains
    per_domain = 1 + math.ceil((min(pos, cap) + min(neg, cap)) / auto["texts_per_prompt"])
    return float(domains * per_domain)


def bill(config: dict[str, Any], assume: Assumptions | None = None) -> list[Stage]:
    """The bill of a validated config, one `Stage` per line."""
    a = assume or Assumptions()
    grid = scales(config)
    points = [(s, c) for s in grid.values() for c in s.ckpts]
    n_points = len(points)
    layer_points = sum(len(s.layers) for s, _ in points)
    texts = n_texts(config)
    sae = config["sae"]
    n_latents = int(sae["n_latents"])
    act_bytes = DTYPE_BYTES[config["extraction"]["dtype"]]
    gpu_extract = config["extraction"]["device"] != "cpu"
    gpu_sae = sae.get("device", "cpu") != "cpu"
    backend = config["teacher"]["backend"]
    micro = [s for s in grid.values() if s.source == "micro"]
    # Jobs of each per-scale stage (SAE, AutoInterp, matching, concepts).
    n_jobs = sum(s.n_point_jobs for s in grid.values())
    micro_points = sum(len(s.ckpts) for s in micro)

    def on_gpu(scale: Scale, flag: bool) -> bool:
        return flag and scale.source != "micro"

    extract_s = sae_s = 0.0
    act_disk = sae_disk = weights = 0.0
    for scale, _ in points:
        d = hidden_size(scale, a.vocab_size)
        params = n_params(scale, a.vocab_size)
        act_disk += texts * (d * len(scale.layers) * act_bytes + 8)
        sae_disk += len(scale.layers) * (2 * n_latents * d + n_latents + d) * 4
        if scale.source == "hf":
            weights += params * a.weight_bytes
        if on_gpu(scale, gpu_extract):
            flops = 2.0 * params * texts * a.tokens_per_text
            load = params * a.weight_bytes / (a.load_gb_per_s * 1e9)
            extract_s += a.job_start_s + load + flops / (a.gpu_tflops * 1e12)
        if on_gpu(scale, gpu_sae):
            sae_s += a.sae_s_per_layer * len(scale.layers)

    latents = layer_points * n_latents * a.live_fraction
    llm = backend in {"vllm", "openai"}
    prompts = latents * a.prompts_per_latent if llm else 0.0
    teacher_s = 0.0
    if backend == "vllm":
        # The teacher is loaded once per AutoInterp job, then answers every layer.
        teacher_s = n_jobs * a.teacher_load_s + latents * (
            a.new_input_tokens_per_latent / a.teacher_prefill_tok_s
            + a.output_tokens_per_latent / a.teacher_decode_tok_s
        )
    hours = 1 / 3600
    stages = [
        Stage("probe texts", "login node", 1, 0, 0.0),
        Stage(
            "prefetch (models, datasets)",
            "login node",
            len([p for p in points if p[0].source == "hf"])
            + int(config["samples"]["source"] == "hf")
            + int(backend == "vllm")
            + int(_hub_matcher(config)),
            0,
            0.0,
            disk_bytes=weights,
        ),
    ]
    if micro:
        stages.append(Stage("micro suite", "micro", 2 + len(micro), 1, 0.0))
    stages += [
        # A micro model's extraction rides in the micro suite's submission; every `point`
        # submission (per checkpoint, or per micro model) is counted on the SAE line (the job
        # every one of them holds).
        Stage(
            "extraction",
            "point" if len(micro) < len(grid) else "micro",
            len([p for p in points if p[0].source != "micro"]) + len(micro),
            0,
            extract_s * hours,
            disk_bytes=act_disk,
        ),
        Stage(
            "SAEs (every layer of a checkpoint)",
            "point",
            n_jobs,
            n_jobs,
            sae_s * hours,
            disk_bytes=sae_disk,
        ),
        Stage(
            "AutoInterp (one teacher per checkpoint)",
            "point",
            n_jobs + int(backend == "embedding"),
            0,
            teacher_s * hours,
            prompts=prompts,
            input_tokens=latents * a.input_tokens_per_latent if llm else 0.0,
            output_tokens=latents * a.output_tokens_per_latent if llm else 0.0,
        ),
        Stage(
            "teacher calibration",
            "-" if backend == "vllm" else "login node",
            1,
            int(backend == "vllm"),
            (a.job_start_s + a.teacher_load_s) * hours if backend == "vllm" else 0.0,
            prompts=calibration_prompts(config, texts) if llm else 0.0,
        ),
        # The embedding teacher labels with phrases of its vocabulary, embedded once per run.
        Stage("label embeddings", "login node", 1, 0, 0.0)
        if backend == "embedding"
        # A micro model's are grouped per checkpoint, apart from its one analysis group.
        else Stage("label embeddings", "analysis", n_points, micro_points, 0.0),
        Stage("matching (every layer of a checkpoint)", "analysis", n_jobs, n_jobs, 0.0),
        Stage("concepts", "analysis", n_jobs, 0, 0.0),
        Stage(
            "tables and figures",
            "login node",
            # tables and `all`, the figures, the micro losses table, the seed table and figure.
            2
            + len(FIGURE_NAMES)
            + int(bool(micro))
            + 2 * int(any(s.seed is not None for s in grid.values())),
            0,
            0.0,
        ),
    ]
    return stages


def _hub_matcher(config: dict[str, Any]) -> bool:
    encoder = config["matching"].get("model")
    return encoder is not None and not Path(encoder).is_dir()


def _human(n: float, unit: str = "") -> str:
    for factor, suffix in ((1e12, " T"), (1e9, " G"), (1e6, " M"), (1e3, " k")):
        if abs(n) >= factor:
            return f"{n / factor:.1f}{suffix}{unit}"
    return f"{n:.0f}{' ' + unit if unit else ''}"


def render(stages: Sequence[Stage], assume: Assumptions) -> str:
    """The bill as a markdown table, totals last, then the assumptions."""
    head = "| stage | where | jobs | SLURM submissions | GPU-hours | teacher prompts | "
    head += "input tokens | output tokens | disk |"
    rows = [head, "|" + "---|" * 9]
    for s in stages:
        rows.append(
            f"| {s.stage} | {s.where} | {s.jobs:,} | {s.submissions:,} | {s.gpu_hours:,.1f} | "
            f"{_human(s.prompts)} | {_human(s.input_tokens)} | {_human(s.output_tokens)} | "
            f"{_human(s.disk_bytes, 'B')} |"
        )
    total = Stage(
        "**total**",
        "",
        sum(s.jobs for s in stages),
        sum(s.submissions for s in stages),
        sum(s.gpu_hours for s in stages),
        sum(s.prompts for s in stages),
        sum(s.input_tokens for s in stages),
        sum(s.output_tokens for s in stages),
        sum(s.disk_bytes for s in stages),
    )
    rows.append(
        f"| {total.stage} | | **{total.jobs:,}** | **{total.submissions:,}** | "
        f"**{total.gpu_hours:,.1f}** | {_human(total.prompts)} | {_human(total.input_tokens)} | "
        f"{_human(total.output_tokens)} | {_human(total.disk_bytes, 'B')} |"
    )
    notes = ", ".join(f"{f.name}={getattr(assume, f.name):g}" for f in dataclasses.fields(assume))
    return "\n".join(rows) + f"\n\nAssumptions (--set key=value): {notes}\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="emergence-bill", description=__doc__.split("\n")[0])
    parser.add_argument("configfile", nargs="+", help="config YAML file(s), later ones override")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override an assumption, e.g. --set teacher_load_s=300",
    )
    args = parser.parse_args(argv)
    fields = {f.name: f for f in dataclasses.fields(Assumptions)}
    overrides: dict[str, Any] = {}
    for item in args.set:
        key, _, value = item.partition("=")
        if key not in fields:
            parser.error(f"unknown assumption {key!r} (known: {', '.join(fields)})")
        overrides[key] = type(getattr(Assumptions(), key))(value)
    assume = Assumptions(**overrides)
    config = load_config(args.configfile)
    sys.stdout.write(render(bill(config, assume), assume))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
