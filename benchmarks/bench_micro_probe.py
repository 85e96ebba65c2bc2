"""How well the micro models hold the domain: a logistic probe per model and checkpoint.

A seeded scikit-learn logistic regression (standardised features) is fitted on the final-token
activations of the probe texts' ``fit`` rows and scored on the ``eval`` rows, for the last layer
of every checkpoint. Chance is 1/9 (0.11); a real pretrained 135M LM reaches 0.97.

Two modes:

* ``--activations DIR --samples FILE``: probe activations a demo already extracted
  (``DIR/{scale}/step{N}.safetensors``), e.g. the baseline demo's.
* ``--bag-of-words``: what the training words alone say about a probe's domain (tf-idf
  logistic regression trained on the corpus, scored on the eval probes): the ceiling a micro
  model could learn from its text.
* ``--train``: generate the micro corpus, train the tokenizer and the models of a config with
  the library (``emergence.micro``), extract with ``emergence.extract`` and probe. Lever flags
  override single values of the config's ``micro`` section or the models, one at a time.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_micro_probe.py \\
        --activations /work/baseline/results/activations \\
        --samples /work/baseline/results/data/samples.parquet
    PYTHONPATH=src .venv/bin/python benchmarks/bench_micro_probe.py --train --scales micro-l
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl
import torch
import yaml
from safetensors.numpy import load_file
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from emergence.corpus import bundled_domains
from emergence.extract import extract_final_token, load_model
from emergence.micro.config import MicroConfig
from emergence.micro.text import build_corpus
from emergence.micro.tokenizer import train_tokenizer
from emergence.micro.train import MicroModelSpec, train_micro_model
from emergence.samples import bundled_texts, split_samples


def probe_accuracy(x: np.ndarray, samples: pl.DataFrame, seed: int = 0) -> float:
    """Eval accuracy of a logistic probe fitted on the fit rows (x in samples' row order)."""
    fit = (samples["split"] == "fit").to_numpy()
    y = samples["domain"].to_numpy()
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, random_state=seed))
    clf.fit(x[fit], y[fit])
    return float(clf.score(x[~fit], y[~fit]))


def probe_saved(folder: Path, samples: pl.DataFrame) -> list[dict]:
    """Probe every ``{scale}/step{N}.safetensors`` under ``folder`` at its last layer."""
    by_id = samples.sort("sample_id")
    rows = []
    for scale_dir in sorted(p for p in folder.iterdir() if p.is_dir()):
        for path in sorted(scale_dir.glob("step*.safetensors"), key=lambda p: int(p.stem[4:])):
            tensors = load_file(str(path))
            last = max(int(k[5:]) for k in tensors if k.startswith("layer"))
            order = np.argsort(tensors["sample_id"])
            assert (tensors["sample_id"][order] == by_id["sample_id"].to_numpy()).all()
            acc = probe_accuracy(tensors[f"layer{last}"][order], by_id)
            rows.append(dict(scale=scale_dir.name, step=int(path.stem[4:]), layer=last, acc=acc))
    return rows


def bag_of_words(config_path: str) -> dict[str, float]:
    """What the training words alone say: eval-probe accuracy of a tf-idf logistic regression
    trained on the corpus' training paragraphs, and on the hand-written sentences alone."""
    config = yaml.safe_load(Path(config_path).read_text())
    domains = bundled_domains()
    micro = config["micro"]
    train, _ = build_corpus(domains, micro["paragraphs"], micro["heldout_fraction"], config["seed"])
    samples = split_samples(
        bundled_texts(), seed=config["seed"], eval_fraction=config["samples"]["eval_fraction"]
    ).filter(pl.col("split") == "eval")
    sentences = [(s, key) for key, d in domains.items() for s in d.sentences]
    out = {}
    for name, pairs in (
        ("paragraphs", [(p.text, p.domain) for p in train]),
        ("sentences", sentences),
    ):
        texts, labels = zip(*pairs, strict=True)
        vectorizer = TfidfVectorizer(sublinear_tf=True)
        clf = LogisticRegression(max_iter=3000, C=10.0)
        clf.fit(vectorizer.fit_transform(texts), labels)
        predicted = clf.predict(vectorizer.transform(samples["text"].to_list()))
        out[name] = round(float((predicted == samples["domain"].to_numpy()).mean()), 3)
    return out


def shared_ngrams(train: list, domains: dict, n: int = 6) -> set[tuple[str, ...]]:
    """Word n-grams that occur both in a probe question and in the training paragraphs."""

    def grams(text: str) -> set[tuple[str, ...]]:
        words = re.findall(r"[a-z0-9]+", text.lower())
        return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}

    probes = set().union(*(grams(q) for d in domains.values() for q in d.questions))
    return probes & set().union(*(grams(p.text) for p in train))


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def train_and_probe(args: argparse.Namespace) -> list[dict]:
    config = yaml.safe_load(Path(args.config).read_text())
    micro = {"weight_decay": 0.01, **config["micro"]}
    for key in (
        "paragraphs",
        "batch_size",
        "lr",
        "seq_len",
        "warmup_steps",
        "lr_floor",
        "weight_decay",
        "vocab_size",
    ):
        if getattr(args, key) is not None:
            micro[key] = getattr(args, key)
    checkpoints = list(config["checkpoints"])
    if args.steps is not None:
        checkpoints = [c for c in checkpoints if c < args.steps] + [args.steps]
    seed = config["seed"]
    samples = split_samples(
        bundled_texts(), seed=seed, eval_fraction=config["samples"]["eval_fraction"]
    )
    domains = bundled_domains()
    start = time.perf_counter()
    train, held = build_corpus(
        domains, micro["paragraphs"], micro["heldout_fraction"], seed, **args.corpus_kwargs
    )
    tokenizer = train_tokenizer([p.text for p in train], micro["vocab_size"])
    print(f"corpus + tokenizer: {time.perf_counter() - start:.1f} s", flush=True)
    shared = shared_ngrams(train, domains)
    print(f"{len(shared)} probe 6-grams also in the training text: {sorted(shared)}", flush=True)
    if args.untied:
        micro["tie_embeddings"] = False
    settings = MicroConfig(
        **{**micro, "seed": seed if args.train_seed is None else args.train_seed}
    )
    torch.set_num_threads(1)
    rows = []
    for scale in args.scales:
        model_cfg = dict(config["models"][scale])
        for key in ("hidden_size", "num_layers", "num_heads"):
            if getattr(args, key) is not None:
                model_cfg[key] = getattr(args, key)
        spec = MicroModelSpec(
            model_cfg["hidden_size"], model_cfg["num_layers"], model_cfg["num_heads"]
        )
        with tempfile.TemporaryDirectory() as tmp:
            wall, cpu = time.perf_counter(), cpu_seconds()
            result = train_micro_model(
                spec,
                settings,
                tokenizer,
                [p.text for p in train],
                [p.text for p in held],
                checkpoints,
                tmp,
            )
            wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu
            losses = {r.step: r for r in result.losses}
            print(
                f"{scale}: train {wall:.1f} s wall, {cpu:.1f} s CPU, {result.n_params} params, "
                f"{result.n_train_tokens} tokens",
                flush=True,
            )
            for step in checkpoints:
                model, tok = load_model(
                    Path(tmp) / f"step{step}", torch.device("cpu"), torch.float32
                )
                acts = extract_final_token(
                    model,
                    tok,
                    samples["text"].to_list(),
                    [spec.num_layers],
                    batch_size=64,
                    max_length=128,
                )
                acc = probe_accuracy(acts.layers[spec.num_layers].numpy(), samples)
                row = dict(
                    scale=scale,
                    step=step,
                    layer=spec.num_layers,
                    acc=round(acc, 3),
                    train_loss=round(losses[step].train_loss, 3),
                    heldout_loss=round(losses[step].heldout_loss, 3),
                )
                rows.append(row)
                print(row, flush=True)
            rows.append(dict(scale=scale, train_wall_s=round(wall, 1), train_cpu_s=round(cpu, 1)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--activations", type=Path)
    parser.add_argument("--samples", type=Path)
    parser.add_argument("--train", action="store_true")
    parser.add_argument(
        "--bag-of-words", action="store_true", help="the tf-idf ceiling of the corpus' words"
    )
    parser.add_argument("--config", default="config/config.yaml")
    parser.add_argument("--scales", nargs="+", default=["micro-s", "micro-m", "micro-l"])
    parser.add_argument("--steps", type=int, help="final step (replaces the last checkpoint)")
    parser.add_argument(
        "--untied", action="store_true", help="a separate output layer (Pythia's; before session 4)"
    )
    parser.add_argument(
        "--train-seed", type=int, help="seed of initialisation and batches (corpus and split stay)"
    )
    for key, kind in [
        ("paragraphs", int),
        ("batch_size", int),
        ("lr", float),
        ("seq_len", int),
        ("warmup_steps", int),
        ("lr_floor", float),
        ("weight_decay", float),
        ("vocab_size", int),
        ("hidden_size", int),
        ("num_layers", int),
        ("num_heads", int),
    ]:
        parser.add_argument(f"--{key.replace('_', '-')}", dest=key, type=kind)
    parser.add_argument(
        "--corpus", default="{}", help="JSON keyword arguments for build_corpus (corpus levers)"
    )
    args = parser.parse_args()
    args.corpus_kwargs = json.loads(args.corpus)
    if args.bag_of_words:
        print(bag_of_words(args.config))
        return
    if args.activations is not None:
        rows = probe_saved(args.activations, pl.read_parquet(args.samples))
    elif args.train:
        rows = train_and_probe(args)
    else:
        parser.error("give --activations and --samples, or --train")
    table = pl.DataFrame([r for r in rows if "acc" in r])
    print(table.pivot(on="step", index="scale", values="acc") if len(table) else table)
    for r in rows:
        if "train_wall_s" in r:
            print(r)


if __name__ == "__main__":
    main()
