"""Extraction throughput against a bare forward pass over the same texts.

The bare pass runs the same base model on the same length-sorted, right-padded batches with no
hooks and keeps nothing; extraction adds the hooks, the final-token gather of every layer and the
copy to CPU. Goal: extraction <= 1.15x the bare pass.

    .venv/bin/python benchmarks/bench_extract.py [--size 70m|micro] [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from transformers import GPTNeoXConfig, GPTNeoXModel

from emergence.extract import extract_final_token, length_sorted_batches, pad_right
from emergence.micro.tokenizer import train_tokenizer
from emergence.samples import bundled_texts

SIZES = {
    # Pythia-70m's shape (random weights: timing does not depend on them).
    "70m": dict(hidden_size=512, num_hidden_layers=6, num_attention_heads=8, vocab_size=50304),
    "micro": dict(hidden_size=128, num_hidden_layers=3, num_attention_heads=4, vocab_size=2048),
}


@torch.inference_mode()
def bare_forward(model, tokenizer, texts, batch_size: int) -> None:
    ids = tokenizer(texts, add_special_tokens=False, truncation=True, max_length=512)["input_ids"]
    lengths = [len(x) for x in ids]
    for batch in length_sorted_batches(lengths, batch_size):
        input_ids, mask = pad_right([ids[i] for i in batch], tokenizer.pad_token_id)
        model(input_ids=input_ids, attention_mask=mask, use_cache=False)


def timed_interleaved(fns: list, repeats: int) -> list[list[float]]:
    """Wall times of each function, alternating them so that load on the machine hits all alike."""
    for fn in fns:
        fn()  # warm-up
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeats):
        for fn, out in zip(fns, times, strict=True):
            start = time.perf_counter()
            fn()
            out.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="70m")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    texts = bundled_texts()["text"].to_list()
    tokenizer = train_tokenizer(texts, vocab_size=2048)
    spec = SIZES[args.size]
    model = GPTNeoXModel(GPTNeoXConfig(intermediate_size=4 * spec["hidden_size"], **spec)).eval()
    layers = list(range(spec["num_hidden_layers"] + 1))
    bare, ours = timed_interleaved(
        [
            lambda: bare_forward(model, tokenizer, texts, args.batch_size),
            lambda: extract_final_token(
                model, tokenizer, texts, layers, batch_size=args.batch_size
            ),
        ],
        args.repeats,
    )
    b, o = statistics.median(bare), statistics.median(ours)
    print("| model shape | texts | layers | bare forward (s) | extraction (s) | ratio |")
    print("|---|---|---|---|---|---|")
    print(f"| {args.size} | {len(texts)} | {len(layers)} | {b:.3f} | {o:.3f} | {o / b:.3f} |")


if __name__ == "__main__":
    main()
