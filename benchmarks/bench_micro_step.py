"""Cost of one micro training step: forward, backward and AdamW on one thread.

A ``GPTNeoXForCausalLM`` of each demo size (``emergence.micro.train.neox_config``) on a random
16 × 64 batch, per BPE vocabulary size; median milliseconds per step over ``--steps`` steps
after five warm-up steps.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_micro_step.py --vocab 2048 4096
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import torch
import yaml
from transformers import GPTNeoXForCausalLM, PreTrainedTokenizerFast

from emergence.micro.tokenizer import train_tokenizer
from emergence.micro.train import MicroModelSpec, neox_config


def step_ms(spec: MicroModelSpec, tokenizer: PreTrainedTokenizerFast, vocab: int, n: int) -> float:
    torch.manual_seed(0)
    model = GPTNeoXForCausalLM(neox_config(spec, vocab, tokenizer, tie_embeddings=True))
    optim = torch.optim.AdamW(model.parameters(), lr=1e-3)
    batch = torch.randint(0, vocab, (16, 64))
    times = []
    for i in range(n + 5):
        start = time.perf_counter()
        loss = model(input_ids=batch, labels=batch).loss
        optim.zero_grad(set_to_none=True)
        loss.backward()
        optim.step()
        if i >= 5:
            times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="config/config.yaml")
    parser.add_argument("--vocab", type=int, nargs="+", default=[2048, 4096])
    parser.add_argument("--steps", type=int, default=30)
    args = parser.parse_args()
    torch.set_num_threads(1)
    models = yaml.safe_load(Path(args.config).read_text())["models"]
    tokenizer = train_tokenizer(["a b c"], 300)  # only its special tokens are used
    for name, m in models.items():
        spec = MicroModelSpec(m["hidden_size"], m["num_layers"], m["num_heads"])
        costs = {v: round(step_ms(spec, tokenizer, v, args.steps), 1) for v in args.vocab}
        print(name, {f"{v} tokens": f"{ms} ms/step" for v, ms in costs.items()}, flush=True)


if __name__ == "__main__":
    main()
